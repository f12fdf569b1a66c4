"""Payments a record does not need (issue 12, items 3 and 5; docs/PAYMENTS.md): a second
payment of a paid scholarship and a payment of another amount are never fulfilled: the
payment's row says extra, the record is flagged, operations are told, and Stripe refunds it
in full.  The sessions are made straight at the Stripe stand-in, as a session not made by
this service (or a price edited by hand) would be."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from stack import http_json
from test_fulfilment import api_grants, payment, stripe_ctl
from test_scholarships import apply, body_of
from test_webhook import ddb  # noqa: F401


def session_at_stripe(stack, sid, amount, email):
    form = {"mode": "payment", "success_url": "https://x.example/ok",
            "cancel_url": "https://x.example/no",
            "line_items[0][price_data][currency]": "aud",
            "line_items[0][price_data][unit_amount]": str(amount),
            "line_items[0][price_data][product_data][name]": "Scholarship Access",
            "line_items[0][quantity]": "1", "customer_email": email,
            "metadata[campaignId]": "scholarship-application", "metadata[scholarshipId]": sid,
            "payment_intent_data[metadata][campaignId]": "scholarship-application",
            "payment_intent_data[metadata][scholarshipId]": sid}
    req = urllib.request.Request(
        stack.ports["STRIPE_API_BASE"] + "/v1/checkout/sessions",
        data=urllib.parse.urlencode(form).encode(), method="POST",
        headers={"Authorization": "Bearer " + stack.ports["STRIPE_SECRET_KEY"]})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise AssertionError("stand-in refused the session: %s" % e.read()) from None


def scholarship(ddb, sid):  # noqa: F811
    return ddb.get_item(TableName="prodenthub-scholarships", ConsistentRead=True,
                        Key={"scholarshipId": {"S": sid}})["Item"]


def refunds_of(stack, pi):
    data = http_json("GET", stack.ports["STRIPE_API_BASE"] +
                     "/__stripe/events?type=charge.refunded")["data"]
    return [e for e in data if e["data"]["object"]["payment_intent"] == pi]


def new_scholarship(stack, email):
    body = dict(body_of("EG", 2, 58, "yes", 12), firstName="Omar", lastName="Haddad",
                email=email)
    return apply(stack, body, 201)["data"]


def assert_refunded_extra(stack, ddb, pi, why):  # noqa: F811
    row = payment(ddb, pi)
    assert row["extraPayment"]["BOOL"] is True and row["extraReason"]["S"] == why, row
    assert refunds_of(stack, pi), "no refund at Stripe for %s" % pi
    row = payment(ddb, pi)
    assert row["refundedFull"]["BOOL"] is True          # the refund's own event, recorded
    # The operator's alert about this payment (others, of earlier tests, may be there first).
    deadline = time.time() + 30
    while True:
        alerts = [m for m in stack.mails("ops@prodenthub.test") if pi in m["text"]]
        if alerts or time.time() > deadline:
            break
        time.sleep(0.2)
    assert alerts and why in alerts[0]["text"], "no alert about %s to ops" % pi


def test_issue12_item5_a_second_payment_is_refunded_and_recorded(stack, ddb):  # noqa: F811
    email = "twice@example.com"
    d = new_scholarship(stack, email)
    sid = d["scholarshipId"]
    other = session_at_stripe(stack, sid, 6450, email)
    first = stripe_ctl(stack, "sessions/%s/complete" % d["sessionId"])
    assert first["delivery"]["status"] == 200
    second = stripe_ctl(stack, "sessions/%s/complete" % other["id"])
    assert second["delivery"]["status"] == 200, second["delivery"]
    pi1 = first["event"]["data"]["object"]["payment_intent"]
    pi2 = second["event"]["data"]["object"]["payment_intent"]
    rec = scholarship(ddb, sid)
    assert rec["status"]["S"] == "paid" and rec["stripePaymentIntentId"]["S"] == pi1
    assert [x["S"] for x in rec["extraPayments"]["L"]] == [pi2]
    assert_refunded_extra(stack, ddb, pi2, "paid twice")
    # The record keeps the access its own payment bought; a repeat changes nothing.
    assert api_grants(stack, email)[sid]["status"] == "active"
    stripe_ctl(stack, "events/%s/deliver" % second["event"]["id"])
    assert len(refunds_of(stack, pi2)) == 1
    assert len(scholarship(ddb, sid)["extraPayments"]["L"]) == 1


def test_issue12_item3_a_payment_of_another_amount_is_not_fulfilled(stack, ddb):  # noqa: F811
    email = "wrongamount@example.com"
    d = new_scholarship(stack, email)
    sid = d["scholarshipId"]
    cheap = session_at_stripe(stack, sid, 100, email)
    out = stripe_ctl(stack, "sessions/%s/complete" % cheap["id"])
    assert out["delivery"]["status"] == 200, out["delivery"]
    pi = out["event"]["data"]["object"]["payment_intent"]
    rec = scholarship(ddb, sid)
    assert rec["status"]["S"] == "submitted" and rec["reviewNeeded"]["S"] == "yes"
    assert sid not in api_grants(stack, email)
    assert_refunded_extra(stack, ddb, pi, "amount mismatch")
    # The record's own session still pays it.
    ok = stripe_ctl(stack, "sessions/%s/complete" % d["sessionId"])
    assert ok["delivery"]["status"] == 200
    assert scholarship(ddb, sid)["status"]["S"] == "paid"
    assert api_grants(stack, email)[sid]["status"] == "active"
