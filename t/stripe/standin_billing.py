"""Subscriptions in the Stripe stand-in (stripe_standin.py lists its other parts):
Customers, a catalogue of recurring Prices, subscription-mode Checkout Sessions completed into
a Subscription and its first Invoice, and the events of a subscription's life, in Stripe's
shapes of API version 2024-06-20 (the period on the subscription, invoice.subscription,
subscription_details.metadata).

Every function takes the stand-in's Store (st) and is called with its lock held unless it
says otherwise; the events it makes are returned for the caller to deliver.
"""

import calendar
import datetime

from standin_common import (
    EMAIL_RE, ApiError, CtlError, check_unknown, created_filter, money, now, opt_bool,
    opt_hash, opt_int, opt_list, opt_metadata, opt_str, paginate, parse_expand, rid)

# The catalogue every stand-in starts with (and gets back on reset): recurring prices a
# subscription checkout may name, as a Stripe account's dashboard would hold them.
CATALOGUE = (
    {"id": "price_basic_monthly", "product": "prod_basic", "name": "Basic", "unit_amount": 1900,
     "currency": "aud", "interval": "month"},
    {"id": "price_pro_monthly", "product": "prod_pro", "name": "Pro", "unit_amount": 4900,
     "currency": "aud", "interval": "month"},
    {"id": "price_pro_yearly", "product": "prod_pro", "name": "Pro", "unit_amount": 49000,
     "currency": "aud", "interval": "year"},
)
INTERVALS = ("day", "week", "month", "year")
LIVE = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")
CUSTOMER_PARAMS = {"address", "description", "email", "expand", "invoice_settings",
                   "metadata", "name", "payment_method", "phone", "preferred_locales",
                   "shipping", "tax_exempt", "test_clock"}
SUBSCRIPTION_DATA_PARAMS = {"application_fee_percent", "billing_cycle_anchor",
                            "default_tax_rates", "description", "invoice_settings", "metadata",
                            "on_behalf_of", "proration_behavior", "transfer_data",
                            "trial_end", "trial_period_days", "trial_settings"}
SUBSCRIPTION_UPDATE_PARAMS = {"cancel_at_period_end", "description", "expand", "metadata",
                              "proration_behavior"}


# --- prices ---------------------------------------------------------------------------------

def price_object(pid, product, name, amount, currency, interval=None, interval_count=1,
                 created=None, lookup_key=None, metadata=None):
    recurring = None
    if interval:
        recurring = {"aggregate_usage": None, "interval": interval,
                     "interval_count": interval_count, "meter": None,
                     "trial_period_days": None, "usage_type": "licensed"}
    return {"id": pid, "object": "price", "active": True, "billing_scheme": "per_unit",
            "created": created or now(), "currency": currency, "custom_unit_amount": None,
            "livemode": False, "lookup_key": lookup_key, "metadata": dict(metadata or {}),
            "nickname": name, "product": product, "recurring": recurring,
            "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
            "type": "recurring" if interval else "one_time", "unit_amount": amount,
            "unit_amount_decimal": str(amount)}


def seed_catalogue(st):
    """The catalogue's prices that st does not hold (all of them after a reset)."""
    for c in CATALOGUE:
        if c["id"] not in st.prices:
            st.prices[c["id"]] = dict(price_object(c["id"], c["product"], c["name"],
                                                   c["unit_amount"], c["currency"],
                                                   c["interval"]), _seq=st.next_seq())


