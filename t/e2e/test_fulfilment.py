"""Fulfilment after the signature check: payment, decline, refund, dispute and subscription
events through nginx, in order and out of order, and the emails they queue, read back from
the local mail server (maildev) that the stack's mailer (prodenthubctl send-mail --loop)
delivers to."""

import concurrent.futures
import json
import time

import pytest

from stack import assert_envelope, http_json
from test_webhook import ddb, deliver, event, grants, purchase, signed  # noqa: F401

ADMIN = {"Authorization": "Bearer e2e-admin-token"}


def stripe_ctl(stack, path, body=None):
    return http_json("POST", stack.ports["STRIPE_API_BASE"] + "/__stripe/" + path, body or {})


def buy(stack, email, code="SAVE20", name=None, plan="full-6months"):
    body = {"planId": plan, "email": email}
    if code:
        body["code"] = code
    if name:
        body["name"] = name
    return assert_envelope(stack.post("/v1/purchases/create", body=body,
                                      source_ip=stack.new_ip()), 201)["data"]


def pay(stack, d, **opts):
    out = stripe_ctl(stack, "sessions/%s/complete" % d["sessionId"], opts)
    assert out["delivery"]["status"] == 200, out["delivery"]
    return out


def api_grants(stack, email):
    r = stack.get("/v1/access-grants?email=" + email, headers=ADMIN, source_ip=stack.new_ip())
    return {g["grantId"]: g for g in assert_envelope(r, 200)["data"]["grants"]}


def outbox(ddb, cause, template, to):
    r = ddb.get_item(TableName="prodenthub-email-outbox", ConsistentRead=True,
                     Key={"outboxId": {"S": "%s#%s#%s" % (cause, template, to.lower())}})
    return r.get("Item")


def payment(ddb, pi):
    return ddb.get_item(TableName="prodenthub-payments", ConsistentRead=True,
                        Key={"paymentIntentId": {"S": pi}}).get("Item")


def send(stack, type_, obj, eid=None):
    payload = event(type_, obj, eid)
    r = deliver(stack, payload, signed(payload))
    assert r.status == 200, r
    return r


def session_obj(d, pi, status="complete", paid="paid"):
    return {"id": d["sessionId"], "object": "checkout.session", "status": status,
            "payment_status": paid, "payment_intent": pi, "amount_total": d["finalAmountCents"],
            "currency": "aud", "mode": "payment",
            "metadata": {"campaignId": "discount-purchase", "purchaseId": d["purchaseId"]}}


def pi_obj(d, pi, status, error=None):
    return {"id": pi, "object": "payment_intent", "status": status, "currency": "aud",
            "amount": d["finalAmountCents"],
            "amount_received": d["finalAmountCents"] if status == "succeeded" else 0,
            "last_payment_error": error,
            "metadata": {"campaignId": "discount-purchase", "purchaseId": d["purchaseId"]}}


def charge_obj(d, pi, refunded):
    return {"id": "ch_" + pi[3:], "object": "charge", "payment_intent": pi,
            "amount": d["finalAmountCents"], "amount_refunded": refunded,
            "refunded": refunded == d["finalAmountCents"], "currency": "aud"}


def test_full_loop_validate_buy_pay_grant_and_confirmation_email(stack, ddb):
    email = "mail-loop@example.com"
    r = stack.post("/v1/coupons/validate", body={"code": "SAVE20", "planId": "full-6months"},
                   source_ip=stack.new_ip())
    v = assert_envelope(r, 200)["data"]
    assert v["valid"] is True and v["finalAmountCents"] == 15920
    d = buy(stack, email, name="Ana <b>&</b> O'Neil")
    assert stack.mails(email) == []
    pay(stack, d)
    g = api_grants(stack, email)[d["purchaseId"]]
    assert g["status"] == "active" and g["productId"] == "full-6months"
    m = stack.wait_mail(email)[0]
    assert m["subject"] == "Your ProDentHub purchase is confirmed: Full - 6 Months"
    assert m["from"][0]["address"] == "noreply@prodenthub.com.au"
    assert m["to"][0]["name"] == "Ana <b>&</b> O'Neil"
    for part in (m["text"], m["html"]):
        for want in ("A$199.00", "A$39.80", "A$159.20", "SAVE20", d["purchaseId"]):
            assert want in part, (want, part)
    # Variables are escaped in HTML: the name is text there, never markup.
    assert "Ana &lt;b&gt;&amp;&lt;/b&gt; O&#39;Neil" in m["html"]
    assert "<b>&</b>" not in m["html"]
    assert "Ana <b>&</b> O'Neil" in m["text"]
    row = outbox(ddb, d["purchaseId"] + "#paid", "purchase-confirmation", email)
    assert row["status"]["S"] == "sent" and "nextAttemptAt" not in row
    assert row["attempts"]["N"] == "1"


