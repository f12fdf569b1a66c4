"""The Stripe stand-in's API in one table: method, path, the template its calls are counted
under (GET /__stripe/stats), and the handler, called as handler(store, match, params, ctx)
by standin_server.py and answering (status, object)."""

import re

import standin_billing as billing
import standin_catalog as catalog
from standin_checkout import (
    api_create_session, api_expire, api_line_items, api_list_sessions)
from standin_common import check_unknown, parse_expand
from standin_events import api_list_events
from standin_payments import api_refund


def api_get(kind):
    def handler(st, m, p, ctx):
        check_unknown(p, {"expand"}, "")
        expand = parse_expand(p, kind)
        with st.lock:
            obj = st.get(kind, m.group(1))
            return 200, st.render(kind, obj, expand)
    return handler


def api_create_customer(st, m, p, ctx):
    out, events = billing.api_create_customer(st, p, ctx)
    st.enqueue(events)
    return 200, out


def api_billing(fn):
    """A subscription's API call on the object its path names; its events go to the webhook
    in the background, as Stripe sends them."""
    def handler(st, m, p, ctx):
        out, events = fn(st, m.group(1), p, ctx)
        st.enqueue(events)
        return 200, out
    return handler


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
    ("GET", r"/v1/prices", "/v1/prices", lambda st, m, p, ctx: (
        200, billing.api_list_prices(st, p))),
    ("POST", r"/v1/customers", "/v1/customers", api_create_customer),
    ("GET", r"/v1/customers/([^/]+)", "/v1/customers/{id}", api_get("customer")),
    ("GET", r"/v1/subscriptions", "/v1/subscriptions", lambda st, m, p, ctx: (
        200, billing.api_list_subscriptions(st, p))),
    ("GET", r"/v1/subscriptions/([^/]+)", "/v1/subscriptions/{id}", api_get("subscription")),
    ("POST", r"/v1/subscriptions/([^/]+)", "/v1/subscriptions/{id}",
     api_billing(billing.api_update_subscription)),
    ("DELETE", r"/v1/subscriptions/([^/]+)", "/v1/subscriptions/{id}",
     api_billing(billing.api_cancel_subscription)),
    ("GET", r"/v1/invoices/([^/]+)", "/v1/invoices/{id}", api_get("invoice")),
    ("GET", r"/v1/products/([^/]+)", "/v1/products/{id}", api_get("product")),
    ("GET", r"/v1/webhook_endpoints/([^/]+)", "/v1/webhook_endpoints/{id}",
     api_get("webhook_endpoint")),
] + catalog.ROUTES
ROUTES = [(meth, re.compile("^" + rx + "$"), tmpl, fn) for meth, rx, tmpl, fn in ROUTES]


def find_route(method, path):
    for meth, rx, tmpl, fn in ROUTES:
        if meth == method:
            m = rx.match(path)
            if m:
                return tmpl, fn, m
    return None, None, None
