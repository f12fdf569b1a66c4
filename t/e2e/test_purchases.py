"""Purchases through nginx: the coupon reservation as one DynamoDB transaction, Stripe
Checkout on the local stand-in, limits under concurrency, and Stripe failures."""

import concurrent.futures
import os
import sys
import urllib.request

import pytest

from stack import assert_envelope, http_json

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import botocore.session  # noqa: E402


@pytest.fixture(scope="module")
def ddb(stack):
    """An independent reader of DynamoDB Local (botocore), behind nothing."""
    s = botocore.session.get_session()
    return s.create_client("dynamodb", region_name="ap-southeast-2",
                           endpoint_url=stack.ports["DDB_UPSTREAM"],
                           aws_access_key_id="local", aws_secret_access_key="local")


def stripe_api(stack, path):
    req = urllib.request.Request(stack.ports["STRIPE_API_BASE"] + path,
                                 headers={"Authorization": "Bearer sk_test_local"})
    import json
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def stripe_control(stack, path, body=None):
    return http_json("POST" if body is not None else "GET",
                     stack.ports["STRIPE_API_BASE"] + "/__stripe/" + path, body)


def coupon(ddb, code):
    item = ddb.get_item(TableName="prodenthub-coupons", Key={"couponCode": {"S": code}},
                        ConsistentRead=True)["Item"]
    return int(item["usageCount"]["N"])


def counter(ddb, code, email):
    item = ddb.get_item(TableName="prodenthub-coupon-usage",
                        Key={"usageId": {"S": "COUNTER#%s#%s" % (code, email)}},
                        ConsistentRead=True).get("Item")
    return int(item["uses"]["N"]) if item else 0


def buy(stack, ip=None, **body):
    return stack.post("/v1/purchases/create", body=body, source_ip=ip or stack.new_ip())


def test_purchase_without_a_coupon(stack):
    r = buy(stack, planId="full-6months", email="Buyer@Example.com", name="Ana")
    d = assert_envelope(r, 201)["data"]
    assert d["purchaseId"].startswith("pur_") and d["status"] == "pending"
    assert (d["originalAmountCents"], d["discountCents"], d["finalAmountCents"]) == \
        (19900, 0, 19900)
    assert d["sessionId"].startswith("cs_") and d["checkoutUrl"]
    s = stripe_api(stack, "/v1/checkout/sessions/" + d["sessionId"])
    assert s["amount_total"] == 19900 and s["currency"] == "aud"
    assert s["client_reference_id"] == d["purchaseId"]
    assert s["metadata"]["purchaseId"] == d["purchaseId"]
    assert s["metadata"]["campaignId"] == "discount-purchase"
    assert s["customer_email"] == "buyer@example.com"
    g = assert_envelope(stack.get("/v1/purchases/" + d["purchaseId"]), 200)["data"]
    assert g["status"] == "pending" and g["finalAmountCents"] == 19900
    assert "email" not in g and "name" not in g


def test_purchase_with_a_coupon_reserves_one_use(stack, ddb):
    before = coupon(ddb, "ONCE1")
    d = assert_envelope(buy(stack, planId="standard-3months", email="one@example.com",
                            code="once1"), 201)["data"]
    assert (d["discountCents"], d["finalAmountCents"]) == (1290, 11610)
    assert coupon(ddb, "ONCE1") == before + 1
    assert counter(ddb, "ONCE1", "one@example.com") == 1
    red = ddb.get_item(TableName="prodenthub-coupon-usage",
                       Key={"usageId": {"S": d["purchaseId"]}}, ConsistentRead=True)["Item"]
    assert red["status"]["S"] == "reserved"
    s = stripe_api(stack, "/v1/checkout/sessions/" + d["sessionId"])
    assert s["amount_total"] == 11610 and s["metadata"]["couponCode"] == "ONCE1"
    # The same buyer again: refused, and nothing more is reserved.
    r = buy(stack, planId="standard-3months", email="one@example.com", code="ONCE1")
    assert assert_envelope(r, 409, "CONDITION_FAILED")["details"]["reason"] == "ALREADY_USED"
    assert coupon(ddb, "ONCE1") == before + 1


