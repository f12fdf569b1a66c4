/*
 * Stripe's events on the SUBSCRIPTION row (subscription.h), request-free.
 *
 * The row is USER#<user> / SUBSCRIPTION.  The user is the subscription's metadata.userId
 * (the Checkout Session's client_reference_id for a session), else the user the
 * CUSTOMER#<cus> / USER row names (kept at checkout); an event naming neither is logged and
 * acknowledged.
 *
 * Newest wins: the row keeps eventCreated, the created time of the state it holds, and an
 * event is applied only when it is not older.  Within one second (Stripe sends several at
 * once) a subscription's state is not taken back to an earlier one of its life: incomplete
 * replaces no other status, and nothing replaces canceled or incomplete_expired; between two
 * subscriptions of the user in one second, a live one replaces an ended one, never the
 * reverse.  A subscription that ended never comes back, whatever the times say.
 *
 *   customer.subscription.*       the whole state: status (deleted: canceled), price and
 *                                 plan, period start and end, cancel at period end
 *   checkout.session.completed    links the subscription to the user; the state (active,
 *                                 or incomplete while an async payment is processing) only
 *                                 when the row holds another subscription or none, as of
 *                                 the session's creation, so the subscription's own events
 *                                 all win over it; then the profile's open checkout, if it
 *                                 is this session, is cleared (subscription_session.c)
 *   checkout.session.expired      the profile's open checkout, if it is this session, is
 *                                 cleared; a replaced session leaves checkoutStaleSessions
 *   invoice.paid                  the row's own subscription: the period of the invoice's
 *                                 subscription line, and active when something was paid
 *   invoice.payment_failed        the row's own subscription: past_due, from active,
 *                                 trialing or past_due only (a first payment's failure
 *                                 leaves it incomplete)
 * Invoices carry the subscription's metadata (subscription_details): nothing is fetched.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/txn.h"
#include "saas.h"
#include "account.h"
#include "subscription.h"

#define EXPR_MAX 768

static const char *const event_types[] = {
    "checkout.session.completed", "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
    "customer.subscription.created", "customer.subscription.updated",
    "customer.subscription.deleted", "invoice.paid", "invoice.payment_failed", NULL
};

int
saas_subscription_event_type(const char *type)
{
    size_t i;

    for (i = 0; type && event_types[i]; i++)
        if (strcmp(type, event_types[i]) == 0)
            return 1;
    return 0;
}

/* A status of Stripe's that we know; its place in a subscription's life. */
static const struct saas_status *
stripe_status(const char *s)
{
    const struct saas_status *st = saas_status_find(s);

    return st && st->stripe ? st : NULL;
}

/* The id of member k of o, a Stripe id or an expanded object ({"id": ...}); NULL if none. */
static const char *
ref_id(struct json_object *o, const char *k)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, k, &v))
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return json_str(v, "id");
}

static struct json_object *
member(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;

    if (o)
        json_object_object_get_ex(o, k, &v);
    return v;
}

/* o.k.data[0] (a list's first entry), or NULL. */
static struct json_object *
first_of(struct json_object *o, const char *k)
{
    struct json_object *d = member(member(o, k), "data");

    if (!d || !json_object_is_type(d, json_type_array) || json_object_array_length(d) == 0)
        return NULL;
    return json_object_array_get_idx(d, 0);
}

/* The user of an event: meta.userId, else ref (a session's client_reference_id), else the
 * user CUSTOMER#customer / USER names.  user[0] is '\0' when none is known. */
static int
owner(const struct ctx *c, struct json_object *meta, const char *ref, const char *customer,
      char *user, struct app_error *err)
{
    const char *u = json_str(meta, "userId");
    struct json_object *p;
    int rc;

    user[0] = '\0';
    if (!saas_user_id_ok(u))
        u = ref;
    if (saas_user_id_ok(u)) {
        snprintf(user, SAAS_MAX_USER_ID + 1, "%s", u);
        return APP_OK;
    }
    if (!customer || !*customer || strlen(customer) > SAAS_STRIPE_ID_MAX)
        return APP_OK;
    rc = ddb_read(c->ddb, c->cfg->tbl_app, saas_row_key("CUSTOMER#", customer, "USER"), &p,
                  err);
    if (rc != APP_OK || !p)
        return rc;
    u = json_str(p, "userId");
    if (saas_user_id_ok(u))
        snprintf(user, SAAS_MAX_USER_ID + 1, "%s", u);
    json_object_put(p);
    return APP_OK;
}

