"""The data layer through the whole stack: SigV4 checked on every DynamoDB call, the
client's operations against DynamoDB Local, the cache, outages, and IMDSv2 credentials."""

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from stack import BUILDDIR, SRCDIR, Stack, assert_envelope, http_json


def front(stack, path, body=None):
    url = "http://127.0.0.1:%s/__front/%s" % (stack.ports["SIGFRONT_PORT"], path)
    return http_json("POST" if body is not None else "GET", url, body)


def ctl_env(stack, **extra):
    env = dict(os.environ, AWS_ENDPOINT_URL_DYNAMODB=stack.ports["AWS_ENDPOINT_URL_DYNAMODB"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
               AWS_REGION="ap-southeast-2")
    env.update(extra)
    return env


def test_client_operations_against_dynamodb_local(stack):
    env = ctl_env(stack, SIGFRONT_URL="http://127.0.0.1:%s" % stack.ports["SIGFRONT_PORT"])
    r = subprocess.run([os.path.join(BUILDDIR, "t", "e2e", "ddb_live")], env=env,
                       capture_output=True, text=True, timeout=300)
    sys.stdout.write(r.stdout + r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "100%" in r.stdout


def test_tables_exist_and_are_active(stack):
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "-s",
                        os.path.join(SRCDIR, "sql"), "describe-tables"],
                       env=ctl_env(stack), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    tables = [line.split()[0] for line in r.stdout.splitlines()]
    assert len(tables) == len(os.listdir(os.path.join(SRCDIR, "sql", "tables")))
    assert "prodenthub-coupons" in tables and "prodenthub-mock-exams" in tables


def test_create_tables_is_idempotent(stack):
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "-s",
                        os.path.join(SRCDIR, "sql"), "create-tables"],
                       env=ctl_env(stack), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "exists" in r.stdout and "created" not in r.stdout


def test_a_wrong_signature_is_refused_by_the_front(stack):
    before = front(stack, "stats")["rejected"]
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "-s",
                        os.path.join(SRCDIR, "sql"), "describe-tables"],
                       env=ctl_env(stack, AWS_SECRET_ACCESS_KEY="not-the-secret"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert front(stack, "stats")["rejected"] > before


def test_plan_read_through_the_cache(stack):
    r = stack.get("/v1/plans/full-6months")
    body = assert_envelope(r, 200)
    assert body["data"] == {"planId": "full-6months", "name": "Full - 6 Months",
                            "amountCents": 19900, "currency": "AUD", "durationMonths": 6,
                            "campaignId": "discount-purchase", "pricing": "fixed",
                            "family": "full", "planType": "full-6months",
                            "amount": 199.00}
    # The seed's decimal money is written with two places, exactly.
    assert '"amount":199.00' in r.body
    r2 = stack.get("/v1/plans/full-6months")
    assert r2.header("x-cache") == "hit"
    assert r2.json == body


def test_unknown_plan_is_404_and_cached(stack):
    assert_envelope(stack.get("/v1/plans/no-such-plan"), 404, "NOT_FOUND")
    r = stack.get("/v1/plans/no-such-plan")
    assert_envelope(r, 404, "NOT_FOUND")
    assert r.header("x-cache") == "hit"
    assert_envelope(stack.get("/v1/plans/BAD%20ID"), 404, "NOT_FOUND")


def test_memcached_down_reads_go_to_dynamodb_and_hits_resume(stack):
    stack.stop("memcached")
    try:
        # Past the workers' own copies (CACHE_LOCAL_MS, 1 s), each worker reads DynamoDB
        # (a miss); what it read it then keeps for that long itself, memcached or not.
        time.sleep(1.1)
        seen = set()
        for _ in range(6):
            r = stack.get("/v1/plans/premium-12months")
            assert assert_envelope(r, 200)["data"]["amountCents"] == 29900
            seen.add(r.header("x-cache"))
        assert "miss" in seen, seen
    finally:
        stack.restart_memcached()
    deadline = time.time() + 15
    while time.time() < deadline:
        if stack.get("/v1/plans/premium-12months").header("x-cache") == "hit":
            break
        time.sleep(0.3)
    else:
        raise AssertionError("cache hits did not resume")


def test_dynamodb_down_is_503_within_the_timeout_and_recovers(stack):
    stack.stop("dynamodb")
    try:
        t0 = time.time()
        r = stack.get("/v1/plans/cluster-3")
        took = time.time() - t0
        assert_envelope(r, 503, "SERVICE_UNAVAILABLE")
        assert took < 3.0 + 1.0, took      # DYNAMODB_TIMEOUT_MS (3 s) plus the edge
        assert "127.0.0.1" not in r.body
    finally:
        stack.start("dynamodb")
    stack.wait_ready(timeout=60)
    assert_envelope(stack.get("/v1/plans/cluster-3"), 200)
    assert len(stack.worker_pids()) == 2


def test_every_dynamodb_call_was_signed_correctly(stack):
    stats = front(stack, "stats")
    assert stats["ok"] > 20
    assert "local" in stats["keys_seen"]
    # Only the deliberately wrong secret above was refused.
    assert all(k in ("local",) for k in stats["keys_seen"])


@pytest.fixture(scope="module")
def imds_stack():
    """A stack with no static credentials: the pool must get them from IMDSv2."""
    home = tempfile.mkdtemp(prefix="ph-home-")
    s = Stack(PH_SIGFRONT=1, AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", HOME=home,
              PH_SEED=0, PRODENTHUB_WORKERS=2)
    keys = os.path.join(s.state, "aws-keys.json")
    with open(keys, "w") as f:
        f.write("{}")
    port_file = os.path.join(s.state, "imds.port")
    imds = subprocess.Popen([sys.executable, os.path.join(SRCDIR, "t", "e2e", "imds.py"),
                             "--listen", "0", "--keys-file", keys, "--lifetime", "12",
                             "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=open(s.state + "/imds.log", "w"))
    try:
        for _ in range(100):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        with open(port_file) as f:
            port = int(f.read())
        s.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:%d" % port
        s.imds_url = "http://127.0.0.1:%d" % port
        s.start()
        s.wait_ready()
        yield s
    finally:
        s.destroy()
        imds.terminate()
        imds.wait(10)


def test_credentials_from_imds_are_used_and_refreshed_before_expiry(imds_stack):
    s = imds_stack
    issued = http_json("GET", s.imds_url + "/__imds/stats")["credentials_issued"]
    assert issued >= 1
    keys_before = set(front(s, "stats")["keys_seen"])
    assert keys_before and all(k.startswith("ASIA") for k in keys_before)
    # 12 s credentials: the refresh window is half the lifetime less up to 30% per-worker
    # jitter, so they are refreshed 6-7.8 s after the fetch, while still valid.
    time.sleep(9)
    for _ in range(6):
        assert_envelope(s.get("/v1/ready"), 200)
    assert http_json("GET", s.imds_url + "/__imds/stats")["credentials_issued"] > issued
    assert set(front(s, "stats")["keys_seen"]) - keys_before
    assert front(s, "stats")["rejected"] == 0
