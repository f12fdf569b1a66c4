/*
 * GET /v1/health: the process is alive and serving (no backend is touched, so load
 * balancers may poll it freely).
 * GET /v1/ready: the backends answer.  DynamoDB is required: without it nothing works, so
 * 503 names it.  memcached is reported but not required: the API answers from DynamoDB when
 * the cache is down, so a dead cache must not take every node out of rotation.  The result
 * is kept for about a second per worker (READY_CACHE_MS, below).
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

/*
 * A worker's last readiness result, answered again for READY_CACHE_MS: a flood of probes
 * (load balancers, scripts, an attacker) costs at most one DescribeTable and one memcached
 * round trip per worker per period, and never occupies a worker for the checks' timeout.  A
 * failure is kept as long as a success, so a DynamoDB outage does not make every probe wait
 * PRODENTHUB_READY_TIMEOUT_MS.  Each worker is a process of its own: the result is private
 * to it, and a replaced worker starts with none.
 */
#define READY_CACHE_MS 1000

struct ready_check {
    int rc;
    double ms;
};

static struct {
    int valid;
    struct timespec at;
    struct ready_check ddb, mc;
} last_ready;

static double
ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* {"ok":bool,"ms":n[,"error":slug]} under name. */
static void
add_check(struct json_object *checks, const char *name, const struct ready_check *c)
{
    struct json_object *o = json_object_new_object();
    char ms[32];

    json_object_object_add(o, "ok", json_object_new_boolean(c->rc == APP_OK));
    snprintf(ms, sizeof(ms), "%.3f", c->ms);
    json_object_object_add(o, "ms", json_object_new_double_s(c->ms, ms));
    /* The slug only: the detail (hosts, ports) is for the log, not for the public. */
    if (c->rc != APP_OK)
        json_object_object_add(o, "error", json_object_new_string(app_error_info(c->rc)->slug));
    json_object_object_add(checks, name, o);
}

/* Ask DynamoDB and memcached, and keep the answers in last_ready. */
static void
run_checks(struct request *req)
{
    struct app_error ddb_err, mc_err;
    struct timespec t0;

    app_error_clear(&ddb_err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    last_ready.ddb.rc = req->worker && req->worker->ddb ?
                        ddb_ping(req->worker->ddb, req->cfg->tbl_catalogue,
                                 req->cfg->ready_timeout_ms, &ddb_err) :
                        app_error_set(&ddb_err, APP_EUNAVAILABLE, "dynamodb: no client");
    last_ready.ddb.ms = ms_since(&t0);
    if (last_ready.ddb.rc != APP_OK)
        req_log(req, LL_WARN, "not ready: %s", ddb_err.msg);

    app_error_clear(&mc_err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    last_ready.mc.rc = cache_ping(req->worker ? req->worker->cache : NULL, &mc_err);
    last_ready.mc.ms = ms_since(&t0);
    if (last_ready.mc.rc != APP_OK)
        req_log(req, LL_DEBUG, "cache degraded: %s", mc_err.msg);

    /* Its age counts from the end of the checks: a slow check is not asked again at once. */
    clock_gettime(CLOCK_MONOTONIC, &last_ready.at);
    last_ready.valid = 1;
}

int
ready_get(struct request *req)
{
    struct json_object *checks, *d;

    if (!last_ready.valid || ms_since(&last_ready.at) >= READY_CACHE_MS)
        run_checks(req);
    checks = json_object_new_object();
    add_check(checks, "dynamodb", &last_ready.ddb);
    add_check(checks, "memcached", &last_ready.mc);
    if (last_ready.ddb.rc != APP_OK) {
        struct json_object *failing = json_object_new_array();

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
