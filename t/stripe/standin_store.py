"""The Stripe stand-in's state: every object, event, delivery and idempotency record under
one lock, kept in a JSON file when there is a --state-file; finding and rendering objects
(expand[]), the faults the control queued, and the counters of GET /__stripe/stats.  What
changes the objects is in the parts it is made of: Checkout Sessions (standin_checkout.py),
PaymentIntents, Charges, Refunds and Disputes (standin_payments.py), events and webhooks
(standin_events.py) and idempotency (standin_idempotency.py); subscriptions are functions of
the store (standin_billing.py)."""

import copy
import json
import os
import queue
import threading

import standin_billing as billing
from standin_checkout import Checkout
from standin_common import (
    DEFAULT_API_VERSION, EXPANDABLE, ApiError, CtlError, log, now, public)
from standin_events import Events
from standin_idempotency import Idempotency
from standin_payments import Payments


class Store(Checkout, Payments, Events, Idempotency):
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
            self.products = {}
            self.webhook_endpoints = {}
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
                    "products": self.products, "webhook_endpoints": self.webhook_endpoints,
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
                         "products", "webhook_endpoints", "idempotency", "deliveries"):
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
                 "invoice": self.invoices, "product": self.products,
                 "webhook_endpoint": self.webhook_endpoints}[kind]
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

    # -- faults and counters --

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
