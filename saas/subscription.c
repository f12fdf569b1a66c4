/*
 * A subscription's checkout (subscription.h): the user's Stripe Customer, kept on the
 * profile, then the user's one open embedded subscription Checkout Session, claimed on the
 * profile (subscription_session.c makes it at Stripe).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/stripe.h"
#include "../lib/txn.h"
#include "saas.h"
#include "account.h"
#include "subscription.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
#define ATTEMPTS 4
/* A session's expires_at: an hour after its claim (Stripe takes 30 minutes to 24 hours). */
#define SESSION_LIFETIME_S 3600
/* A recorded session is answered again while it has this long left; after, a new claim. */
#define REUSE_MARGIN_S 300
/* A claim whose session is not recorded yet is joined while its expires_at is one Stripe
 * still accepts for a new session (30 minutes ahead, and a minute to spare). */
#define JOIN_MIN_S (1800 + 60)

int
saas_user_id_ok(const char *id)
{
    size_t i, n = id ? strlen(id) : 0;

    if (n == 0 || n > SAAS_MAX_USER_ID)
        return 0;
    for (i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] > '~' || id[i] == '#')
            return 0;
    return 1;
}

struct json_object *
saas_row_key(const char *kind, const char *id, const char *sk)
{
    struct json_object *k = json_object_new_object();
    char pk[SAAS_MAX_USER_ID + SAAS_STRIPE_ID_MAX + 16];

    snprintf(pk, sizeof(pk), "%s%s", kind, id);
    json_object_object_add(k, "pk", ddb_av_s(pk));
    json_object_object_add(k, "sk", ddb_av_s(sk));
    return k;
}

void
saas_plan_of(const struct cfg *cfg, const char *price, char *out, size_t outlen)
{
    if (!price || !pricelist_find(cfg->stripe_subscription_prices, price, out, outlen))
        snprintf(out, outlen, "%s", price ? price : "");
}

int
saas_stripe_id_ok(const char *s, const char *prefix)
{
    size_t n = s ? strlen(s) : 0;

    return n > strlen(prefix) && n <= SAAS_STRIPE_ID_MAX &&
           strncmp(s, prefix, strlen(prefix)) == 0 && strspn(s, ID_CHARS) == n;
}

/* The user's PROFILE: its customer (cus, "" when none), email (into email, "" when none)
 * and open checkout (oc).  No profile yet is APP_OK with all empty. */
static int
profile_read(const struct ctx *c, const char *user, char *cus, char *email, size_t emaillen,
             struct saas_open_checkout *oc, struct app_error *err)
{
    struct json_object *p;
    const char *v;
    int rc;

    cus[0] = email[0] = '\0';
    saas_open_checkout_of(NULL, oc);
    rc = ddb_read(c->ddb, c->cfg->tbl_app, saas_row_key("USER#", user, "PROFILE"), &p, err);
    if (rc != APP_OK || !p)
        return rc;
    v = json_str(p, "stripeCustomerId");
    if (saas_stripe_id_ok(v, "cus_"))
        snprintf(cus, SAAS_STRIPE_ID_MAX + 1, "%s", v);
    v = json_str(p, "email");
    if (v)
        snprintf(email, emaillen, "%s", v);
    saas_open_checkout_of(p, oc);
    json_object_put(p);
    return APP_OK;
}

/* The user's Stripe Customer, made now: the same one for every call within Stripe's 24 hours
 * of idempotency, so concurrent checkouts agree on it. */
static int
customer_create(const struct ctx *c, const char *user, const char *email, char *cus,
                struct app_error *err)
{
    struct stripe_params *sp = stripe_params_new();
    struct json_object *got = NULL;
    char key[SAAS_MAX_USER_ID + 16];
    int rc;

    if (email && *email)
        stripe_params_add(sp, "email", email);
    stripe_params_add(sp, "metadata[userId]", user);
    snprintf(key, sizeof(key), "customer-%s", user);
    rc = stripe_post(c->stripe, "/v1/customers", sp, key, &got, err);
    stripe_params_free(sp);
    if (rc == APP_OK && !saas_stripe_id_ok(json_str(got, "id"), "cus_"))
        rc = app_error_set(err, APP_EUPSTREAM, "stripe: a customer without a usable id");
    if (rc == APP_OK)
        snprintf(cus, SAAS_STRIPE_ID_MAX + 1, "%s", json_str(got, "id"));
    if (got)
        json_object_put(got);
    return rc;
}

