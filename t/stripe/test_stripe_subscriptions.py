"""Tests of the Stripe stand-in's subscriptions (standin_billing.py): customers and the
catalogue, subscription-mode Checkout Sessions, their signed events, a subscription's life
(renewals, failures, cancellation) and one open session per user.  Run as conftest.py says."""

import concurrent.futures
import json
import time

import pytest
import stripe

from stripe_harness import E, RETURN_URL, line_items, new_subscription_session, verify


def test_customers_and_the_catalogue(standin, receiver):
    a = stripe.Customer.create(email="ana@example.com", metadata={"userId": "user-1"},
                               idempotency_key="customer-user-1")
    b = stripe.Customer.create(email="ana@example.com", metadata={"userId": "user-1"},
                               idempotency_key="customer-user-1")
    assert a.id.startswith("cus_") and b.id == a.id
    assert b.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in a.last_response.headers
    with pytest.raises(E.IdempotencyError):
        stripe.Customer.create(email="bo@example.com", metadata={"userId": "user-1"},
                               idempotency_key="customer-user-1")
    got = stripe.Customer.retrieve(a.id)
    assert (got.email, got.metadata.userId, got.object) == ("ana@example.com", "user-1",
                                                            "customer")
    assert verify(receiver.wait("customer.created", a.id)[0]).data.object.id == a.id
    assert len(receiver.matching("customer.created")) == 1          # the replay made none
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Customer.create(email="nobody")
    assert (ei.value.param, ei.value.code) == ("email", "email_invalid")
    pro = stripe.Price.retrieve("price_pro_monthly")
    assert (pro.type, pro.recurring.interval, pro.recurring.interval_count) == (
        "recurring", "month", 1)
    assert pro.unit_amount == 4900 and pro.currency == "aud" and pro.active is True
    ids = [p.id for p in stripe.Price.list(type="recurring", limit=10).data]
    assert {"price_basic_monthly", "price_pro_monthly"} <= set(ids)
    weekly = standin.control("POST", "prices", {"id": "price_weekly", "unit_amount": 900,
                                                "recurring": {"interval": "week"}})
    assert weekly["recurring"]["interval"] == "week" and weekly["type"] == "recurring"
    standin.control("POST", "prices", {"unit_amount": 9, "recurring": {"interval": "hour"}},
                    expect=400)


@pytest.mark.parametrize("change, param, code", [
    ({"success_url": "https://app.test/ok"}, "success_url", None),
    ({"return_url": None}, "return_url", "parameter_missing"),
    ({"ui_mode": "hosted", "success_url": "https://app.test/ok",
      "cancel_url": "https://app.test/no"}, "return_url", None),
    ({"line_items": line_items((4900, 1))}, "line_items", None),
    ({"mode": "payment", "subscription_data": None}, "line_items[0][price]", None),
    ({"mode": "payment"}, "subscription_data", None),
    ({"payment_intent_data": {"metadata": {"k": "v"}}}, "payment_intent_data", None),
    ({"customer": "cus_nope"}, "customer", "resource_missing"),
    ({"subscription_data": {"metadata": {"userId": "u"}, "colour": "red"}},
     "subscription_data[colour]", "parameter_unknown"),
])
def test_subscription_session_validation(standin, change, param, code):
    with pytest.raises(E.InvalidRequestError) as ei:
        new_subscription_session(**change)
    assert ei.value.http_status == 400
    assert (ei.value.param, ei.value.code) == (param, code), ei.value.json_body


