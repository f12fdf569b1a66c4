"""Client addresses behind a load balancer (REAL_IP_FROM): the session's stack trusts
X-Forwarded-For from BALANCERS only, so rate limits, the coupon guess counter and the logs
key on the client the balancer names, and a client that sends the header itself gains
nothing."""

import json
import os
import time

import pytest

from stack import assert_envelope

# conftest.py starts the stack with REAL_IP_FROM=127.9.0.0/24; stack.new_ip() hands out
# addresses in 127.0.0.0/16, which are clients.
BALANCER = "127.9.0.1"
OTHER_BALANCER = "127.9.0.2"


def remote_of(stack, resp):
    """The client address nginx logged for this answer (the access log's "remote")."""
    rid = resp.header("x-request-id")
    deadline = time.time() + 3
    while time.time() < deadline:
        with open(os.path.join(stack.state, "logs", "access.log"), errors="replace") as f:
            for line in f:
                if rid in line and line.endswith("\n"):
                    return json.loads(line)["remote"]
        time.sleep(0.1)
    raise AssertionError("no access log line for %s" % rid)


@pytest.mark.parametrize("source,xff,seen", [
    (BALANCER, "203.0.113.7", "203.0.113.7"),
    # The balancer appends the address it saw: what comes before is the client's to forge.
    (BALANCER, "198.51.100.1, 203.0.113.8", "203.0.113.8"),
    # Balancers in a chain are skipped; the first untrusted address from the right wins.
    (BALANCER, "203.0.113.9, 127.9.0.7", "203.0.113.9"),
    (BALANCER, None, BALANCER),
    ("client", "203.0.113.10", "client"),
    ("client", None, "client"),
])
def test_the_client_address_comes_from_a_trusted_balancer_only(stack, source, xff, seen):
    ip = stack.new_ip() if source == "client" else source
    headers = {"X-Forwarded-For": xff} if xff else {}
    r = stack.get("/v1/health", headers=headers, source_ip=ip)
    assert r.status == 200
    assert remote_of(stack, r) == (ip if seen == "client" else seen)


def burst(stack, source, xff_of, n=120):
    """n requests to a rate-limited route from source, X-Forwarded-For xff_of(i)."""
    return [stack.get("/v1/teams/t1", source_ip=source,
                      headers={"X-Forwarded-For": xff_of(i)}).status for i in range(n)]


def test_the_rate_limit_keys_on_the_forwarded_client(stack):
    statuses = burst(stack, BALANCER, lambda i: "203.0.113.20")
    assert 429 in statuses and statuses[0] == 404, statuses
    # Another client behind the same balancer is not affected, nor the balancer itself.
    assert stack.get("/v1/teams/t1", source_ip=BALANCER,
                     headers={"X-Forwarded-For": "203.0.113.21"}).status == 404
    assert stack.get("/v1/teams/t1", source_ip=OTHER_BALANCER,
                     headers={"X-Forwarded-For": "203.0.113.22"}).status == 404


def test_a_client_cannot_dodge_the_rate_limit_with_the_header(stack):
    ip = stack.new_ip()
    statuses = burst(stack, ip, lambda i: "203.0.113.%d" % (100 + i))
    assert 429 in statuses, statuses


def guess(stack, source, client, code):
    return stack.post("/v1/coupons/validate", body={"code": code, "planId": "full-6months"},
                      source_ip=source, headers={"X-Forwarded-For": client})


@pytest.mark.parametrize("behind_balancer", [True, False])
def test_the_coupon_guess_counter_keys_on_the_client(stack, behind_balancer):
    source = BALANCER if behind_balancer else stack.new_ip()
    client = "203.0.113.%d" % (30 if behind_balancer else 31)
    for i in range(10):
        d = assert_envelope(guess(stack, source, client, "REALIP%03d" % i), 200)["data"]
        assert d["valid"] is False and d["reason"] == "NOT_FOUND", d
    # The same client again, whatever it puts in the header itself, is out of guesses: on
    # every worker once their own copies of the count are renewed (CACHE_LOCAL_MS, 1 s).
    time.sleep(1.1)
    forged = client if behind_balancer else "203.0.113.99"
    assert_envelope(guess(stack, source, forged, "REALIP999"), 429, "RATE_LIMITED")
    if behind_balancer:
        # Another client of the same balancer still has its guesses.
        d = assert_envelope(guess(stack, BALANCER, "203.0.113.32", "SAVE20"), 200)["data"]
        assert d["valid"] is True, d
