#!/usr/bin/python3
"""A local stand-in for Amazon Bedrock Runtime's Converse API, for the tests and the local
stack (no Bedrock emulator exists).  Standard library only.  It does not check signatures:
the stack puts the SigV4-verifying front (t/e2e/sigfront.py --protocol rest-json) before it,
which also injects faults (POST /__front/fail).

    bedrock_standin.py --listen PORT [--port-file FILE] [--models ID,ID,...]
                       [--latency-ms N] [--max-tokens N]

--listen 0 picks a free port; the port is printed on stdout (and written to --port-file,
atomically, once listening).  Listens on 127.0.0.1 only; runs until SIGTERM/SIGINT (exit 0);
one log line per request on stderr, never a prompt or an answer.

The API (Bedrock's wire format; point AWS_ENDPOINT_URL_BEDROCK_RUNTIME at the front):
    POST /model/{modelId}/converse     modelId percent-decoded; JSON body
        {"messages": [{"role": "user"|"assistant", "content": [{"text": ...}, ...]}, ...],
         "system": [{"text": ...}], "inferenceConfig": {"maxTokens", "temperature", "topP",
         "stopSequences"}, ...}
      200 {"output": {"message": {"role": "assistant", "content": [{"text": ...}]}},
           "stopReason": "end_turn"|"max_tokens", "usage": {"inputTokens", "outputTokens",
           "totalTokens"}, "metrics": {"latencyMs"}}
      The answer is deterministic: "You asked: " and the last user message, one token per
      word, cut at maxTokens (stopReason max_tokens).  Input tokens: the words of the system
      prompt and every message.
    Errors as Bedrock sends them: the type in x-amzn-ErrorType, {"message": ...} in the body:
      400 ValidationException    a body Bedrock would refuse (the message says why)
      404 ResourceNotFoundException   a model not in --models
      404 UnknownOperationException   any other path
    Faults (the front injects them): 429 ThrottlingException, 408 ModelTimeoutException,
    503 ServiceUnavailableException, 403 AccessDeniedException, delays.

Control (same port, no auth):
    GET  /__bedrock/stats   {"calls": answers given (200), "requests": Converse requests
                             received, "errors": {type: n}, "models": {id: n},
                             "last": {"modelId", "maxTokens", "messages", "system"} or null}
    POST /__bedrock/reset   zero the counters
"""

import argparse
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import standin  # noqa: E402  (t/standin.py)

DEFAULT_MODELS = ("anthropic.claude-3-haiku-20240307-v1:0,"
                  "anthropic.claude-3-5-sonnet-20240620-v1:0,"
                  "anthropic.claude-3-sonnet-20240229-v1:0")
TOP_LEVEL = {"messages", "system", "inferenceConfig", "additionalModelRequestFields",
             "additionalModelResponseFieldPaths", "toolConfig", "guardrailConfig",
             "promptVariables", "requestMetadata", "performanceConfig"}
INFERENCE = {"maxTokens", "temperature", "topP", "stopSequences"}
BLOCKS = {"text", "image", "document", "video", "toolUse", "toolResult", "guardContent",
          "reasoningContent", "cachePoint"}


log = standin.logger("bedrock")


class Refused(Exception):
    def __init__(self, status, type_, message):
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message


def invalid(msg):
    return Refused(400, "ValidationException", msg)


def words(text):
    return len(text.split())


def check_content(where, content):
    if not isinstance(content, list) or not content:
        raise invalid("%s.content must be a non-empty list" % where)
    texts = []
    for j, block in enumerate(content):
        if not isinstance(block, dict) or len(block) != 1 or next(iter(block)) not in BLOCKS:
            raise invalid("%s.content[%d] must be one content block" % (where, j))
        if "text" in block:
            if not isinstance(block["text"], str) or not block["text"]:
                raise invalid("%s.content[%d].text must be a non-empty string" % (where, j))
            texts.append(block["text"])
    return texts


