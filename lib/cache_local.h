/*
 * The worker's own copy of hot cache entries (lib/cache.h), in front of memcached: a small
 * table of the last values read or written, each kept at most CACHE_LOCAL_MS milliseconds,
 * so the hottest lookups cost no round trip.  Only namespaces whose readers accept that
 * staleness use it (cache.c's list); what is charged or granted never comes from a cache.
 * Internal to cache.c.
 */
#ifndef PH_CACHE_LOCAL_H
#define PH_CACHE_LOCAL_H

#include <stddef.h>

#include "buf.h"

#define CACHE_LOCAL_SLOTS 256           /* direct-mapped by key hash: a clash replaces */
#define CACHE_LOCAL_VALUE_MAX (16 * 1024)

struct cache_local;

/* A table whose entries live ttl_ms; NULL (the layer off) when ttl_ms is 0. */
struct cache_local *cache_local_new(long ttl_ms);
void cache_local_free(struct cache_local *l);

/* What the table knows of a key: 1 a value (into out, replacing its contents), -1 that
 * memcached had none, 0 nothing fresh (ask memcached). */
int cache_local_get(struct cache_local *l, const char *key, size_t klen, struct buf *out);
/* Hold value for key from now on (a value over CACHE_LOCAL_VALUE_MAX is not held); value
 * NULL: memcached has none. */
void cache_local_put(struct cache_local *l, const char *key, size_t klen, const char *value,
                     size_t len);
/* Forget key (the record changed). */
void cache_local_drop(struct cache_local *l, const char *key, size_t klen);

#endif
