"""Faults under load: while clients buy with a limited coupon, pay (the Stripe stand-in
delivers each checkout.session.completed; an unacknowledged one is delivered again, as Stripe
retries) and read through nginx: a worker killed with SIGKILL every KILL_EVERY_S; DynamoDB
stopped for DDB_DOWN_S (503s, and purchases again within 2 s of its return); memcached
stopped for MEMCACHED_DOWN_S (the same answers, the cache in use again after).

After workers are killed, nothing is lost or doubled: every request has an answer or a clean connection
error, never nginx's 504; answers with a 5xx are at most the kills (each kill may lose the
request in flight; an event whose delivery was lost is answered 503 until its claim lapses,
and Stripe's retries then apply it); the pool is back to full size and its restart counter moved by the
kills; the coupon's count equals its redemption records and the buyers' counters, within
its limit; every paid checkout granted access exactly once, also after every event is
delivered once more; and prodenthubctl reconcile finds no mismatch (nothing_lost, checked
after every fault).

PH_FAULT_SECONDS sets how long the load runs (default 8; `scripts/dev test --long`: 120)."""

import collections
import os
import random
import threading
import time
import uuid

from stack import assert_envelope, http_json
from test_metrics import scrape, value
from test_pool import wait_for
from test_purchases import ddb  # noqa: F401 (a fixture)
from test_stripe_ops import reconcile
from test_webhook import grants

SECONDS = float(os.environ.get("PH_FAULT_SECONDS") or 8)
DDB_DOWN_S = 10
MEMCACHED_DOWN_S = 3
MAIL_DOWN_S = max(10.0, min(60.0, SECONDS / 2))   # --long: a minute
STRIPE_HANG_S = 12     # past STRIPE_TIMEOUT_MS, 10 s
KILL_EVERY_S = 0.3
LIMIT = 40
BUYERS, READERS = 3, 3
READS = ("/v1/plans/full-6months", "/v1/mock-exams", "/v1/health")


def restarts(stack):
    return value(scrape(stack)[1], "prodenthub_worker_restarts_total")


def coupon(ddb, code):  # noqa: F811
    """A fresh fixed coupon with LIMIT uses, one per buyer."""
    ddb.put_item(TableName="prodenthub-coupons", Item={
        "couponCode": {"S": code}, "type": {"S": "fixed"}, "valueCents": {"N": "500"},
        "minPurchaseCents": {"N": "0"}, "validFrom": {"S": "2025-01-01T00:00:00Z"},
        "validUntil": {"S": "2099-01-01T00:00:00Z"}, "usageLimit": {"N": str(LIMIT)},
        "usageCount": {"N": "0"}, "perUserLimit": {"N": "1"}, "applicablePlans": {"L": []},
        "status": {"S": "active"}})


def scan_all(ddb, **kw):  # noqa: F811
    items, start = [], None
    while True:
        page = ddb.scan(ConsistentRead=True, **dict(kw, **({"ExclusiveStartKey": start}
                                                          if start else {})))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


