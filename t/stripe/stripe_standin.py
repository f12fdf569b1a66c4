#!/usr/bin/python3
"""A local stand-in for the part of the Stripe API that prodenthub uses, for the tests and the
local stack: Checkout Sessions, PaymentIntents, Charges, Refunds, Disputes, Events and signed
webhooks; and (standin_billing.py) Customers, recurring Prices, Subscriptions and Invoices.
Standard library only; the shared helpers are in standin_common.py.

    stripe_standin.py --listen PORT [--port-file FILE] [--secret-key sk_test_local]
                      [--webhook-url URL] [--webhook-secret whsec_local] [--state-file FILE]

--listen 0 picks a free port; the port is printed on stdout (and written to --port-file,
atomically, once listening).  Listens on 127.0.0.1 only; runs until SIGTERM/SIGINT (exit 0);
one log line per request on stderr.  --state-file keeps every object, event and idempotency
record in a JSON file (rewritten atomically after each change), so a restart keeps sessions.

The API (Stripe's wire format; point STRIPE_API_BASE at http://127.0.0.1:PORT):
    Authorization: Bearer KEY (or HTTP Basic, the key as user) -> else 401
    Request bodies application/x-www-form-urlencoded with bracket notation
    (metadata[k]=v, line_items[0][price_data][unit_amount]=19900, expand[]=x or expand[0]=x);
    answers JSON with Request-Id, Stripe-Version (echoed, else 2024-06-20) and, on POST,
    Idempotency-Key / Original-Request; Idempotency-Key replays (Idempotent-Replayed: true),
    400 idempotency_error on different parameters or endpoint, 409 while in progress, 24 h.
    POST /v1/checkout/sessions                 create: mode=payment or subscription (a
                                               recurring price; subscription_data[metadata],
                                               [trial_period_days]); ui_mode=hosted
                                               (success_url, cancel_url; url to the pay page)
                                               or embedded (return_url; client_secret, no url)
    GET  /v1/checkout/sessions                 list (limit, starting_after, ending_before,
                                               status, payment_intent, created, ...)
    GET  /v1/checkout/sessions/{id}            retrieve (expand[]=payment_intent, line_items,
                                               payment_intent.latest_charge)
    GET  /v1/checkout/sessions/{id}/line_items list the items
    POST /v1/checkout/sessions/{id}/expire     expire an open session
    GET  /v1/payment_intents/{id}              (expand[]=latest_charge)
    GET  /v1/charges/{id}                      (expand[]=refunds, payment_intent)
    POST /v1/refunds                           payment_intent= or charge=, amount (default: the
                                               rest), reason, metadata
    GET  /v1/refunds/{id}
    GET  /v1/disputes/{id}                     (expand[]=charge, payment_intent) disputes made
                                               with POST /__stripe/charges/{id}/dispute
    GET  /v1/events, GET /v1/events/{id}        the events of the stand-in
    GET  /v1/prices/{id}, GET /v1/prices       the catalogue: price_basic_monthly (1900),
                                               price_pro_monthly (4900), price_pro_yearly
                                               (49000), AUD, recurring; and prices registered
                                               with POST /__stripe/prices (type=, product=)
    POST /v1/customers, GET /v1/customers/{id}   (email, name, metadata; customer.created)
    GET  /v1/subscriptions[/{id}]              (customer=, price=, status=all|ended|...)
    POST /v1/subscriptions/{id}                cancel_at_period_end, metadata, description
                                               (customer.subscription.updated)
    DELETE /v1/subscriptions/{id}              cancel now (customer.subscription.deleted)
    GET  /v1/invoices/{id}
Events raised by API calls (expire, refund) and by automatic expiry are delivered to the
webhook in the background; events raised by control calls are delivered before they answer.
A webhook POST carries the event as pretty-printed JSON and
Stripe-Signature: t=UNIX,v1=hex(HMAC-SHA256(webhook secret, "UNIX." + body)).  Deliveries are
not retried automatically: POST /__stripe/events/{id}/deliver does that.

Control (same port, no auth, JSON bodies, all optional):
    POST /__stripe/sessions/{id}/complete   {"deliver": true, "async": false,
            "webhook_url": URL, "email": ..., "name": ...}  session complete + paid, a
            succeeded PaymentIntent and Charge; events checkout.session.completed and
            payment_intent.succeeded ("async": payment_status unpaid, PI processing, events
            checkout.session.completed + payment_intent.processing)
            A subscription-mode session instead gets its customer (made when it names
            none: customer.created first), a subscription (active, or trialing with
            trial_period_days) and its first invoice, paid: checkout.session.completed,
            customer.subscription.created, invoice.paid (API 2024-06-20 shapes: the period
            on the subscription, invoice.subscription, lines.data[0].period,
            subscription_details.metadata, billing_reason subscription_create).
    POST /__stripe/sessions/{id}/expire     checkout.session.expired
    POST /__stripe/sessions/{id}/fail       a declined attempt on an open session (PI
            requires_payment_method; payment_intent.payment_failed); on an async session
            the same as async_payment_failed
    POST /__stripe/sessions/{id}/async_payment_succeeded   (async sessions) paid;
            checkout.session.async_payment_succeeded + payment_intent.succeeded
    POST /__stripe/sessions/{id}/async_payment_failed      checkout.session.async_payment_
            failed + payment_intent.payment_failed
    POST /__stripe/payment_intents/{id}/fail    {"code", "decline_code", "message"}
    POST /__stripe/payment_intents/{id}/succeed (a processing PaymentIntent)
    POST /__stripe/charges/{id}/refund      {"amount": n, "reason": ...}  charge.refunded
            (a pi_ id is accepted too; 409 if it cannot be refunded)
    POST /__stripe/charges/{id}/dispute     {"reason": "fraudulent" (or any of Stripe's
            dispute reasons), "amount": n (default: the charge amount minus what was
            refunded), "is_charge_refundable": false, "metadata": {}}  a Dispute (status
            needs_response, evidence due in 7 days), the charge disputed: true;
            charge.dispute.created (a pi_ id is accepted too; 409 unless the charge
            succeeded, is not yet disputed and is not fully refunded).  A disputed charge
            cannot be refunded (charge_disputed) unless is_charge_refundable.  With
            "withdraw": true, charge.dispute.funds_withdrawn follows (as for a card
            chargeback: the disputed amount and the fee leave the balance).
    POST /__stripe/subscriptions/{id}/update   {"cancel_at_period_end", "metadata",
            "description"}  customer.subscription.updated with previous_attributes
    POST /__stripe/subscriptions/{id}/delete   canceled now: customer.subscription.deleted
    POST /__stripe/subscriptions/{id}/renew    the next period begins now, its invoice paid:
            customer.subscription.updated (active again if past_due), invoice.paid
    POST /__stripe/subscriptions/{id}/fail_renewal  {"code", "decline_code", "message"}
            the next period's invoice declined: invoice.payment_failed, then
            customer.subscription.updated to past_due
        (409 on a subscription that ended)
    GET  /__stripe/subscriptions            every subscription, newest first (?customer=,
                                            ?status=)
    POST /__stripe/disputes/{id}/close      {"status": "won" | "lost" | "warning_closed"}
            the bank's decision: status set, charge.dispute.closed; a won dispute whose
            funds were withdrawn also gets charge.dispute.funds_reinstated (409 when the
            dispute is closed already).
        Every one of these answers {"event": the main event, "events": [...], "delivery":
        {"status": HTTP status of the webhook endpoint or null, "body", "error", ...},
        "deliveries": [...], and the objects touched (session, payment_intent, charge,
        refund, dispute)}.  Delivery options: "deliver": false
        (only create the events), "order": [2, 0, 1, 0] (deliver the call's events in this
        order, repeats allowed: late, twice, out of order), "webhook_url", "secret" (sign
        with another secret),
        "timestamp" (sign with this t), "extra_v0"/"extra_v1" (add a v0 signature as test
        mode does, or a second v1 made with another secret as during a secret roll),
        "timeout" (10 s).
    GET  /__stripe/events                   {"object": "list", "data": [events, newest
                                            first], "deliveries": {evt: [...]}} (?type=, ?limit=)
    GET  /__stripe/events/{id}              {"event", "payload" (the exact bytes delivered),
                                            "deliveries"}
    POST /__stripe/events/{id}/deliver      deliver now, freshly signed (same options)
    POST /__stripe/events/{id}/sign         {"payload", "header", "timestamp"} to send it
                                            yourself
    GET  /__stripe/sessions                 every session, newest first (?status=,
                                            ?client_reference_id=)
    POST /__stripe/prices  {"unit_amount": 4900, "currency": "aud", "id"?, "product"?,
                            "product_name"?, "recurring"?: {"interval": "month",
                            "interval_count"?: 1}}   a price usable as line_items[i][price]
    POST /__stripe/fail    {"count": N, "status": 500, "type": "api_error", "message": "...",
                            "code"?, "path_prefix"?: "/v1/checkout/sessions", "method"?,
                            "should_retry"?: false, "retry_after"?: s, "delay"?: s,
                            "drop"?: true (close the connection, no answer),
                            "after"?: true (run the request first, then fail/drop/delay;
                            while an "after" delay lasts the Idempotency-Key is in
                            progress, so a retry with it gets 409)}
            the next N authenticated API calls matching get that (faults queue up FIFO);
            5xx carry Stripe-Should-Retry: true unless "should_retry": false; 429 defaults
            to rate_limit_error.  Injected answers are never stored as idempotent results.
    GET  /__stripe/stats   calls by method and path template, responses by status,
                           idempotent replays, sessions by status, faults pending, ...
    GET|POST /__stripe/config  {"webhook_url", "webhook_secret", "api_version", "public_url"}
    POST /__stripe/reset   forget everything (objects, events, keys, faults, counters)
    GET  /__stripe/health
Pay page: GET /pay/{id} shows the session with Pay / Decline / Cancel buttons; Pay completes
it (webhook delivered) and redirects to success_url ({CHECKOUT_SESSION_ID} filled in).
"""

