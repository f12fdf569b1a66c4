"""What an operator's tools ask of Stripe, in the stand-in (stripe_standin.py lists its other
parts): Products (create, update, retrieve, list), one-time and recurring Prices (create with
a lookup_key, transfer_lookup_key, update active/lookup_key/metadata), Webhook Endpoints
(create, with the signing secret only then; list, retrieve, update) and the lists of
PaymentIntents and Refunds by creation time, in Stripe's shapes of API version 2024-06-20.

Every handler is called as handler(store, match, params, ctx) and answers (status, object),
as standin_routes.py's table says.  A registered endpoint is a record only: the stand-in keeps
delivering its events to its --webhook-url with its --webhook-secret.
"""

import secrets

from standin_billing import price_object
from standin_common import (
    ApiError, check_unknown, created_filter, now, opt_bool, opt_hash, opt_int, opt_list,
    opt_metadata, opt_str, opt_url, paginate, parse_expand, rid)

PRODUCT_PARAMS = {"id", "name", "active", "description", "metadata", "expand",
                  "statement_descriptor", "tax_code", "unit_label", "url", "images",
                  "shippable", "default_price_data", "marketing_features"}
PRICE_PARAMS = {"currency", "product", "unit_amount", "unit_amount_decimal", "lookup_key",
                "transfer_lookup_key", "metadata", "nickname", "active", "recurring",
                "tax_behavior", "expand", "billing_scheme", "product_data"}
PRICE_UPDATE = {"active", "lookup_key", "transfer_lookup_key", "metadata", "nickname",
                "tax_behavior", "expand"}
ENDPOINT_PARAMS = {"url", "enabled_events", "description", "metadata", "api_version",
                   "connect", "expand"}
ENDPOINT_UPDATE = {"url", "enabled_events", "description", "metadata", "disabled", "expand"}
LIST_PARAMS = {"limit", "starting_after", "ending_before", "created", "expand"}


def _store(st, kind):
    return {"product": st.products, "webhook_endpoint": st.webhook_endpoints}[kind]


def _list(st, p, kind, objs, url, list_of=None):
    expand = parse_expand(p, "list", list_of or kind)
    objs = created_filter(p, sorted(objs, key=lambda o: -o.get("_seq", 0)))
    page, more = paginate(p, objs, kind, url)
    return 200, st.list_object([st.render(list_of or kind, o, expand) for o in page], url,
                               more)


# --- products -------------------------------------------------------------------------------

def api_create_product(st, m, p, ctx):
    check_unknown(p, PRODUCT_PARAMS, "")
    name = opt_str(p, "name", "", required=True, maxlen=250)
    pid = opt_str(p, "id", "", maxlen=100)
    active = opt_bool(p, "active", "")
    meta = opt_metadata(p, "metadata", "")
    with st.lock:
        if pid and pid in st.products:
            raise ApiError(400, "Product already exists.", code="resource_already_exists",
                           param="id")
        t = now()
        prod = {"id": pid or rid("prod_", 14), "object": "product",
                "active": True if active is None else active, "created": t,
                "default_price": None, "description": opt_str(p, "description", ""),
                "images": [], "livemode": False, "marketing_features": [], "metadata": meta,
                "name": name, "package_dimensions": None, "shippable": None,
                "statement_descriptor": None, "tax_code": None, "type": "service",
                "unit_label": None, "updated": t, "url": None, "_seq": st.next_seq()}
        st.products[prod["id"]] = prod
        st.save()
        return 200, st.render("product", prod)


