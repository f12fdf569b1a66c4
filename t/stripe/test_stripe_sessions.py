"""Tests of the Stripe stand-in's Checkout Sessions in payment mode (standin_checkout.py):
create, read, list, line items, expire, unknown ids and Stripe's validation of each parameter.
Run as conftest.py says."""

import time

import pytest
import stripe

from stripe_harness import API_VERSION, E, line_items, new_session, verify


def test_create_retrieve_expire(standin, receiver):
    exp = int(time.time()) + 3600
    s = new_session(line_items=line_items((19900, 1), (4900, 2)), client_reference_id="ref-1",
                    customer_email="ana@example.com", expires_at=exp,
                    payment_intent_data={"metadata": {"campaignId": "c-1", "planId": "p"}},
                    idempotency_key="create-1")
    assert s.id.startswith("cs_test_") and s.object == "checkout.session"
    assert s.url == "%s/pay/%s" % (standin.base, s.id)
    assert (s.amount_total, s.amount_subtotal, s.currency) == (29700, 29700, "aud")
    assert (s.status, s.payment_status, s.mode) == ("open", "unpaid", "payment")
    assert s.payment_intent is None and s.livemode is False
    assert s.client_reference_id == "ref-1" and s.customer_email == "ana@example.com"
    assert s.metadata.to_dict() == {"campaignId": "c-1"}
    assert s.expires_at == exp and abs(s.created - time.time()) < 5
    h = s.last_response.headers
    assert h["Request-Id"].startswith("req_") and h["Stripe-Version"] == API_VERSION
    assert h["Idempotency-Key"] == "create-1"

    got = stripe.checkout.Session.retrieve(s.id)
    assert got.to_dict_recursive() == s.to_dict_recursive()
    got = stripe.checkout.Session.retrieve(s.id, expand=["payment_intent", "line_items"])
    assert got.payment_intent is None
    items = got.line_items.data
    assert [(i.price.unit_amount, i.quantity, i.amount_total) for i in items] == [
        (19900, 1, 19900), (4900, 2, 9800)]
    assert items[1].description == "Plan 4900" and items[0].object == "item"
    assert len(stripe.checkout.Session.list_line_items(s.id).data) == 2
    listed = stripe.checkout.Session.list(limit=5)
    assert [x.id for x in listed.data] == [s.id]

    other = new_session()
    expired = stripe.checkout.Session.expire(other.id)
    assert expired.id == other.id and expired.status == "expired" and expired.url is None
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.checkout.Session.expire(other.id)
    assert ei.value.http_status == 400 and 'status in ["open"]' in ei.value.user_message
    # the expiry is announced to the webhook (in the background, as Stripe does)
    rec = receiver.wait("checkout.session.expired", other.id)[0]
    assert verify(rec).data.object.status == "expired"
    assert stripe.checkout.Session.retrieve(s.id).status == "open"


def test_unknown_ids(standin):
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.checkout.Session.retrieve("cs_test_nope")
    assert (ei.value.http_status, ei.value.code, ei.value.param) == (404, "resource_missing",
                                                                    "id")
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.PaymentIntent.retrieve("pi_nope")
    assert "No such payment_intent: 'pi_nope'" in ei.value.user_message
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Refund.create(payment_intent="pi_nope")
    assert (ei.value.code, ei.value.param) == ("resource_missing", "payment_intent")


@pytest.mark.parametrize("change, param, code", [
    ({"line_items": [{"price_data": {"currency": "aud", "unit_amount": "abc",
                                     "product_data": {"name": "x"}}, "quantity": 1}]},
     "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
    ({"line_items": line_items((-5, 1))},
     "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
    ({"line_items": line_items((1990, 0))}, "line_items[0][quantity]",
     "parameter_invalid_integer"),
    ({"line_items": [{"price_data": {"currency": "dollars", "unit_amount": 100,
                                     "product_data": {"name": "x"}}, "quantity": 1}]},
     "line_items[0][price_data][currency]", None),
    ({"line_items": [{"price_data": {"currency": "aud", "unit_amount": 100},
                      "quantity": 1}]},
     "line_items[0][price_data][product_data]", "parameter_missing"),
    ({"line_items": [{"price": "price_nope", "quantity": 1}]}, "line_items[0][price]",
     "resource_missing"),
    ({"success_url": None}, "success_url", "parameter_missing"),
    ({"cancel_url": "not a url"}, "cancel_url", "url_invalid"),
    ({"mode": None}, "mode", "parameter_missing"),
    ({"customer_email": "nobody"}, "customer_email", "email_invalid"),
    ({"colour": "red"}, "colour", "parameter_unknown"),
    ({"line_items": [{"price_data": {"currency": "aud", "unit_amount": 100, "foo": 1,
                                     "product_data": {"name": "x"}}, "quantity": 1}]},
     "line_items[0][price_data][foo]", "parameter_unknown"),
    ({"expires_at": "soon"}, "expires_at", "parameter_invalid_integer"),
    ({"expires_at": -60}, "expires_at", None),          # relative: now - 60 s
    ({"expires_at": 25 * 3600}, "expires_at", None),
    ({"metadata": {"k%d" % i: "v" for i in range(51)}}, "metadata", None),
    ({"metadata": {"k": "v" * 501}}, "metadata[k]", None),
    ({"payment_intent_data": {"metadata": {"k": "v" * 501}}},
     "payment_intent_data[metadata][k]", None),
    ({"expand": ["nope"]}, "expand[0]", None),
])
def test_validation(standin, change, param, code):
    change = dict(change)
    if isinstance(change.get("expires_at"), int):
        change["expires_at"] += int(time.time())
    with pytest.raises(E.InvalidRequestError) as ei:
        new_session(**change)
    assert ei.value.http_status == 400
    assert ei.value.param == param, ei.value.json_body
    assert ei.value.code == code, ei.value.json_body
    assert ei.value.json_body["error"]["type"] == "invalid_request_error"
