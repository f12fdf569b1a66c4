#include "config.h"

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cache.h"
#include "../lib/cached.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/txn.h"
#include "handlers.h"
#include "lookup.h"

int
lookup_item(struct request *req, const char *ns, const char *table, const char *key_name,
            const char *key, cached_shape_fn shape, struct buf *out, int *hit)
{
    struct cache *cache = req->worker ? req->worker->cache : NULL;

    *hit = cache_get(cache, ns, key, out) == APP_OK;
    return cached_item(&req->ctx, ns, table, key_name, key, shape, *hit, out, &req->err);
}

void
lookup_forget(struct request *req, const char *ns, const char *key)
{
    cache_delete(req->worker ? req->worker->cache : NULL, ns, key);
}

int
catalogue_plan(struct request *req, const char *plan_id, struct json_object **out)
{
    struct buf b;
    int rc, hit;

    *out = NULL;
    if (!plan_id_valid(plan_id))
        return APP_OK;
    buf_init(&b, 16 * 1024);
    rc = lookup_item(req, "plan", req->cfg->tbl_catalogue, "planId", plan_id,
                     plan_public_shape, &b, &hit);
    if (rc == APP_OK && b.len)
        *out = json_tokener_parse(b.data);
    buf_free(&b);
    return rc;
}

int
record_lookup(struct request *req, const char *table, const char *key_name, const char *prefix,
              const char *what, struct json_object **out)
{
    int rc;

    *out = NULL;
    rc = record_load(req->worker->ddb, table, key_name, req_path_param(req, key_name), prefix,
                     out, &req->err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such %s", what);
    if (rc == APP_OK)
        arena_cleanup(req->arena, json_put_cb, *out);
    return rc;
}
