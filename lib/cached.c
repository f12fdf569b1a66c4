/*
 * Cache-aside reads of items on a context (cached.h).
 */
#include "config.h"

#include <assert.h>

#include "cache.h"
#include "cached.h"
#include "ddb.h"
#include "ddbjson.h"

/* Shape the item read for r (attribute-value JSON; NULL: none) into r->out and cache it. */
static int
keep(const struct ctx *c, const struct cached_read *r, struct json_object *item,
     struct app_error *err)
{
    struct json_object *plain;
    int rc;

    buf_reset(r->out);
    if (!item) {
        if (r->none) {
            rc = buf_puts(r->out, r->none);
            if (rc != APP_OK)
                return app_error_set(err, rc, "%s item %s: cannot keep it", r->ns, r->key);
            cache_set(c->cache, r->ns, r->key, r->none, r->out->len, r->ttl);
        } else {
            cache_set(c->cache, r->ns, r->key, "", 0, CACHED_NEGATIVE_TTL);
        }
        return APP_OK;
    }
    plain = ddb_unmarshal_item(item);
    if (!plain)
        return app_error_set(err, APP_EINTERNAL, "%s item %s is malformed", r->ns, r->key);
    rc = r->shape(plain, r->out);
    json_object_put(plain);
    if (rc != APP_OK)
        return app_error_set(err, rc, "%s item %s: cannot shape it", r->ns, r->key);
    cache_set(c->cache, r->ns, r->key, r->out->data ? r->out->data : "", r->out->len,
              r->out->len ? r->ttl : CACHED_NEGATIVE_TTL);
    return APP_OK;
}

int
cached_items(const struct ctx *c, struct cached_read *reads, size_t n, struct app_error *err)
{
    struct ddb_get gets[CACHED_READS_MAX];
    size_t i, m = 0;
    int rc;

    assert(n <= CACHED_READS_MAX);
    for (i = 0; i < n; i++) {
        if (reads[i].cached)
            continue;
        gets[m].table = reads[i].table;
        gets[m].key_name = reads[i].key_name;
        gets[m].id = reads[i].id ? reads[i].id : reads[i].key;
        gets[m].consistent = reads[i].consistent;
        m++;
    }
    if (m == 0)
        return APP_OK;
    if (!c->ddb)
        return app_error_set(err, APP_EUNAVAILABLE, "dynamodb: no client");
    rc = ddb_get_many(c->ddb, gets, m, err);
    for (i = 0, m = 0; i < n; i++) {
        if (reads[i].cached)
            continue;
        if (rc == APP_OK)
            rc = keep(c, &reads[i], gets[m].item, err);
        if (gets[m].item)
            json_object_put(gets[m].item);
        m++;
    }
    return rc;
}

int
cached_item(const struct ctx *c, const char *ns, const char *table, const char *key_name,
            const char *key, cached_shape_fn shape, int cached, struct buf *out,
            struct app_error *err)
{
    struct cached_read r = {.ns = ns, .key = key, .table = table, .key_name = key_name,
                            .shape = shape, .cached = cached, .out = out};

    return cached_items(c, &r, 1, err);
}

int
cached_whole_item(struct json_object *plain, struct buf *out)
{
    return buf_puts(out, json_object_to_json_string_ext(plain, JSON_C_TO_STRING_PLAIN));
}
