"""SaaS subscriptions through nginx, with a signed-in user of the local pool and the Stripe
stand-in: checkout (customer, embedded session), the stand-in completes it and delivers its
signed events, and GET /v1/subscription/status follows them, whatever their order.  A user
has one open checkout session: concurrent checkouts share it, another price replaces it, a
paid one refuses the next (409), and Stripe's events close it on the profile."""

import concurrent.futures
import json
import time
import uuid

import pytest

from stack import assert_envelope, http_json
from test_webhook import ddb, deliver, event, signed  # noqa: F401 (ddb: a fixture)

import stripe  # noqa: E402


def ctl(stack, path, body=None, method="POST"):
    url = stack.ports["STRIPE_API_BASE"] + "/__stripe/" + path
    return http_json(method, url, body if method == "POST" else None)


def row(ddb, pk, sk):
    return ddb.get_item(TableName="prodenthub-app", ConsistentRead=True,
                        Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


class User:
    """A user of the local pool, signed in once."""

    def __init__(self, stack):
        self.stack = stack
        self.email = "sub.%s@example.com" % uuid.uuid4().hex[:10]
        self.headers = stack.bearer(self.email)
        self.ip = stack.new_ip()
        me = assert_envelope(stack.post("/v1/auth/session", headers=self.headers,
                                        source_ip=self.ip), 200)["data"]
        self.id = me["id"]

    def checkout(self, body):
        return self.stack.post("/v1/stripe/checkout", body=body, headers=self.headers,
                               source_ip=self.ip)

    def status(self):
        return assert_envelope(self.stack.get("/v1/subscription/status", headers=self.headers,
                                              source_ip=self.ip), 200)["data"]

    def subscribe(self, price="price_pro_monthly"):
        """A checkout, completed at the stand-in: its answer (events not delivered yet)."""
        d = assert_envelope(self.checkout({"priceId": price}), 200)["data"]
        return d, ctl(self.stack, "sessions/%s/complete" % d["sessionId"], {"deliver": False})


def deliver_all(stack, events, order=None):
    """Deliver events (by index, in order; repeats allowed): the webhook's answers."""
    out = []
    for i in (order if order is not None else range(len(events))):
        d = ctl(stack, "events/%s/deliver" % events[i]["id"])["delivery"]
        assert d["status"] == 200, d
        out.append(json.loads(d["body"])["data"])
    return out


def later():
    """Stripe's events carry whole seconds: the next action's events are newer."""
    time.sleep(1.05)


@pytest.fixture
def user(stack):
    return User(stack)


def test_checkout_to_active_then_409(stack, ddb, user):
    assert user.status() == {"status": "inactive", "plan": None, "planId": None,
                             "priceId": None, "currentPeriodStart": None,
                             "currentPeriodEnd": None, "cancelAtPeriodEnd": False,
                             "stripeSubscriptionId": None}
    d = assert_envelope(user.checkout({"priceId": "price_pro_monthly"}), 200)["data"]
    assert d["sessionId"].startswith("cs_test_")
    assert d["clientSecret"].startswith(d["sessionId"] + "_secret_")
    s = [x for x in ctl(stack, "sessions?client_reference_id=" + user.id, method="GET")["data"]
         if x["id"] == d["sessionId"]][0]
    assert (s["mode"], s["ui_mode"], s["url"]) == ("subscription", "embedded", None)
    assert s["return_url"] == "https://localhost:3000/dashboard?session_id={CHECKOUT_SESSION_ID}"
    assert s["metadata"] == {"userId": user.id, "priceId": "price_pro_monthly", "planId": "pro"}
    assert s["line_items"]["data"][0]["price"]["id"] == "price_pro_monthly"
    # the customer: made for the user, on the profile, and mapped back to the user
    cus = s["customer"]
    profile = row(ddb, "USER#" + user.id, "PROFILE")
    assert profile["stripeCustomerId"]["S"] == cus and profile["email"]["S"] == user.email
    assert row(ddb, "CUSTOMER#" + cus, "USER")["userId"]["S"] == user.id
    assert "clientSecret" not in json.dumps(profile) and d["clientSecret"] not in json.dumps(
        row(ddb, "USER#" + user.id, "SUBSCRIPTION") or {})
    stripe.api_key, stripe.api_base = "sk_test_local", stack.ports["STRIPE_API_BASE"]
    c = stripe.Customer.retrieve(cus)
    assert c.email == user.email and c.metadata["userId"] == user.id

    out = ctl(stack, "sessions/%s/complete" % d["sessionId"])
    assert [x["type"] for x in out["events"]] == ["checkout.session.completed",
                                                  "customer.subscription.created",
                                                  "invoice.paid"]
    assert [x["status"] for x in out["deliveries"]] == [200, 200, 200], out["deliveries"]
    sub = out["subscription"]
    st = user.status()
    assert st["status"] == "active" and st["plan"] == st["planId"] == "pro"
    assert st["priceId"] == "price_pro_monthly" and st["cancelAtPeriodEnd"] is False
    assert st["stripeSubscriptionId"] == sub["id"]
    assert st["currentPeriodStart"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(sub["current_period_start"]))
    assert st["currentPeriodEnd"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(sub["current_period_end"]))
    r = row(ddb, "USER#" + user.id, "SUBSCRIPTION")
    assert r["stripeCustomerId"]["S"] == cus and "checkoutCompletedAt" in r
    # the session's event closed the open checkout on the profile
    assert not [k for k in row(ddb, "USER#" + user.id, "PROFILE") if k.startswith("checkout")]
    # subscribed: a second checkout is refused, for any plan
    for price in ("price_pro_monthly", "price_basic_monthly"):
        body = assert_envelope(user.checkout({"priceId": price}), 409, "CONFLICT")
        assert body["details"]["reason"] == "ALREADY_SUBSCRIBED"


def test_checkout_refusals(stack, user):
    for body, field in [({"priceId": "price_gold_monthly"}, "priceId"),
                        ({"priceId": "price_pro_yearly"}, "priceId"),      # Stripe has it
                        ({}, "priceId"),
                        ({"priceId": "price_pro_monthly", "plan": "pro"}, "plan")]:
        got = assert_envelope(user.checkout(body), 400, "VALIDATION_ERROR")
        assert field in got["details"]["fields"], got
    r = stack.post("/v1/stripe/checkout", body={"priceId": "price_pro_monthly"},
                   source_ip=stack.new_ip())
    assert_envelope(r, 401, "UNAUTHORIZED")
    assert_envelope(stack.get("/v1/subscription/status", source_ip=stack.new_ip()), 401,
                    "UNAUTHORIZED")
    assert user.status()["status"] == "inactive"


def test_cancel_at_period_end_then_deleted_stays_canceled(stack, ddb, user):
    d, done = user.subscribe("price_basic_monthly")
    deliver_all(stack, done["events"])
    sub = done["subscription"]["id"]
    assert user.status()["plan"] == "basic"
    later()
    upd = ctl(stack, "subscriptions/%s/update" % sub, {"cancel_at_period_end": True})
    assert upd["delivery"]["status"] == 200
    st = user.status()
    assert st["status"] == "active" and st["cancelAtPeriodEnd"] is True
    later()
    gone = ctl(stack, "subscriptions/%s/delete" % sub)
    assert gone["delivery"]["status"] == 200
    assert user.status()["status"] == "canceled"
    # late and repeated: the update, the creation and the checkout change nothing
    again = deliver_all(stack, [upd["event"], done["events"][1], done["events"][0],
                                done["events"][2], gone["event"]])
    assert again[-1].get("duplicate") is True
    assert user.status()["status"] == "canceled"
    # a canceled user may subscribe again, with the same customer
    d2 = assert_envelope(user.checkout({"priceId": "price_pro_monthly"}), 200)["data"]
    out = ctl(stack, "sessions/%s/complete" % d2["sessionId"])
    assert out["customer"]["id"] == done["customer"]["id"]
    assert [x["status"] for x in out["deliveries"]] == [200, 200, 200]
    st = user.status()
    assert st["status"] == "active" and st["plan"] == "pro"
    assert st["stripeSubscriptionId"] == out["subscription"]["id"] != sub
    # the old subscription's events, however late, do not touch the new one
    deliver_all(stack, [gone["event"], upd["event"]])
    assert user.status()["stripeSubscriptionId"] == out["subscription"]["id"]


def test_payment_failed_then_recovered(stack, user):
    d, done = user.subscribe()
    deliver_all(stack, done["events"])
    sub = done["subscription"]
    later()
    failed = ctl(stack, "subscriptions/%s/fail_renewal" % sub["id"])
    assert [x["type"] for x in failed["events"]] == ["invoice.payment_failed",
                                                     "customer.subscription.updated"]
    assert [x["status"] for x in failed["deliveries"]] == [200, 200]
    st = user.status()
    assert st["status"] == "past_due"
    assert st["currentPeriodStart"] == time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                     time.gmtime(sub["current_period_end"]))
    # a past_due user fixes the payment of the subscription they have, never buys a second
    for price in ("price_pro_monthly", "price_basic_monthly"):
        body = assert_envelope(user.checkout({"priceId": price}), 409, "CONFLICT")
        assert body["details"]["reason"] == "SUBSCRIPTION_PAST_DUE"
    later()
    paid = ctl(stack, "subscriptions/%s/renew" % sub["id"])
    assert [x["status"] for x in paid["deliveries"]] == [200, 200]
    assert user.status()["status"] == "active"
    # the failure, late: older than the payment, so still active
    deliver_all(stack, failed["events"], [0, 1, 0])
    assert user.status()["status"] == "active"


