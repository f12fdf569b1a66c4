/*
 * A discount purchase made (purchase.h): priced from the catalogue and the coupon, its
 * coupon use held within the client's and the email's bounds, then its Checkout Session
 * opened (to expire with the hold) and recorded on it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/cache.h"
#include "../lib/catalogue.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/reservation.h"
#include "../lib/retention.h"
#include "../lib/stripe.h"
#include "../lib/metrics.h"
#include "purchase.h"

struct purchase {
    const struct purchase_input *in;
    struct purchase_created *out;   /* id, code and the amounts, as they are decided */
    const char *plan_name;
    const char *plan_family;        /* the catalogue's family, or NULL */
    struct coupon coupon;
    struct reservation_hold hold;   /* the email's hold slot, with a coupon */
    struct json_object *holds;      /* the email's holds item as last read (NULL: none) */
    int holds_read;                 /* holds is fresh: read since the last slot was taken */
    time_t expires;                 /* the session's expires_at, on Stripe's clock */
    char now[32];
};

static void
add_s(struct json_object *item, const char *k, const char *v)
{
    if (v)
        json_object_object_add(item, k, ddb_av_s(v));
}

static void
as_reservation(const struct purchase *p, struct reservation *r)
{
    r->purchase_id = p->out->id;
    r->code = p->out->code;
    r->email = p->in->email;
    r->usage_limit = p->coupon.usage_limit;
    r->per_user_limit = p->coupon.per_user_limit;
}

/* Reserve: the coupon's use (if any), the redemption record and the pending purchase. */
static int
reserve(const struct ctx *c, const struct purchase *p, struct app_error *err)
{
    struct json_object *pur = json_object_new_object();
    const struct purchase_created *o = p->out;
    struct reservation r;
    int rc;

    add_s(pur, "purchaseId", o->id);
    add_s(pur, "campaignId", PURCHASE_CAMPAIGN);
    add_s(pur, "email", p->in->email);
    add_s(pur, "name", p->in->name);
    add_s(pur, "planId", p->in->plan_id);
    add_s(pur, "planName", p->plan_name);
    if (o->code[0])
        add_s(pur, "couponCode", o->code);
    json_object_object_add(pur, "originalAmountCents", ddb_av_n(o->original_cents));
    json_object_object_add(pur, "discountCents", ddb_av_n(o->discount_cents));
    json_object_object_add(pur, "finalAmountCents", ddb_av_n(o->final_cents));
    add_s(pur, "currency", "AUD");
    add_s(pur, "status", "pending");
    add_s(pur, "expiresAt", o->expires_at);
    add_s(pur, "createdAt", p->now);
    add_s(pur, "updatedAt", p->now);
    json_object_object_add(pur, "ttl", ddb_av_n(retention_records_ttl(c->cfg, c->now)));
    as_reservation(p, &r);
    rc = reservation_take(c->ddb, c->cfg, &r, o->code[0] ? &p->hold : NULL, pur, p->now, err);
    json_object_put(pur);
    if (rc == APP_OK)
        purchase_coupon_uses_changed(c, o->code, p->in->email);
    return rc;
}

enum { R_PLAN, R_COUPON, R_USES, R_HOLDS, R_N };

/*
 * What a purchase decides on, from DynamoDB (never the cache), read consistently in one
 * round trip (ddb_get_many): the plan (with_plan), and with a code the coupon, the buyer's
 * counter and the email's holds (kept in p->holds for email_hold).  got[i] is the item as
 * read (the caller's), NULL when there is none or it was not asked for.
 */
static int
read_records(const struct ctx *c, struct purchase *p, int with_plan,
             struct json_object *got[R_N], struct app_error *err)
{
    char counter[RESERVATION_ID_MAX], holds[RESERVATION_ID_MAX];
    size_t first = with_plan ? R_PLAN : R_COUPON, end = p->out->code[0] ? R_N : R_COUPON;
    struct ddb_get g[R_N] = {
        {c->cfg->tbl_catalogue, "planId", p->in->plan_id, 1, NULL},
        {c->cfg->tbl_coupons, "couponCode", p->out->code, 1, NULL},
        {c->cfg->tbl_coupon_usage, "usageId", counter, 1, NULL},
        {c->cfg->tbl_coupon_usage, "usageId", holds, 1, NULL},
    };
    size_t i;
    int rc;

