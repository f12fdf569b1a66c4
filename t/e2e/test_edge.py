"""The edge and the request pipeline, through nginx over HTTPS."""

import http.client
import json
import time

import pytest

from stack import assert_envelope


def test_health(stack):
    r = stack.get("/v1/health")
    body = assert_envelope(r, 200)
    assert body["data"]["status"] == "ok"
    assert r.header("cache-control") == "no-store"


def test_ready_names_each_backend(stack):
    body = assert_envelope(stack.get("/v1/ready"), 200)
    checks = body["data"]["checks"]
    assert checks["dynamodb"]["ok"] is True
    assert checks["memcached"]["ok"] is True


def test_head_is_answered_without_a_body(stack):
    r = stack.request("HEAD", "/v1/health")
    assert r.status == 200 and r.body == ""


def test_unknown_route_is_404(stack):
    for path in ("/v1/nope", "/v1/teams", "/v1/teams/a/b", "/", "/index.php", "/v2/health"):
        assert_envelope(stack.get(path), 404, "NOT_FOUND")


def test_path_is_not_reflected_in_errors(stack):
    r = stack.get("/v1/%3Cscript%3Ealert(1)%3C/script%3E")
    assert_envelope(r, 404, "NOT_FOUND")
    assert "script" not in r.body


def test_wrong_method_is_405_with_allow(stack):
    r = stack.request("DELETE", "/v1/health")
    assert_envelope(r, 405, "METHOD_NOT_ALLOWED")
    assert r.header("allow") == "GET, HEAD, OPTIONS"
    r = stack.get("/v1/coupons/validate")
    assert_envelope(r, 405, "METHOD_NOT_ALLOWED")
    assert r.header("allow") == "POST, OPTIONS"


def test_malformed_json_says_where_it_broke(stack):
    r = stack.post("/v1/coupons/validate", body='{"code": "SAVE20",\n  "plan": }',
                   headers={"Content-Type": "application/json"})
    body = assert_envelope(r, 400, "INVALID_JSON")
    d = body["details"]
    assert d["line"] == 2 and d["column"] == 11, d
    assert d["offset"] == 29, d
    assert d["reason"]


def test_truncated_and_trailing_json(stack):
    r = stack.post("/v1/coupons/validate", body='{"code": "SAV',
                   headers={"Content-Type": "application/json"})
    assert assert_envelope(r, 400, "INVALID_JSON")["details"]["reason"] == "unexpected end of input"
    r = stack.post("/v1/coupons/validate", body='{} {}',
                   headers={"Content-Type": "application/json"})
    assert_envelope(r, 400, "INVALID_JSON")


def test_json_nesting_is_bounded(stack):
    deep = "[" * 100 + "]" * 100
    r = stack.post("/v1/coupons/validate", body='{"a":%s}' % deep,
                   headers={"Content-Type": "application/json"})
    assert_envelope(r, 400, "INVALID_JSON")


def test_body_must_be_an_object(stack):
    r = stack.post("/v1/coupons/validate", body="[1,2]",
                   headers={"Content-Type": "application/json"})
    assert_envelope(r, 400, "VALIDATION_ERROR")


def test_empty_body_is_400(stack):
    r = stack.post("/v1/coupons/validate", body="",
                   headers={"Content-Type": "application/json"})
    assert_envelope(r, 400, "INVALID_JSON")


