/*
 * prodenthubctl: the operator's tool, on the same configuration and DynamoDB client as the
 * daemon.
 *
 *   prodenthubctl [-c FILE] [-s SQLDIR] create-tables     create every table of SQLDIR/tables
 *                                                         (idempotent), wait until ACTIVE,
 *                                                         enable TTL where declared
 *   prodenthubctl [-c FILE] [-s SQLDIR] describe-tables   status and item count of each
 *   prodenthubctl [-c FILE] [-s SQLDIR] seed              load the SQLDIR/seed files
 *   prodenthubctl [-c FILE] [-s SQLDIR] delete-tables --yes
 *   prodenthubctl [-c FILE] coupon-disable CODE          refuse the coupon from now on
 *   prodenthubctl [-c FILE] coupon-enable CODE           (both drop it from the cache at once)
 *   prodenthubctl [-c FILE] coupon-check                 list every coupon record the workers
 *                                                        would refuse as misconfigured, or
 *                                                        that names a plan not in the
 *                                                        catalogue; exit 1 when any does
 *   prodenthubctl [-c FILE] sweep-checkouts [--older-than SECONDS]
 *                        release the coupon uses of purchases whose checkout was abandoned:
 *                        pending longer than SECONDS (default 3900), and the Stripe session
 *                        expired (an open one past its expiry is expired first) or never made.
 *                        Run it from a timer; it is safe to run twice at once.
 *   prodenthubctl [-c FILE] expire-teams [--older-than SECONDS]
 *                        teams not fully paid TEAM_PAY_DAYS after creation (or SECONDS) are
 *                        expired and their paid shares refunded through Stripe (the refunds'
 *                        webhooks then mark the shares refunded).  Safe to run twice at once.
 *   prodenthubctl [-c FILE] send-reminders
 *                        queue the "mock exam reminder" (with its .ics) for every confirmed
 *                        registration of exams starting within MOCK_REMINDER_LEAD_HOURS; each
 *                        registration is reminded once however often or concurrently it runs
 *   prodenthubctl [-c FILE] import-results EXAM FILE.csv
 *                        results of a mock exam from CSV: a header row
 *                        email,totalScore,maxScore,passed[,<section name>...], one row per
 *                        candidate (passed: true/false/yes/no/1/0); rows that fail are listed
 *   prodenthubctl [-c FILE] send-mail [--loop]
 *                        send the emails due in the outbox (lib/outbox.h), then exit; with
 *                        --loop keep polling every OUTBOX_POLL_MS until SIGTERM (the
 *                        prodenthub-mailer service).  Any number may run at once.
 *
 * SQLDIR defaults to PKGDATADIR/sql (installed) and can be set with PRODENTHUB_SQL_DIR.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/coupon.h"
#include "../lib/creds.h"
#include "../lib/ctx.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/fmt.h"
#include "../lib/log.h"
#include "../lib/mailer.h"
#include "../lib/outbox.h"
#include "../lib/reservation.h"
#include "../lib/stripe.h"
#include "../lib/strparse.h"
#include "../campaign/mock.h"
#include "../campaign/team.h"
#include "ctl_coupons.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/prodenthub"
#endif

#define WAIT_ACTIVE_S 120

struct ctl {
    struct cfg cfg;
    struct creds_provider *creds;
    struct ddb *ddb;
    const char *sql;
};

/* The context the campaign layer runs in, on the tool's clients. */
static void
ctl_ctx(struct ctl *c, struct stripe *st, const char *command, struct ctx *out)
{
    memset(out, 0, sizeof(*out));
    out->cfg = &c->cfg;
    out->ddb = c->ddb;
    out->stripe = st;
    out->now = ctx_clock(&c->cfg);
    out->request_id = "-";
    out->route = command;
}

/* The .json files of dir, sorted; returns the count, fills *out (free each and the list). */
static int
list_json(const char *dir, struct dirent ***out)
{
    struct dirent **all;
    int n, i, k = 0;

    n = scandir(dir, &all, NULL, alphasort);
    if (n < 0)
        return -1;
    for (i = 0; i < n; i++) {
        size_t len = strlen(all[i]->d_name);

        if (len > 5 && strcmp(all[i]->d_name + len - 5, ".json") == 0)
            all[k++] = all[i];
        else
            free(all[i]);
    }
    *out = all;
    return k;
}