    reservation_counter_id(counter, sizeof(counter), p->out->code, p->in->email);
    reservation_holds_id(holds, sizeof(holds), p->in->email);
    rc = ddb_get_many(c->ddb, g + first, end - first, err);
    for (i = 0; i < R_N; i++)
        got[i] = g[i].item;
    if (rc == APP_OK && end == R_N) {
        if (p->holds)
            json_object_put(p->holds);
        p->holds = json_object_get(got[R_HOLDS]);
        p->holds_read = 1;
    }
    return rc;
}

static void
records_free(struct json_object *got[R_N])
{
    size_t i;

    for (i = 0; i < R_N; i++) {
        if (got[i])
            json_object_put(got[i]);
        got[i] = NULL;
    }
}

/* The plan as read (item; NULL: none), if sold at a fixed price: its price, name, family. */
static int
load_plan(struct purchase *p, struct json_object *item, struct json_object **out,
          struct app_error *err)
{
    int rc;

    rc = catalogue_from_item(item, p->in->plan_id, out, err);
    if (rc != APP_OK && rc != APP_ENOTFOUND)
        return rc;
    if (rc == APP_ENOTFOUND || !catalogue_sells(*out, PURCHASE_CAMPAIGN, "fixed"))
        return app_error_field(err, "planId", "is not a plan sold here");
    p->out->original_cents = json_int(*out, "amountCents");
    p->plan_name = json_str(*out, "name");
    p->plan_family = json_str(*out, "family");
    return APP_OK;
}

/* The coupon as read (got[R_COUPON]) into p->coupon, and how often the buyer has used it
 * (got[R_USES]); APP_OK or a coupon reason (NOT_FOUND, MISCONFIGURED). */
static int
load_coupon(const struct ctx *c, struct purchase *p, struct json_object *const got[R_N],
            long long *uses)
{
    struct json_object *plain;
    char why[COUPON_WHY_MAX];
    int rc;

    *uses = 0;
    if (!got[R_COUPON])
        return COUPON_NOT_FOUND;
    plain = ddb_unmarshal_item(got[R_COUPON]);
    snprintf(why, sizeof(why), "not an item DynamoDB could give");
    rc = plain ? (int)coupon_from_item(plain, &p->coupon, why, sizeof(why)) :
         COUPON_MISCONFIGURED;
    if (plain)
        json_object_put(plain);
    if (rc != COUPON_OK) {
        coupon_log_misconfigured(c, p->out->code, why);
        return COUPON_MISCONFIGURED;
    }
    *uses = reservation_counter_uses(got[R_USES]);
    return APP_OK;
}

/* A coupon refusal with its reason, as code (422, or 409 when a limit stands in the way).
 * An unknown code, or an answer about the email's own uses, spends a client's lookup. */
static int
refuse(const struct ctx *c, const struct purchase *p, struct app_error *err, int code,
       enum coupon_reason r)
{
    if (r == COUPON_NOT_FOUND || r == COUPON_ALREADY_USED)
        purchase_lookup_spend(c, p->in->client);
    app_error_clear(err);
    return app_error_reason(err, code, coupon_reason_slug(r), "%s", coupon_reason_message(r));
}

/* Why the reservation's conditions failed, read back after the fact: the coupon's reason,
 * or COUPON_OK when the coupon would have taken it (the email's hold slot was taken). */
static enum coupon_reason
why_refused(const struct ctx *c, struct purchase *p, struct app_error *err)
{
    struct json_object *got[R_N];
    long long uses = 0;
    int rc = read_records(c, p, 0, got, err);

    if (rc == APP_OK)
        rc = load_coupon(c, p, got, &uses);
    records_free(got);
    if (rc == COUPON_MISCONFIGURED)
        return COUPON_MISCONFIGURED;
    if (rc != APP_OK)
        return COUPON_USAGE_LIMIT_REACHED;
    if (!p->coupon.active)
        return COUPON_INACTIVE;
    if (p->coupon.per_user_limit && uses >= p->coupon.per_user_limit)
        return COUPON_ALREADY_USED;
    if (p->coupon.usage_limit && p->coupon.usage_count >= p->coupon.usage_limit)
        return COUPON_USAGE_LIMIT_REACHED;
    return COUPON_OK;
}