def test_wrong_content_type_is_415(stack):
    r = stack.post("/v1/coupons/validate", body="code=SAVE20",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_envelope(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_valid_json_reaches_the_handler(stack):
    # The body passed every check of the edge and the dispatcher: the handler judges it.
    r = stack.post("/v1/teams/create", body={"planId": "full-6months"})
    body = assert_envelope(r, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"]["leader"] == "is required"


def test_body_over_the_edge_limit_is_413(stack):
    r = stack.post("/v1/webhook/stripe", body="x" * (70 * 1024),
                   headers={"Content-Type": "application/json"})
    assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")


def test_body_over_the_route_limit_is_413(stack):
    big = json.dumps({"code": "x" * 5000})
    r = stack.post("/v1/coupons/validate", body=big,
                   headers={"Content-Type": "application/json"})
    body = assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")
    assert body["details"]["maxBytes"] == 4096


def test_burst_over_the_rate_limit_is_429(stack):
    ip = stack.new_ip()
    statuses = [stack.get("/v1/teams/t1", source_ip=ip).status for _ in range(120)]
    assert 429 in statuses, statuses
    assert statuses[0] == 404                      # the handler's answer: no such team
    r = stack.get("/v1/teams/t1", source_ip=ip)
    if r.status == 429:
        assert_envelope(r, 429, "RATE_LIMITED")
        assert r.header("retry-after") == "1"
    # Another client is not affected.
    assert stack.get("/v1/teams/t1", source_ip=stack.new_ip()).status == 404


def test_health_and_ready_are_not_rate_limited(stack):
    ip = stack.new_ip()
    statuses = [stack.get("/v1/health", source_ip=ip).status for _ in range(120)]
    assert set(statuses) == {200}


def test_http_redirects_to_https(stack):
    r = stack.get("/v1/health", https=False)
    assert r.status == 301
    assert r.header("location") == "https://127.0.0.1:%d/v1/health" % stack.https_port


def test_security_headers_on_success_and_error(stack):
    for r in (stack.get("/v1/health"), stack.get("/nope")):
        assert r.header("strict-transport-security").startswith("max-age=")
        assert r.header("x-content-type-options") == "nosniff"
        assert r.header("x-frame-options") == "DENY"
        assert "nginx/" not in (r.header("server") or "")


def test_one_request_id_per_response(stack):
    r = stack.get("/v1/health")
    assert len(r.headers.get("x-request-id").split(",")) == 1
    ids = {stack.get("/v1/health").header("x-request-id") for _ in range(5)}
    assert len(ids) == 5


def test_cors_preflight_from_an_allowed_origin(stack):
    r = stack.request("OPTIONS", "/v1/coupons/validate", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status == 204, r
    assert r.header("access-control-allow-origin") == "http://localhost:3000"
    assert "POST" in r.header("access-control-allow-methods")
    assert "Content-Type" in r.header("access-control-allow-headers")
    assert r.header("vary") == "Origin"


def test_cors_preflight_from_another_origin_is_refused(stack):
    r = stack.request("OPTIONS", "/v1/coupons/validate", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert_envelope(r, 403, "ORIGIN_NOT_ALLOWED")
    assert r.header("access-control-allow-origin") is None


def test_cors_on_actual_requests(stack):
    r = stack.get("/v1/health", headers={"Origin": "https://localhost:3000"})
    assert r.header("access-control-allow-origin") == "https://localhost:3000"
    r = stack.get("/v1/health", headers={"Origin": "https://evil.example"})
    assert r.status == 200 and r.header("access-control-allow-origin") is None


def test_admin_route_needs_the_admin_token(stack):
    r = stack.post("/v1/mock-exams/m1/calculate-stats")
    assert_envelope(r, 401, "UNAUTHORIZED")
    r = stack.post("/v1/mock-exams/m1/calculate-stats",
                   headers={"Authorization": "Bearer wrong"})
    assert_envelope(r, 403, "FORBIDDEN")


@pytest.mark.parametrize("method,path,headers,status,code", [
    ("GET", "/v1/plans/%00", {}, 400, "BAD_REQUEST"),                  # a NUL in the path
    ("GET", "/v1/health", {"X-Note": "a\x00b"}, 400, "BAD_REQUEST"),   # a NUL in a header
    ("G@T", "/v1/health", {}, 400, "BAD_REQUEST"),                     # no such method
    ("GET", "/v1/plans/" + "a" * 9000, {}, 414, "URI_TOO_LONG"),
    ("GET", "/v1/health", {"X-Big": "b" * 9000}, 431, "HEADERS_TOO_LARGE"),
    ("GET", "/v1/health", {"X-H%d" % i: "h" * 1000 for i in range(40)}, 431,
     "HEADERS_TOO_LARGE"),
    ("TRACE", "/v1/health", {}, 405, "METHOD_NOT_ALLOWED"),
    ("GET", "/v1/health?q=%3Cscript%3Ealert(1)%3C/script%3E", {}, 403, "REQUEST_BLOCKED"),
])
def test_nginx_answers_in_the_envelope(stack, method, path, headers, status, code):
    r = stack.request(method, path, headers=headers, source_ip=stack.new_ip())
    assert_envelope(r, status, code)
    assert r.header("x-content-type-options") == "nosniff"
    if status == 405:
        assert r.header("allow") == "GET, HEAD, POST, OPTIONS"


def test_plain_http_to_the_https_port_is_400(stack):
    conn = http.client.HTTPConnection("127.0.0.1", stack.https_port, timeout=10)
    try:
        conn.request("GET", "/v1/health")
        r = conn.getresponse()
        body = json.loads(r.read())
    finally:
        conn.close()
    assert r.status == 400 and body["code"] == "BAD_REQUEST", body
    assert body["details"]["requestId"] == r.getheader("x-request-id")


def test_bad_query_encoding_is_400(stack):
    assert_envelope(stack.get("/v1/health?x=%zz"), 400, "BAD_REQUEST")


def test_access_log_is_json_with_request_id(stack):
    rid = stack.get("/v1/health").header("x-request-id")
    time.sleep(0.2)
    with open(stack.state + "/logs/access.log", errors="replace") as f:
        lines = [json.loads(line) for line in f if rid in line]
    assert lines and lines[0]["status"] == 200
    with open(stack.state + "/logs/pool.log", errors="replace") as f:
        pool = [json.loads(line) for line in f if rid in line]
    assert pool and pool[0]["route"] == "health" and pool[0]["level"] == "info"
