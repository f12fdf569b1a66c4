"""Stopping and reloading the pool while requests are in flight, against a DynamoDB
stand-in that answers slowly (so a request is reliably in flight when the signal lands)."""

import http.server
import os
import signal
import threading
import time

import pytest

from stack import Stack, assert_envelope

DELAY = 0.6   # under PRODENTHUB_READY_TIMEOUT_MS (800 ms): slow, but still an answer
READY_CACHE_S = 1.0   # a worker answers /v1/ready from its last result this long


class SlowDynamo(http.server.BaseHTTPRequestHandler):
    """Answers every DynamoDB call like an empty ListTables, after DELAY seconds."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(DELAY)
        body = b'{"TableNames":[]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def slow():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowDynamo)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    conf = None
    s = Stack(AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:%d" % httpd.server_address[1],
              PRODENTHUB_WORKERS=2, PRODENTHUB_SHUTDOWN_TIMEOUT=5, PH_SCHEMA=0)
    conf = os.path.join(s.state, "prodenthub.conf")
    with open(conf, "w") as f:
        f.write("PRODENTHUB_LOG_LEVEL=info\n")
    s.env["PRODENTHUB_CONFIG"] = conf
    try:
        s.start()
        s.wait_ready()
        s.conf = conf
        yield s
    finally:
        s.destroy()
        httpd.shutdown()


def in_background(fn):
    out = {}

    def run():
        try:
            out["resp"] = fn()
        except Exception as e:  # the assertion below reports it
            out["resp"] = e
    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_sighup_with_a_bad_file_keeps_the_running_configuration(slow):
    before = slow.worker_pids()
    with open(slow.conf, "w") as f:
        f.write("PRODENTHUB_WORKERS=lots\n")
    slow.signal_pool(signal.SIGHUP)
    time.sleep(1.0)
    assert slow.worker_pids() == before
    assert_envelope(slow.get("/v1/health"), 200)
    with open(slow.state + "/logs/pool.log", errors="replace") as f:
        log = f.read()
    assert "reload refused" in log and "PRODENTHUB_WORKERS" in log
    with open(slow.conf, "w") as f:
        f.write("PRODENTHUB_LOG_LEVEL=info\n")


def test_sighup_lets_a_request_in_flight_finish(slow):
    time.sleep(READY_CACHE_S)   # no worker answers from its last result: the check runs
    t, out = in_background(lambda: slow.get("/v1/ready"))
    time.sleep(DELAY / 3)
    slow.signal_pool(signal.SIGHUP)
    t.join(10)
    assert_envelope(out["resp"], 200)


def test_sigterm_lets_a_request_in_flight_finish(slow):
    time.sleep(READY_CACHE_S)
    t, out = in_background(lambda: slow.get("/v1/ready"))
    time.sleep(DELAY / 3)
    t0 = time.time()
    slow.stop("pool")
    stopped_in = time.time() - t0
    t.join(10)
    assert_envelope(out["resp"], 200)
    assert stopped_in < 5, stopped_in
    slow.start("pool")
    slow.wait_ready()
