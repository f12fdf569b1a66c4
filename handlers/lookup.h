/*
 * Reads for handlers that only answer (never charge): cache-aside through lib/cached.h
 * (memcached first, DynamoDB on a miss, the shaped text stored back), and a route's record.
 */
#ifndef PH_LOOKUP_H
#define PH_LOOKUP_H

#include "../lib/buf.h"
#include "../lib/cached.h"

#include <json-c/json.h>

struct request;

/*
 * The item of table whose key_name is key, in ns of the cache.  out gets the shaped text,
 * empty when there is no such item; *hit says whether the cache answered.  Returns APP_OK
 * or the DynamoDB error (in req->err).
 */
int lookup_item(struct request *req, const char *ns, const char *table, const char *key_name,
                const char *key, cached_shape_fn shape, struct buf *out, int *hit);

/* Drop a cached item (after a change). */
void lookup_forget(struct request *req, const char *ns, const char *key);

/* The catalogue's active plan plan_id, parsed (the caller puts it), or *out NULL when there is
 * none; through the cache. */
int catalogue_plan(struct request *req, const char *plan_id, struct json_object **out);

/* The catalogue's public view of an active plan (handlers/plans.c). */
int plan_public_shape(struct json_object *plain, struct buf *out);

/* For a route: the record named by the path parameter key_name, released with the request;
 * 404 "no such <what>" when there is none, 503 without a DynamoDB client. */
int record_lookup(struct request *req, const char *table, const char *key_name,
                  const char *prefix, const char *what, struct json_object **out);

#endif
