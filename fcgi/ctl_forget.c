/*
 * prodenthubctl forget EMAIL: erase one person's data (docs/DATA.md "Retention and
 * erasure").  Every table that can hold personal data is scanned (the address is also in
 * places no index covers: team members' shares, outbox ids, counter keys, the SaaS profile)
 * and each item that mentions the address (any case) or its hash is
 *
 *   deleted      when the address is in its key (access grants, coupon counters and holds,
 *                mock exam guards), when its table keeps nothing worth keeping without the
 *                person (the outbox), and for the person's SaaS AI history and quotas;
 *   anonymised   otherwise (lib/erase.h): the address becomes a token, names "erased",
 *                free text removed; amounts, dates, statuses and Stripe ids stay.
 *
 * An anonymising update changes only the attributes that differ, each on the condition that
 * it still holds what was read: a purchase paid meanwhile keeps its payment (the attribute
 * that changed is not touched; one that was read and changed since makes the update fail,
 * said, and the command exits 1: run it again).  The S3 objects of the person (score
 * reports of their plans, SaaS uploads under their folder) are deleted.  A second run finds
 * nothing: every count is 0.
 *
 * prodenthubctl expire-statements: the retention of the hardship statement, which a TTL
 * cannot do (it deletes whole items, and the application is a record of a sale): the
 * statement is removed from every application decided (created: the percentage is computed
 * then) more than RETENTION_STATEMENT_DAYS ago.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../lib/cfg.h"
#include "../lib/ctx.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/erase.h"
#include "../lib/ids.h"
#include "../lib/s3.h"
#include "../saas/upload.h"
#include "../campaign/campaign.h"
#include "ctl.h"

/* The tables erasure visits; every other table (coupons, catalogue, mock exams and their
 * statistics) holds no personal data. */
static const struct ftable {
    const char *label;
    size_t off;                 /* of its name in struct cfg */
    const char *hash, *range;
    int drop;                   /* every item that mentions the person is deleted */
} ftables[] = {
    { "teams", offsetof(struct cfg, tbl_teams), "teamId", NULL, 0 },
    { "scholarships", offsetof(struct cfg, tbl_scholarships), "scholarshipId", NULL, 0 },
    { "coupon-usage", offsetof(struct cfg, tbl_coupon_usage), "usageId", NULL, 0 },
    { "discount-purchases", offsetof(struct cfg, tbl_discount_purchases), "purchaseId", NULL,
      0 },
    { "personalized-plans", offsetof(struct cfg, tbl_personalized_plans), "planId", NULL, 0 },
    { "mock-registrations", offsetof(struct cfg, tbl_mock_registrations), "registrationId",
      NULL, 0 },
    { "payments", offsetof(struct cfg, tbl_payments), "paymentIntentId", NULL, 0 },
    { "access-grants", offsetof(struct cfg, tbl_access_grants), "email", "grantId", 0 },
    { "email-outbox", offsetof(struct cfg, tbl_email_outbox), "outboxId", NULL, 1 },
    { "webhook-events", offsetof(struct cfg, tbl_webhook_events), "eventId", NULL, 0 },
    { "app", offsetof(struct cfg, tbl_app), "pk", "sk", 0 },
};

#define NFTABLES (sizeof(ftables) / sizeof(ftables[0]))

struct forget {
    struct ctl *c;
    struct erase_who who;
    const struct ftable *t;
    struct json_object *found;  /* raw items of the table that mention the person */
    struct json_object *pks;    /* app: the "USER#<sub>" of the person, as keys */
    struct json_object *prefixes; /* S3 prefixes to delete, as keys */
};

static const char *
table_name(const struct ctl *c, const struct ftable *t)
{
    return *(char *const *)((const char *)&c->cfg + t->off);
}

static const char *
raw_s(struct json_object *item, const char *name)
{
    struct json_object *av, *s;

    if (name && json_object_object_get_ex(item, name, &av) &&
        json_object_object_get_ex(av, "S", &s))
        return json_object_get_string(s);
    return NULL;
}

static int
collect(void *arg, struct json_object *plain, struct json_object *raw)
{
    struct forget *f = arg;
    const char *pk = raw_s(raw, "pk");

    (void)plain;
    if (erase_matches(&f->who, raw) ||
        (f->pks && pk && json_object_object_get_ex(f->pks, pk, NULL)))
        json_object_array_add(f->found, json_object_get(raw));
    return 0;
}

static struct json_object *
item_key(const struct ftable *t, struct json_object *item)
{
    struct json_object *k = json_object_new_object(), *av;

    if (json_object_object_get_ex(item, t->hash, &av))
        json_object_object_add(k, t->hash, json_object_get(av));
    if (t->range && json_object_object_get_ex(item, t->range, &av))
        json_object_object_add(k, t->range, json_object_get(av));
    return k;
}

