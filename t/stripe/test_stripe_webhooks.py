"""Tests of the Stripe stand-in's events and signed webhooks (standin_events.py), checked with
the official library's verification: a paid checkout's events, deliveries late, twice, out of
order or refused, and the events of async and declined payments.  Run as conftest.py says."""

import json
import time

import pytest
import stripe

from stripe_harness import API_VERSION, E, WHSEC, new_session, verify


def test_complete_delivers_signed_webhooks(standin, receiver):
    s = new_session(customer_email="ana@example.com", allow_promotion_codes=True,
                    metadata={"campaignId": "c-1", "who": "Zoë Ñúñez"},
                    payment_intent_data={"metadata": {"campaignId": "c-1"}})
    assert s.allow_promotion_codes is True
    out = standin.control("POST", "sessions/%s/complete" % s.id)
    ev = out["event"]
    assert ev["type"] == "checkout.session.completed" and ev["id"].startswith("evt_")
    assert ev["object"] == "event" and ev["livemode"] is False
    assert ev["api_version"] == API_VERSION and ev["pending_webhooks"] == 1
    assert ev["data"]["object"]["id"] == s.id and ev["data"]["object"]["payment_status"] == "paid"
    assert out["delivery"]["status"] == 200
    assert [d["status"] for d in out["deliveries"]] == [200, 200]

    rec = receiver.wait("checkout.session.completed", s.id)[0]
    assert rec["headers"]["Content-Type"].startswith("application/json")
    assert rec["path"] == "/v1/webhook/stripe"
    event = verify(rec)                          # the official library accepts the signature
    assert event.type == "checkout.session.completed" and event.id == ev["id"]
    assert event.data.object.payment_status == "paid"
    assert event.data.object.metadata.campaignId == "c-1"
    assert event.data.object.metadata.who == "Zoë Ñúñez"       # signed as raw UTF-8 bytes
    assert "Zoë".encode() in rec["body"]
    with pytest.raises(E.SignatureVerificationError):
        verify(rec, "whsec_other")
    with pytest.raises(E.SignatureVerificationError):
        stripe.Webhook.construct_event(rec["body"] + b" ", rec["headers"]["Stripe-Signature"],
                                       WHSEC)

    pi_rec = receiver.wait("payment_intent.succeeded")[0]
    pi_event = verify(pi_rec)
    pi_id = pi_event.data.object.id
    assert pi_id.startswith("pi_") and pi_event.data.object.metadata.campaignId == "c-1"

    paid = stripe.checkout.Session.retrieve(s.id, expand=["payment_intent.latest_charge"])
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    assert paid.customer_details.email == "ana@example.com"
    assert paid.payment_intent.id == pi_id and paid.payment_intent.status == "succeeded"
    ch = paid.payment_intent.latest_charge
    assert ch.id.startswith("ch_") and (ch.amount, ch.amount_refunded, ch.paid) == (19900, 0, True)
    pi = stripe.PaymentIntent.retrieve(pi_id)
    assert pi.amount_received == 19900 and pi.latest_charge == ch.id
    assert stripe.Event.retrieve(ev["id"]).pending_webhooks == 0
    standin.control("POST", "sessions/%s/complete" % s.id, expect=409)