/* A subscription's state as of created. */
struct state {
    const char *sub, *customer, *status, *price;
    char plan[PRICELIST_PLAN_MAX + 1];
    long long start, end;          /* 0: not known */
    int cancel;                    /* cancel at period end; -1: not known */
    long long created;
    int checkout;                  /* from a Checkout Session: checkoutCompletedAt too */
};

static void
add_time(struct json_object *v, const char *name, long long t)
{
    char ts[32];

    time_iso((time_t)t, ts, sizeof(ts));
    json_object_object_add(v, name, ddb_av_s(ts));
}

/*
 * Write st on the user's row if it is not older than what the row holds (the rules above);
 * with other_sub, only over a row that holds another subscription or none.  APP_ECONDITION
 * when the row holds a newer state.
 */
static int
write_state(const struct ctx *c, const char *user, const struct state *st, int other_sub,
            struct app_error *err)
{
    struct json_object *v = json_object_new_object(), *b;
    char upd[EXPR_MAX], cond[EXPR_MAX];
    const struct saas_status *known = stripe_status(st->status);
    int rank = known ? known->life : 1, bad = 0;
    struct buf u, k;

    buf_init_fixed(&u, upd, sizeof(upd));
    buf_init_fixed(&k, cond, sizeof(cond));
    json_object_object_add(v, ":sub", ddb_av_s(st->sub));
    json_object_object_add(v, ":st", ddb_av_s(st->status));
    json_object_object_add(v, ":c", ddb_av_n(st->created));
    add_time(v, ":now", (long long)c->now);
    bad |= buf_puts(&u, "SET stripeSubscriptionId = :sub, #st = :st, eventCreated = :c, "
             "updatedAt = :now");
    if (st->customer) {
        json_object_object_add(v, ":cus", ddb_av_s(st->customer));
        bad |= buf_puts(&u, ", stripeCustomerId = :cus");
    }
    if (st->price) {
        json_object_object_add(v, ":price", ddb_av_s(st->price));
        json_object_object_add(v, ":plan", ddb_av_s(st->plan));
        bad |= buf_puts(&u, ", priceId = :price, planId = :plan");
    }
    if (st->start) {
        add_time(v, ":ps", st->start);
        bad |= buf_puts(&u, ", currentPeriodStart = :ps");
    }
    if (st->end) {
        add_time(v, ":pe", st->end);
        bad |= buf_puts(&u, ", currentPeriodEnd = :pe");
    }
    if (st->cancel >= 0) {
        b = json_object_new_object();
        json_object_object_add(b, "BOOL", json_object_new_boolean(st->cancel));
        json_object_object_add(v, ":cancel", b);
        bad |= buf_puts(&u, ", cancelAtPeriodEnd = :cancel");
    }
    if (st->checkout)
        bad |= buf_puts(&u, ", checkoutCompletedAt = :now");
    /* Newest wins.  The same second: of one subscription, by the rank of the status; of
     * two, a live one over an ended one, never the other way round. */
    bad |= buf_puts(&k, "(attribute_not_exists(eventCreated) OR eventCreated < :c");
    if (rank == 2)
        bad |= buf_puts(&k, " OR (eventCreated = :c AND (stripeSubscriptionId = :sub OR "
                        "#st IN (:canceled, :expired))))");
    else if (rank == 1)
        bad |= buf_puts(&k, " OR eventCreated = :c)");
    else
        bad |= buf_puts(&k, " OR (eventCreated = :c AND (#st = :incomplete OR "
                        "(stripeSubscriptionId <> :sub AND #st IN (:canceled, :expired)))))");
    if (rank < 2)                  /* an ended subscription never comes back */
        bad |= buf_puts(&k, " AND NOT (stripeSubscriptionId = :sub AND "
                        "#st IN (:canceled, :expired))");
    if (rank == 0)
        json_object_object_add(v, ":incomplete", ddb_av_s("incomplete"));
    json_object_object_add(v, ":canceled", ddb_av_s("canceled"));
    json_object_object_add(v, ":expired", ddb_av_s("incomplete_expired"));
    if (other_sub)
        bad |= buf_puts(&k, " AND (attribute_not_exists(stripeSubscriptionId) OR "
                 "stripeSubscriptionId <> :sub)");
    if (bad) {
        json_object_put(v);
        return app_error_set(err, APP_EINTERNAL, "subscription: an expression too long");
    }
    return txn_update_item(c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "SUBSCRIPTION"),
                           upd, cond, v, err);
}