def api_update_product(st, m, p, ctx):
    check_unknown(p, PRODUCT_PARAMS - {"id"}, "")
    with st.lock:
        prod = st.get("product", m.group(1))
        if p.get("name") is not None:
            prod["name"] = opt_str(p, "name", "", required=True, maxlen=250)
        if opt_bool(p, "active", "") is not None:
            prod["active"] = opt_bool(p, "active", "")
        if "description" in p:
            prod["description"] = opt_str(p, "description", "") or None
        if "metadata" in p:
            merged = dict(prod["metadata"], **opt_metadata(p, "metadata", ""))
            unset = opt_hash(p, "metadata", "") or {}
            prod["metadata"] = {k: v for k, v in merged.items() if unset.get(k) != ""}
        prod["updated"] = now()
        st.save()
        return 200, st.render("product", prod)


def api_list_products(st, m, p, ctx):
    check_unknown(p, LIST_PARAMS | {"active", "ids", "shippable", "url"}, "")
    active = opt_bool(p, "active", "")
    ids = opt_list(p, "ids", "")
    with st.lock:
        objs = [o for o in st.products.values()
                if (active is None or o["active"] == active) and (not ids or o["id"] in ids)]
        return _list(st, p, "product", objs, "/v1/products")


# --- prices ---------------------------------------------------------------------------------

def _take_lookup_key(st, key, price_id, transfer):
    """Give key to price_id: 400 when another price holds it and transfer is not asked."""
    for other in st.prices.values():
        if other.get("lookup_key") == key and other["id"] != price_id:
            if not transfer:
                raise ApiError(400, "A price (`%s`) already uses that lookup key."
                               % other["id"], param="lookup_key")
            other["lookup_key"] = None


def api_create_price(st, m, p, ctx):
    check_unknown(p, PRICE_PARAMS, "")
    currency = opt_str(p, "currency", "", required=True).lower()
    product = opt_str(p, "product", "", required=True)
    amount = opt_int(p, "unit_amount", "", required=True, minimum=0, maximum=99999999)
    key = opt_str(p, "lookup_key", "", maxlen=200)
    transfer = opt_bool(p, "transfer_lookup_key", "") or False
    active = opt_bool(p, "active", "")
    rec = opt_hash(p, "recurring", "")
    interval, count = None, 1
    if rec is not None:
        check_unknown(rec, {"interval", "interval_count", "usage_type"}, "recurring")
        interval = opt_str(rec, "interval", "recurring", required=True,
                           enum=("day", "week", "month", "year"))
        count = opt_int(rec, "interval_count", "recurring", minimum=1, maximum=36) or 1
    with st.lock:
        st.get("product", product, param="product")
        pid = rid("price_", 24)
        if key:
            _take_lookup_key(st, key, pid, transfer)
        price = dict(price_object(pid, product, opt_str(p, "nickname", ""), amount, currency,
                                  interval, count, lookup_key=key,
                                  metadata=opt_metadata(p, "metadata", "")),
                     _seq=st.next_seq())
        if active is not None:
            price["active"] = active
        st.prices[pid] = price
        st.save()
        return 200, st.render("price", price)


def api_update_price(st, m, p, ctx):
    check_unknown(p, PRICE_UPDATE, "")
    with st.lock:
        price = st.get("price", m.group(1))
        if opt_bool(p, "active", "") is not None:
            price["active"] = opt_bool(p, "active", "")
        if "lookup_key" in p:
            key = opt_str(p, "lookup_key", "", maxlen=200)
            if key:
                _take_lookup_key(st, key, price["id"],
                                 opt_bool(p, "transfer_lookup_key", "") or False)
            price["lookup_key"] = key or None
        if "metadata" in p:
            price["metadata"] = dict(price["metadata"], **opt_metadata(p, "metadata", ""))
        if "nickname" in p:
            price["nickname"] = opt_str(p, "nickname", "") or None
        st.save()
        return 200, st.render("price", price)


# --- webhook endpoints ----------------------------------------------------------------------

def _events(p, required):
    evs = opt_list(p, "enabled_events", "", required=required)
    if evs is None:
        return None
    for i, e in enumerate(evs):
        if not isinstance(e, str) or not e or (e != "*" and "." not in e):
            raise ApiError(400, "Invalid enabled_events: %s" % e, param="enabled_events[%d]" % i)
    return list(evs)


