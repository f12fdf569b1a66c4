import os

import pytest

import openapi_check
from stack import Stack

# The heavy runs (faults under load, two nodes, clock jumps: minutes) run in one build of
# `scripts/dev test` only; its sanitizer build sets PH_E2E_HEAVY=0.
HEAVY = ("test_faults.py", "test_two_nodes.py", "test_clock.py")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PH_E2E_HEAVY", "1") != "0":
        return
    skip = pytest.mark.skip(reason="heavy: PH_E2E_HEAVY=0 (run in the other build)")
    for item in items:
        if os.path.basename(str(item.fspath)) in HEAVY:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    spec = openapi_check.contract()
    if spec and spec.validated:
        terminalreporter.write_line("openapi: %d responses validated against docs/openapi.yaml "
                                    "(%d operation/status pairs)"
                                    % (spec.validated, len(spec.by_operation)))


@pytest.fixture(scope="session")
def stack():
    """One stack for the session: DynamoDB Local, memcached, the pool and nginx.

    A low rate limit (20 r/s, burst 40) as in production; tests that send many requests use
    their own loopback source address (stack.new_ip()) so they do not starve each other.
    Every DynamoDB call passes the SigV4-verifying front (t/e2e/sigfront.py).  nginx trusts
    X-Forwarded-For from 127.9.0.0/24 only, the load balancers of test_realip.py, and runs
    the WAF (WAF=on, whatever the caller's environment says)."""
    s = Stack(RATE_LIMIT_RPS=20, RATE_LIMIT_BURST=40, PRODENTHUB_WORKERS=2,
              REAL_IP_FROM="127.9.0.0/24", WAF="on",
              PRODENTHUB_SHUTDOWN_TIMEOUT=5, PH_SIGFRONT=1,
              PRODENTHUB_ADMIN_TOKEN="e2e-admin-token", BEDROCK_TIMEOUT_MS=2500)
    try:
        s.start()
        s.wait_ready()
        yield s
    finally:
        s.destroy()
