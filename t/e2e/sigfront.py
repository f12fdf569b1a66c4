#!/usr/bin/python3
"""A SigV4-verifying front for the AWS stand-ins of the tests (DynamoDB Local, s3rver).

Neither DynamoDB Local nor s3rver checks request signatures, so a broken signer would pass
the suite unnoticed.  This front sits between the client and the stand-in: it recomputes
each request's signature independently with botocore (never with our own SigV4 code),
rejects a bad one as AWS would, and forwards a good one unchanged (or, with --resign,
signed again with one fixed key: DynamoDB Local keeps a separate database per access key
and region unless started with -sharedDb, and s3rver only knows the key S3RVER).

    sigfront.py --listen PORT --upstream http://127.0.0.1:8000
                [--keys-file FILE] [--port-file FILE]
                [--resign AKID:SECRET] [--allow-unsigned-token] [--max-skew SECONDS]
                [--protocol rest-json]

--listen 0 picks a free port; the port is printed on stdout (and written to --port-file,
atomically, once listening).  Listens on 127.0.0.1 only; runs until SIGTERM/SIGINT; one log
line per request on stderr.

Keys: --keys-file is a JSON object {"AKID": "secret", ...}, re-read whenever it changes
(imds.py adds the keys it issues).  An optional sidecar FILE.tokens {"AKID": "token"}
binds a session token to a key: requests with that key must carry exactly that
X-Amz-Security-Token.  Without --keys-file the only key is local/local.  A key named
ASIA... always needs a token, and a token sent as a header must be signed (unless
--allow-unsigned-token).  X-Amz-Date may be off by --max-skew (900) seconds at most.
A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method, no Authorization)
is never signed, as with AWS: it is forwarded unchecked, less any presign parameters.
Errors, its own and injected, take the upstream's protocol: JSON 1.0 ({"__type", "message"})
for requests with X-Amz-Target, else S3's XML; with --protocol rest-json (Bedrock Runtime)
the type in an x-amzn-ErrorType header and {"message"} in the body.

Control (same port, no auth):
    POST /__front/fail   {"count": N, "status": 400, "type": "...#ThrottlingException",
                          "message": "Rate exceeded"}    next N valid requests get that error
                         {"count": N, "status": 200, "body": {...}}  ... or that JSON body
                         {"count": N, "drop": true}       ... or a closed connection
                         {"count": N, "delay": 2.5}       ... or a delay before forwarding
                         optional "target": "PutItem"     only requests whose X-Amz-Target
                                                          ends with this
                         Faults queue up (FIFO); each POST adds one.
    GET  /__front/stats  {"ok", "rejected", "injected", "keys_seen", "last_rejection", ...}
    POST /__front/reset  zero the counters, clear the faults
"""

import argparse
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
import uuid

from botocore.auth import (S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth,
                           SIGV4_TIMESTAMP, UNSIGNED_PAYLOAD)
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import standin  # noqa: E402  (t/standin.py)

ALGORITHM = "AWS4-HMAC-SHA256"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "proxy-connection", "te", "trailer", "trailers", "transfer-encoding",
              "upgrade", "host", "expect", "content-length"}
DEFAULT_KEYS = {"local": "local"}
DDB_PREFIX = "com.amazon.coral.service#"
PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                  "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token")


log = standin.logger("sigfront")


def utf8(s):
    """http.server decodes the request line and headers as latin-1; the signer saw UTF-8."""
    try:
        return s.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


# --- verification with botocore ------------------------------------------------------------

class _ExactHeaders:
    """Sign exactly the headers put on the request (the ones the client listed in
    SignedHeaders), without botocore's client-side blacklist (user-agent, expect, ...):
    the service accepts any header the client chose to sign."""

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


class VerifySigV4(_ExactHeaders, SigV4Auth):
    pass


class VerifyS3SigV4(_ExactHeaders, S3SigV4Auth):
    pass


class VerifySigV4Query(_ExactHeaders, SigV4QueryAuth):
    pass


class VerifyS3SigV4Query(_ExactHeaders, S3SigV4QueryAuth):
    pass