def test_usage_limit_holds_under_200_parallel_purchases(stack, ddb):
    emails = ["racer%03d@example.com" % i for i in range(200)]
    body = {"planId": "basic-1month", "code": "LIMIT100"}
    # 40 at once on the stack's 2 workers: the last may wait several seconds for a worker
    # (bench/flash measures that); this test is about the limit, so it waits up to 60 s.
    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda e: stack.post("/v1/purchases/create",
                                                     body=dict(body, email=e),
                                                     source_ip=stack.new_ip(), timeout=60),
                                emails))
    codes = [r.status for r in results]
    assert codes.count(201) == 100, sorted(set(codes))
    refused = [r for r in results if r.status != 201]
    assert all(r.status == 409 and r.json["details"]["reason"] == "USAGE_LIMIT_REACHED"
               for r in refused), refused[:3]
    assert coupon(ddb, "LIMIT100") == 100


def test_per_user_limit_holds_under_20_parallel_purchases(stack, ddb):
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: buy(stack, planId="basic-1month",
                                              email="same@example.com", code="ONCE1"),
                                range(20)))
    codes = [r.status for r in results]
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 19, codes
    assert counter(ddb, "ONCE1", "same@example.com") == 1


def test_stripe_failure_releases_the_reservation(stack, ddb):
    before = coupon(ddb, "STRIPEFAIL")
    stripe_control(stack, "fail", {"count": 10, "status": 500, "type": "api_error"})
    try:
        r = buy(stack, planId="basic-1month", email="unlucky@example.com", code="STRIPEFAIL")
        d = assert_envelope(r, 502, "UPSTREAM_ERROR")
        pid = d["details"]["purchaseId"]
    finally:
        stripe_control(stack, "reset", {})
    assert coupon(ddb, "STRIPEFAIL") == before
    g = assert_envelope(stack.get("/v1/purchases/" + pid), 200)["data"]
    assert g["status"] == "failed"
    assert "Item" not in ddb.get_item(TableName="prodenthub-coupon-usage",
                                      Key={"usageId": {"S": pid}}, ConsistentRead=True)


def test_stripe_down_releases_the_reservation(stack, ddb):
    before = coupon(ddb, "STRIPEFAIL")
    stack.stop("stripe")
    try:
        r = buy(stack, planId="basic-1month", email="unlucky2@example.com", code="STRIPEFAIL")
        assert_envelope(r, 502, "UPSTREAM_ERROR")
    finally:
        stack.start("stripe")
    assert coupon(ddb, "STRIPEFAIL") == before
    # And with Stripe back, the same coupon works.
    assert_envelope(buy(stack, planId="basic-1month", email="lucky@example.com",
                        code="STRIPEFAIL"), 201)
    assert coupon(ddb, "STRIPEFAIL") == before + 1


@pytest.mark.parametrize("body,status,code,what", [
    ({"email": "a@example.com"}, 400, "VALIDATION_ERROR", "planId"),
    ({"planId": "full-6months"}, 400, "VALIDATION_ERROR", "email"),
    ({"planId": "full-6months", "email": "nope"}, 400, "VALIDATION_ERROR", "email"),
    ({"planId": "gold", "email": "a@example.com"}, 400, "VALIDATION_ERROR", "planId"),
    # Another campaign's product (issue 12, item 1): not for sale here.
    ({"planId": "cluster-1", "email": "a@example.com"}, 400, "VALIDATION_ERROR", "planId"),
    ({"planId": "scholarship-3months", "email": "a@example.com"}, 400, "VALIDATION_ERROR",
     "planId"),
    ({"planId": "full-6months", "email": "a@example.com", "code": "OLD50"}, 422,
     "UNPROCESSABLE", "EXPIRED"),
    ({"planId": "full-6months", "email": "a@example.com", "code": "NOPE99"}, 422,
     "UNPROCESSABLE", "NOT_FOUND"),
    # A client-sent amount is never a price: an unknown field, refused by name.
    ({"planId": "full-6months", "email": "a@example.com", "amountCents": 1}, 400,
     "VALIDATION_ERROR", "amountCents"),
])
def test_bad_input(stack, body, status, code, what):
    r = buy(stack, **body)
    d = assert_envelope(r, status, code)
    if code == "VALIDATION_ERROR":
        assert what in d["details"]["fields"]
    else:
        assert d["details"]["reason"] == what


