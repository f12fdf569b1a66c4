"""The running stack fuzzed over HTTP through nginx (WAF on): every route of
docs/openapi.yaml with bodies built from its schemas and then mutated (fields dropped, added,
of the wrong type, huge, deeply nested, invalid JSON or UTF-8), mutated path parameters,
queries and headers, a signed-in user's token on half of the signed-in routes.  No answer
may be a 5xx (no fault is injected), every answer is the JSON envelope (or a redirect), no
worker dies (the master's restart counter stays where it was), and every answer holds to
the contract (Stack.request checks each against docs/openapi.yaml).

PH_HTTP_FUZZ_N requests (default 600; `scripts/dev test --long`: 6000), from the seed
PH_HTTP_FUZZ_SEED: a number, or "random" for a new one (`--long` does that).  The default
is a fixed seed, so the suite that gates a merge asks the same requests every time; the
seed is printed, so a failure found with a random one can be replayed."""

import copy
import json
import os
import random
import string
import sys
import urllib.parse

import yaml

from test_metrics import scrape, value

HERE = os.path.dirname(os.path.abspath(__file__))
N = int(os.environ.get("PH_HTTP_FUZZ_N") or 600)
SEED = os.environ.get("PH_HTTP_FUZZ_SEED") or "1"
SEED = random.randrange(1 << 30) if SEED == "random" else int(SEED)
METHODS = ("get", "post", "put", "delete", "patch")
ADMIN_ONLY = ("/v1/access-grants", "/results", "/calculate-stats")   # never with a token
sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))   # bodies nested 2000 deep


def spec():
    with open(os.path.join(HERE, "..", "..", "docs", "openapi.yaml")) as f:
        return yaml.safe_load(f)


def operations(doc):
    out = []
    for path, ops in doc["paths"].items():
        if not path.startswith("/v1/"):
            continue                             # /metrics: the loopback listener only
        for m, op in ops.items():
            if m in METHODS:
                out.append((m.upper(), path, op))
    return out


class Gen:
    def __init__(self, doc, rnd):
        self.doc, self.r = doc, rnd

    def resolve(self, s):
        while isinstance(s, dict) and "$ref" in s:
            node = self.doc
            for part in s["$ref"].lstrip("#/").split("/"):
                node = node[part]
            s = node
        return s or {}

    def text(self, n=None):
        r = self.r
        n = r.choice((0, 1, 5, 12, 40, 300)) if n is None else n
        alphabet = string.ascii_letters + string.digits + " -_@.'\"\\/<>{}%\u00e9\u4e2d\U0001f600\x00\x7f"
        return "".join(r.choice(alphabet) for _ in range(n))

    def value(self, s, depth=0):
        s, r = self.resolve(s), self.r
        for k in ("oneOf", "anyOf"):
            if k in s:
                return self.value(r.choice(s[k]), depth)
        if "allOf" in s:
            out = {}
            for part in s["allOf"]:
                v = self.value(part, depth)
                if isinstance(v, dict):
                    out.update(v)
            return out
        if "enum" in s and r.random() < 0.8:
            return r.choice(s["enum"])
        if "example" in s and r.random() < 0.5:
            return copy.deepcopy(s["example"])    # mutate() edits it: never the spec's own
        t = s.get("type")
        if isinstance(t, list):
            t = r.choice(t)
        if t == "object" or "properties" in s:
            props = s.get("properties", {})
            req = set(s.get("required", []))
            return {k: self.value(v, depth + 1) for k, v in props.items()
                    if depth < 4 and (k in req or r.random() < 0.5)}
        if t == "array":
            return [self.value(s.get("items", {}), depth + 1)
                    for _ in range(r.choice((0, 1, 2, 3)))] if depth < 4 else []
        if t == "integer":
            lo, hi = s.get("minimum", -5), s.get("maximum", 100000)
            return r.randint(int(lo), int(hi))
        if t == "number":
            return round(r.uniform(s.get("minimum", 0), s.get("maximum", 1000)), 2)
        if t == "boolean":
            return r.random() < 0.5
        if s.get("format") == "email":
            return "fuzz%d@example.com" % r.randrange(10 ** 6)
        return self.text(r.choice((1, 8, 20)))

    def header(self, n):
        """A header value: any text but the control characters, as UTF-8 bytes."""
        return "".join(c for c in self.text(n) if c >= " " and c != "\x7f").encode("utf-8")

    def mutate(self, body):
        r = self.r
        hostile = [None, True, -1, 0, 1e308, 2 ** 63, -(2 ** 63) - 1, "", self.text(10000),
                   [], {}, [[[[[]]]]], "\u0000", "1e999", {"$gt": ""}]

        def pick(extra=()):                      # a fresh copy: a body never contains itself
            return copy.deepcopy(r.choice(hostile + list(extra)))
        for _ in range(r.choice((0, 1, 1, 2, 3))):
            kind = r.randrange(6)
            if not isinstance(body, dict) or kind == 0:
                body = pick(([body], "x"))
            elif kind == 1 and body:
                body.pop(r.choice(list(body)))
            elif kind == 2:
                body[self.text(r.choice((1, 8, 64)))] = pick()
            elif kind == 3 and body:
                body[r.choice(list(body))] = pick()
            elif kind == 4:
                nest = 1
                for _ in range(r.choice((30, 200, 2000))):
                    nest = {"a": nest}
                body["deep"] = nest
        return body

    def raw(self, body):
        """The body as bytes, now and then broken below the JSON level."""
        r = self.r
        data = json.dumps(body, ensure_ascii=r.random() < 0.5).encode("utf-8", "surrogatepass")
        k = r.randrange(12)
        if k == 0 and data:
            return data[:r.randrange(len(data))]
        if k == 1:
            return data + b"\xff\xfe\xc3"
        if k == 2 and len(data) > 2:
            return data[:1] + b'"dup":1,"dup":2,' + data[1:]
        if k == 3:
            return b"\x00" * r.choice((1, 100))
        return data

    def param(self, name):
        r = self.r
        prefixes = ("pur_", "team_", "sch_", "plan_", "mreg_", "pp_", "mock-", "")
        return r.choice([
            r.choice(prefixes) + "".join(r.choice("0123456789abcdef") for _ in range(32)),
            urllib.parse.quote(self.text(), safe=""), "x" * r.choice((65, 400, 3000)), "..%2f..%2fetc", "%00", "%ff%fe",
            "-1", "0", "99999999999999999999", "full-6months", "%E2%80%AE", "a%20b",
        ])


