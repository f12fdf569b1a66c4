/*
 * GET /v1/plans/{planId}: one product of the catalogue (name, price in cents, currency,
 * duration), as the frontends show it.  Read through the cache: a hit never touches
 * DynamoDB; an unknown id is cached too (briefly), so guessing ids does not reach DynamoDB.
 */
#include "config.h"

#include <string.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "handlers.h"

#define NEGATIVE_TTL 30
#define CACHE_NS "plan"

/* The fields a client may see; the rest (Stripe ids, notes) stays inside. */
static const char *const public_fields[] = {
    "planId", "name", "amountCents", "currency", "durationMonths", "campaignId", "pricing",
    NULL,
};

static int
valid_id(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n <= 64 && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Load the plan from DynamoDB as the JSON text to serve, or "" when there is none. */
static int
load(struct request *req, const char *id, struct buf *out)
{
    struct json_object *key = json_object_new_object(), *item = NULL, *plain, *pub, *v;
    const char *s;
    size_t i;
    int rc;

    json_object_object_add(key, "planId", ddb_av_s(id));
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_catalogue, key, 0, &item, &req->err);
    json_object_put(key);
    if (rc == APP_ENOTFOUND) {
        buf_reset(out);
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    plain = ddb_unmarshal_item(item);
    json_object_put(item);
    if (!plain)
        return app_error_set(&req->err, APP_EINTERNAL, "catalogue item %s is malformed", id);
    buf_reset(out);
    if (json_object_object_get_ex(plain, "status", &v) &&
        strcmp(json_object_get_string(v), "active") == 0) {
        pub = json_object_new_object();
        for (i = 0; public_fields[i]; i++) {
            if (json_object_object_get_ex(plain, public_fields[i], &v))
                json_object_object_add(pub, public_fields[i], json_object_get(v));
        }
        s = json_object_to_json_string_ext(pub, JSON_C_TO_STRING_PLAIN);
        rc = buf_puts(out, s);
        json_object_put(pub);
    }
    json_object_put(plain);
    return rc;
}

int
plans_get(struct request *req)
{
    const char *id = req_path_param(req, "planId");
    struct cache *cache = req->worker ? req->worker->cache : NULL;
    struct buf data;
    int rc, hit;

    if (!valid_id(id))
        return app_error_set(&req->err, APP_ENOTFOUND, "no such plan");
    if (!req->worker || !req->worker->ddb)
        return app_error_set(&req->err, APP_EUNAVAILABLE, "dynamodb: no client");
    buf_init(&data, 16 * 1024);
    hit = cache_get(cache, CACHE_NS, id, &data) == APP_OK;
    if (!hit) {
        rc = load(req, id, &data);
        if (rc != APP_OK)
            goto done;
        cache_set(cache, CACHE_NS, id, data.data ? data.data : "", data.len,
                  data.len ? 0 : NEGATIVE_TTL);
    }
    req_add_header(req, "X-Cache", hit ? "hit" : "miss");
    if (data.len == 0)
        rc = app_error_set(&req->err, APP_ENOTFOUND, "no such plan");
    else
        rc = reply_json_raw(req, 200, data.data);
done:
    buf_free(&data);
    return rc;
}
