"""Tests of the Stripe stand-in's wire format (standin_server.py): the official library's
errors, the API key, idempotency, injected faults and raw HTTP (bracket notation, keep-alive,
headers, bodies that are not forms, the pay page).  Run as conftest.py says."""

import base64
import http.client
import json
import threading
import time

import pytest
import stripe

from stripe_harness import E, KEY, new_session


def test_library_version():
    import stripe.version
    assert stripe.version.VERSION.split(".")[0].isdigit()
    assert issubclass(E.IdempotencyError, E.StripeError)


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
