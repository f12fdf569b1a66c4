"""Tokens at rest (issue 12, item 14): the outbox keeps an email's variables, pay links with
their tokens included, sealed with OUTBOX_KEY (AES-256-GCM, the row id as associated data),
and drops them once the email is sent.  The sealing is checked with an independent
implementation (python3-cryptography)."""

import base64
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stack import assert_envelope
from test_fulfilment import stripe_ctl
from test_webhook import ddb  # noqa: F401

OUTBOX = "prodenthub-email-outbox"


def outbox_rows(ddb, cause_prefix):  # noqa: F811
    rows = ddb.scan(TableName=OUTBOX, ConsistentRead=True)["Items"]
    return [r for r in rows if r.get("cause", {}).get("S", "").startswith(cause_prefix)]


def unseal(key_hex, row):
    raw = base64.b64decode(row["varsSealed"]["S"][len("s1."):])
    plain = AESGCM(bytes.fromhex(key_hex)).decrypt(raw[:12], raw[12:],
                                                   row["outboxId"]["S"].encode())
    return json.loads(plain)


def test_outbox_rows_keep_pay_links_sealed_and_drop_them_once_sent(stack, ddb):  # noqa: F811
    body = {"leader": {"firstName": "Sal", "lastName": "Ng", "email": "seal-0@example.com",
                       "country": "Australia"},
            "members": [{"name": "Member " + "ABC"[i], "email": "seal-%d@example.com" % i}
                        for i in range(3)]}
    stack.stop("mailer")
    try:
        r = stack.post("/v1/teams/create", body=body, source_ip=stack.new_ip())
        t = assert_envelope(r, 201)["data"]
        # The leader pays first, which queues the confirmation and the invitations.
        lead = t["members"][0]["payUrl"]
        r = stack.get(lead[lead.index("/v1/"):], source_ip=stack.new_ip())
        assert r.status == 303, r
        out = stripe_ctl(stack, "sessions/%s/complete" % r.json["data"]["sessionId"])
        assert out["delivery"]["status"] == 200, out["delivery"]
        tokens = [m["payUrl"].split("token=")[1] for m in t["members"][1:]]
        tokens.append(t["teamUrl"].split("token=")[1])
        rows = outbox_rows(ddb, t["teamId"])
        assert rows, "no outbox rows for the team"
        key = stack.ports["OUTBOX_KEY"]
        seen = set()
        for row in rows:
            text = json.dumps(row)
            for tok in tokens:
                assert tok not in text, "a token is stored in clear in %s" % row["outboxId"]
            assert "vars" not in row and "varsSealed" in row
            seen.update(v for v in unseal(key, row).values() if isinstance(v, str))
            # Sealed to its row: another row's id does not open it.
            other = dict(row, outboxId={"S": row["outboxId"]["S"] + "x"})
            try:
                unseal(key, other)
                raise AssertionError("a sealed value opened under another row's id")
            except Exception as e:  # noqa: BLE001 - InvalidTag
                assert type(e).__name__ == "InvalidTag", e
        for m in t["members"][1:]:
            assert m["payUrl"] in seen
    finally:
        stack.start("mailer")
    for i in (1, 2):
        inv = stack.wait_mail("seal-%d@example.com" % i)[0]
        assert t["members"][i]["payUrl"] in inv["text"]
    # Sent: the variables are gone from the row.
    for row in outbox_rows(ddb, t["teamId"]):
        if row["status"]["S"] == "sent":
            assert "varsSealed" not in row and "vars" not in row and "attachments" not in row
    assert any(r["status"]["S"] == "sent" for r in outbox_rows(ddb, t["teamId"]))
