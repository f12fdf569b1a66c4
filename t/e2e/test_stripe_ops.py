"""prodenthubctl stripe-sync and reconcile against the stack's Stripe stand-in and DynamoDB
Local: the catalogue's products and prices and the webhook endpoint made once and then left
alone, a new catalogue price made as a new Stripe price that takes the lookup key; a clean
period reconciled with no mismatch, then each kind of mismatch injected (a payment whose
webhook never came, a grant without a payment, an amount that differs, a refund not
recorded) and reported, exit 1.  The period starts with the test, so what other tests left in
the shared stack is not compared."""

import json
import os
import re
import subprocess
import time
import urllib.request

from stack import BUILDDIR
from test_fulfilment import buy, pay, stripe_ctl
from test_webhook import ddb  # noqa: F401 (a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))


def ctl(stack, *args, env=None):
    e = dict(stack.env, **stack.ports)
    e.update(env or {})
    return subprocess.run([os.path.join(BUILDDIR, "prodenthubctl")] + list(args), env=e,
                          capture_output=True, text=True, timeout=120)


def stripe_get(stack, path):
    req = urllib.request.Request(stack.ports["STRIPE_API_BASE"] + path, headers={
        "Authorization": "Bearer " + stack.ports["STRIPE_SECRET_KEY"]})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def our_events():
    """The events of lib/stripe_webhook.h's one list."""
    with open(os.path.join(HERE, "..", "..", "lib", "stripe_webhook.h")) as f:
        text = f.read()
    return re.findall(r'X\("([a-z_.]+)",', text)


def lines(out, kind):
    return {f[1]: f for f in (line.split("\t") for line in out.splitlines())
            if f[0] == kind}


def catalogue(ddb):  # noqa: F811
    return ddb.scan(TableName="prodenthub-catalogue", ConsistentRead=True)["Items"]


