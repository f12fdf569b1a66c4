"""Events of the Stripe stand-in and their signed webhook deliveries, a part of its Store
(standin_store.py): an event keeps a snapshot of the object that changed and the exact bytes
to deliver; a delivery POSTs them with Stripe-Signature: t=UNIX,v1=hex(HMAC-SHA256(secret,
"UNIX." + body)), at once for a control call (its answer reports the deliveries) or in the
background for API calls and automatic expiry.  And GET /v1/events."""

import hashlib
import hmac
import http.client
import json
import ssl
import time
import urllib.parse

from standin_common import (
    CtlError, check_unknown, created_filter, log, now, opt_list, opt_str, paginate,
    parse_expand, public, rid)


class Events:
    """Uses the Store's lock, events, deliveries, outbox, webhook_url, webhook_secret,
    api_version, the delivery counters, next_seq(), render() and save()."""

    def event(self, type_, kind, obj, target_url=None, request=None, previous=None):
        """Create an event whose data.object is a snapshot of obj (call with the lock)."""
        url = target_url or self.webhook_url
        ev = {"id": rid("evt_1", 23), "object": "event", "api_version": self.api_version,
              "created": now(), "data": {"object": self.render(kind, obj)},
              "livemode": False, "pending_webhooks": 1 if url else 0,
              "request": request or {"id": None, "idempotency_key": None}, "type": type_}
        if previous is not None:
            ev["data"]["previous_attributes"] = previous
        ev["_payload"] = json.dumps(public(ev), indent=2, ensure_ascii=False)
        ev["_url"] = target_url
        ev["_seq"] = self.next_seq()
        self.events[ev["id"]] = ev
        return ev

    def sign(self, event_id, secret=None, timestamp=None, extra_v0=False, extra_v1=False):
        with self.lock:
            ev = self.events.get(event_id)
            if ev is None:
                raise CtlError(404, "no such event: %s" % event_id)
            payload = ev["_payload"]
            secret = secret or self.webhook_secret
        t = int(timestamp) if timestamp is not None else now()
        body = payload.encode("utf-8")

        def mac(key):
            return hmac.new(key.encode("utf-8"), b"%d." % t + body, hashlib.sha256).hexdigest()

        parts = ["t=%d" % t]
        if extra_v1:
            parts.append("v1=" + mac(secret + "_previous"))
        parts.append("v1=" + mac(secret))
        if extra_v0:
            parts.append("v0=" + mac(secret + "_v0"))
        return payload, ",".join(parts), t

    def deliver(self, event_id, webhook_url=None, secret=None, timestamp=None, extra_v0=False,
                extra_v1=False, timeout=10.0, **_):
        with self.lock:
            ev = self.events.get(event_id)
            if ev is None:
                raise CtlError(404, "no such event: %s" % event_id)
            url = webhook_url or ev.get("_url") or self.webhook_url
            ev_type = ev["type"]
        rec = {"event": event_id, "type": ev_type, "url": url, "at": now(), "status": None,
               "body": None, "error": None}
        if not url:
            rec["error"] = "no webhook url (start with --webhook-url, POST /__stripe/config " \
                           "or give webhook_url)"
            return self._record_delivery(ev, rec)
        payload, header, t = self.sign(event_id, secret, timestamp, extra_v0, extra_v1)
        body = payload.encode("utf-8")
        rec.update(timestamp=t, signature=header)
        u = urllib.parse.urlsplit(url)
        t0 = time.monotonic()
        conn = None
        try:
            if u.scheme == "https":
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE       # the local stack's self-signed nginx
                conn = http.client.HTTPSConnection(u.hostname, u.port or 443,
                                                   timeout=float(timeout), context=ctx)
            else:
                conn = http.client.HTTPConnection(u.hostname, u.port or 80,
                                                  timeout=float(timeout))
            path = (u.path or "/") + ("?" + u.query if u.query else "")
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Accept": "*/*; q=0.5, application/xml",
                "Cache-Control": "no-cache",
                "Stripe-Signature": header})
            resp = conn.getresponse()
            data = resp.read()
            rec["status"] = resp.status
            rec["body"] = data.decode("utf-8", "replace")[:4000]
        except (OSError, http.client.HTTPException, ValueError) as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            if conn is not None:
                conn.close()
        rec["ms"] = round((time.monotonic() - t0) * 1000, 1)
        log("webhook %s %s -> %s %s", ev_type, event_id, url,
            rec["status"] if rec["status"] is not None else rec["error"])
        return self._record_delivery(ev, rec)

    def _record_delivery(self, ev, rec):
        with self.lock:
            self.deliveries.setdefault(ev["id"], []).append(rec)
            ok = rec["status"] is not None and 200 <= rec["status"] < 300
            if ok:
                self.webhook_ok += 1
                ev["pending_webhooks"] = 0
            elif rec["status"] is not None or rec["url"]:
                self.webhook_failed += 1
            self.save()
        return rec

    def outcome(self, events, opts):
        """Deliver a control call's events (unless deliver is false) and build its answer;
        "order": [i, ...] delivers events[i] in that order instead (repeats allowed, as Stripe
        delivers late, twice and out of order)."""
        dopts = {k: opts[k] for k in ("webhook_url", "secret", "timestamp", "extra_v0",
                                      "extra_v1", "timeout") if opts.get(k) is not None}
        order = opts.get("order")
        if order is None:
            order = range(len(events))
        elif any(i >= len(events) for i in order):
            raise CtlError(400, "order names an event past the %d made (%s): none delivered; "
                           "POST /__stripe/events/{id}/deliver delivers them"
                           % (len(events), ", ".join(ev["id"] for ev in events)))
        deliveries = []
        if opts.get("deliver", True):
            deliveries = [self.deliver(events[i]["id"], **dopts) for i in order]
        rendered = [json.loads(ev["_payload"]) for ev in events]      # as sent
        return {"event": rendered[0] if rendered else None, "events": rendered,
                "delivery": deliveries[0] if deliveries else None, "deliveries": deliveries}

    def enqueue(self, events):
        for ev in events:
            self.outbox.put(ev["id"])

    def delivery_worker(self):
        while True:
            eid = self.outbox.get()
            try:
                self.deliver(eid)
            except Exception as e:              # keep the worker alive
                log("background delivery of %s failed: %r", eid, e)


def api_list_events(st, m, p, ctx):
    check_unknown(p, {"expand", "limit", "starting_after", "ending_before", "type", "types",
                      "created", "delivery_success"}, "")
    parse_expand(p, "list")
    type_ = opt_str(p, "type", "")
    types = opt_list(p, "types", "")
    with st.lock:
        objs = sorted(st.events.values(), key=lambda e: -e["_seq"])
        if type_:
            if type_.endswith("*"):
                objs = [e for e in objs if e["type"].startswith(type_[:-1])]
            else:
                objs = [e for e in objs if e["type"] == type_]
        if types:
            objs = [e for e in objs if e["type"] in types]
        objs = created_filter(p, objs)
        page, more = paginate(p, objs, "event", "/v1/events")
        return 200, st.list_object([public(e) for e in page], "/v1/events", more)
