"""The Stripe stand-in's HTTP server: one Handler for the API (/v1/..., Stripe's wire format:
the key, Stripe-Version, form parameters, Idempotency-Key, injected faults, then the route of
standin_routes.py), the control (/__stripe/..., standin_control.py) and the pay page (/pay/...,
standin_paypage.py), with one log line per request; and the Server (t/standin.py's) that holds
the Store."""

import base64
import hashlib
import hmac
import http.server
import json
import socket
import time

import standin_control as control
import standin_paypage as paypage
from standin_common import MAX_BODY, VERSION_RE, ApiError, log, mask_key, parse_form, rid
from standin_routes import find_route
import standin  # noqa: E402  (t/standin.py; standin_common puts t/ on sys.path)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe-standin"
    sys_version = ""

    def setup(self):
        super().setup()
        # headers and body leave in two writes; without this, Nagle + the client's delayed
        # ACK stall every keep-alive answer by ~40 ms
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        log("%s %s", self.client_address[0], fmt % args)

    def log_request(self, code="-", size="-"):
        pass                                    # one line per request, written by _send

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body over %d bytes" % MAX_BODY)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body over %d bytes" % MAX_BODY)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, headers, body, note=""):
        self.send_response_only(status)
        names = {k.lower() for k, _ in headers}
        for k, v in headers:
            self.send_header(k, v)
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()
        self._log_line(status, note)

    def _log_line(self, status, note):
        log("%s %s %s %s %s%.1fms", self.client_address[0], self.command,
            self.path if len(self.path) < 200 else self.path[:200] + "...", status,
            (note + " ") if note else "", (time.monotonic() - self.t0) * 1000)

    def _json(self, status, obj, note="", headers=()):
        self._send(status, [("Content-Type", "application/json")] + list(headers),
                   (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), note)

    def _drop(self, note):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._log_line("-", note)

    def _handle(self):
        self.t0 = time.monotonic()
        try:
            body = self._read_body()
        except (ValueError, OSError) as e:
            self.close_connection = True
            self._send(413 if "over" in str(e) else 400, [("Connection", "close")],
                       b"bad request body\n", str(e))
            return
        path = self.path.split("?", 1)[0]
        try:
            if path.startswith("/__stripe/"):
                return self._control(path, body)
            if path.startswith("/pay/"):
                return self._pay(path, body)
            return self._api(path, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:                 # never leave a client hanging
            log("internal error: %r", e)
            import traceback
            traceback.print_exc()
            self.close_connection = True
            try:
                self._json(500, {"error": {"type": "api_error",
                                           "message": "stand-in internal error: %r" % e}},
                           repr(e), [("Connection", "close")])
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle

    # -- the API --

    def _api_key(self):
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        scheme, _, cred = auth.strip().partition(" ")
        cred = cred.strip()
        if scheme.lower() == "bearer":
            return cred
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(cred, validate=True).decode("utf-8").partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return ""
        return ""

    def _api(self, path, body):
        st = self.server.store
        request_id = rid("req_", 14)
        version = (self.headers.get("Stripe-Version") or "").strip() or st.api_version
        headers = [("Request-Id", request_id), ("Stripe-Version", version)]
        method = self.command
        tmpl, fn, m = find_route(method, path)
        label = "%s %s" % (method, tmpl or "(unrecognized)")
        with st.lock:
            st.api_calls[label] = st.api_calls.get(label, 0) + 1
        ikey = None
        scope = None
        try:
            key = self._api_key()
            if key is None:
                raise ApiError(401, "You did not provide an API key. You need to provide your API "
                               "key in the Authorization header, using Bearer auth (e.g. "
                               "'Authorization: Bearer YOUR_SECRET_KEY'). See "
                               "https://stripe.com/docs/api#authentication for details, or we "
                               "can help at https://support.stripe.com/.",
                               headers=[("WWW-Authenticate", 'Basic realm="Stripe"')])
            if not hmac.compare_digest(key.encode(), st.secret_key.encode()):
                raise ApiError(401, "Invalid API Key provided: %s" % mask_key(key),
                               headers=[("WWW-Authenticate", 'Basic realm="Stripe"')])
        except ApiError as e:
            with st.lock:
                st.auth_failures += 1
            return self._api_error(e, headers, "unauthorized")

        fault = st.take_fault(method, path, phase_after=False)
        if fault:
            done = self._fault(fault, headers)
            if done:
                return
        try:
            if not VERSION_RE.match(version):
                raise ApiError(400, "Invalid Stripe API version: %s" % version)
            if fn is None:
                raise ApiError(404, "Unrecognized request URL (%s: %s). Please see "
                               "https://stripe.com/docs or we can help at "
                               "https://support.stripe.com/." % (method, path))
            query = self.path.partition("?")[2]
            raw = query
            if method == "POST":
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype == "application/json":
                    raise ApiError(400, "Invalid request: the Stripe API takes "
                                   "application/x-www-form-urlencoded parameters, not JSON.")
                if ctype.startswith("multipart/"):
                    raise ApiError(400, "Invalid request: the Stripe stand-in takes only "
                                   "application/x-www-form-urlencoded parameters.")
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise ApiError(400, "Invalid request: the body is not UTF-8.")
                raw = "&".join(x for x in (query, text) if x)
            params = parse_form(raw)
            ikey = self.headers.get("Idempotency-Key")
            if method == "POST" and ikey is not None and ikey.strip():
                ikey = ikey.strip()
                if len(ikey) > 255:
                    raise ApiError(400, "Invalid Idempotency-Key: keys can be up to 255 "
                                   "characters long.", type_="idempotency_error")
                headers += [("Idempotency-Key", ikey)]
                sc = hashlib.sha256(key.encode()).hexdigest()[:16]
                rec = st.idem_begin(sc, ikey, "%s %s" % (method, path),
                                    json.dumps(params, sort_keys=True))
                if rec is not None:
                    return self._replay(rec, headers)
                scope = sc                      # this request now owns the key's record
            else:
                ikey = None
            if method == "POST":
                headers += [("Original-Request", request_id)]
            ctx = {"request": {"id": request_id, "idempotency_key": ikey}}
            status, obj = fn(st, m, params, ctx)
            payload = (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            keep = True
            note = ""
        except ApiError as e:
            status, payload = e.status, (json.dumps(e.body(), indent=2, ensure_ascii=False)
                                         + "\n").encode("utf-8")
            headers += e.headers
            keep = e.executed
            note = "%s%s%s" % (e.type, (" " + e.code) if e.code else "",
                               (" param=" + e.param) if e.param else "")
        except BaseException:
            if scope:
                st.idem_abort(scope, ikey)
            raise
        fault = st.take_fault(method, path, phase_after=True)
        if fault and fault.get("delay"):
            # a slow answer: the key stays "in progress" meanwhile (a retry gets 409)
            time.sleep(float(fault.pop("delay")))
        if scope:
            if keep:
                st.idem_finish(scope, ikey, status, payload, request_id)
            else:
                st.idem_abort(scope, ikey)
        if fault and self._fault(fault, headers, note="(after running it) "):
            return
        self._api_answer(status, payload, headers, note)

    def _api_answer(self, status, payload, headers, note=""):
        st = self.server.store
        with st.lock:
            st.responses[str(status)] = st.responses.get(str(status), 0) + 1
        self._send(status, [("Content-Type", "application/json")] + headers, payload, note)

    def _api_error(self, e, headers, note=""):
        payload = (json.dumps(e.body(), indent=2) + "\n").encode("utf-8")
        self._api_answer(e.status, payload, headers + e.headers, note or e.type)

    def _replay(self, rec, headers):
        headers = [h for h in headers if h[0] != "Original-Request"]
        headers += [("Original-Request", rec["request_id"]), ("Idempotent-Replayed", "true")]
        self._api_answer(rec["status"], rec["body"].encode("utf-8"), headers,
                         "REPLAY of %s" % rec["request_id"])

    def _fault(self, f, headers, note=""):
        """Apply an injected fault; True when the answer has been given (or withheld)."""
        if f.get("delay"):
            time.sleep(float(f["delay"]))
        if f.get("drop"):
            self._drop("INJECTED drop %s" % note)
            return True
        if "status" not in f:
            return False                        # a pure delay
        err = ApiError(f["status"], f["message"], type_=f["type"], code=f.get("code"))
        extra = []
        if f.get("should_retry") is not None:
            extra.append(("Stripe-Should-Retry", "true" if f["should_retry"] else "false"))
        elif f["status"] >= 500:
            extra.append(("Stripe-Should-Retry", "true"))
        if f.get("retry_after") is not None:
            extra.append(("Retry-After", str(int(f["retry_after"]))))
        self._api_error(err, [h for h in headers if h[0] != "Idempotent-Replayed"] + extra,
                        "INJECTED %d %s %s" % (f["status"], f["type"], note))
        return True

    # -- the control and the pay page --

    def _control(self, path, body):
        self._json(*control.handle(self.server.store, self.command, path,
                                   self.path.partition("?")[2], body))

    def _pay(self, path, body):
        self._send(*paypage.page(self.server.store, self.command, path, body))


class Server(standin.Server):
    """The stand-in's server (t/standin.py's) on its Store; closing it saves the state."""

    def __init__(self, address, store):
        self.store = store                      # before binding: a failed bind closes it
        super().__init__(address, Handler)

    def server_close(self):
        super().server_close()
        try:
            self.store.save()
        except OSError as e:
            log("cannot save state: %s", e)
