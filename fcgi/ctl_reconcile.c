/*
 * prodenthubctl reconcile [--since TIME] [--until TIME] [--json] (ctl.h): Stripe's Checkout
 * Sessions, PaymentIntents and refunds created in the period, against the payments table and
 * the access grants; the rules are lib/reconcile.h's.  TIME: seconds since the epoch, an ISO
 * date or time in UTC ("2026-12-03", "2026-12-03T10:00:00Z"), or an age ("90m", "36h",
 * "7d"); the period is [since, until), by default the last 24 hours up to now included.
 *
 * Output: one line per mismatch, "MISMATCH<TAB>kind<TAB>paymentIntent<TAB>campaign<TAB>
 * record<TAB>detail" ("-" for what does not apply), then the summary line "reconcile: SINCE
 * UNTIL: N Stripe payments, M records, K grants; X mismatches"; with --json one object
 * {"since", "until", "stripePayments", "records", "grants", "mismatches": [...], "count"}.
 * Exit 0 no mismatch, 1 mismatches, 2 usage, 3 Stripe or a table could not be read (then
 * nothing is compared: a partial view would report what is only unread).
 *
 * A payment made a moment before the run may not have had its webhook yet: run it on a
 * period that ended a few minutes ago (--until 10m) for a quiet answer.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../lib/cfg.h"
#include "../lib/ctx.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/reconcile.h"
#include "../lib/strparse.h"
#include "../lib/stripe.h"
#include "ctl.h"

struct gather {
    struct stripe *st;
    struct json_object *stripe;     /* pi -> {status, amount, currency, refunded, ...} */
    struct json_object *refunded;   /* pi -> true: a refund in the period */
    struct json_object *rows;       /* pi -> payments row */
    struct json_object *grants;     /* [grant] */
};

/* TIME as above into *out; -1 when it is none of those. */
static int
parse_time(const char *s, time_t now, time_t *out)
{
    size_t n = strlen(s);
    char buf[40];
    long v;

    if (n > 1 && strchr("mhd", s[n - 1]) && n < sizeof(buf)) {
        memcpy(buf, s, n - 1);
        buf[n - 1] = '\0';
        if (str_to_long(buf, 0, 3650L * 24 * 60, &v) != 0)
            return -1;
        *out = now - v * (s[n - 1] == 'm' ? 60 : s[n - 1] == 'h' ? 3600 : 86400);
        return 0;
    }
    if (str_to_long(s, 1, 4102444800L, &v) == 0) {
        *out = v;
        return 0;
    }
    if (n == 10)
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
    else
        snprintf(buf, sizeof(buf), "%s", s);
    *out = time_parse_iso(buf);
    return *out > 0 ? 0 : -1;
}

/* stripe[pi], made when absent. */
static struct json_object *
entry(struct gather *g, const char *pi)
{
    struct json_object *e;

    if (!json_object_object_get_ex(g->stripe, pi, &e)) {
        e = json_object_new_object();
        json_object_object_add(g->stripe, pi, e);
    }
    return e;
}

static void
set_campaign(struct json_object *e, struct json_object *obj)
{
    struct json_object *md = NULL;
    const char *camp;

    json_object_object_get_ex(obj, "metadata", &md);
    camp = json_str(md, "campaignId");
    if (!json_str(e, "campaign") && camp)
        json_add_str(e, "campaign", camp);
}

static int
session_cb(void *arg, struct json_object *s)
{
    struct gather *g = arg;
    const char *pi = json_str(s, "payment_intent"), *mode = json_str(s, "mode");
    struct json_object *e;

    if (!pi || !mode || strcmp(mode, "payment") != 0)
        return 0;
    e = entry(g, pi);
    json_add_str(e, "session", json_str(s, "id"));
    set_campaign(e, s);
    return 0;
}

static void
fill_pi(struct json_object *e, struct json_object *pi)
{
    json_add_str(e, "status", json_str(pi, "status"));
    json_object_object_add(e, "amount", json_object_new_int64(json_int(pi, "amount_received")));
    json_add_str(e, "currency", json_str(pi, "currency"));
    set_campaign(e, pi);
}

static int
pi_cb(void *arg, struct json_object *pi)
{
    struct gather *g = arg;
    const char *id = json_str(pi, "id");

    if (id)
        fill_pi(entry(g, id), pi);
    return 0;
}

static int
refund_cb(void *arg, struct json_object *r)
{
    struct gather *g = arg;
    const char *pi = json_str(r, "payment_intent");

    if (pi)
        json_object_object_add(g->refunded, pi, json_object_new_boolean(1));
    return 0;
}