def test_invoice_failure_alone_sets_past_due(stack, user):
    """invoice.payment_failed before (or without) its subscription's own event."""
    d, done = user.subscribe()
    deliver_all(stack, done["events"])
    later()
    failed = ctl(stack, "subscriptions/%s/fail_renewal" % done["subscription"]["id"],
                 {"order": [0]})
    assert failed["deliveries"][0]["status"] == 200
    assert user.status()["status"] == "past_due"
    deliver_all(stack, failed["events"], [1])
    assert user.status()["status"] == "past_due"


def test_events_out_of_order_and_twice(stack, user):
    d, done = user.subscribe()
    ev = done["events"]
    answers = deliver_all(stack, ev, [2, 1, 2, 0, 1])
    assert [a.get("duplicate", False) for a in answers] == [False, False, True, False, True]
    st = user.status()
    assert st["status"] == "active" and st["priceId"] == "price_pro_monthly"
    assert st["currentPeriodEnd"] is not None
    sub = done["subscription"]["id"]
    later()
    on = ctl(stack, "subscriptions/%s/update" % sub, {"cancel_at_period_end": True,
                                                      "deliver": False})
    later()
    off = ctl(stack, "subscriptions/%s/update" % sub, {"cancel_at_period_end": False,
                                                       "deliver": False})
    deliver_all(stack, [off["event"], on["event"]])          # newest first
    assert user.status()["cancelAtPeriodEnd"] is False


