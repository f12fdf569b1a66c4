#!/usr/bin/python3
"""An EC2 Instance Metadata Service (IMDSv2 only) stand-in for the tests.

    imds.py --listen PORT [--keys-file FILE] [--lifetime SECONDS] [--role NAME]
            [--port-file FILE]

--listen 0 picks a free port; the port is printed on stdout (and written to --port-file,
atomically, once listening).  Listens on 127.0.0.1 only; runs until SIGTERM/SIGINT; one log
line per request on stderr.

Protocol, as the real service:
    PUT /latest/api/token  (X-aws-ec2-metadata-token-ttl-seconds: 1..21600)  -> token
        400 without/with a bad TTL, 403 when X-Forwarded-For is present
    GET /latest/...  needs X-aws-ec2-metadata-token (valid, unexpired), else 401
    GET /latest/meta-data/iam/security-credentials/        -> the role name
    GET /latest/meta-data/iam/security-credentials/ROLE    -> credentials JSON
        Every GET issues a NEW key (ASIA...), secret and token, valid --lifetime seconds
        (21600); the key is merged into --keys-file ({"AKID": "secret"}) and its token
        into FILE.tokens ({"AKID": "token"}), each atomically, so sigfront.py accepts it.
    anything else -> 404

Control (no token needed):
    GET  /__imds/stats            {"tokens_issued", "credentials_issued", "last_access_key",
                                   "last_token", "requests", "unauthorized"}
    POST /__imds/fail  {"count": N, "status": 500, "path": "security-credentials"}
                                  next N /latest/ requests (whose path contains "path",
                                  if given) answer that status; {"count": N, "drop": true}
                                  closes the connection instead
    POST /__imds/expire-tokens    every session token issued so far becomes invalid (401)
    POST /__imds/reset            counters, faults and tokens cleared
"""

import argparse
import base64
import datetime
import json
import os
import secrets
import socket
import string
import sys
import threading
import time

import http.server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import standin  # noqa: E402  (t/standin.py)

TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"
ALNUM = string.ascii_uppercase + string.digits