static int
refund_sum_cb(void *arg, struct json_object *r)
{
    long long *sum = arg;
    const char *s = json_str(r, "status");

    if (s && (strcmp(s, "succeeded") == 0 || strcmp(s, "pending") == 0 ||
              strcmp(s, "requires_action") == 0))
        *sum += json_int(r, "amount");
    return 0;
}

static int
row_cb(void *arg, struct json_object *plain, struct json_object *raw)
{
    struct gather *g = arg;
    const char *pi = json_str(plain, "paymentIntentId");

    (void)raw;
    if (!pi)
        return 1;
    json_object_object_add(g->rows, pi, json_object_get(plain));
    return 0;
}

static int
grant_cb(void *arg, struct json_object *plain, struct json_object *raw)
{
    struct gather *g = arg;

    (void)raw;
    if (!plain)
        return 1;
    json_object_array_add(g->grants, json_object_get(plain));
    return 0;
}

static int
id_ok(const char *id)
{
    size_t i;

    for (i = 0; id[i]; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '_')
            return 0;
    return i > 0 && i < 200;
}

/* The PaymentIntent itself, for one Stripe's lists did not show: "missing" when Stripe
 * has none.  -1 when Stripe could not be asked. */
static int
look_up(struct gather *g, const char *pi)
{
    struct json_object *obj = NULL, *e = entry(g, pi);
    struct app_error err;
    char path[256];
    int rc;

    if (!id_ok(pi)) {
        json_add_str(e, "status", "missing");
        return 0;
    }
    snprintf(path, sizeof(path), "/v1/payment_intents/%s", pi);
    app_error_clear(&err);
    rc = stripe_get(g->st, path, NULL, &obj, &err);
    if (rc == APP_OK)
        fill_pi(e, obj);
    else if (rc == APP_ENOTFOUND)
        json_add_str(e, "status", "missing");
    else
        fprintf(stderr, "prodenthubctl: %s: %s\n", path, err.msg);
    json_object_put(obj);
    return rc == APP_OK || rc == APP_ENOTFOUND ? 0 : -1;
}

/* Everything compared: 0, or -1 when something could not be read (said on stderr). */
static int
gather(struct ctl *c, struct gather *g, const char *gte, const char *lt, const char *since,
       const char *until)
{
    const char *const range[] = { "created[gte]", gte, "created[lt]", lt, NULL, NULL };
    const char *const sessions[] = { "created[gte]", gte, "created[lt]", lt,
                                     "status", "complete", NULL, NULL };
    struct json_object *v;
    char *todo[4096];
    size_t n = 0, i;
    int rc = 0;

    if (ctl_stripe_list(g->st, "/v1/checkout/sessions", sessions, session_cb, g) != 0 ||
        ctl_stripe_list(g->st, "/v1/payment_intents", range, pi_cb, g) != 0 ||
        ctl_stripe_list(g->st, "/v1/refunds", range, refund_cb, g) != 0 ||
        ctl_scan(c->ddb, c->cfg.tbl_payments, row_cb, g) != 0 ||
        ctl_scan(c->ddb, c->cfg.tbl_access_grants, grant_cb, g) != 0)
        return -1;
    /* The PaymentIntents the lists did not show: a session's made before the period, a
     * refunded one's, a row's of the period. */
    json_object_object_foreach(g->stripe, pi, e) {
        if (!json_str(e, "status") && n < sizeof(todo) / sizeof(todo[0]))
            todo[n++] = strdup(pi);
    }
    json_object_object_foreach(g->refunded, rpi, rv) {
        (void)rv;
        if (!json_object_object_get_ex(g->stripe, rpi, NULL) &&
            n < sizeof(todo) / sizeof(todo[0]))
            todo[n++] = strdup(rpi);
    }
    json_object_object_foreach(g->rows, ppi, row) {
        const char *paid = json_str(row, "paidAt");

        if (json_str(row, "recordId") && paid && strcmp(paid, since) >= 0 &&
            strcmp(paid, until) < 0 && !json_object_object_get_ex(g->stripe, ppi, NULL) &&
            n < sizeof(todo) / sizeof(todo[0]))
            todo[n++] = strdup(ppi);
    }
    for (i = 0; i < n; i++) {
        if (todo[i] && look_up(g, todo[i]) != 0)
            rc = -1;
        free(todo[i]);
    }
    if (n == sizeof(todo) / sizeof(todo[0])) {
        fprintf(stderr, "prodenthubctl: reconcile: too many payments to look up; take a "
                "shorter period\n");
        return -1;
    }
    /* Stripe's refunded sum of each payment that has refunds, in our records or Stripe's. */
    json_object_object_foreach(g->stripe, spi, se) {
        struct json_object *prow = NULL;
        const char *const by_pi[] = { "payment_intent", spi, NULL, NULL };
        long long sum = 0;

        json_object_object_get_ex(g->rows, spi, &prow);
        if (!json_object_object_get_ex(g->refunded, spi, &v) &&
            json_int(prow, "amountRefundedCents") == 0)
            continue;
        if (!id_ok(spi) || ctl_stripe_list(g->st, "/v1/refunds", by_pi, refund_sum_cb,
                                           &sum) != 0)
            return -1;
        json_object_object_add(se, "refunded", json_object_new_int64(sum));
    }
    return rc;
}