class Run:
    """The load, the killer, and everything they saw."""

    def __init__(self, stack, code):
        self.stack, self.code = stack, code
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = collections.Counter()     # (route, status or error class)
        self.log = []                            # (time, route, status or error class)
        self.deliveries = collections.Counter()  # status of each webhook delivery
        self.paid = {}                           # email -> the paid purchase
        self.events = []                         # every completed checkout's event id
        self.held = 0                            # events answered 503 (claimed by a kill)
        self.killed = []
        self.stripe = []                         # Stripe's deliveries, each on its thread
        self.errors = []                         # anything a test should not see

    def note(self, route, status):
        with self.lock:
            self.answers[(route, status)] += 1
            self.log.append((time.time(), route, status))

    def call(self, route, method, path, body=None, ip=None):
        try:
            r = self.stack.request(method, path, body=body, source_ip=ip, timeout=60)
        except OSError as e:                     # a clean connection error
            self.note(route, type(e).__name__)
            return None
        self.note(route, r.status)
        if r.status != 502:                      # nginx's, when a worker died
            assert_envelope(r, r.status)
        return r

    def deliver(self, sid):
        """Complete the session on the stand-in; deliver its event until acknowledged, backing
        off as Stripe does (an attempt whose worker was killed holds the event's claim for
        CLAIM_S, handlers/webhook.c)."""
        out = http_json("POST", self.stack.ports["STRIPE_API_BASE"] +
                        "/__stripe/sessions/%s/complete" % sid, {})
        eid, status = out["event"]["id"], out["delivery"]["status"]
        deadline, pause, held = time.time() + 60, 0.25, False
        while True:
            with self.lock:
                self.deliveries[status] += 1
                if status == 503 and not held:
                    held, self.held = True, self.held + 1
            if status == 200:
                break
            if time.time() > deadline:
                raise AssertionError("event %s never acknowledged" % eid)
            time.sleep(pause)
            pause = min(pause * 2, 4)
            status = http_json("POST", self.stack.ports["STRIPE_API_BASE"] +
                               "/__stripe/events/%s/deliver" % eid, {})["delivery"]["status"]
        with self.lock:
            self.events.append(eid)

    def buyer(self, n):
        i = 0
        while not self.stop.is_set():
            i += 1
            ip = self.stack.new_ip()     # holds with a coupon are limited per address
            email = "fault-%s-%d-%d@example.com" % (self.code.lower(), n, i)
            r = self.call("purchase", "POST", "/v1/purchases/create", ip=ip,
                          body={"planId": "basic-1month", "email": email, "code": self.code})
            if r is not None and r.status == 201 and i % 2:
                d = r.json["data"]
                with self.lock:
                    self.paid[email] = d
                t = threading.Thread(target=self.guarded, args=(self.deliver, d["sessionId"]))
                t.start()
                self.stripe.append(t)

    def reader(self, n):
        i = 0
        while not self.stop.is_set():
            if i % 50 == 0:
                ip = self.stack.new_ip()     # within the edge's rate limit
            i += 1
            self.call("read", "GET", READS[n % len(READS)], ip=ip)
            time.sleep(0.02)

    def guarded(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:                   # noqa: BLE001 (reported by the test)
            self.errors.append(repr(e))

    def run(self, fault, seconds=SECONDS):
        """The load for seconds while fault(self) runs on its own thread."""
        threads = [threading.Thread(target=self.guarded, args=(self.buyer, i))
                   for i in range(BUYERS)]
        threads += [threading.Thread(target=self.guarded, args=(self.reader, i))
                    for i in range(READERS)]
        threads.append(threading.Thread(target=self.guarded, args=(fault, self)))
        for t in threads:
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in threads + self.stripe:
            t.join()

    def statuses(self, route=None, since=0, until=None):
        return collections.Counter(s for t, r, s in self.log if (route is None or r == route)
                                   and since <= t <= (until or time.time()))


def kill_workers(run):
    """The fault: a worker killed (SIGKILL) every KILL_EVERY_S."""
    while not run.stop.wait(KILL_EVERY_S):
        live = [p for p in run.stack.worker_pids() if p not in run.killed]
        if not live:
            continue
        victim = random.choice(live)
        try:
            os.kill(victim, 9)
        except ProcessLookupError:
            continue
        run.killed.append(victim)


def coupon_consistent(ddb, code):  # noqa: F811
    """The coupon's count, once it is checked to equal its redemption records and the sum of
    its buyers' counters."""
    count = int(ddb.get_item(TableName="prodenthub-coupons", ConsistentRead=True,
                             Key={"couponCode": {"S": code}})["Item"]["usageCount"]["N"])
    usage = scan_all(ddb, TableName="prodenthub-coupon-usage",
                     FilterExpression="couponCode = :c OR begins_with(usageId, :k)",
                     ExpressionAttributeValues={":c": {"S": code},
                                                ":k": {"S": "COUNTER#%s#" % code}})
    records = [u for u in usage if not u["usageId"]["S"].startswith("COUNTER#")]
    counters = sum(int(u["uses"]["N"]) for u in usage if u["usageId"]["S"].startswith("COUNTER#"))
    assert count == len(records) == counters, (count, len(records), counters)
    return count


def nothing_lost(stack, ddb, run, since):  # noqa: F811
    """The coupon consistent; every paid checkout granted access once, also after its event
    is delivered once more; reconcile finds no mismatch."""
    code = run.code
    count = coupon_consistent(ddb, code)
    assert 0 < count <= LIMIT
    assert run.answers[("purchase", 201)] <= count
    # No purchase without its reservation, and none reserved without its purchase.
    purchases = scan_all(ddb, TableName="prodenthub-discount-purchases",
                         FilterExpression="couponCode = :c",
                         ExpressionAttributeValues={":c": {"S": code}})
    usage = scan_all(ddb, TableName="prodenthub-coupon-usage",
                     FilterExpression="couponCode = :c AND NOT begins_with(usageId, :k)",
                     ExpressionAttributeValues={":c": {"S": code}, ":k": {"S": "COUNTER#"}})
    assert sorted(p["purchaseId"]["S"] for p in purchases) == \
        sorted(u["usageId"]["S"] for u in usage)
    for eid in run.events:
        http_json("POST", stack.ports["STRIPE_API_BASE"] + "/__stripe/events/%s/deliver"
                  % eid, {})
    for email, d in run.paid.items():
        g = [x for x in grants(ddb, email) if x["grantId"]["S"] == d["purchaseId"]]
        assert len(g) == 1, (email, g)
        p = ddb.get_item(TableName="prodenthub-discount-purchases", ConsistentRead=True,
                         Key={"purchaseId": {"S": d["purchaseId"]}})["Item"]
        assert p["status"]["S"] == "paid", (email, p["status"])
    r, kinds = reconcile(stack, since)
    assert r.returncode == 0 and not kinds, (r.returncode, kinds, r.stdout[-2000:], r.stderr)


def start_run(stack, ddb):  # noqa: F811
    code = "FAULT" + uuid.uuid4().hex[:8].upper()
    coupon(ddb, code)
    return Run(stack, code), int(time.time())


def test_workers_killed_under_load_lose_nothing(stack, ddb):  # noqa: F811
    run, since = start_run(stack, ddb)
    before = restarts(stack)
    run.run(kill_workers)
    wait_for(lambda: len(stack.worker_pids()) == 2, what="the pool at full size")
    stack.wait_ready()

    kills = len(run.killed)
    statuses = run.statuses()
    fivexx = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500) + \
        sum(n for s, n in run.deliveries.items() if s and s >= 500 and s != 503)
    print("workers killed: %.0f s, %d kills, answers %s, deliveries %s, %d paid"
          % (SECONDS, kills, dict(run.answers), dict(run.deliveries), len(run.paid)))
    assert not run.errors, run.errors[:5]
    assert kills >= SECONDS / KILL_EVERY_S / 2, kills
    assert statuses[504] == 0 and not any(isinstance(s, str) and "imeout" in s
                                          for s in statuses), statuses
    assert fivexx <= kills, (fivexx, kills, statuses, run.deliveries)
    # A delivery killed in flight leaves its claim; the retries get 503 until it lapses.
    assert run.held <= kills and statuses[503] == 0, (run.held, statuses)
    assert run.statuses("read")[200] > 0
    assert restarts(stack) - before == kills
    nothing_lost(stack, ddb, run, since)