/* A TransactWriteItems ConditionCheck on the user's SUBSCRIPTION row: none, or one that
 * ended (the statuses without a refusal in saas/status.c).  A live subscription is looked
 * after where it is (Stripe: a past_due or unpaid subscription is paid again with a new
 * payment method, an incomplete one's first payment finishes or expires within 23 hours, a
 * paused one is resumed), never by buying a second. */
static struct json_object *
may_subscribe_check(const struct ctx *c, const char *user)
{
    struct json_object *u = json_object_new_object(), *w = json_object_new_object();
    struct json_object *names = json_object_new_object(), *vals = json_object_new_object();

    json_object_object_add(u, "TableName", json_object_new_string(c->cfg->tbl_app));
    json_object_object_add(u, "Key", saas_row_key("USER#", user, "SUBSCRIPTION"));
    json_object_object_add(u, "ConditionExpression", json_object_new_string(
        "attribute_not_exists(#st) OR #st IN (:canceled, :expired, :inactive)"));
    json_object_object_add(names, "#st", json_object_new_string("status"));
    json_object_object_add(u, "ExpressionAttributeNames", names);
    json_object_object_add(vals, ":canceled", ddb_av_s("canceled"));
    json_object_object_add(vals, ":expired", ddb_av_s("incomplete_expired"));
    json_object_object_add(vals, ":inactive", ddb_av_s("inactive"));
    json_object_object_add(u, "ExpressionAttributeValues", vals);
    json_object_object_add(w, "ConditionCheck", u);
    return w;
}

/* What a checkout does with the profile's open checkout. */
enum step {
    CLAIM_NEW,                     /* a claim of its own, replacing the profile's */
    CLAIM_JOIN,                    /* the profile's claim, whose session is being made */
    SESSION_REUSE,                 /* the profile's session, open */
};

/* gone: a session found expired, never reused. */
static enum step
step_of(const struct saas_open_checkout *oc, const char *price, const char *gone)
{
    long long now = (long long)time(NULL);  /* Stripe's clock, not ours */

    if (!oc->claim[0] || strcmp(oc->price, price) != 0)
        return CLAIM_NEW;
    if (oc->session[0])
        return oc->expires_at > now + REUSE_MARGIN_S && strcmp(oc->session, gone) != 0 ?
               SESSION_REUSE : CLAIM_NEW;
    return oc->expires_at >= now + JOIN_MIN_S ? CLAIM_JOIN : CLAIM_NEW;
}

/*
 * One transaction: the user may subscribe, the profile keeps customer cus (made if missing:
 * the frontend may not have called /v1/auth/session) and the claim of this step (a new one
 * replaces old only as it was read, its session then stale), and CUSTOMER#cus / USER names
 * the user.  Neither row may name another customer or user.
 */
