/*
 * Cache-aside reads of items on a context (lib/ctx.h), for code below the handlers:
 * memcached first, DynamoDB on a miss (eventually consistent unless asked), the answer (or
 * "there is none", for CACHED_NEGATIVE_TTL seconds) stored back.  A cache failure is a miss.
 * The cache holds the item's plain JSON text as shape() made it, so every reader of a
 * namespace must shape it alike.  Only for answers that are advisory: what is charged or
 * granted is read from DynamoDB (lib/catalogue.h), never from here.
 */
#ifndef PH_CACHED_H
#define PH_CACHED_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "ctx.h"
#include "errors.h"

#define CACHED_NEGATIVE_TTL 30

/* Turn the plain item into the text to cache and serve; leave out empty for "none". */
typedef int (*cached_shape_fn)(struct json_object *plain, struct buf *out);

/*
 * The item of table whose key_name is key, in ns of the cache, when the caller asked the
 * cache already (e.g. with cache_get_many): cached says whether out holds the cache's answer.
 * On a miss out gets the shaped text read from DynamoDB, empty when there is no such item.
 * Returns APP_OK or the DynamoDB error (in err).
 */
int cached_item(const struct ctx *c, const char *ns, const char *table, const char *key_name,
                const char *key, cached_shape_fn shape, int cached, struct buf *out,
                struct app_error *err);

/*
 * Several such reads at once, e.g. of the keys one cache_get_many asked for: every read that
 * missed (cached 0) is read in one DynamoDB round trip (ddb_get_many: one GetItem, or one
 * BatchGetItem), shaped into its out and cached, as cached_item does; a read that hit is
 * left as it is.  Returns APP_OK or the DynamoDB error (in err).
 */
#define CACHED_READS_MAX 8
struct cached_read {
    const char *ns, *key;               /* the cache's namespace and key */
    const char *table, *key_name, *id;  /* the item read on a miss; id NULL: the key */
    int consistent;                     /* read it consistently */
    cached_shape_fn shape;
    const char *none;                   /* cached when there is no item, for ttl; NULL: ""
                                         * for CACHED_NEGATIVE_TTL */
    time_t ttl;                         /* of a shaped item (0: MEMCACHED_TTL_S) */
    int cached;                         /* out holds the cache's answer already */
    struct buf *out;
};
int cached_items(const struct ctx *c, struct cached_read *reads, size_t n,
                 struct app_error *err);

/* A shape: the whole plain item. */
int cached_whole_item(struct json_object *plain, struct buf *out);

#endif