def test_purchase_without_a_name_greets_the_buyer_without_one(stack, ddb):
    # The name is optional on a discount purchase; the email must not say "Hi ,".
    email = "no-name@example.com"
    d = buy(stack, email, code=None)
    pay(stack, d)
    m = stack.wait_mail(email)[0]
    assert m["subject"] == "Your ProDentHub purchase is confirmed: Full - 6 Months"
    for part in (m["text"], m["html"]):
        assert "Hi there," in part, part
        assert "Hi ," not in part and " ," not in part and "{{" not in part
        assert "Coupon" not in part and d["purchaseId"] in part


def test_ten_concurrent_deliveries_one_state_change_one_email(stack, ddb):
    email = "ten-at-once@example.com"
    d = buy(stack, email)
    payload = event("checkout.session.completed", session_obj(d, "pi_ten_" + d["purchaseId"]))
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        rs = list(pool.map(lambda _: deliver(stack, payload, signed(payload)), range(10)))
    assert {r.status for r in rs} <= {200, 503}, [r.status for r in rs]
    while any(r.status == 503 for r in rs):       # as Stripe would: retry the 503s
        time.sleep(0.2)
        rs = [deliver(stack, payload, signed(payload)) for r in rs if r.status == 503]
    assert purchase(ddb, d["purchaseId"])["status"]["S"] == "paid"
    stack.wait_mail(email)
    time.sleep(1.5)                               # a few poll rounds of the mailer
    assert len(stack.mails(email)) == 1


def test_mail_server_down_the_email_arrives_when_it_is_back(stack, ddb):
    email = "mail-outage@example.com"
    d = buy(stack, email)
    stack.stop("mail")
    try:
        pay(stack, d)
        assert purchase(ddb, d["purchaseId"])["status"]["S"] == "paid"
        cause = d["purchaseId"] + "#paid"
        deadline = time.time() + 15
        while time.time() < deadline:
            row = outbox(ddb, cause, "purchase-confirmation", email)
            if row and int(row["attempts"]["N"]) >= 2:
                break
            time.sleep(0.2)
        assert row["status"]["S"] in ("pending", "sending"), row
        assert int(row["attempts"]["N"]) >= 2 and row["lastError"]["S"], row
    finally:
        stack.start("mail")
    m = stack.wait_mail(email, timeout=30)
    assert len(m) == 1 and d["purchaseId"] in m[0]["text"]
    # The mailer marks the row sent just after the server took the message.
    deadline = time.time() + 10
    while True:
        row = outbox(ddb, d["purchaseId"] + "#paid", "purchase-confirmation", email)
        if row["status"]["S"] == "sent" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert row["status"]["S"] == "sent"


def test_full_refund_revokes_access_partial_refund_keeps_it(stack, ddb):
    email = "refunds@example.com"
    d = buy(stack, email)
    out = pay(stack, d)
    pi = out["event"]["data"]["object"]["payment_intent"]
    assert api_grants(stack, email)[d["purchaseId"]]["status"] == "active"
    out = stripe_ctl(stack, "charges/%s/refund" % pi, {"amount": 1000})
    assert out["delivery"]["status"] == 200, out
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == "paid" and p["amountRefundedCents"]["N"] == "1000"
    assert api_grants(stack, email)[d["purchaseId"]]["status"] == "active"
    out = stripe_ctl(stack, "charges/%s/refund" % pi, {})
    assert out["delivery"]["status"] == 200, out
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == "refunded"
    assert p["amountRefundedCents"]["N"] == str(d["finalAmountCents"])
    g = api_grants(stack, email)[d["purchaseId"]]
    assert g["status"] == "revoked"
    row = payment(ddb, pi)
    assert row["refundedFull"]["BOOL"] is True and row["recordId"]["S"] == d["purchaseId"]
    # The older, partial refund event delivered again late changes nothing.
    first = [e for e in http_json("GET", stack.ports["STRIPE_API_BASE"] +
                                  "/__stripe/events?type=charge.refunded")["data"]
             if e["data"]["object"]["payment_intent"] == pi]
    older = min(first, key=lambda e: e["data"]["object"]["amount_refunded"])
    stripe_ctl(stack, "events/%s/deliver" % older["id"])
    assert purchase(ddb, d["purchaseId"])["status"]["S"] == "refunded"
    assert api_grants(stack, email)[d["purchaseId"]]["status"] == "revoked"


