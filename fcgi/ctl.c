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
 *                        pending longer than SECONDS (default PURCHASE_HOLD_S, the session's
 *                        lifetime: 31 minutes), and the Stripe session expired (an open one
 *                        past its expiry is expired first) or never made.
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
#include "../lib/ssm.h"
#include "../lib/stripe.h"
#include "../lib/strparse.h"
#include "../campaign/mock.h"
#include "../campaign/purchase.h"
#include "../campaign/team.h"
#include "ctl.h"
#include "ctl_coupons.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/prodenthub"
#endif

#define WAIT_ACTIVE_S 120


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
    resolve_dates(items, ctx_clock(&c->cfg));
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
    log_set_role("ctl");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cfg_load(&c.cfg, path, required, err, sizeof(err)) != 0 ||
        ssm_resolve_cfg(&c.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "prodenthubctl: configuration error: %s\n", err);
        cfg_free(&c.cfg);
        return 1;
    }
    fmt_init(c.cfg.email_timezone);
    log_level_min = log_level_parse(c.cfg.log_level);
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
        long older = PURCHASE_HOLD_S;

        if (optind + 2 < argc && strcmp(argv[optind + 1], "--older-than") == 0 &&
            str_to_long(argv[optind + 2], 0, 86400 * 30, &older) != 0) {
            fprintf(stderr, "prodenthubctl: --older-than takes seconds\n");
            rc = 2;
        } else {
            rc = ctl_sweep_checkouts(&c, older);
        }
    } else if (strcmp(cmd, "expire-teams") == 0) {
        long older = c.cfg.team_pay_days * 86400;

        if (optind + 2 < argc && strcmp(argv[optind + 1], "--older-than") == 0 &&
            str_to_long(argv[optind + 2], 0, 86400 * 365, &older) != 0) {
            fprintf(stderr, "prodenthubctl: --older-than takes seconds\n");
            rc = 2;
        } else {
            rc = ctl_expire_teams(&c, older);
        }
    } else if (strcmp(cmd, "send-reminders") == 0) {
        rc = ctl_send_reminders(&c);
    } else if (strcmp(cmd, "import-results") == 0 && optind + 2 < argc) {
        rc = ctl_import_results(&c, argv[optind + 1], argv[optind + 2]);
    } else if (strcmp(cmd, "send-mail") == 0) {
        rc = ctl_send_mail(&c, optind + 1 < argc && strcmp(argv[optind + 1], "--loop") == 0);
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
