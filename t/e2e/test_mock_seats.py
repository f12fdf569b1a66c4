"""Mock exam seats and their ids (issue 12, items 10 and 6; docs/MOCK_EXAMS.md): a
registration id is random, never derived from the email, and a second registration of the same
address is told it is taken without the first one's id (the confirmation goes to the address
instead, at most once an hour); old-style ids keep working.  Only the session a registration
names releases its seat; a payment that arrives for a released seat takes a free seat or is
refunded, and a payment of another amount or currency is refunded, never fulfilled.  Extra
sessions are made straight at the Stripe stand-in, as an older tab of the checkout would be."""

import hashlib
import json
import urllib.parse
import urllib.request

from stack import assert_envelope
from test_extra_payments import assert_refunded_extra, refunds_of
from test_fulfilment import api_grants, payment, stripe_ctl
from test_mock_exams import ADMIN, exam, register, seats
from test_webhook import ddb  # noqa: F401

REGS = "prodenthub-mock-registrations"


def registration(ddb, rid):  # noqa: F811
    return ddb.get_item(TableName=REGS, ConsistentRead=True,
                        Key={"registrationId": {"S": rid}}).get("Item")


def legacy_id(eid, email):
    """The id registrations had before: reg_ + 24 hex of SHA-256(exam \\n email)."""
    return "reg_" + hashlib.sha256(("%s\n%s" % (eid, email)).encode()).hexdigest()[:24]


def resent(ddb, rid):  # noqa: F811
    """The outbox rows of the confirmation sent again for a repeat registration."""
    r = ddb.scan(TableName="prodenthub-email-outbox", ConsistentRead=True,
                 FilterExpression="begins_with(outboxId, :p)",
                 ExpressionAttributeValues={":p": {"S": rid + "#resent"}})
    return r["Items"]


