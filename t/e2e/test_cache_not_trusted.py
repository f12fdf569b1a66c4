"""What is charged and granted never comes from memcached (issue 12, item 2): a cache entry
anyone on the network could write, here a catalogue entry poisoned to charge 1 cent, changes
no price a create route charges (it may only change advisory answers)."""

import json
import time

import pytest

from stack import assert_envelope
from test_teams import team_body


@pytest.fixture(autouse=True)
def forget_poison(stack):
    yield
    for plan in ("full-6months", "basic-1month", "team-full-6months"):
        stack.memcached(b"delete ph:v2:plan:%s\r\n" % plan.encode())
    time.sleep(LOCAL_S)                 # and the workers' own copies of the poison are gone


# How long a worker keeps its own copy of a cached entry (CACHE_LOCAL_MS, docs/DATA.md).
LOCAL_S = 1.1


def poison(stack, plan, cents):
    doc = {"planId": plan, "name": "Poisoned", "amountCents": cents, "currency": "AUD",
           "durationMonths": 120, "campaignId": "discount-purchase", "pricing": "fixed"}
    val = json.dumps(doc).encode()
    key = ("ph:v2:plan:%s" % plan).encode()
    assert stack.memcached(b"set %s 0 600 %d\r\n%s\r\n" % (key, len(val), val)) \
        .startswith(b"STORED")
    time.sleep(LOCAL_S)                 # every worker reads memcached again


@pytest.mark.parametrize("plan,price", [("full-6months", 19900), ("basic-1month", 4900)])
def test_issue12_item2_a_poisoned_cache_sets_no_price(stack, plan, price):
    poison(stack, plan, 1)
    # The poison took: the advisory read serves it (so this test can tell).
    r = stack.get("/v1/plans/" + plan, source_ip=stack.new_ip())
    assert assert_envelope(r, 200)["data"]["amountCents"] == 1 and r.header("x-cache") == "hit"
    r = stack.post("/v1/purchases/create", body={"planId": plan, "email": "cache@example.com"},
                   source_ip=stack.new_ip())
    d = assert_envelope(r, 201)["data"]
    assert d["originalAmountCents"] == price and d["finalAmountCents"] == price, d


def test_issue12_item2_a_team_is_priced_from_dynamodb(stack):
    poison(stack, "team-full-6months", 2)
    r = stack.post("/v1/teams/create", body=team_body(2, "poison"), source_ip=stack.new_ip())
    d = assert_envelope(r, 201)["data"]
    assert d["totalCents"] == 29900 and sum(m["shareCents"] for m in d["members"]) == 29900