def test_checkout_completed_first_then_its_events(stack, user):
    """The session's event alone makes the user active; the subscription's events, created
    after the session, then fill in the period."""
    d, done = user.subscribe()
    deliver_all(stack, done["events"], [0])
    st = user.status()
    assert st["status"] == "active" and st["priceId"] == "price_pro_monthly"
    assert st["currentPeriodEnd"] is None
    deliver_all(stack, done["events"], [1])
    assert user.status()["currentPeriodEnd"] is not None


def test_user_found_by_customer(stack, user):
    """A subscription whose metadata names nobody (made outside the checkout, say) is found
    through the customer the checkout made."""
    first, _ = user.subscribe()
    cus = ctl(stack, "sessions?client_reference_id=" + user.id,
              method="GET")["data"][0]["customer"]
    stripe.api_key, stripe.api_base = "sk_test_local", stack.ports["STRIPE_API_BASE"]
    s = stripe.checkout.Session.create(
        mode="subscription", ui_mode="embedded", return_url="https://app.test/r",
        line_items=[{"price": "price_basic_monthly", "quantity": 1}], customer=cus)
    out = ctl(stack, "sessions/%s/complete" % s.id)
    assert [x["status"] for x in out["deliveries"]] == [200, 200, 200]
    st = user.status()
    assert st["status"] == "active" and st["stripeSubscriptionId"] == out["subscription"]["id"]
    assert st["plan"] == "basic"


