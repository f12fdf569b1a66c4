"""A flash sale against a running stack (bench/flash): N purchases of one plan with one
limited coupon, all at once, each from its own loopback address and email; prints the
answers by status, the latency percentiles and the wall time, one line."""
import http.client
import json
import ssl
import sys
import threading
import time


def main():
    port, n, code = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    tag = str(int(time.time()))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = [None] * n
    go = threading.Event()

    def one(i):
        body = json.dumps({"planId": "full-6months", "code": code,
                           "email": "flash-%s-%d@example.com" % (tag, i)})
        src = "127.9.%d.%d" % (i // 250, i % 250 + 2)
        go.wait()
        t0 = time.monotonic()
        try:
            c = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=60,
                                            source_address=(src, 0))
            c.request("POST", "/v1/purchases/create", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            status = r.status
            c.close()
        except Exception as e:  # noqa: BLE001  (a connection error is a figure too)
            status = type(e).__name__
        out[i] = (status, time.monotonic() - t0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    go.set()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    lat = sorted(x[1] for x in out)
    by = {}
    for s, _ in out:
        by[str(s)] = by.get(str(s), 0) + 1

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))]
    print("%d purchases: %s; p50 %.2f s, p99 %.2f s, max %.2f s; all answered in %.2f s" % (
        n, ", ".join("%s %d" % kv for kv in sorted(by.items())), pct(50), pct(99), lat[-1],
        wall))


if __name__ == "__main__":
    main()
