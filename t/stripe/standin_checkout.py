"""Checkout Sessions of the Stripe stand-in, a part of its Store (standin_store.py): POST
/v1/checkout/sessions with Stripe's validation (line items of catalogue prices or price_data,
the urls of each ui_mode, payment_intent_data, subscription_data), list, read, line items and
expiry; and a session completed by the control or the pay page: in payment mode a PaymentIntent
and its Charge (standin_payments.py), in subscription mode a subscription (standin_billing.py).
"""

import copy
import decimal

import standin_billing as billing
from standin_common import (
    CURRENCY_RE, DEC_RE, EMAIL_RE, MAX_AMOUNT, MIN_AMOUNT, ApiError, CtlError, check_unknown,
    created_filter, money, now, opt_bool, opt_hash, opt_int, opt_list, opt_metadata, opt_str,
    opt_url, paginate, parse_expand, public, rid)


class Checkout:
    """Uses the Store's lock, sessions, next_seq(), ctl_get(), get(), event(), outcome(),
    touched(), save() and the payments' _ensure_pi() and _new_charge()."""

    def new_session(self, fields):
        with self.lock:
            fields["_seq"] = self.next_seq()
            self.sessions[fields["id"]] = fields
            self.save()
            return fields

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


def line_items_param(st, p, created, mode="payment"):
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
            price = st.lookup("price", pid)
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


def api_create_session(st, m, p, ctx):
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
    if customer and st.lookup("customer", customer) is None:
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
    items = line_items_param(st, p, created, mode)
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
    with st.lock:
        st.new_session(s)
        return 200, st.render("checkout.session", s, expand)


def api_list_sessions(st, m, p, ctx):
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
    with st.lock:
        objs = sorted(st.sessions.values(), key=lambda s: -s["_seq"])
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
        return 200, st.list_object([st.render("checkout.session", s, expand)
                                    for s in page], "/v1/checkout/sessions", more)


def api_line_items(st, m, p, ctx):
    check_unknown(p, {"expand", "limit", "starting_after", "ending_before"}, "")
    parse_expand(p, "list")
    with st.lock:
        s = st.get("checkout.session", m.group(1))
        items = [copy.deepcopy(li) for li in s["_line_items"]]
    url = "/v1/checkout/sessions/%s/line_items" % s["id"]
    page, more = paginate(p, items, "item", url)
    return 200, st.list_object(page, url, more)


def api_expire(st, m, p, ctx):
    check_unknown(p, {"expand"}, "")
    expand = parse_expand(p, "checkout.session")
    s, events = st.expire(m.group(1), request=ctx["request"])
    st.enqueue(events)
    with st.lock:
        return 200, st.render("checkout.session", s, expand)