def ddb_answers(ddb):  # noqa: F811
    try:
        ddb.describe_table(TableName="prodenthub-coupons")
        return True
    except Exception:                            # noqa: BLE001 (down: any error)
        return False


def outage(stack, service, seconds, times, lead=0.0, back=None):
    """The fault: service stopped lead s into the load, for seconds, then back (back(): how;
    default: started again); times["down"] and times["up"] say when."""
    def fault(run):
        time.sleep(lead)
        times["down"] = time.time()
        stack.stop(service)
        time.sleep(seconds)
        (back or (lambda: stack.start(service)))()
        times["up"] = time.time()
    return fault


def test_dynamodb_stopped_under_load_is_503_then_recovers(stack, ddb):  # noqa: F811
    run, since = start_run(stack, ddb)
    times = {}

    def back():
        stack.start("dynamodb")
        wait_for(lambda: ddb_answers(ddb), timeout=60, what="DynamoDB Local back")

    # The load runs on past the recovery, for the figures below.
    run.run(outage(stack, "dynamodb", DDB_DOWN_S, times, min(2, SECONDS / 4), back),
            seconds=max(SECONDS, DDB_DOWN_S + 8))
    stack.wait_ready(timeout=60)
    during = run.statuses("purchase", times["down"] + 1, times["up"])
    after = [t for t, r, s in run.log if r == "purchase" and s == 201 and t > times["up"]]
    print("DynamoDB down %.1f s: purchases during %s, first 201 %.2f s after it answered; "
          "reads during %s; answers %s, deliveries %s"
          % (times["up"] - times["down"], dict(during), after[0] - times["up"] if after else -1,
             dict(run.statuses("read", times["down"] + 1, times["up"])), dict(run.answers),
             dict(run.deliveries)))
    assert not run.errors, run.errors[:5]
    assert during and set(during) <= {503}, during
    assert after and after[0] - times["up"] <= 2.0, (after[:1], times)
    assert set(run.statuses("read")) <= {200, 503}, run.statuses("read")
    nothing_lost(stack, ddb, run, since)


