"""Tests of the stand-in's operator objects (standin_catalog.py) through the official
library: products, prices with lookup keys, webhook endpoints (the secret once), and the
lists of PaymentIntents and Refunds by creation time with pagination.  Run as conftest.py
says."""

import time

import pytest
import stripe

from stripe_harness import new_session


def test_products_create_update_list(standin):
    p = stripe.Product.create(name="Basic", metadata={"prodenthub_id": "basic-1month"})
    assert p.id.startswith("prod_") and p.active
    assert p.metadata["prodenthub_id"] == "basic-1month"
    stripe.Product.modify(p.id, name="Basic - 1 Month", active=False)
    got = stripe.Product.retrieve(p.id)
    assert (got.name, got.active) == ("Basic - 1 Month", False)
    own = stripe.Product.create(id="ph_team", name="Team")
    assert own.id == "ph_team"
    with pytest.raises(stripe.error.InvalidRequestError):
        stripe.Product.create(id="ph_team", name="Team again")
    listed = stripe.Product.list(limit=1)
    assert len(listed.data) == 1 and listed.has_more
    assert {x.id for x in stripe.Product.list(limit=100).auto_paging_iter()} == {p.id, own.id}
    assert [x.id for x in stripe.Product.list(active=False).data] == [p.id]


def test_price_lookup_key_moves_only_when_asked(standin):
    prod = stripe.Product.create(name="Basic")
    a = stripe.Price.create(product=prod.id, unit_amount=4900, currency="aud",
                            lookup_key="basic-1month")
    assert (a.type, a.unit_amount, a.lookup_key) == ("one_time", 4900, "basic-1month")
    with pytest.raises(stripe.error.InvalidRequestError) as e:
        stripe.Price.create(product=prod.id, unit_amount=5900, currency="aud",
                            lookup_key="basic-1month")
    assert e.value.param == "lookup_key"
    b = stripe.Price.create(product=prod.id, unit_amount=5900, currency="aud",
                            lookup_key="basic-1month", transfer_lookup_key=True)
    stripe.Price.modify(a.id, active=False)
    found = stripe.Price.list(lookup_keys=["basic-1month"]).data
    assert [x.id for x in found] == [b.id]
    old = stripe.Price.retrieve(a.id)
    assert (old.lookup_key, old.active) == (None, False)
    with pytest.raises(stripe.error.InvalidRequestError):
        stripe.Price.create(product="prod_nope", unit_amount=1, currency="aud")


def test_webhook_endpoint_secret_only_on_create(standin):
    ep = stripe.WebhookEndpoint.create(url="https://api.example.com/v1/webhook/stripe",
                                       enabled_events=["charge.refunded"])
    assert ep.secret.startswith("whsec_") and ep.status == "enabled"
    listed = stripe.WebhookEndpoint.list().data
    assert [x.id for x in listed] == [ep.id] and "secret" not in listed[0]
    stripe.WebhookEndpoint.modify(ep.id, enabled_events=["charge.refunded", "invoice.paid"])
    got = stripe.WebhookEndpoint.retrieve(ep.id)
    assert got.enabled_events == ["charge.refunded", "invoice.paid"] and "secret" not in got


def test_payment_intents_and_refunds_listed_by_time(standin):
    start = int(time.time())
    pis = []
    for _ in range(3):
        s = new_session()
        pis.append(standin.control("POST", "sessions/%s/complete" % s.id,
                                   {"deliver": False})["payment_intent"]["id"])
    r = standin.control("POST", "charges/%s/refund" % pis[0], {"amount": 100,
                                                               "deliver": False})
    page = stripe.PaymentIntent.list(limit=2, created={"gte": start})
    assert len(page.data) == 2 and page.has_more
    rest = stripe.PaymentIntent.list(limit=2, created={"gte": start},
                                     starting_after=page.data[-1].id)
    assert {x.id for x in page.data + rest.data} == set(pis) and not rest.has_more
    assert stripe.PaymentIntent.list(created={"lt": start}).data == []
    refunds = stripe.Refund.list(payment_intent=pis[0]).data
    assert [x.id for x in refunds] == [r["refund"]["id"]] and refunds[0].amount == 100
    assert stripe.Refund.list(payment_intent=pis[1]).data == []