def test_subscription_checkout_delivers_signed_events(standin, receiver):
    cus = stripe.Customer.create(email="ana@example.com", metadata={"userId": "user-1"})
    s = new_subscription_session(customer=cus.id, idempotency_key="subscribe-user-1-a")
    assert (s.mode, s.ui_mode, s.status, s.payment_status) == ("subscription", "embedded",
                                                               "open", "unpaid")
    assert s.url is None and s.client_secret.startswith(s.id + "_secret_")
    assert s.return_url == RETURN_URL and s.subscription is None
    assert (s.amount_total, s.currency, s.customer) == (4900, "aud", cus.id)
    again = new_subscription_session(customer=cus.id, idempotency_key="subscribe-user-1-a")
    assert again.client_secret == s.client_secret                 # replayed whole
    receiver.clear()
    out = standin.control("POST", "sessions/%s/complete" % s.id)
    assert [e["type"] for e in out["events"]] == ["checkout.session.completed",
                                                  "customer.subscription.created",
                                                  "invoice.paid"]
    assert [d["status"] for d in out["deliveries"]] == [200, 200, 200]
    done = verify(receiver.wait("checkout.session.completed", s.id)[0])
    sub_id = out["subscription"]["id"]
    assert done.data.object.subscription == sub_id and done.data.object.mode == "subscription"
    assert done.data.object.payment_status == "paid" and done.data.object.customer == cus.id
    assert done.data.object.client_reference_id == "user-1"
    sub = verify(receiver.wait("customer.subscription.created", sub_id)[0]).data.object
    assert (sub.status, sub.customer, sub.cancel_at_period_end) == ("active", cus.id, False)
    assert sub.metadata.userId == "user-1"
    item = sub["items"].data[0]
    assert item.price.id == "price_pro_monthly" and item.price.recurring.interval == "month"
    start = time.gmtime(sub.current_period_start)
    end = time.gmtime(sub.current_period_end)
    assert (end.tm_mon - start.tm_mon) % 12 == 1 and sub.current_period_start <= time.time()
    assert end.tm_mday == start.tm_mday or end.tm_mday < start.tm_mday       # month ends
    inv = verify(receiver.wait("invoice.paid")[0]).data.object
    assert (inv.subscription, inv.customer, inv.billing_reason) == (sub_id, cus.id,
                                                                    "subscription_create")
    assert inv.status == "paid" and inv.amount_paid == 4900 and inv.paid is True
    assert inv.subscription_details.metadata.userId == "user-1"
    line = inv.lines.data[0]
    assert (line.period.start, line.period.end) == (sub.current_period_start,
                                                    sub.current_period_end)
    assert line.type == "subscription" and line.price.id == "price_pro_monthly"
    assert stripe.PaymentIntent.retrieve(inv.payment_intent).status == "succeeded"
    got = stripe.Subscription.retrieve(sub_id, expand=["latest_invoice", "customer"])
    assert got.latest_invoice.id == inv.id and got.customer.email == "ana@example.com"
    assert stripe.Invoice.retrieve(inv.id).subscription == sub_id
    assert stripe.checkout.Session.retrieve(s.id).subscription == sub_id
    standin.control("POST", "sessions/%s/complete" % s.id, expect=409)
    # without a customer, checkout makes one (and says so first)
    other = new_subscription_session(customer_email="bo@example.com")
    types = [e["type"] for e in standin.control("POST", "sessions/%s/complete" % other.id,
                                                {"deliver": False})["events"]]
    assert types == ["customer.created", "checkout.session.completed",
                     "customer.subscription.created", "invoice.paid"]


def test_a_subscription_s_life(standin, receiver):
    s = new_subscription_session()
    sub_id = standin.control("POST", "sessions/%s/complete" % s.id,
                             {"deliver": False})["subscription"]["id"]
    first = stripe.Subscription.retrieve(sub_id)

    out = standin.control("POST", "subscriptions/%s/update" % sub_id,
                          {"cancel_at_period_end": True})
    ev = verify(receiver.wait("customer.subscription.updated", sub_id)[0])
    assert ev.data.object.cancel_at_period_end is True
    assert ev.data.object.cancel_at == first.current_period_end
    assert ev.data.previous_attributes.cancel_at_period_end is False
    assert out["subscription"]["status"] == "active"

    receiver.clear()
    out = standin.control("POST", "subscriptions/%s/fail_renewal" % sub_id)
    assert [e["type"] for e in out["events"]] == ["invoice.payment_failed",
                                                  "customer.subscription.updated"]
    failed = verify(receiver.wait("invoice.payment_failed")[0]).data.object
    assert (failed.status, failed.paid, failed.billing_reason) == ("open", False,
                                                                   "subscription_cycle")
    assert failed.subscription == sub_id and failed.attempt_count == 1
    assert failed.lines.data[0].period.start == first.current_period_end
    assert (failed.period_start, failed.period_end) == (first.current_period_start,
                                                        first.current_period_end)
    upd = verify(receiver.wait("customer.subscription.updated", sub_id)[0])
    assert upd.data.object.status == "past_due"
    assert upd.data.previous_attributes.status == "active"
    assert upd.data.object.current_period_start == first.current_period_end
    pi = stripe.PaymentIntent.retrieve(failed.payment_intent)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "insufficient_funds"

    receiver.clear()
    out = standin.control("POST", "subscriptions/%s/renew" % sub_id)
    assert [e["type"] for e in out["events"]] == ["customer.subscription.updated",
                                                  "invoice.paid"]
    assert out["subscription"]["status"] == "active"

    # the API too: updated and deleted in the background, as Stripe sends them
    receiver.clear()
    mod = stripe.Subscription.modify(sub_id, cancel_at_period_end=False,
                                     idempotency_key="keep-it")
    assert mod.cancel_at_period_end is False and mod.cancel_at is None
    assert verify(receiver.wait("customer.subscription.updated", sub_id)[0])
    gone = stripe.Subscription.delete(sub_id)
    assert gone.status == "canceled" and gone.ended_at
    ev = verify(receiver.wait("customer.subscription.deleted", sub_id)[0])
    assert ev.data.object.status == "canceled"
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Subscription.delete(sub_id)
    assert ei.value.http_status == 404
    for action in ("update", "delete", "renew", "fail_renewal"):
        standin.control("POST", "subscriptions/%s/%s" % (sub_id, action), expect=409)
    assert standin.control("GET", "subscriptions")["data"][0]["status"] == "canceled"
    assert stripe.Subscription.list(status="all").data[0].id == sub_id
    assert stripe.Subscription.list().data == []                   # not ended only
    assert standin.control("GET", "stats")["subscriptions"] == {"canceled": 1}