import argparse
import copy
import datetime
import decimal
import hashlib
import hmac
import html
import http.client
import http.server
import json
import os
import queue
import re
import signal
import socket
import ssl
import threading
import time
import urllib.parse
import base64

# the other parts, next to this file (a script's folder is on sys.path)
import standin_billing as billing
from standin_common import (
    DEFAULT_API_VERSION, IDEMPOTENCY_TTL, IDEMPOTENCY_MAX, MAX_BODY, VERSION_RE, DEC_RE,
    EMAIL_RE, CURRENCY_RE, MIN_AMOUNT, MAX_AMOUNT, DISPUTE_REASONS, DISPUTE_EVIDENCE_FIELDS,
    DISPUTE_RESPONSE_DAYS, VISA_REASON_CODES, log, rid, now, mask_key, money, ApiError,
    CtlError, parse_form, check_unknown, opt_hash, opt_list, opt_str, opt_int, opt_bool,
    opt_metadata, opt_url, EXPANDABLE, parse_expand, public, paginate, created_filter)


class Store:
    def __init__(self, secret_key, webhook_url, webhook_secret, state_file):
        self.lock = threading.RLock()
        self.secret_key = secret_key
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.api_version = DEFAULT_API_VERSION
        self.public_url = None
        self.state_file = state_file
        self.port = 0
        self.outbox = queue.Queue()
        self.reset()
        if state_file:
            self.load()

    def reset(self):
        with self.lock:
            self.sessions = {}
            self.payment_intents = {}
            self.charges = {}
            self.refunds = {}
            self.disputes = {}
            self.events = {}
            self.prices = {}
            self.customers = {}
            self.subscriptions = {}
            self.invoices = {}
            self.idem = {}
            self.deliveries = {}
            self.faults = []
            self.seq = 0
            self.api_calls = {}
            self.responses = {}
            self.replays = 0
            self.idempotency_errors = 0
            self.auth_failures = 0
            self.faults_injected = 0
            self.webhook_ok = 0
            self.webhook_failed = 0
            billing.seed_catalogue(self)

    def next_seq(self):
        self.seq += 1
        return self.seq

    @property
    def base_url(self):
        return (self.public_url or "http://127.0.0.1:%d" % self.port).rstrip("/")

    # -- persistence --

    def save(self):
        if not self.state_file:
            return
        with self.lock:
            data = {"version": 1, "saved_at": now(), "seq": self.seq,
                    "sessions": self.sessions, "payment_intents": self.payment_intents,
                    "charges": self.charges, "refunds": self.refunds,
                    "disputes": self.disputes, "events": self.events,
                    "prices": self.prices, "customers": self.customers,
                    "subscriptions": self.subscriptions, "invoices": self.invoices,
                    "idempotency": self.idem, "deliveries": self.deliveries}
            tmp = "%s.tmp.%d" % (self.state_file, os.getpid())
            with open(tmp, "w") as f:
                json.dump(data, f)
            os.replace(tmp, self.state_file)

    def load(self):
        try:
            with open(self.state_file) as f:
                data = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            log("cannot read state file %s (%s); starting empty", self.state_file, e)
            return
        with self.lock:
            self.seq = int(data.get("seq", 0))
            for name in ("sessions", "payment_intents", "charges", "refunds", "disputes",
                         "events", "prices", "customers", "subscriptions", "invoices",
                         "idempotency", "deliveries"):
                attr = "idem" if name == "idempotency" else name
                setattr(self, attr, dict(data.get(name) or {}))
            billing.seed_catalogue(self)
        log("loaded %d session(s), %d event(s) from %s", len(self.sessions), len(self.events),
            self.state_file)

    # -- rendering --

    def lookup(self, kind, oid):
        table = {"checkout.session": self.sessions, "payment_intent": self.payment_intents,
                 "charge": self.charges, "refund": self.refunds,
                 "dispute": self.disputes, "event": self.events, "price": self.prices,
                 "customer": self.customers, "subscription": self.subscriptions,
                 "invoice": self.invoices}[kind]
        return table.get(oid)

    def render(self, kind, obj, tree=None):
        out = public(obj)
        if kind == "checkout.session":
            out["url"] = ("%s/pay/%s" % (self.base_url, obj["id"])
                          if obj["status"] == "open" and obj["ui_mode"] == "hosted" else None)
        for field, sub in (tree or {}).items():
            target = EXPANDABLE[kind].get(field)
            if target is None:
                continue
            if target == "line_items":
                out[field] = self.list_object(
                    [copy.deepcopy(li) for li in obj["_line_items"]],
                    "/v1/checkout/sessions/%s/line_items" % obj["id"])
            elif target == "refunds":
                refs = sorted((r for r in self.refunds.values() if r["charge"] == obj["id"]),
                              key=lambda r: -r["_seq"])
                out[field] = self.list_object([self.render("refund", r) for r in refs],
                                              "/v1/charges/%s/refunds" % obj["id"])
            else:
                vid = out.get(field)
                if isinstance(vid, str):
                    target_obj = self.lookup(target, vid)
                    if target_obj is not None:
                        out[field] = self.render(target, target_obj, sub)
        return out

    @staticmethod
    def list_object(data, url, has_more=False):
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    # -- events --

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

    # -- idempotency --

    def idem_begin(self, scope, key, endpoint, fingerprint):
        with self.lock:
            k = scope + "\x00" + key
            rec = self.idem.get(k)
            if rec and rec["created"] < now() - IDEMPOTENCY_TTL:
                del self.idem[k]
                rec = None
            if rec is None:
                if len(self.idem) >= IDEMPOTENCY_MAX:
                    self.prune_idem(force=True)
                self.idem[k] = {"endpoint": endpoint, "fingerprint": fingerprint,
                                "created": now(), "in_progress": True}
                return None
            if rec.get("in_progress"):
                self.idempotency_errors += 1
                raise ApiError(409, "There is currently another in-progress request using this "
                               "Idempotent Key (probably because of a timeout). Please retry "
                               "this request later.", type_="idempotency_error",
                               code="idempotency_key_in_use")
            if rec["endpoint"] != endpoint:
                self.idempotency_errors += 1
                raise ApiError(400, "Keys for idempotent requests can only be used for the same "
                               "endpoint they were first used for ('%s' vs '%s'). Try using a "
                               "key other than '%s' if you meant to execute a different "
                               "request." % (rec["endpoint"], endpoint, key),
                               type_="idempotency_error")
            if rec["fingerprint"] != fingerprint:
                self.idempotency_errors += 1
                raise ApiError(400, "Keys for idempotent requests can only be used with the "
                               "same parameters they were first used with. Try using a key "
                               "other than '%s' if you meant to execute a different request."
                               % key, type_="idempotency_error")
            self.replays += 1
            return rec

    def idem_finish(self, scope, key, status, body, request_id):
        with self.lock:
            rec = self.idem.get(scope + "\x00" + key)
            if rec is not None:
                rec.update(in_progress=False, status=status, body=body.decode("utf-8"),
                           request_id=request_id)
            self.save()

    def idem_abort(self, scope, key):
        with self.lock:
            rec = self.idem.get(scope + "\x00" + key)
            if rec is not None and rec.get("in_progress"):
                del self.idem[scope + "\x00" + key]

    def prune_idem(self, force=False):
        with self.lock:
            cut = now() - IDEMPOTENCY_TTL
            for k in [k for k, r in self.idem.items() if r["created"] < cut]:
                del self.idem[k]
            if force and len(self.idem) >= IDEMPOTENCY_MAX:
                done = sorted((r["created"], k) for k, r in self.idem.items()
                              if not r.get("in_progress"))
                for _, k in done[:len(done) // 2]:
                    del self.idem[k]

    # -- faults --

    def take_fault(self, method, path, phase_after):
        with self.lock:
            for f in self.faults:
                if bool(f.get("after")) != phase_after:
                    continue
                if f.get("path_prefix") and not path.startswith(f["path_prefix"]):
                    continue
                if f.get("method") and f["method"].upper() != method:
                    continue
                f["count"] -= 1
                if f["count"] <= 0:
                    self.faults.remove(f)
                self.faults_injected += 1
                return dict(f)
        return None

    def stats(self):
        with self.lock:
            by_status = {}
            for s in self.sessions.values():
                by_status[s["status"]] = by_status.get(s["status"], 0) + 1
            pay = {}
            for s in self.sessions.values():
                pay[s["payment_status"]] = pay.get(s["payment_status"], 0) + 1
            pis = {}
            for p in self.payment_intents.values():
                pis[p["status"]] = pis.get(p["status"], 0) + 1
            subs = {}
            for x in self.subscriptions.values():
                subs[x["status"]] = subs.get(x["status"], 0) + 1
            ev_types = {}
            for e in self.events.values():
                ev_types[e["type"]] = ev_types.get(e["type"], 0) + 1
            return {"api_calls": dict(self.api_calls), "responses": dict(self.responses),
                    "idempotent_replays": self.replays,
                    "idempotency_errors": self.idempotency_errors,
                    "idempotency_keys": len(self.idem),
                    "auth_failures": self.auth_failures,
                    "faults_injected": self.faults_injected,
                    "faults_pending": [dict(f) for f in self.faults],
                    "sessions": by_status, "sessions_by_payment_status": pay,
                    "payment_intents": pis, "charges": len(self.charges),
                    "refunds": len(self.refunds), "disputes": len(self.disputes),
                    "events": len(self.events), "customers": len(self.customers),
                    "subscriptions": subs, "invoices": len(self.invoices),
                    "events_by_type": ev_types,
                    "webhook_deliveries": {"ok": self.webhook_ok,
                                           "failed": self.webhook_failed}}

    # -- objects --

    def new_session(self, fields):
        with self.lock:
            fields["_seq"] = self.next_seq()
            self.sessions[fields["id"]] = fields
            self.save()
            return fields

    def get(self, kind, oid, param="id"):
        obj = self.lookup(kind, oid)
        if obj is None:
            raise ApiError(404, "No such %s: '%s'" % (kind, oid), code="resource_missing",
                           param=param)
        return obj

    def ctl_get(self, kind, oid):
        obj = self.lookup(kind, oid)
        if obj is None:
            raise CtlError(404, "no such %s: %s" % (kind, oid))
        return obj

    def _payment_method_details(self, method):
        if method == "au_becs_debit":
            return {"au_becs_debit": {"bsb_number": "000000", "fingerprint": rid("", 16),
                                      "last4": "3456", "mandate": rid("mandate_1", 23)},
                    "type": "au_becs_debit"}
        return {"card": {"amount_authorization": None, "brand": "visa",
                         "checks": {"address_line1_check": None,
                                    "address_postal_code_check": None, "cvc_check": "pass"},
                         "country": "AU", "exp_month": 12,
                         "exp_year": datetime.date.today().year + 3, "extended_authorization":
                         {"status": "disabled"}, "fingerprint": rid("", 16), "funding": "credit",
                         "installments": None, "last4": "4242", "mandate": None,
                         "network": "visa", "network_token": {"used": False},
                         "three_d_secure": None, "wallet": None},
                "type": "card"}

    def _ensure_pi(self, s, method):
        pid = s.get("payment_intent")
        if pid and pid in self.payment_intents:
            pi = self.payment_intents[pid]
            pi["payment_method_types"] = [method]
            return pi
        pdata = s.get("_payment_intent_data") or {}
        pi_id = rid("pi_3", 23)
        pi = {"id": pi_id, "object": "payment_intent", "amount": s["amount_total"],
              "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0,
              "application": None, "application_fee_amount": None,
              "automatic_payment_methods": None, "canceled_at": None,
              "cancellation_reason": None, "capture_method": "automatic",
              "client_secret": "%s_secret_%s" % (pi_id, rid("", 25)),
              "confirmation_method": "automatic", "created": now(),
              "currency": s["currency"], "customer": s.get("customer"),
              "description": pdata.get("description"), "invoice": None,
              "last_payment_error": None, "latest_charge": None, "livemode": False,
              "metadata": dict(pdata.get("metadata") or {}), "next_action": None,
              "on_behalf_of": None, "payment_method": None,
              "payment_method_configuration_details": None, "payment_method_options": {},
              "payment_method_types": [method], "processing": None,
              "receipt_email": pdata.get("receipt_email"), "review": None,
              "setup_future_usage": pdata.get("setup_future_usage"), "shipping": None,
              "source": None, "statement_descriptor": pdata.get("statement_descriptor"),
              "statement_descriptor_suffix": pdata.get("statement_descriptor_suffix"),
              "status": "requires_payment_method", "transfer_data": None,
              "transfer_group": pdata.get("transfer_group"),
              "_session": s["id"], "_seq": self.next_seq()}
        self.payment_intents[pi_id] = pi
        s["payment_intent"] = pi_id
        return pi

    def _new_charge(self, pi, s, status, method, email, name, failure=None):
        ok = status == "succeeded"
        ch = {"id": rid("ch_3", 23), "object": "charge", "amount": pi["amount"],
              "amount_captured": pi["amount"] if ok else 0, "amount_refunded": 0,
              "application": None, "application_fee": None, "application_fee_amount": None,
              "balance_transaction": rid("txn_3", 23) if ok else None,
              "billing_details": {"address": {"city": None, "country": "AU", "line1": None,
                                              "line2": None, "postal_code": None,
                                              "state": None},
                                  "email": email, "name": name, "phone": None},
              "calculated_statement_descriptor": "STRIPE STAND-IN", "captured": ok,
              "created": now(), "currency": pi["currency"], "customer": pi["customer"],
              "description": pi["description"], "disputed": False,
              "failure_balance_transaction": None,
              "failure_code": failure["code"] if failure else None,
              "failure_message": failure["message"] if failure else None,
              "fraud_details": {}, "invoice": None, "livemode": False,
              "metadata": dict(pi["metadata"]), "on_behalf_of": None,
              "outcome": self._outcome(status, failure), "paid": ok,
              "payment_intent": pi["id"], "payment_method": pi["payment_method"],
              "payment_method_details": self._payment_method_details(method),
              "receipt_email": pi["receipt_email"], "receipt_number": None,
              "receipt_url": None, "refunded": False, "review": None, "shipping": None,
              "source": None, "source_transfer": None, "statement_descriptor": None,
              "statement_descriptor_suffix": None, "status": status, "transfer_data": None,
              "transfer_group": None, "_seq": self.next_seq()}
        self.charges[ch["id"]] = ch
        pi["latest_charge"] = ch["id"]
        return ch

    @staticmethod
    def _outcome(status, failure):
        if status == "failed":
            return {"network_status": "declined_by_network",
                    "reason": (failure or {}).get("decline_code") or "generic_decline",
                    "risk_level": "normal", "risk_score": 40,
                    "seller_message": "The bank did not return any further details with "
                                      "this decline.", "type": "issuer_declined"}
        if status == "pending":
            return None
        return {"network_status": "approved_by_network", "reason": None,
                "risk_level": "normal", "risk_score": 32,
                "seller_message": "Payment complete.", "type": "authorized"}

    def _customer_details(self, s, opts):
        email = opts.get("email") or s.get("customer_email") or "customer@example.com"
        return {"address": {"city": None, "country": "AU", "line1": None, "line2": None,
                            "postal_code": None, "state": None},
                "email": email, "name": opts.get("name") or "Test Customer", "phone": None,
                "tax_exempt": "none", "tax_ids": []}

    def complete(self, sid, opts):
        with self.lock:
            s = self.ctl_get("checkout.session", sid)
            if s["status"] != "open":
                raise CtlError(409, "session %s is %s, not open" % (sid, s["status"]))
            if s["expires_at"] <= now():
                raise CtlError(409, "session %s is past its expires_at" % sid)
            if s["mode"] == "subscription":
                events, objs = billing.complete(self, s, opts)
            else:
                events, objs = self._complete_payment(s, opts)
            self.save()
        out = self.outcome(events, opts)
        return self.touched(out, dict(objs, session=s))

    def _complete_payment(self, s, opts):
        async_ = bool(opts.get("async"))
        method = "au_becs_debit" if async_ else "card"
        cd = self._customer_details(s, opts)
        pi = self._ensure_pi(s, method)
        pi["payment_method"] = rid("pm_1", 23)
        pi["last_payment_error"] = None
        ch = self._new_charge(pi, s, "pending" if async_ else "succeeded", method,
                              cd["email"], cd["name"])
        if async_:
            pi["status"] = "processing"
        else:
            pi.update(status="succeeded", amount_received=pi["amount"])
        s.update(status="complete", payment_status="unpaid" if async_ else "paid",
                 customer_details=cd, _async=async_)
        url = opts.get("webhook_url")
        events = [self.event("checkout.session.completed", "checkout.session", s, url),
                  self.event("payment_intent.processing" if async_
                             else "payment_intent.succeeded", "payment_intent", pi, url)]
        return events, {"payment_intent": pi, "charge": ch}

    TOUCHED = {"session": "checkout.session", "payment_intent": "payment_intent",
               "charge": "charge", "customer": "customer", "subscription": "subscription",
               "invoice": "invoice"}

    def touched(self, out, objs):
        """A control call's answer with the objects it touched, rendered."""
        with self.lock:
            for name, obj in objs.items():
                if obj is not None:
                    out[name] = self.render(self.TOUCHED[name], obj)
        return out

    def expire(self, sid, target_url=None, request=None, ctl=False):
        with self.lock:
            s = (self.ctl_get if ctl else self.get)("checkout.session", sid)
            if s["status"] != "open":
                msg = ('Only Checkout Sessions with a status in ["open"] can be expired. This '
                       'Checkout Session has a status of `%s`.' % s["status"])
                if ctl:
                    raise CtlError(409, msg)
                raise ApiError(400, msg, executed=True)
            s["status"] = "expired"
            ev = self.event("checkout.session.expired", "checkout.session", s, target_url,
                            request)
            self.save()
            return s, [ev]

    def async_result(self, pi, succeed, opts):
        """Settle a processing PaymentIntent (of an async checkout) or fail any unsettled one."""
        with self.lock:
            s = self.sessions.get(pi.get("_session"))
            url = opts.get("webhook_url")
            ch = self.charges.get(pi.get("latest_charge"))
            events = []
            if succeed:
                if pi["status"] != "processing":
                    raise CtlError(409, "payment_intent %s is %s, not processing"
                                   % (pi["id"], pi["status"]))
                pi.update(status="succeeded", amount_received=pi["amount"])
                if ch is not None:
                    ch.update(status="succeeded", paid=True, captured=True,
                              amount_captured=ch["amount"],
                              balance_transaction=rid("txn_3", 23),
                              outcome=self._outcome("succeeded", None))
                if s is not None:
                    s["payment_status"] = "paid"
                    events.append(self.event("checkout.session.async_payment_succeeded",
                                             "checkout.session", s, url))
                events.append(self.event("payment_intent.succeeded", "payment_intent", pi,
                                         url))
            else:
                if pi["status"] in ("succeeded", "canceled"):
                    raise CtlError(409, "payment_intent %s is %s and cannot fail"
                                   % (pi["id"], pi["status"]))
                failure = {"code": opts.get("code") or "card_declined",
                           "decline_code": opts.get("decline_code") or "generic_decline",
                           "message": opts.get("message") or "Your card was declined."}
                was_processing = pi["status"] == "processing"
                if was_processing:
                    failure = {"code": opts.get("code") or "debit_not_authorized",
                               "decline_code": opts.get("decline_code"),
                               "message": opts.get("message") or
                               "The customer's bank account could not be debited."}
                method = pi["payment_method_types"][0]
                if ch is None or ch["status"] != "pending":
                    cd = self._customer_details(s or {}, opts)
                    pi["payment_method"] = rid("pm_1", 23)
                    ch = self._new_charge(pi, s or {}, "failed", method, cd["email"],
                                          cd["name"], failure)
                else:
                    ch.update(status="failed", failure_code=failure["code"],
                              failure_message=failure["message"],
                              outcome=self._outcome("failed", failure))
                err = {"code": failure["code"], "decline_code": failure["decline_code"],
                       "doc_url": "https://stripe.com/docs/error-codes/"
                                  + failure["code"].replace("_", "-"),
                       "message": failure["message"], "payment_method": {
                           "id": pi["payment_method"], "object": "payment_method",
                           "type": method}, "type": "card_error"
                       if method == "card" else "invalid_request_error"}
                if err["decline_code"] is None:
                    del err["decline_code"]
                pi.update(status="requires_payment_method", last_payment_error=err,
                          payment_method=None)
                if s is not None and s["status"] == "complete" and was_processing:
                    events.append(self.event("checkout.session.async_payment_failed",
                                             "checkout.session", s, url))
                events.append(self.event("payment_intent.payment_failed", "payment_intent",
                                         pi, url))
            self.save()
        out = self.outcome(events, opts)
        with self.lock:
            out["payment_intent"] = self.render("payment_intent", pi)
            if ch is not None:
                out["charge"] = self.render("charge", ch)
            if s is not None:
                out["session"] = self.render("checkout.session", s)
        return out

    def refund(self, ch, amount, reason, metadata, request=None, target_url=None, param=None):
        """Refund amount (None: the rest) of a charge; raises ApiError like Stripe."""
        with self.lock:
            if ch["status"] != "succeeded":
                raise ApiError(400, "This charge (%s) has not succeeded and cannot be refunded."
                               % ch["id"], param=param)
            if ch["refunded"] or ch["amount_refunded"] >= ch["amount"]:
                raise ApiError(400, "Charge %s has already been refunded." % ch["id"],
                               code="charge_already_refunded", executed=True)
            dp = self.dispute_of(ch)
            if dp is not None and not dp["is_charge_refundable"]:
                raise ApiError(400, "Charge %s has been charged back; cannot issue a refund."
                               % ch["id"], code="charge_disputed", executed=True)
            rest = ch["amount"] - ch["amount_refunded"]
            if amount is None:
                amount = rest
            if amount > rest:
                raise ApiError(400, "Refund amount (%s) is greater than unrefunded amount on "
                               "charge (%s)" % (money(amount, ch["currency"]),
                                                money(rest, ch["currency"])),
                               code="amount_too_large", param="amount")
            re_ = {"id": rid("re_3", 23), "object": "refund", "amount": amount,
                   "balance_transaction": rid("txn_3", 23), "charge": ch["id"],
                   "created": now(), "currency": ch["currency"],
                   "destination_details": {"card": {"reference_status": "pending",
                                                    "reference_type":
                                                        "acquirer_reference_number",
                                                    "type": "refund"}, "type": "card"},
                   "metadata": metadata or {}, "payment_intent": ch["payment_intent"],
                   "reason": reason, "receipt_number": None,
                   "source_transfer_reversal": None, "status": "succeeded",
                   "transfer_reversal": None, "_seq": self.next_seq()}
            self.refunds[re_["id"]] = re_
            previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
            ch["amount_refunded"] += amount
            ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
            ev = self.event("charge.refunded", "charge", ch, target_url, request, previous)
            self.save()
            return re_, ch, [ev]

    def dispute_of(self, ch):
        """The (newest) dispute of a charge, or None (call with the lock)."""
        found = [d for d in self.disputes.values() if d["charge"] == ch["id"]]
        return max(found, key=lambda d: d["_seq"]) if found else None

    def dispute(self, ch, opts):
        """The cardholder disputes a succeeded charge (a control call; raises CtlError)."""
        reason = opts.get("reason") or "fraudulent"
        if reason not in DISPUTE_REASONS:
            raise CtlError(400, "reason must be one of %s" % ", ".join(DISPUTE_REASONS))
        amount = opts.get("amount")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)
                                   or amount < 1):
            raise CtlError(400, "amount must be a positive integer")
        metadata = opts.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise CtlError(400, "metadata must be an object")
        refundable = opts.get("is_charge_refundable", False)
        if not isinstance(refundable, bool):
            raise CtlError(400, "is_charge_refundable must be true or false")
        with self.lock:
            if ch["status"] != "succeeded":
                raise CtlError(409, "charge %s is %s, not succeeded, and cannot be disputed"
                               % (ch["id"], ch["status"]))
            if ch["disputed"] or self.dispute_of(ch) is not None:
                raise CtlError(409, "charge %s is already disputed" % ch["id"])
            rest = ch["amount"] - ch["amount_refunded"]
            if rest <= 0:
                raise CtlError(409, "charge %s is fully refunded; nothing left to dispute"
                               % ch["id"])
            if amount is None:
                amount = rest
            if amount > rest:
                raise CtlError(400, "amount %d is greater than the charge's unrefunded amount "
                               "%d" % (amount, rest))
            created = now()
            # evidence is due at the end of the day (UTC) DISPUTE_RESPONSE_DAYS from now
            due_by = (created // 86400 + DISPUTE_RESPONSE_DAYS + 1) * 86400 - 1
            pmd = ch.get("payment_method_details") or {}
            if pmd.get("type") == "card":
                dpmd = {"card": {"brand": (pmd.get("card") or {}).get("brand") or "visa",
                                 "case_type": "chargeback",
                                 "network_reason_code": VISA_REASON_CODES.get(reason,
                                                                              "13.7")},
                        "type": "card"}
            else:
                dpmd = None
            dp = {"id": rid("dp_1", 23), "object": "dispute", "amount": amount,
                  "balance_transactions": [], "charge": ch["id"], "created": created,
                  "currency": ch["currency"],
                  "evidence": {k: None for k in DISPUTE_EVIDENCE_FIELDS},
                  "evidence_details": {"due_by": due_by, "has_evidence": False,
                                       "past_due": False, "submission_count": 0},
                  "is_charge_refundable": refundable,
                  "livemode": False, "metadata": dict(metadata),
                  "payment_intent": ch.get("payment_intent"),
                  "payment_method_details": dpmd, "reason": reason,
                  "status": "needs_response", "_seq": self.next_seq()}
            self.disputes[dp["id"]] = dp
            ch["disputed"] = True
            evs = [self.event("charge.dispute.created", "dispute", dp, opts.get("webhook_url"))]
            if opts.get("withdraw"):
                dp["balance_transactions"] = [self.dispute_txn(dp, -amount, "Chargeback "
                                                               "withdrawal for " + ch["id"])]
                evs.append(self.event("charge.dispute.funds_withdrawn", "dispute", dp,
                                      opts.get("webhook_url")))
            self.save()
            return dp, ch, evs

    def dispute_txn(self, dp, amount, description):
        """A balance transaction of a dispute (call with the lock)."""
        return {"id": rid("txn_1", 23), "object": "balance_transaction", "amount": amount,
                "currency": dp["currency"], "description": description,
                "fee": 1500 if amount < 0 else -1500, "net": amount - 1500 if amount < 0
                else amount + 1500, "reporting_category": "dispute" if amount < 0
                else "dispute_reversal", "status": "available", "type": "adjustment",
                "created": now()}

    def close_dispute(self, dp, opts):
        """The bank decides a dispute (a control call; raises CtlError)."""
        status = opts.get("status")
        if status not in ("won", "lost", "warning_closed"):
            raise CtlError(400, "status must be won, lost or warning_closed")
        with self.lock:
            if dp["status"] in ("won", "lost", "warning_closed"):
                raise CtlError(409, "dispute %s is closed already (%s)" % (dp["id"],
                                                                           dp["status"]))
            previous = {"status": dp["status"]}
            dp["status"] = status
            evs = [self.event("charge.dispute.closed", "dispute", dp, opts.get("webhook_url"),
                              previous=previous)]
            if status == "won" and dp["balance_transactions"]:
                dp["balance_transactions"].append(self.dispute_txn(
                    dp, dp["amount"], "Chargeback reversal for " + dp["charge"]))
                evs.append(self.event("charge.dispute.funds_reinstated", "dispute", dp,
                                      opts.get("webhook_url")))
            self.save()
            return dp, evs


# --- the API ------------------------------------------------------------------------------

SESSION_PARAMS = {
    "after_expiration", "allow_promotion_codes", "automatic_tax", "billing_address_collection",
    "cancel_url", "client_reference_id", "consent_collection", "currency", "custom_fields",
    "custom_text", "customer", "customer_creation", "customer_email", "customer_update",
    "discounts", "expand", "expires_at", "invoice_creation", "line_items", "locale",
    "metadata", "mode", "payment_intent_data", "payment_method_collection",
    "payment_method_configuration", "payment_method_data", "payment_method_options",
    "payment_method_types", "phone_number_collection", "redirect_on_completion",
    "return_url", "saved_payment_method_options", "setup_intent_data",
    "shipping_address_collection", "shipping_options", "submit_type", "subscription_data",
    "success_url", "tax_id_collection", "ui_mode"}
LINE_ITEM_PARAMS = {"adjustable_quantity", "dynamic_tax_rates", "price", "price_data",
                    "quantity", "tax_rates"}
PRICE_DATA_PARAMS = {"currency", "product", "product_data", "recurring", "tax_behavior",
                     "unit_amount", "unit_amount_decimal"}
PRODUCT_DATA_PARAMS = {"description", "images", "metadata", "name", "tax_code", "unit_label"}
PI_DATA_PARAMS = {"application_fee_amount", "capture_method", "description", "metadata",
                  "on_behalf_of", "receipt_email", "setup_future_usage", "shipping",
                  "statement_descriptor", "statement_descriptor_suffix", "transfer_data",
                  "transfer_group"}


def line_items_param(p, created, mode="payment"):
    raw = opt_list(p, "line_items", "", required=True)
    if not raw:
        raise ApiError(400, "Missing required param: line_items.", code="parameter_missing",
                       param="line_items")
    if len(raw) > 100:
        raise ApiError(400, "You may only specify up to 100 line items.", param="line_items")
    items = []
    for i, li in enumerate(raw):
        pre = "line_items[%d]" % i
        if not isinstance(li, dict):
            raise ApiError(400, "Invalid hash", param=pre)
        check_unknown(li, LINE_ITEM_PARAMS, pre)
        qty = opt_int(li, "quantity", pre, required=True, minimum=1, maximum=999999)
        has_price, has_data = li.get("price") not in (None, ""), li.get("price_data") not in (
            None, "")
        if has_price and has_data:
            raise ApiError(400, "You may only specify one of these parameters: price, "
                           "price_data.", param=pre + "[price_data]")
        if not has_price and not has_data:
            raise ApiError(400, "You must specify either `price` or `price_data` in %s." % pre,
                           code="parameter_missing", param=pre + "[price]")
        if has_price:
            pid = opt_str(li, "price", pre)
            price = STORE.lookup("price", pid)
            if price is None:
                raise ApiError(400, "No such price: '%s'" % pid, code="resource_missing",
                               param=pre + "[price]")
            price = public(price)
            name = price.get("nickname") or price["product"]
        else:
            pd_pre = pre + "[price_data]"
            pd = opt_hash(li, "price_data", pre)
            check_unknown(pd, PRICE_DATA_PARAMS, pd_pre)
            cur = opt_str(pd, "currency", pd_pre, required=True)
            if not CURRENCY_RE.match(cur):
                raise ApiError(400, "Invalid currency: %s. Stripe currently supports these "
                               "currencies: aud, usd, nzd, eur, gbp, ..." % cur.lower(),
                               param=pd_pre + "[currency]")
            cur = cur.lower()
            if pd.get("recurring") not in (None, "") and mode == "payment":
                raise ApiError(400, "You specified `payment` mode but passed a recurring price. "
                               "Either switch to `subscription` mode or use only one-time "
                               "prices.", param=pd_pre + "[recurring]")
            recurring = billing.recurring_price_data(pd, pd_pre)
            opt_str(pd, "tax_behavior", pd_pre,
                    enum=("exclusive", "inclusive", "unspecified"))
            has_prod, has_pdata = (pd.get("product") not in (None, ""),
                                   pd.get("product_data") not in (None, ""))
            if has_prod and has_pdata:
                raise ApiError(400, "You may only specify one of these parameters: product, "
                               "product_data.", param=pd_pre + "[product_data]")
            if not has_prod and not has_pdata:
                raise ApiError(400, "You must specify either `product` or `product_data` when "
                               "creating a price.", code="parameter_missing",
                               param=pd_pre + "[product_data]")
            if has_prod:
                product = opt_str(pd, "product", pd_pre)
                name = product
            else:
                pdd_pre = pd_pre + "[product_data]"
                pdd = opt_hash(pd, "product_data", pd_pre)
                check_unknown(pdd, PRODUCT_DATA_PARAMS, pdd_pre)
                name = opt_str(pdd, "name", pdd_pre, required=True, maxlen=250)
                opt_str(pdd, "description", pdd_pre, maxlen=40000)
                opt_metadata(pdd, "metadata", pdd_pre)
                images = opt_list(pdd, "images", pdd_pre) or []
                if len(images) > 8:
                    raise ApiError(400, "You may only specify up to 8 images.",
                                   param=pdd_pre + "[images]")
                product = rid("prod_", 14)
            has_ua = pd.get("unit_amount") not in (None, "")
            has_uad = pd.get("unit_amount_decimal") not in (None, "")
            if has_ua and has_uad:
                raise ApiError(400, "You may only specify one of these parameters: "
                               "unit_amount, unit_amount_decimal.",
                               param=pd_pre + "[unit_amount_decimal]")
            if has_uad:
                v = pd["unit_amount_decimal"]
                if not isinstance(v, str) or not DEC_RE.match(v):
                    raise ApiError(400, "Invalid decimal: %s" % v,
                                   param=pd_pre + "[unit_amount_decimal]")
                unit = decimal.Decimal(v)
                ua = int(unit) if unit == int(unit) else None
                uad = v
            else:
                ua = opt_int(pd, "unit_amount", pd_pre, required=True, minimum=0)
                unit = decimal.Decimal(ua)
                uad = str(ua)
            price = {"id": rid("price_1", 23), "object": "price", "active": False,
                     "billing_scheme": "per_unit", "created": created, "currency": cur,
                     "custom_unit_amount": None, "livemode": False, "lookup_key": None,
                     "metadata": {}, "nickname": None, "product": product,
                     "recurring": None,
                     "tax_behavior": pd.get("tax_behavior") or "unspecified",
                     "tiers_mode": None, "transform_quantity": None, "type": "one_time",
                     "unit_amount": ua, "unit_amount_decimal": uad}
            if recurring:
                price.update(type="recurring", recurring=billing.price_object(
                    "", "", None, 0, cur, *recurring)["recurring"])
        unit = decimal.Decimal(price["unit_amount_decimal"])
        amount = int((unit * qty).to_integral_value(rounding=decimal.ROUND_HALF_UP))
        items.append({"id": rid("li_1", 23), "object": "item", "amount_discount": 0,
                      "amount_subtotal": amount, "amount_tax": 0, "amount_total": amount,
                      "currency": price["currency"], "description": name, "price": price,
                      "quantity": qty})
    currencies = {li["currency"] for li in items}
    if len(currencies) > 1:
        raise ApiError(400, "All line items must have the same currency (got %s)."
                       % ", ".join(sorted(currencies)), param="line_items")
    billing.check_recurring(items, mode)
    return items


def session_urls(p, ui_mode):
    """success_url and cancel_url (hosted), or return_url and redirect_on_completion
    (embedded), as Stripe requires them of each ui_mode."""
    return_url = opt_url(p, "return_url", "")
    roc = opt_str(p, "redirect_on_completion", "", enum=("always", "if_required", "never"))
    if ui_mode == "hosted":
        for k, v in (("return_url", return_url), ("redirect_on_completion", roc)):
            if v is not None:
                raise ApiError(400, "You can only pass `%s` when `ui_mode` is `embedded` or "
                               "`custom`." % k, param=k)
        return (opt_url(p, "success_url", "", required=True),
                opt_url(p, "cancel_url", "", required=True), None, None)
    for k in ("success_url", "cancel_url"):
        if p.get(k) not in (None, ""):
            raise ApiError(400, "You cannot pass `%s` when `ui_mode` is `%s`." % (k, ui_mode),
                           param=k)
    roc = roc or "always"
    if return_url is None and roc != "never":
        raise ApiError(400, "You must provide `return_url` when `ui_mode` is `%s` (or set "
                       "`redirect_on_completion` to `never`)." % ui_mode,
                       code="parameter_missing", param="return_url")
    if return_url is not None and roc == "never":
        raise ApiError(400, "You cannot pass `return_url` when `redirect_on_completion` is "
                       "`never`.", param="return_url")
    return None, None, return_url, roc


def api_create_session(h, m, p, ctx):
    check_unknown(p, SESSION_PARAMS, "")
    expand = parse_expand(p, "checkout.session")
    created = now()
    mode = opt_str(p, "mode", "", required=True, enum=("payment", "setup", "subscription"))
    if mode == "setup":
        raise ApiError(400, "The Stripe stand-in supports mode=payment and subscription only.",
                       param="mode")
    ui_mode = opt_str(p, "ui_mode", "", enum=("hosted", "embedded", "custom")) or "hosted"
    if ui_mode == "custom":
        raise ApiError(400, "The Stripe stand-in supports ui_mode=hosted and embedded only.",
                       param="ui_mode")
    if p.get("setup_intent_data") not in (None, ""):
        raise ApiError(400, "You can not pass `setup_intent_data` in `%s` mode." % mode,
                       param="setup_intent_data")
    sub_data = billing.subscription_data_param(p, mode)
    success_url, cancel_url, return_url, roc = session_urls(p, ui_mode)
    customer = opt_str(p, "customer", "")
    if customer and STORE.lookup("customer", customer) is None:
        raise ApiError(400, "No such customer: '%s'" % customer, code="resource_missing",
                       param="customer")
    customer_email = opt_str(p, "customer_email", "", maxlen=800)
    if customer and customer_email:
        raise ApiError(400, "You may only specify one of these parameters: customer, "
                       "customer_email.", param="customer_email")
    if customer_email is not None and not EMAIL_RE.match(customer_email):
        raise ApiError(400, "Invalid email address: %s" % customer_email,
                       code="email_invalid", param="customer_email")
    client_reference_id = opt_str(p, "client_reference_id", "", maxlen=200)
    metadata = opt_metadata(p, "metadata", "")
    expires_at = opt_int(p, "expires_at", "")
    if expires_at is None:
        expires_at = created + 24 * 3600
    elif expires_at < created + 30 * 60 - 2:
        raise ApiError(400, "The `expires_at` timestamp must be at least 30 minutes from "
                       "Checkout Session creation.", param="expires_at")
    elif expires_at > created + 24 * 3600:
        raise ApiError(400, "The `expires_at` timestamp must be less than 24 hours from "
                       "Checkout Session creation.", param="expires_at")
    pid = opt_hash(p, "payment_intent_data", "") or {}
    check_unknown(pid, PI_DATA_PARAMS, "payment_intent_data")
    pid_out = {"metadata": opt_metadata(pid, "metadata", "payment_intent_data")}
    for k, maxlen in (("description", 1000), ("statement_descriptor", 22),
                      ("statement_descriptor_suffix", 22), ("transfer_group", 500)):
        pid_out[k] = opt_str(pid, k, "payment_intent_data", maxlen=maxlen)
    pid_out["receipt_email"] = opt_str(pid, "receipt_email", "payment_intent_data")
    if pid_out["receipt_email"] and not EMAIL_RE.match(pid_out["receipt_email"]):
        raise ApiError(400, "Invalid email address: %s" % pid_out["receipt_email"],
                       code="email_invalid", param="payment_intent_data[receipt_email]")
    pid_out["setup_future_usage"] = opt_str(pid, "setup_future_usage", "payment_intent_data",
                                            enum=("off_session", "on_session"))
    cm = opt_str(pid, "capture_method", "payment_intent_data",
                 enum=("automatic", "automatic_async", "manual"))
    if cm == "manual":
        raise ApiError(400, "The Stripe stand-in does not support capture_method=manual.",
                       param="payment_intent_data[capture_method]")
    pmt = opt_list(p, "payment_method_types", "")
    if pmt is not None:
        for i, t in enumerate(pmt):
            if not isinstance(t, str) or not t:
                raise ApiError(400, "Invalid string", param="payment_method_types[%d]" % i)
    locale = opt_str(p, "locale", "")
    submit_type = opt_str(p, "submit_type", "",
                          enum=("auto", "book", "donate", "pay", "subscribe"))
    bac = opt_str(p, "billing_address_collection", "", enum=("auto", "required"))
    apc = opt_bool(p, "allow_promotion_codes", "")
    cc = opt_str(p, "customer_creation", "", enum=("always", "if_required"))
    cur = opt_str(p, "currency", "")
    items = line_items_param(p, created, mode)
    currency = items[0]["currency"]
    if cur is not None and cur.lower() != currency:
        raise ApiError(400, "The currency %s does not match the line items (%s)."
                       % (cur.lower(), currency), param="currency")
    total = sum(li["amount_total"] for li in items)
    if total > MAX_AMOUNT:
        raise ApiError(400, "The Checkout Session's total amount due must be no more than %s."
                       % money(MAX_AMOUNT, currency), code="amount_too_large",
                       param="line_items")
    minimum = MIN_AMOUNT.get(currency, 0)
    if 0 < total < minimum:
        raise ApiError(400, "The Checkout Session's total amount due must add up to at least "
                       "%s" % money(minimum, currency), code="amount_too_small",
                       param="line_items")
    sid = "cs_test_a1" + rid("", 56)
    s = {"id": sid, "object": "checkout.session", "after_expiration": None,
         "allow_promotion_codes": apc, "amount_subtotal": total, "amount_total": total,
         "automatic_tax": {"enabled": False, "liability": None, "status": None},
         "billing_address_collection": bac, "cancel_url": cancel_url,
         "client_reference_id": client_reference_id,
         "client_secret": "%s_secret_%s" % (sid, rid("", 24)) if ui_mode == "embedded"
         else None, "consent": None,
         "consent_collection": None, "created": created, "currency": currency,
         "currency_conversion": None, "custom_fields": [],
         "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                         "terms_of_service_acceptance": None},
         "customer": customer,
         "customer_creation": None if mode == "subscription" else cc or "if_required",
         "customer_details": ({"address": None, "email": customer_email, "name": None,
                               "phone": None, "tax_exempt": "none", "tax_ids": None}
                              if customer_email else None),
         "customer_email": customer_email, "expires_at": expires_at, "invoice": None,
         "invoice_creation": {"enabled": False, "invoice_data": {
             "account_tax_ids": None, "custom_fields": None, "description": None,
             "footer": None, "issuer": None, "metadata": {}, "rendering_options": None}},
         "livemode": False, "locale": locale, "metadata": metadata, "mode": mode,
         "payment_intent": None, "payment_link": None,
         "payment_method_collection": "always" if mode == "subscription" else "if_required",
         "payment_method_configuration_details": None, "payment_method_options": {},
         "payment_method_types": pmt or ["card"], "payment_status": "unpaid",
         "phone_number_collection": {"enabled": False}, "recovered_from": None,
         "redirect_on_completion": roc, "return_url": return_url,
         "saved_payment_method_options": None, "setup_intent": None,
         "shipping_address_collection": None, "shipping_cost": None, "shipping_details": None,
         "shipping_options": [], "status": "open", "submit_type": submit_type,
         "subscription": None, "success_url": success_url,
         "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
         "ui_mode": ui_mode, "url": None,
         "_line_items": items, "_payment_intent_data": pid_out, "_subscription_data": sub_data}
    with STORE.lock:
        STORE.new_session(s)
        return 200, STORE.render("checkout.session", s, expand)


def api_get(kind):
    def handler(h, m, p, ctx):
        check_unknown(p, {"expand"}, "")
        expand = parse_expand(p, kind)
        with STORE.lock:
            obj = STORE.get(kind, m.group(1))
            return 200, STORE.render(kind, obj, expand)
    return handler


def api_list_sessions(h, m, p, ctx):
    check_unknown(p, {"expand", "limit", "starting_after", "ending_before", "status",
                      "payment_intent", "created", "customer", "customer_details",
                      "payment_link", "subscription"}, "")
    expand = parse_expand(p, "list", "checkout.session")
    status = opt_str(p, "status", "", enum=("open", "complete", "expired"))
    pi = opt_str(p, "payment_intent", "")
    customer = opt_str(p, "customer", "")
    cd = opt_hash(p, "customer_details", "")
    email = None
    if cd is not None:
        check_unknown(cd, {"email"}, "customer_details")
        email = opt_str(cd, "email", "customer_details", required=True)
    with STORE.lock:
        objs = sorted(STORE.sessions.values(), key=lambda s: -s["_seq"])
        if status:
            objs = [s for s in objs if s["status"] == status]
        if pi:
            objs = [s for s in objs if s.get("payment_intent") == pi]
        if customer:
            objs = [s for s in objs if s.get("customer") == customer]
        if email:
            objs = [s for s in objs if (s.get("customer_details") or {}).get("email") == email]
        if p.get("payment_link") or p.get("subscription"):
            objs = []
        objs = created_filter(p, objs)
        page, more = paginate(p, objs, "checkout.session", "/v1/checkout/sessions")
        return 200, STORE.list_object([STORE.render("checkout.session", s, expand)
                                       for s in page], "/v1/checkout/sessions", more)


def api_line_items(h, m, p, ctx):
    check_unknown(p, {"expand", "limit", "starting_after", "ending_before"}, "")
    parse_expand(p, "list")
    with STORE.lock:
        s = STORE.get("checkout.session", m.group(1))
        items = [copy.deepcopy(li) for li in s["_line_items"]]
    url = "/v1/checkout/sessions/%s/line_items" % s["id"]
    page, more = paginate(p, items, "item", url)
    return 200, STORE.list_object(page, url, more)


def api_expire(h, m, p, ctx):
    check_unknown(p, {"expand"}, "")
    expand = parse_expand(p, "checkout.session")
    s, events = STORE.expire(m.group(1), request=ctx["request"])
    STORE.enqueue(events)
    with STORE.lock:
        return 200, STORE.render("checkout.session", s, expand)


def api_refund(h, m, p, ctx):
    check_unknown(p, {"amount", "charge", "payment_intent", "reason", "metadata", "expand",
                      "instructions_email", "origin", "refund_application_fee",
                      "reverse_transfer", "currency", "customer"}, "")
    expand = parse_expand(p, "refund")
    amount = opt_int(p, "amount", "", minimum=1)
    reason = opt_str(p, "reason", "", enum=("duplicate", "fraudulent",
                                            "requested_by_customer"))
    metadata = opt_metadata(p, "metadata", "")
    chid = opt_str(p, "charge", "")
    piid = opt_str(p, "payment_intent", "")
    if chid and piid:
        raise ApiError(400, "You may only specify one of these parameters: charge, "
                       "payment_intent.", param="payment_intent")
    if not chid and not piid:
        raise ApiError(400, "One of the following params should be provided for this request:"
                       " payment_intent or charge.", code="parameter_missing",
                       param="payment_intent")
    with STORE.lock:
        if piid:
            pi = STORE.get("payment_intent", piid, param="payment_intent")
            ch = STORE.charges.get(pi.get("latest_charge"))
            if ch is None or pi["status"] != "succeeded":
                raise ApiError(400, "This PaymentIntent (%s) does not have a successful charge "
                               "to refund." % piid, param="payment_intent")
        else:
            ch = STORE.get("charge", chid, param="charge")
        re_, ch, events = STORE.refund(ch, amount, reason, metadata, request=ctx["request"],
                                       param="payment_intent" if piid else "charge")
        out = STORE.render("refund", re_, expand)
    STORE.enqueue(events)
    return 200, out


def api_create_customer(h, m, p, ctx):
    out, events = billing.api_create_customer(STORE, p, ctx)
    STORE.enqueue(events)
    return 200, out


def api_billing(fn):
    """A subscription's API call on the object its path names; its events go to the webhook
    in the background, as Stripe sends them."""
    def handler(h, m, p, ctx):
        out, events = fn(STORE, m.group(1), p, ctx)
        STORE.enqueue(events)
        return 200, out
    return handler


def api_list_events(h, m, p, ctx):
    check_unknown(p, {"expand", "limit", "starting_after", "ending_before", "type", "types",
                      "created", "delivery_success"}, "")
    parse_expand(p, "list")
    type_ = opt_str(p, "type", "")
    types = opt_list(p, "types", "")
    with STORE.lock:
        objs = sorted(STORE.events.values(), key=lambda e: -e["_seq"])
        if type_:
            if type_.endswith("*"):
                objs = [e for e in objs if e["type"].startswith(type_[:-1])]
            else:
                objs = [e for e in objs if e["type"] == type_]
        if types:
            objs = [e for e in objs if e["type"] in types]
        objs = created_filter(p, objs)
        page, more = paginate(p, objs, "event", "/v1/events")
        return 200, STORE.list_object([public(e) for e in page], "/v1/events", more)


ROUTES = [
    ("POST", r"/v1/checkout/sessions", "/v1/checkout/sessions", api_create_session),
    ("GET", r"/v1/checkout/sessions", "/v1/checkout/sessions", api_list_sessions),
    ("GET", r"/v1/checkout/sessions/([^/]+)", "/v1/checkout/sessions/{id}",
     api_get("checkout.session")),
    ("GET", r"/v1/checkout/sessions/([^/]+)/line_items",
     "/v1/checkout/sessions/{id}/line_items", api_line_items),
    ("POST", r"/v1/checkout/sessions/([^/]+)/expire", "/v1/checkout/sessions/{id}/expire",
     api_expire),
    ("GET", r"/v1/payment_intents/([^/]+)", "/v1/payment_intents/{id}",
     api_get("payment_intent")),
    ("GET", r"/v1/charges/([^/]+)", "/v1/charges/{id}", api_get("charge")),
    ("POST", r"/v1/refunds", "/v1/refunds", api_refund),
    ("GET", r"/v1/refunds/([^/]+)", "/v1/refunds/{id}", api_get("refund")),
    ("GET", r"/v1/disputes/([^/]+)", "/v1/disputes/{id}", api_get("dispute")),
    ("GET", r"/v1/events", "/v1/events", api_list_events),
    ("GET", r"/v1/events/([^/]+)", "/v1/events/{id}", api_get("event")),
    ("GET", r"/v1/prices/([^/]+)", "/v1/prices/{id}", api_get("price")),
    ("GET", r"/v1/prices", "/v1/prices", lambda h, m, p, ctx: (
        200, billing.api_list_prices(STORE, p))),
    ("POST", r"/v1/customers", "/v1/customers", api_create_customer),
    ("GET", r"/v1/customers/([^/]+)", "/v1/customers/{id}", api_get("customer")),
    ("GET", r"/v1/subscriptions", "/v1/subscriptions", lambda h, m, p, ctx: (
        200, billing.api_list_subscriptions(STORE, p))),
    ("GET", r"/v1/subscriptions/([^/]+)", "/v1/subscriptions/{id}", api_get("subscription")),
    ("POST", r"/v1/subscriptions/([^/]+)", "/v1/subscriptions/{id}",
     api_billing(billing.api_update_subscription)),
    ("DELETE", r"/v1/subscriptions/([^/]+)", "/v1/subscriptions/{id}",
     api_billing(billing.api_cancel_subscription)),
    ("GET", r"/v1/invoices/([^/]+)", "/v1/invoices/{id}", api_get("invoice")),
]
ROUTES = [(meth, re.compile("^" + rx + "$"), tmpl, fn) for meth, rx, tmpl, fn in ROUTES]


def find_route(method, path):
    for meth, rx, tmpl, fn in ROUTES:
        if meth == method:
            m = rx.match(path)
            if m:
                return tmpl, fn, m
    return None, None, None


# --- the server ---------------------------------------------------------------------------

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
        st = STORE
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
            status, obj = fn(self, m, params, ctx)
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
        with STORE.lock:
            STORE.responses[str(status)] = STORE.responses.get(str(status), 0) + 1
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

    # -- control --

    def _control(self, path, body):
        st = STORE
        q = urllib.parse.parse_qs(self.path.partition("?")[2])
        qget = lambda k: q.get(k, [None])[0]
        try:
            opts = json.loads(body or b"{}") if self.command == "POST" else {}
            if not isinstance(opts, dict):
                raise ValueError("the body must be a JSON object")
        except ValueError as e:
            return self._json(400, {"error": "bad JSON body: %s" % e})
        order = opts.get("order")
        if order is not None and (not isinstance(order, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in order)):
            return self._json(400, {"error": "order must be a list of event indexes"})
        parts = path[len("/__stripe/"):].strip("/").split("/")
        cmd = self.command
        try:
            out = self._control_dispatch(st, cmd, parts, opts, qget)
        except CtlError as e:
            return self._json(e.status, {"error": e.message}, "control: " + e.message)
        except ApiError as e:
            return self._json(e.status, e.body(), "control: " + e.message)
        except (ValueError, TypeError, KeyError) as e:
            return self._json(400, {"error": "bad control request: %s" % e})
        if out is None:
            return self._json(404, {"error": "unknown control %s %s" % (cmd, path)})
        note = ""
        if isinstance(out, dict) and out.get("delivery"):
            d = out["delivery"]
            note = "%s -> %s" % (d["type"], d["status"] if d["status"] is not None
                                 else d["error"])
        self._json(200, out, note)

    def _control_dispatch(self, st, cmd, parts, opts, qget):
        n = len(parts)
        if cmd == "GET" and parts == ["health"]:
            return {"ok": True, "port": st.port}
        if cmd == "GET" and parts == ["stats"]:
            return st.stats()
        if cmd == "POST" and parts == ["reset"]:
            st.reset()
            with st.lock:
                st.save()
            return {"reset": True}
        if parts == ["config"] and cmd in ("GET", "POST"):
            with st.lock:
                for k in ("webhook_url", "webhook_secret", "api_version", "public_url"):
                    if k in opts:
                        if k == "api_version" and not VERSION_RE.match(str(opts[k])):
                            raise CtlError(400, "bad api_version %r" % opts[k])
                        setattr(st, k, opts[k] or (None if k != "webhook_secret" else ""))
                return {"webhook_url": st.webhook_url, "webhook_secret": st.webhook_secret,
                        "api_version": st.api_version, "public_url": st.base_url}
        if cmd == "POST" and parts == ["fail"]:
            return {"queued": self._queue_fault(st, opts)}
        if cmd == "POST" and parts == ["prices"]:
            return self._new_price(st, opts)
        if parts and parts[0] == "subscriptions":
            return self._ctl_subscription(st, cmd, parts, opts, qget)
        if cmd == "GET" and parts == ["sessions"]:
            with st.lock:
                objs = sorted(st.sessions.values(), key=lambda s: -s["_seq"])
                if qget("status"):
                    objs = [s for s in objs if s["status"] == qget("status")]
                if qget("client_reference_id"):
                    objs = [s for s in objs
                            if s["client_reference_id"] == qget("client_reference_id")]
                return {"object": "list",
                        "data": [st.render("checkout.session", s, {"line_items": {}})
                                 for s in objs]}
        if cmd == "GET" and parts == ["events"]:
            with st.lock:
                evs = sorted(st.events.values(), key=lambda e: -e["_seq"])
                if qget("type"):
                    evs = [e for e in evs if e["type"] == qget("type")]
                if qget("limit"):
                    evs = evs[:int(qget("limit"))]
                return {"object": "list", "data": [public(e) for e in evs],
                        "deliveries": {e["id"]: list(st.deliveries.get(e["id"], []))
                                       for e in evs}}
        if n >= 2 and parts[0] == "events":
            eid = parts[1]
            if cmd == "GET" and n == 2:
                with st.lock:
                    ev = st.ctl_get("event", eid)
                    return {"event": public(ev), "payload": ev["_payload"],
                            "deliveries": list(st.deliveries.get(eid, []))}
            if cmd == "POST" and n == 3 and parts[2] == "deliver":
                dopts = {k: opts[k] for k in ("webhook_url", "secret", "timestamp", "extra_v0",
                                              "extra_v1", "timeout") if k in opts}
                return {"event_id": eid, "delivery": st.deliver(eid, **dopts)}
            if cmd == "POST" and n == 3 and parts[2] == "sign":
                payload, header, t = st.sign(eid, opts.get("secret"), opts.get("timestamp"),
                                             opts.get("extra_v0"), opts.get("extra_v1"))
                return {"event_id": eid, "payload": payload, "header": header,
                        "timestamp": t}
        if cmd == "POST" and n == 3 and parts[0] == "sessions":
            sid, action = parts[1], parts[2]
            if action == "complete":
                return st.complete(sid, opts)
            if action == "expire":
                s, events = st.expire(sid, opts.get("webhook_url"), ctl=True)
                out = st.outcome(events, opts)
                with st.lock:
                    out["session"] = st.render("checkout.session", s)
                return out
            if action in ("fail", "async_payment_failed", "async_payment_succeeded"):
                with st.lock:
                    s = st.ctl_get("checkout.session", sid)
                    if action == "fail" and s["status"] == "open":
                        pi = st._ensure_pi(s, "card")
                    else:
                        pi = st.payment_intents.get(s.get("payment_intent"))
                        if not s.get("_async") or pi is None:
                            raise CtlError(409, "session %s is not an async (processing) "
                                           "payment (complete it with {\"async\": true})" % sid)
                return st.async_result(pi, action == "async_payment_succeeded", opts)
        if cmd == "POST" and n == 3 and parts[0] == "payment_intents":
            if parts[2] in ("fail", "succeed"):
                with st.lock:
                    pi = st.ctl_get("payment_intent", parts[1])
                return st.async_result(pi, parts[2] == "succeed", opts)
        if cmd == "POST" and n == 3 and parts[0] == "charges" and parts[2] == "dispute":
            with st.lock:
                ch = self._ctl_charge(st, parts[1])
                dp, ch, events = st.dispute(ch, opts)
            out = st.outcome(events, opts)
            with st.lock:
                out.update(dispute=st.render("dispute", dp), charge=st.render("charge", ch))
            return out
        if cmd == "POST" and n == 3 and parts[0] == "disputes" and parts[2] == "close":
            with st.lock:
                dp = st.ctl_get("dispute", parts[1])
            dp, events = st.close_dispute(dp, opts)
            out = st.outcome(events, opts)
            with st.lock:
                out.update(dispute=st.render("dispute", dp))
            return out
        if cmd == "POST" and n == 3 and parts[0] == "charges" and parts[2] == "refund":
            with st.lock:
                ch = self._ctl_charge(st, parts[1])
                amount = opts.get("amount")
                if amount is not None and (not isinstance(amount, int) or amount < 1):
                    raise CtlError(400, "amount must be a positive integer")
                try:
                    re_, ch, events = st.refund(ch, amount, opts.get("reason"),
                                                opts.get("metadata") or {},
                                                target_url=opts.get("webhook_url"))
                except ApiError as e:
                    raise CtlError(409, e.message)
            out = st.outcome(events, opts)
            with st.lock:
                out.update(refund=st.render("refund", re_), charge=st.render("charge", ch))
            return out
        return None

    @staticmethod
    def _ctl_charge(st, oid):
        """A charge by its ch_ id, or the latest charge of a pi_ id (call with the lock)."""
        if oid.startswith("pi_"):
            pi = st.ctl_get("payment_intent", oid)
            oid = pi.get("latest_charge") or ""
            if not oid:
                raise CtlError(409, "payment_intent %s has no charge" % pi["id"])
        return st.ctl_get("charge", oid)

    @staticmethod
    def _queue_fault(st, spec):
        count = int(spec.get("count", 1))
        fault = {"count": count}
        for k in ("path_prefix", "method"):
            if spec.get(k):
                fault[k] = str(spec[k])
        if spec.get("after"):
            fault["after"] = True
        if spec.get("delay"):
            fault["delay"] = float(spec["delay"])
        if spec.get("drop"):
            fault["drop"] = True
        elif "status" in spec or "type" in spec or not fault.get("delay"):
            status = int(spec.get("status", 500))
            default_type = ("rate_limit_error" if status == 429 else
                            "api_error" if status >= 500 else
                            "card_error" if status == 402 else "invalid_request_error")
            default_msg = ("Too many requests hit the API too quickly. We recommend an "
                           "exponential backoff of your requests." if status == 429 else
                           "An unknown error occurred (injected by the Stripe stand-in).")
            fault.update(status=status, type=str(spec.get("type") or default_type),
                         message=str(spec.get("message") or default_msg))
            code = spec.get("code") or ("rate_limit" if status == 429 else None)
            if code:
                fault["code"] = str(code)
            if spec.get("should_retry") is not None:
                fault["should_retry"] = bool(spec["should_retry"])
            if spec.get("retry_after") is not None:
                fault["retry_after"] = int(spec["retry_after"])
        if count > 0:
            with st.lock:
                st.faults.append(fault)
        return fault

    @staticmethod
    def _ctl_subscription(st, cmd, parts, opts, qget):
        """GET /__stripe/subscriptions; POST /__stripe/subscriptions/{id}/ACTION."""
        if cmd == "GET" and len(parts) == 1:
            with st.lock:
                objs = sorted(st.subscriptions.values(), key=lambda x: -x["_seq"])
                for k in ("customer", "status"):
                    if qget(k):
                        objs = [x for x in objs if x[k] == qget(k)]
                return {"object": "list",
                        "data": [st.render("subscription", x) for x in objs]}
        if cmd != "POST" or len(parts) != 3:
            return None
        action, url = parts[2], opts.get("webhook_url")
        with st.lock:
            sub = st.ctl_get("subscription", parts[1])
            objs = {"subscription": sub}
            if action in ("update", "delete") and sub["status"] in ("canceled",
                                                                   "incomplete_expired"):
                raise CtlError(409, "subscription %s is %s" % (sub["id"], sub["status"]))
            try:
                if action == "update":
                    if not isinstance(opts.get("metadata") or {}, dict):
                        raise CtlError(400, "metadata must be an object")
                    events = billing.update(st, sub, {
                        k: opts.get(k) for k in ("cancel_at_period_end", "metadata",
                                                 "description")}, url)
                elif action == "delete":
                    events = billing.cancel(st, sub, url)
                elif action in ("renew", "fail_renewal"):
                    events, objs = billing.renew(st, sub, action == "renew", opts)
                else:
                    return None
            except ApiError as e:
                raise CtlError(409, e.message)
            st.save()
        return st.touched(st.outcome(events, opts), objs)

    @staticmethod
    def _new_price(st, spec):
        amount = spec.get("unit_amount")
        if not isinstance(amount, int) or amount < 0:
            raise CtlError(400, "unit_amount must be a non-negative integer")
        cur = str(spec.get("currency") or "aud").lower()
        if not CURRENCY_RE.match(cur):
            raise CtlError(400, "currency must be 3 letters")
        recurring = billing.recurring_spec(spec) or (None, 1)
        price = billing.price_object(spec.get("id") or rid("price_1", 23),
                                     spec.get("product") or rid("prod_", 14),
                                     spec.get("product_name") or spec.get("nickname"),
                                     amount, cur, *recurring,
                                     lookup_key=spec.get("lookup_key"),
                                     metadata=spec.get("metadata"))
        with st.lock:
            price["_seq"] = st.next_seq()
            st.prices[price["id"]] = price
            st.save()
        return public(price)

    # -- the pay page --

    def _pay(self, path, body):
        sid = path[len("/pay/"):].strip("/")
        st = STORE
        with st.lock:
            s = st.sessions.get(sid)
            view = st.render("checkout.session", s) if s else None
            items = [copy.deepcopy(li) for li in s["_line_items"]] if s else []
        if s is None:
            return self._send(404, [("Content-Type", "text/html; charset=utf-8")],
                              b"<!doctype html><title>Not found</title><p>No such checkout "
                              b"session.</p>\n", "pay page: unknown session")
        if self.command == "POST":
            action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get(
                "action", [""])[0]
            try:
                if action == "pay":
                    st.complete(sid, {})
                    back = view["success_url"] or view["return_url"]
                    target = (back.replace("{CHECKOUT_SESSION_ID}", sid) if back
                              else "/pay/" + sid)
                elif action == "decline":
                    with st.lock:
                        pi = st._ensure_pi(s, "card")
                    st.async_result(pi, False, {})
                    target = "/pay/" + sid
                elif action == "cancel":
                    target = view["cancel_url"]
                else:
                    target = "/pay/" + sid
            except CtlError as e:
                return self._send(409, [("Content-Type", "text/plain; charset=utf-8")],
                                  (e.message + "\n").encode(), "pay page: " + e.message)
            return self._send(303, [("Location", target)], b"", "pay page: %s" % action)
        esc = html.escape
        rows = "".join("<tr><td>%s</td><td>%d</td><td>%s</td></tr>" % (
            esc(str(li["description"])), li["quantity"],
            esc(money(li["amount_total"], li["currency"]))) for li in items)
        err = ""
        with st.lock:
            pi = st.payment_intents.get(s.get("payment_intent") or "")
            if pi and pi.get("last_payment_error"):
                err = "<p style='color:#b00'>%s</p>" % esc(pi["last_payment_error"]["message"])
        buttons = ("<form method='post'><button name='action' value='pay'>Pay %s</button> "
                   "<button name='action' value='decline'>Decline card</button> "
                   "<button name='action' value='cancel'>Cancel</button></form>"
                   % esc(money(view["amount_total"], view["currency"]))
                   if view["status"] == "open" else "")
        page = ("<!doctype html><html><head><meta charset='utf-8'><title>Stripe stand-in "
                "checkout</title></head><body style='font-family:sans-serif;max-width:40em'>"
                "<h1>Test checkout</h1><p>Local Stripe stand-in; no real payment.</p>"
                "<p>Session <code>%s</code>: <b>%s</b> / <b>%s</b>%s</p>"
                "<table border='1' cellpadding='4'><tr><th>Item</th><th>Qty</th>"
                "<th>Amount</th></tr>%s</table><p>Total: %s</p>%s%s</body></html>\n" % (
                    esc(sid), esc(view["status"]), esc(view["payment_status"]),
                    (" (" + esc(view["customer_email"]) + ")") if view["customer_email"]
                    else "", rows, esc(money(view["amount_total"], view["currency"])), err,
                    buttons))
        self._send(200, [("Content-Type", "text/html; charset=utf-8")], page.encode("utf-8"),
                   "pay page")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def expiry_ticker(st):
    """Expire open sessions past expires_at (as Stripe does) and prune idempotency keys."""
    last_prune = 0
    while True:
        time.sleep(1.0)
        try:
            with st.lock:
                due = [s["id"] for s in st.sessions.values()
                       if s["status"] == "open" and s["expires_at"] <= now()]
            for sid in due:
                try:
                    _, events = st.expire(sid)
                    st.enqueue(events)
                    log("session %s expired (expires_at passed)", sid)
                except ApiError:
                    pass
            if time.time() - last_prune > 600:
                st.prune_idem()
                last_prune = time.time()
        except Exception as e:
            log("expiry ticker: %r", e)


STORE = None


def main(argv=None):
    global STORE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1; 0 = any")
    ap.add_argument("--port-file", help="write the listening port here (atomically)")
    ap.add_argument("--secret-key", default="sk_test_local", help="the API key (sk_test_local)")
    ap.add_argument("--webhook-url", help="where events are POSTed")
    ap.add_argument("--webhook-secret", default="whsec_local",
                    help="the webhook signing secret (whsec_local)")
    ap.add_argument("--state-file", help="keep the state in this JSON file across restarts")
    opts = ap.parse_args(argv)

    STORE = Store(opts.secret_key, opts.webhook_url, opts.webhook_secret, opts.state_file)
    server = Server(("127.0.0.1", opts.listen), Handler)
    port = server.server_address[1]
    STORE.port = port

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=STORE.delivery_worker, name="webhooks", daemon=True).start()
    threading.Thread(target=expiry_ticker, args=(STORE,), name="expiry", daemon=True).start()
    if opts.port_file:
        write_port_file(opts.port_file, port)
    print(port, flush=True)
    log("listening on 127.0.0.1:%d, webhook %s, state %s", port,
        opts.webhook_url or "(none)", opts.state_file or "(memory)")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        try:
            STORE.save()
        except OSError as e:
            log("cannot save state: %s", e)
        if opts.port_file:
            try:
                os.unlink(opts.port_file)
            except OSError:
                pass
        log("stopped")


if __name__ == "__main__":
    main()
