"""GET /metrics on nginx's metrics listener: the counters the workers keep in the master's
shared memory move by what was done, the text passes `promtool check metrics`, the public
edge has no such path, and a worker killed neither loses counts nor makes them go back."""

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from stack import assert_envelope
from test_webhook import buy, deliver, event, session_obj, signed

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, ((label, value), ...)): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = tuple(sorted(LABEL.findall(m.group(3) or "")))
        key = (m.group(1), labels)
        assert key not in out, "series printed twice: %r" % line
        out[key] = float(m.group(4))
    return out


def scrape(stack):
    r = stack.metrics()
    assert r.status == 200, r
    assert r.header("content-type").startswith("text/plain; version=0.0.4"), r.headers
    return r.body, parse(r.body)


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def test_the_public_edge_has_no_metrics(stack):
    for path in ("/metrics", "/metrics/", "/v1/metrics", "/v1/../metrics", "/%6detrics"):
        r = stack.get(path, source_ip=stack.new_ip())
        assert_envelope(r, 404, "NOT_FOUND")
        assert "prodenthub_" not in r.body


def test_the_metrics_listener_serves_only_get_metrics(stack):
    assert stack.metrics("/v1/health").status == 404
    assert stack.metrics("/").status == 404
    assert stack.metrics(method="POST").status == 403
    r = stack.metrics(method="HEAD")
    assert r.status == 200 and r.body == ""


def test_counters_move_by_what_was_done(stack):
    before_text, before = scrape(stack)
    ip = stack.new_ip()
    for _ in range(3):
        assert stack.get("/v1/health", source_ip=ip).status == 200
    assert_envelope(stack.get("/v1/plans/no-such-plan", source_ip=ip), 404)
    assert_envelope(stack.get("/v1/no-such-route", source_ip=ip), 404)

    # A purchase with a coupon, through the Stripe stand-in, paid by the webhook.
    d = buy(stack, "metrics@example.com", code="SAVE20")
    paid = event("checkout.session.completed", session_obj(d))
    assert deliver(stack, paid, signed(paid)).status == 200
    assert deliver(stack, paid, signed(paid)).status == 200          # a duplicate
    pi = event("payment_intent.succeeded", {
        "id": "pi_" + d["purchaseId"][4:], "object": "payment_intent", "status": "succeeded",
        "amount_received": d["finalAmountCents"], "currency": "aud",
        "metadata": {"campaignId": "discount-purchase", "purchaseId": d["purchaseId"]}})
    assert deliver(stack, pi, signed(pi)).status == 200
    bad = event("checkout.session.completed", {"id": "cs_x"})
    assert deliver(stack, bad, signed(bad, secret="whsec_wrong")).status == 400
    after_text, after = scrape(stack)

    http = "prodenthub_http_requests_total"
    assert moved(before, after, http, route="/v1/health", code="200") == 3
    assert moved(before, after, http, route="/v1/plans/{planId}", code="404") == 1
    assert moved(before, after, http, route="none", code="404") == 1
    assert moved(before, after, http, route="/v1/purchases/create", code="201") == 1
    assert moved(before, after, http, route="/v1/webhook/stripe", code="200") == 3
    assert moved(before, after, http, route="/v1/webhook/stripe", code="400") == 1
    assert moved(before, after, http, route="/metrics", code="200") == 1      # the first scrape
    hist = "prodenthub_http_request_duration_seconds"
    assert moved(before, after, hist + "_count", route="/v1/health") == 3
    assert moved(before, after, hist + "_bucket", route="/v1/health", le="+Inf") == 3
    assert moved(before, after, hist + "_sum", route="/v1/health") > 0

    ev = "prodenthub_webhook_events_total"
    assert moved(before, after, ev, type="checkout.session.completed", outcome="applied") == 1
    assert moved(before, after, ev, type="checkout.session.completed", outcome="duplicate") == 1
    assert moved(before, after, ev, type="payment_intent.succeeded", outcome="applied") == 1
    assert moved(before, after, ev, type="other", outcome="refused") == 1

    camp = "discount-purchase"
    assert moved(before, after, "prodenthub_checkouts_opened_total", campaign=camp) == 1
    assert moved(before, after, "prodenthub_checkouts_paid_total", campaign=camp) == 1
    assert moved(before, after, "prodenthub_payments_total", campaign=camp,
                 outcome="succeeded") == 1
    assert moved(before, after, "prodenthub_coupon_redemptions_total", coupon="SAVE20") == 1
    assert moved(before, after, "prodenthub_stripe_requests_total", resource="checkout") >= 1
    assert moved(before, after, "prodenthub_dynamodb_requests_total",
                 operation="TransactWriteItems") >= 2
    assert value(after, "prodenthub_build_info", version=stack_version(stack)) == 1
    assert ("prodenthub_outbox_backlog", ()) in after, after_text[-2000:]

    promtool_check(before_text)
    promtool_check(after_text)


SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def src(*parts):
    with open(os.path.join(SRC, *parts), encoding="utf-8") as f:
        return f.read()


def test_the_cloudwatch_agent_reads_what_the_pool_serves(stack):
    """deploy/'s agent configs scrape the listener's default address, every selector and
    dimension of theirs names a family and labels the pool serves, and every alarm of
    infra/ on a prodenthub_ metric has a selector, so the alarm gets data."""
    d = buy(stack, "agent@example.com")                  # so the labelled families have series
    paid = event("checkout.session.completed", session_obj(d))
    assert deliver(stack, paid, signed(paid)).status == 200
    _, samples = scrape(stack)
    labels = {}
    for name, lab in samples:
        labels.setdefault(name, set()).update(k for k, _ in lab)

    scrape_cfg = yaml.safe_load(src("deploy", "prometheus-scrape.yaml"))
    job = scrape_cfg["scrape_configs"][0]
    default = re.search(r"PRODENTHUB_METRICS_LISTEN:-([0-9.:]+)\}", src("scripts", "nginx-render"))
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == [default.group(1)]

    agent = json.loads(src("deploy", "cloudwatch-agent-prometheus.json"))
    prom = agent["logs"]["metrics_collected"]["prometheus"]
    assert prom["prometheus_config_path"].endswith("/prometheus.yaml")
    selectors = []
    for decl in prom["emf_processor"]["metric_declaration"]:
        assert decl["source_labels"] == ["job"] and re.search(decl["label_matcher"], job["job_name"])
        for sel in decl["metric_selectors"]:
            names = [n for n in labels if re.search(sel, n)]
            assert names, "%s selects nothing the pool serves" % sel
            selectors.append(sel)
            for dims in decl["dimensions"]:
                for n in names:
                    missing = set(dims) - {"job"} - labels[n]
                    assert not missing, "%s has no label %s" % (n, sorted(missing))

    alarms = re.findall(r'metric_name\s*=\s*"(prodenthub_[a-z_]+)"',
                        src("infra", "terraform", "modules", "monitoring", "main.tf"))
    assert alarms
    for name in alarms:
        assert name in labels, "alarm on %s: the pool serves no such metric" % name
        assert any(re.search(sel, name) for sel in selectors), "alarm on %s: not sent" % name


def stack_version(stack):
    return stack.get("/v1/health").json["data"]["version"]


def promtool_check(text):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool is not installed (Debian's prometheus; scripts/deps)")
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, "promtool:\n%s%s" % (r.stdout, r.stderr)


def test_a_killed_worker_is_counted_and_no_counter_goes_back(stack):
    ip = stack.new_ip()
    for _ in range(10):
        assert stack.get("/v1/health", source_ip=ip).status == 200
    _, before = scrape(stack)
    old = stack.worker_pids()
    os.kill(old[0], signal.SIGKILL)
    deadline = time.time() + 15
    while time.time() < deadline:
        now = stack.worker_pids()
        if len(now) == len(old) and old[0] not in now:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the killed worker was not replaced\n" + stack.logs("pool"))
    stack.wait_ready()
    for _ in range(4):      # both workers scrape at least once, in all likelihood
        _, after = scrape(stack)
        assert value(after, "prodenthub_worker_restarts_total") == \
            value(before, "prodenthub_worker_restarts_total") + 1
        for key, v in before.items():
            if key[0].endswith(("_total", "_count", "_bucket", "_sum")):
                assert after.get(key, 0.0) >= v, (key, v, after.get(key))