def test_events_naming_nobody_are_acknowledged(stack, ddb):
    sub = {"id": "sub_nobody", "object": "subscription", "customer": "cus_nobody",
           "status": "active", "current_period_start": 1, "current_period_end": 2,
           "cancel_at_period_end": False, "metadata": {},
           "items": {"object": "list", "data": [{"price": {"id": "price_pro_monthly"}}]}}
    inv = {"id": "in_nobody", "object": "invoice", "customer": "cus_nobody",
           "subscription": "sub_nobody", "amount_paid": 4900, "lines": {"data": []}}
    for type_, obj in [("customer.subscription.updated", sub), ("invoice.paid", inv),
                       ("invoice.payment_failed", inv)]:
        payload = event(type_, obj)
        r = deliver(stack, payload, signed(payload))
        assert_envelope(r, 200)
    assert row(ddb, "CUSTOMER#cus_nobody", "SUBSCRIPTION") is None


# --- one open checkout session per user -----------------------------------------------------

def sessions_of(stack, user):
    """The stand-in's sessions of the user, newest first: {id: status}."""
    got = ctl(stack, "sessions?client_reference_id=" + user.id, method="GET")["data"]
    return {s["id"]: s["status"] for s in got}


def open_checkout(ddb, user):
    """The checkout* members of the user's profile, plain."""
    p = row(ddb, "USER#" + user.id, "PROFILE") or {}
    return {k: list(v.values())[0] for k, v in p.items() if k.startswith("checkout")}


def delivered(stack, type_, obj_id):
    """True when the stand-in has delivered the event type_ of obj_id to the webhook (200)."""
    got = ctl(stack, "events?type=" + type_, method="GET")
    return any(d.get("status") == 200 for e in got["data"]
               if e["data"]["object"]["id"] == obj_id for d in got["deliveries"][e["id"]])


def wait_for(what, timeout=10.0):
    """Poll what() until it is true (Stripe's background deliveries): its last value."""
    end = time.time() + timeout
    got = what()
    while not got and time.time() < end:
        time.sleep(0.1)
        got = what()
    return got


def test_ten_concurrent_checkouts_get_one_session(stack, ddb, user):
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        got = list(ex.map(lambda i: user.checkout({"priceId": "price_pro_monthly"}),
                          range(10)))
    answers = [assert_envelope(r, 200)["data"] for r in got]
    assert len({a["sessionId"] for a in answers}) == 1, answers
    assert len({a["clientSecret"] for a in answers}) == 1
    sid = answers[0]["sessionId"]
    assert sessions_of(stack, user) == {sid: "open"}          # one made at Stripe
    oc = open_checkout(ddb, user)
    assert oc["checkoutSessionId"] == sid and oc["checkoutPriceId"] == "price_pro_monthly"
    assert oc["checkoutClaim"].startswith("chk_") and "checkoutStaleSessions" not in oc
    s = stripe_session(stack, sid)
    assert int(oc["checkoutExpiresAt"]) == s.expires_at
    assert 30 * 60 <= s.expires_at - s.created <= 60 * 60
    assert answers[0]["clientSecret"] not in json.dumps(row(ddb, "USER#" + user.id, "PROFILE"))
    # later, the same open session again
    again = assert_envelope(user.checkout({"priceId": "price_pro_monthly"}), 200)["data"]
    assert again == answers[0]
    assert sessions_of(stack, user) == {sid: "open"}