def recurring_spec(spec):
    """The "recurring" of POST /__stripe/prices: None, or (interval, interval_count)."""
    r = spec.get("recurring")
    if r is None:
        return None
    if not isinstance(r, dict) or r.get("interval") not in INTERVALS:
        raise CtlError(400, "recurring must be {\"interval\": day|week|month|year}")
    n = r.get("interval_count", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 36:
        raise CtlError(400, "recurring.interval_count must be 1 to 36")
    return r["interval"], n


def recurring_price_data(pd, pre):
    """price_data[recurring] of a subscription-mode line item: (interval, count)."""
    r = opt_hash(pd, "recurring", pre)
    if r is None:
        return None
    check_unknown(r, {"interval", "interval_count"}, pre + "[recurring]")
    interval = opt_str(r, "interval", pre + "[recurring]", required=True, enum=INTERVALS)
    count = opt_int(r, "interval_count", pre + "[recurring]", minimum=1, maximum=36) or 1
    return interval, count


def add_interval(ts, interval, count=1):
    """ts plus count intervals, as Stripe bills: the same day of a later month (the month's
    last day when it has no such day)."""
    if interval == "day":
        return ts + 86400 * count
    if interval == "week":
        return ts + 7 * 86400 * count
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    months = count * (12 if interval == "year" else 1)
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    d = d.replace(year=y, month=m, day=min(d.day, calendar.monthrange(y, m)[1]))
    return int(d.timestamp())


# --- customers ------------------------------------------------------------------------------

def new_customer(st, email=None, name=None, metadata=None, description=None, phone=None):
    created = now()
    cus = {"id": rid("cus_", 14), "object": "customer", "address": None, "balance": 0,
           "created": created, "currency": None, "default_source": None, "delinquent": False,
           "description": description, "discount": None, "email": email,
           "invoice_prefix": rid("", 8).upper(),
           "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                                "footer": None, "rendering_options": None},
           "livemode": False, "metadata": dict(metadata or {}), "name": name,
           "next_invoice_sequence": 1, "phone": phone, "preferred_locales": [],
           "shipping": None, "tax_exempt": "none", "test_clock": None, "_seq": st.next_seq()}
    st.customers[cus["id"]] = cus
    return cus


def api_create_customer(st, p, ctx):
    check_unknown(p, CUSTOMER_PARAMS, "")
    expand = parse_expand(p, "customer")
    email = opt_str(p, "email", "", maxlen=512)
    if email is not None and not EMAIL_RE.match(email):
        raise ApiError(400, "Invalid email address: %s" % email, code="email_invalid",
                       param="email")
    name = opt_str(p, "name", "", maxlen=256)
    desc = opt_str(p, "description", "", maxlen=350)
    phone = opt_str(p, "phone", "", maxlen=20)
    metadata = opt_metadata(p, "metadata", "")
    with st.lock:
        cus = new_customer(st, email, name, metadata, desc, phone)
        ev = st.event("customer.created", "customer", cus, request=ctx["request"])
        st.save()
        out = st.render("customer", cus, expand)
    return out, [ev]


# --- checkout sessions in subscription mode ---------------------------------------------------

def subscription_data_param(p, mode):
    """subscription_data of a session: what the subscription will get, or None (payment
    mode).  Refuses what Stripe refuses in each mode."""
    sd = opt_hash(p, "subscription_data", "")
    if mode != "subscription":
        if sd is not None:
            raise ApiError(400, "You can not pass `subscription_data` in `%s` mode." % mode,
                           param="subscription_data")
        return None
    for k in ("payment_intent_data", "customer_creation", "submit_type"):
        if p.get(k) not in (None, ""):
            raise ApiError(400, "You can not pass `%s` in `subscription` mode." % k, param=k)
    sd = sd or {}
    check_unknown(sd, SUBSCRIPTION_DATA_PARAMS, "subscription_data")
    trial = opt_int(sd, "trial_period_days", "subscription_data", minimum=1, maximum=730)
    return {"metadata": opt_metadata(sd, "metadata", "subscription_data"),
            "description": opt_str(sd, "description", "subscription_data", maxlen=500),
            "trial_period_days": trial}


def check_recurring(items, mode):
    """Line items against the mode: recurring prices only in subscription mode, and at least
    one there."""
    for i, li in enumerate(items):
        if mode == "payment" and li["price"].get("recurring"):
            raise ApiError(400, "You specified `payment` mode but passed a recurring price. "
                           "Either switch to `subscription` mode or use only one-time prices.",
                           param="line_items[%d][price]" % i)
    if mode == "subscription" and not any(li["price"].get("recurring") for li in items):
        raise ApiError(400, "You must provide at least one recurring price in `subscription` "
                       "mode when using prices.", param="line_items")


# --- subscriptions and invoices ---------------------------------------------------------------

def plan_of(price):
    """The legacy "plan" view of a recurring price, as Stripe still renders it."""
    r = price["recurring"]
    return {"id": price["id"], "object": "plan", "active": True, "aggregate_usage": None,
            "amount": price["unit_amount"], "amount_decimal": price["unit_amount_decimal"],
            "billing_scheme": "per_unit", "created": price["created"],
            "currency": price["currency"], "interval": r["interval"],
            "interval_count": r["interval_count"], "livemode": False, "metadata": {},
            "meter": None, "nickname": price.get("nickname"), "product": price["product"],
            "tiers_mode": None, "transform_usage": None, "trial_period_days": None,
            "usage_type": "licensed"}


def new_subscription(st, customer, items, data, pm, start):
    """A subscription of the recurring line items (its first period from start)."""
    sid = rid("sub_1", 23)
    trial = data.get("trial_period_days")
    first = items[0]["price"]
    r = first["recurring"]
    end = add_interval(start, r["interval"], r["interval_count"])
    trial_end = start + trial * 86400 if trial else None
    sub_items = [{"id": rid("si_", 14), "object": "subscription_item",
                  "billing_thresholds": None, "created": start, "discounts": [],
                  "metadata": {}, "plan": plan_of(li["price"]), "price": dict(li["price"]),
                  "quantity": li["quantity"], "subscription": sid, "tax_rates": []}
                 for li in items if li["price"].get("recurring")]
    sub = {"id": sid, "object": "subscription", "application": None,
           "application_fee_percent": None,
           "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
           "billing_cycle_anchor": trial_end or start, "billing_cycle_anchor_config": None,
           "billing_thresholds": None, "cancel_at": None, "cancel_at_period_end": False,
           "canceled_at": None,
           "cancellation_details": {"comment": None, "feedback": None, "reason": None},
           "collection_method": "charge_automatically", "created": start,
           "currency": first["currency"], "current_period_end": trial_end or end,
           "current_period_start": start, "customer": customer, "days_until_due": None,
           "default_payment_method": pm, "default_source": None, "default_tax_rates": [],
           "description": data.get("description"), "discount": None, "discounts": [],
           "ended_at": None,
           "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
           "items": {"object": "list", "data": sub_items, "has_more": False,
                     "total_count": len(sub_items),
                     "url": "/v1/subscription_items?subscription=" + sid},
           "latest_invoice": None, "livemode": False, "metadata": dict(data["metadata"]),
           "next_pending_invoice_item_invoice": None, "on_behalf_of": None,
           "pause_collection": None,
           "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                                "save_default_payment_method": "off"},
           "pending_invoice_item_interval": None, "pending_setup_intent": None,
           "pending_update": None, "plan": sub_items[0]["plan"] if len(sub_items) == 1
           else None, "quantity": sub_items[0]["quantity"] if len(sub_items) == 1 else None,
           "schedule": None, "start_date": start,
           "status": "trialing" if trial else "active", "test_clock": None,
           "transfer_data": None, "trial_end": trial_end,
           "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
           "trial_start": start if trial else None, "_seq": st.next_seq()}
    st.subscriptions[sid] = sub
    return sub


def new_invoice(st, sub, reason, paid, period, lines_period, failure=None, email=None,
                name=None):
    """The subscription's invoice for lines_period (the period billed); period is the
    invoice's own period_start/end (Stripe: the period that ended, for a renewal).  Paid: a
    succeeded PaymentIntent and Charge; unpaid: a declined one (failure)."""
    t = now()
    cus = st.customers.get(sub["customer"]) or {}
    inv_id = rid("in_1", 23)
    trialing = sub["status"] == "trialing" and reason == "subscription_create"
    lines = []
    for it in sub["items"]["data"]:
        amount = 0 if trialing else it["price"]["unit_amount"] * it["quantity"]
        r = it["price"]["recurring"]
        lines.append({"id": rid("il_1", 23), "object": "line_item", "amount": amount,
                      "amount_excluding_tax": amount, "currency": sub["currency"],
                      "description": "%s%d \u00d7 %s (at %s / %s)" % (
                          "Trial period for " if trialing else "", it["quantity"],
                          it["price"].get("nickname") or it["price"]["product"],
                          money(it["price"]["unit_amount"], sub["currency"]), r["interval"]),
                      "discount_amounts": [], "discountable": True, "discounts": [],
                      "invoice": inv_id, "livemode": False, "metadata": {},
                      "period": {"start": lines_period[0], "end": lines_period[1]},
                      "plan": it["plan"], "price": it["price"], "proration": False,
                      "proration_details": {"credited_items": None},
                      "quantity": it["quantity"], "subscription": sub["id"],
                      "subscription_item": it["id"], "tax_amounts": [], "tax_rates": [],
                      "type": "subscription",
                      "unit_amount_excluding_tax": it["price"]["unit_amount_decimal"]})
    total = sum(li["amount"] for li in lines)
    pi = ch = None
    if total > 0:
        holder = {"id": None, "amount_total": total, "currency": sub["currency"],
                  "customer": sub["customer"],
                  "_payment_intent_data": {"metadata": {}, "description": "Subscription "
                                           + ("creation" if reason == "subscription_create"
                                              else "update")}}
        pi = st._ensure_pi(holder, "card")
        pi.update(invoice=inv_id, payment_method=sub["default_payment_method"])
        ch = st._new_charge(pi, holder, "succeeded" if paid else "failed", "card",
                            email or cus.get("email"), name or cus.get("name"), failure)
        ch["invoice"] = inv_id
        if paid:
            pi.update(status="succeeded", amount_received=total)
        else:
            pi.update(status="requires_payment_method", last_payment_error={
                "code": failure["code"], "decline_code": failure["decline_code"],
                "message": failure["message"], "type": "card_error"})
    inv = {"id": inv_id, "object": "invoice", "account_country": "AU",
           "account_name": "Stripe stand-in", "account_tax_ids": None, "amount_due": total,
           "amount_paid": total if paid else 0, "amount_remaining": 0 if paid else total,
           "amount_shipping": 0, "application": None, "attempt_count": 1 if total else 0,
           "attempted": bool(total) or paid, "auto_advance": not paid,
           "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None,
                             "status": None},
           "billing_reason": reason, "charge": ch["id"] if ch else None,
           "collection_method": "charge_automatically", "created": t,
           "currency": sub["currency"], "custom_fields": None, "customer": sub["customer"],
           "customer_address": None, "customer_email": email or cus.get("email"),
           "customer_name": name or cus.get("name"), "customer_phone": None,
           "customer_shipping": None, "customer_tax_exempt": "none", "customer_tax_ids": [],
           "default_payment_method": None, "default_source": None, "default_tax_rates": [],
           "description": None, "discount": None, "discounts": [], "due_date": None,
           "effective_at": t, "ending_balance": 0, "footer": None, "from_invoice": None,
           "hosted_invoice_url": "%s/invoices/%s" % (st.base_url, inv_id),
           "invoice_pdf": None, "issuer": {"type": "self"}, "last_finalization_error": None,
           "latest_revision": None,
           "lines": {"object": "list", "data": lines, "has_more": False,
                     "total_count": len(lines), "url": "/v1/invoices/%s/lines" % inv_id},
           "livemode": False, "metadata": {},
           "next_payment_attempt": None if paid else t + 3 * 86400,
           "number": "%s-%04d" % (cus.get("invoice_prefix") or "STANDIN",
                                  cus.get("next_invoice_sequence", 1)),
           "on_behalf_of": None, "paid": paid, "paid_out_of_band": False,
           "payment_intent": pi["id"] if pi else None,
           "payment_settings": {"default_mandate": None, "payment_method_options": None,
                                "payment_method_types": None},
           "period_end": period[1], "period_start": period[0],
           "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
           "quote": None, "receipt_number": None, "rendering": None,
           "shipping_cost": None, "shipping_details": None, "starting_balance": 0,
           "statement_descriptor": None, "status": "paid" if paid else "open",
           "status_transitions": {"finalized_at": t, "marked_uncollectible_at": None,
                                  "paid_at": t if paid else None, "voided_at": None},
           "subscription": sub["id"],
           "subscription_details": {"metadata": dict(sub["metadata"])},
           "subtotal": total, "subtotal_excluding_tax": total, "tax": None,
           "test_clock": None, "total": total, "total_discount_amounts": [],
           "total_excluding_tax": total, "total_tax_amounts": [], "transfer_data": None,
           "webhooks_delivered_at": t, "_seq": st.next_seq()}
    if cus:
        cus["next_invoice_sequence"] = cus.get("next_invoice_sequence", 1) + 1
    st.invoices[inv_id] = inv
    sub["latest_invoice"] = inv_id
    return inv, pi, ch


