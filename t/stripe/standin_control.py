"""The Stripe stand-in's control endpoints, /__stripe/... on the API's port (no auth, JSON
bodies): what a test or a person does that Stripe's API cannot (pay, decline, refund or
dispute as the customer or the bank would, renew a subscription, deliver an event again),
the faults to inject, and the stand-in's own settings and counters.  stripe_standin.py's
docstring lists them all."""

import json
import urllib.parse

import standin_billing as billing
from standin_common import CURRENCY_RE, VERSION_RE, ApiError, CtlError, public, rid


def handle(st, cmd, path, query, body):
    """A control call: (status, answer, log note)."""
    q = urllib.parse.parse_qs(query)
    qget = lambda k: q.get(k, [None])[0]
    try:
        opts = json.loads(body or b"{}") if cmd == "POST" else {}
        if not isinstance(opts, dict):
            raise ValueError("the body must be a JSON object")
    except ValueError as e:
        return 400, {"error": "bad JSON body: %s" % e}, ""
    order = opts.get("order")
    if order is not None and (not isinstance(order, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in order)):
        return 400, {"error": "order must be a list of event indexes"}, ""
    parts = path[len("/__stripe/"):].strip("/").split("/")
    try:
        out = dispatch(st, cmd, parts, opts, qget)
    except CtlError as e:
        return e.status, {"error": e.message}, "control: " + e.message
    except ApiError as e:
        return e.status, e.body(), "control: " + e.message
    except (ValueError, TypeError, KeyError) as e:
        return 400, {"error": "bad control request: %s" % e}, ""
    if out is None:
        return 404, {"error": "unknown control %s %s" % (cmd, path)}, ""
    note = ""
    if isinstance(out, dict) and out.get("delivery"):
        d = out["delivery"]
        note = "%s -> %s" % (d["type"], d["status"] if d["status"] is not None
                             else d["error"])
    return 200, out, note


def dispatch(st, cmd, parts, opts, qget):
    """The answer of /__stripe/PARTS, or None (no such control: 404)."""
    if len(parts) == 1:
        out = service(st, cmd, parts[0], opts)
        if out is not None:
            return out
    resource = RESOURCES.get(parts[0])
    return resource(st, cmd, parts, opts, qget) if resource else None


def service(st, cmd, name, opts):
    """health, stats, reset, config, fail (a fault) and prices (a new one)."""
    if cmd == "GET" and name == "health":
        return {"ok": True, "port": st.port}
    if cmd == "GET" and name == "stats":
        return st.stats()
    if cmd == "POST" and name == "reset":
        st.reset()
        with st.lock:
            st.save()
        return {"reset": True}
    if name == "config" and cmd in ("GET", "POST"):
        with st.lock:
            for k in ("webhook_url", "webhook_secret", "api_version", "public_url"):
                if k in opts:
                    if k == "api_version" and not VERSION_RE.match(str(opts[k])):
                        raise CtlError(400, "bad api_version %r" % opts[k])
                    setattr(st, k, opts[k] or (None if k != "webhook_secret" else ""))
            return {"webhook_url": st.webhook_url, "webhook_secret": st.webhook_secret,
                    "api_version": st.api_version, "public_url": st.base_url}
    if cmd == "POST" and name == "fail":
        return {"queued": queue_fault(st, opts)}
    if cmd == "POST" and name == "prices":
        return new_price(st, opts)
    return None


def sessions(st, cmd, parts, opts, qget):
    """GET /__stripe/sessions; POST /__stripe/sessions/{id}/ACTION."""
    n = len(parts)
    if cmd == "GET" and n == 1:
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
    if cmd == "POST" and n == 3:
        sid, action = parts[1], parts[2]
        if action == "complete":
            return st.complete(sid, opts)
        if action == "expire":
            s, evs = st.expire(sid, opts.get("webhook_url"), ctl=True)
            out = st.outcome(evs, opts)
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
    return None