log = standin.logger("imds")


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def write_json_atomic(path, obj):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def merge_json(path, key, value):
    try:
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict):
            data = {}
    except FileNotFoundError:
        data = {}
    except ValueError as e:
        log("%s is not valid JSON (%s); rewriting it", path, e)
        data = {}
    data[key] = value
    write_json_atomic(path, data)


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.tokens = {}                # token -> expiry (monotonic)
        self.tokens_issued = 0
        self.credentials_issued = 0
        self.last_access_key = None
        self.last_token = None
        self.requests = 0
        self.unauthorized = 0
        self.faults = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""

    def log_message(self, fmt, *args):
        log("%s %s", self.client_address[0], fmt % args)

    def log_request(self, code="-", size="-"):
        pass

    def _send(self, status, body, ctype="text/plain", headers=(), note=""):
        if isinstance(body, str):
            body = body.encode()
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        self.send_header("Server", self.server_version)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        log("%s %s %s %s %s %.1fms", self.client_address[0], self.command, self.path,
            status, note, (time.monotonic() - self.t0) * 1000)

    def _handle(self):
        self.t0 = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        path = self.path.split("?")[0]
        if path.startswith("/__imds/"):
            return self._control(path, body)
        st = self.server.state
        with st.lock:
            st.requests += 1
            fault = None
            for f in st.faults:
                if f.get("path") and f["path"] not in path:
                    continue
                f["count"] -= 1
                if f["count"] <= 0:
                    st.faults.remove(f)
                fault = dict(f)
                break
        if fault:
            if fault.get("drop"):
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                log("%s %s %s - INJECTED drop", self.client_address[0], self.command,
                    self.path)
                return
            return self._send(fault["status"], fault.get("body", ""), note="INJECTED")
        if path == "/latest/api/token":
            if self.command != "PUT":
                return self._send(405, "", note="token needs PUT")
            return self._token()
        if self.command not in ("GET", "HEAD"):
            return self._send(405 if path.startswith("/latest/") else 404, "")
        if not path.startswith("/latest/"):
            return self._send(404, "", note="not found")
        tok = self.headers.get(TOKEN_HEADER)
        now = time.monotonic()
        with st.lock:
            ok = tok is not None and st.tokens.get(tok, 0) > now
            if not ok:
                st.unauthorized += 1
        if not ok:
            return self._send(401, "", note="no valid token" if tok else "no token")
        role = self.server.opts.role
        if path in (CREDS_PATH, CREDS_PATH.rstrip("/")):
            return self._send(200, role)
        if path.startswith(CREDS_PATH):
            if path[len(CREDS_PATH):].rstrip("/") != role:
                return self._send(404, "", note="unknown role")
            return self._credentials()
        return self._send(404, "", note="not found")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

    def _token(self):
        st = self.server.state
        if self.headers.get("X-Forwarded-For") is not None:
            return self._send(403, "", note="X-Forwarded-For")
        raw = self.headers.get(TTL_HEADER)
        try:
            ttl = int(raw)
        except (TypeError, ValueError):
            ttl = 0
        if not 1 <= ttl <= 21600:
            return self._send(400, "", note="bad ttl %r" % raw)
        token = secrets.token_urlsafe(42)
        with st.lock:
            now = time.monotonic()
            st.tokens = {t: e for t, e in st.tokens.items() if e > now}
            st.tokens[token] = now + ttl
            st.tokens_issued += 1
        return self._send(200, token, headers=[(TTL_HEADER, str(ttl))], note="ttl=%d" % ttl)

    def _credentials(self):
        st = self.server.state
        opts = self.server.opts
        akid = "ASIA" + "".join(secrets.choice(ALNUM) for _ in range(16))
        # Real-looking: a 40-character base64 secret, a ~1100-character base64 token
        # (both with '+', '/' and '=' now and then).
        secret = base64.b64encode(os.urandom(30)).decode()
        token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(
            os.urandom(self.server.opts.token_bytes)).decode()
        now = time.time()
        doc = {"Code": "Success", "LastUpdated": iso(now), "Type": "AWS-HMAC",
               "AccessKeyId": akid, "SecretAccessKey": secret, "Token": token,
               "Expiration": iso(now + opts.lifetime)}
        if opts.keys_file:
            with self.server.file_lock:
                # Token first: once the key is visible, its token binding is too.
                merge_json(opts.keys_file + ".tokens", akid, token)
                merge_json(opts.keys_file, akid, secret)
        with st.lock:
            st.credentials_issued += 1
            st.last_access_key = akid
            st.last_token = token
        return self._send(200, json.dumps(doc, indent=2), note="issued %s" % akid)

    def _control(self, path, body):
        st = self.server.state
        if path == "/__imds/stats" and self.command == "GET":
            with st.lock:
                out = {"tokens_issued": st.tokens_issued,
                       "credentials_issued": st.credentials_issued,
                       "last_access_key": st.last_access_key,
                       "last_token": st.last_token,
                       "requests": st.requests, "unauthorized": st.unauthorized,
                       "faults_pending": [dict(f) for f in st.faults]}
            return self._send(200, json.dumps(out), "application/json")
        if self.command == "POST" and path == "/__imds/reset":
            with st.lock:
                st.reset()
            return self._send(200, '{"reset": true}', "application/json")
        if self.command == "POST" and path == "/__imds/expire-tokens":
            with st.lock:
                n = len(st.tokens)
                st.tokens = {}
            return self._send(200, json.dumps({"expired": n}), "application/json")
        if self.command == "POST" and path == "/__imds/fail":
            try:
                spec = json.loads(body or b"{}")
                fault = {"count": int(spec.get("count", 1))}
                if spec.get("drop"):
                    fault["drop"] = True
                else:
                    fault["status"] = int(spec.get("status", 500))
                    fault["body"] = str(spec.get("body", ""))
                if spec.get("path"):
                    fault["path"] = str(spec["path"])
            except (ValueError, TypeError, AttributeError) as e:
                return self._send(400, json.dumps({"error": str(e)}), "application/json")
            if fault["count"] > 0:
                with st.lock:
                    st.faults.append(fault)
            return self._send(200, json.dumps({"queued": fault}), "application/json")
        return self._send(404, json.dumps({"error": "unknown control"}), "application/json")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1; 0 = any")
    ap.add_argument("--keys-file", help="merge each issued key into this JSON file")
    ap.add_argument("--lifetime", type=int, default=21600,
                    help="seconds until the issued credentials' Expiration (21600)")
    ap.add_argument("--role", default="prodenthub-api")
    ap.add_argument("--token-bytes", type=int, default=800,
                    help="random bytes in each session token (800 = ~1100 characters)")
    ap.add_argument("--port-file", help="write the listening port here (atomically)")
    opts = ap.parse_args(argv)

    server = standin.Server(("127.0.0.1", opts.listen), Handler)
    server.opts = opts
    server.state = State()
    server.file_lock = threading.Lock()
    standin.serve(server, opts.port_file, log,
                  "listening on 127.0.0.1:%d, role %s, lifetime %ds, keys file %s",
                  server.server_address[1], opts.role, opts.lifetime,
                  opts.keys_file or "(none)")


if __name__ == "__main__":
    main()
