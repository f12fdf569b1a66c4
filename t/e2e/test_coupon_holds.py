"""Coupon holds through nginx (issue 12, items 9 and 13a): a coupon use held by an unpaid
checkout is bounded per client address and per email and ends with its Checkout Session;
unknown codes spend the client's lookup budget on every route that takes a code, and so does
every answer about an email's own uses."""

import os
import subprocess
import time
import uuid

import pytest

from stack import BUILDDIR, assert_envelope
from test_purchases import stripe_api
from test_webhook import ddb  # noqa: F401


def new_coupon(ddb, limit=100, per_user=0):  # noqa: F811
    """A coupon of this test's own (A$5 off), so no other test spends its uses."""
    code = "HOLD" + uuid.uuid4().hex[:12].upper()
    ddb.put_item(TableName="prodenthub-coupons", Item={
        "couponCode": {"S": code}, "type": {"S": "fixed"}, "valueCents": {"N": "500"},
        "usageLimit": {"N": str(limit)}, "usageCount": {"N": "0"},
        "perUserLimit": {"N": str(per_user)}, "status": {"S": "active"}})
    return code


def uses(ddb, code):  # noqa: F811
    return int(ddb.get_item(TableName="prodenthub-coupons", Key={"couponCode": {"S": code}},
                            ConsistentRead=True)["Item"]["usageCount"]["N"])


def buy(stack, ip, email, code, route="/v1/purchases/create"):
    body = {"planId": "basic-1month", "email": email, "code": code}
    if route == "/v1/checkout/create":
        body["campaignId"] = "discount-purchase"
    return stack.post(route, body=body, source_ip=ip)


def validate(stack, ip, **body):
    return stack.post("/v1/coupons/validate", body=body, source_ip=ip)


def test_issue12_item9_one_client_cannot_hold_a_coupons_uses(stack, ddb):  # noqa: F811
    """100 invented emails from one address no longer empty a 100-use coupon."""
    code = new_coupon(ddb)
    ip = stack.new_ip()
    statuses = [buy(stack, ip, "invented%03d@example.com" % i, code).status
                for i in range(25)]
    assert statuses == [201] * 10 + [429] * 15, statuses
    assert uses(ddb, code) == 10
    r = buy(stack, ip, "one-more@example.com", code)
    assert_envelope(r, 429, "RATE_LIMITED")
    # Another client still buys with it.
    assert_envelope(buy(stack, stack.new_ip(), "real@example.com", code), 201)
    assert uses(ddb, code) == 11


def test_issue12_item9_one_email_holds_at_most_three_coupon_uses(stack, ddb):  # noqa: F811
    email = "holder-%s@example.com" % uuid.uuid4().hex[:8]
    codes = [new_coupon(ddb) for _ in range(5)]
    rs = [buy(stack, stack.new_ip(), email, c) for c in codes]
    assert [r.status for r in rs] == [201, 201, 201, 409, 409], [r.body for r in rs]
    d = assert_envelope(rs[3], 409, "CONDITION_FAILED")
    assert d["details"]["reason"] == "TOO_MANY_OPEN_CHECKOUTS"
    assert [uses(ddb, c) for c in codes] == [1, 1, 1, 0, 0]
    # Without a coupon nothing is held, so nothing is refused.
    r = stack.post("/v1/purchases/create", body={"planId": "basic-1month", "email": email},
                   source_ip=stack.new_ip())
    assert_envelope(r, 201)
    slots = ddb.get_item(TableName="prodenthub-coupon-usage", ConsistentRead=True,
                         Key={"usageId": {"S": "HOLDS#" + email}})["Item"]
    ends = sorted(int(slots["hold%d" % i]["N"]) for i in range(3))
    assert all(abs(e - (time.time() + 31 * 60)) < 120 for e in ends), ends


