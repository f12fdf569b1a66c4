/*
 * prodenthubctl's table commands (ctl.h): create-tables, describe-tables, seed and
 * delete-tables from the definitions under SQLDIR, and ctl_scan, the one paginated Scan every
 * operator command that reads a whole table uses.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../lib/cfg.h"
#include "../lib/ctx.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "ctl.h"

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
int
ctl_create_tables(struct ctl *c, int argc, char **argv)
{
    (void)argc, (void)argv;
    return each_file(c, "tables", create_one);
}

int
ctl_describe_tables(struct ctl *c, int argc, char **argv)
{
    (void)argc, (void)argv;
    return each_file(c, "tables", describe_one);
}

int
ctl_seed(struct ctl *c, int argc, char **argv)
{
    (void)argc, (void)argv;
    return each_file(c, "seed", seed_one);
}

int
ctl_delete_tables(struct ctl *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--yes") != 0) {
        fprintf(stderr, "prodenthubctl: delete-tables deletes every table and its data; "
                "say --yes\n");
        return 2;
    }
    return each_file(c, "tables", delete_one);
}

int
ctl_scan(struct ddb *ddb, const char *table, ctl_scan_fn fn, void *arg)
{
    struct json_object *params, *out = NULL, *items, *last;
    struct app_error e;
    int rc = 0;
    size_t i;

    params = json_object_new_object();
    json_object_object_add(params, "TableName", json_object_new_string(table));
    json_object_object_add(params, "ConsistentRead", json_object_new_boolean(1));
    for (;;) {
        app_error_clear(&e);
        out = NULL;
        if (ddb_call(ddb, "Scan", params, &out, &e) != APP_OK) {
            fprintf(stderr, "prodenthubctl: scanning %s: %s\n", table, e.msg);
            rc = 1;
            break;
        }
        if (json_object_object_get_ex(out, "Items", &items)) {
            for (i = 0; i < json_object_array_length(items); i++) {
                struct json_object *raw = json_object_array_get_idx(items, i);
                struct json_object *plain = ddb_unmarshal_item(raw);

                if (fn(arg, plain, raw) != 0)
                    rc = 1;
                if (plain)
                    json_object_put(plain);
            }
        }
        if (!json_object_object_get_ex(out, "LastEvaluatedKey", &last) ||
            json_object_object_length(last) == 0)
            break;
        json_object_object_add(params, "ExclusiveStartKey", json_object_get(last));
        json_object_put(out);
    }
    if (out)
        json_object_put(out);
    json_object_put(params);
    return rc;
}

int
ctl_each_old(struct ctl *c, const char *table, const char *index, const char *status,
             const char *cutoff, ctl_old_fn fn, void *arg, int *done)
{
    struct json_object *last = NULL, *items, *params, *vals;
    int ranged = strcmp(index, CTL_BY_STATUS_CREATED) == 0, failed = 0, r;
    struct app_error e;
    size_t i;

    do {
        params = json_tokener_parse("{\"ExpressionAttributeNames\":{\"#st\":\"status\"},"
                                    "\"Limit\":100}");
        json_object_object_add(params, "TableName", json_object_new_string(table));
        json_object_object_add(params, "IndexName", json_object_new_string(index));
        json_object_object_add(params, "KeyConditionExpression", json_object_new_string(
            ranged ? "#st = :p AND createdAt < :c" : "#st = :p"));
        if (!ranged)
            json_object_object_add(params, "FilterExpression",
                                   json_object_new_string("createdAt < :c"));
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

            r = plain ? fn(c, arg, plain) : -1;
            *done += r > 0;
            failed += r < 0;
            if (plain)
                json_object_put(plain);
        }
        json_object_put(items);
    } while (last);
    return failed;
}