/* "${NAME}" → the setting NAME; other strings unchanged.  NULL if NAME is unknown. */
static const char *
resolve_setting(struct ctl *c, const char *v)
{
    char name[128];
    size_t n = strlen(v);

    if (n < 4 || strncmp(v, "${", 2) != 0 || v[n - 1] != '}')
        return v;
    snprintf(name, sizeof(name), "%.*s", (int)(n - 3), v + 2);
    return cfg_string(&c->cfg, name);
}

/* Replace "${now+7d}" / "${now-3d}" strings anywhere in v with ISO 8601 times. */
static void
resolve_dates(struct json_object *v, time_t now)
{
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, k, child) {
            const char *s = json_object_get_string(child);
            long days;
            char sign, ts[64];
            struct tm tm;
            time_t t;

            if (json_object_is_type(child, json_type_string) &&
                sscanf(s, "${now%c%ldd}", &sign, &days) == 2 && (sign == '+' || sign == '-')) {
                t = now + (sign == '+' ? days : -days) * 86400;
                gmtime_r(&t, &tm);
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
                json_object_object_add(v, k, json_object_new_string(ts));
            } else {
                resolve_dates(child, now);
            }
        }
    } else if (json_object_is_type(v, json_type_array)) {
        size_t i;

        for (i = 0; i < json_object_array_length(v); i++)
            resolve_dates(json_object_array_get_idx(v, i), now);
    }
}

static int
table_status(struct ctl *c, const char *table, char *status, size_t len, long *items)
{
    struct json_object *req = json_object_new_object(), *out = NULL, *t, *v, *gsis;
    struct app_error e;
    int rc;
    size_t i;

    app_error_clear(&e);
    json_object_object_add(req, "TableName", json_object_new_string(table));
    rc = ddb_call(c->ddb, "DescribeTable", req, &out, &e);
    json_object_put(req);
    if (rc != APP_OK) {
        snprintf(status, len, "%.*s", (int)(len - 1),
                 strstr(e.msg, "ResourceNotFound") ? "MISSING" : e.msg);
        if (out)
            json_object_put(out);
        return rc;
    }
    json_object_object_get_ex(out, "Table", &t);
    json_object_object_get_ex(t, "TableStatus", &v);
    snprintf(status, len, "%s", json_object_get_string(v));
    *items = json_object_object_get_ex(t, "ItemCount", &v) ? json_object_get_int64(v) : 0;
    if (json_object_object_get_ex(t, "GlobalSecondaryIndexes", &gsis)) {
        for (i = 0; i < json_object_array_length(gsis); i++) {
            struct json_object *g = json_object_array_get_idx(gsis, i);

            if (json_object_object_get_ex(g, "IndexStatus", &v) &&
                strcmp(json_object_get_string(v), "ACTIVE") != 0)
                snprintf(status, len, "%s", "INDEX_CREATING");
        }
    }
    json_object_put(out);
    return APP_OK;
}

static int
enable_ttl(struct ctl *c, const char *table, struct json_object *spec)
{
    struct json_object *req = json_object_new_object(), *out = NULL, *d, *s;
    struct app_error e;
    int rc;

    app_error_clear(&e);
    json_object_object_add(req, "TableName", json_object_new_string(table));
    rc = ddb_call(c->ddb, "DescribeTimeToLive", req, &out, &e);
    if (rc == APP_OK && json_object_object_get_ex(out, "TimeToLiveDescription", &d) &&
        json_object_object_get_ex(d, "TimeToLiveStatus", &s) &&
        strncmp(json_object_get_string(s), "ENABL", 5) == 0) {
        json_object_put(out);
        json_object_put(req);
        return APP_OK;
    }
    if (out)
        json_object_put(out);
    out = NULL;
    json_object_object_add(req, "TimeToLiveSpecification", json_object_get(spec));
    rc = ddb_call(c->ddb, "UpdateTimeToLive", req, &out, &e);
    json_object_put(req);
    if (out)
        json_object_put(out);
    if (rc != APP_OK)
        fprintf(stderr, "%s: enabling TTL failed: %s\n", table, e.msg);
    return rc;
}

