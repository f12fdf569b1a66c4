"""The local stack for end-to-end tests: scripts/stack in a temporary state folder, on free
ports, and an HTTPS client that talks to it through nginx exactly as a browser would."""

import http.client
import json
import os
import socket
import shutil
import ssl
import subprocess
import tempfile
import time

import openapi_check

SRCDIR = os.environ.get("PH_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("PH_BUILDDIR") or os.path.join(SRCDIR, "build")
STACK = os.path.join(SRCDIR, "scripts", "stack")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


class Stack:
    """One running stack; .start() and .stop() wrap scripts/stack."""

    def __init__(self, **env):
        self.state = tempfile.mkdtemp(prefix="ph-e2e-")
        cache = os.environ.get("PRODENTHUB_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "prodenthub")
        # The caller's AWS and Stripe settings never reach the stack: it has its own.
        inherited = {k: v for k, v in os.environ.items()
                     if not k.startswith(("AWS_", "STRIPE_"))}
        self.env = dict(inherited, PH_STATE=self.state, PH_BUILDDIR=BUILDDIR,
                        PRODENTHUB_CACHE=cache)
        self.env.update({k: str(v) for k, v in env.items()})
        self.ports = {}
        self._ip = 1

    def run(self, *args, check=True):
        return subprocess.run([STACK] + list(args), env=self.env, check=check,
                              capture_output=True, text=True, timeout=120)

    def start(self, *services):
        r = self.run("start", *services, check=False)
        if r.returncode != 0:
            raise RuntimeError("stack start failed: %s\n%s" % (r.stderr, self.logs()))
        with open(os.path.join(self.state, "stack.env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.ports[k] = v.strip("'")
        self.https_port = int(self.ports["HTTPS_PORT"])
        self.http_port = int(self.ports["HTTP_PORT"])
        self.metrics_port = int(self.ports["METRICS_PORT"])
        self.ctx = ssl.create_default_context(
            cafile=os.path.join(self.state, "tls", "cert.pem"))

    def stop(self, *services):
        self.run("stop", *services, check=False)

    def destroy(self):
        self.stop()
        if os.environ.get("PH_E2E_KEEP"):
            print("stack state kept in", self.state)
        else:
            shutil.rmtree(self.state, ignore_errors=True)

    def logs(self, name=None):
        d = os.path.join(self.state, "logs")
        out = []
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name and not f.startswith(name):
                continue
            with open(os.path.join(d, f), errors="replace") as fh:
                out.append("== %s ==\n%s" % (f, fh.read()[-4000:]))
        return "\n".join(out)

    def pid(self, service):
        with open(os.path.join(self.state, service + ".pid")) as f:
            return int(f.read())

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.pid("pool"))],
                             capture_output=True, text=True).stdout
        return sorted(int(p) for p in out.split())

    def signal_pool(self, sig):
        os.kill(self.pid("pool"), sig)

    def new_ip(self):
        """A fresh loopback source address, so each test has its own rate-limit bucket."""
        self._ip += 1
        return "127.0.%d.%d" % (self._ip // 250, self._ip % 250 + 2)

    def request(self, method, path, body=None, headers=None, source_ip="127.0.0.1",
                https=True, timeout=10):
        if https:
            conn = http.client.HTTPSConnection("localhost", self.https_port, context=self.ctx,
                                               timeout=timeout, source_address=(source_ip, 0))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout,
                                              source_address=(source_ip, 0))
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read().decode("utf-8", "replace")
            resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()
        # Every answer is held to docs/openapi.yaml (t/e2e/openapi_check.py).
        spec = openapi_check.contract()
        if spec:
            spec.check(method, path, https, resp)
        return resp

    def metrics(self, path="/metrics", method="GET", timeout=10):
        """An answer of nginx's metrics listener (plain HTTP on 127.0.0.1), not held to the
        API's contract: the listener is the host's, not the public API."""
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=timeout)
        try:
            conn.request(method, path)
            r = conn.getresponse()
            data = r.read().decode("utf-8", "replace")
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def memcached(self, cmd):
        """One command to the stack's memcached, as bytes; the start of its answer."""
        with socket.create_connection(("127.0.0.1", int(self.ports["MEMCACHED_PORT"])), 5) as s:
            s.sendall(cmd)
            return s.recv(64)

    def restart_memcached(self, timeout=15):
        """Start memcached again and wait until every worker uses it (they retry a dead
        server after libmemcached's back-off), so later tests see a healthy cache.  The
        streak of good answers outlasts a worker's kept readiness result (about 1 s)."""
        self.start("memcached")
        deadline, streak = time.time() + timeout, 0
        while time.time() < deadline and streak < 12:
            r = self.get("/v1/ready")
            ok = r.status == 200 and r.json["data"]["checks"]["memcached"]["ok"]
            streak = streak + 1 if ok else 0
            time.sleep(0.1)
        if streak < 12:
            raise AssertionError("memcached not back in use after %ss" % timeout)

    # --- the local user pool (cognito-local) ------------------------------------------------

    def cognito(self):
        """The local pool's settings (COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID, COGNITO_ISSUER,
        COGNITO_LOCAL_URL), as scripts/cognito-pool setup wrote them."""
        out = {}
        with open(os.path.join(self.state, "cognito.env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                out[k] = v
        return out

    def token(self, email, access=False):
        """A token from the local pool for the user `email` (created on first use): the ID
        token, or with access=True the access token."""
        c = self.cognito()
        args = [os.path.join(SRCDIR, "scripts", "cognito-pool"), "token",
                c["COGNITO_LOCAL_URL"], os.path.join(self.state, "cognito.env"), email]
        if access:
            args.append("--access")
        return subprocess.run(args, check=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()

    def bearer(self, email, access=False):
        return {"Authorization": "Bearer " + self.token(email, access)}

    # --- the local mail server (maildev) ---------------------------------------------------

    def mails(self, to=None):
        """Every message maildev holds (oldest first), optionally only those to one address."""
        url = "http://127.0.0.1:%s/api/email" % self.ports["MAIL_WEB_PORT"]
        msgs = http_json("GET", url)
        if to:
            msgs = [m for m in msgs if any(a["address"].lower() == to.lower() for a in m["to"])]
        return msgs

    def wait_mail(self, to, count=1, timeout=20):
        """The messages to `to` once there are at least `count` of them."""
        deadline = time.time() + timeout
        while True:
            got = self.mails(to)
            if len(got) >= count or time.time() > deadline:
                break
            time.sleep(0.2)
        assert len(got) >= count, "%d mail(s) to %s after %ss\n%s" % (
            len(got), to, timeout, self.logs("mailer"))
        return got

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.get("/v1/ready").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("stack not ready after %ss\n%s" % (timeout, self.logs()))


def assert_envelope(resp, status, code=None):
    """The error envelope of the seeds, with the request id nginx assigned."""
    assert resp.status == status, resp
    assert resp.header("content-type").startswith("application/json"), resp.headers
    body = resp.json
    rid = resp.header("x-request-id")
    assert rid and len(rid) == 32, resp.headers
    if status < 400:
        assert body["success"] is True
        return body
    assert body["success"] is False, body
    assert isinstance(body["error"], str) and body["error"], body
    assert isinstance(body["details"], dict), body
    assert body["details"]["requestId"] == rid, (body, rid)
    if code:
        assert body["code"] == code, body
    return body


def http_json(method, url, body=None, timeout=10):
    """A plain HTTP call to a local test server (the fronts' control paths)."""
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")
