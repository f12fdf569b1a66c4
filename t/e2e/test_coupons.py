"""POST /v1/coupons/validate through nginx, against the seed data (sql/seed/)."""

import pytest

from stack import assert_envelope


def validate(stack, ip=None, **body):
    return stack.post("/v1/coupons/validate", body=body, source_ip=ip or stack.new_ip())


def ok(stack, **body):
    d = assert_envelope(validate(stack, **body), 200)["data"]
    assert d["valid"] is True, d
    return d


def reason(stack, **body):
    d = assert_envelope(validate(stack, **body), 200)["data"]
    assert d["valid"] is False, d
    return d["reason"]


def test_percentage_below_the_cap(stack):
    d = ok(stack, code="SAVE20", planId="full-6months")
    assert (d["originalAmountCents"], d["discountCents"], d["finalAmountCents"]) == \
        (19900, 3980, 15920)
    assert d["currency"] == "AUD" and d["code"] == "SAVE20"


def test_percentage_capped_at_max_discount(stack):
    d = ok(stack, code="SAVE20", planId="premium-12months")
    assert (d["discountCents"], d["finalAmountCents"]) == (5000, 24900)


def test_fixed_discount_never_exceeds_the_price(stack):
    d = ok(stack, code="WELCOME10", planId="basic-1month")
    assert (d["discountCents"], d["finalAmountCents"]) == (1000, 3900)
    d = ok(stack, code="WELCOME10", amountCents=500)
    assert (d["discountCents"], d["finalAmountCents"]) == (500, 0)


@pytest.mark.parametrize("amount,discount", [(1999, 300), (1990, 299), (1000, 150), (3, 0),
                                             (10, 2), (0, 0)])
def test_rounding_is_half_up_to_the_cent(stack, amount, discount):
    d = ok(stack, code="ROUND15", amountCents=amount)
    assert d["discountCents"] == discount
    assert d["finalAmountCents"] == amount - discount


def test_codes_are_normalised(stack):
    assert ok(stack, code="  save20 ", planId="standard-3months")["code"] == "SAVE20"


@pytest.mark.parametrize("body,why", [
    ({"code": "NOPE-123", "planId": "full-6months"}, "NOT_FOUND"),
    ({"code": "PAUSED", "planId": "full-6months"}, "INACTIVE"),
    ({"code": "SPRING15", "planId": "full-6months"}, "NOT_YET_VALID"),
    ({"code": "OLD50", "planId": "full-6months"}, "EXPIRED"),
    ({"code": "SAVE20", "planId": "basic-1month"}, "PLAN_NOT_APPLICABLE"),
    ({"code": "BIG30", "planId": "basic-1month"}, "MIN_PURCHASE_NOT_MET"),
    ({"code": "FULLUP", "planId": "basic-1month"}, "USAGE_LIMIT_REACHED"),
    ({"code": "SAVE20", "planId": "full-6months", "email": "Used@Example.com"}, "ALREADY_USED"),
])
def test_every_reason(stack, body, why):
    assert reason(stack, **body) == why


def test_a_new_buyer_may_use_a_coupon_another_has_used(stack):
    ok(stack, code="SAVE20", planId="full-6months", email="new@example.com")


@pytest.mark.parametrize("body,field", [
    ({}, "code"),
    ({"code": 20, "planId": "full-6months"}, "code"),
    ({"code": "x" * 65, "planId": "full-6months"}, "code"),
    ({"code": "SAVE20"}, "planId"),
    ({"code": "SAVE20", "planId": 7}, "planId"),
    ({"code": "SAVE20", "planId": "gold-forever"}, "planId"),
    ({"code": "SAVE20", "amountCents": -1}, "amountCents"),
    ({"code": "SAVE20", "amountCents": 12.5}, "amountCents"),
    ({"code": "SAVE20", "amountCents": "1000"}, "amountCents"),
    ({"code": "SAVE20", "amountCents": 10 ** 12}, "amountCents"),
    ({"code": "SAVE20", "planId": "full-6months", "email": "not-an-email"}, "email"),
])
def test_bad_input_is_a_400_naming_the_field(stack, body, field):
    r = validate(stack, **body)
    d = assert_envelope(r, 400, "VALIDATION_ERROR")
    assert field in d["details"]["fields"], d


