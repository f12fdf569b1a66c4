"""Tests of stripe_standin.py, with the official Stripe Python library as the client and as the
independent verifier of webhook signatures: one file per part (test_stripe_*.py), the
fixtures here and the helpers in stripe_harness.py.

    cd t/stripe && /usr/bin/python3 -m pytest -q -p no:cacheprovider .

make check runs them with the end-to-end tests (t/e2e/run collects . and ../stripe).  They
share one stand-in, run as a subprocess on a free port, and a small webhook receiver
(http.server in a thread) that records what it is sent; each test starts from a reset
stand-in and an empty receiver.  Every server is stopped at the end (SIGTERM, exit 0).
"""

import pytest
import stripe

from stripe_harness import API_VERSION, KEY, WHSEC, Receiver, StandIn, _http_client


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def standin(tmp_path_factory, receiver):
    tmp = tmp_path_factory.mktemp("stripe")
    s = StandIn(tmp, "--webhook-url", receiver.url, "--secret-key", KEY,
                "--webhook-secret", WHSEC)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(autouse=True)
def fresh(request, monkeypatch):
    """Each test: a reset stand-in, an empty receiver and the library pointed at the stand-in
    without retries (tests that want them set them)."""
    if "standin" in request.fixturenames:
        s = request.getfixturevalue("standin")
        s.control("POST", "reset")
        request.getfixturevalue("receiver").clear()
        monkeypatch.setattr(stripe, "api_base", s.base)
    monkeypatch.setattr(stripe, "api_key", KEY)
    monkeypatch.setattr(stripe, "api_version", API_VERSION)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    # the library sleeps >= 0.5 s between retries; keep the suite fast
    monkeypatch.setattr(_http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(_http_client.HTTPClient, "MAX_DELAY", 0.02)
    yield