def complete(st, s, opts):
    """A subscription-mode session paid: its customer (made now when it names none), the
    subscription and its first invoice, paid.  Events, in order: customer.created (a new
    customer only), checkout.session.completed, customer.subscription.created, invoice.paid.
    Returns (events, objects touched)."""
    url = opts.get("webhook_url")
    cd = st._customer_details(s, opts)
    events = []
    cus = st.customers.get(s.get("customer") or "")
    if cus is None:
        cus = new_customer(st, cd["email"], cd["name"])
        events.append(st.event("customer.created", "customer", cus, url))
    elif cus.get("email"):
        cd["email"] = cus["email"]
    pm = rid("pm_1", 23)
    data = s["_subscription_data"]
    start = now()
    sub = new_subscription(st, cus["id"], s["_line_items"], data, pm, start)
    inv, pi, ch = new_invoice(st, sub, "subscription_create", True, (start, start),
                              (start, sub["current_period_end"]), email=cd["email"],
                              name=cd["name"])
    s.update(status="complete", customer=cus["id"], customer_details=cd,
             payment_status="paid" if inv["amount_paid"] else "no_payment_required",
             subscription=sub["id"], invoice=inv["id"])
    events += [st.event("checkout.session.completed", "checkout.session", s, url),
               st.event("customer.subscription.created", "subscription", sub, url),
               st.event("invoice.paid", "invoice", inv, url)]
    return events, {"customer": cus, "subscription": sub, "invoice": inv,
                    "payment_intent": pi, "charge": ch}