def test_dispute_flags_the_purchase_and_alerts_operations(stack, ddb):
    email = "dispute@example.com"
    d = buy(stack, email)
    pi = pay(stack, d)["event"]["data"]["object"]["payment_intent"]
    out = stripe_ctl(stack, "charges/%s/dispute" % pi, {"reason": "fraudulent"})
    assert out["delivery"]["status"] == 200, out
    p = purchase(ddb, d["purchaseId"])
    assert p["disputed"]["BOOL"] is True and p["reviewNeeded"]["S"] == "yes"
    assert p["disputeId"]["S"] == out["dispute"]["id"]
    # Access is not taken away by a dispute (it may be won); operations are told.
    assert api_grants(stack, email)[d["purchaseId"]]["status"] == "active"
    alerts = [m for m in stack.wait_mail("ops@prodenthub.test")
              if out["dispute"]["id"] in m["text"]]
    assert len(alerts) == 1 and "fraudulent" in alerts[0]["text"]


def test_issue12_item7_a_lost_dispute_revokes_access_and_a_won_one_clears_the_flag(stack, ddb):
    lost, won = "dispute-lost@example.com", "dispute-won@example.com"
    dl, dw = buy(stack, lost), buy(stack, won)
    pil = pay(stack, dl)["event"]["data"]["object"]["payment_intent"]
    piw = pay(stack, dw)["event"]["data"]["object"]["payment_intent"]
    dpl = stripe_ctl(stack, "charges/%s/dispute" % pil, {"withdraw": True})
    dpw = stripe_ctl(stack, "charges/%s/dispute" % piw, {"withdraw": True})
    for out in (dpl, dpw):
        assert [d["status"] for d in out["deliveries"]] == [200, 200], out["deliveries"]
    assert int(payment(ddb, pil)["disputeFundsCents"]["N"]) == -dpl["dispute"]["amount"]
    # Lost: access goes, as after a full refund; the row says why.
    out = stripe_ctl(stack, "disputes/%s/close" % dpl["dispute"]["id"], {"status": "lost"})
    assert out["delivery"]["status"] == 200, out
    assert api_grants(stack, lost)[dl["purchaseId"]]["status"] == "revoked"
    assert purchase(ddb, dl["purchaseId"])["status"]["S"] == "refunded"
    row = payment(ddb, pil)
    assert row["disputeStatus"]["S"] == "lost" and row["refundedFull"]["BOOL"] is True
    stripe_ctl(stack, "events/%s/deliver" % out["event"]["id"])      # safe twice
    assert payment(ddb, pil)["disputeStatus"]["S"] == "lost"
    # Won: access stays, the flag is cleared, the funds are back.
    out = stripe_ctl(stack, "disputes/%s/close" % dpw["dispute"]["id"], {"status": "won"})
    assert [d["status"] for d in out["deliveries"]] == [200, 200], out["deliveries"]
    p = purchase(ddb, dw["purchaseId"])
    assert p["status"]["S"] == "paid" and p["disputed"]["BOOL"] is False
    assert p["reviewNeeded"]["S"] == "no" and p["disputeStatus"]["S"] == "won"
    assert api_grants(stack, won)[dw["purchaseId"]]["status"] == "active"
    assert int(payment(ddb, piw)["disputeFundsCents"]["N"]) == 0


def test_issue12_item7_a_lost_dispute_heard_before_the_payment_grants_nothing(stack, ddb):
    email = "dispute-early@example.com"
    d = buy(stack, email)
    out = stripe_ctl(stack, "sessions/%s/complete" % d["sessionId"], {"deliver": False})
    pi = out["payment_intent"]["id"]
    dp = stripe_ctl(stack, "charges/%s/dispute" % pi, {"deliver": False})["dispute"]
    closed = stripe_ctl(stack, "disputes/%s/close" % dp["id"], {"status": "lost"})
    assert closed["delivery"]["status"] == 200, closed
    for ev in out["events"]:                                 # the payment, late
        stripe_ctl(stack, "events/%s/deliver" % ev["id"])
    assert purchase(ddb, d["purchaseId"])["status"]["S"] == "refunded"
    assert d["purchaseId"] not in api_grants(stack, email) or \
        api_grants(stack, email)[d["purchaseId"]]["status"] != "active"