def test_stripe_sync_once_then_unchanged_and_a_new_price_moves_the_lookup_key(stack, ddb):  # noqa: F811,E501
    url = "https://hooks.example.test/v1/webhook/stripe"
    probe = {"planId": {"S": "ops-sync-probe"}, "name": {"S": "Sync probe"},
             "amountCents": {"N": "1234"}, "currency": {"S": "AUD"},
             "campaignId": {"S": "none"}, "pricing": {"S": "fixed"},
             "status": {"S": "retired"}}
    ddb.put_item(TableName="prodenthub-catalogue", Item=probe)
    try:
        plans = {i["planId"]["S"]: i for i in catalogue(ddb)}
        first = ctl(stack, "stripe-sync", "--webhook-url", url)
        assert first.returncode == 0, first.stdout + first.stderr
        products, prices = lines(first.stdout, "product"), lines(first.stdout, "price")
        assert set(products) == set(plans) == set(prices), first.stdout
        assert all(p[3] == "created" for p in products.values()), first.stdout
        for plan, item in plans.items():
            assert prices[plan][3] == item["amountCents"]["N"] and prices[plan][4] == "aud"
        hook = lines(first.stdout, "webhook")[url]
        assert hook[3] == "created"
        settings = dict(line.split("=", 1) for line in first.stdout.splitlines()
                        if re.match(r"^[A-Z_0-9]+=", line))
        assert settings["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
        assert settings["STRIPE_TEAM_PRODUCT_ID"] == products["team-full-6months"][2]
        assert settings["STRIPE_CLUSTER4_PRODUCT_ID"] == products["cluster-4"][2]
        assert first.stderr.count("whsec_") == 0
        # what Stripe holds
        held = {p["metadata"]["prodenthub_id"]: p
                for p in stripe_get(stack, "/v1/products?limit=100")["data"]}
        assert held["ops-sync-probe"]["active"] is False and held["basic-1month"]["active"]
        ep = [e for e in stripe_get(stack, "/v1/webhook_endpoints")["data"] if e["url"] == url]
        assert len(ep) == 1 and sorted(ep[0]["enabled_events"]) == sorted(our_events())
        assert len(our_events()) >= 16 and "secret" not in ep[0]
        basic = stripe_get(stack, "/v1/prices?lookup_keys[]=basic-1month")["data"]
        assert [(p["unit_amount"], p["type"], p["product"]) for p in basic] == [
            (4900, "one_time", products["basic-1month"][2])]

        second = ctl(stack, "stripe-sync", "--webhook-url", url)
        assert second.returncode == 0, second.stderr
        assert "stripe-sync: 0 created, 0 updated, %d unchanged, 0 failed" % (
            2 * len(plans) + 1) in second.stdout, second.stdout
        assert "STRIPE_WEBHOOK_SECRET=" not in second.stdout
        assert len(stripe_get(stack, "/v1/products?limit=100")["data"]) == len(plans)

        old = prices["ops-sync-probe"][2]
        ddb.update_item(TableName="prodenthub-catalogue",
                        Key={"planId": {"S": "ops-sync-probe"}},
                        UpdateExpression="SET amountCents = :a",
                        ExpressionAttributeValues={":a": {"N": "2345"}})
        third = ctl(stack, "stripe-sync", "--webhook-url", url)
        assert third.returncode == 0, third.stderr
        new = lines(third.stdout, "price")["ops-sync-probe"]
        assert new[3:] == ["2345", "aud", "replaced"] and new[2] != old
        assert "1 created, 0 updated" in third.stdout
        now = stripe_get(stack, "/v1/prices?lookup_keys[]=ops-sync-probe")["data"]
        assert [p["id"] for p in now] == [new[2]]
        was = stripe_get(stack, "/v1/prices/" + old)
        assert was["active"] is False and was["lookup_key"] is None
    finally:
        ddb.delete_item(TableName="prodenthub-catalogue",
                        Key={"planId": {"S": "ops-sync-probe"}})


def reconcile(stack, since, *more):
    r = ctl(stack, "reconcile", "--since", str(since), *more)
    kinds = [line.split("\t")[1] for line in r.stdout.splitlines()
             if line.startswith("MISMATCH\t")]
    return r, kinds


def test_reconcile_clean_then_every_injected_mismatch_is_reported(stack, ddb):  # noqa: F811
    since = int(time.time()) + 1
    time.sleep(1.1)
    d = buy(stack, "recon-clean@example.com")
    paid = pay(stack, d)
    pi = paid["payment_intent"]["id"]
    r, kinds = reconcile(stack, since)
    assert r.returncode == 0 and kinds == [], r.stdout + r.stderr
    assert r.stdout.splitlines()[-1].endswith("; 0 mismatches"), r.stdout
    js = ctl(stack, "reconcile", "--since", str(since), "--json")
    assert js.returncode == 0 and json.loads(js.stdout)["count"] == 0, js.stdout

    # 1. paid in Stripe, the webhook never delivered: no record, no grant
    lost = buy(stack, "recon-lost@example.com")
    stripe_ctl(stack, "sessions/%s/complete" % lost["sessionId"], {"deliver": False})
    r, kinds = reconcile(stack, since)
    assert r.returncode == 1 and kinds == ["paid_not_recorded"], r.stdout + r.stderr

    # 2. a grant whose payment does not exist
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ddb.put_item(TableName="prodenthub-access-grants", Item={
        "email": {"S": "recon-free@example.com"}, "grantId": {"S": "pur_recon_nothing"},
        "productId": {"S": "full-6months"}, "source": {"S": "discount-purchase"},
        "status": {"S": "active"}, "validFrom": {"S": ts}, "validUntil": {"S": ts}})
    r, kinds = reconcile(stack, since)
    assert r.returncode == 1 and sorted(kinds) == ["grant_without_payment",
                                                   "paid_not_recorded"], r.stdout

    # 3. the amount we recorded is not what Stripe received
    ddb.update_item(TableName="prodenthub-payments", Key={"paymentIntentId": {"S": pi}},
                    UpdateExpression="SET amountCents = :a",
                    ExpressionAttributeValues={":a": {"N": "1"}})
    r, kinds = reconcile(stack, since)
    assert r.returncode == 1 and "amount_differs" in kinds, r.stdout
    line = [x for x in r.stdout.splitlines() if "\tamount_differs\t" in x][0]
    assert pi in line and "ours 1 " in line, line

    # 4. a refund made in Stripe that we never heard of
    stripe_ctl(stack, "charges/%s/refund" % pi, {"amount": 500, "deliver": False})
    r, kinds = reconcile(stack, since)
    assert r.returncode == 1 and sorted(kinds) == sorted([
        "paid_not_recorded", "grant_without_payment", "amount_differs", "refund_differs"]), \
        r.stdout
    out = json.loads(ctl(stack, "reconcile", "--since", str(since), "--json").stdout)
    assert out["count"] == 4 and {m["kind"] for m in out["mismatches"]} == set(kinds)
    refund = [m for m in out["mismatches"] if m["kind"] == "refund_differs"][0]
    assert refund["paymentIntent"] == pi
    assert refund["detail"] == "refunded in Stripe 500, recorded 0"


def test_reconcile_usage_and_unreadable_stripe(stack):
    assert ctl(stack, "reconcile", "--since", "yesterday").returncode == 2
    assert ctl(stack, "reconcile", "--since", "1h", "--until", "2h").returncode == 2
    r = ctl(stack, "reconcile", "--since", "1h",
            env={"STRIPE_API_BASE": "http://127.0.0.1:9", "STRIPE_MAX_ATTEMPTS": "1"})
    assert r.returncode == 3 and "nothing compared" in r.stderr, r.stderr
    assert "sk_test" not in r.stderr