def test_deliver_later_twice_and_out_of_order(standin, receiver):
    s = new_session()
    out = standin.control("POST", "sessions/%s/complete" % s.id, {"deliver": False})
    assert out["delivery"] is None and receiver.records == []
    listed = standin.control("GET", "events")
    assert [e["type"] for e in listed["data"]] == ["payment_intent.succeeded",
                                                   "checkout.session.completed"]
    done, succeeded = out["events"]
    for eid in (succeeded["id"], done["id"], done["id"]):      # out of order, and twice
        d = standin.control("POST", "events/%s/deliver" % eid)["delivery"]
        assert d["status"] == 200
    got = receiver.wait("checkout.session.completed", s.id, count=2)
    assert got[0]["body"] == got[1]["body"]
    assert [verify(r).id for r in got] == [done["id"], done["id"]]
    assert json.loads(receiver.records[0]["body"])["type"] == "payment_intent.succeeded"

    # test mode also sends v0 signatures, and a rolled secret gives two v1 values
    receiver.clear()
    d = standin.control("POST", "events/%s/deliver" % done["id"],
                        {"extra_v0": True, "extra_v1": True})["delivery"]
    assert d["signature"].count("v1=") == 2 and ",v0=" in d["signature"]
    verify(receiver.wait("checkout.session.completed")[0])
    # a stale timestamp: the library's 300 s tolerance rejects it
    receiver.clear()
    standin.control("POST", "events/%s/deliver" % done["id"],
                    {"timestamp": int(time.time()) - 3600})
    with pytest.raises(E.SignatureVerificationError):
        verify(receiver.wait("checkout.session.completed")[0])
    # sign only: the test sends it itself
    signed = standin.control("POST", "events/%s/sign" % done["id"])
    assert stripe.Webhook.construct_event(signed["payload"], signed["header"], WHSEC).id == \
        done["id"]
    detail = standin.control("GET", "events/" + done["id"])
    assert detail["payload"] == signed["payload"] and len(detail["deliveries"]) == 4
    # the endpoint's failure is reported and counted
    receiver.status = 500
    d = standin.control("POST", "events/%s/deliver" % done["id"])["delivery"]
    assert d["status"] == 500
    assert standin.control("GET", "stats")["webhook_deliveries"]["failed"] == 1
    # an endpoint that is down
    d = standin.control("POST", "events/%s/deliver" % done["id"],
                        {"webhook_url": "http://127.0.0.1:1/x"})["delivery"]
    assert d["status"] is None and d["error"]


def test_async_payments(standin, receiver):
    s = new_session()
    out = standin.control("POST", "sessions/%s/complete" % s.id, {"async": True})
    assert [e["type"] for e in out["events"]] == ["checkout.session.completed",
                                                  "payment_intent.processing"]
    assert out["session"]["payment_status"] == "unpaid"
    assert out["payment_intent"]["status"] == "processing"
    out = standin.control("POST", "sessions/%s/async_payment_succeeded" % s.id)
    assert out["event"]["type"] == "checkout.session.async_payment_succeeded"
    assert verify(receiver.wait("checkout.session.async_payment_succeeded", s.id)[0])
    assert stripe.checkout.Session.retrieve(s.id).payment_status == "paid"

    s2 = new_session()
    pi = standin.control("POST", "sessions/%s/complete" % s2.id,
                         {"async": True})["payment_intent"]["id"]
    out = standin.control("POST", "payment_intents/%s/fail" % pi)
    assert [e["type"] for e in out["events"]] == ["checkout.session.async_payment_failed",
                                                  "payment_intent.payment_failed"]
    got = stripe.checkout.Session.retrieve(s2.id, expand=["payment_intent"])
    assert (got.status, got.payment_status) == ("complete", "unpaid")
    assert got.payment_intent.status == "requires_payment_method"
    assert got.payment_intent.last_payment_error.code


def test_declined_then_paid_and_control_expire(standin, receiver):
    s = new_session()
    out = standin.control("POST", "sessions/%s/fail" % s.id)
    assert out["event"]["type"] == "payment_intent.payment_failed"
    pi = out["payment_intent"]
    assert pi["status"] == "requires_payment_method"
    assert pi["last_payment_error"]["code"] == "card_declined"
    assert stripe.checkout.Session.retrieve(s.id).status == "open"
    out = standin.control("POST", "payment_intents/%s/fail" % pi["id"],
                          {"decline_code": "insufficient_funds"})
    assert out["payment_intent"]["last_payment_error"]["decline_code"] == "insufficient_funds"
    out = standin.control("POST", "sessions/%s/complete" % s.id)
    assert out["payment_intent"]["id"] == pi["id"]
    assert out["payment_intent"]["status"] == "succeeded"
    standin.control("POST", "payment_intents/%s/fail" % pi["id"], expect=409)

    s2 = new_session()
    out = standin.control("POST", "sessions/%s/expire" % s2.id)
    assert out["event"]["type"] == "checkout.session.expired"
    assert out["delivery"]["status"] == 200
    assert verify(receiver.wait("checkout.session.expired", s2.id)[0])
    standin.control("POST", "sessions/%s/complete" % s2.id, expect=409)
    standin.control("POST", "sessions/cs_test_nope/complete", expect=404)
