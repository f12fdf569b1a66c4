"""Tests of the Stripe stand-in's refunds and disputes (standin_payments.py): through the API
and the control, their events, and what a dispute forbids.  Run as conftest.py says."""

import time

import pytest
import stripe

from stripe_harness import E, new_session, verify


def test_refunds(standin, receiver):
    s = new_session()
    out = standin.control("POST", "sessions/%s/complete" % s.id)
    pi_id, ch_id = out["payment_intent"]["id"], out["charge"]["id"]
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Refund.create(payment_intent=pi_id, amount=20000)
    assert (ei.value.code, ei.value.param) == ("amount_too_large", "amount")
    r = stripe.Refund.create(payment_intent=pi_id, amount=5000, reason="requested_by_customer",
                             idempotency_key="refund-1")
    assert r.id.startswith("re_") and r.object == "refund"
    assert (r.amount, r.status, r.charge, r.payment_intent) == (5000, "succeeded", ch_id, pi_id)
    assert stripe.Refund.create(payment_intent=pi_id, amount=5000,
                                reason="requested_by_customer",
                                idempotency_key="refund-1").id == r.id
    ch = stripe.Charge.retrieve(ch_id)
    assert (ch.amount_refunded, ch.refunded) == (5000, False)
    ev = verify(receiver.wait("charge.refunded", ch_id)[0])
    obj = ev.data.object
    assert (obj.object, obj.payment_intent, obj.amount) == ("charge", pi_id, 19900)
    assert (obj.amount_refunded, obj.refunded) == (5000, False)      # partial: not refunded
    assert ev.data.previous_attributes.to_dict() == {"amount_refunded": 0, "refunded": False}
    assert ev["request"]["id"] == r.last_response.request_id    # ev.request is a method
    assert ev["request"]["idempotency_key"] == "refund-1"

    out = standin.control("POST", "charges/%s/refund" % ch_id)        # the rest
    assert out["event"]["type"] == "charge.refunded" and out["delivery"]["status"] == 200
    assert out["refund"]["amount"] == 14900 and out["charge"]["refunded"] is True
    full = [verify(r) for r in receiver.wait("charge.refunded", ch_id, count=2)]
    assert full[1].id == out["event"]["id"]
    obj = full[1].data.object
    assert (obj.payment_intent, obj.amount, obj.amount_refunded, obj.refunded) == (
        pi_id, 19900, 19900, True)
    assert full[1].data.previous_attributes.to_dict() == {"amount_refunded": 5000,
                                                          "refunded": False}
    standin.control("POST", "charges/%s/refund" % ch_id, expect=409)  # nothing left
    assert stripe.Charge.retrieve(ch_id).amount_refunded == 19900
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Refund.create(charge=ch_id)
    assert ei.value.code == "charge_already_refunded"
    refunds = stripe.Charge.retrieve(ch_id, expand=["refunds"]).refunds.data
    assert sorted(x.amount for x in refunds) == [5000, 14900]
    # a partial refund through the control
    s2 = new_session()
    pi2 = standin.control("POST", "sessions/%s/complete" % s2.id)["payment_intent"]["id"]
    out = standin.control("POST", "charges/%s/refund" % pi2, {"amount": 900})
    assert out["charge"]["amount_refunded"] == 900 and out["charge"]["refunded"] is False