/* Whether the item goes as a whole. */
static int
to_delete(struct forget *f, struct json_object *item)
{
    struct json_object *k = item_key(f->t, item);
    const char *sk = raw_s(item, "sk");
    int drop = f->t->drop || erase_matches(&f->who, k);

    if (f->t->off == offsetof(struct cfg, tbl_app) && sk &&
        (strncmp(sk, "AI#", 3) == 0 || strncmp(sk, "QUOTA#", 6) == 0))
        drop = 1;
    json_object_put(k);
    return drop;
}

/* UpdateItem of the attributes of new that differ from old, each on the condition that it
 * still is as read; 0 done, 1 failed (said). */
static int
update_diff(struct forget *f, struct json_object *old, struct json_object *new)
{
    struct json_object *names = json_object_new_object(), *vals = json_object_new_object();
    struct json_object *key = item_key(f->t, old), *ov;
    struct buf set, rem, cond;
    struct app_error e;
    char n[16], v[16];
    int i = 0, rc;

    buf_init(&set, 1 << 20);
    buf_init(&rem, 1 << 20);
    buf_init(&cond, 1 << 20);
    json_object_object_foreach(old, k, av) {
        struct json_object *nv = NULL;

        if (json_object_object_get_ex(new, k, &nv) && json_object_equal(nv, av))
            continue;
        snprintf(n, sizeof(n), "#a%d", i);
        snprintf(v, sizeof(v), ":o%d", i);
        json_object_object_add(names, n, json_object_new_string(k));
        json_object_object_add(vals, v, json_object_get(av));
        buf_printf(&cond, "%s%s = %s", cond.len ? " AND " : "", n, v);
        if (nv) {
            snprintf(v, sizeof(v), ":n%d", i);
            json_object_object_add(vals, v, json_object_get(nv));
            buf_printf(&set, "%s%s = %s", set.len ? ", " : "SET ", n, v);
        } else {
            buf_printf(&rem, "%s%s", rem.len ? ", " : "REMOVE ", n);
        }
        i++;
    }
    json_object_object_foreach(new, k2, av2) {
        if (json_object_object_get_ex(old, k2, &ov))
            continue;
        snprintf(n, sizeof(n), "#a%d", i);
        snprintf(v, sizeof(v), ":n%d", i);
        json_object_object_add(names, n, json_object_new_string(k2));
        json_object_object_add(vals, v, json_object_get(av2));
        buf_printf(&cond, "%sattribute_not_exists(%s)", cond.len ? " AND " : "", n);
        buf_printf(&set, "%s%s = %s", set.len ? ", " : "SET ", n, v);
        i++;
    }
    if (set.len && rem.len)
        buf_puts(&set, " ");
    buf_puts(&set, rem.len ? rem.data : "");
    app_error_clear(&e);
    rc = ddb_update_item(f->c->ddb, table_name(f->c, f->t), key, set.data, cond.data, names,
                         vals, NULL, NULL, &e);
    if (rc != APP_OK)
        fprintf(stderr, "prodenthubctl: forget: %s: an item %s: %s\n", f->t->label,
                rc == APP_ECONDITION ? "changed meanwhile (run forget again)" :
                "could not be updated", e.msg);
    json_object_put(key);
    json_object_put(names);
    json_object_put(vals);
    buf_free(&set);
    buf_free(&rem);
    buf_free(&cond);
    return rc == APP_OK ? 0 : 1;
}

/* What else the item leads to: the app rows of the person's sub, the S3 prefixes. */
static void
follow(struct forget *f, struct json_object *item)
{
    const char *pk = raw_s(item, "pk"), *plan = raw_s(item, "planId");
    char prefix[S3_KEY_MAX], folder[160];

    if (f->pks && pk && strncmp(pk, "USER#", 5) == 0 &&
        !json_object_object_get_ex(f->pks, pk, NULL)) {
        json_object_object_add(f->pks, pk, NULL);
        saas_upload_folder(pk + 5, folder, sizeof(folder));
        snprintf(prefix, sizeof(prefix), "uploads/%s/", folder);
        json_object_object_add(f->prefixes, prefix, NULL);
    }
    if (plan && f->t->off == offsetof(struct cfg, tbl_personalized_plans)) {
        snprintf(prefix, sizeof(prefix), "score-reports/%s/", plan);
        json_object_object_add(f->prefixes, prefix, NULL);
    }
}

/* One table: scan (twice for the app table: its rows of the person's sub carry no address),
 * then delete or anonymise what was found; counts printed. */