/* The client's lookups not spent yet (the cache's count; open when it is down). */
static int
lookups_left(const struct ctx *c, const struct purchase *p, struct app_error *err)
{
    struct buf count;
    int rc;

    buf_init(&count, 64);
    rc = cache_get(c->cache, "guess", purchase_client(p->in->client), &count);
    rc = purchase_lookups_left(c, rc == APP_OK ? count.data : NULL, err);
    buf_free(&count);
    return rc;
}

/* One more hold started by the client in PURCHASE_HOLD_S, within COUPON_HOLDS_PER_CLIENT
 * (a rate limit: with memcached down it is not counted). */
static int
client_hold(const struct ctx *c, const struct purchase *p, struct app_error *err)
{
    long long n = cache_incr(c->cache, "hold", purchase_client(p->in->client),
                             PURCHASE_HOLD_S);

    if (n > c->cfg->coupon_holds_per_client)
        return app_error_set(err, APP_ERATELIMIT, "too many checkouts with a coupon from "
                             "this address; try again later");
    return APP_OK;
}

/* A slot of the email's holds free now; 409 TOO_MANY_OPEN_CHECKOUTS when there is none. */
static int
email_hold(const struct ctx *c, struct purchase *p, struct app_error *err)
{
    int rc;

    p->hold.now = c->now;
    p->hold.until = c->now + PURCHASE_HOLD_S;
    if (p->holds_read)              /* read with the coupon: no round trip of its own */
        rc = reservation_hold_pick(p->holds, c->cfg->coupon_holds_per_email, c->now,
                                   &p->hold.slot);
    else
        rc = reservation_hold_slot(c->ddb, c->cfg, p->in->email,
                                   c->cfg->coupon_holds_per_email, c->now, &p->hold.slot, err);
    p->holds_read = 0;
    if (rc != APP_ECONDITION)
        return rc;
    app_error_clear(err);
    return app_error_reason(err, APP_ECONDITION, "TOO_MANY_OPEN_CHECKOUTS",
                            "This email has %ld unpaid checkouts with a coupon; pay one or "
                            "wait for one to expire (%d minutes)",
                            c->cfg->coupon_holds_per_email, PURCHASE_HOLD_S / 60);
}

/* A Checkout Session for the purchase; out gets the session (id, url). */
static int
create_session(const struct ctx *c, const struct purchase *p, struct json_object **out,
               struct app_error *err)
{
    const struct purchase_created *o = p->out;
    struct stripe_params *sp = stripe_params_new();
    char url[1024], product[300];
    int rc;

    snprintf(product, sizeof(product), "%s%s%s", p->plan_name, o->code[0] ? " - coupon " : "",
             o->code);
    stripe_params_add(sp, "mode", "payment");
    stripe_params_add(sp, "line_items[0][price_data][currency]", "aud");
    stripe_params_add_long(sp, "line_items[0][price_data][unit_amount]", o->final_cents);
    stripe_params_add(sp, "line_items[0][price_data][product_data][name]", product);
    stripe_params_add(sp, "line_items[0][quantity]", "1");
    stripe_params_add(sp, "customer_email", p->in->email);
    stripe_params_add(sp, "client_reference_id", o->id);
    stripe_params_add(sp, "metadata[campaignId]", PURCHASE_CAMPAIGN);
    stripe_params_add(sp, "metadata[purchaseId]", o->id);
    stripe_params_add(sp, "metadata[planId]", p->in->plan_id);
    if (o->code[0])
        stripe_params_add(sp, "metadata[couponCode]", o->code);
    if (p->in->metadata) {
        /* Checked by the route: short keys of [A-Za-z0-9_], string values; ours win. */
        json_object_object_foreach(p->in->metadata, mk, mv) {
            char key[80];

            if (!strcmp(mk, "campaignId") || !strcmp(mk, "purchaseId") ||
                !strcmp(mk, "planId") || !strcmp(mk, "couponCode"))
                continue;
            snprintf(key, sizeof(key), "metadata[%s]", mk);
            stripe_params_add(sp, key, json_object_get_string(mv));
        }
    }
    stripe_params_add(sp, "payment_intent_data[metadata][purchaseId]", o->id);
    stripe_params_add(sp, "payment_intent_data[metadata][campaignId]", PURCHASE_CAMPAIGN);
    /* Stripe's clock, not ours (a test's clock offset must not reach Stripe). */
    stripe_params_add_long(sp, "expires_at", (long long)p->expires);
    snprintf(url, sizeof(url), "%s/purchase/success?session_id={CHECKOUT_SESSION_ID}",
             c->cfg->frontend_url);
    stripe_params_add(sp, "success_url", url);
    snprintf(url, sizeof(url), "%s/purchase/cancelled?purchase_id=%s", c->cfg->frontend_url,
             o->id);
    stripe_params_add(sp, "cancel_url", url);
    rc = stripe_post(c->stripe, "/v1/checkout/sessions", sp, o->id, out, err);
    if (rc == APP_OK)
        metrics_inc_value(MF_CHECKOUTS_OPENED, PURCHASE_CAMPAIGN, 0);
    stripe_params_free(sp);
    return rc;
}

