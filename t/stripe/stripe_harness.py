"""What the tests of the Stripe stand-in share (conftest.py holds their fixtures): the key and
secrets, the official Stripe library's exceptions (E), a webhook receiver, the stand-in run as
a subprocess on a free port, and helpers that make Checkout Sessions and verify webhooks with
the library."""

import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time

import stripe

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "stripe_standin.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
KEY = "sk_test_local"
WHSEC = "whsec_local"
API_VERSION = "2024-06-20"

# The exceptions live in stripe.error up to stripe-python 7 (Debian's python3-stripe is 5.0.0)
# and in stripe._error from 8 on (stripe.error is then a deprecated alias).
E = stripe._error if hasattr(stripe, "_error") else stripe.error
_http_client = getattr(stripe, "_http_client", None) or stripe.http_client


# --- helpers -------------------------------------------------------------------------------

class Receiver:
    """A webhook endpoint: records (headers, raw body); answers self.status."""

    def __init__(self):
        self.records = []
        self.cond = threading.Condition()
        self.status = 200
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with rec.cond:
                    rec.records.append({"path": self.path, "headers": dict(self.headers),
                                        "body": body})
                    rec.cond.notify_all()
                out = json.dumps({"received": True}).encode()
                self.send_response(rec.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/v1/webhook/stripe" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def clear(self):
        with self.cond:
            self.records = []
            self.status = 200

    def matching(self, type_=None, obj_id=None):
        out = []
        for r in self.records:
            ev = json.loads(r["body"])
            if type_ and ev["type"] != type_:
                continue
            if obj_id and ev["data"]["object"]["id"] != obj_id:
                continue
            out.append(r)
        return out

    def wait(self, type_=None, obj_id=None, count=1, timeout=5.0):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                got = self.matching(type_, obj_id)
                if len(got) >= count:
                    return got
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s webhook for %s (got %s)" % (
                        type_, obj_id, [json.loads(r["body"])["type"] for r in self.records]))
                self.cond.wait(left)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class StandIn:
    def __init__(self, tmp_path, *extra, name="standin"):
        self.port_file = str(tmp_path / ("%s.port" % name))
        self.log = open(str(tmp_path / ("%s.log" % name)), "w")
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--listen", "0", "--port-file", self.port_file] + list(extra),
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        assert line.strip().isdigit(), "stand-in did not start: %r" % line
        self.port = int(line)
        with open(self.port_file) as f:
            assert int(f.read()) == self.port
        self.base = "http://127.0.0.1:%d" % self.port

    def request(self, method, path, body=None, headers=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = raw if raw is not None else (
                json.dumps(body).encode() if body is not None else None)
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            text = resp.read()
            return resp.status, dict(resp.getheaders()), text
        finally:
            conn.close()

    def control(self, method, path, body=None, expect=200):
        status, _, text = self.request(method, "/__stripe/" + path.lstrip("/"),
                                       body if body is not None or method == "GET" else {})
        assert status == expect, (status, text)
        return json.loads(text)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.log.close()
        assert rc == 0, "stand-in exited %s" % rc
        assert not os.path.exists(self.port_file)
        return rc


def line_items(*amounts):
    return [{"price_data": {"currency": "aud", "unit_amount": a,
                            "product_data": {"name": "Plan %d" % a}},
             "quantity": q} for a, q in amounts]


def new_session(**kw):
    params = dict(mode="payment", line_items=line_items((19900, 1)),
                  success_url="https://app.test/ok?session={CHECKOUT_SESSION_ID}",
                  cancel_url="https://app.test/cancel", metadata={"campaignId": "c-1"})
    params.update(kw)
    return stripe.checkout.Session.create(**params)


def verify(record, secret=WHSEC):
    """The independent check: the official library's webhook verification."""
    return stripe.Webhook.construct_event(record["body"], record["headers"]["Stripe-Signature"],
                                          secret)


RETURN_URL = "https://app.test/dashboard?session_id={CHECKOUT_SESSION_ID}"


def new_subscription_session(**kw):
    params = dict(mode="subscription", ui_mode="embedded", return_url=RETURN_URL,
                  line_items=[{"price": "price_pro_monthly", "quantity": 1}],
                  client_reference_id="user-1", metadata={"userId": "user-1"},
                  subscription_data={"metadata": {"userId": "user-1"}})
    params.update(kw)
    return stripe.checkout.Session.create(**params)
