#!/usr/bin/python3
"""A stand-in for AWS Systems Manager Parameter Store (GetParameter, GetParameters), for the
tests and the local stack.  Standard library only.

    ssm_standin.py --listen PORT --params-file FILE [--region REGION] [--account ID]
                   [--port-file FILE]

--listen 0 picks a free port; the port is printed on stdout (and written to --port-file,
atomically, once listening).  Listens on 127.0.0.1 only; runs until SIGTERM/SIGINT (exit 0);
one log line per request on stderr, naming parameters, never a value.

It does not check signatures: run it behind t/e2e/sigfront.py, which does (with botocore).
It checks what the front cannot know: the request is signed for this service (the credential
scope's service is "ssm", and its region --region when given), as SSM refuses a request
signed for another.

Parameters: --params-file is a JSON object, re-read whenever it changes (write it atomically):
    {"/prodenthub/dev/stripe-webhook-secret": "whsec_...",          a SecureString
     "/prodenthub/dev/api-base": {"Value": "https://...", "Type": "String"},
     "/prodenthub/dev/denied": {"Value": "x", "Deny": true}}      AccessDeniedException
Each parameter's Version starts at 1 and goes up by one, and its LastModifiedDate moves,
whenever the file gives it another value or type.

The wire format (JSON 1.1, as SSM): POST / with Content-Type: application/x-amz-json-1.1
    X-Amz-Target: AmazonSSM.GetParameter   {"Name": "/x", "WithDecryption": true}
        -> {"Parameter": {"Name", "Type", "Value", "Version", "LastModifiedDate", "ARN",
            "DataType": "text"}}; a SecureString read without decryption answers its
            ciphertext (base64), as SSM does
    X-Amz-Target: AmazonSSM.GetParameters  {"Names": [... at most 10], "WithDecryption"}
        -> {"Parameters": [...], "InvalidParameters": [names not found]}
    Errors: HTTP 400 with {"__type": T, "message": M} and the header x-amzn-ErrorType: T:
    ParameterNotFound, AccessDeniedException (a parameter marked Deny; for GetParameters
    when any name is), ValidationException (a bad body or name), InvalidSignatureException
    (signed for another service or region), MissingAuthenticationTokenException (unsigned),
    UnknownOperationException (another X-Amz-Target), SerializationException (not JSON).

Control (same port, no auth):
    GET  /__ssm/stats   {"requests", "by_target": {"GetParameter": n, ...},
                         "errors": {"ParameterNotFound": n, ...}, "names_read": [...],
                         "services_seen": [...]}
    POST /__ssm/reset   zero the counters
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import standin  # noqa: E402  (t/standin.py)

CONTENT_TYPE = "application/x-amz-json-1.1"
NAME_RE = re.compile(r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
MAX_NAMES = 10


log = standin.logger("ssm-standin")


class ApiError(Exception):
    def __init__(self, type_, message=""):
        super().__init__(message)
        self.type = type_
        self.message = message


class Store:
    """The parameters of --params-file, with a Version and LastModifiedDate each, re-read
    when the file changes."""

    def __init__(self, path, region, account):
        self.path = path
        self.region = region
        self.account = account
        self.lock = threading.Lock()
        self.stamp = None
        self.params = {}            # name -> dict(Value, Type, Deny, Version, LastModifiedDate)

    def _reload(self):
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self.stamp:
            return
        data = {}
        if stamp is not None:
            try:
                with open(self.path) as f:
                    data = json.load(f)
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as e:
                log("cannot read %s (%s); keeping the previous parameters", self.path, e)
                return
        now = time.time()
        fresh = {}
        for name, spec in data.items():
            if not isinstance(spec, dict):
                spec = {"Value": spec}
            value = str(spec.get("Value", ""))
            type_ = str(spec.get("Type", "SecureString"))
            old = self.params.get(name)
            if old and old["Value"] == value and old["Type"] == type_:
                version, modified = old["Version"], old["LastModifiedDate"]
            else:
                version = old["Version"] + 1 if old else 1
                modified = now
            fresh[name] = {"Value": value, "Type": type_, "Deny": bool(spec.get("Deny")),
                           "Version": version, "LastModifiedDate": modified}
        # A parameter deleted and made again starts over, as in SSM.
        self.params = fresh
        self.stamp = stamp
        log("loaded %d parameter(s) from %s", len(fresh), self.path)

    def get(self, name):
        with self.lock:
            self._reload()
            p = self.params.get(name)
            return dict(p) if p else None

    def arn(self, name):
        return "arn:aws:ssm:%s:%s:parameter%s%s" % (self.region or "us-east-1", self.account,
                                                    "" if name.startswith("/") else "/", name)

    def denied(self, name):
        return ApiError("AccessDeniedException",
                        "User: arn:aws:sts::%s:assumed-role/prodenthub/local is not authorized "
                        "to perform: ssm:GetParameter on resource: %s because no "
                        "identity-based policy allows the ssm:GetParameter action"
                        % (self.account, self.arn(name)))


def ciphertext(value):
    """What SSM answers for a SecureString read without decryption: an opaque blob."""
    digest = hashlib.sha256(b"kms:" + value.encode()).digest()
    return base64.b64encode(b"\x01\x02\x02\x00" + digest * 3).decode()


def check_name(name):
    if not isinstance(name, str) or not 1 <= len(name) <= 2048 or not NAME_RE.match(name):
        raise ApiError("ValidationException",
                       "1 validation error detected: Value at 'name' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: "
                       "^[a-zA-Z0-9_.\\-/]+$")


def shape(store, name, p, decrypt):
    value = p["Value"]
    if p["Type"] == "SecureString" and not decrypt:
        value = ciphertext(value)
    return {"Name": name, "Type": p["Type"], "Value": value, "Version": p["Version"],
            "LastModifiedDate": round(p["LastModifiedDate"], 3), "ARN": store.arn(name),
            "DataType": "text"}


def get_parameter(store, req):
    name = req.get("Name")
    check_name(name)
    p = store.get(name)
    if p is None:
        raise ApiError("ParameterNotFound", "")
    if p["Deny"]:
        raise store.denied(name)
    return {"Parameter": shape(store, name, p, bool(req.get("WithDecryption")))}, [name]


def get_parameters(store, req):
    names = req.get("Names")
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_NAMES:
        raise ApiError("ValidationException",
                       "1 validation error detected: Value at 'names' failed to satisfy "
                       "constraint: Member must have length less than or equal to %d"
                       % MAX_NAMES)
    found, invalid = [], []
    for name in names:
        check_name(name)
        p = store.get(name)
        if p is None:
            invalid.append(name)
        elif p["Deny"]:
            raise store.denied(name)
        else:
            found.append(shape(store, name, p, bool(req.get("WithDecryption"))))
    return {"Parameters": found, "InvalidParameters": invalid}, [p["Name"] for p in found]


OPERATIONS = {"AmazonSSM.GetParameter": get_parameter,
              "AmazonSSM.GetParameters": get_parameters}


def scope_of(auth):
    """(service, region) of a SigV4 Authorization header, or None."""
    m = re.search(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request", auth or "")
    return (m.group(2), m.group(1)) if m else None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.by_target = {}
        self.errors = {}
        self.names_read = []
        self.services_seen = set()

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "by_target": dict(self.by_target),
                    "errors": dict(self.errors), "names_read": list(self.names_read),
                    "services_seen": sorted(self.services_seen)}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Server"
    sys_version = ""

    def log_message(self, fmt, *args):
        log("%s %s", self.client_address[0], fmt % args)

    def log_request(self, code="-", size="-"):
        pass

    def _send(self, status, obj, headers=(), note=""):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        log("%s %s %s %s %s %.1fms", self.client_address[0], self.command, self.path, status,
            note, (time.monotonic() - self.t0) * 1000)

    def _error(self, e, note=""):
        st = self.server.stats
        with st.lock:
            st.errors[e.type] = st.errors.get(e.type, 0) + 1
        self._send(400, {"__type": e.type, "message": e.message},
                   [("x-amzn-ErrorType", e.type)], "%s %s" % (e.type, note))

    def _handle(self):
        self.t0 = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        path = self.path.split("?")[0]
        if path.startswith("/__ssm/"):
            return self._control(path)
        st = self.server.stats
        target = self.headers.get("X-Amz-Target") or ""
        with st.lock:
            st.requests += 1
            op = target.rpartition(".")[2] or "(none)"
            st.by_target[op] = st.by_target.get(op, 0) + 1
        try:
            scope = scope_of(self.headers.get("Authorization"))
            if scope is None:
                raise ApiError("MissingAuthenticationTokenException",
                               "Request is missing Authentication Token")
            with st.lock:
                st.services_seen.add(scope[0])
            if scope[0] != "ssm":
                raise ApiError("InvalidSignatureException",
                               "Credential should be scoped to correct service: 'ssm'. ")
            if self.server.region and scope[1] != self.server.region:
                raise ApiError("InvalidSignatureException",
                               "Credential should be scoped to a valid region. ")
            if self.command != "POST" or path != "/" or target not in OPERATIONS:
                raise ApiError("UnknownOperationException", "")
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype != CONTENT_TYPE:
                raise ApiError("SerializationException",
                               "Content-Type must be %s" % CONTENT_TYPE)
            try:
                req = json.loads(body or b"{}")
                if not isinstance(req, dict):
                    raise ValueError("not an object")
            except ValueError:
                raise ApiError("SerializationException", "the body is not a JSON object")
            answer, names = OPERATIONS[target](self.server.store, req)
        except ApiError as e:
            return self._error(e, target.rpartition(".")[2])
        with st.lock:
            st.names_read.extend(names)
        self._send(200, answer, note="%s %s" % (op, " ".join(names)))

    def _control(self, path):
        st = self.server.stats
        if path == "/__ssm/stats" and self.command == "GET":
            return self._send(200, st.snapshot())
        if path == "/__ssm/reset" and self.command == "POST":
            with st.lock:
                st.reset()
            return self._send(200, {"reset": True})
        return self._send(404, {"error": "unknown control %s %s" % (self.command, path)})

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1; 0 = any")
    ap.add_argument("--params-file", required=True, help="JSON {name: value or {...}}")
    ap.add_argument("--region", default="", help="the region requests must be signed for")
    ap.add_argument("--account", default="000000000000", help="account id in ARNs")
    ap.add_argument("--port-file", help="write the listening port here (atomically)")
    opts = ap.parse_args(argv)

    server = standin.Server(("127.0.0.1", opts.listen), Handler)
    server.store = Store(opts.params_file, opts.region, opts.account)
    server.stats = Stats()
    server.region = opts.region
    port = server.server_address[1]
    standin.serve(server, opts.port_file, log, "listening on 127.0.0.1:%d, parameters %s",
                  port, opts.params_file)


if __name__ == "__main__":
    main()
