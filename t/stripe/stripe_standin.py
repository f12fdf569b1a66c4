#!/usr/bin/python3
"""A local stand-in for the part of the Stripe API that prodenthub uses, for the tests and the
local stack: Checkout Sessions, PaymentIntents, Charges, Refunds, Disputes, Events and signed
webhooks; and (standin_billing.py) Customers, recurring Prices, Subscriptions and Invoices.
Standard library only; the shared helpers are in standin_common.py.

Its parts, next to this file, one job each: standin_server.py (HTTP, and the API's checks:
key, version, form, Idempotency-Key, injected faults), standin_routes.py (the API's table),
standin_checkout.py (Checkout Sessions), standin_payments.py (PaymentIntents, Charges, Refunds,
Disputes), standin_billing.py (Customers, Prices, Subscriptions, Invoices), standin_events.py
(events, signed webhooks), standin_idempotency.py, standin_store.py (the state, its file,
rendering, counters), standin_control.py (/__stripe/...), standin_paypage.py (/pay/...) and
standin_common.py; t/standin.py's serving loop runs it.

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
    (standin_catalog.py, an operator's tools: prodenthubctl stripe-sync and reconcile)
    POST /v1/products, POST /v1/products/{id}, GET /v1/products[/{id}]   (id, name, active,
                                               metadata; list: active, ids[], created)
    POST /v1/prices, POST /v1/prices/{id}      one-time or recurring; lookup_key (400 when
                                               another price holds it, unless
                                               transfer_lookup_key=true); active, metadata
    POST /v1/webhook_endpoints[/{id}], GET /v1/webhook_endpoints[/{id}]  url,
                                               enabled_events[]; secret only on create (the
                                               record only: deliveries keep --webhook-url)
    GET  /v1/payment_intents, GET /v1/refunds  lists by created[gte|lt...] (refunds: also
                                               payment_intent=, charge=)
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
import threading
import time

# the parts, next to this file (a script's folder is on sys.path)
from standin_common import ApiError, log, now
from standin_server import Server
from standin_store import Store
import standin  # noqa: E402  (t/standin.py; standin_common puts t/ on sys.path)


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1; 0 = any")
    ap.add_argument("--port-file", help="write the listening port here (atomically)")
    ap.add_argument("--secret-key", default="sk_test_local", help="the API key (sk_test_local)")
    ap.add_argument("--webhook-url", help="where events are POSTed")
    ap.add_argument("--webhook-secret", default="whsec_local",
                    help="the webhook signing secret (whsec_local)")
    ap.add_argument("--state-file", help="keep the state in this JSON file across restarts")
    opts = ap.parse_args(argv)

    store = Store(opts.secret_key, opts.webhook_url, opts.webhook_secret, opts.state_file)
    server = Server(("127.0.0.1", opts.listen), store)
    port = server.server_address[1]
    store.port = port
    threading.Thread(target=store.delivery_worker, name="webhooks", daemon=True).start()
    threading.Thread(target=expiry_ticker, args=(store,), name="expiry", daemon=True).start()
    standin.serve(server, opts.port_file, log, "listening on 127.0.0.1:%d, webhook %s, state %s",
                  port, opts.webhook_url or "(none)", opts.state_file or "(memory)")


if __name__ == "__main__":
    main()
