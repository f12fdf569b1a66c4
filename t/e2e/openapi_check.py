"""Every answer the end-to-end suite receives, checked against docs/openapi.yaml.

stack.Stack.request calls check() on each response, so every test is covered without being
edited.  An answer passes when its status is documented for the operation (method + path),
its Content-Type is one the spec gives for that status (no body when it gives none), its
required headers are there and match, and its JSON body validates against the schema
(JSON Schema 2020-12, each $ref resolved against the whole file).

Answers that belong to no operation are held to the spec's own extensions, never waved
through:
  - OPTIONS on a path of the file          x-options
  - a path that is no route (any method)   x-dispatcher.unknownPath
  - a route's path, another method         x-dispatcher.methodNotAllowed
  - plain HTTP (the redirect to HTTPS)     x-dispatcher.plainHttp
HEAD is held to the GET operation of the path, without a body.  Over HTTPS, an answer whose
status x-edge documents (nginx's and the WAF's own: 400, 403, 405, 414, 415, 431) may match
that instead of the part above: it passes when it matches one of the two, in full.

PH_OPENAPI_CHECK=0 turns the check off (e.g. while changing the API and the file together).
"""

import json
import os
import re

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

METHODS = ("get", "post", "put", "delete", "patch", "head", "options")


class Contract:
    def __init__(self, path):
        with open(path) as f:
            raw = yaml.safe_load(f)
        # Every $ref is replaced by what it points to, once, up front: the schemas are then
        # plain JSON Schema for any jsonschema release (Debian 12 has 4.10, whose RefResolver
        # later releases deprecate), and a dangling $ref fails here, by name.
        self.raw = raw
        self.spec = self._inline(raw, ())
        self.paths = []
        for p, item in self.spec["paths"].items():
            rx = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$"
            self.paths.append((re.compile(rx), p, item))
        self.validated = 0
        self.by_operation = {}
        self._validators = {}

    # --- references ---------------------------------------------------------------------
    def _inline(self, node, seen):
        if isinstance(node, list):
            return [self._inline(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError("docs/openapi.yaml: a $ref cycle through %s" % ref)
            try:
                target = self._pointer(ref)
            except (KeyError, TypeError):
                raise ValueError("docs/openapi.yaml: $ref %s points nowhere" % ref)
            return self._inline(target, seen + (ref,))
        return {k: self._inline(v, seen) for k, v in node.items()}

    def _pointer(self, ref):
        if not ref.startswith("#/"):
            raise KeyError(ref)
        node = self.raw
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _validator(self, schema):
        # Keyed by identity: the schemas are nodes of self.spec, which lives as long.
        v = self._validators.get(id(schema))
        if v is None:
            v = Draft202012Validator(schema)
            self._validators[id(schema)] = v
        return v

    # --- which part of the spec answers -------------------------------------------------
    def responses_for(self, method, path, https):
        """(label, {status: response}) of the part of the spec that covers this request."""
        x = self.spec["x-dispatcher"]
        if not https:
            return "plain HTTP", x["plainHttp"]["responses"]
        matches = [(p, item) for rx, p, item in self.paths if rx.match(path)]
        if not matches:
            return "unknown path", x["unknownPath"]["responses"]
        m = method.lower()
        if m == "options":
            return "OPTIONS %s" % matches[0][0], self.spec["x-options"]["responses"]
        for p, item in matches:
            op = item.get("get" if m == "head" else m)
            if op:
                return "%s %s" % (method, p), op["responses"]
        return "%s %s (no such method)" % (method, matches[0][0]), \
            x["methodNotAllowed"]["responses"]

    # --- the check ----------------------------------------------------------------------
    def check(self, method, url, https, resp):
        path = url.split("?", 1)[0]
        label, responses = self.responses_for(method, path, https)
        where = "%s %s -> %d (spec: %s)" % (method, url[:200], resp.status, label)
        spec = responses.get(str(resp.status)) or responses.get("%dXX" % (resp.status // 100))
        edge = self.spec["x-edge"]["responses"].get(str(resp.status)) if https else None
        if spec is None and edge is None:
            raise AssertionError("openapi: %s: status %d is not documented (documented: %s)\n"
                                 "body: %s" % (where, resp.status, ", ".join(responses),
                                               resp.body[:500]))
        if spec is None:
            return self._check_response(edge, method, "x-edge", where, resp)
        if edge is None:
            return self._check_response(spec, method, label, where, resp)
        try:
            return self._check_response(spec, method, label, where, resp)
        except AssertionError as own:
            try:
                return self._check_response(edge, method, "x-edge", where, resp)
            except AssertionError as theirs:
                raise AssertionError("%s\n(nor does it match x-edge: %s)" % (own, theirs))

    def _check_response(self, spec, method, label, where, resp):
        for name, h in (spec.get("headers") or {}).items():
            value = resp.header(name)
            if value is None:
                if h.get("required"):
                    raise AssertionError("openapi: %s: the header %s is missing" % (where, name))
                continue
            if "schema" in h:
                self._validate(h["schema"], value, where, "header " + name)
        content = spec.get("content") or {}
        body = resp.body
        if method.upper() == "HEAD" or not content:
            if body:
                raise AssertionError("openapi: %s: a body where the spec has none: %r"
                                     % (where, body[:300]))
            self._count(label, resp.status)
            return
        ctype = (resp.header("content-type") or "").split(";")[0].strip().lower()
        media = content.get(ctype)
        if media is None:
            raise AssertionError("openapi: %s: Content-Type %r, the spec has %s"
                                 % (where, ctype, ", ".join(content)))
        if ctype == "application/json":
            try:
                doc = json.loads(body)
            except ValueError as e:
                raise AssertionError("openapi: %s: the body is not JSON (%s): %r"
                                     % (where, e, body[:300]))
        else:
            doc = body
        if "schema" in media:
            self._validate(media["schema"], doc, where, "body")
        self._count(label, resp.status)

    def _validate(self, schema, instance, where, what):
        err = best_match(self._validator(schema).iter_errors(instance))
        if err is not None:
            at = "".join("[%r]" % p for p in err.absolute_path) or "(top)"
            raise AssertionError(
                "openapi: %s: the %s does not match the spec\n  at %s: %s\n  schema path: %s\n"
                "  %s: %s" % (where, what, at, err.message,
                              "/".join(str(p) for p in err.absolute_schema_path), what,
                              json.dumps(instance)[:800] if not isinstance(instance, str)
                              else instance[:800]))

    def _count(self, label, status):
        self.validated += 1
        key = "%s %d" % (label, status)
        self.by_operation[key] = self.by_operation.get(key, 0) + 1


_contract = None


def contract():
    """The spec of this source tree, loaded once per test session (None when turned off)."""
    global _contract
    if os.environ.get("PH_OPENAPI_CHECK", "1") == "0":
        return None
    if _contract is None:
        from stack import SRCDIR
        _contract = Contract(os.path.join(SRCDIR, "docs", "openapi.yaml"))
    return _contract
