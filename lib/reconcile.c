/*
 * The comparison of prodenthubctl reconcile (reconcile.h): plain JSON in, mismatches out.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ddbjson.h"
#include "reconcile.h"

struct out {
    struct json_object *list;
};

static int
flag(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static int
in_period(const char *ts, const char *since, const char *until)
{
    return ts && strcmp(ts, since) >= 0 && strcmp(ts, until) < 0;
}

/* A payment whose access stands: not refunded in full, not lost, not an extra payment. */
static int
kept(struct json_object *row)
{
    const char *d = json_str(row, "disputeStatus");

    return !flag(row, "extraPayment") && !flag(row, "refundedFull") &&
           !(d && strcmp(d, "lost") == 0);
}

static void
add(struct out *o, const char *kind, const char *pi, struct json_object *st,
    struct json_object *row, const char *email, const char *detail)
{
    struct json_object *m = json_object_new_object();
    const char *v;

    json_add_str(m, "kind", kind);
    if (pi)
        json_add_str(m, "paymentIntent", pi);
    v = json_str(st, "session");
    if (v)
        json_add_str(m, "session", v);
    v = json_str(row, "campaignId");
    if (!v)
        v = json_str(st, "campaign");
    if (v)
        json_add_str(m, "campaign", v);
    v = json_str(row, "recordId");
    if (v)
        json_add_str(m, "record", v);
    if (email)
        json_add_str(m, "email", email);
    json_add_str(m, "detail", detail);
    json_object_array_add(o->list, m);
}

/* The record's grant id: a team share's record is "teamId#member", its grant the team's. */
static size_t
grant_len(const char *record)
{
    const char *hash = strchr(record, '#');

    return hash ? (size_t)(hash - record) : strlen(record);
}

/* 1 when grant g is the access that row paid for. */
static int
grant_of(struct json_object *g, struct json_object *row)
{
    const char *rec = json_str(row, "recordId"), *gid = json_str(g, "grantId");
    const char *src = json_str(g, "source"), *camp = json_str(row, "campaignId");
    const char *ge = json_str(g, "email"), *re = json_str(row, "email");

    return rec && gid && src && camp && ge && re && strcmp(src, camp) == 0 &&
           grant_len(rec) == strlen(gid) && strncmp(rec, gid, strlen(gid)) == 0 &&
           strcasecmp(ge, re) == 0;
}

static int
active(struct json_object *g)
{
    const char *s = json_str(g, "status");

    return s && strcmp(s, "active") == 0;
}

/* Stripe's side: each succeeded payment of ours against its row. */
static void
stripe_side(struct out *o, struct json_object *stripe, struct json_object *rows)
{
    char detail[160];

    json_object_object_foreach(stripe, pi, st) {
        struct json_object *row = NULL;
        const char *status = json_str(st, "status"), *cur = json_str(st, "currency");
        const char *d;

        if (!status || strcmp(status, "succeeded") != 0 || !json_str(st, "campaign"))
            continue;
        if (!json_object_object_get_ex(rows, pi, &row) || !json_str(row, "recordId")) {
            snprintf(detail, sizeof(detail), "paid %lld %s in Stripe, no record of it",
                     json_int(st, "amount"), cur ? cur : "");
            add(o, "paid_not_recorded", pi, st, NULL, NULL, detail);
            continue;
        }
        if (json_int(row, "amountCents") != json_int(st, "amount") ||
            strcasecmp(json_str(row, "currency") ?: "", cur ? cur : "") != 0) {
            snprintf(detail, sizeof(detail), "Stripe %lld %s, ours %lld %s",
                     json_int(st, "amount"), cur ? cur : "", json_int(row, "amountCents"),
                     json_str(row, "currency") ?: "");
            add(o, "amount_differs", pi, st, row, NULL, detail);
        }
        d = json_str(row, "disputeStatus");
        if (!(d && strcmp(d, "lost") == 0) &&
            json_int(row, "amountRefundedCents") != json_int(st, "refunded")) {
            snprintf(detail, sizeof(detail), "refunded in Stripe %lld, recorded %lld",
                     json_int(st, "refunded"), json_int(row, "amountRefundedCents"));
            add(o, "refund_differs", pi, st, row, NULL, detail);
        }
    }
}

/* Our side: the period's rows against Stripe and their grants. */
static void
rows_side(struct out *o, struct json_object *stripe, struct json_object *rows,
          struct json_object *grants, const char *since, const char *until)
{
    size_t i, n = json_object_array_length(grants);
    char detail[160];

    json_object_object_foreach(rows, pi, row) {
        struct json_object *st = NULL;
        const char *status, *rec = json_str(row, "recordId");
        int granted = 0, team_granted = 0;

        if (!rec || !in_period(json_str(row, "paidAt"), since, until))
            continue;
        json_object_object_get_ex(stripe, pi, &st);
        status = json_str(st, "status");
        if (!status || strcmp(status, "succeeded") != 0) {
            snprintf(detail, sizeof(detail), "recorded paid %lld, Stripe: %s",
                     json_int(row, "amountCents"),
                     status ? status : "not looked up");
            add(o, "payment_not_in_stripe", pi, st, row, NULL, detail);
            continue;
        }
        if (!kept(row))
            continue;
        for (i = 0; i < n; i++) {
            struct json_object *g = json_object_array_get_idx(grants, i);
            const char *gid = json_str(g, "grantId"), *src = json_str(g, "source");

            if (!active(g))
                continue;
            if (grant_of(g, row))
                granted = 1;
            else if (gid && src && strcmp(src, json_str(row, "campaignId") ?: "") == 0 &&
                     grant_len(rec) == strlen(gid) && strncmp(rec, gid, strlen(gid)) == 0)
                team_granted = 1;
        }
        if (!granted && (!strchr(rec, '#') || team_granted))
            add(o, "paid_not_granted", pi, st, row, json_str(row, "email"),
                "a payment kept, no active grant");
    }
}

/* The period's active grants against the payments that bought them. */
static void
grants_side(struct out *o, struct json_object *rows, struct json_object *grants,
            const char *since, const char *until)
{
    size_t i, n = json_object_array_length(grants);
    char detail[200];

    for (i = 0; i < n; i++) {
        struct json_object *g = json_object_array_get_idx(grants, i), *m;
        int found = 0, standing = 0;

        if (!active(g) || !in_period(json_str(g, "validFrom"), since, until))
            continue;
        json_object_object_foreach(rows, pi, row) {
            (void)pi;
            if (grant_of(g, row)) {
                found = 1;
                standing |= kept(row);
            }
        }
        if (found && standing)
            continue;
        snprintf(detail, sizeof(detail), "%s grant %s (%s)",
                 found ? "its payments are refunded, yet an active" : "no payment for the",
                 json_str(g, "grantId") ?: "", json_str(g, "productId") ?: "");
        add(o, found ? "grant_after_refund" : "grant_without_payment", NULL, NULL, NULL,
            json_str(g, "email"), detail);
        m = json_object_array_get_idx(o->list, json_object_array_length(o->list) - 1);
        json_add_str(m, "campaign", json_str(g, "source"));
        json_add_str(m, "record", json_str(g, "grantId"));
    }
}

struct json_object *
reconcile_compare(struct json_object *stripe, struct json_object *rows,
                  struct json_object *grants, const char *since, const char *until)
{
    struct out o = { json_object_new_array() };

    if (stripe && rows)
        stripe_side(&o, stripe, rows);
    if (stripe && rows && grants)
        rows_side(&o, stripe, rows, grants, since, until);
    if (rows && grants)
        grants_side(&o, rows, grants, since, until);
    return o.list;
}