# --- a subscription's life --------------------------------------------------------------------

def _live(sub):
    if sub["status"] not in LIVE:
        raise CtlError(409, "subscription %s is %s" % (sub["id"], sub["status"]))


def update(st, sub, changes, url=None, request=None):
    """cancel_at_period_end, metadata, description: customer.subscription.updated with the
    previous values (raises ApiError as Stripe does on an ended subscription)."""
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise ApiError(400, "A canceled subscription can only update its cancellation_details "
                       "and metadata.", param="cancel_at_period_end", executed=True)
    previous = {}
    if changes.get("cancel_at_period_end") is not None:
        flag = bool(changes["cancel_at_period_end"])
        if flag != sub["cancel_at_period_end"]:
            previous.update(cancel_at_period_end=sub["cancel_at_period_end"],
                            cancel_at=sub["cancel_at"], canceled_at=sub["canceled_at"],
                            cancellation_details=dict(sub["cancellation_details"]))
            sub.update(cancel_at_period_end=flag,
                       cancel_at=sub["current_period_end"] if flag else None,
                       canceled_at=now() if flag else None)
            sub["cancellation_details"]["reason"] = "cancellation_requested" if flag else None
    if changes.get("metadata"):
        previous["metadata"] = dict(sub["metadata"])
        for k, v in changes["metadata"].items():
            if v in ("", None):
                sub["metadata"].pop(k, None)
            else:
                sub["metadata"][k] = str(v)
    if changes.get("description") is not None:
        previous["description"] = sub["description"]
        sub["description"] = changes["description"]
    return [st.event("customer.subscription.updated", "subscription", sub, url, request,
                     previous)]