/* The session's id and url into out, when Stripe gave both and they fit. */
static int
take_session(struct json_object *session, struct purchase_created *out)
{
    const char *sid = json_str(session, "id"), *url = json_str(session, "url");

    if (!sid || !url || strlen(sid) >= sizeof(out->session_id) ||
        strlen(url) >= sizeof(out->checkout_url))
        return -1;
    snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
    snprintf(out->checkout_url, sizeof(out->checkout_url), "%s", url);
    return 0;
}

/* Stripe failed after the reservation: give it back (the expiry sweep will if this fails). */
static int
session_failed(const struct ctx *c, const struct purchase *p, struct app_error *err)
{
    char why[sizeof(err->msg)];
    struct reservation r;

    snprintf(why, sizeof(why), "%s", err->msg[0] ? err->msg : "no id or url");
    ctx_log(c, LL_ERROR, "checkout session for %s failed (%s); releasing the reservation",
            p->out->id, why);
    app_error_clear(err);
    as_reservation(p, &r);
    if (reservation_release(c->ddb, c->cfg, &r, "failed", p->now, err) != APP_OK)
        ctx_log(c, LL_ERROR, "releasing %s failed: %s; the expiry sweep will", p->out->id,
                err->msg);
    else
        purchase_coupon_uses_changed(c, p->out->code, p->in->email);
    app_error_clear(err);
    /* The email's hold slot: free it now (it frees itself at its end anyway). */
    if (p->out->code[0])
        reservation_hold_end(c->ddb, c->cfg, p->in->email, &p->hold, err);
    app_error_clear(err);
    p->out->session_failed = 1;
    return app_error_set(err, APP_EUPSTREAM, "checkout session for %s: %s", p->out->id, why);
}

/* Record the session on the purchase, while it is pending. */
static int
record_session(const struct ctx *c, const struct purchase *p, struct app_error *err)
{
    struct json_object *k = ddb_key_s("purchaseId", p->out->id);
    struct json_object *values = json_object_new_object(), *names = json_object_new_object();
    int rc;

    json_object_object_add(values, ":sid", ddb_av_s(p->out->session_id));
    json_object_object_add(values, ":url", ddb_av_s(p->out->checkout_url));
    json_object_object_add(values, ":pending", ddb_av_s("pending"));
    json_object_object_add(names, "#st", json_object_new_string("status"));
    rc = ddb_update_item(c->ddb, c->cfg->tbl_discount_purchases, k,
                         "SET stripeSessionId = :sid, checkoutUrl = :url", "#st = :pending",
                         names, values, NULL, NULL, err);
    json_object_put(names);
    json_object_put(k);
    json_object_put(values);
    if (rc == APP_ECONDITION) {
        app_error_clear(err);      /* no longer pending: paid or released meanwhile */
        return APP_OK;
    }
    return rc;
}

/* The coupon (out->code, "" when in->code cannot be one) as read, checked for the plan; its
 * discount into out.  A usage limit in the way is 409 (it may pass later), any other
 * refusal 422. */
static int
apply_coupon(const struct ctx *c, struct purchase *p, struct json_object *const got[R_N],
             struct app_error *err)
{
    enum coupon_reason r;
    long long uses = 0;
    int rc;

