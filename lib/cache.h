/*
 * memcached through libmemcached: one connection set per worker, consistent hashing over
 * MEMCACHED_SERVERS (so the cache scales out), short timeouts.  Keys are namespaced and
 * versioned ("ph:v2:<ns>:<key>"; bumping CACHE_VERSION drops every old entry at once: v2
 * when the cached plan gained "family", which coupons match on).
 *
 * A cache failure is a miss, never an error to a client: the caller goes to DynamoDB.  The
 * first failure of an outage is logged once, recovery once; a dead server is left alone for
 * a couple of seconds and then tried again (libmemcached's retry timeout).
 * MEMCACHED_SERVERS empty turns the cache off.
 */
#ifndef PH_CACHE_H
#define PH_CACHE_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "errors.h"

#define CACHE_VERSION "v2"
#define CACHE_KEY_MAX 250             /* memcached's own limit */
#define CACHE_KEY_BUF (CACHE_KEY_MAX + 64)

struct cfg;
struct cache;

/* The key of ns/key: "ph:v2:ns:key", hashed when key is long or not memcached-safe
 * (lib/cache_key.c).  Its length, within CACHE_KEY_MAX; 0 only when OpenSSL fails. */
size_t cache_key(char out[CACHE_KEY_BUF], const char *ns, const char *key);

struct cache *cache_new(const struct cfg *cfg);
void cache_free(struct cache *c);

/* APP_OK with the value in out (replacing its contents) on a hit; APP_ENOTFOUND on a miss,
 * when the cache is down or off. */
int cache_get(struct cache *c, const char *ns, const char *key, struct buf *out);
/*
 * Several lookups in one round trip: for each i, hit[i] says whether ns[i]/keys[i] was
 * found, with its value in out[i].  With the cache down or off, every hit[i] is 0.
 */
void cache_get_many(struct cache *c, size_t n, const char *const *ns, const char *const *keys,
                    struct buf *out, int *hit);

/* Store value for ttl seconds (0: MEMCACHED_TTL_S).  Failures are ignored (logged once). */
void cache_set(struct cache *c, const char *ns, const char *key, const char *value,
               size_t len, time_t ttl);
/* Count: add 1 to the counter (created at 1 with ttl seconds to live); the new value, or
 * -1 when the cache is down or off (callers then fail open). */
long long cache_incr(struct cache *c, const char *ns, const char *key, time_t ttl);

/* Remove an entry, e.g. after the record changed. */
void cache_delete(struct cache *c, const char *ns, const char *key);

/* Readiness: 0 when a round trip to memcached works, APP_EUNAVAILABLE otherwise. */
int cache_ping(struct cache *c, struct app_error *err);

/* Hits and misses since the worker started (for tests and logs). */
void cache_stats(const struct cache *c, unsigned long *hits, unsigned long *misses);

#endif