static int
applied(const struct ctx *c, int rc, const char *type, const char *sub, const char *user)
{
    if (rc == APP_ECONDITION) {
        ctx_log(c, LL_INFO, "%s: %s of user %s is older than the row: nothing to do", type, sub,
                user);
        return APP_OK;
    }
    if (rc == APP_OK)
        ctx_log(c, LL_INFO, "%s: %s of user %s applied", type, sub, user);
    return rc;
}

static int
on_subscription(const struct ctx *c, const char *type, struct json_object *obj,
                long long created, struct app_error *err)
{
    struct json_object *item = first_of(obj, "items"), *v;
    char user[SAAS_MAX_USER_ID + 1];
    struct state st;
    int rc;

    memset(&st, 0, sizeof(st));
    st.sub = json_str(obj, "id");
    st.customer = ref_id(obj, "customer");
    st.status = strcmp(type, "customer.subscription.deleted") == 0 ? "canceled" :
                json_str(obj, "status");
    st.price = ref_id(item, "price");
    st.start = json_int(obj, "current_period_start");
    st.end = json_int(obj, "current_period_end");
    if (!st.start && !st.end) {    /* newer API versions keep the period on the item */
        st.start = json_int(item, "current_period_start");
        st.end = json_int(item, "current_period_end");
    }
    v = member(obj, "cancel_at_period_end");
    st.cancel = v ? json_object_get_boolean(v) : -1;
    st.created = created;
    if (!st.sub || strlen(st.sub) > SAAS_STRIPE_ID_MAX || !stripe_status(st.status)) {
        ctx_log(c, LL_WARN, "%s without a subscription id or a known status: ignored", type);
        return APP_OK;
    }
    if (st.price && strlen(st.price) > SAAS_STRIPE_ID_MAX)
        st.price = NULL;
    if (st.price)
        saas_plan_of(c->cfg, st.price, st.plan, sizeof(st.plan));
    rc = owner(c, member(obj, "metadata"), NULL, st.customer, user, err);
    if (rc != APP_OK)
        return rc;
    if (!user[0]) {
        ctx_log(c, LL_WARN, "%s: %s names no user we know: acknowledged", type, st.sub);
        return APP_OK;
    }
    rc = write_state(c, user, &st, 0, err);
    return applied(c, rc, type, st.sub, user);
}

/* Link a completed checkout's subscription to a row that holds it already. */
static int
link_checkout(const struct ctx *c, const char *user, const struct state *st,
              struct app_error *err)
{
    struct json_object *v = json_object_new_object();
    char ts[32];

    time_iso(c->now, ts, sizeof(ts));
    json_object_object_add(v, ":sub", ddb_av_s(st->sub));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    if (st->customer)
        json_object_object_add(v, ":cus", ddb_av_s(st->customer));
    if (st->price) {
        json_object_object_add(v, ":price", ddb_av_s(st->price));
        json_object_object_add(v, ":plan", ddb_av_s(st->plan));
    }
    return txn_update_item(
        c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "SUBSCRIPTION"),
        st->customer && st->price ?
        "SET checkoutCompletedAt = :now, updatedAt = :now, stripeCustomerId = :cus, "
        "priceId = if_not_exists(priceId, :price), planId = if_not_exists(planId, :plan)" :
        st->customer ? "SET checkoutCompletedAt = :now, updatedAt = :now, stripeCustomerId = :cus" :
        st->price ? "SET checkoutCompletedAt = :now, updatedAt = :now, "
        "priceId = if_not_exists(priceId, :price), planId = if_not_exists(planId, :plan)" :
        "SET checkoutCompletedAt = :now, updatedAt = :now",
        "stripeSubscriptionId = :sub", v, err);
}