    if (!p->out->code[0])
        return refuse(c, p, err, APP_EUNPROCESSABLE, COUPON_NOT_FOUND);
    rc = load_coupon(c, p, got, &uses);
    if (rc != APP_OK)
        return refuse(c, p, err, APP_EUNPROCESSABLE, (enum coupon_reason)rc);
    r = coupon_check(&p->coupon, p->in->plan_id, p->plan_family, p->out->original_cents,
                     c->now, uses);
    if (r != COUPON_OK)
        return refuse(c, p, err, r == COUPON_USAGE_LIMIT_REACHED || r == COUPON_ALREADY_USED ?
                      APP_ECONDITION : APP_EUNPROCESSABLE, r);
    p->out->discount_cents = coupon_discount(&p->coupon, p->out->original_cents);
    return APP_OK;
}

/*
 * Reserve, with the coupon's use in one of the email's hold slots.  A slot taken by another
 * checkout between the read and the write is tried once more with a slot read afresh (and
 * a new purchase id: the id is the transaction's token).
 */
static int
reserve_in_slot(const struct ctx *c, struct purchase *p, struct app_error *err)
{
    enum coupon_reason r;
    int rc, attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        if (id_new(p->out->id, sizeof(p->out->id), "pur_") != 0)
            return app_error_set(err, APP_EINTERNAL, "no random bytes for an id");
        rc = p->out->code[0] ? email_hold(c, p, err) : APP_OK;
        if (rc == APP_OK)
            rc = reserve(c, p, err);
        if (rc != APP_ECONDITION || err->reason)
            return rc;
        app_error_clear(err);
        if (!p->out->code[0])
            return app_error_set(err, APP_EINTERNAL, "purchase id %s taken", p->out->id);
        r = why_refused(c, p, err);
        if (r != COUPON_OK)
            return refuse(c, p, err, APP_ECONDITION, r);
    }
    return app_error_reason(err, APP_ECONDITION, "TOO_MANY_OPEN_CHECKOUTS",
                            "This email's checkouts with a coupon changed meanwhile; "
                            "please try again");
}

int
purchase_create(const struct ctx *c, const struct purchase_input *in,
                struct purchase_created *out, struct app_error *err)
{
    struct json_object *plan = NULL, *session = NULL, *got[R_N] = {NULL};
    struct purchase p;
    int rc = APP_OK;

    memset(out, 0, sizeof(*out));
    memset(&p, 0, sizeof(p));
    p.in = in;
    p.out = out;
    if (in->code && coupon_normalize_code(in->code, out->code, sizeof(out->code)) != 0)
        out->code[0] = '\0';
    if (catalogue_id_ok(in->plan_id))
        rc = read_records(c, &p, 1, got, err);
    if (rc == APP_OK)
        rc = load_plan(&p, got[R_PLAN], &plan, err);
    if (rc != APP_OK)
        goto done;
    time_iso(c->now, p.now, sizeof(p.now));
    if (in->code) {
        rc = lookups_left(c, &p, err);
        if (rc == APP_OK)
            rc = apply_coupon(c, &p, got, err);
        if (rc != APP_OK)
            goto done;
    }
    out->final_cents = out->original_cents - out->discount_cents;
    if (out->final_cents < PURCHASE_MIN_CHARGE_CENTS) {
        rc = app_error_reason(err, APP_EUNPROCESSABLE, "BELOW_MINIMUM_CHARGE",
                              "The amount is below the minimum charge");
        goto done;
    }
    if (out->code[0]) {
        rc = client_hold(c, &p, err);
        if (rc != APP_OK)
            goto done;
    }
    p.expires = time(NULL) + PURCHASE_HOLD_S;       /* Stripe's clock, not ours */
    time_iso(p.expires, out->expires_at, sizeof(out->expires_at));
    rc = reserve_in_slot(c, &p, err);
    if (rc != APP_OK)
        goto done;

    rc = create_session(c, &p, &session, err);
    if (rc != APP_OK || take_session(session, out) != 0) {
        rc = session_failed(c, &p, err);
        goto done;
    }
    rc = record_session(c, &p, err);
done:
    records_free(got);
    if (p.holds)
        json_object_put(p.holds);
    if (plan)
        json_object_put(plan);
    if (session)
        json_object_put(session);
    return rc;
}
