"""bench/roundtrips: per request, the round trips the pool made (from its own metrics) and the
latency, for each line; run against the stack bench/roundtrips started (its settings in the
environment).  Requests go one after the other, so the counters' movement is theirs."""
import http.client
import json
import os
import ssl
import statistics
import sys
import time
import urllib.request

N, PHASE = int(sys.argv[1]), sys.argv[2]
HTTPS = int(os.environ["HTTPS_PORT"])
METRICS = "http://127.0.0.1:%s/metrics" % os.environ["METRICS_PORT"]
STRIPE = os.environ["STRIPE_API_BASE"]
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
TAG = "%s-%d" % (PHASE, int(time.time()))
seq = [0]


def call(method, path, body=None):
    c = http.client.HTTPSConnection("localhost", HTTPS, context=CTX, timeout=30)
    try:
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        c.close()


def metrics():
    """Sums by (family, label value of interest)."""
    out = {}
    with urllib.request.urlopen(METRICS, timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            family, _, labels = name.partition("{")
            for fam, label in (("prodenthub_dynamodb_requests_total", "operation"),
                               ("prodenthub_stripe_requests_total", "resource")):
                if family == fam:
                    v = labels.split('%s="' % label, 1)[1].split('"', 1)[0]
                    out[(fam, v)] = out.get((fam, v), 0) + float(value)
            if family in ("prodenthub_cache_hits_total", "prodenthub_cache_misses_total"):
                out[("cache", "")] = out.get(("cache", ""), 0) + float(value)
    return out


def email():
    seq[0] += 1
    return "rt-%s-%d@example.com" % (TAG, seq[0])


def purchase(code="SAVE20"):
    body = {"planId": "full-6months", "email": email()}
    if code:
        body["code"] = code
    status, d = call("POST", "/v1/purchases/create", body)
    assert status == 201, (status, d)
    return d["data"]


def complete(d):
    req = urllib.request.Request(STRIPE + "/__stripe/sessions/%s/complete" % d["sessionId"],
                                 data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        out = json.loads(r.read())
    assert out["delivery"]["status"] == 200, out["delivery"]
    return out["delivery"]["ms"]


def timed(fn):
    def run(prep):
        t0 = time.monotonic()
        ms = fn(prep)
        return ms if ms is not None else (time.monotonic() - t0) * 1000
    return run


def expect(status, want=200):
    assert status == want, status


LINES = [
    ("GET /v1/plans/{id}", None,
     timed(lambda _: expect(call("GET", "/v1/plans/full-6months")[0]))),
    ("GET /v1/mock-exams", None, timed(lambda _: expect(call("GET", "/v1/mock-exams")[0]))),
    ("POST /v1/coupons/validate", None, timed(lambda _: expect(call(
        "POST", "/v1/coupons/validate", {"code": "SAVE20", "planId": "full-6months"})[0]))),
    ("... with an email", None, timed(lambda _: expect(call(
        "POST", "/v1/coupons/validate",
        {"code": "SAVE20", "planId": "full-6months", "email": "rt@example.com"})[0]))),
    ("POST /v1/purchases/create, no coupon", None,
     timed(lambda _: purchase(code=None) and None)),
    ("POST /v1/purchases/create, SAVE20", None, timed(lambda _: purchase() and None)),
    ("webhook checkout.session.completed", lambda: purchase(), timed(complete)),
]


def main():
    print("\n%s%s" % (PHASE, ":" if PHASE else ""))
    print("%-40s %8s %9s %6s  %s" % ("", "ms p50", "mc keys", "Stripe", "DynamoDB calls"))
    for name, prep, run in LINES:
        run(prep() if prep else None)            # one first: connections, cache filled
        preps = [prep() if prep else None for _ in range(N)]
        before, ms = metrics(), []
        for p in preps:
            ms.append(run(p))
        after = metrics()
        moved = {k: (after.get(k, 0) - before.get(k, 0)) / N for k in after}
        ddb = {k[1]: v for k, v in moved.items()
               if k[0] == "prodenthub_dynamodb_requests_total" and v}
        stripe = sum(v for k, v in moved.items() if k[0] == "prodenthub_stripe_requests_total")
        print("%-40s %8.1f %9.1f %6.1f  %.1f (%s)" % (
            name, statistics.median(ms), moved.get(("cache", ""), 0), stripe,
            sum(ddb.values()), ", ".join("%s %.1f" % kv for kv in sorted(ddb.items())) or "-"))


if __name__ == "__main__":
    main()