def test_unknown_codes_are_rate_limited_per_client(stack):
    ip = stack.new_ip()
    for i in range(10):
        assert reason(stack, ip=ip, code="GUESS%03d" % i, planId="full-6months") == "NOT_FOUND"
    import time
    time.sleep(1.1)     # every worker's own copy of the count renewed (CACHE_LOCAL_MS)
    assert_envelope(validate(stack, ip=ip, code="GUESS999", planId="full-6months"), 429,
                    "RATE_LIMITED")
    # Another client is not affected.
    ok(stack, code="SAVE20", planId="full-6months")


def test_validation_works_with_memcached_down(stack):
    stack.stop("memcached")
    try:
        d = ok(stack, code="SAVE20", planId="premium-12months")
        assert d["discountCents"] == 5000
        assert reason(stack, code="OLD50", planId="full-6months") == "EXPIRED"
    finally:
        stack.restart_memcached()


def test_a_coupon_disabled_by_the_tool_is_refused_within_a_second(stack):
    """coupon-disable drops the coupon from memcached; each worker's own copy lives at most
    CACHE_LOCAL_MS (1 s, docs/DATA.md "Cache"): every worker refuses it within that."""
    import os
    import subprocess
    import time
    from stack import BUILDDIR
    env = dict(os.environ, AWS_ENDPOINT_URL_DYNAMODB=stack.ports["AWS_ENDPOINT_URL_DYNAMODB"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
               AWS_REGION="ap-southeast-2",
               MEMCACHED_SERVERS="127.0.0.1:%s" % stack.ports["MEMCACHED_PORT"])
    ctl = os.path.join(BUILDDIR, "prodenthubctl")
    # Warm the cache on both workers first, so a stale entry would be served if not dropped.
    for _ in range(4):
        ok(stack, code="WELCOME10", planId="basic-1month")
    try:
        r = subprocess.run([ctl, "coupon-disable", "welcome10"], env=env, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        disabled = time.monotonic()
        time.sleep(1.0)
        for _ in range(6):
            assert reason(stack, code="WELCOME10", planId="basic-1month") == "INACTIVE", \
                "still valid %.2f s after coupon-disable" % (time.monotonic() - disabled)
    finally:
        r = subprocess.run([ctl, "coupon-enable", "WELCOME10"], env=env, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    time.sleep(1.0)
    ok(stack, code="WELCOME10", planId="basic-1month")
    r = subprocess.run([ctl, "coupon-disable", "NO-SUCH"], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "no coupon" in r.stderr


def test_a_buyers_count_costs_no_dynamodb_read_per_validate(stack):
    """coupons/validate with an email: the buyer's use count comes from the cache after the
    first read (docs/DATA.md "Cache"), and a reservation drops it, so the answer follows a
    purchase within the workers' second."""
    import time
    import uuid
    from test_metrics import moved, scrape
    from test_webhook import buy
    email = "count-%s@example.com" % uuid.uuid4().hex[:8]
    body = {"code": "SAVE20", "planId": "full-6months", "email": email}
    for _ in range(4):                        # the first reads, on each worker
        ok(stack, **body)
    _, before = scrape(stack)
    for _ in range(20):
        ok(stack, **body)
    _, after = scrape(stack)
    reads = moved(before, after, "prodenthub_dynamodb_requests_total", operation="GetItem")
    assert reads == 0, "%d GetItem for 20 validates of one buyer" % reads
    buy(stack, email, code="SAVE20")          # the reservation raises the buyer's counter
    time.sleep(1.1)
    for _ in range(4):
        assert reason(stack, **body) == "ALREADY_USED"