def check_request(body, max_tokens_cap):
    """The parsed Converse request, or Refused as Bedrock would answer it."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    extra = set(body) - TOP_LEVEL
    if extra:
        raise invalid("Unknown field(s): %s" % ", ".join(sorted(extra)))
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise invalid("messages must be a non-empty list")
    texts, last_user = [], None
    for i, m in enumerate(msgs):
        where = "messages[%d]" % i
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            raise invalid("%s must have exactly role and content" % where)
        if m["role"] not in ("user", "assistant"):
            raise invalid("%s.role must be user or assistant" % where)
        want = "user" if i % 2 == 0 else "assistant"
        if m["role"] != want:
            raise invalid("A conversation must start with a user message and alternate "
                          "between user and assistant roles")
        t = check_content(where, m["content"])
        texts.extend(t)
        if m["role"] == "user" and t:
            last_user = t[-1]
    system = body.get("system", [])
    if not isinstance(system, list):
        raise invalid("system must be a list")
    sys_texts = []
    for j, block in enumerate(system):
        if not isinstance(block, dict) or not isinstance(block.get("text"), str):
            raise invalid("system[%d] must be a text block" % j)
        sys_texts.append(block["text"])
    inf = body.get("inferenceConfig", {})
    if not isinstance(inf, dict) or set(inf) - INFERENCE:
        raise invalid("inferenceConfig may only have %s" % ", ".join(sorted(INFERENCE)))
    mt = inf.get("maxTokens", max_tokens_cap)
    if type(mt) is not int or not 1 <= mt <= max_tokens_cap:
        raise invalid("inferenceConfig.maxTokens must be an integer from 1 to %d"
                      % max_tokens_cap)
    for k in ("temperature", "topP"):
        v = inf.get(k, 0)
        if type(v) not in (int, float) or not 0 <= v <= 1:
            raise invalid("inferenceConfig.%s must be from 0 to 1" % k)
    stops = inf.get("stopSequences", [])
    if not isinstance(stops, list) or len(stops) > 4 or \
            not all(isinstance(s, str) and s for s in stops):
        raise invalid("inferenceConfig.stopSequences must be at most 4 strings")
    return {"messages": msgs, "system": sys_texts, "maxTokens": mt,
            "inputTokens": sum(words(t) for t in texts + sys_texts) or 1,
            "lastUser": last_user or ""}


def answer(req, started):
    out = ("You asked: " + req["lastUser"]).split()
    stop = "end_turn"
    if len(out) > req["maxTokens"]:
        out = out[:req["maxTokens"]]
        stop = "max_tokens"
    usage = {"inputTokens": req["inputTokens"], "outputTokens": len(out)}
    usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
    return {"output": {"message": {"role": "assistant",
                                   "content": [{"text": " ".join(out)}]}},
            "stopReason": stop, "usage": usage,
            "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)}}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.calls = 0
        self.requests = 0
        self.errors = {}
        self.models = {}
        self.last = None

    def stats(self):
        with self.lock:
            return {"calls": self.calls, "requests": self.requests,
                    "errors": dict(self.errors), "models": dict(self.models),
                    "last": self.last}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bedrock-standin"
    sys_version = ""

    def log_message(self, fmt, *args):
        log("%s %s", self.client_address[0], fmt % args)

    def log_request(self, code="-", size="-"):
        pass                                    # one line per request, written by _send

    def _send(self, status, obj, headers=(), note=""):
        body = json.dumps(obj).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        log("%s %s %s %d %s %.1fms", self.client_address[0], self.command,
            self.path.split("?")[0][:200], status, note,
            (time.monotonic() - self.t0) * 1000)

    def _error(self, r):
        with self.server.state.lock:
            self.server.state.errors[r.type] = self.server.state.errors.get(r.type, 0) + 1
        self._send(r.status, {"message": r.message}, [("x-amzn-ErrorType", r.type)], r.type)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _handle(self):
        self.t0 = time.monotonic()
        try:
            raw = self._body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        path = self.path.split("?")[0]
        st = self.server.state
        if path == "/__bedrock/stats" and self.command == "GET":
            return self._send(200, st.stats())
        if path == "/__bedrock/reset" and self.command == "POST":
            with st.lock:
                st.reset()
            return self._send(200, {"reset": True})
        parts = path.split("/")
        if self.command != "POST" or len(parts) != 4 or parts[1] != "model" or \
                parts[3] != "converse" or not parts[2]:
            return self._error(Refused(404, "UnknownOperationException",
                                       "Unknown operation %s %s" % (self.command, path)))
        model = urllib.parse.unquote(parts[2])
        with st.lock:
            st.requests += 1
        try:
            if model not in self.server.models:
                raise Refused(404, "ResourceNotFoundException",
                              "The model %s does not exist or is not available in this "
                              "region" % model)
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype != "application/json":
                raise invalid("Content-Type must be application/json")
            try:
                body = json.loads(raw)
            except ValueError:
                raise invalid("The request body is not valid JSON")
            req = check_request(body, self.server.max_tokens)
        except Refused as r:
            return self._error(r)
        if self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000.0)
        out = answer(req, self.t0)
        with st.lock:
            st.calls += 1
            st.models[model] = st.models.get(model, 0) + 1
            st.last = {"modelId": model, "maxTokens": req["maxTokens"],
                       "messages": req["messages"], "system": req["system"]}
        self._send(200, out, note="%s %d+%d tokens" % (model, out["usage"]["inputTokens"],
                                                       out["usage"]["outputTokens"]))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1; 0 = any")
    ap.add_argument("--port-file", help="write the listening port here (atomically)")
    ap.add_argument("--models", default=DEFAULT_MODELS,
                    help="comma-separated model ids it knows (Claude 3 ids)")
    ap.add_argument("--latency-ms", type=int, default=0, help="added to every answer")
    ap.add_argument("--max-tokens", type=int, default=4096,
                    help="the models' largest maxTokens (4096)")
    opts = ap.parse_args(argv)

    server = standin.Server(("127.0.0.1", opts.listen), Handler)
    server.state = State()
    server.models = {m.strip() for m in opts.models.split(",") if m.strip()}
    server.latency_ms = opts.latency_ms
    server.max_tokens = opts.max_tokens
    port = server.server_address[1]
    standin.serve(server, opts.port_file, log, "listening on 127.0.0.1:%d, models %s",
                  port, ", ".join(sorted(server.models)))


if __name__ == "__main__":
    main()