static int
customer_keep(const struct ctx *c, const char *user, const char *email, const char *cus,
              const struct saas_open_checkout *old, enum step step, const char *claim,
              const char *price, long long exp, struct app_error *err)
{
    struct json_object *items = json_object_new_array(), *v, *set;
    char ts[32], upd[640], cond[320];
    struct buf u, k;
    int bad = 0;

    time_iso(c->now, ts, sizeof(ts));
    buf_init_fixed(&u, upd, sizeof(upd));
    buf_init_fixed(&k, cond, sizeof(cond));
    json_object_array_add(items, may_subscribe_check(c, user));
    v = json_object_new_object();
    json_object_object_add(v, ":cus", ddb_av_s(cus));
    json_object_object_add(v, ":id", ddb_av_s(user));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    bad |= buf_puts(&u, "SET stripeCustomerId = :cus, id = if_not_exists(id, :id), "
                    "createdAt = if_not_exists(createdAt, :now), updatedAt = :now");
    if (email && *email) {
        json_object_object_add(v, ":email", ddb_av_s(email));
        bad |= buf_puts(&u, ", email = if_not_exists(email, :email)");
    }
    bad |= buf_puts(&k, "(attribute_not_exists(stripeCustomerId) OR stripeCustomerId = :cus) "
                    "AND ");
    if (old->claim[0])
        json_object_object_add(v, ":old", ddb_av_s(old->claim));
    if (old->session[0])
        json_object_object_add(v, ":oldsid", ddb_av_s(old->session));
    if (step == CLAIM_NEW) {
        json_object_object_add(v, ":claim", ddb_av_s(claim));
        json_object_object_add(v, ":price", ddb_av_s(price));
        json_object_object_add(v, ":exp", ddb_av_n(exp));
        bad |= buf_puts(&u, ", checkoutClaim = :claim, checkoutPriceId = :price, "
                        "checkoutExpiresAt = :exp REMOVE checkoutSessionId");
        if (old->session[0]) {
            set = json_object_new_array();
            json_object_array_add(set, json_object_new_string(old->session));
            json_object_object_add(v, ":stale", ddb_av_string_set(set));
            json_object_put(set);
            bad |= buf_puts(&u, " ADD checkoutStaleSessions :stale");
        }
        bad |= buf_puts(&k, !old->claim[0] ? "attribute_not_exists(checkoutClaim)" :
                        old->session[0] ? "checkoutClaim = :old AND checkoutSessionId = :oldsid" :
                        "checkoutClaim = :old AND attribute_not_exists(checkoutSessionId)");
    } else {
        bad |= buf_puts(&k, step == SESSION_REUSE ?
                        "checkoutClaim = :old AND checkoutSessionId = :oldsid" :
                        "checkoutClaim = :old");
    }
    if (bad) {
        json_object_put(v);
        json_object_put(items);
        return app_error_set(err, APP_EINTERNAL, "checkout: an expression too long");
    }
    json_object_array_add(items, txn_update(c->cfg->tbl_app,
                                            saas_row_key("USER#", user, "PROFILE"), upd, cond,
                                            v));
    v = json_object_new_object();
    json_object_object_add(v, ":u", ddb_av_s(user));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_array_add(items, txn_update(
        c->cfg->tbl_app, saas_row_key("CUSTOMER#", cus, "USER"),
        "SET userId = :u, createdAt = if_not_exists(createdAt, :now)",
        "attribute_not_exists(userId) OR userId = :u", v));
    return txn_run(c->ddb, items, NULL, err);
}

/* Why customer_keep's transaction was refused: 409 when the user's subscription refuses a
 * checkout; else APP_ECONDITION (the profile moved on: read it again). */
static int
keep_refused(const struct ctx *c, const char *user, struct app_error *err)
{
    struct saas_subscription sub;
    const struct saas_status *st;
    int rc = saas_subscription_get(c, user, &sub, err);

    if (rc != APP_OK)
        return rc;
    st = saas_status_find(sub.status);
    if (!st)
        return app_error_reason(err, APP_ECONFLICT, "ALREADY_SUBSCRIBED",
                                "You already have a subscription");   /* a status unknown */
    if (st->refusal)
        return app_error_reason(err, APP_ECONFLICT, st->refusal, "%s", st->message);
    return APP_ECONDITION;
}

/* Sessions a new claim replaced, not known closed yet: closed now (409 when one was paid). */
static int
close_stale(const struct ctx *c, const char *user, const struct saas_open_checkout *oc,
            struct app_error *err)
{
    const char *sids[SAAS_STALE_MAX];
    size_t i;

    for (i = 0; i < oc->nstale; i++)
        sids[i] = oc->stale[i];
    return saas_sessions_close(c, user, sids, oc->nstale, err);
}

/* The checkout's session, made for the claim and recorded on the profile: APP_OK, or
 * APP_ECONDITION when the claim moved on meanwhile (then the session, never answered, is
 * closed again) or another checkout of it is making it right now (look again). */
static int
session_make(const struct ctx *c, const char *user, const char *price, const char *cus,
             enum step step, const char *claim, long long exp, struct saas_checkout *out,
             struct app_error *err)
{
    const char *mine;
    int rc;

    rc = saas_session_create(c, user, price, cus, claim, exp, out, err);
    if (rc == APP_ECONFLICT && step == CLAIM_JOIN) {
        app_error_clear(err);      /* in progress under the same key */
        return APP_ECONDITION;
    }
    if (rc != APP_OK) {
        saas_session_release(c, user, claim);
        return rc;
    }
    rc = saas_session_record(c, user, claim, out->session_id, err);
    if (rc == APP_ECONDITION) {
        ctx_log(c, LL_INFO, "checkout: the claim of user %s moved on: session %s closed", user,
                out->session_id);
        mine = out->session_id;
        saas_sessions_close(c, user, &mine, 1, err);
        app_error_clear(err);
        rc = APP_ECONDITION;
    }
    return rc;
}