def test_issue12_item9_the_hold_ends_with_its_session(stack, ddb):  # noqa: F811
    """The session lives 31 minutes (Stripe's 30 and a minute for the way there), and the
    sweep's default age releases the use as soon as the session is over."""
    code = new_coupon(ddb)
    d = assert_envelope(buy(stack, stack.new_ip(), "sweep-me@example.com", code), 201)["data"]
    s = stripe_api(stack, "/v1/checkout/sessions/" + d["sessionId"])
    assert 30 * 60 <= s["expires_at"] - s["created"] <= 31 * 60 + 5, s
    assert d["expiresAt"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s["expires_at"]))
    g = assert_envelope(stack.get("/v1/purchases/" + d["purchaseId"],
                                  source_ip=stack.new_ip()), 200)["data"]
    assert g["expiresAt"] == d["expiresAt"]
    assert uses(ddb, code) == 1
    # 32 minutes on, by the tool's clock: with its default --older-than the sweep expires the
    # session (past its time) and gives the use back.
    env = dict(os.environ, AWS_ENDPOINT_URL_DYNAMODB=stack.ports["AWS_ENDPOINT_URL_DYNAMODB"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
               AWS_REGION="ap-southeast-2", STRIPE_API_BASE=stack.ports["STRIPE_API_BASE"],
               STRIPE_SECRET_KEY="sk_test_local", PRODENTHUB_CLOCK_OFFSET_S=str(32 * 60))
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "sweep-checkouts"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert d["purchaseId"] + " released" in r.stdout, r.stdout
    assert uses(ddb, code) == 0
    g = assert_envelope(stack.get("/v1/purchases/" + d["purchaseId"],
                                  source_ip=stack.new_ip()), 200)["data"]
    assert g["status"] == "expired"


@pytest.mark.parametrize("route", ["/v1/purchases/create", "/v1/checkout/create"])
def test_issue12_item9_unknown_codes_spend_the_budget_on_every_route(stack, route):
    ip = stack.new_ip()
    for i in range(10):
        r = buy(stack, ip, "guesser@example.com", "NOPE%04d" % i, route)
        assert assert_envelope(r, 422, "UNPROCESSABLE")["details"]["reason"] == "NOT_FOUND"
    time.sleep(1.1)     # every worker's own copy of the count renewed (CACHE_LOCAL_MS)
    assert_envelope(buy(stack, ip, "guesser@example.com", "NOPE9999", route), 429,
                    "RATE_LIMITED")
    # One budget for every route that takes a code.
    assert_envelope(validate(stack, ip, code="SAVE20", planId="full-6months"), 429,
                    "RATE_LIMITED")
    assert_envelope(validate(stack, stack.new_ip(), code="SAVE20", planId="full-6months"), 200)


def test_issue12_item13_answers_about_an_email_spend_the_lookup_budget(stack):
    """The seed's per-buyer answer stays, but cannot be asked in bulk."""
    ip = stack.new_ip()
    r = validate(stack, ip, code="SAVE20", planId="full-6months", email="Used@Example.com")
    assert assert_envelope(r, 200)["data"]["reason"] == "ALREADY_USED"
    for i in range(9):
        r = validate(stack, ip, code="SAVE20", planId="full-6months",
                     email="probe%02d@example.com" % i)
        assert assert_envelope(r, 200)["data"]["valid"] is True
    time.sleep(1.1)     # every worker's own copy of the count renewed (CACHE_LOCAL_MS)
    r = validate(stack, ip, code="SAVE20", planId="full-6months", email="victim@example.com")
    assert_envelope(r, 429, "RATE_LIMITED")
    # The same on purchases/create: an ALREADY_USED refusal spends one.
    ip = stack.new_ip()
    r = stack.post("/v1/purchases/create", source_ip=ip, body={
        "planId": "full-6months", "email": "used@example.com", "code": "SAVE20"})
    assert assert_envelope(r, 409, "CONDITION_FAILED")["details"]["reason"] == "ALREADY_USED"
    for i in range(9):
        r = validate(stack, ip, code="NOPE%04d" % i, planId="full-6months")
        assert assert_envelope(r, 200)["data"]["reason"] == "NOT_FOUND"
    time.sleep(1.1)     # every worker's own copy of the count renewed (CACHE_LOCAL_MS)
    assert_envelope(validate(stack, ip, code="SAVE20", planId="full-6months"), 429,
                    "RATE_LIMITED")
    # Answers that say nothing about an email spend nothing.
    ip = stack.new_ip()
    for _ in range(15):
        assert_envelope(validate(stack, ip, code="SAVE20", planId="full-6months"), 200)