def test_disputes(standin, receiver):
    s = new_session()
    out = standin.control("POST", "sessions/%s/complete" % s.id)
    pi_id, ch_id = out["payment_intent"]["id"], out["charge"]["id"]
    stripe.Refund.create(charge=ch_id, amount=900)
    receiver.clear()
    t0 = int(time.time())
    out = standin.control("POST", "charges/%s/dispute" % ch_id, {"metadata": {"k": "v"}})
    assert set(out) >= {"event", "events", "delivery", "deliveries", "dispute", "charge"}
    dp = out["dispute"]
    assert dp["id"].startswith("dp_") and dp["object"] == "dispute"
    assert (dp["amount"], dp["currency"], dp["charge"], dp["payment_intent"]) == (
        19000, "aud", ch_id, pi_id)                 # default: the amount not yet refunded
    assert (dp["reason"], dp["status"], dp["is_charge_refundable"]) == (
        "fraudulent", "needs_response", False)
    assert dp["livemode"] is False and dp["metadata"] == {"k": "v"}
    assert dp["balance_transactions"] == [] and abs(dp["created"] - t0) < 5
    ed = dp["evidence_details"]
    assert (ed["has_evidence"], ed["past_due"], ed["submission_count"]) == (False, False, 0)
    assert dp["created"] + 6 * 86400 < ed["due_by"] <= dp["created"] + 8 * 86400
    assert all(v is None for v in dp["evidence"].values())
    assert not any(k.startswith("_") for k in dp)
    assert out["charge"]["disputed"] is True and out["charge"]["id"] == ch_id
    assert [e["type"] for e in out["events"]] == ["charge.dispute.created"]
    assert out["event"]["data"]["object"] == dp
    assert out["delivery"]["status"] == 200 and len(out["deliveries"]) == 1

    # delivered, signed: the official library accepts it
    ev = verify(receiver.wait("charge.dispute.created", dp["id"])[0])
    assert ev.id == out["event"]["id"] and ev.type == "charge.dispute.created"
    assert ev.data.object.object == "dispute" and ev.data.object.to_dict_recursive() == dp
    assert ev.data.object.evidence_details.due_by == ed["due_by"]

    # the API
    got = stripe.Dispute.retrieve(dp["id"])
    assert isinstance(got, stripe.Dispute) and got.to_dict_recursive() == dp
    got = stripe.Dispute.retrieve(dp["id"], expand=["charge"])
    assert got.charge.id == ch_id and got.charge.disputed is True
    assert stripe.Charge.retrieve(ch_id).disputed is True
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Dispute.retrieve("dp_nope")
    assert (ei.value.http_status, ei.value.code) == (404, "resource_missing")
    status, _, _ = standin.request("GET", "/v1/disputes/" + dp["id"])
    assert status == 401                                   # the API needs the key
    assert stripe.Event.retrieve(ev.id).type == "charge.dispute.created"
    assert standin.control("GET", "stats")["disputes"] == 1

    # once only; a disputed charge cannot be refunded (unless is_charge_refundable)
    standin.control("POST", "charges/%s/dispute" % ch_id, expect=409)
    standin.control("POST", "charges/%s/dispute" % pi_id, expect=409)
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Refund.create(charge=ch_id)
    assert ei.value.code == "charge_disputed"
    standin.control("POST", "charges/%s/refund" % ch_id, expect=409)

    # by PaymentIntent id, another reason and amount, not delivered
    s2 = new_session()
    pi2 = standin.control("POST", "sessions/%s/complete" % s2.id)["payment_intent"]["id"]
    out = standin.control("POST", "charges/%s/dispute" % pi2,
                          {"reason": "product_not_received", "amount": 5000,
                           "is_charge_refundable": True, "deliver": False})
    assert out["delivery"] is None and out["deliveries"] == []
    assert (out["dispute"]["reason"], out["dispute"]["amount"]) == ("product_not_received", 5000)
    assert out["dispute"]["payment_intent"] == pi2
    assert stripe.Refund.create(payment_intent=pi2, amount=100).amount == 100   # refundable
    standin.control("POST", "charges/%s/dispute" % pi2, expect=409)

    # refused: unknown reason, bad amount, a charge that did not succeed, unknown ids
    s3 = new_session()
    ch3 = standin.control("POST", "sessions/%s/complete" % s3.id,
                          {"deliver": False})["charge"]["id"]
    standin.control("POST", "charges/%s/dispute" % ch3, {"reason": "bored"}, expect=400)
    standin.control("POST", "charges/%s/dispute" % ch3, {"amount": 0}, expect=400)
    standin.control("POST", "charges/%s/dispute" % ch3, {"amount": 19901}, expect=400)
    s4 = new_session()
    failed = standin.control("POST", "sessions/%s/fail" % s4.id, {"deliver": False})
    standin.control("POST", "charges/%s/dispute" % failed["charge"]["id"], expect=409)
    s5 = new_session()
    pending = standin.control("POST", "sessions/%s/complete" % s5.id,
                              {"async": True, "deliver": False})
    standin.control("POST", "charges/%s/dispute" % pending["charge"]["id"], expect=409)
    standin.control("POST", "charges/ch_nope/dispute", expect=404)
    standin.control("POST", "charges/pi_nope/dispute", expect=404)
    assert stripe.Charge.retrieve(ch3).disputed is False

    # funds withdrawn at once, then the bank decides: lost (no reinstatement), won (reinstated)
    out = standin.control("POST", "charges/%s/dispute" % ch3, {"withdraw": True})
    assert [e["type"] for e in out["events"]] == ["charge.dispute.created",
                                                  "charge.dispute.funds_withdrawn"]
    assert [d["status"] for d in out["deliveries"]] == [200, 200]
    dp3 = out["dispute"]
    assert dp3["balance_transactions"][0]["amount"] == -dp3["amount"]
    standin.control("POST", "disputes/%s/close" % dp3["id"], {"status": "maybe"}, expect=400)
    out = standin.control("POST", "disputes/%s/close" % dp3["id"], {"status": "lost"})
    assert [e["type"] for e in out["events"]] == ["charge.dispute.closed"]
    assert out["event"]["data"]["previous_attributes"] == {"status": "needs_response"}
    ev = verify(receiver.wait("charge.dispute.closed", dp3["id"])[0])
    assert ev.data.object.status == "lost" and stripe.Dispute.retrieve(dp3["id"]).status == "lost"
    standin.control("POST", "disputes/%s/close" % dp3["id"], {"status": "won"}, expect=409)
    standin.control("POST", "disputes/dp_nope/close", {"status": "won"}, expect=404)
    s6 = new_session()
    ch6 = standin.control("POST", "sessions/%s/complete" % s6.id,
                          {"deliver": False})["charge"]["id"]
    dp6 = standin.control("POST", "charges/%s/dispute" % ch6, {"withdraw": True})["dispute"]
    out = standin.control("POST", "disputes/%s/close" % dp6["id"], {"status": "won"})
    assert [e["type"] for e in out["events"]] == ["charge.dispute.closed",
                                                  "charge.dispute.funds_reinstated"]
    assert [t["amount"] for t in out["dispute"]["balance_transactions"]] == [
        -dp6["amount"], dp6["amount"]]
