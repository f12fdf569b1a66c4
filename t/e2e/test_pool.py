"""The worker pool and its backends under faults: workers killed, configuration reloaded,
DynamoDB and memcached stopped and started again, readiness probes in a flood."""

import math
import signal
import threading
import time

from stack import assert_envelope
from test_metrics import scrape, value

READY_CACHE_S = 1.0   # READY_CACHE_MS in handlers/health.c: a worker's result lives this long


class Load:
    """Background clients calling path until stopped; records every outcome."""

    def __init__(self, stack, path="/v1/health", clients=4):
        self.stack, self.path = stack, path
        self.results = []
        self.stop_flag = threading.Event()
        self.ips = [stack.new_ip() for _ in range(clients)]
        self.threads = [threading.Thread(target=self.run, args=(ip,)) for ip in self.ips]

    def run(self, ip):
        while not self.stop_flag.is_set():
            try:
                status = self.stack.get(self.path, source_ip=ip).status
            except OSError as e:
                status = repr(e)
            self.results.append((time.time(), status))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join()


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_killed_worker_is_replaced_under_load(stack):
    before = stack.worker_pids()
    assert len(before) == 2
    with Load(stack) as load:
        time.sleep(0.5)
        victim = before[0]
        killed_at = time.time()
        import os
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in stack.worker_pids() and len(stack.worker_pids()) == 2,
                 what="a replacement worker")
        time.sleep(1.0)
    after = stack.worker_pids()
    assert victim not in after and len(after) == 2
    failures = [r for r in load.results if r[1] != 200]
    # Only a request the victim was serving may fail; everything after it is answered.
    assert len(failures) <= 1, failures
    late = [r for r in load.results if r[0] > killed_at + 0.5]
    assert late and all(s == 200 for _, s in late)
    with open(stack.state + "/logs/pool.log", errors="replace") as f:
        log = f.read()
    assert "pid=%d killed by signal 9" % victim in log


def test_sighup_replaces_every_worker_without_dropping_requests(stack):
    before = set(stack.worker_pids())
    with Load(stack, path="/v1/health") as load:
        time.sleep(0.3)
        stack.signal_pool(signal.SIGHUP)
        wait_for(lambda: not (set(stack.worker_pids()) & before)
                 and len(stack.worker_pids()) == 2, what="all workers replaced")
        time.sleep(0.3)
    assert load.results and all(s == 200 for _, s in load.results), \
        [r for r in load.results if r[1] != 200]


def describe_tables(stack):
    return value(scrape(stack)[1], "prodenthub_dynamodb_requests_total",
                 operation="DescribeTable")


def test_a_flood_of_ready_probes_makes_about_one_check_per_worker_per_second(stack):
    workers = len(stack.worker_pids())
    before = describe_tables(stack)
    t0 = time.time()
    with Load(stack, path="/v1/ready", clients=4) as load:
        time.sleep(2.5)
    elapsed = time.time() - t0
    checks = describe_tables(stack) - before
    # Without the per-worker result, each probe would be a DescribeTable.
    assert len(load.results) >= 30, len(load.results)
    assert all(s == 200 for _, s in load.results), [r for r in load.results if r[1] != 200]
    # Each worker checks at most once a period; the first probe of a period checks.
    bound = workers * (math.ceil(elapsed / READY_CACHE_S) + 1)
    assert 1 <= checks <= bound, (checks, bound, len(load.results), elapsed)


def test_ready_is_503_naming_dynamodb_when_it_is_down_and_recovers(stack):
    stack.stop("dynamodb")
    time.sleep(READY_CACHE_S)   # past the workers' last result
    try:
        t0 = time.time()
        r = stack.get("/v1/ready")
        took = time.time() - t0
        body = assert_envelope(r, 503, "SERVICE_UNAVAILABLE")
        assert body["details"]["failing"] == ["dynamodb"]
        assert body["details"]["checks"]["dynamodb"]["ok"] is False
        assert "127.0.0.1" not in r.body  # no internal addresses leak
        assert took < 5, took
        # A failure is kept as a success is: more probes are not more checks.
        before, t0 = describe_tables(stack), time.time()
        for _ in range(20):
            assert_envelope(stack.get("/v1/ready"), 503, "SERVICE_UNAVAILABLE")
        bound = len(stack.worker_pids()) * (math.ceil((time.time() - t0) / READY_CACHE_S) + 1)
        assert describe_tables(stack) - before <= bound
        # The API itself keeps answering.
        assert_envelope(stack.get("/v1/health"), 200)
    finally:
        stack.start("dynamodb")
    stack.wait_ready(timeout=60)
    assert stack.worker_pids() and len(stack.worker_pids()) == 2


def test_memcached_down_degrades_but_stays_ready(stack):
    stack.stop("memcached")
    time.sleep(READY_CACHE_S)
    try:
        body = assert_envelope(stack.get("/v1/ready"), 200)
        assert body["data"]["checks"]["memcached"]["ok"] is False
        assert body["data"]["checks"]["dynamodb"]["ok"] is True
    finally:
        stack.restart_memcached()


def test_sigterm_stops_the_pool_and_it_starts_again(stack):
    pids = stack.worker_pids()
    t0 = time.time()
    stack.stop("pool")
    assert time.time() - t0 < 6
    import os
    for p in pids:
        assert not os.path.exists("/proc/%d" % p) or \
            open("/proc/%d/stat" % p).read().split()[2] == "Z"
    r = stack.get("/v1/health")
    assert_envelope(r, 502, "BAD_GATEWAY")
    stack.start("pool")
    stack.wait_ready()
    with open(stack.state + "/logs/pool.log", errors="replace") as f:
        assert '"msg":"stopped"' in f.read()