static int
create_one(struct ctl *c, const char *path)
{
    struct json_object *def = json_object_from_file(path), *ttl = NULL, *out = NULL, *name;
    const char *table;
    char status[128];
    struct app_error e;
    long items, waited;
    int rc;

    if (!def || !json_object_object_get_ex(def, "TableName", &name)) {
        fprintf(stderr, "%s: not a table definition\n", path);
        if (def)
            json_object_put(def);
        return -1;
    }
    table = resolve_setting(c, json_object_get_string(name));
    if (!table || !*table) {
        fprintf(stderr, "%s: unknown table setting %s\n", path, json_object_get_string(name));
        json_object_put(def);
        return -1;
    }
    json_object_object_add(def, "TableName", json_object_new_string(table));
    json_object_object_get_ex(def, "TableName", &name);
    table = json_object_get_string(name);
    if (json_object_object_get_ex(def, "TimeToLiveSpecification", &ttl))
        json_object_get(ttl);
    /* Keys that are ours, not CreateTable's: x-* notes and the TTL done separately. */
    json_object_object_del(def, "TimeToLiveSpecification");
    json_object_object_del(def, "x-purpose");

    app_error_clear(&e);
    rc = ddb_call(c->ddb, "CreateTable", def, &out, &e);
    if (out)
        json_object_put(out);
    if (rc != APP_OK && !strstr(e.msg, "ResourceInUseException")) {
        fprintf(stderr, "%s: create failed: %s\n", table, e.msg);
        goto done;
    }
    printf("%-40s %s\n", table, rc == APP_OK ? "created" : "exists");
    rc = APP_OK;
    for (waited = 0; waited < WAIT_ACTIVE_S * 5; waited++) {
        if (table_status(c, table, status, sizeof(status), &items) == APP_OK &&
            strcmp(status, "ACTIVE") == 0)
            break;
        usleep(200000);
    }
    if (strcmp(status, "ACTIVE") != 0) {
        fprintf(stderr, "%s: not ACTIVE after %d s (%s)\n", table, WAIT_ACTIVE_S, status);
        rc = -1;
        goto done;
    }
    if (ttl)
        rc = enable_ttl(c, table, ttl);
done:
    if (ttl)
        json_object_put(ttl);
    json_object_put(def);
    return rc;
}

/* Run fn on every file of SQLDIR/sub; non-zero if any failed. */
static int
each_file(struct ctl *c, const char *sub, int (*fn)(struct ctl *, const char *))
{
    struct dirent **files;
    char dir[1024], path[2048];
    int n, i, failed = 0;

    snprintf(dir, sizeof(dir), "%s/%s", c->sql, sub);
    n = list_json(dir, &files);
    if (n < 0) {
        fprintf(stderr, "cannot read %s\n", dir);
        return 1;
    }
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]->d_name);
        if (fn(c, path) != 0)
            failed = 1;
        free(files[i]);
    }
    free(files);
    return failed;
}

static int
describe_one(struct ctl *c, const char *path)
{
    struct json_object *def = json_object_from_file(path), *name;
    const char *table;
    char status[128];
    long items = 0;

    if (!def || !json_object_object_get_ex(def, "TableName", &name)) {
        if (def)
            json_object_put(def);
        return -1;
    }
    table = resolve_setting(c, json_object_get_string(name));
    table_status(c, table ? table : "?", status, sizeof(status), &items);
    printf("%-40s %-16s %ld items\n", table ? table : "?", status, items);
    json_object_put(def);
    return strcmp(status, "ACTIVE") == 0 ? 0 : -1;
}