def cancel(st, sub, url=None, request=None):
    """Canceled now: customer.subscription.deleted (an ended one: 404, as Stripe answers)."""
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise ApiError(404, "No such subscription: '%s'" % sub["id"], code="resource_missing",
                       param="id", executed=True)
    t = now()
    sub.update(status="canceled", canceled_at=sub["canceled_at"] or t, ended_at=t,
               cancel_at=None)
    if not sub["cancellation_details"]["reason"]:
        sub["cancellation_details"]["reason"] = "cancellation_requested"
    return [st.event("customer.subscription.deleted", "subscription", sub, url, request)]


def renew(st, sub, paid, opts):
    """The next period begins now: its invoice paid (customer.subscription.updated, then
    invoice.paid; a past_due subscription is active again) or declined (invoice.payment_failed,
    then customer.subscription.updated to past_due)."""
    _live(sub)
    if sub["status"] in ("incomplete", "paused"):
        raise CtlError(409, "subscription %s is %s: nothing to renew" % (sub["id"],
                                                                        sub["status"]))
    url = opts.get("webhook_url")
    r = sub["items"]["data"][0]["price"]["recurring"]
    old = (sub["current_period_start"], sub["current_period_end"])
    new = (old[1], add_interval(old[1], r["interval"], r["interval_count"]))
    failure = None
    if not paid:
        failure = {"code": opts.get("code") or "card_declined",
                   "decline_code": opts.get("decline_code") or "insufficient_funds",
                   "message": opts.get("message") or "Your card has insufficient funds."}
    previous = {"current_period_start": old[0], "current_period_end": old[1]}
    if sub["status"] == "trialing":
        previous["trial_end"] = sub["trial_end"]
    status = "active" if paid else "past_due"
    if status != sub["status"]:
        previous["status"] = sub["status"]
    sub.update(current_period_start=new[0], current_period_end=new[1], status=status)
    if sub["cancel_at_period_end"]:
        sub["cancel_at"] = new[1]
    inv, pi, ch = new_invoice(st, sub, "subscription_cycle", paid, old, new, failure)
    previous["latest_invoice"] = None
    if paid:
        events = [st.event("customer.subscription.updated", "subscription", sub, url,
                           previous=previous),
                  st.event("invoice.paid", "invoice", inv, url)]
    else:
        events = [st.event("invoice.payment_failed", "invoice", inv, url),
                  st.event("customer.subscription.updated", "subscription", sub, url,
                           previous=previous)]
    return events, {"subscription": sub, "invoice": inv, "payment_intent": pi, "charge": ch}