def request_for(g, method, path, op, bearer):
    r = g.r
    p = path
    while "{" in p:
        a, b = p.index("{"), p.index("}")
        p = p[:a] + g.param(p[a + 1:b]) + p[b + 1:]
    if r.random() < 0.3:
        p += "?" + "&".join("%s=%s" % (r.choice(("limit", "cursor", "email", "code", "x",
                                                   "sessionId", "")),
                                            urllib.parse.quote(g.text(r.choice((0, 3, 50)))))
                            for _ in range(r.randint(1, 3)))
    if r.random() < 0.05:
        method = r.choice(("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"))
    headers = {}
    body = None
    content = op.get("requestBody", {}).get("content", {})
    if content or r.random() < 0.1:
        schema = (content.get("application/json") or {}).get("schema", {})
        body = g.raw(g.mutate(g.value(schema)))
        headers["Content-Type"] = r.choice(["application/json"] * 6 + [
            "text/plain", "application/json; charset=latin1", "multipart/form-data",
            "application/x-www-form-urlencoded"]) if r.random() < 0.95 else None
        if headers["Content-Type"] is None:
            del headers["Content-Type"]
    if op.get("security") and not any(a in path for a in ADMIN_ONLY) and r.random() < 0.5:
        headers["Authorization"] = bearer
    elif r.random() < 0.1:
        headers["Authorization"] = r.choice([b"Bearer " + g.header(40), "Basic Zm9vOmJhcg==",
                                             "Bearer a.b.c", "Bearer"])
    if r.random() < 0.1:
        headers[r.choice(("X-Forwarded-For", "Stripe-Signature", "Origin", "Accept",
                          "X-Request-Id"))] = g.header(r.choice((5, 200)))
    return method, p, body, headers


def test_every_route_under_fuzzed_requests_keeps_the_envelope_and_the_workers(stack):
    print("HTTP fuzz: %d requests, PH_HTTP_FUZZ_SEED=%d" % (N, SEED))
    doc, rnd = spec(), random.Random(SEED)
    g, ops = Gen(doc, rnd), operations(doc)
    bearer = stack.bearer("fuzz-user@example.com")["Authorization"]
    before = value(scrape(stack)[1], "prodenthub_worker_restarts_total")
    statuses, bad, ip = {}, [], stack.new_ip()
    for i in range(N):
        if i % 15 == 0:
            ip = stack.new_ip()                  # within the edge's rate limit
        method, path, body, headers = request_for(g, *rnd.choice(ops), bearer)
        what = "%s %s %r %r" % (method, path[:120], headers, (body or b"")[:200])
        try:
            r = stack.request(method, path, body=body, headers=headers, source_ip=ip,
                              timeout=30)
        except AssertionError as e:              # the contract, checked by Stack.request
            bad.append("contract: %s: %s" % (what, str(e)[:300]))
            continue
        except OSError as e:
            bad.append("no answer: %s: %r" % (what, e))
            continue
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status >= 500:
            bad.append("%d: %s: %s" % (r.status, what, r.body[:300]))
        elif not 300 <= r.status < 400 and r.status != 204:      # redirects, preflights
            try:
                env = json.loads(r.body)
                ok = isinstance(env, dict) and isinstance(env.get("success"), bool) and (
                    env["success"] or {"error", "code"} <= set(env))
            except ValueError:
                ok = (r.header("content-type") or "").startswith("text/calendar")
            if not ok:
                bad.append("not the envelope: %d %s: %s" % (r.status, what, r.body[:200]))
    after = value(scrape(stack)[1], "prodenthub_worker_restarts_total")
    print("HTTP fuzz answers by status: %s" % dict(sorted(statuses.items())))
    assert not bad, "PH_HTTP_FUZZ_SEED=%d: %d bad answers:\n%s" % (SEED, len(bad),
                                                                  "\n".join(bad[:15]))
    assert after == before, "workers died: PH_HTTP_FUZZ_SEED=%d" % SEED
