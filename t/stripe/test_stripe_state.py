"""Tests of the Stripe stand-in's own state (standin_store.py): prices added by the control, the
counters and reset, and the state file across restarts.  Run as conftest.py says."""

import json

import pytest
import stripe

from stripe_harness import E, StandIn, new_session


def test_prices_and_stats(standin):
    price = standin.control("POST", "prices", {"id": "price_basic", "unit_amount": 4900,
                                               "currency": "aud",
                                               "product_name": "Basic - 1 Month"})
    assert stripe.Price.retrieve("price_basic").unit_amount == 4900
    s = new_session(line_items=[{"price": price["id"], "quantity": 3}])
    assert s.amount_total == 14700
    stripe.checkout.Session.retrieve(s.id)
    stripe.checkout.Session.retrieve(s.id)
    stats = standin.control("GET", "stats")
    assert stats["api_calls"]["GET /v1/checkout/sessions/{id}"] == 2
    assert stats["api_calls"]["POST /v1/checkout/sessions"] == 1
    assert stats["responses"]["200"] == 4 and stats["sessions"] == {"open": 1}
    listed = standin.control("GET", "sessions")
    assert listed["data"][0]["line_items"]["data"][0]["description"] == "Basic - 1 Month"
    standin.control("POST", "reset")
    stats = standin.control("GET", "stats")
    assert stats["api_calls"] == {} and stats["sessions"] == {}


def test_state_file_survives_restart(tmp_path, receiver, monkeypatch):
    state = str(tmp_path / "state.json")
    first = StandIn(tmp_path, "--state-file", state, "--webhook-url", receiver.url,
                    name="first")
    try:
        monkeypatch.setattr(stripe, "api_base", first.base)
        s = new_session(idempotency_key="persist-1")
        ch_id = first.control("POST", "sessions/%s/complete" % s.id,
                              {"deliver": False})["charge"]["id"]
        dp = first.control("POST", "charges/%s/dispute" % ch_id, {"deliver": False})["dispute"]
    finally:
        first.stop()
    second = StandIn(tmp_path, "--state-file", state, name="second")
    try:
        monkeypatch.setattr(stripe, "api_base", second.base)
        got = stripe.checkout.Session.retrieve(s.id)
        assert (got.status, got.payment_status) == ("complete", "paid")
        again = new_session(idempotency_key="persist-1")
        assert again.id == s.id and again.last_response.headers["Idempotent-Replayed"] == "true"
        assert stripe.Dispute.retrieve(dp["id"]).to_dict_recursive() == dp
        assert stripe.Charge.retrieve(ch_id).disputed is True
        second.control("POST", "charges/%s/dispute" % ch_id, expect=409)
        events = second.control("GET", "events")["data"]
        assert {e["type"] for e in events} == {"checkout.session.completed",
                                               "payment_intent.succeeded",
                                               "charge.dispute.created"}
        d = second.control("POST", "events/%s/deliver" % events[-1]["id"],
                           {"webhook_url": receiver.url})["delivery"]
        assert d["status"] == 200
        second.control("POST", "reset")                 # forgets disputes too, in the file
    finally:
        second.stop()
    with open(state) as f:
        assert json.load(f)["disputes"] == {}
    third = StandIn(tmp_path, "--state-file", state, name="third")
    try:
        monkeypatch.setattr(stripe, "api_base", third.base)
        with pytest.raises(E.InvalidRequestError) as ei:
            stripe.Dispute.retrieve(dp["id"])
        assert ei.value.http_status == 404
    finally:
        third.stop()
