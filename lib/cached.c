/*
 * Cache-aside reads of single items on a context (cached.h).
 */
#include "config.h"

#include "cache.h"
#include "cached.h"
#include "ddb.h"
#include "ddbjson.h"

int
cached_item(const struct ctx *c, const char *ns, const char *table, const char *key_name,
            const char *key, cached_shape_fn shape, int cached, struct buf *out,
            struct app_error *err)
{
    struct json_object *k, *item = NULL, *plain;
    int rc;

    if (cached)
        return APP_OK;
    if (!c->ddb)
        return app_error_set(err, APP_EUNAVAILABLE, "dynamodb: no client");
    k = ddb_key_s(key_name, key);
    rc = ddb_get_item(c->ddb, table, k, 0, &item, err);
    json_object_put(k);
    buf_reset(out);
    if (rc == APP_ENOTFOUND) {
        cache_set(c->cache, ns, key, "", 0, CACHED_NEGATIVE_TTL);
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    plain = ddb_unmarshal_item(item);
    json_object_put(item);
    if (!plain)
        return app_error_set(err, APP_EINTERNAL, "%s item %s is malformed", ns, key);
    rc = shape(plain, out);
    json_object_put(plain);
    if (rc != APP_OK)
        return app_error_set(err, rc, "%s item %s: cannot shape it", ns, key);
    cache_set(c->cache, ns, key, out->data ? out->data : "", out->len,
              out->len ? 0 : CACHED_NEGATIVE_TTL);
    return APP_OK;
}

int
cached_whole_item(struct json_object *plain, struct buf *out)
{
    return buf_puts(out, json_object_to_json_string_ext(plain, JSON_C_TO_STRING_PLAIN));
}