class Reject(Exception):
    """A request AWS would refuse; kind is one of signature, unknown_key, missing, skew,
    expired, token, payload."""

    def __init__(self, kind, message, canonical=None, string_to_sign=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.canonical = canonical
        self.string_to_sign = string_to_sign


def parse_authorization(value):
    algo, _, rest = value.strip().partition(" ")
    if algo != ALGORITHM:
        raise Reject("missing", "Authorization header is not %s (got %r)" % (ALGORITHM, algo))
    fields = {}
    for part in rest.split(","):
        k, eq, v = part.strip().partition("=")
        if not eq:
            raise Reject("missing", "Authorization header is garbled: %r" % part.strip())
        fields[k.strip()] = v.strip()
    for k in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(k):
            raise Reject("missing", "Authorization header lacks %s=" % k)
    return fields["Credential"], fields["SignedHeaders"], fields["Signature"]


def parse_timestamp(ts):
    try:
        return datetime.datetime.strptime(ts, SIGV4_TIMESTAMP).replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        raise Reject("missing", "X-Amz-Date %r is not in the form YYYYMMDD'T'HHMMSS'Z'" % ts)


class Keys:
    """AKID -> secret from the keys file (and AKID -> token from FILE.tokens), re-read when
    either changes."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.cache = {}

    def _load(self, path, default):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return default
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        old = self.cache.get(path)
        if old and old[0] == stamp:
            return old[1]
        try:
            with open(path) as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            data = {str(k): str(v) for k, v in data.items()}
        except (OSError, ValueError) as e:
            log("cannot read %s (%s); keeping the previous keys", path, e)
            return old[1] if old else default
        self.cache[path] = (stamp, data)
        log("loaded %d key(s) from %s", len(data), path)
        return data

    def lookup(self, akid):
        """(secret or None, bound token or None)."""
        if not self.path:
            return DEFAULT_KEYS.get(akid), None
        with self.lock:
            secrets = self._load(self.path, {})
            tokens = self._load(self.path + ".tokens", {})
        return secrets.get(akid), tokens.get(akid)


class Verified:
    def __init__(self, akid, service, region, presigned):
        self.akid = akid
        self.service = service
        self.region = region
        self.presigned = presigned


def verify(method, raw_target, headers, body, keys, max_skew, allow_unsigned_token,
           now=None):
    """Check one request's SigV4 signature; return Verified or raise Reject."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    path, _, query = utf8(raw_target).partition("?")
    # Query parameters decoded; botocore encodes them again for the canonical query string
    # (RFC 3986 unreserved characters kept, the rest %XX), as AWS does.
    pairs = []
    for p in query.split("&") if query else []:
        if p:
            k, _, v = p.partition("=")
            pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    qparams = {}
    for k, v in pairs:
        qparams.setdefault(k, v)

    auth = headers.get("Authorization")
    presigned = auth is None and "X-Amz-Signature" in qparams
    if presigned:
        if qparams.get("X-Amz-Algorithm") != ALGORITHM:
            raise Reject("missing", "X-Amz-Algorithm must be %s" % ALGORITHM)
        for k in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"):
            if not qparams.get(k):
                raise Reject("missing", "presigned request lacks %s" % k)
        credential = qparams["X-Amz-Credential"]
        signed_names = qparams["X-Amz-SignedHeaders"]
        claimed = qparams["X-Amz-Signature"]
        amz_date = qparams["X-Amz-Date"]
        token = qparams.get("X-Amz-Security-Token")
        try:
            expires = int(qparams["X-Amz-Expires"])
        except ValueError:
            raise Reject("missing", "X-Amz-Expires %r is not a number"
                         % qparams["X-Amz-Expires"])
        if not 1 <= expires <= 604800:
            raise Reject("missing", "X-Amz-Expires must be between 1 and 604800 seconds")
        # The canonical query string is every parameter except the signature itself.
        pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    else:
        if auth is None:
            raise Reject("missing", "Request is missing Authentication Token "
                         "(no Authorization header and no X-Amz-Signature)")
        credential, signed_names, claimed = parse_authorization(auth)
        amz_date = headers.get("X-Amz-Date")
        if not amz_date:
            raise Reject("missing", "Authorization header requires an X-Amz-Date header")
        token = headers.get("X-Amz-Security-Token")
        expires = None

    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        raise Reject("missing", "Credential should be AKID/DATE/REGION/SERVICE/aws4_request, "
                     "got %r" % credential)
    akid, scope_date, region, service, _ = scope
    when = parse_timestamp(amz_date)
    if scope_date != amz_date[:8]:
        raise Reject("signature", "Credential date %s does not match X-Amz-Date %s"
                     % (scope_date, amz_date))
    skew = (now - when).total_seconds()
    if presigned:
        if skew < -max_skew:
            raise Reject("skew", "Request is not yet valid (X-Amz-Date %s is in the future)"
                         % amz_date)
        if skew > expires:
            raise Reject("expired", "Request has expired (X-Amz-Date %s + %ds)"
                         % (amz_date, expires))
    elif abs(skew) > max_skew:
        fmt = lambda d: d.strftime(SIGV4_TIMESTAMP)
        edge = datetime.timedelta(seconds=max_skew)
        if skew > 0:
            msg = "Signature expired: %s is now earlier than %s (%s - %d min.)" % (
                amz_date, fmt(now - edge), fmt(now), max_skew // 60)
        else:
            msg = "Signature not yet current: %s is still later than %s (%s + %d min.)" % (
                amz_date, fmt(now + edge), fmt(now), max_skew // 60)
        raise Reject("skew", msg)

    secret, bound_token = keys.lookup(akid)
    if secret is None:
        raise Reject("unknown_key", "The security token included in the request is invalid "
                     "(unknown access key %s)" % akid)
    if bound_token is not None and not (token and hmac.compare_digest(
            token.encode(), bound_token.encode())):
        raise Reject("token", "The security token included in the request is invalid "
                     "(%s token for %s)" % ("wrong" if token else "no", akid))
    if akid.startswith("ASIA") and not token:
        raise Reject("token", "The security token included in the request is invalid "
                     "(temporary key %s without X-Amz-Security-Token)" % akid)

    names = [n.strip().lower() for n in signed_names.split(";")]
    if names != sorted(set(names)) or "" in names:
        raise Reject("signature", "SignedHeaders %r are not lowercase, sorted and unique"
                     % signed_names)
    if "host" not in names:
        raise Reject("signature", "the host header must be signed")
    if not presigned:
        if "x-amz-date" not in names:
            raise Reject("signature", "the x-amz-date header must be signed")
        if token and "x-amz-security-token" not in names and not allow_unsigned_token:
            raise Reject("signature", "X-Amz-Security-Token is sent but not signed")
    signed = []
    for n in names:
        values = headers.get_all(n)
        if values is None:
            raise Reject("signature", "signed header %r is not in the request" % n)
        signed.extend((n, utf8(v)) for v in values)

    if not presigned:
        # The payload hash is taken from x-amz-content-sha256 when the client sends it (S3
        # always does); a service checks that hash against the body it received.
        declared = headers.get("X-Amz-Content-SHA256")
        if declared and declared != UNSIGNED_PAYLOAD and not declared.startswith("STREAMING-"):
            actual = hashlib.sha256(body).hexdigest()
            if declared.lower() != actual:
                raise Reject("payload", "The provided 'x-amz-content-sha256' header does not "
                             "match what was computed (%s)" % actual)

    host = headers.get("Host") or "localhost"
    if service == "s3":
        # S3 signs the object key URI-encoded once (no normalisation); botocore signs the
        # path as it stands, so give it the key encoded the AWS way, whatever the wire had.
        path = urllib.parse.quote(urllib.parse.unquote(path), safe="/~")
    # Other services: the path as received; botocore normalises it and encodes it again
    # (the SigV4 "double encoding"), as AWS does.
    url = "http://%s%s" % (host, path)
    request = AWSRequest(method=method, url=url, data=body, params=pairs)
    for n, v in signed:
        request.headers[n] = v
    request.context["timestamp"] = amz_date
    creds = Credentials(akid, secret, token)
    if presigned:
        cls = VerifyS3SigV4Query if service == "s3" else VerifySigV4Query
        signer = cls(creds, service, region, expires)
    else:
        cls = VerifyS3SigV4 if service == "s3" else VerifySigV4
        signer = cls(creds, service, region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected.encode(), claimed.strip().lower().encode()):
        raise Reject("signature", "The request signature we calculated does not match the "
                     "signature you provided. Check your AWS Secret Access Key and signing "
                     "method. Consult the service documentation for details.\n\n"
                     "The Canonical String for this request should have been\n'%s'\n\n"
                     "The String-to-Sign should have been\n'%s'\n" % (canonical, string_to_sign),
                     canonical, string_to_sign)
    return Verified(akid, service, region, presigned)


# --- AWS-style answers --------------------------------------------------------------------

DDB_TYPES = {
    "signature": (400, DDB_PREFIX + "InvalidSignatureException"),
    "skew": (400, DDB_PREFIX + "InvalidSignatureException"),
    "expired": (400, DDB_PREFIX + "InvalidSignatureException"),
    "payload": (400, DDB_PREFIX + "InvalidSignatureException"),
    "unknown_key": (400, DDB_PREFIX + "UnrecognizedClientException"),
    "token": (400, DDB_PREFIX + "UnrecognizedClientException"),
    "missing": (400, DDB_PREFIX + "MissingAuthenticationTokenException"),
}
REST_JSON_TYPES = {
    "signature": (403, "InvalidSignatureException"),
    "skew": (403, "InvalidSignatureException"),
    "expired": (403, "InvalidSignatureException"),
    "payload": (400, "InvalidSignatureException"),
    "unknown_key": (403, "UnrecognizedClientException"),
    "token": (403, "UnrecognizedClientException"),
    "missing": (403, "MissingAuthenticationTokenException"),
}
S3_CODES = {
    "signature": (403, "SignatureDoesNotMatch"),
    "skew": (403, "RequestTimeTooSkewed"),
    "expired": (403, "AccessDenied"),
    "payload": (400, "XAmzContentSHA256Mismatch"),
    "unknown_key": (403, "InvalidAccessKeyId"),
    "token": (400, "InvalidToken"),
    "missing": (403, "AccessDenied"),
}


def is_preflight(method, headers):
    """A CORS preflight: browsers never sign it (they send it, to the signed request's URL,
    before that request), and AWS answers it from the CORS rules alone."""
    return (method == "OPTIONS" and headers.get("Authorization") is None
            and bool(headers.get("Origin"))
            and bool(headers.get("Access-Control-Request-Method")))


def strip_presign(path):
    """path without the query-string auth parameters."""
    base, _, query = path.partition("?")
    query = "&".join(p for p in query.split("&")
                     if urllib.parse.unquote(p.partition("=")[0]) not in PRESIGN_PARAMS)
    return base + ("?" + query if query else "")


def is_json_protocol(headers):
    return bool(headers.get("X-Amz-Target")) or (
        headers.get("Content-Type") or "").startswith("application/x-amz-json")


def json_error(status, type_, message, request_id):
    body = json.dumps({"__type": type_, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.0"),
                    ("x-amzn-RequestId", request_id)], body


def rest_json_error(status, type_, message, request_id):
    body = json.dumps({"message": message}).encode()
    return status, [("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", type_.rpartition("#")[2]),
                    ("x-amzn-RequestId", request_id)], body


def xml_error(status, code, message, request_id):
    esc = (message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            "<Message>%s</Message><RequestId>%s</RequestId></Error>"
            % (code, esc, request_id)).encode()
    return status, [("Content-Type", "application/xml"),
                    ("x-amz-request-id", request_id)], body


def rejection(reject, headers, request_id, protocol=None):
    if protocol == "rest-json":
        status, type_ = REST_JSON_TYPES[reject.kind]
        return rest_json_error(status, type_, reject.message, request_id)
    if is_json_protocol(headers):
        status, type_ = DDB_TYPES[reject.kind]
        message = reject.message
        if reject.kind == "missing":
            message = "Request is missing Authentication Token: " + message
        return json_error(status, type_, message, request_id)
    status, code = S3_CODES[reject.kind]
    return xml_error(status, code, reject.message, request_id)


# --- the server ---------------------------------------------------------------------------

class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.ok = 0
        self.rejected = 0
        self.injected = 0
        self.upstream_errors = 0
        self.keys_seen = set()
        self.last_rejection = None
        self.last_canonical_request = None
        self.last_string_to_sign = None
        self.recent_rejections = []
        self.faults = []        # FIFO of dicts with a remaining "count"

    def take_fault(self, target):
        with self.lock:
            for f in self.faults:
                want = f.get("target")
                if want and not (target or "").endswith(want):
                    continue
                f["count"] -= 1
                if f["count"] <= 0:
                    self.faults.remove(f)
                return dict(f)
        return None

    def stats(self):
        with self.lock:
            return {"ok": self.ok, "rejected": self.rejected, "injected": self.injected,
                    "upstream_errors": self.upstream_errors,
                    "keys_seen": sorted(self.keys_seen),
                    "last_rejection": self.last_rejection,
                    "recent_rejections": list(self.recent_rejections),
                    "last_canonical_request": self.last_canonical_request,
                    "last_string_to_sign": self.last_string_to_sign,
                    "faults_pending": [dict(f) for f in self.faults]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sigfront"
    sys_version = ""

    def setup(self):
        super().setup()
        self.upstream_conn = None

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upstream_conn is not None:
                self.upstream_conn.close()

    def log_message(self, fmt, *args):
        log("%s %s", self.client_address[0], fmt % args)

    def log_request(self, code="-", size="-"):
        pass                                    # one line per request, written by _send

    # -- plumbing --

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, headers, body, note=""):
        self.send_response_only(status)
        names = {k.lower() for k, _ in headers}
        for k, v in headers:
            self.send_header(k, v)
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        if "content-length" not in names and not (status < 200 or status in (204, 304)):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()
        self._log_line(status, note)

    def _log_line(self, status, note):
        log("%s %s %s %s %s %.1fms", self.client_address[0], self.command,
            self.path if len(self.path) < 200 else self.path[:200] + "...", status, note,
            (time.monotonic() - self.t0) * 1000)

    def _json(self, status, obj, note=""):
        self._send(status, [("Content-Type", "application/json")],
                   json.dumps(obj).encode(), note)

    # -- dispatch --

    def _handle(self):
        self.t0 = time.monotonic()
        try:
            body = self._read_body()
        except (ValueError, OSError) as e:
            self.close_connection = True
            self._send(400, [("Connection", "close")], b"bad request body\n", str(e))
            return
        if self.path.startswith("/__front/"):
            return self._control(body)
        try:
            self._proxy(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:                 # never leave a client hanging
            log("internal error: %r", e)
            self.close_connection = True
            try:
                self._send(500, [("Connection", "close")], b"sigfront internal error\n",
                           repr(e))
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    def _control(self, body):
        st = self.server.state
        path = self.path.split("?")[0]
        if path == "/__front/stats" and self.command == "GET":
            return self._json(200, st.stats())
        if path == "/__front/reset" and self.command == "POST":
            with st.lock:
                st.reset()
            return self._json(200, {"reset": True})
        if path == "/__front/fail" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                count = int(spec.get("count", 1))
                fault = {"count": count}
                if "delay" in spec:
                    fault["delay"] = float(spec["delay"])
                if spec.get("drop"):
                    fault["drop"] = True
                elif "body" in spec:
                    # A canned answer, e.g. a 200 BatchWriteItem with UnprocessedItems.
                    fault.update(status=int(spec.get("status", 200)),
                                 body=json.dumps(spec["body"]),
                                 type="canned", message="")
                elif "status" in spec or "type" in spec or "delay" not in spec:
                    status = int(spec.get("status", 400))
                    default = ("com.amazonaws.dynamodb.v20120810#ThrottlingException"
                               if status < 500 else
                               "com.amazonaws.dynamodb.v20120810#InternalServerError")
                    fault.update(status=status, type=str(spec.get("type") or default),
                                 message=str(spec.get("message") or "Injected by sigfront"))
                if spec.get("target"):
                    fault["target"] = str(spec["target"])
            except (ValueError, TypeError, AttributeError) as e:
                return self._json(400, {"error": "bad fault spec: %s" % e})
            if count > 0:
                with st.lock:
                    st.faults.append(fault)
            return self._json(200, {"queued": fault})
        return self._json(404, {"error": "unknown control %s %s" % (self.command, path)})

    def _proxy(self, body):
        st = self.server.state
        opts = self.server.opts
        request_id = uuid.uuid4().hex.upper()
        if is_preflight(self.command, self.headers):
            # Unsigned by design: forwarded as it is, less the presign parameters of the URL
            # (a stand-in such as s3rver would check those and refuse the preflight).
            return self._forward(body, None, None)
        try:
            v = verify(self.command, self.path, self.headers, body, self.server.keys,
                       opts.max_skew, opts.allow_unsigned_token)
        except Reject as r:
            first = r.message.split("\n")[0]
            with st.lock:
                st.rejected += 1
                st.last_rejection = first
                st.recent_rejections = (st.recent_rejections + [first])[-20:]
                if r.canonical is not None:
                    st.last_canonical_request = r.canonical
                    st.last_string_to_sign = r.string_to_sign
            note = "REJECTED %s: %s" % (r.kind, first)
            if r.canonical is not None:     # still one line: the expected canonical request
                note = "REJECTED signature mismatch; expected canonical request %r" % (
                    r.canonical,)
            status, headers, payload = rejection(r, self.headers, request_id, opts.protocol)
            return self._send(status, headers, payload, note)

        with st.lock:
            st.keys_seen.add(v.akid)
        target = self.headers.get("X-Amz-Target")
        fault = st.take_fault(target)
        if fault:
            if fault.get("delay"):
                time.sleep(fault["delay"])
            if fault.get("drop"):
                with st.lock:
                    st.injected += 1
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return self._log_line("-", "akid=%s INJECTED drop" % v.akid)
            if "body" in fault:
                with st.lock:
                    st.injected += 1
                return self._send(fault["status"],
                                  [("Content-Type", "application/x-amz-json-1.0"),
                                   ("x-amzn-RequestId", request_id)], fault["body"].encode(),
                                  "akid=%s INJECTED canned body" % v.akid)
            if "status" in fault:
                with st.lock:
                    st.injected += 1
                if opts.protocol == "rest-json":
                    status, headers, payload = rest_json_error(
                        fault["status"], fault["type"], fault["message"], request_id)
                elif is_json_protocol(self.headers):
                    status, headers, payload = json_error(fault["status"], fault["type"],
                                                          fault["message"], request_id)
                else:
                    status, headers, payload = xml_error(
                        fault["status"], fault["type"].rpartition("#")[2],
                        fault["message"], request_id)
                return self._send(status, headers, payload, "akid=%s INJECTED %s"
                                  % (v.akid, fault["type"].rpartition("#")[2]))
        self._forward(body, v, target)

    def _upstream(self, fresh=False):
        if fresh and self.upstream_conn is not None:
            self.upstream_conn.close()
            self.upstream_conn = None
        if self.upstream_conn is None:
            u = self.server.upstream
            cls = (http.client.HTTPSConnection if u.scheme == "https"
                   else http.client.HTTPConnection)
            self.upstream_conn = cls(u.hostname, u.port, timeout=self.server.opts.timeout)
        return self.upstream_conn

    def _forward(self, body, v, target):
        st = self.server.state
        u = self.server.upstream
        host = u.netloc
        path = u.path.rstrip("/") + self.path
        headers = [(k, val) for k, val in self.headers.items() if k.lower() not in HOP_BY_HOP]
        if v is None:
            path = strip_presign(path)
        elif self.server.resign:
            path, headers = self._resign(path, headers, body, v)
        headers.append(("Host", host))
        send_body = body if body or self.command in ("POST", "PUT", "PATCH") else None
        for attempt in (0, 1):
            conn = self._upstream(fresh=attempt > 0)
            try:
                conn.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
                for k, val in headers:
                    conn.putheader(k, val)
                if send_body is not None:
                    conn.putheader("Content-Length", str(len(send_body)))
                conn.endheaders(send_body)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady) as e:
                if attempt == 0:        # a kept-alive upstream connection went stale
                    continue
                err = e
            except OSError as e:
                err = e
            with st.lock:
                st.upstream_errors += 1
            conn.close()
            self.upstream_conn = None
            return self._send(502, [("Content-Type", "text/plain")],
                              ("sigfront: upstream %s: %s\n" % (u.geturl(), err)).encode(),
                              "akid=%s UPSTREAM ERROR %s" % (v.akid if v else "-", err))
        if resp.will_close:
            conn.close()
            self.upstream_conn = None
        if v is not None:
            with st.lock:
                st.ok += 1
        out = []
        for k, val in resp.getheaders():
            lk = k.lower()
            if lk in HOP_BY_HOP and not (lk == "content-length" and self.command == "HEAD"):
                continue
            out.append((k, val))
        if v is None:
            return self._send(resp.status, out, data, "CORS preflight -> upstream")
        self._send(resp.status, out, data, "akid=%s %s%s-> upstream" % (
            v.akid, "presigned " if v.presigned else "", (target + " ") if target else ""))

    def _resign(self, path, headers, body, v):
        """Sign the forwarded request again with the fixed --resign identity, so the
        stand-in behind always sees one key (DynamoDB Local keeps a database per key)."""
        akid, secret = self.server.resign
        drop = {"authorization", "x-amz-date", "x-amz-security-token",
                "x-amz-content-sha256"}
        if v.presigned:
            path = strip_presign(path)
        kept = [(k, val) for k, val in headers if k.lower() not in drop]
        u = self.server.upstream
        req = AWSRequest(method=self.command, url="%s://%s%s" % (u.scheme, u.netloc, path),
                         data=body)
        for k, val in kept:
            req.headers[k] = val
        cls = S3SigV4Auth if v.service == "s3" else SigV4Auth
        cls(Credentials(akid, secret), v.service, v.region).add_auth(req)
        return path, [(k, val) for k, val in req.headers.items()
                      if k.lower() not in ("host", "content-length")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1; 0 = any")
    ap.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8000")
    ap.add_argument("--keys-file", help='JSON {"AKID": "secret"}; default local/local')
    ap.add_argument("--port-file", help="write the listening port here (atomically)")
    ap.add_argument("--resign", metavar="AKID:SECRET",
                    help="re-sign forwarded requests with this fixed identity")
    ap.add_argument("--allow-unsigned-token", action="store_true",
                    help="accept an X-Amz-Security-Token header left out of SignedHeaders")
    ap.add_argument("--max-skew", type=int, default=900,
                    help="allowed clock skew of X-Amz-Date in seconds (900)")
    ap.add_argument("--timeout", type=float, default=60, help="upstream timeout (60 s)")
    ap.add_argument("--protocol", choices=["rest-json"],
                    help="the upstream's error protocol when not JSON 1.0 or S3's XML")
    opts = ap.parse_args(argv)

    upstream = urllib.parse.urlsplit(opts.upstream)
    if upstream.scheme not in ("http", "https") or not upstream.hostname:
        ap.error("--upstream must be http://host:port")
    server = standin.Server(("127.0.0.1", opts.listen), Handler)
    server.opts = opts
    server.upstream = upstream
    server.keys = Keys(opts.keys_file)
    server.state = State()
    server.resign = tuple(opts.resign.split(":", 1)) if opts.resign else None
    if server.resign and len(server.resign) != 2:
        ap.error("--resign wants AKID:SECRET")
    standin.serve(server, opts.port_file, log, "listening on 127.0.0.1:%d, upstream %s, keys %s%s",
                  server.server_address[1], opts.upstream,
                  opts.keys_file or "local/local (default)",
                  ", re-signing as %s" % server.resign[0] if server.resign else "")


if __name__ == "__main__":
    main()