def test_memcached_stopped_under_load_stays_correct(stack, ddb):  # noqa: F811
    run, since = start_run(stack, ddb)
    plan = assert_envelope(stack.get("/v1/plans/full-6months", source_ip=stack.new_ip()),
                           200)["data"]
    times = {}
    run.run(outage(stack, "memcached", MEMCACHED_DOWN_S, times, min(2, SECONDS / 4),
                   stack.restart_memcached))
    print("memcached down %.1f s: answers %s, deliveries %s"
          % (times["up"] - times["down"], dict(run.answers), dict(run.deliveries)))
    assert not run.errors, run.errors[:5]
    assert set(run.statuses()) <= {200, 201}, run.statuses()
    assert run.statuses("read", times["down"] + 0.5, times["up"])[200] > 0
    # The same answers as before it stopped, and the cache in use again after.
    r = stack.get("/v1/plans/full-6months", source_ip=stack.new_ip())
    assert assert_envelope(r, 200)["data"] == plan
    wait_for(lambda: stack.get("/v1/plans/full-6months",
                               source_ip=stack.new_ip()).header("x-cache") == "hit",
             what="cache hits again")
    nothing_lost(stack, ddb, run, since)


def test_stripe_slow_then_failing_bounds_the_wait_and_charges_once(stack, ddb):  # noqa: F811
    """Stripe hanging past STRIPE_TIMEOUT_MS (10 s, one budget for all attempts): the
    purchase is answered when the budget is spent, its coupon use given back unless the
    retry got the session; the other worker goes on answering; at most one Checkout Session
    per purchase (the retry carries the same idempotency key).  Then Stripe failing (500s):
    each purchase 502, its reservation given back."""
    run, since = start_run(stack, ddb)
    base = stack.ports["STRIPE_API_BASE"] + "/__stripe/"
    http_json("POST", base + "fail", {"count": 1, "delay": STRIPE_HANG_S, "method": "POST",
                                      "path_prefix": "/v1/checkout/sessions"})
    out, t0 = {}, time.time()

    def slow():
        t0 = time.time()
        out["r"] = buy_once(stack, run.code, "slow-%s@example.com" % run.code.lower())
        out["s"] = time.time() - t0

    try:
        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        reads = []
        while t.is_alive() and len(reads) < 40:
            reads.append(stack.get("/v1/plans/full-6months", source_ip=stack.new_ip()).status)
            time.sleep(0.2)
        t.join()
    finally:
        http_json("POST", base + "reset", {})
    r = out["r"]
    print("Stripe hanging %d s: purchase answered %s after %.1f s; %d reads meanwhile %s"
          % (STRIPE_HANG_S, r.status, out["s"], len(reads), set(reads)))
    assert reads and set(reads) == {200}
    assert out["s"] < STRIPE_HANG_S
    if r.status == 201:
        pid, uses = r.json["data"]["purchaseId"], 1
    else:
        pid, uses = assert_envelope(r, r.status)["details"]["purchaseId"], 0
        assert r.status in (502, 504), r
    assert coupon_consistent(ddb, run.code) == uses
    # Then Stripe failing: every purchase refused, every reservation given back.
    http_json("POST", base + "fail", {"count": 1000, "status": 500, "method": "POST",
                                      "path_prefix": "/v1/checkout/sessions"})
    try:
        failed = [buy_once(stack, run.code, "failing-%d-%s@example.com" % (i, run.code.lower()))
                  for i in range(4)]
    finally:
        http_json("POST", base + "reset", {})
    for f in failed:
        assert_envelope(f, 502, "UPSTREAM_ERROR")
    assert coupon_consistent(ddb, run.code) == uses
    time.sleep(max(0, STRIPE_HANG_S - (time.time() - t0)) + 0.5)   # the hung call answered
    sessions = http_json("GET", base + "sessions?client_reference_id=" + pid)["data"]
    assert len(sessions) <= 1, [s["id"] for s in sessions]
    r, kinds = reconcile(stack, since)
    assert r.returncode == 0 and not kinds, (kinds, r.stdout[-2000:])


def buy_once(stack, code, email):
    return stack.post("/v1/purchases/create", source_ip=stack.new_ip(), timeout=60,
                      body={"planId": "basic-1month", "email": email, "code": code})


def test_mail_server_down_under_load_every_email_once(stack, ddb):  # noqa: F811
    """The mail server down while buyers pay: their confirmations wait in the outbox and
    each arrives once after it is back (the mailer retries with a growing pause)."""
    run, since = start_run(stack, ddb)
    times = {}
    run.run(outage(stack, "mail", MAIL_DOWN_S, times), seconds=MAIL_DOWN_S + 1)
    assert not run.errors, run.errors[:5]
    assert run.paid
    waits = []
    for email in run.paid:
        stack.wait_mail(email, timeout=MAIL_DOWN_S + 60)
        waits.append(time.time() - times["up"])
    time.sleep(2)                                # several polls of the mailer
    counts = {e: len(stack.mails(e)) for e in run.paid}
    print("mail down %.0f s: %d paid, each email once: %s, the last %.1f s after it was back"
          % (times["up"] - times["down"], len(run.paid), set(counts.values()), max(waits)))
    assert set(counts.values()) == {1}, counts
    nothing_lost(stack, ddb, run, since)
