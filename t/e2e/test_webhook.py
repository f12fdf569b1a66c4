"""POST /v1/webhook/stripe through nginx: signatures made by the official Stripe library
(python3-stripe), idempotent fulfilment, out-of-order events, and the full loop with the
local Stripe stand-in."""

import concurrent.futures
import json
import sys
import time

import pytest

from stack import assert_envelope, http_json

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import botocore.session  # noqa: E402
import stripe  # noqa: E402
from stripe.webhook import WebhookSignature  # noqa: E402

SECRET = "whsec_local"


def signed(payload, secret=SECRET, t=None, extra_v1=()):
    t = int(time.time()) if t is None else t
    sig = WebhookSignature._compute_signature("%d.%s" % (t, payload), secret)
    header = "t=%d,%s" % (t, ",".join(["v1=" + s for s in extra_v1] + ["v1=" + sig]))
    return header


def deliver(stack, payload, header, path="/v1/webhook/stripe"):
    return stack.request("POST", path, body=payload,
                         headers={"Content-Type": "application/json",
                                  "Stripe-Signature": header},
                         source_ip=stack.new_ip())


def event(type_, obj, eid=None):
    return json.dumps({"id": eid or "evt_test_%d" % time.monotonic_ns(), "object": "event",
                       "type": type_, "created": int(time.time()), "livemode": False,
                       "data": {"object": obj}}, separators=(",", ":"))


@pytest.fixture(scope="module")
def ddb(stack):
    s = botocore.session.get_session()
    return s.create_client("dynamodb", region_name="ap-southeast-2",
                           endpoint_url=stack.ports["DDB_UPSTREAM"],
                           aws_access_key_id="local", aws_secret_access_key="local")


def purchase(ddb, pid):
    return ddb.get_item(TableName="prodenthub-discount-purchases",
                        Key={"purchaseId": {"S": pid}}, ConsistentRead=True)["Item"]


def grants(ddb, email):
    return ddb.query(TableName="prodenthub-access-grants",
                     KeyConditionExpression="email = :e",
                     ExpressionAttributeValues={":e": {"S": email}},
                     ConsistentRead=True)["Items"]


def uses(ddb, code):
    return int(ddb.get_item(TableName="prodenthub-coupons", Key={"couponCode": {"S": code}},
                            ConsistentRead=True)["Item"]["usageCount"]["N"])


def buy(stack, email, code=None):
    body = {"planId": "full-6months", "email": email}
    if code:
        body["code"] = code
    return assert_envelope(stack.post("/v1/purchases/create", body=body,
                                      source_ip=stack.new_ip()), 201)["data"]


def session_obj(d, status="complete", paid="paid"):
    return {"id": d["sessionId"], "object": "checkout.session", "status": status,
            "payment_status": paid, "payment_intent": "pi_" + d["purchaseId"][4:],
            "amount_total": d["finalAmountCents"], "currency": "aud",
            "metadata": {"campaignId": "discount-purchase", "purchaseId": d["purchaseId"]}}


def test_our_signatures_are_the_official_librarys():
    payload = event("customer.created", {"id": "cus_1"})
    header = signed(payload)
    # The independent reference accepts exactly what the tests send.
    stripe.Webhook.construct_event(payload, header, SECRET)


@pytest.mark.parametrize("make,why", [
    (lambda p: signed(p, secret="whsec_wrong"), "no signature matches"),
    (lambda p: signed(p, t=int(time.time()) - 400), "tolerance"),
    (lambda p: "", "no Stripe-Signature"),
    (lambda p: "garbage", "malformed"),
    (lambda p: "t=abc,v1=00", "malformed"),
])
def test_bad_signatures_are_400_and_change_nothing(stack, make, why):
    payload = event("customer.created", {"id": "cus_1"})
    r = deliver(stack, payload, make(payload))
    d = assert_envelope(r, 400, "BAD_REQUEST")
    assert why in d["details"]["reason"], d


def test_tampered_body_is_refused(stack):
    payload = event("customer.created", {"id": "cus_1"})
    header = signed(payload)
    r = deliver(stack, payload.replace("cus_1", "cus_2"), header)
    assert_envelope(r, 400, "BAD_REQUEST")


def test_any_of_several_v1_may_match_and_unknown_types_are_ignored(stack):
    payload = event("customer.created", {"id": "cus_1"})
    r = deliver(stack, payload, signed(payload, extra_v1=["0" * 64]))
    assert assert_envelope(r, 200)["data"]["received"] is True
    r = deliver(stack, payload, signed(payload), path="/v1/stripe/webhook")
    assert assert_envelope(r, 200)["data"]["duplicate"] is True