static int
delete_one(struct ctl *c, const char *path)
{
    struct json_object *def = json_object_from_file(path), *name, *req, *out = NULL;
    const char *table;
    struct app_error e;
    int rc;

    if (!def || !json_object_object_get_ex(def, "TableName", &name)) {
        if (def)
            json_object_put(def);
        return -1;
    }
    table = resolve_setting(c, json_object_get_string(name));
    req = json_object_new_object();
    json_object_object_add(req, "TableName", json_object_new_string(table ? table : ""));
    app_error_clear(&e);
    rc = ddb_call(c->ddb, "DeleteTable", req, &out, &e);
    printf("%-40s %s\n", table ? table : "?", rc == APP_OK ? "deleted" : e.msg);
    if (out)
        json_object_put(out);
    json_object_put(req);
    json_object_put(def);
    return rc == APP_OK || strstr(e.msg, "ResourceNotFound") ? 0 : -1;
}

static int
seed_one(struct ctl *c, const char *path)
{
    struct json_object *doc = json_object_from_file(path), *t, *items, *reqs;
    const char *table;
    struct app_error e;
    size_t i, n;
    int rc;

    if (!doc || !json_object_object_get_ex(doc, "table", &t) ||
        !json_object_object_get_ex(doc, "items", &items)) {
        fprintf(stderr, "%s: expected {\"table\":..., \"items\":[...]}\n", path);
        if (doc)
            json_object_put(doc);
        return -1;
    }
    table = cfg_string(&c->cfg, json_object_get_string(t));
    if (!table) {
        fprintf(stderr, "%s: unknown table setting %s\n", path, json_object_get_string(t));
        json_object_put(doc);
        return -1;
    }
    resolve_dates(items, time(NULL));
    reqs = json_object_new_array();
    n = json_object_array_length(items);
    for (i = 0; i < n; i++) {
        struct json_object *put = json_object_new_object(), *w = json_object_new_object();

        json_object_object_add(put, "Item",
                               ddb_marshal_item(json_object_array_get_idx(items, i)));
        json_object_object_add(w, "PutRequest", put);
        json_object_array_add(reqs, w);
    }
    app_error_clear(&e);
    rc = ddb_batch_write(c->ddb, table, reqs, &e);
    printf("%-40s %s\n", table, rc == APP_OK ? "seeded" : e.msg);
    if (rc == APP_OK)
        printf("%-40s %zu items\n", "", n);
    json_object_put(reqs);
    json_object_put(doc);
    return rc;
}

/* Set a coupon's status (it must exist), then drop it from the cache so every worker sees
 * the change on its next lookup. */
static int
coupon_status(struct ctl *c, const char *code_in, const char *status)
{
    struct json_object *key = json_object_new_object(), *vals = json_object_new_object();
    struct json_object *names = json_object_new_object();
    char code[COUPON_CODE_MAX + 1];
    struct cache *cache;
    struct app_error e;
    int rc;

    if (coupon_normalize_code(code_in, code, sizeof(code)) != 0) {
        fprintf(stderr, "prodenthubctl: '%s' is not a coupon code\n", code_in);
        rc = 2;
        goto done;
    }
    json_object_object_add(key, "couponCode", ddb_av_s(code));
    json_object_object_add(vals, ":s", ddb_av_s(status));
    json_object_object_add(names, "#s", json_object_new_string("status"));
    app_error_clear(&e);
    rc = ddb_update_item(c->ddb, c->cfg.tbl_coupons, key, "SET #s = :s",
                         "attribute_exists(couponCode)", names, vals, NULL, NULL, &e);
    if (rc == APP_ECONDITION) {
        fprintf(stderr, "prodenthubctl: no coupon %s\n", code);
        rc = 1;
        goto done;
    }
    if (rc != APP_OK) {
        fprintf(stderr, "prodenthubctl: %s\n", e.msg);
        rc = 1;
        goto done;
    }
    cache = cache_new(&c->cfg);
    cache_delete(cache, "coupon", code);
    cache_free(cache);
    printf("%s %s\n", code, status);
done:
    json_object_put(key);
    json_object_put(vals);
    json_object_put(names);
    return rc;
}