def seat_session(stack, rid, eid, email, amount=2900, currency="aud"):
    """Another open Checkout Session of the registration, as an older tab would hold."""
    meta = {"campaignId": "mock-exam", "registrationId": rid, "mockExamId": eid}
    form = dict({"mode": "payment", "success_url": "https://x.example/ok",
                 "cancel_url": "https://x.example/no", "customer_email": email,
                 "line_items[0][price_data][currency]": currency,
                 "line_items[0][price_data][unit_amount]": str(amount),
                 "line_items[0][price_data][product_data][name]": "Mock Exam Premium Access",
                 "line_items[0][quantity]": "1"},
                **{"metadata[%s]" % k: v for k, v in meta.items()},
                **{"payment_intent_data[metadata][%s]" % k: v for k, v in meta.items()})
    with urllib.request.urlopen(urllib.request.Request(
            stack.ports["STRIPE_API_BASE"] + "/v1/checkout/sessions", method="POST",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Authorization": "Bearer " + stack.ports["STRIPE_SECRET_KEY"]}),
            timeout=10) as r:
        return json.loads(r.read())["id"]


def paid(stack, sid, event=None):
    out = stripe_ctl(stack, "sessions/%s/complete" % sid)
    assert out["delivery"]["status"] == 200, out["delivery"]
    if event is not None:
        event.append(out["event"]["id"])
    return out["event"]["data"]["object"]["payment_intent"]


def expired(stack, sid):
    out = stripe_ctl(stack, "sessions/%s/expire" % sid)
    assert out["delivery"]["status"] == 200, out["delivery"]


def old_style(ddb, eid, email, **attrs):  # noqa: F811
    """A registration as they were made before (the derived id), holding one seat."""
    rid = legacy_id(eid, email)
    item = {"registrationId": rid, "mockExamId": eid, "campaignId": "mock-exam",
            "email": email, "firstName": "Lee", "examTitle": "Legacy Mock"}
    item.update(attrs)
    ddb.put_item(TableName=REGS, Item={k: {"N" if k == "priceCents" else "S": str(v)}
                                       for k, v in item.items()})
    ddb.update_item(TableName="prodenthub-mock-exams", Key={"mockExamId": {"S": eid}},
                    UpdateExpression="SET seatsTaken = :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    return rid


def scored(stack, ddb, eid, email, rid, score):  # noqa: F811
    """A result imported by email lands on registration rid."""
    row = {"email": email, "totalScore": score, "maxScore": 100, "passed": score >= 60}
    out = assert_envelope(stack.post("/v1/mock-exams/%s/results" % eid,
                                     body={"results": [row]}, headers=ADMIN), 200)["data"]
    assert out == {"imported": 1, "refused": []}
    assert registration(ddb, rid)["result"]["M"]["totalScore"]["N"] == str(score)


def premium(stack, ddb, eid, email):  # noqa: F811
    d = assert_envelope(register(stack, eid, email), 201)["data"]
    assert d["status"] == "pending" and d["sessionId"]
    return d


# --- item 10: ids that grant something are random; a repeat names none --------------------

def test_issue12_item10_ids_are_random_and_a_repeat_reveals_none(stack, ddb):  # noqa: F811
    eid = exam(ddb, "seat-ids", 72, title="Seat Id Mock")
    email = "victim.ten@example.com"
    d = assert_envelope(register(stack, eid, email), 201)["data"]
    rid = d["registrationId"]
    assert rid != legacy_id(eid, email)
    other = exam(ddb, "seat-ids-2", 72)
    d2 = assert_envelope(register(stack, other, email), 201)["data"]
    assert d2["registrationId"] not in (rid, legacy_id(other, email))
    # The repeat: taken, without any id, and the confirmation goes to the address again.
    r = register(stack, eid, email.upper(), name="Mallory")
    e = assert_envelope(r, 409, "CONFLICT")
    assert e["details"]["reason"] == "ALREADY_REGISTERED"
    assert "registrationId" not in e["details"] and "reg_" not in r.body, r.body
    assert seats(ddb, eid) == 1
    mails = [m for m in stack.wait_mail(email, count=3) if "Seat Id Mock" in m["subject"]]
    assert len(mails) == 2 and rid in mails[1]["text"], [m["subject"] for m in mails]
    assert "Sam" in mails[1]["text"] and "Mallory" not in mails[1]["text"]
    assert mails[1]["text"].count(rid) == mails[0]["text"].count(rid)
    # At most one again per hour, however often it is asked.
    for _ in range(3):
        assert_envelope(register(stack, eid, email), 409)
    assert len(resent(ddb, rid)) == 1
    # The id still opens what it opened: results by email reach the registration.
    scored(stack, ddb, eid, email, rid, 70)


def test_issue12_item10_old_style_registrations_keep_working(stack, ddb):  # noqa: F811
    eid = exam(ddb, "seat-legacy", 72, capacity=3, title="Legacy Mock")
    email = "legacy.ten@example.com"
    when = ddb.get_item(TableName="prodenthub-mock-exams", ConsistentRead=True,
                        Key={"mockExamId": {"S": eid}})["Item"]["examDate"]["S"]
    old = old_style(ddb, eid, email, tier="free", status="confirmed", examDate=when)
    # Still one per address: the old registration holds it, and is the one mailed again.
    r = register(stack, eid, email)
    assert assert_envelope(r, 409)["details"]["reason"] == "ALREADY_REGISTERED"
    assert old not in r.body and seats(ddb, eid) == 1
    m = stack.wait_mail(email)[0]
    assert old in m["text"] and "Legacy Mock" in m["subject"]
    scored(stack, ddb, eid, email, old, 55)


def test_issue12_item10_an_old_style_premium_seat_pays_and_releases(stack, ddb):  # noqa: F811
    eid = exam(ddb, "seat-legacy-prem", 72, capacity=2, type_="premium")
    email = "legacy.prem@example.com"
    old = old_style(ddb, eid, email, tier="premium", status="pending", priceCents=2900,
                    planName="Mock Exam Premium Access")
    r = stack.get("/v1/mock-exams/registrations/%s/pay" % old, source_ip=stack.new_ip())
    assert r.status == 303, r
    assert_envelope(register(stack, eid, email), 409)
    expired(stack, r.json["data"]["sessionId"])
    assert registration(ddb, old)["status"]["S"] == "released" and seats(ddb, eid) == 0
    d = premium(stack, ddb, eid, email)
    assert d["registrationId"] not in (old, legacy_id(eid, email))
    assert seats(ddb, eid) == 1


# --- item 6: only the session holding the seat releases it; no payment silently kept -------

def released_with_a_tab_open(stack, ddb, eid, email):  # noqa: F811
    """A premium seat released by the end of its own session while another tab's session of
    it is still open: (registration id, that session)."""
    d = premium(stack, ddb, eid, email)
    rid = d["registrationId"]
    tab = seat_session(stack, rid, eid, email)
    expired(stack, d["sessionId"])                    # the seat's own session: released
    assert registration(ddb, rid)["status"]["S"] == "released" and seats(ddb, eid) == 0
    return rid, tab


def test_issue12_item6_an_older_session_never_releases_the_seat(stack, ddb):  # noqa: F811
    eid = exam(ddb, "seat-old-session", 72, capacity=3, type_="premium")
    email = "older.six@example.com"
    d = premium(stack, ddb, eid, email)
    rid = d["registrationId"]
    old = seat_session(stack, rid, eid, email)        # a session the registration no longer names
    expired(stack, old)
    assert registration(ddb, rid)["status"]["S"] == "pending" and seats(ddb, eid) == 1
    pi = paid(stack, d["sessionId"])
    reg = registration(ddb, rid)
    assert reg["status"]["S"] == "confirmed" and reg["stripePaymentIntentId"]["S"] == pi


def test_issue12_item6_a_payment_for_a_released_seat_takes_a_free_one(stack, ddb):  # noqa: F811
    eid = exam(ddb, "seat-late-pay", 72, capacity=2, type_="premium")
    email = "late.six@example.com"
    rid, tab = released_with_a_tab_open(stack, ddb, eid, email)
    pi = paid(stack, tab)
    reg = registration(ddb, rid)
    assert reg["status"]["S"] == "confirmed" and reg["stripePaymentIntentId"]["S"] == pi
    assert seats(ddb, eid) == 1 and not refunds_of(stack, pi)
    assert api_grants(stack, email)[rid]["status"] == "active"
    assert payment(ddb, pi)["recordId"]["S"] == rid
    assert "A$29.00" in stack.wait_mail(email)[0]["text"]
    assert_envelope(register(stack, eid, email), 409)  # one per address still


def test_issue12_item6_a_payment_for_a_released_seat_of_a_full_exam_is_refunded(stack, ddb):  # noqa
    eid = exam(ddb, "seat-late-full", 72, capacity=1, type_="premium")
    email = "full.six@example.com"
    rid, tab = released_with_a_tab_open(stack, ddb, eid, email)
    premium(stack, ddb, eid, "took.the.seat@example.com")
    assert seats(ddb, eid) == 1
    ev = []
    pi = paid(stack, tab, ev)
    reg = registration(ddb, rid)
    assert reg["status"]["S"] == "released" and reg["reviewNeeded"]["S"] == "yes"
    assert [x["S"] for x in reg["extraPayments"]["L"]] == [pi]
    assert seats(ddb, eid) == 1 and rid not in api_grants(stack, email)
    assert_refunded_extra(stack, ddb, pi, "seat released")
    # The event again (Stripe retries): one refund, one note.
    assert stripe_ctl(stack, "events/%s/deliver" % ev[0])["delivery"]["status"] == 200
    assert len(refunds_of(stack, pi)) == 1
    assert len(registration(ddb, rid)["extraPayments"]["L"]) == 1


def test_issue12_item6_a_payment_for_a_seat_taken_again_is_refunded(stack, ddb):  # noqa: F811
    eid = exam(ddb, "seat-late-again", 72, capacity=5, type_="premium")
    email = "again.six@example.com"
    rid, tab = released_with_a_tab_open(stack, ddb, eid, email)
    d2 = premium(stack, ddb, eid, email)               # the same person, a new seat
    assert d2["registrationId"] != rid and seats(ddb, eid) == 1
    pi = paid(stack, tab)
    assert registration(ddb, rid)["status"]["S"] == "released"
    assert registration(ddb, d2["registrationId"])["status"]["S"] == "pending"
    assert seats(ddb, eid) == 1
    assert_refunded_extra(stack, ddb, pi, "seat released")


def test_issue12_item6_a_payment_of_another_amount_is_refunded(stack, ddb):  # noqa: F811
    eid = exam(ddb, "seat-amount", 72, capacity=5, type_="premium")
    for email, amount, currency in (("cheap.six@example.com", 100, "aud"),
                                    ("usd.six@example.com", 2900, "usd")):
        d = premium(stack, ddb, eid, email)
        rid = d["registrationId"]
        pi = paid(stack, seat_session(stack, rid, eid, email, amount, currency))
        reg = registration(ddb, rid)
        assert reg["status"]["S"] == "pending" and reg["reviewNeeded"]["S"] == "yes", reg
        assert rid not in api_grants(stack, email)
        assert_refunded_extra(stack, ddb, pi, "amount mismatch")
        # The seat's own session still pays it.
        pi2 = paid(stack, d["sessionId"])
        assert registration(ddb, rid)["stripePaymentIntentId"]["S"] == pi2
        assert registration(ddb, rid)["status"]["S"] == "confirmed"
    assert seats(ddb, eid) == 2