def test_unknown_purchase_is_404(stack):
    assert_envelope(stack.get("/v1/purchases/pur_" + "0" * 24), 404, "NOT_FOUND")
    assert_envelope(stack.get("/v1/purchases/whatever"), 404, "NOT_FOUND")


def test_abandoned_checkouts_are_swept_and_their_coupon_uses_released(stack, ddb):
    import subprocess
    from stack import BUILDDIR
    before = coupon(ddb, "SWEEP5")
    gone = assert_envelope(buy(stack, planId="basic-1month", email="gone@example.com",
                               code="SWEEP5"), 201)["data"]
    still = assert_envelope(buy(stack, planId="basic-1month", email="still@example.com",
                                code="SWEEP5"), 201)["data"]
    assert coupon(ddb, "SWEEP5") == before + 2
    # The first buyer walks away: Stripe expires the session (no webhook in this test).
    stripe_control(stack, "sessions/%s/expire" % gone["sessionId"], {"deliver": False})
    import time
    time.sleep(1.1)     # createdAt has whole seconds: let "older than 0 s" include them
    env = dict(os.environ, AWS_ENDPOINT_URL_DYNAMODB=stack.ports["AWS_ENDPOINT_URL_DYNAMODB"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
               AWS_REGION="ap-southeast-2", STRIPE_API_BASE=stack.ports["STRIPE_API_BASE"],
               STRIPE_SECRET_KEY="sk_test_local")
    ctl = [os.path.join(BUILDDIR, "prodenthubctl"), "sweep-checkouts", "--older-than", "0"]
    r = subprocess.run(ctl, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert gone["purchaseId"] + " released" in r.stdout
    assert still["purchaseId"] not in r.stdout
    assert coupon(ddb, "SWEEP5") == before + 1
    assert counter(ddb, "SWEEP5", "gone@example.com") == 0
    g = assert_envelope(stack.get("/v1/purchases/" + gone["purchaseId"]), 200)["data"]
    assert g["status"] == "expired"
    # Twice is harmless.
    r = subprocess.run(ctl, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "released 0" in r.stdout
    assert coupon(ddb, "SWEEP5") == before + 1


@pytest.mark.parametrize("plan", ["cluster-4", "mock-exam-premium", "team-full-6months",
                                  "scholarship-3months"])
def test_issue12_item1_a_purchase_sells_only_the_campaigns_own_plans(stack, ddb, plan):
    """Another campaign's product is not for sale here, with or without a coupon."""
    before = ddb.scan(TableName="prodenthub-discount-purchases", Select="COUNT",
                      ConsistentRead=True)["Count"]
    for extra in ({}, {"code": "WELCOME10"}):
        body = dict({"planId": plan, "email": "cross@example.com"}, **extra)
        r = stack.post("/v1/purchases/create", body=body, source_ip=stack.new_ip())
        d = assert_envelope(r, 400, "VALIDATION_ERROR")
        assert "planId" in d["details"]["fields"], d
        r = stack.post("/v1/checkout/create", body=dict(body, campaignId="discount-purchase"),
                       source_ip=stack.new_ip())
        assert_envelope(r, 400, "VALIDATION_ERROR")
        r = stack.post("/v1/coupons/validate", body={"code": "WELCOME10", "planId": plan},
                       source_ip=stack.new_ip())
        d = assert_envelope(r, 400, "VALIDATION_ERROR")
        assert "planId" in d["details"]["fields"], d
    assert ddb.scan(TableName="prodenthub-discount-purchases", Select="COUNT",
                    ConsistentRead=True)["Count"] == before