/* Decide for one pending purchase (plain item): 1 released, 0 left alone, -1 error. */
static int
sweep_one(struct ctl *c, struct stripe *st, struct json_object *p, time_t now)
{
    const char *pid = json_str(p, "purchaseId"), *sid = json_str(p, "stripeSessionId");
    const char *code = json_str(p, "couponCode"), *email = json_str(p, "email"), *state;
    struct json_object *session = NULL, *v;
    struct reservation r;
    struct app_error e;
    char path[160], key[64], ts[32];
    int rc;

    if (!pid || !id_valid(pid, "pur_") || !email)
        return -1;
    app_error_clear(&e);
    if (sid) {
        snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", sid);
        rc = stripe_get(st, path, NULL, &session, &e);
        if (rc == APP_ENOTFOUND) {
            /* Stripe has no such session: nobody can pay it; release. */
            if (session)
                json_object_put(session);
            session = json_tokener_parse("{\"status\":\"expired\"}");
            rc = APP_OK;
        }
        if (rc != APP_OK) {
            fprintf(stderr, "%s: cannot read session: %s\n", pid, e.msg);
            if (session)
                json_object_put(session);
            return -1;
        }
        state = json_str(session, "status");
        if (state && strcmp(state, "open") == 0 &&
            json_object_object_get_ex(session, "expires_at", &v) &&
            json_object_get_int64(v) < (int64_t)now) {
            /* Past its time but not yet expired by Stripe: expire it, so it cannot be paid
             * after its reservation is gone. */
            snprintf(path, sizeof(path), "/v1/checkout/sessions/%s/expire", sid);
            snprintf(key, sizeof(key), "expire-%s", pid);
            json_object_put(session);
            session = NULL;
            struct stripe_params *none = stripe_params_new();

            rc = stripe_post(st, path, none, key, &session, &e);
            stripe_params_free(none);
            if (rc != APP_OK) {
                fprintf(stderr, "%s: cannot expire session: %s\n", pid, e.msg);
                if (session)
                    json_object_put(session);
                return -1;
            }
            state = json_str(session, "status");
        }
        rc = state && strcmp(state, "expired") == 0;
        json_object_put(session);
        if (!rc)
            return 0;               /* open, or paid: the webhook will settle it */
    }
    r.purchase_id = pid;
    r.code = code ? code : "";
    r.email = email;
    r.usage_limit = 0;
    r.per_user_limit = 0;
    time_iso(now, ts, sizeof(ts));
    rc = reservation_release(c->ddb, &c->cfg, &r, "expired", ts, &e);
    if (rc == APP_ECONDITION)
        return 0;                   /* paid or released meanwhile */
    if (rc != APP_OK) {
        fprintf(stderr, "%s: release failed: %s\n", pid, e.msg);
        return -1;
    }
    printf("%s released%s%s\n", pid, code ? " coupon " : "", code ? code : "");
    return 1;
}

/*
 * Call fn on every item of table whose status-createdAt-index entry has status and was created
 * before cutoff, page by page.  fn returns 1 (done something), 0 (nothing to do) or -1.
 * Returns the number of -1s plus query failures; *done counts the 1s.
 */
static int
each_old(struct ctl *c, const char *table, const char *status, const char *cutoff,
         int (*fn)(struct ctl *, void *, struct json_object *), void *ctx, int *done)
{
    struct json_object *last = NULL, *items, *params, *vals;
    struct app_error e;
    int failed = 0, r;
    size_t i;

    do {
        params = json_tokener_parse("{\"IndexName\":\"status-createdAt-index\","
                                    "\"KeyConditionExpression\":\"#st = :p AND createdAt < :c\","
                                    "\"ExpressionAttributeNames\":{\"#st\":\"status\"},"
                                    "\"Limit\":100}");
        json_object_object_add(params, "TableName", json_object_new_string(table));
        vals = json_object_new_object();
        json_object_object_add(vals, ":p", ddb_av_s(status));
        json_object_object_add(vals, ":c", ddb_av_s(cutoff));
        json_object_object_add(params, "ExpressionAttributeValues", vals);
        if (last)
            json_object_object_add(params, "ExclusiveStartKey", last);
        app_error_clear(&e);
        if (ddb_query(c->ddb, params, &items, &last, &e) != APP_OK) {
            fprintf(stderr, "prodenthubctl: %s\n", e.msg);
            json_object_put(params);
            return failed + 1;
        }
        json_object_put(params);
        for (i = 0; i < json_object_array_length(items); i++) {
            struct json_object *plain = ddb_unmarshal_item(json_object_array_get_idx(items, i));

            r = plain ? fn(c, ctx, plain) : -1;
            *done += r > 0;
            failed += r < 0;
            if (plain)
                json_object_put(plain);
        }
        json_object_put(items);
    } while (last);
    return failed;
}