int
saas_checkout(const struct ctx *c, const char *user, const char *email, const char *price,
              struct saas_checkout *out, struct app_error *err)
{
    char plan[PRICELIST_PLAN_MAX + 1], cus[SAAS_STRIPE_ID_MAX + 1], stored_email[256];
    char made[SAAS_STRIPE_ID_MAX + 1] = "", claim[SAAS_CLAIM_MAX], gone[SAAS_SESSION_ID_MAX] = "";
    struct saas_open_checkout oc;
    const char *mine;
    enum step step;
    long long exp;
    int rc = APP_OK, i;

    memset(out, 0, sizeof(*out));
    if (!c->ddb || !c->stripe)
        return app_error_set(err, APP_EUNAVAILABLE, "no backend clients");
    if (!saas_user_id_ok(user))
        return app_error_set(err, APP_EUNAUTHORIZED, "a user id we cannot keep");
    if (!price || !pricelist_find(c->cfg->stripe_subscription_prices, price, plan,
                                  sizeof(plan)))
        return app_error_field(err, "priceId", "is not a plan on sale");
    for (i = 0; i < ATTEMPTS; i++) {
        memset(out, 0, sizeof(*out));
        rc = profile_read(c, user, cus, stored_email, sizeof(stored_email), &oc, err);
        if (rc != APP_OK)
            return rc;
        if (!email || !*email)
            email = stored_email;
        if (!cus[0] && !made[0])
            rc = customer_create(c, user, email, made, err);
        if (rc != APP_OK)
            return rc;
        if (!cus[0])
            snprintf(cus, sizeof(cus), "%s", made);
        else if (made[0] && strcmp(made, cus) != 0)  /* another checkout kept its own first */
            ctx_log(c, LL_WARN, "checkout: the profile keeps %s, not %s (left unused)", cus,
                    made);
        rc = close_stale(c, user, &oc, err);
        if (rc != APP_OK)
            return rc;
        if (oc.stale_total > oc.nstale)
            continue;              /* more than one look holds: the rest next time round */
        step = step_of(&oc, price, gone);
        snprintf(claim, sizeof(claim), "%s", oc.claim);
        exp = oc.expires_at;
        if (step == CLAIM_NEW) {
            if (id_new(claim, sizeof(claim), "chk_") != 0)
                return app_error_set(err, APP_EINTERNAL, "no random bytes");
            exp = (long long)time(NULL) + SESSION_LIFETIME_S;  /* Stripe's clock */
        }
        rc = customer_keep(c, user, email, cus, &oc, step, claim, price, exp, err);
        if (rc == APP_ECONDITION)
            rc = keep_refused(c, user, err);
        if (rc == APP_ECONDITION)
            continue;
        if (rc != APP_OK)
            return rc;
        if (step == SESSION_REUSE) {
            rc = saas_session_get(c, oc.session, out, err);
            if (rc != APP_ENOTFOUND)
                break;
            app_error_clear(err);  /* it expired: a new claim */
            snprintf(gone, sizeof(gone), "%s", oc.session);
            continue;
        }
        rc = session_make(c, user, price, cus, step, claim, exp, out, err);
        if (rc == APP_ECONDITION)
            continue;
        if (rc != APP_OK || step != CLAIM_NEW || !oc.session[0])
            break;
        /* The new session is recorded: the one it replaced is expired at Stripe, and if that
         * one was paid, so is the new one. */
        mine = oc.session;
        rc = saas_sessions_close(c, user, &mine, 1, err);
        if (rc == APP_ECONFLICT) {
            struct app_error paid = *err;

            app_error_clear(err);
            mine = out->session_id;
            saas_sessions_close(c, user, &mine, 1, err);
            *err = paid;
        }
        break;
    }
    if (i == ATTEMPTS)
        rc = app_error_set(err, APP_EUNAVAILABLE, "checkout: the profile kept changing");
    if (rc != APP_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}
