/*
 * memcached through libmemcached: one connection set per worker, consistent hashing over
 * MEMCACHED_SERVERS, short timeouts.  A cache failure is a miss, never an error to a client;
 * a dead server is retried after libmemcached's back-off.
 */
#ifndef PH_CACHE_H
#define PH_CACHE_H

#include "errors.h"

struct cfg;
struct cache;

struct cache *cache_new(const struct cfg *cfg);
void cache_free(struct cache *c);

/* Readiness: 0 when a round trip to memcached works, APP_EUNAVAILABLE otherwise. */
int cache_ping(struct cache *c, struct app_error *err);

#endif