static int
sweep_cb(struct ctl *c, void *st, struct json_object *p)
{
    return sweep_one(c, st, p, time(NULL));
}

static int
sweep_checkouts(struct ctl *c, long older_than)
{
    struct stripe *st = stripe_new(&c->cfg);
    char cutoff[32];
    int released = 0, failed;

    if (!st)
        return 1;
    time_iso(time(NULL) - older_than, cutoff, sizeof(cutoff));
    failed = each_old(c, c->cfg.tbl_discount_purchases, "pending", cutoff, sweep_cb, st,
                      &released);
    stripe_free(st);
    printf("released %d, failed %d\n", released, failed);
    return failed ? 1 : 0;
}

static int
expire_cb(struct ctl *c, void *st, struct json_object *team)
{
    struct ctx x;
    struct app_error e;
    int rc;

    ctl_ctx(c, st, "expire-teams", &x);
    app_error_clear(&e);
    rc = team_expire(&x, team, &e);
    if (rc < 0)
        fprintf(stderr, "prodenthubctl: team %s: %s\n", json_str(team, "teamId"), e.msg);
    return rc;
}

/* Teams not fully paid in time: expired, and the shares paid so far refunded. */
static int
expire_teams(struct ctl *c, long older_than)
{
    struct stripe *st = stripe_new(&c->cfg);
    char cutoff[32];
    int expired = 0, failed;

    if (!st)
        return 1;
    time_iso(time(NULL) - older_than, cutoff, sizeof(cutoff));
    failed = each_old(c, c->cfg.tbl_teams, "pending", cutoff, expire_cb, st, &expired);
    failed += each_old(c, c->cfg.tbl_teams, "partially_paid", cutoff, expire_cb, st, &expired);
    /* Expired teams whose refunds failed last time. */
    failed += each_old(c, c->cfg.tbl_teams, "expired", cutoff, expire_cb, st, &expired);
    stripe_free(st);
    printf("{\"expired\":%d,\"failed\":%d}\n", expired, failed);
    return failed ? 1 : 0;
}

static int
send_reminders(struct ctl *c)
{
    struct app_error e;
    int queued = 0, rc;

    app_error_clear(&e);
    rc = mock_send_reminders(c->ddb, &c->cfg, time(NULL), &queued, &e);
    if (rc != APP_OK)
        fprintf(stderr, "prodenthubctl: %s\n", e.msg);
    printf("{\"queued\":%d}\n", queued);
    return rc == APP_OK ? 0 : 1;
}

/* Split one CSV line in place on commas (no quoting: names and numbers only). */
static size_t
csv_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line, *q;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        f[n++] = p;
        q = strchr(p, ',');
        if (!q)
            break;
        *q = '\0';
        p = q + 1;
    }
    return n;
}

