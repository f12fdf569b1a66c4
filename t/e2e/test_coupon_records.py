"""Coupon records in the campaigns seed's format (money in dollars, plan families), stored in
DynamoDB Local exactly as the seed prints them, read exactly, or refused loudly: through
nginx (validate and purchase) and through prodenthubctl coupon-check.

Regression: a record stored as the seed prints it used to be read with no minimum and no cap
(a 50% coupon took 99.50 off a 199.00 plan) and with a plan list that matched no plan."""

import datetime
import os
import subprocess
import uuid

import pytest

from stack import BUILDDIR, assert_envelope
from test_purchases import ddb  # noqa: F401

TABLE = "prodenthub-coupons"


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_sample(**changes):
    """The seed's sample record (Table 3: prodenthub-coupons) as printed, with a fresh code
    and dates around now; changes replace or (None) remove attributes."""
    now = datetime.datetime.now(datetime.timezone.utc)
    item = {
        "couponCode": {"S": "SEED" + uuid.uuid4().hex[:10].upper()},
        "type": {"S": "percentage"},
        "value": {"N": "20"},
        "minPurchase": {"N": "100"},
        "maxDiscount": {"N": "50"},
        "validFrom": {"S": iso(now - datetime.timedelta(days=1))},
        "validUntil": {"S": iso(now + datetime.timedelta(days=30))},
        "usageLimit": {"N": "100"},
        "usageCount": {"N": "45"},
        "perUserLimit": {"N": "1"},
        "applicablePlans": {"L": [{"S": "standard"}, {"S": "full"}, {"S": "premium"}]},
        "status": {"S": "active"},
    }
    for k, v in changes.items():
        if v is None:
            item.pop(k, None)
        else:
            item[k] = v
    return item


def store(ddb, item):  # noqa: F811
    ddb.put_item(TableName=TABLE, Item=item)
    return item["couponCode"]["S"]


def usage_count(ddb, code):  # noqa: F811
    item = ddb.get_item(TableName=TABLE, Key={"couponCode": {"S": code}},
                        ConsistentRead=True)["Item"]
    return int(item["usageCount"]["N"])


def validate(stack, **body):
    return assert_envelope(stack.post("/v1/coupons/validate", body=body,
                                      source_ip=stack.new_ip()), 200)["data"]


def buy(stack, **body):
    return stack.post("/v1/purchases/create", body=body, source_ip=stack.new_ip())


def plans(*names):
    return {"L": [{"S": n} for n in names]}


def test_the_seed_sample_applies_its_cap_and_families(stack, ddb):  # noqa: F811
    code = store(ddb, seed_sample())
    d = validate(stack, code=code, planId="premium-12months")
    assert d["valid"] is True, d
    assert (d["originalAmountCents"], d["discountCents"], d["finalAmountCents"]) == \
        (29900, 5000, 24900)                    # 20% is 59.80, capped at 50 dollars
    d = validate(stack, code=code, planId="full-6months")   # family "full"
    assert (d["valid"], d["discountCents"]) == (True, 3980), d
    d = validate(stack, code=code, planId="standard-3months")
    assert (d["valid"], d["discountCents"]) == (True, 2580), d
    d = validate(stack, code=code, planId="basic-1month")   # family "basic" is not named
    assert (d["valid"], d["reason"]) == (False, "PLAN_NOT_APPLICABLE"), d


def test_the_seed_minimum_is_enforced(stack, ddb):  # noqa: F811
    code = store(ddb, seed_sample(applicablePlans=plans("basic", "standard", "full",
                                                        "premium")))
    d = validate(stack, code=code, planId="basic-1month")   # 49.00 < 100 dollars
    assert (d["valid"], d["reason"]) == (False, "MIN_PURCHASE_NOT_MET"), d
    d = validate(stack, code=code, planId="standard-3months")
    assert d["valid"] is True, d


def test_the_reported_case_half_off_is_capped(stack, ddb):  # noqa: F811
    """The report: a 50% coupon stored with maxDiscount 50 gave 99.50 off a 199.00 plan."""
    code = store(ddb, seed_sample(value={"N": "50"}))
    d = validate(stack, code=code, planId="full-6months")
    assert (d["valid"], d["discountCents"], d["finalAmountCents"]) == (True, 5000, 14900), d