def test_declined_then_paid_sends_one_retry_email_and_ends_paid(stack, ddb):
    email = "declined@example.com"
    d = buy(stack, email)
    out = stripe_ctl(stack, "sessions/%s/fail" % d["sessionId"])
    assert out["delivery"]["status"] == 200, out
    pi = out["event"]["data"]["object"]["id"]
    stripe_ctl(stack, "events/%s/deliver" % out["event"]["id"])    # Stripe retried it
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == "pending" and p["lastPaymentError"]["S"]
    m = stack.wait_mail(email)
    assert len(m) == 1 and "Full - 6 Months" in m[0]["text"]
    assert d["checkoutUrl"] in m[0]["text"]
    assert "Hi there," in m[0]["text"] and "Hi ," not in m[0]["text"]     # bought without a name
    pay(stack, d)
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == "paid" and p["stripePaymentIntentId"]["S"] == pi
    assert p["reviewNeeded"]["S"] == "no"
    assert len(stack.wait_mail(email, count=2)) == 2


# Each sequence of events, delivered in this order, ends in the state on the right.
ORDERS = [
    (["completed", "refunded"], "refunded", "revoked"),
    (["refunded", "completed"], "refunded", None),
    (["expired", "completed"], "paid", "active"),
    (["failed", "succeeded"], "paid", "active"),
    (["succeeded", "completed", "expired"], "paid", "active"),
    (["completed", "partial", "refunded", "partial"], "refunded", "revoked"),
]


@pytest.mark.parametrize("seq,final,grant", ORDERS, ids=["-".join(o[0]) for o in ORDERS])
def test_out_of_order_sequences(stack, ddb, seq, final, grant):
    email = "seq-%s@example.com" % "-".join(seq)
    d = buy(stack, email)
    pi = "pi_ord_" + d["purchaseId"][4:]
    total = d["finalAmountCents"]
    events = {
        "completed": ("checkout.session.completed", session_obj(d, pi)),
        "succeeded": ("payment_intent.succeeded", pi_obj(d, pi, "succeeded")),
        "expired": ("checkout.session.expired", session_obj(d, None, "expired", "unpaid")),
        "failed": ("payment_intent.payment_failed",
                   pi_obj(d, pi, "requires_payment_method",
                          {"message": "Your card was declined."})),
        "refunded": ("charge.refunded", charge_obj(d, pi, total)),
        "partial": ("charge.refunded", charge_obj(d, pi, 500)),
    }
    for name in seq:
        send(stack, *events[name])
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == final, p
    g = api_grants(stack, email).get(d["purchaseId"])
    assert (g["status"] if g else None) == grant
    if "refunded" in seq:
        assert p["amountRefundedCents"]["N"] == str(total)


def sub_obj(sub, user, status, period_end=2000000000):
    return {"id": sub, "object": "subscription", "customer": "cus_" + user, "status": status,
            "current_period_end": period_end, "cancel_at_period_end": False,
            "items": {"object": "list", "data": [{"price": {"id": "price_pro_monthly"}}]},
            "metadata": {"userId": user}}


def sub_event(type_, obj, created):
    payload = json.dumps({"id": "evt_sub_%d" % time.monotonic_ns(), "object": "event",
                          "type": type_, "created": created, "data": {"object": obj}})
    return payload


def subscription(ddb, user):
    return ddb.get_item(TableName="prodenthub-app", ConsistentRead=True,
                        Key={"pk": {"S": "USER#" + user}, "sk": {"S": "SUBSCRIPTION"}})["Item"]


def test_subscription_status_follows_the_newest_event(stack, ddb):
    user, sub, t = "u_subs_1", "sub_e2e_1", int(time.time())
    for type_, status, created in [
            ("customer.subscription.created", "incomplete", t),
            ("customer.subscription.updated", "active", t + 5),
            ("customer.subscription.deleted", "canceled", t + 60),
            ("customer.subscription.updated", "past_due", t + 30)]:   # late and older
        payload = sub_event(type_, sub_obj(sub, user, status), created)
        assert deliver(stack, payload, signed(payload)).status == 200
    row = subscription(ddb, user)
    assert row["status"]["S"] == "canceled"
    assert row["stripeSubscriptionId"]["S"] == sub
    assert row["priceId"]["S"] == "price_pro_monthly"
    assert row["eventCreated"]["N"] == str(t + 60)


def test_subscription_checkout_links_the_user(stack, ddb):
    user = "u_subs_2"
    obj = {"id": "cs_sub_2", "object": "checkout.session", "mode": "subscription",
           "status": "complete", "payment_status": "paid", "client_reference_id": user,
           "customer": "cus_2", "subscription": "sub_e2e_2", "metadata": {}}
    send(stack, "checkout.session.completed", obj)
    row = subscription(ddb, user)
    assert row["status"]["S"] == "active" and row["stripeCustomerId"]["S"] == "cus_2"
    payload = sub_event("customer.subscription.updated",
                        sub_obj("sub_e2e_2", user, "past_due"), int(time.time()))
    assert deliver(stack, payload, signed(payload)).status == 200
    assert subscription(ddb, user)["status"]["S"] == "past_due"