def events(st, cmd, parts, opts, qget):
    """GET /__stripe/events[/{id}]; POST /__stripe/events/{id}/deliver|sign."""
    n = len(parts)
    if cmd == "GET" and n == 1:
        with st.lock:
            evs = sorted(st.events.values(), key=lambda e: -e["_seq"])
            if qget("type"):
                evs = [e for e in evs if e["type"] == qget("type")]
            if qget("limit"):
                evs = evs[:int(qget("limit"))]
            return {"object": "list", "data": [public(e) for e in evs],
                    "deliveries": {e["id"]: list(st.deliveries.get(e["id"], []))
                                   for e in evs}}
    if n >= 2:
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
    return None


def payment_intents(st, cmd, parts, opts, qget):
    """POST /__stripe/payment_intents/{id}/fail|succeed."""
    if cmd == "POST" and len(parts) == 3 and parts[2] in ("fail", "succeed"):
        with st.lock:
            pi = st.ctl_get("payment_intent", parts[1])
        return st.async_result(pi, parts[2] == "succeed", opts)
    return None


def charges(st, cmd, parts, opts, qget):
    """POST /__stripe/charges/{id}/dispute|refund (a pi_ id names its latest charge)."""
    if cmd != "POST" or len(parts) != 3:
        return None
    if parts[2] == "dispute":
        with st.lock:
            ch = ctl_charge(st, parts[1])
            dp, ch, evs = st.dispute(ch, opts)
        out = st.outcome(evs, opts)
        with st.lock:
            out.update(dispute=st.render("dispute", dp), charge=st.render("charge", ch))
        return out
    if parts[2] == "refund":
        with st.lock:
            ch = ctl_charge(st, parts[1])
            amount = opts.get("amount")
            if amount is not None and (not isinstance(amount, int) or amount < 1):
                raise CtlError(400, "amount must be a positive integer")
            try:
                re_, ch, evs = st.refund(ch, amount, opts.get("reason"),
                                         opts.get("metadata") or {},
                                         target_url=opts.get("webhook_url"))
            except ApiError as e:
                raise CtlError(409, e.message)
        out = st.outcome(evs, opts)
        with st.lock:
            out.update(refund=st.render("refund", re_), charge=st.render("charge", ch))
        return out
    return None


def disputes(st, cmd, parts, opts, qget):
    """POST /__stripe/disputes/{id}/close."""
    if cmd == "POST" and len(parts) == 3 and parts[2] == "close":
        with st.lock:
            dp = st.ctl_get("dispute", parts[1])
        dp, evs = st.close_dispute(dp, opts)
        out = st.outcome(evs, opts)
        with st.lock:
            out.update(dispute=st.render("dispute", dp))
        return out
    return None


def ctl_charge(st, oid):
    """A charge by its ch_ id, or the latest charge of a pi_ id (call with the lock)."""
    if oid.startswith("pi_"):
        pi = st.ctl_get("payment_intent", oid)
        oid = pi.get("latest_charge") or ""
        if not oid:
            raise CtlError(409, "payment_intent %s has no charge" % pi["id"])
    return st.ctl_get("charge", oid)


def queue_fault(st, spec):
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


def subscriptions(st, cmd, parts, opts, qget):
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
                evs = billing.update(st, sub, {
                    k: opts.get(k) for k in ("cancel_at_period_end", "metadata",
                                             "description")}, url)
            elif action == "delete":
                evs = billing.cancel(st, sub, url)
            elif action in ("renew", "fail_renewal"):
                evs, objs = billing.renew(st, sub, action == "renew", opts)
            else:
                return None
        except ApiError as e:
            raise CtlError(409, e.message)
        st.save()
    return st.touched(st.outcome(evs, opts), objs)


def new_price(st, spec):
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


# /__stripe/NAME/... -> its handler(st, cmd, parts, opts, qget), answering None when it has
# no such control
RESOURCES = {"sessions": sessions, "events": events, "payment_intents": payment_intents,
             "charges": charges, "disputes": disputes, "subscriptions": subscriptions}