static const char *
or_dash(struct json_object *m, const char *k)
{
    const char *v = json_str(m, k);

    return v && *v ? v : "-";
}

int
ctl_reconcile(struct ctl *c, int argc, char **argv)
{
    time_t now = ctx_clock(&c->cfg), since = now - 86400, until = now + 1;
    char since_iso[32], until_iso[32], gte[24], lt[24];
    struct gather g;
    struct json_object *out, *res;
    int i, as_json = 0, rc = 0;
    size_t k, count;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--since") == 0 &&
                   parse_time(argv[i + 1], now, &since) == 0) {
            i++;
        } else if (i + 1 < argc && strcmp(argv[i], "--until") == 0 &&
                   parse_time(argv[i + 1], now, &until) == 0) {
            i++;
        } else {
            fprintf(stderr, "prodenthubctl: reconcile takes [--since TIME] [--until TIME] "
                    "[--json]; TIME: epoch seconds, 2026-12-03[T10:00:00Z], or 90m, 36h, "
                    "7d ago\n");
            return 2;
        }
    }
    if (since >= until) {
        fprintf(stderr, "prodenthubctl: reconcile: --since must come before --until\n");
        return 2;
    }
    time_iso(since, since_iso, sizeof(since_iso));
    time_iso(until, until_iso, sizeof(until_iso));
    snprintf(gte, sizeof(gte), "%lld", (long long)since);
    snprintf(lt, sizeof(lt), "%lld", (long long)until);
    memset(&g, 0, sizeof(g));
    g.st = stripe_new(&c->cfg);
    g.stripe = json_object_new_object();
    g.refunded = json_object_new_object();
    g.rows = json_object_new_object();
    g.grants = json_object_new_array();
    if (!g.st || gather(c, &g, gte, lt, since_iso, until_iso) != 0) {
        fprintf(stderr, "prodenthubctl: reconcile: could not read everything; nothing "
                "compared\n");
        rc = 3;
    } else {
        res = reconcile_compare(g.stripe, g.rows, g.grants, since_iso, until_iso);
        count = json_object_array_length(res);
        if (as_json) {
            out = json_object_new_object();
            json_add_str(out, "since", since_iso);
            json_add_str(out, "until", until_iso);
            json_object_object_add(out, "stripePayments",
                                   json_object_new_int((int)json_object_object_length(g.stripe)));
            json_object_object_add(out, "records",
                                   json_object_new_int((int)json_object_object_length(g.rows)));
            json_object_object_add(out, "grants",
                                   json_object_new_int((int)json_object_array_length(g.grants)));
            json_object_object_add(out, "mismatches", json_object_get(res));
            json_object_object_add(out, "count", json_object_new_int((int)count));
            printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
            json_object_put(out);
        } else {
            for (k = 0; k < count; k++) {
                struct json_object *m = json_object_array_get_idx(res, k);

                printf("MISMATCH\t%s\t%s\t%s\t%s\t%s\n", or_dash(m, "kind"),
                       or_dash(m, "paymentIntent"), or_dash(m, "campaign"),
                       or_dash(m, "record"), or_dash(m, "detail"));
            }
            printf("reconcile: %s %s: %d Stripe payments, %d records, %d grants; %zu "
                   "mismatches\n", since_iso, until_iso, json_object_object_length(g.stripe),
                   json_object_object_length(g.rows),
                   (int)json_object_array_length(g.grants), count);
        }
        json_object_put(res);
        rc = count ? 1 : 0;
    }
    stripe_free(g.st);
    json_object_put(g.stripe);
    json_object_put(g.refunded);
    json_object_put(g.rows);
    json_object_put(g.grants);
    return rc;
}