def test_concurrent_deliveries_change_the_state_once(stack, ddb):
    d = buy(stack, "concurrent@example.com", code="SAVE20")
    payload = event("checkout.session.completed", session_obj(d))
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        rs = list(pool.map(lambda _: deliver(stack, payload, signed(payload)), range(10)))
    statuses = sorted(r.status for r in rs)
    assert set(statuses) <= {200, 503}, statuses
    # Stripe retries the 503s; after them every delivery is a duplicate.
    for _ in range(3):
        r = deliver(stack, payload, signed(payload))
        assert r.status == 200
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == "paid" and p["reviewNeeded"]["S"] == "no"
    g = [x for x in grants(ddb, "concurrent@example.com")
         if x["grantId"]["S"] == d["purchaseId"]]
    assert len(g) == 1 and g[0]["productId"]["S"] == "full-6months"
    red = ddb.get_item(TableName="prodenthub-coupon-usage",
                       Key={"usageId": {"S": d["purchaseId"]}}, ConsistentRead=True)["Item"]
    assert red["status"]["S"] == "confirmed"


def test_full_loop_through_the_stand_in(stack, ddb):
    d = buy(stack, "loop@example.com", code="SAVE20")
    out = http_json("POST", stack.ports["STRIPE_API_BASE"] +
                    "/__stripe/sessions/%s/complete" % d["sessionId"], {})
    assert out["delivery"]["status"] == 200, out["delivery"]
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == "paid"
    assert p["stripePaymentIntentId"]["S"].startswith("pi_")
    g = grants(ddb, "loop@example.com")
    assert len(g) == 1 and g[0]["validUntil"]["S"] > g[0]["validFrom"]["S"]
    v = assert_envelope(stack.get("/v1/purchases/" + d["purchaseId"]), 200)["data"]
    assert v["status"] == "paid"


def test_expired_session_releases_the_coupon_use(stack, ddb):
    before = uses(ddb, "SAVE20")
    d = buy(stack, "walkaway@example.com", code="SAVE20")
    assert uses(ddb, "SAVE20") == before + 1
    out = http_json("POST", stack.ports["STRIPE_API_BASE"] +
                    "/__stripe/sessions/%s/expire" % d["sessionId"], {})
    assert out["delivery"]["status"] == 200, out["delivery"]
    assert uses(ddb, "SAVE20") == before
    assert purchase(ddb, d["purchaseId"])["status"]["S"] == "expired"


@pytest.mark.parametrize("first,second,final,review", [
    ("completed", "expired", "paid", "no"),
    ("expired", "completed", "paid", "yes"),
])
def test_out_of_order_events(stack, ddb, first, second, final, review):
    email = "order-%s-%s@example.com" % (first, second)
    d = buy(stack, email, code="SAVE20")
    objs = {"completed": ("checkout.session.completed", session_obj(d)),
            "expired": ("checkout.session.expired", session_obj(d, "expired", "unpaid"))}
    for name in (first, second):
        t, o = objs[name]
        payload = event(t, o)
        assert deliver(stack, payload, signed(payload)).status == 200
    p = purchase(ddb, d["purchaseId"])
    assert p["status"]["S"] == final
    assert p["reviewNeeded"]["S"] == review
    assert len(grants(ddb, email)) == 1


def test_access_grants_read_route_is_admin_only(stack):
    r = stack.get("/v1/access-grants?email=loop@example.com")
    assert_envelope(r, 401, "UNAUTHORIZED")
    r = stack.get("/v1/access-grants?email=loop@example.com",
                  headers={"Authorization": "Bearer not-it"})
    assert_envelope(r, 403, "FORBIDDEN")
    r = stack.get("/v1/access-grants?email=Loop@Example.com",
                  headers={"Authorization": "Bearer e2e-admin-token"})
    d = assert_envelope(r, 200)["data"]
    assert d["email"] == "loop@example.com"
    assert len(d["grants"]) == 1 and d["grants"][0]["productId"] == "full-6months"
    r = stack.get("/v1/access-grants?email=nobody@example.com",
                  headers={"Authorization": "Bearer e2e-admin-token"})
    assert assert_envelope(r, 200)["data"]["grants"] == []
    r = stack.get("/v1/access-grants", headers={"Authorization": "Bearer e2e-admin-token"})
    assert_envelope(r, 400, "VALIDATION_ERROR")