static int
forget_table(struct forget *f, const struct ftable *t)
{
    long deleted = 0, anonymised = 0;
    int rc = 0, pass, changed;
    size_t i;

    f->t = t;
    for (pass = 0; pass < (t->off == offsetof(struct cfg, tbl_app) ? 2 : 1); pass++) {
        if (f->found)
            json_object_put(f->found);
        f->found = json_object_new_array();
        if (ctl_scan(f->c->ddb, table_name(f->c, t), collect, f) != 0)
            return 1;
        for (i = 0; i < json_object_array_length(f->found); i++)
            follow(f, json_object_array_get_idx(f->found, i));
    }
    for (i = 0; i < json_object_array_length(f->found); i++) {
        struct json_object *item = json_object_array_get_idx(f->found, i), *new, *k;
        struct app_error e;

        if (to_delete(f, item)) {
            k = item_key(t, item);
            app_error_clear(&e);
            if (ddb_delete_item(f->c->ddb, table_name(f->c, t), k, NULL, NULL, NULL, &e) ==
                APP_OK) {
                deleted++;
            } else {
                fprintf(stderr, "prodenthubctl: forget: %s: %s\n", t->label, e.msg);
                rc = 1;
            }
            json_object_put(k);
            continue;
        }
        new = erase_anonymise(&f->who, item, &changed);
        if (!new) {
            rc = 1;
            continue;
        }
        if (changed) {
            if (update_diff(f, item, new) == 0)
                anonymised++;
            else
                rc = 1;
        }
        json_object_put(new);
    }
    printf("%-20s %ld deleted, %ld anonymised\n", t->label, deleted, anonymised);
    return rc;
}

int
ctl_forget(struct ctl *c, int argc, char **argv)
{
    struct forget f;
    struct s3 *s3;
    long n, objects = 0;
    int rc = 0;
    size_t i;

    (void)argc;
    memset(&f, 0, sizeof(f));
    f.c = c;
    if (erase_who_init(&f.who, argv[1]) != 0) {
        fprintf(stderr, "prodenthubctl: forget: %s is not an email address\n", argv[1]);
        return 2;
    }
    f.pks = json_object_new_object();
    f.prefixes = json_object_new_object();
    for (i = 0; i < NFTABLES; i++)
        rc |= forget_table(&f, &ftables[i]);
    s3 = s3_new(&c->cfg, c->creds);
    if (!s3 && json_object_object_length(f.prefixes) > 0) {
        fprintf(stderr, "prodenthubctl: forget: no S3 client: uploads not deleted\n");
        rc = 1;
    }
    json_object_object_foreach(f.prefixes, prefix, unused) {
        struct app_error e;

        (void)unused;
        if (!s3)
            break;
        app_error_clear(&e);
        if (s3_delete_prefix(s3, prefix, &n, &e) != APP_OK) {
            fprintf(stderr, "prodenthubctl: forget: S3 %s: %s\n", prefix, e.msg);
            rc = 1;
        }
        objects += n;
    }
    printf("%-20s %ld deleted\n", "s3-objects", objects);
    s3_free(s3);
    if (f.found)
        json_object_put(f.found);
    json_object_put(f.pks);
    json_object_put(f.prefixes);
    return rc ? 1 : 0;
}

/* Remove the statement of one application created before the cutoff: 1 removed, 0 none. */
static int
trim_one(struct ctl *c, void *arg, struct json_object *plain)
{
    const char *at = json_str(plain, "createdAt"), *id = json_str(plain, "scholarshipId");
    struct json_object *vals, *key;
    struct app_error e;
    int rc;

    (void)arg;
    if (!id || !at || !json_object_object_get_ex(plain, "statement", NULL))
        return 0;
    vals = json_object_new_object();
    json_object_object_add(vals, ":at", ddb_av_s(at));
    key = ddb_key_s("scholarshipId", id);
    app_error_clear(&e);
    rc = ddb_update_item(c->ddb, c->cfg.tbl_scholarships, key, "REMOVE statement",
                         "attribute_exists(statement) AND createdAt = :at", NULL, vals, NULL,
                         NULL, &e);
    json_object_put(key);
    json_object_put(vals);
    if (rc != APP_OK && rc != APP_ECONDITION)
        fprintf(stderr, "prodenthubctl: expire-statements: %s: %s\n", id, e.msg);
    return rc == APP_OK ? 1 : rc == APP_ECONDITION ? 0 : -1;
}

/*
 * Every status an application can hold (campaign/registry.c's payable and paid statuses, and
 * refunded), each a Query of the status index: the instance's role may Query, never Scan, so
 * the timer runs as the service does.
 */
int
ctl_expire_statements(struct ctl *c, int argc, char **argv)
{
    const struct campaign *k = campaign_find("scholarship-application");
    const char *statuses[3];
    long older = c->cfg.retention_statement_days * 86400L;
    char before[32];
    int removed = 0, failed = 0;
    size_t i;

    if (ctl_older_than(argc, argv, 86400L * 3650, &older) != 0)
        return 2;
    statuses[0] = k->payable_status;
    statuses[1] = k->paid_status;
    statuses[2] = "refunded";
    time_iso(ctx_clock(&c->cfg) - older, before, sizeof(before));
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        failed += ctl_each_old(c, c->cfg.tbl_scholarships, "status-index", statuses[i], before,
                               trim_one, NULL, &removed);
    printf("%d statements removed (applications before %s)\n", removed, before);
    return failed ? 1 : 0;
}
