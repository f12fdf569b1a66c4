/*
 * GET /v1/health: the process is alive and serving (no backend is touched, so load
 * balancers may poll it freely).
 * GET /v1/ready: the backends answer.  DynamoDB is required: without it nothing works, so
 * 503 names it.  memcached is reported but not required: the API answers from DynamoDB when
 * the cache is down, so a dead cache must not take every node out of rotation.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "handlers.h"

int
health_get(struct request *req)
{
    struct json_object *d = json_object_new_object();

    json_object_object_add(d, "status", json_object_new_string("ok"));
    json_object_object_add(d, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(d, "stage", json_object_new_string(req->cfg->stage));
    return reply_json(req, 200, d);
}

static double
ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Add {"ok":bool,"ms":n[,"error":msg]} under name; returns rc. */
static int
add_check(struct json_object *checks, const char *name, int rc, const struct timespec *t0,
          const struct app_error *e)
{
    struct json_object *c = json_object_new_object();

    json_object_object_add(c, "ok", json_object_new_boolean(rc == APP_OK));
    double took = ms_since(t0);
    char ms[32];

    snprintf(ms, sizeof(ms), "%.3f", took);
    json_object_object_add(c, "ms", json_object_new_double_s(took, ms));
    /* The slug only: the detail (hosts, ports) is for the log, not for the public. */
    if (rc != APP_OK)
        json_object_object_add(c, "error", json_object_new_string(app_error_info(rc)->slug));
    json_object_object_add(checks, name, c);
    return rc;
}

int
ready_get(struct request *req)
{
    struct json_object *checks = json_object_new_object(), *d;
    struct app_error ddb_err, mc_err;
    struct timespec t0;
    int ddb_rc;

    app_error_clear(&ddb_err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ddb_rc = req->worker && req->worker->ddb ?
             ddb_ping(req->worker->ddb, req->cfg->tbl_catalogue,
                      req->cfg->ready_timeout_ms, &ddb_err) :
             app_error_set(&ddb_err, APP_EUNAVAILABLE, "dynamodb: no client");
    add_check(checks, "dynamodb", ddb_rc, &t0, &ddb_err);

    app_error_clear(&mc_err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (add_check(checks, "memcached",
                  cache_ping(req->worker ? req->worker->cache : NULL, &mc_err),
                  &t0, &mc_err) != APP_OK)
        req_log(req, LL_DEBUG, "cache degraded: %s", mc_err.msg);

    if (ddb_rc != APP_OK) {
        struct json_object *failing = json_object_new_array();

        req_log(req, LL_WARN, "not ready: %s", ddb_err.msg);
        json_object_array_add(failing, json_object_new_string("dynamodb"));
        d = json_object_new_object();
        json_object_object_add(d, "failing", failing);
        json_object_object_add(d, "checks", checks);
        return reply_error(req, APP_EUNAVAILABLE, "dynamodb unavailable", d);
    }
    d = json_object_new_object();
    json_object_object_add(d, "status", json_object_new_string("ready"));
    json_object_object_add(d, "checks", checks);
    return reply_json(req, 200, d);
}
