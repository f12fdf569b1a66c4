"""SES bounces and complaints, delivered by the SNS stand-in (t/sns/sns_standin.py) through
nginx to POST /v1/ses/events: the subscription is confirmed, a hard bounce or a complaint
stops the outbox mailing that address (the row ends `suppressed`, maildev gets nothing), a
transient bounce does not, and a forged or unverifiable message is refused and records
nothing.  Every message is also checked here with `cryptography`, following AWS's documented
algorithm, so the stand-in's signing is held to an implementation other than lib/sns.c."""

import base64
import hashlib
import json
import os
import subprocess
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from stack import BUILDDIR, assert_envelope, http_json
from test_fulfilment import buy, outbox, pay
from test_webhook import ddb  # noqa: F401

PATH = "/v1/ses/events"
SUPPRESSIONS = "prodenthub-email-suppressions"


@pytest.fixture(scope="module")
def sns(stack):
    return "http://127.0.0.1:%s" % stack.ports["SNS_PORT"]


def endpoint(stack):
    return "https://localhost:%d%s" % (stack.https_port, PATH)


def aws_verify(msg):
    """AWS's algorithm, written from its documentation: the fields in order, "k\\nv\\n"."""
    keys = (["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            if msg["Type"] == "Notification" else
            ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"])
    text = "".join("%s\n%s\n" % (k, msg[k]) for k in keys if msg.get(k) is not None)
    with urllib.request.urlopen(msg["SigningCertURL"], timeout=10) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    h = hashes.SHA1() if msg["SignatureVersion"] == "1" else hashes.SHA256()
    cert.public_key().verify(base64.b64decode(msg["Signature"]), text.encode(),
                             padding.PKCS1v15(), h)


def envelope(sns, **req):
    return http_json("POST", sns + "/__sns/envelope", req)


def ses_message(kind, recipients, **kw):
    """The Message of an SES event, as the stand-in's /__sns/ses would publish it."""
    ev = {"eventType": "Bounce" if kind == "bounce" else "Complaint",
          "mail": {"messageId": "m", "destination": recipients}}
    rc = [{"emailAddress": a} for a in recipients]
    if kind == "bounce":
        ev["bounce"] = {"bounceType": kw.get("bounceType", "Permanent"),
                        "bounceSubType": "General", "bouncedRecipients": rc}
    else:
        ev["complaint"] = {"complainedRecipients": rc, "complaintFeedbackType": "abuse"}
    return json.dumps(ev)


def post(stack, msg, raw=None, mtype=None):
    hdrs = {"Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": mtype or (msg or {}).get("Type", "Notification")}
    return stack.post(PATH, body=raw if raw is not None else json.dumps(msg), headers=hdrs,
                      source_ip=stack.new_ip())


def suppression(ddb, addr):  # noqa: F811
    h = hashlib.sha256(b"prodenthub/suppress/v1:" + addr.strip().lower().encode()).hexdigest()
    return ddb.get_item(TableName=SUPPRESSIONS, ConsistentRead=True,
                        Key={"addressHash": {"S": h}}).get("Item")


def settle(ddb, cause, email, timeout=20):  # noqa: F811
    """The outbox row once the stack's mailer is done with it."""
    deadline = time.time() + timeout
    while True:
        row = outbox(ddb, cause, "purchase-confirmation", email)
        if row and row["status"]["S"] in ("sent", "suppressed", "failed"):
            return row
        assert time.time() < deadline, row
        time.sleep(0.2)


def test_the_stand_ins_signatures_verify_by_aws_algorithm(sns):
    for v in (1, 2):
        aws_verify(envelope(sns, message="m", subject="s", signatureVersion=v))
        aws_verify(envelope(sns, type="SubscriptionConfirmation", message="c",
                            signatureVersion=v))
    bad = envelope(sns, message="m")
    bad["Message"] = "n"
    with pytest.raises(Exception):
        aws_verify(bad)


def test_subscription_is_confirmed(stack, sns):
    got = http_json("POST", sns + "/__sns/subscribe",
                    {"endpoint": endpoint(stack), "signatureVersion": 2})
    assert got["status"] == 200, got
    aws_verify(got["message"])
    data = json.loads(got["body"])["data"]
    assert data == {"received": True, "type": "SubscriptionConfirmation", "confirmed": True}
    subs = http_json("GET", sns + "/__sns/stats")["subscriptions"]
    assert any(s["endpoint"] == endpoint(stack) and s["confirmed"] for s in subs), subs
    # Through the client that holds answers to docs/openapi.yaml, too.
    msg = envelope(sns, type="UnsubscribeConfirmation", message="bye")
    assert assert_envelope(post(stack, msg), 200)["data"]["type"] == "UnsubscribeConfirmation"


def test_hard_bounce_stops_mail_to_that_address(stack, sns, ddb):  # noqa: F811
    email = "Hard.Bounce@Example.com"
    msg = envelope(sns, message=ses_message("bounce", [email]), subject="Amazon SES Email Event",
                   signatureVersion=1)
    aws_verify(msg)
    d = assert_envelope(post(stack, msg), 200)["data"]
    assert d["event"] == "Bounce" and d["bounceType"] == "Permanent", d
    assert d["suppressed"] == 1 and d["duplicates"] == 0 and d["ignored"] is False, d
    row = suppression(ddb, email)
    assert row["reason"]["S"] == "bounce" and row["lastMessageId"]["S"] == msg["MessageId"]
    assert email.lower() not in json.dumps(row).lower(), row       # no address in clear
    # The same notification again: nothing more.
    d = assert_envelope(post(stack, msg), 200)["data"]
    assert d["suppressed"] == 0 and d["duplicates"] == 1, d
    assert suppression(ddb, email)["events"]["N"] == "1"
    # A purchase by that address: paid, granted, but its confirmation is not sent.
    p = buy(stack, email.lower())
    pay(stack, p)
    row = settle(ddb, p["purchaseId"] + "#paid", email)
    assert row["status"]["S"] == "suppressed", row
    assert "nextAttemptAt" not in row and "vars" not in row and "varsSealed" not in row
    assert stack.mails(email) == []


def ctl_suppression(stack, *args):
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "suppression"] + list(args),
                       env=dict(stack.env, **stack.ports), capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout + r.stderr


def test_operator_sees_and_lifts_a_suppression(stack, sns, ddb):  # noqa: F811
    email = "lifted.%s@example.com" % hashlib.sha256(str(time.time()).encode()).hexdigest()[:8]
    assert ctl_suppression(stack, email)[1].split("\t")[1].strip() == "not suppressed"
    msg = envelope(sns, message=ses_message("complaint", [email]), signatureVersion=2)
    assert assert_envelope(post(stack, msg), 200)["data"]["suppressed"] == 1
    rc, out = ctl_suppression(stack, email.upper())            # hashed as the list does
    assert rc == 0 and "\tsuppressed\tcomplaint\t" in out and email not in out, out
    rc, out = ctl_suppression(stack, email, "--remove")
    assert rc == 0 and "removed" in out, out
    assert suppression(ddb, email) is None
    p = buy(stack, email)                                      # mailed again
    pay(stack, p)
    assert settle(ddb, p["purchaseId"] + "#paid", email)["status"]["S"] == "sent"
    assert ctl_suppression(stack, "not-an-address")[0] == 2
    assert ctl_suppression(stack, email, "--bogus")[0] == 2


def test_transient_bounce_does_not_suppress(stack, sns, ddb):  # noqa: F811
    email = "soft-bounce@example.com"
    got = http_json("POST", sns + "/__sns/ses", {
        "kind": "bounce", "bounceType": "Transient", "recipients": [email],
        "endpoint": endpoint(stack), "signatureVersion": 2})
    assert got["deliveries"][0]["status"] == 200, got
    d = json.loads(got["deliveries"][0]["body"])["data"]
    assert d["bounceType"] == "Transient" and d["suppressed"] == 0 and d["ignored"] is True, d
    assert suppression(ddb, email) is None
    p = buy(stack, email)
    pay(stack, p)
    assert settle(ddb, p["purchaseId"] + "#paid", email)["status"]["S"] == "sent"
    stack.wait_mail(email)


def test_complaint_suppresses_by_the_confirmed_subscription(stack, sns, ddb):  # noqa: F811
    email = "complainer@example.com"
    http_json("POST", sns + "/__sns/subscribe", {"endpoint": endpoint(stack)})
    got = http_json("POST", sns + "/__sns/ses", {
        "kind": "complaint", "recipients": [email, "second@example.com"],
        "eventType": False})                       # identity notifications' notificationType
    assert got["deliveries"] and all(x["status"] == 200 for x in got["deliveries"]), got
    d = json.loads(got["deliveries"][0]["body"])["data"]
    assert d["event"] == "Complaint" and d["suppressed"] == 2, d
    assert suppression(ddb, email)["reason"]["S"] == "complaint"
    assert suppression(ddb, "second@example.com")


def forged(sns, stack):
    """(name, body or None, raw text, status, reason) for messages that must be refused."""
    addr = "forged-%d@example.com" % time.time_ns()
    ok = envelope(sns, message=ses_message("bounce", [addr]))
    cases = []

    def variant(name, status, reason, **change):
        m = dict(ok)
        for k, v in change.items():
            if v is None:
                m.pop(k, None)
            else:
                m[k] = v
        cases.append((name, m, None, status, reason))

    variant("message changed", 403, "bad_signature",
            Message=ses_message("bounce", [addr, "victim@example.com"]))
    variant("signature of another message", 403, "bad_signature",
            Signature=envelope(sns, message="x")["Signature"])
    variant("certificate on a host not allowed", 403, "host_not_allowed",
            SigningCertURL=ok["SigningCertURL"].replace("127.0.0.1", "localhost"))
    variant("certificate over http elsewhere", 403, "host_not_allowed",
            SigningCertURL="http://sns.ap-southeast-2.amazonaws.com/x.pem")
    variant("unknown type", 400, "unknown_type", Type="Surprise")
    variant("no signature", 400, "malformed", Signature=None)
    wrong_topic = envelope(sns, message=ses_message("bounce", [addr]),
                           topicArn="arn:aws:sns:ap-southeast-2:000000000000:someone-else")
    cases.append(("topic not ours", wrong_topic, None, 403, "topic_not_allowed"))
    cases.append(("not JSON", None, "Type=Notification", 400, "malformed"))
    return addr, cases


def test_forged_messages_are_refused_and_record_nothing(stack, sns, ddb):  # noqa: F811
    addr, cases = forged(sns, stack)
    for name, msg, raw, status, reason in cases:
        r = post(stack, msg, raw=raw)
        body = assert_envelope(r, status)
        assert body["details"].get("reason") == reason, (name, body)
    # A message whose header disagrees with its Type.
    ok = envelope(sns, message=ses_message("bounce", [addr]))
    assert_envelope(post(stack, ok, mtype="SubscriptionConfirmation"), 400)
    assert suppression(ddb, addr) is None
    assert suppression(ddb, "victim@example.com") is None
    # Nothing was fetched from the host not allowed (the stand-in answers to both names).
    hosts = http_json("GET", sns + "/__sns/stats")["certHosts"]
    assert hosts and not [h for h in hosts if h.startswith("localhost")], hosts