static int
import_results(struct ctl *c, const char *exam, const char *path)
{
    char head[4096], line[4096], *h[40], *f[40];
    struct json_object *row, *secs;
    struct app_error e;
    size_t nh, nf, i;
    int lineno = 1, ok = 0, bad = 0;
    long v;
    FILE *in = fopen(path, "r");

    if (!in) {
        fprintf(stderr, "prodenthubctl: %s: cannot open\n", path);
        return 1;
    }
    nh = fgets(head, sizeof(head), in) ? csv_fields(head, h, 40) : 0;
    if (nh < 4 || strcmp(h[0], "email") || strcmp(h[1], "totalScore") || strcmp(h[2], "maxScore") ||
        strcmp(h[3], "passed")) {
        fprintf(stderr, "prodenthubctl: %s: the header must be "
                "email,totalScore,maxScore,passed[,section...]\n", path);
        fclose(in);
        return 1;
    }
    while (fgets(line, sizeof(line), in)) {
        lineno++;
        if (line[strspn(line, " \r\n")] == '\0')
            continue;
        nf = csv_fields(line, f, 40);
        row = json_object_new_object();
        secs = json_object_new_object();
        json_object_object_add(row, "email", json_object_new_string(f[0]));
        for (i = 1; i < nf && i < nh; i++) {
            if (i == 3) {
                json_object_object_add(row, "passed", json_object_new_boolean(
                    !strcmp(f[i], "true") || !strcmp(f[i], "yes") || !strcmp(f[i], "1")));
                if (strcmp(f[i], "true") && strcmp(f[i], "yes") && strcmp(f[i], "1") &&
                    strcmp(f[i], "false") && strcmp(f[i], "no") && strcmp(f[i], "0"))
                    json_object_object_add(row, "passed", json_object_new_string(f[i]));
            } else if (str_to_long(f[i], 0, 100000, &v) == 0) {
                json_object_object_add(i < 4 ? row : secs, h[i], json_object_new_int64(v));
            } else {
                json_object_object_add(i < 4 ? row : secs, h[i], json_object_new_string(f[i]));
            }
        }
        json_object_object_add(row, "sections", secs);
        app_error_clear(&e);
        if (nf != nh)
            app_error_set(&e, APP_EVALIDATION, "%zu fields, the header has %zu", nf, nh);
        else
            mock_result_apply(c->ddb, &c->cfg, exam, row, &e);
        if (e.code) {
            fprintf(stderr, "%s:%d: %s\n", path, lineno, e.msg);
            bad++;
        } else {
            ok++;
        }
        json_object_put(row);
    }
    fclose(in);
    printf("{\"imported\":%d,\"failed\":%d}\n", ok, bad);
    return bad ? 1 : 0;
}

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static int
send_mail(struct ctl *c, int loop)
{
    struct outbox_stats st, total;
    struct sigaction sa;
    struct app_error e;
    struct timespec ts;
    struct mailer *ml;
    char host[200], me[256];
    int rc = 0, worked;

    ml = mailer_new(&c->cfg, c->creds);
    if (!ml) {
        fprintf(stderr, "prodenthubctl: cannot create the mailer\n");
        return 1;
    }
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(me, sizeof(me), "%s:%ld", host, (long)getpid());
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;           /* no SA_RESTART: the poll sleep ends at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    memset(&total, 0, sizeof(total));
    if (loop)
        log_msg(LL_INFO, "mailer: polling the outbox every %ld ms via %s",
                c->cfg.outbox_poll_ms, c->cfg.email_transport);
    while (!stopping) {
        app_error_clear(&e);
        rc = outbox_drain(c->ddb, &c->cfg, ml, me, 25, &st, &e);
        if (rc != APP_OK) {
            log_msg(LL_WARN, "mailer: cannot read the outbox: %s", e.msg);
            if (!loop)
                break;
        }
        total.sent += st.sent;
        total.retry += st.retry;
        total.failed += st.failed;
        total.lost_race += st.lost_race;
        worked = st.sent + st.retry + st.failed + st.lost_race > 0;
        if (!loop && !worked)
            break;
        if (loop && !worked) {
            ts.tv_sec = c->cfg.outbox_poll_ms / 1000;
            ts.tv_nsec = (c->cfg.outbox_poll_ms % 1000) * 1000000L;
            while (!stopping && nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
    }
    if (!loop)
        printf("{\"sent\":%d,\"retry\":%d,\"failed\":%d,\"lostRace\":%d}\n", total.sent,
               total.retry, total.failed, total.lost_race);
    mailer_free(ml);
    return rc == APP_OK ? 0 : 1;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: prodenthubctl [-c FILE] [-s SQLDIR] create-tables | describe-tables |"
            " seed | delete-tables --yes\n"
            "       prodenthubctl [-c FILE] coupon-disable CODE | coupon-enable CODE |"
            " coupon-check\n"
            "       prodenthubctl [-c FILE] sweep-checkouts [--older-than SECONDS]\n"
            "       prodenthubctl [-c FILE] expire-teams [--older-than SECONDS]\n"
            "       prodenthubctl [-c FILE] send-reminders | import-results EXAM FILE.csv\n"
            "       prodenthubctl [-c FILE] send-mail [--loop]\n");
}

int
main(int argc, char **argv)
{
    static struct ctl c;
    const char *path = getenv("PRODENTHUB_CONFIG"), *cmd;
    int required = path && *path, opt, rc;
    char err[512];

    c.sql = getenv("PRODENTHUB_SQL_DIR");
    if (!c.sql || !*c.sql)
        c.sql = PKGDATADIR "/sql";
    for (;;) {
        opt = getopt(argc, argv, "+c:s:h");
        if (opt == -1)
            break;
        if (opt == 'c') {
            path = optarg;
            required = 1;
        } else if (opt == 's') {
            c.sql = optarg;
        } else {
            usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    cmd = argv[optind];
    if (!required)
        path = SYSCONFDIR "/prodenthub/prodenthub.conf";
    if (cfg_load(&c.cfg, path, required, err, sizeof(err)) != 0) {
        fprintf(stderr, "prodenthubctl: configuration error: %s\n", err);
        return 1;
    }
    log_set_role("ctl");
    fmt_init(c.cfg.email_timezone);
    log_level_min = log_level_parse(c.cfg.log_level);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c.creds = creds_new(&c.cfg);
    c.ddb = ddb_new(&c.cfg, c.creds);
    if (!c.ddb) {
        fprintf(stderr, "prodenthubctl: cannot create the DynamoDB client\n");
        return 1;
    }
    if (strcmp(cmd, "create-tables") == 0) {
        rc = each_file(&c, "tables", create_one);
    } else if (strcmp(cmd, "describe-tables") == 0) {
        rc = each_file(&c, "tables", describe_one);
    } else if (strcmp(cmd, "seed") == 0) {
        rc = each_file(&c, "seed", seed_one);
    } else if ((strcmp(cmd, "coupon-disable") == 0 || strcmp(cmd, "coupon-enable") == 0) &&
               optind + 1 < argc) {
        rc = coupon_status(&c, argv[optind + 1],
                           strcmp(cmd, "coupon-disable") == 0 ? "inactive" : "active");
    } else if (strcmp(cmd, "coupon-check") == 0) {
        rc = ctl_coupon_check(&c.cfg, c.ddb);
    } else if (strcmp(cmd, "sweep-checkouts") == 0) {
        long older = 3900;

        if (optind + 2 < argc && strcmp(argv[optind + 1], "--older-than") == 0 &&
            str_to_long(argv[optind + 2], 0, 86400 * 30, &older) != 0) {
            fprintf(stderr, "prodenthubctl: --older-than takes seconds\n");
            rc = 2;
        } else {
            rc = sweep_checkouts(&c, older);
        }
    } else if (strcmp(cmd, "expire-teams") == 0) {
        long older = c.cfg.team_pay_days * 86400;

        if (optind + 2 < argc && strcmp(argv[optind + 1], "--older-than") == 0 &&
            str_to_long(argv[optind + 2], 0, 86400 * 365, &older) != 0) {
            fprintf(stderr, "prodenthubctl: --older-than takes seconds\n");
            rc = 2;
        } else {
            rc = expire_teams(&c, older);
        }
    } else if (strcmp(cmd, "send-reminders") == 0) {
        rc = send_reminders(&c);
    } else if (strcmp(cmd, "import-results") == 0 && optind + 2 < argc) {
        rc = import_results(&c, argv[optind + 1], argv[optind + 2]);
    } else if (strcmp(cmd, "send-mail") == 0) {
        rc = send_mail(&c, optind + 1 < argc && strcmp(argv[optind + 1], "--loop") == 0);
    } else if (strcmp(cmd, "delete-tables") == 0) {
        if (optind + 1 >= argc || strcmp(argv[optind + 1], "--yes") != 0) {
            fprintf(stderr, "prodenthubctl: delete-tables deletes every table and its data; "
                    "say --yes\n");
            rc = 2;
        } else {
            rc = each_file(&c, "tables", delete_one);
        }
    } else {
        usage(stderr);
        rc = 2;
    }
    ddb_free(c.ddb);
    creds_free(c.creds);
    cfg_free(&c.cfg);
    curl_global_cleanup();
    return rc;
}