def api_create_endpoint(st, m, p, ctx):
    check_unknown(p, ENDPOINT_PARAMS, "")
    url = opt_url(p, "url", "", required=True)
    events = _events(p, True)
    with st.lock:
        ep = {"id": rid("we_", 24), "object": "webhook_endpoint",
              "api_version": opt_str(p, "api_version", ""), "application": None,
              "created": now(), "description": opt_str(p, "description", ""),
              "enabled_events": events, "livemode": False,
              "metadata": opt_metadata(p, "metadata", ""), "status": "enabled", "url": url,
              "_secret": "whsec_" + secrets.token_hex(16), "_seq": st.next_seq()}
        st.webhook_endpoints[ep["id"]] = ep
        st.save()
        out = st.render("webhook_endpoint", ep)
        out["secret"] = ep["_secret"]          # only the creation's answer carries it
        return 200, out


def api_update_endpoint(st, m, p, ctx):
    check_unknown(p, ENDPOINT_UPDATE, "")
    with st.lock:
        ep = st.get("webhook_endpoint", m.group(1))
        if p.get("url") is not None:
            ep["url"] = opt_url(p, "url", "", required=True)
        events = _events(p, False)
        if events is not None:
            ep["enabled_events"] = events
        if opt_bool(p, "disabled", "") is not None:
            ep["status"] = "disabled" if opt_bool(p, "disabled", "") else "enabled"
        if "metadata" in p:
            ep["metadata"] = dict(ep["metadata"], **opt_metadata(p, "metadata", ""))
        st.save()
        return 200, st.render("webhook_endpoint", ep)


def api_list_endpoints(st, m, p, ctx):
    check_unknown(p, {"limit", "starting_after", "ending_before", "expand"}, "")
    with st.lock:
        return _list(st, p, "webhook_endpoint", list(st.webhook_endpoints.values()),
                     "/v1/webhook_endpoints")


# --- lists of payments by time --------------------------------------------------------------

def api_list_payment_intents(st, m, p, ctx):
    check_unknown(p, LIST_PARAMS | {"customer"}, "")
    customer = opt_str(p, "customer", "")
    with st.lock:
        objs = [o for o in st.payment_intents.values()
                if not customer or o.get("customer") == customer]
        return _list(st, p, "payment_intent", objs, "/v1/payment_intents")


def api_list_refunds(st, m, p, ctx):
    check_unknown(p, LIST_PARAMS | {"charge", "payment_intent"}, "")
    charge = opt_str(p, "charge", "")
    pi = opt_str(p, "payment_intent", "")
    with st.lock:
        objs = [o for o in st.refunds.values()
                if (not charge or o.get("charge") == charge)
                and (not pi or o.get("payment_intent") == pi)]
        return _list(st, p, "refund", objs, "/v1/refunds")


ROUTES = [
    ("POST", r"/v1/products", "/v1/products", api_create_product),
    ("GET", r"/v1/products", "/v1/products", api_list_products),
    ("POST", r"/v1/products/([^/]+)", "/v1/products/{id}", api_update_product),
    ("POST", r"/v1/prices", "/v1/prices", api_create_price),
    ("POST", r"/v1/prices/([^/]+)", "/v1/prices/{id}", api_update_price),
    ("POST", r"/v1/webhook_endpoints", "/v1/webhook_endpoints", api_create_endpoint),
    ("GET", r"/v1/webhook_endpoints", "/v1/webhook_endpoints", api_list_endpoints),
    ("POST", r"/v1/webhook_endpoints/([^/]+)", "/v1/webhook_endpoints/{id}",
     api_update_endpoint),
    ("GET", r"/v1/payment_intents", "/v1/payment_intents", api_list_payment_intents),
    ("GET", r"/v1/refunds", "/v1/refunds", api_list_refunds),
]