def test_dollar_amounts_with_cents_are_exact(stack, ddb):  # noqa: F811
    code = store(ddb, seed_sample(type={"S": "fixed"}, value={"N": "12.5"},
                                  minPurchase={"N": "129"}, maxDiscount=None,
                                  applicablePlans=plans()))
    d = validate(stack, code=code, planId="standard-3months")   # 129.00: just the minimum
    assert (d["valid"], d["discountCents"], d["finalAmountCents"]) == (True, 1250, 11650), d
    d = validate(stack, code=code, amountCents=12899)
    assert (d["valid"], d["reason"]) == (False, "MIN_PURCHASE_NOT_MET"), d


def test_a_purchase_with_the_seed_sample(stack, ddb):  # noqa: F811
    code = store(ddb, seed_sample())
    r = buy(stack, planId="premium-12months", email="seed-%s@example.com" % code.lower(),
            code=code)
    d = assert_envelope(r, 201)["data"]
    assert (d["originalAmountCents"], d["discountCents"], d["finalAmountCents"]) == \
        (29900, 5000, 24900)
    assert usage_count(ddb, code) == 46


BAD = [
    ("three decimals", {"minPurchase": {"N": "100.005"}}, "minPurchase"),
    ("disagreeing formats", {"minPurchase": {"N": "100"}, "minPurchaseCents": {"N": "1000"}},
     "disagree"),
    ("unknown type", {"type": {"S": "percent"}}, "type"),
    ("fractional percent", {"value": {"N": "12.5"}}, "value"),
    ("not a family", {"applicablePlans": plans("standard", "team")}, "team"),
    ("bad date", {"validUntil": {"S": "end of year"}}, "validUntil"),
]


@pytest.mark.parametrize("what,changes,word", BAD, ids=[b[0] for b in BAD])
def test_a_misconfigured_record_is_refused_everywhere(stack, ddb, what, changes,  # noqa: F811
                                                      word):
    code = store(ddb, seed_sample(**changes))
    for plan in ("premium-12months", "full-6months", "premium-12months"):
        d = validate(stack, code=code, planId=plan)
        assert (d["valid"], d["reason"]) == (False, "MISCONFIGURED"), d
        assert d["message"] and d["code"] == code
    email = "bad-%s@example.com" % code.lower()
    r = buy(stack, planId="premium-12months", email=email, code=code)
    body = assert_envelope(r, 422, "UNPROCESSABLE")
    assert body["details"]["reason"] == "MISCONFIGURED", body
    assert usage_count(ddb, code) == 45          # no reservation was taken
    counter = ddb.get_item(TableName="prodenthub-coupon-usage",
                           Key={"usageId": {"S": "COUNTER#%s#%s" % (code, email)}},
                           ConsistentRead=True).get("Item")
    assert counter is None
    # Logged with the code and the reason, once per worker, not once per request.
    lines = [line for line in pool_log(stack).splitlines()
             if "coupon=%s misconfigured" % code in line]
    assert 1 <= len(lines) <= 2, lines            # the stack runs two workers
    assert word in lines[0], lines


def pool_log(stack):
    with open(os.path.join(stack.state, "logs", "pool.log"), errors="replace") as f:
        return f.read()


def test_coupon_check_lists_the_refused_records(stack, ddb):  # noqa: F811
    good = store(ddb, seed_sample())
    bad = store(ddb, seed_sample(maxDiscount={"N": "50.125"}))
    worse = store(ddb, seed_sample(minPurchase={"N": "100"}, minPurchaseCents={"N": "9999"}))
    unknown = store(ddb, seed_sample(applicablePlans=plans("full", "premium-12month")))
    env = dict(os.environ, AWS_ENDPOINT_URL_DYNAMODB=stack.ports["AWS_ENDPOINT_URL_DYNAMODB"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
               AWS_REGION="ap-southeast-2")
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "coupon-check"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    listed = {line.split("\t")[0]: line.split("\t")[1:] for line in r.stdout.splitlines()
              if "\t" in line}
    assert listed[bad][0] == "MISCONFIGURED" and "maxDiscount" in listed[bad][1], listed[bad]
    assert listed[worse][0] == "MISCONFIGURED" and "disagree" in listed[worse][1]
    assert listed[unknown][0] == "UNKNOWN_PLAN" and "premium-12month" in listed[unknown][1]
    assert good not in listed
    assert not [c for c in listed if c in ("SAVE20", "WELCOME10", "BIG30")], listed
    assert "refused as misconfigured" in r.stdout.splitlines()[-1]