static int
on_checkout(const struct ctx *c, const char *type, struct json_object *obj, long long created,
            struct app_error *err)
{
    const char *mode = json_str(obj, "mode"), *paid = json_str(obj, "payment_status");
    struct json_object *meta = member(obj, "metadata");
    char user[SAAS_MAX_USER_ID + 1];
    struct state st;
    int rc;

    if (!mode || strcmp(mode, "subscription") != 0)
        return APP_OK;
    memset(&st, 0, sizeof(st));
    st.sub = ref_id(obj, "subscription");
    st.customer = ref_id(obj, "customer");
    st.price = json_str(meta, "priceId");
    st.status = paid && (strcmp(paid, "paid") == 0 || strcmp(paid, "no_payment_required") == 0)
                ? "active" : "incomplete";
    st.cancel = -1;
    st.checkout = 1;
    /* As of the session's creation: every event of its subscription is newer. */
    st.created = json_int(obj, "created") > 0 ? json_int(obj, "created") : created;
    if (!st.sub || strlen(st.sub) > SAAS_STRIPE_ID_MAX ||
        (st.customer && strlen(st.customer) > SAAS_STRIPE_ID_MAX)) {
        ctx_log(c, LL_WARN, "%s without a usable subscription: acknowledged", type);
        return APP_OK;
    }
    if (st.price && strlen(st.price) > SAAS_STRIPE_ID_MAX)
        st.price = NULL;
    if (st.price)
        saas_plan_of(c->cfg, st.price, st.plan, sizeof(st.plan));
    rc = owner(c, meta, json_str(obj, "client_reference_id"), st.customer, user, err);
    if (rc != APP_OK)
        return rc;
    if (!user[0]) {
        ctx_log(c, LL_WARN, "%s: %s names no user we know: acknowledged", type, st.sub);
        return APP_OK;
    }
    rc = link_checkout(c, user, &st, err);
    if (rc == APP_ECONDITION)      /* the row holds another subscription, or none */
        rc = write_state(c, user, &st, 1, err);
    if (rc == APP_ECONDITION)      /* its own events came meanwhile, or a newer state */
        rc = link_checkout(c, user, &st, err);
    rc = applied(c, rc, type, st.sub, user);
    /* The subscription first, then the checkout is no longer open: a checkout in between
     * is refused by the subscription, never given a second session. */
    if (rc == APP_OK)
        rc = saas_session_closed(c, user, json_str(obj, "id"), err);
    return rc;
}

/* A subscription session expired: the user's open checkout, if it is this one, is over. */
static int
on_checkout_expired(const struct ctx *c, const char *type, struct json_object *obj,
                    struct app_error *err)
{
    char user[SAAS_MAX_USER_ID + 1];
    int rc;

    rc = owner(c, member(obj, "metadata"), json_str(obj, "client_reference_id"),
               ref_id(obj, "customer"), user, err);
    if (rc != APP_OK)
        return rc;
    if (!user[0]) {
        ctx_log(c, LL_WARN, "%s: %s names no user we know: acknowledged", type,
                json_str(obj, "id") ? json_str(obj, "id") : "a session");
        return APP_OK;
    }
    return saas_session_closed(c, user, json_str(obj, "id"), err);
}

/* The period of an invoice's subscription line (the first line of type subscription, else
 * the first line). */
static void
invoice_period(struct json_object *inv, long long *start, long long *end)
{
    struct json_object *d = member(member(inv, "lines"), "data"), *line = NULL, *l;
    const char *t;
    size_t i, n;

    n = d && json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
    for (i = 0; i < n && !line; i++) {
        l = json_object_array_get_idx(d, i);
        t = json_str(l, "type");
        if (t && strcmp(t, "subscription") == 0)
            line = l;
    }
    if (!line && n > 0)
        line = json_object_array_get_idx(d, 0);
    *start = json_int(member(line, "period"), "start");
    *end = json_int(member(line, "period"), "end");
}