# --- the API ----------------------------------------------------------------------------------

def api_update_subscription(st, sid, p, ctx):
    check_unknown(p, SUBSCRIPTION_UPDATE_PARAMS, "")
    expand = parse_expand(p, "subscription")
    changes = {"cancel_at_period_end": opt_bool(p, "cancel_at_period_end", ""),
               "description": opt_str(p, "description", "", maxlen=500)}
    md = opt_hash(p, "metadata", "")
    if md is not None:
        changes["metadata"] = {k: v for k, v in md.items()}
    opt_str(p, "proration_behavior", "", enum=("always_invoice", "create_prorations", "none"))
    with st.lock:
        sub = st.get("subscription", sid)
        events = update(st, sub, changes, request=ctx["request"])
        st.save()
        return st.render("subscription", sub, expand), events


def api_cancel_subscription(st, sid, p, ctx):
    check_unknown(p, {"cancellation_details", "expand", "invoice_now", "prorate"}, "")
    expand = parse_expand(p, "subscription")
    opt_bool(p, "invoice_now", "")
    opt_bool(p, "prorate", "")
    with st.lock:
        sub = st.get("subscription", sid)
        events = cancel(st, sub, request=ctx["request"])
        st.save()
        return st.render("subscription", sub, expand), events


def list_filter(objs, p, filters):
    """objs filtered by the query's filters {param: function(obj, value) -> bool}."""
    for param, match in filters.items():
        v = p.get(param)
        if v in (None, ""):
            continue
        if param in ("active",):
            v = opt_bool(p, param, "")
        elif param in ("limit",):
            continue
        objs = [o for o in objs if match(o, v)]
    return objs


PRICE_FILTERS = {
    "active": lambda o, v: o["active"] == v,
    "type": lambda o, v: o["type"] == v,
    "product": lambda o, v: o["product"] == v,
    "currency": lambda o, v: o["currency"] == v,
}
SUBSCRIPTION_FILTERS = {
    "customer": lambda o, v: o["customer"] == v,
    "price": lambda o, v: any(i["price"]["id"] == v for i in o["items"]["data"]),
    "status": lambda o, v: v == "all" or o["status"] == v or (
        v == "ended" and o["status"] in ("canceled", "incomplete_expired")),
}
CUSTOMER_FILTERS = {"email": lambda o, v: o["email"] == v}


def check_list_params(p, filters):
    check_unknown(p, set(filters) | {"expand", "limit", "starting_after", "ending_before",
                                     "created", "lookup_keys", "recurring", "test_clock"}, "")
    if p.get("lookup_keys") not in (None, ""):
        opt_list(p, "lookup_keys", "")
    for k in filters:
        if k != "active":
            opt_str(p, k, "")


def subscription_status_default(p, objs):
    """Stripe lists subscriptions that have not ended unless a status is asked for."""
    if p.get("status") in (None, ""):
        return [o for o in objs if o["status"] not in ("canceled", "incomplete_expired")]
    return objs


def api_list_prices(st, p):
    check_list_params(p, PRICE_FILTERS)
    expand = parse_expand(p, "list", "price")
    keys = opt_list(p, "lookup_keys", "")
    with st.lock:
        objs = sorted(st.prices.values(), key=lambda o: -o.get("_seq", 0))
        objs = list_filter(objs, p, PRICE_FILTERS)
        if keys:
            objs = [o for o in objs if o.get("lookup_key") in keys]
        page, more = paginate(p, created_filter(p, objs), "price", "/v1/prices")
        return st.list_object([st.render("price", o, expand) for o in page], "/v1/prices",
                              more)


def api_list_subscriptions(st, p):
    check_list_params(p, SUBSCRIPTION_FILTERS)
    expand = parse_expand(p, "list", "subscription")
    with st.lock:
        objs = sorted(st.subscriptions.values(), key=lambda o: -o["_seq"])
        objs = subscription_status_default(p, list_filter(objs, p, SUBSCRIPTION_FILTERS))
        page, more = paginate(p, created_filter(p, objs), "subscription", "/v1/subscriptions")
        return st.list_object([st.render("subscription", o, expand) for o in page],
                              "/v1/subscriptions", more)