def test_events_in_any_order_and_twice(standin, receiver):
    cus = stripe.Customer.create(email="ana@example.com")
    receiver.wait("customer.created", cus.id)
    receiver.clear()
    s = new_subscription_session(customer=cus.id)
    out = standin.control("POST", "sessions/%s/complete" % s.id, {"order": [2, 1, 0, 2]})
    assert [d["type"] for d in out["deliveries"]] == ["invoice.paid",
                                                      "customer.subscription.created",
                                                      "checkout.session.completed",
                                                      "invoice.paid"]
    got = [json.loads(r["body"]) for r in receiver.records]
    assert [e["type"] for e in got] == ["invoice.paid", "customer.subscription.created",
                                        "checkout.session.completed", "invoice.paid"]
    assert got[0]["id"] == got[3]["id"]
    assert out["event"]["type"] == "checkout.session.completed"     # still the main event
    other = new_subscription_session(customer=cus.id)
    receiver.clear()
    standin.control("POST", "sessions/%s/complete" % other.id, {"order": "2,1"}, expect=400)
    standin.control("POST", "sessions/%s/complete" % other.id, {"order": [-1]}, expect=400)
    assert stripe.checkout.Session.retrieve(other.id).status == "open"     # refused first
    err = standin.control("POST", "sessions/%s/complete" % other.id, {"order": [3]},
                          expect=400)["error"]
    assert "none delivered" in err and receiver.records == []


def test_subscription_sessions_read_again_expired_and_made_once(standin, receiver,
                                                                  monkeypatch):
    """What one open session per user needs of a subscription-mode session: made once for
    one idempotency key (concurrent calls included), read again with its client secret,
    expired while open, and refused expiry once paid."""
    monkeypatch.setattr(stripe, "max_network_retries", 3)    # a key in progress is 409
    exp = int(time.time()) + 3600
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        made = list(ex.map(lambda i: new_subscription_session(
            expires_at=exp, idempotency_key="subscribe-user-1-chk_1"), range(10)))
    assert len({s.id for s in made}) == 1 and len({s.client_secret for s in made}) == 1
    s = made[0]
    assert standin.control("GET", "stats")["sessions"] == {"open": 1}
    assert s.expires_at == exp and s.client_secret.startswith(s.id + "_secret_")
    got = stripe.checkout.Session.retrieve(s.id)
    assert (got.status, got.mode, got.client_secret, got.url) == ("open", "subscription",
                                                                 s.client_secret, None)
    gone = stripe.checkout.Session.expire(s.id, idempotency_key="expire-" + s.id)
    assert gone.status == "expired"
    again = stripe.checkout.Session.expire(s.id, idempotency_key="expire-" + s.id)
    assert again.status == "expired"                        # the first answer, replayed
    assert stripe.checkout.Session.retrieve(s.id).status == "expired"
    assert verify(receiver.wait("checkout.session.expired", s.id)[0]).data.object.mode == \
        "subscription"
    paid = new_subscription_session(expires_at=exp)
    standin.control("POST", "sessions/%s/complete" % paid.id, {"deliver": False})
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.checkout.Session.expire(paid.id)
    assert ei.value.http_status == 400 and "`complete`" in ei.value.user_message
    assert stripe.checkout.Session.retrieve(paid.id).status == "complete"