static int
on_invoice(const struct ctx *c, const char *type, struct json_object *obj, long long created,
           struct app_error *err)
{
    const char *sub = ref_id(obj, "subscription"), *cus = ref_id(obj, "customer");
    struct json_object *meta = member(member(obj, "subscription_details"), "metadata"), *v;
    int paid = strcmp(type, "invoice.paid") == 0;
    char user[SAAS_MAX_USER_ID + 1], upd[EXPR_MAX];
    long long start = 0, end = 0;
    const char *cond;
    struct buf u;
    int rc, bad = 0;

    if (!sub || strlen(sub) > SAAS_STRIPE_ID_MAX)
        return APP_OK;             /* not a subscription's invoice */
    rc = owner(c, meta, NULL, cus, user, err);
    if (rc != APP_OK)
        return rc;
    if (!user[0]) {
        ctx_log(c, LL_WARN, "%s: %s names no user we know: acknowledged", type, sub);
        return APP_OK;
    }
    buf_init_fixed(&u, upd, sizeof(upd));
    v = json_object_new_object();
    json_object_object_add(v, ":sub", ddb_av_s(sub));
    json_object_object_add(v, ":c", ddb_av_n(created));
    add_time(v, ":now", (long long)c->now);
    bad |= buf_puts(&u, "SET eventCreated = :c, updatedAt = :now");
    if (paid) {
        invoice_period(obj, &start, &end);
        if (start && end) {
            add_time(v, ":ps", start);
            add_time(v, ":pe", end);
            bad |= buf_puts(&u, ", currentPeriodStart = :ps, currentPeriodEnd = :pe");
        }
        if (json_int(obj, "amount_paid") > 0) {
            json_object_object_add(v, ":active", ddb_av_s("active"));
            bad |= buf_puts(&u, ", #st = :active");
        }
        json_object_object_add(v, ":canceled", ddb_av_s("canceled"));
        json_object_object_add(v, ":expired", ddb_av_s("incomplete_expired"));
        cond = "stripeSubscriptionId = :sub AND eventCreated <= :c AND "
               "NOT (#st IN (:canceled, :expired))";
    } else {
        json_object_object_add(v, ":past_due", ddb_av_s("past_due"));
        json_object_object_add(v, ":active", ddb_av_s("active"));
        json_object_object_add(v, ":trialing", ddb_av_s("trialing"));
        bad |= buf_puts(&u, ", #st = :past_due");
        cond = "stripeSubscriptionId = :sub AND eventCreated <= :c AND "
               "#st IN (:active, :trialing, :past_due)";
    }
    if (bad) {
        json_object_put(v);
        return app_error_set(err, APP_EINTERNAL, "subscription: an expression too long");
    }
    rc = txn_update_item(c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "SUBSCRIPTION"),
                         upd, cond, v, err);
    return applied(c, rc, type, sub, user);
}

int
saas_subscription_event(const struct ctx *c, const char *type, struct json_object *obj,
                        long long created, struct app_error *err)
{
    if (!c->ddb)
        return app_error_set(err, APP_EUNAVAILABLE, "no DynamoDB client");
    if (strcmp(type, "checkout.session.expired") == 0) {
        const char *mode = json_str(obj, "mode");

        return mode && strcmp(mode, "subscription") == 0 ?
               on_checkout_expired(c, type, obj, err) : APP_OK;
    }
    if (strcmp(type, "checkout.session.completed") == 0 ||
        strcmp(type, "checkout.session.async_payment_succeeded") == 0)
        return on_checkout(c, type, obj, created, err);
    if (strncmp(type, "customer.subscription.", 22) == 0)
        return on_subscription(c, type, obj, created, err);
    if (strncmp(type, "invoice.", 8) == 0 && saas_subscription_event_type(type))
        return on_invoice(c, type, obj, created, err);
    return APP_OK;
}