def stripe_session(stack, sid):
    stripe.api_key, stripe.api_base = "sk_test_local", stack.ports["STRIPE_API_BASE"]
    return stripe.checkout.Session.retrieve(sid)


def test_another_price_expires_the_open_session(stack, ddb, user):
    first = assert_envelope(user.checkout({"priceId": "price_basic_monthly"}), 200)["data"]
    second = assert_envelope(user.checkout({"priceId": "price_pro_monthly"}), 200)["data"]
    assert second["sessionId"] != first["sessionId"]
    assert sessions_of(stack, user) == {first["sessionId"]: "expired",
                                        second["sessionId"]: "open"}
    oc = open_checkout(ddb, user)
    assert (oc["checkoutSessionId"], oc["checkoutPriceId"]) == (second["sessionId"],
                                                                "price_pro_monthly")
    assert "checkoutStaleSessions" not in oc
    # the first one's checkout.session.expired (delivered by the stand-in) leaves the open one
    assert wait_for(lambda: delivered(stack, "checkout.session.expired", first["sessionId"]))
    assert open_checkout(ddb, user)["checkoutSessionId"] == second["sessionId"]
    assert assert_envelope(user.checkout({"priceId": "price_pro_monthly"}), 200)["data"] == \
        second
    # the first price again: the second is expired in turn
    third = assert_envelope(user.checkout({"priceId": "price_basic_monthly"}), 200)["data"]
    assert sessions_of(stack, user)[second["sessionId"]] == "expired"
    assert sessions_of(stack, user)[third["sessionId"]] == "open"


def test_an_expired_session_is_closed_on_the_profile(stack, ddb, user):
    d = assert_envelope(user.checkout({"priceId": "price_pro_monthly"}), 200)["data"]
    out = ctl(stack, "sessions/%s/expire" % d["sessionId"])
    assert out["delivery"]["status"] == 200
    assert open_checkout(ddb, user) == {}
    again = assert_envelope(user.checkout({"priceId": "price_pro_monthly"}), 200)["data"]
    assert again["sessionId"] != d["sessionId"]
    assert open_checkout(ddb, user)["checkoutSessionId"] == again["sessionId"]


def test_a_paid_session_refuses_the_next_checkout(stack, ddb, user):
    d, done = user.subscribe("price_pro_monthly")        # paid, its events not delivered
    body = assert_envelope(user.checkout({"priceId": "price_basic_monthly"}), 409, "CONFLICT")
    assert body["details"]["reason"] == "CHECKOUT_ALREADY_PAID"
    made = sessions_of(stack, user)
    assert made[d["sessionId"]] == "complete"
    assert sorted(made.values()) == ["complete", "expired"]   # the new one, expired at once
    for price in ("price_pro_monthly", "price_basic_monthly"):
        body = assert_envelope(user.checkout({"priceId": price}), 409, "CONFLICT")
        assert body["details"]["reason"] == "CHECKOUT_ALREADY_PAID"
    assert len(sessions_of(stack, user)) == 2                 # nothing more was made
    # the paid session's events: subscribed, and the profile's checkout closed
    deliver_all(stack, done["events"])
    assert user.status()["status"] == "active"
    assert wait_for(lambda: open_checkout(ddb, user) == {}), open_checkout(ddb, user)
    body = assert_envelope(user.checkout({"priceId": "price_basic_monthly"}), 409, "CONFLICT")
    assert body["details"]["reason"] == "ALREADY_SUBSCRIBED"
