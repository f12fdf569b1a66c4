"""Tests of stripe_standin.py, with the official Stripe Python library as the client and as the
independent verifier of webhook signatures.

    cd t/stripe && /usr/bin/python3 -m pytest -q -p no:cacheprovider test_stripe_standin.py

The stand-in runs as a subprocess on a free port; a small webhook receiver (http.server in a
thread) records what it is sent.  Every server is stopped at the end (SIGTERM, exit 0).
"""

import base64
import concurrent.futures
import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import stripe

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "stripe_standin.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
KEY = "sk_test_local"
WHSEC = "whsec_local"
API_VERSION = "2024-06-20"

# The exceptions live in stripe.error up to stripe-python 7 (Debian's python3-stripe is 5.0.0)
# and in stripe._error from 8 on (stripe.error is then a deprecated alias).
E = stripe._error if hasattr(stripe, "_error") else stripe.error
_http_client = getattr(stripe, "_http_client", None) or stripe.http_client


# --- helpers -------------------------------------------------------------------------------

class Receiver:
    """A webhook endpoint: records (headers, raw body); answers self.status."""

    def __init__(self):
        self.records = []
        self.cond = threading.Condition()
        self.status = 200
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with rec.cond:
                    rec.records.append({"path": self.path, "headers": dict(self.headers),
                                        "body": body})
                    rec.cond.notify_all()
                out = json.dumps({"received": True}).encode()
                self.send_response(rec.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v1/webhook/stripe" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def clear(self):
        with self.cond:
            self.records = []
            self.status = 200

    def matching(self, type_=None, obj_id=None):
        out = []
        for r in self.records:
            ev = json.loads(r["body"])
            if type_ and ev["type"] != type_:
                continue
            if obj_id and ev["data"]["object"]["id"] != obj_id:
                continue
            out.append(r)
        return out

    def wait(self, type_=None, obj_id=None, count=1, timeout=5.0):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                got = self.matching(type_, obj_id)
                if len(got) >= count:
                    return got
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s webhook for %s (got %s)" % (
                        type_, obj_id, [json.loads(r["body"])["type"] for r in self.records]))
                self.cond.wait(left)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class StandIn:
    def __init__(self, tmp_path, *extra, name="standin"):
        self.port_file = str(tmp_path / ("%s.port" % name))
        self.log = open(str(tmp_path / ("%s.log" % name)), "w")
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--listen", "0", "--port-file", self.port_file] + list(extra),
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), "stand-in did not start: %r" % line
        self.port = int(line)
        with open(self.port_file) as f:
            assert int(f.read()) == self.port
        self.base = "http://127.0.0.1:%d" % self.port

    def request(self, method, path, body=None, headers=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = raw if raw is not None else (
                json.dumps(body).encode() if body is not None else None)
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            text = resp.read()
            return resp.status, dict(resp.getheaders()), text
        finally:
            conn.close()

    def control(self, method, path, body=None, expect=200):
        status, _, text = self.request(method, "/__stripe/" + path.lstrip("/"),
                                       body if body is not None or method == "GET" else {})
        assert status == expect, (status, text)
        return json.loads(text)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.log.close()
        assert rc == 0, "stand-in exited %s" % rc
        assert not os.path.exists(self.port_file)
        return rc


def line_items(*amounts):
    return [{"price_data": {"currency": "aud", "unit_amount": a,
                            "product_data": {"name": "Plan %d" % a}},
             "quantity": q} for a, q in amounts]


def new_session(**kw):
    params = dict(mode="payment", line_items=line_items((19900, 1)),
                  success_url="https://app.test/ok?session={CHECKOUT_SESSION_ID}",
                  cancel_url="https://app.test/cancel", metadata={"campaignId": "c-1"})
    params.update(kw)
    return stripe.checkout.Session.create(**params)


def verify(record, secret=WHSEC):
    """The independent check: the official library's webhook verification."""
    return stripe.Webhook.construct_event(record["body"], record["headers"]["Stripe-Signature"],
                                          secret)


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def standin(tmp_path_factory, receiver):
    tmp = tmp_path_factory.mktemp("stripe")
    s = StandIn(tmp, "--webhook-url", receiver.url, "--secret-key", KEY,
                "--webhook-secret", WHSEC)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(autouse=True)
def fresh(request, monkeypatch):
    """Each test: a reset stand-in, an empty receiver and the library pointed at the stand-in
    without retries (tests that want them set them)."""
    if "standin" in request.fixturenames:
        s = request.getfixturevalue("standin")
        s.control("POST", "reset")
        request.getfixturevalue("receiver").clear()
        monkeypatch.setattr(stripe, "api_base", s.base)
    monkeypatch.setattr(stripe, "api_key", KEY)
    monkeypatch.setattr(stripe, "api_version", API_VERSION)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    # the library sleeps >= 0.5 s between retries; keep the suite fast
    monkeypatch.setattr(_http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(_http_client.HTTPClient, "MAX_DELAY", 0.02)
    yield


# --- tests ---------------------------------------------------------------------------------

def test_library_version():
    import stripe.version
    assert stripe.version.VERSION.split(".")[0].isdigit()
    assert issubclass(E.IdempotencyError, E.StripeError)


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


def test_auth(standin):
    s = new_session()
    with pytest.raises(E.AuthenticationError) as ei:
        stripe.checkout.Session.retrieve(s.id, api_key="sk_test_wrongkey1234")
    assert ei.value.http_status == 401
    assert ei.value.user_message == "Invalid API Key provided: sk_test_********1234"
    status, headers, body = standin.request("GET", "/v1/checkout/sessions/" + s.id)
    assert status == 401 and "did not provide an API key" in json.loads(body)["error"]["message"]
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    basic = base64.b64encode(("%s:" % KEY).encode()).decode()
    status, _, body = standin.request("GET", "/v1/checkout/sessions/" + s.id,
                                      headers={"Authorization": "Basic " + basic})
    assert status == 200 and json.loads(body)["id"] == s.id
    assert standin.control("GET", "stats")["auth_failures"] == 2


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


def test_idempotency(standin):
    a = new_session(idempotency_key="k-1")
    b = new_session(idempotency_key="k-1")
    assert b.to_dict_recursive() == a.to_dict_recursive()
    assert b.last_response.headers["Idempotent-Replayed"] == "true"
    assert b.last_response.headers["Original-Request"] == a.last_response.request_id
    assert b.last_response.request_id != a.last_response.request_id
    assert "Idempotent-Replayed" not in a.last_response.headers
    with pytest.raises(E.IdempotencyError) as ei:
        new_session(idempotency_key="k-1", client_reference_id="different")
    assert ei.value.http_status == 400
    assert "same parameters" in ei.value.user_message
    with pytest.raises(E.IdempotencyError):
        stripe.checkout.Session.expire(a.id, idempotency_key="k-1")
    # a request that failed validation leaves no result behind: the key can be used again
    with pytest.raises(E.InvalidRequestError):
        new_session(idempotency_key="k-2", success_url="nope")
    c = new_session(idempotency_key="k-2")
    assert c.id != a.id and "Idempotent-Replayed" not in c.last_response.headers
    # a state error after the endpoint ran is replayed like a success
    stripe.checkout.Session.expire(c.id)
    for _ in range(2):
        with pytest.raises(E.InvalidRequestError):
            stripe.checkout.Session.expire(c.id, idempotency_key="k-3")
    stats = standin.control("GET", "stats")
    assert stats["idempotent_replays"] == 2 and stats["idempotency_errors"] == 2
    assert stats["sessions"] == {"open": 1, "expired": 1}

    # a retry while the first request is still running: 409, and the first one still wins
    standin.control("POST", "fail", {"count": 1, "delay": 0.4, "after": True,
                                     "path_prefix": "/v1/checkout/sessions"})
    first = {}
    t = threading.Thread(target=lambda: first.update(s=new_session(idempotency_key="slow")))
    t.start()
    time.sleep(0.15)
    with pytest.raises(E.APIError) as ei:
        new_session(idempotency_key="slow")
    assert ei.value.http_status == 409
    assert ei.value.json_body["error"]["type"] == "idempotency_error"      # 409: an APIError,
    assert ei.value.json_body["error"]["code"] == "idempotency_key_in_use"  # .code unset
    t.join()
    again = new_session(idempotency_key="slow")
    assert again.id == first["s"].id and again.last_response.headers["Idempotent-Replayed"]


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


def test_faults_and_library_retries(standin):
    calls = lambda: standin.control("GET", "stats")["api_calls"].get(
        "POST /v1/checkout/sessions", 0)
    standin.control("POST", "fail", {"count": 2, "status": 500, "type": "api_error",
                                     "message": "boom", "path_prefix": "/v1/checkout/sessions"})
    for _ in range(2):
        with pytest.raises(E.APIError) as ei:
            new_session()
        assert ei.value.http_status == 500 and ei.value.user_message == "boom"
        assert ei.value.headers["Stripe-Should-Retry"] == "true"
    new_session()
    assert calls() == 3

    # the library retries (same Idempotency-Key) because of Stripe-Should-Retry: true
    stripe.max_network_retries = 2
    standin.control("POST", "fail", {"count": 2, "status": 500})
    s = new_session()
    assert calls() == 6 and s.status == "open"
    # ... but not when told not to
    standin.control("POST", "fail", {"count": 1, "status": 503, "should_retry": False})
    with pytest.raises(E.APIError):
        new_session()
    assert calls() == 7
    # a dropped connection: retried too
    standin.control("POST", "fail", {"count": 1, "drop": True})
    new_session()
    assert calls() == 9
    # the answer is lost after the session was created: the retry is an idempotent replay
    standin.control("POST", "fail", {"count": 1, "drop": True, "after": True})
    s = new_session()
    assert s.last_response.headers["Idempotent-Replayed"] == "true"
    stats = standin.control("GET", "stats")
    assert stats["sessions"] == {"open": 4} and stats["faults_pending"] == []

    stripe.max_network_retries = 0
    standin.control("POST", "fail", {"count": 1, "drop": True})
    with pytest.raises(E.APIConnectionError):
        new_session()
    standin.control("POST", "fail", {"count": 1, "status": 429})
    with pytest.raises(E.RateLimitError) as ei:
        stripe.checkout.Session.list()
    assert ei.value.json_body["error"]["type"] == "rate_limit_error"
    # path_prefix: other calls are not hit
    standin.control("POST", "fail", {"count": 1, "status": 500, "path_prefix": "/v1/refunds"})
    stripe.checkout.Session.list()
    assert len(standin.control("GET", "stats")["faults_pending"]) == 1


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


def test_wire_format(standin):
    """Raw HTTP: bracket notation with expand[], keep-alive, headers, non-form bodies."""
    form = ("mode=payment&line_items[0][price_data][currency]=AUD"
            "&line_items[0][price_data][unit_amount]=19900"
            "&line_items[0][price_data][product_data][name]=Full%20-%206%20Months"
            "&line_items[0][quantity]=1&line_items[1][price_data][currency]=aud"
            "&line_items[1][price_data][unit_amount_decimal]=4900&line_items[1][quantity]=1"
            "&line_items[1][price_data][product][foo]=x"
            "&success_url=https%3A%2F%2Fapp.test%2Fok&cancel_url=https%3A%2F%2Fapp.test%2Fno"
            "&metadata[campaignId]=camp%201&metadata[empty]=&expand[]=line_items")
    conn = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=5)
    hdr = {"Authorization": "Bearer " + KEY,
           "Content-Type": "application/x-www-form-urlencoded", "Stripe-Version": "2023-10-16"}
    conn.request("POST", "/v1/checkout/sessions", body=form, headers=hdr)
    r = conn.getresponse()
    err = json.loads(r.read())
    assert r.status == 400 and err["error"]["param"] == "line_items[1][price_data][product]"
    form = form.replace("[product][foo]=x", "[product]=prod_123")
    conn.request("POST", "/v1/checkout/sessions", body=form, headers=hdr)   # same connection
    r = conn.getresponse()
    s = json.loads(r.read())
    assert r.status == 200, s
    assert r.getheader("Stripe-Version") == "2023-10-16"
    assert r.getheader("Request-Id").startswith("req_")
    assert r.getheader("Content-Type") == "application/json"
    assert s["metadata"] == {"campaignId": "camp 1"}
    assert s["currency"] == "aud" and s["amount_total"] == 24800
    assert [li["description"] for li in s["line_items"]["data"]] == ["Full - 6 Months",
                                                                     "prod_123"]
    conn.request("GET", "/v1/checkout/sessions/%s?expand[]=payment_intent" % s["id"],
                 headers={"Authorization": "Bearer " + KEY})
    r = conn.getresponse()
    got = json.loads(r.read())
    assert r.status == 200 and got["payment_intent"] is None and "line_items" not in got
    assert r.getheader("Stripe-Version") == "2024-06-20"       # the default when not sent
    conn.close()

    status, _, body = standin.request("POST", "/v1/checkout/sessions",
                                      raw=json.dumps({"mode": "payment"}).encode(),
                                      headers={"Authorization": "Bearer " + KEY,
                                               "Content-Type": "application/json"})
    assert status == 400 and "form" in json.loads(body)["error"]["message"]
    status, _, body = standin.request("GET", "/v1/customers",
                                      headers={"Authorization": "Bearer " + KEY})
    assert status == 404 and "Unrecognized request URL" in json.loads(body)["error"]["message"]
    status, _, body = standin.request("GET", "/v1/checkout/sessions/%s?foo=1" % s["id"],
                                      headers={"Authorization": "Bearer " + KEY})
    assert status == 400 and json.loads(body)["error"]["code"] == "parameter_unknown"

    # the pay page: a person clicking the url sees the session and can pay
    status, headers, body = standin.request("GET", "/pay/" + s["id"])
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert s["id"].encode() in body and b"A$248.00" in body
    status, headers, _ = standin.request(
        "POST", "/pay/" + s["id"], raw=b"action=pay",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and headers["Location"] == "https://app.test/ok"
    assert stripe.checkout.Session.retrieve(s["id"]).payment_status == "paid"


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


# --- subscriptions (standin_billing.py) ----------------------------------------------------

RETURN_URL = "https://app.test/dashboard?session_id={CHECKOUT_SESSION_ID}"


def new_subscription_session(**kw):
    params = dict(mode="subscription", ui_mode="embedded", return_url=RETURN_URL,
                  line_items=[{"price": "price_pro_monthly", "quantity": 1}],
                  client_reference_id="user-1", metadata={"userId": "user-1"},
                  subscription_data={"metadata": {"userId": "user-1"}})
    params.update(kw)
    return stripe.checkout.Session.create(**params)


def test_customers_and_the_catalogue(standin, receiver):
    a = stripe.Customer.create(email="ana@example.com", metadata={"userId": "user-1"},
                               idempotency_key="customer-user-1")
    b = stripe.Customer.create(email="ana@example.com", metadata={"userId": "user-1"},
                               idempotency_key="customer-user-1")
    assert a.id.startswith("cus_") and b.id == a.id
    assert b.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in a.last_response.headers
    with pytest.raises(E.IdempotencyError):
        stripe.Customer.create(email="bo@example.com", metadata={"userId": "user-1"},
                               idempotency_key="customer-user-1")
    got = stripe.Customer.retrieve(a.id)
    assert (got.email, got.metadata.userId, got.object) == ("ana@example.com", "user-1",
                                                            "customer")
    assert verify(receiver.wait("customer.created", a.id)[0]).data.object.id == a.id
    assert len(receiver.matching("customer.created")) == 1          # the replay made none
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Customer.create(email="nobody")
    assert (ei.value.param, ei.value.code) == ("email", "email_invalid")
    pro = stripe.Price.retrieve("price_pro_monthly")
    assert (pro.type, pro.recurring.interval, pro.recurring.interval_count) == (
        "recurring", "month", 1)
    assert pro.unit_amount == 4900 and pro.currency == "aud" and pro.active is True
    ids = [p.id for p in stripe.Price.list(type="recurring", limit=10).data]
    assert {"price_basic_monthly", "price_pro_monthly"} <= set(ids)
    weekly = standin.control("POST", "prices", {"id": "price_weekly", "unit_amount": 900,
                                                "recurring": {"interval": "week"}})
    assert weekly["recurring"]["interval"] == "week" and weekly["type"] == "recurring"
    standin.control("POST", "prices", {"unit_amount": 9, "recurring": {"interval": "hour"}},
                    expect=400)


@pytest.mark.parametrize("change, param, code", [
    ({"success_url": "https://app.test/ok"}, "success_url", None),
    ({"return_url": None}, "return_url", "parameter_missing"),
    ({"ui_mode": "hosted", "success_url": "https://app.test/ok",
      "cancel_url": "https://app.test/no"}, "return_url", None),
    ({"line_items": line_items((4900, 1))}, "line_items", None),
    ({"mode": "payment", "subscription_data": None}, "line_items[0][price]", None),
    ({"mode": "payment"}, "subscription_data", None),
    ({"payment_intent_data": {"metadata": {"k": "v"}}}, "payment_intent_data", None),
    ({"customer": "cus_nope"}, "customer", "resource_missing"),
    ({"subscription_data": {"metadata": {"userId": "u"}, "colour": "red"}},
     "subscription_data[colour]", "parameter_unknown"),
])
def test_subscription_session_validation(standin, change, param, code):
    with pytest.raises(E.InvalidRequestError) as ei:
        new_subscription_session(**change)
    assert ei.value.http_status == 400
    assert (ei.value.param, ei.value.code) == (param, code), ei.value.json_body


def test_subscription_checkout_delivers_signed_events(standin, receiver):
    cus = stripe.Customer.create(email="ana@example.com", metadata={"userId": "user-1"})
    s = new_subscription_session(customer=cus.id, idempotency_key="subscribe-user-1-a")
    assert (s.mode, s.ui_mode, s.status, s.payment_status) == ("subscription", "embedded",
                                                               "open", "unpaid")
    assert s.url is None and s.client_secret.startswith(s.id + "_secret_")
    assert s.return_url == RETURN_URL and s.subscription is None
    assert (s.amount_total, s.currency, s.customer) == (4900, "aud", cus.id)
    again = new_subscription_session(customer=cus.id, idempotency_key="subscribe-user-1-a")
    assert again.client_secret == s.client_secret                 # replayed whole
    receiver.clear()
    out = standin.control("POST", "sessions/%s/complete" % s.id)
    assert [e["type"] for e in out["events"]] == ["checkout.session.completed",
                                                  "customer.subscription.created",
                                                  "invoice.paid"]
    assert [d["status"] for d in out["deliveries"]] == [200, 200, 200]
    done = verify(receiver.wait("checkout.session.completed", s.id)[0])
    sub_id = out["subscription"]["id"]
    assert done.data.object.subscription == sub_id and done.data.object.mode == "subscription"
    assert done.data.object.payment_status == "paid" and done.data.object.customer == cus.id
    assert done.data.object.client_reference_id == "user-1"
    sub = verify(receiver.wait("customer.subscription.created", sub_id)[0]).data.object
    assert (sub.status, sub.customer, sub.cancel_at_period_end) == ("active", cus.id, False)
    assert sub.metadata.userId == "user-1"
    item = sub["items"].data[0]
    assert item.price.id == "price_pro_monthly" and item.price.recurring.interval == "month"
    start = time.gmtime(sub.current_period_start)
    end = time.gmtime(sub.current_period_end)
    assert (end.tm_mon - start.tm_mon) % 12 == 1 and sub.current_period_start <= time.time()
    assert end.tm_mday == start.tm_mday or end.tm_mday < start.tm_mday       # month ends
    inv = verify(receiver.wait("invoice.paid")[0]).data.object
    assert (inv.subscription, inv.customer, inv.billing_reason) == (sub_id, cus.id,
                                                                    "subscription_create")
    assert inv.status == "paid" and inv.amount_paid == 4900 and inv.paid is True
    assert inv.subscription_details.metadata.userId == "user-1"
    line = inv.lines.data[0]
    assert (line.period.start, line.period.end) == (sub.current_period_start,
                                                    sub.current_period_end)
    assert line.type == "subscription" and line.price.id == "price_pro_monthly"
    assert stripe.PaymentIntent.retrieve(inv.payment_intent).status == "succeeded"
    got = stripe.Subscription.retrieve(sub_id, expand=["latest_invoice", "customer"])
    assert got.latest_invoice.id == inv.id and got.customer.email == "ana@example.com"
    assert stripe.Invoice.retrieve(inv.id).subscription == sub_id
    assert stripe.checkout.Session.retrieve(s.id).subscription == sub_id
    standin.control("POST", "sessions/%s/complete" % s.id, expect=409)
    # without a customer, checkout makes one (and says so first)
    other = new_subscription_session(customer_email="bo@example.com")
    types = [e["type"] for e in standin.control("POST", "sessions/%s/complete" % other.id,
                                                {"deliver": False})["events"]]
    assert types == ["customer.created", "checkout.session.completed",
                     "customer.subscription.created", "invoice.paid"]


def test_a_subscription_s_life(standin, receiver):
    s = new_subscription_session()
    sub_id = standin.control("POST", "sessions/%s/complete" % s.id,
                             {"deliver": False})["subscription"]["id"]
    first = stripe.Subscription.retrieve(sub_id)

    out = standin.control("POST", "subscriptions/%s/update" % sub_id,
                          {"cancel_at_period_end": True})
    ev = verify(receiver.wait("customer.subscription.updated", sub_id)[0])
    assert ev.data.object.cancel_at_period_end is True
    assert ev.data.object.cancel_at == first.current_period_end
    assert ev.data.previous_attributes.cancel_at_period_end is False
    assert out["subscription"]["status"] == "active"

    receiver.clear()
    out = standin.control("POST", "subscriptions/%s/fail_renewal" % sub_id)
    assert [e["type"] for e in out["events"]] == ["invoice.payment_failed",
                                                  "customer.subscription.updated"]
    failed = verify(receiver.wait("invoice.payment_failed")[0]).data.object
    assert (failed.status, failed.paid, failed.billing_reason) == ("open", False,
                                                                   "subscription_cycle")
    assert failed.subscription == sub_id and failed.attempt_count == 1
    assert failed.lines.data[0].period.start == first.current_period_end
    assert (failed.period_start, failed.period_end) == (first.current_period_start,
                                                        first.current_period_end)
    upd = verify(receiver.wait("customer.subscription.updated", sub_id)[0])
    assert upd.data.object.status == "past_due"
    assert upd.data.previous_attributes.status == "active"
    assert upd.data.object.current_period_start == first.current_period_end
    pi = stripe.PaymentIntent.retrieve(failed.payment_intent)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "insufficient_funds"

    receiver.clear()
    out = standin.control("POST", "subscriptions/%s/renew" % sub_id)
    assert [e["type"] for e in out["events"]] == ["customer.subscription.updated",
                                                  "invoice.paid"]
    assert out["subscription"]["status"] == "active"

    # the API too: updated and deleted in the background, as Stripe sends them
    receiver.clear()
    mod = stripe.Subscription.modify(sub_id, cancel_at_period_end=False,
                                     idempotency_key="keep-it")
    assert mod.cancel_at_period_end is False and mod.cancel_at is None
    assert verify(receiver.wait("customer.subscription.updated", sub_id)[0])
    gone = stripe.Subscription.delete(sub_id)
    assert gone.status == "canceled" and gone.ended_at
    ev = verify(receiver.wait("customer.subscription.deleted", sub_id)[0])
    assert ev.data.object.status == "canceled"
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.Subscription.delete(sub_id)
    assert ei.value.http_status == 404
    for action in ("update", "delete", "renew", "fail_renewal"):
        standin.control("POST", "subscriptions/%s/%s" % (sub_id, action), expect=409)
    assert standin.control("GET", "subscriptions")["data"][0]["status"] == "canceled"
    assert stripe.Subscription.list(status="all").data[0].id == sub_id
    assert stripe.Subscription.list().data == []                   # not ended only
    assert standin.control("GET", "stats")["subscriptions"] == {"canceled": 1}


def test_events_in_any_order_and_twice(standin, receiver):
    cus = stripe.Customer.create(email="ana@example.com")
    receiver.wait("customer.created", cus.id)
    receiver.clear()
    s = new_subscription_session(customer=cus.id)
    out = standin.control("POST", "sessions/%s/complete" % s.id, {"order": [2, 1, 0, 2]})
    assert [d["type"] for d in out["deliveries"]] == ["invoice.paid",
                                                      "customer.subscription.created",
                                                      "checkout.session.completed",
                                                      "invoice.paid"]
    got = [json.loads(r["body"]) for r in receiver.records]
    assert [e["type"] for e in got] == ["invoice.paid", "customer.subscription.created",
                                        "checkout.session.completed", "invoice.paid"]
    assert got[0]["id"] == got[3]["id"]
    assert out["event"]["type"] == "checkout.session.completed"     # still the main event
    other = new_subscription_session(customer=cus.id)
    receiver.clear()
    standin.control("POST", "sessions/%s/complete" % other.id, {"order": "2,1"}, expect=400)
    standin.control("POST", "sessions/%s/complete" % other.id, {"order": [-1]}, expect=400)
    assert stripe.checkout.Session.retrieve(other.id).status == "open"     # refused first
    err = standin.control("POST", "sessions/%s/complete" % other.id, {"order": [3]},
                          expect=400)["error"]
    assert "none delivered" in err and receiver.records == []


def test_subscription_sessions_read_again_expired_and_made_once(standin, receiver,
                                                                  monkeypatch):
    """What one open session per user needs of a subscription-mode session: made once for
    one idempotency key (concurrent calls included), read again with its client secret,
    expired while open, and refused expiry once paid."""
    monkeypatch.setattr(stripe, "max_network_retries", 3)    # a key in progress is 409
    exp = int(time.time()) + 3600
    with concurrent.futures.ThreadPoolExecutor(10) as ex:
        made = list(ex.map(lambda i: new_subscription_session(
            expires_at=exp, idempotency_key="subscribe-user-1-chk_1"), range(10)))
    assert len({s.id for s in made}) == 1 and len({s.client_secret for s in made}) == 1
    s = made[0]
    assert standin.control("GET", "stats")["sessions"] == {"open": 1}
    assert s.expires_at == exp and s.client_secret.startswith(s.id + "_secret_")
    got = stripe.checkout.Session.retrieve(s.id)
    assert (got.status, got.mode, got.client_secret, got.url) == ("open", "subscription",
                                                                 s.client_secret, None)
    gone = stripe.checkout.Session.expire(s.id, idempotency_key="expire-" + s.id)
    assert gone.status == "expired"
    again = stripe.checkout.Session.expire(s.id, idempotency_key="expire-" + s.id)
    assert again.status == "expired"                        # the first answer, replayed
    assert stripe.checkout.Session.retrieve(s.id).status == "expired"
    assert verify(receiver.wait("checkout.session.expired", s.id)[0]).data.object.mode == \
        "subscription"
    paid = new_subscription_session(expires_at=exp)
    standin.control("POST", "sessions/%s/complete" % paid.id, {"deliver": False})
    with pytest.raises(E.InvalidRequestError) as ei:
        stripe.checkout.Session.expire(paid.id)
    assert ei.value.http_status == 400 and "`complete`" in ei.value.user_message
    assert stripe.checkout.Session.retrieve(paid.id).status == "complete"
