#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libmemcached/memcached.h>

#include "cache.h"
#include "cache_local.h"
#include "cfg.h"
#include "ids.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

struct cache {
    memcached_st *mc;                 /* NULL: the cache is off */
    struct cache_local *local;        /* NULL: no local copies (CACHE_LOCAL_MS 0) */
    const struct cfg *cfg;
    int failing;                      /* in an outage: logged once, until it ends */
    unsigned long hits, misses;
};

struct cache *
cache_new(const struct cfg *cfg)
{
    struct cache *c = xcalloc(1, sizeof(*c));
    memcached_server_st *servers;
    memcached_return_t mrc;
    uint64_t ms = (uint64_t)cfg->memcached_timeout_ms;

    c->cfg = cfg;
    if (!*cfg->memcached_servers)
        return c;
    c->local = cache_local_new(cfg->cache_local_ms);
    c->mc = memcached_create(NULL);
    if (!c->mc)
        return c;
    servers = memcached_servers_parse(cfg->memcached_servers);
    if (servers) {
        mrc = memcached_server_push(c->mc, servers);
        memcached_server_list_free(servers);
        if (mrc != MEMCACHED_SUCCESS)
            log_warnx("memcached: cannot use MEMCACHED_SERVERS: %s",
                      memcached_strerror(c->mc, mrc));
    }
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                           MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, ms);
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, ms);
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, ms * 1000);
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, ms * 1000);
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
    /* After 2 failures a server is left alone for 2 s, then tried again. */
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 2);
    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 2);
    return c;
}

void
cache_free(struct cache *c)
{
    if (!c)
        return;
    if (c->mc)
        memcached_free(c->mc);
    cache_local_free(c->local);
    free(c);
}

void
cache_stats(const struct cache *c, unsigned long *hits, unsigned long *misses)
{
    *hits = c ? c->hits : 0;
    *misses = c ? c->misses : 0;
}

/*
 * The namespaces whose readers accept a value up to CACHE_LOCAL_MS old, so that the worker
 * keeps its own copy: catalogue items and coupons (coupon-disable takes effect within it),
 * the advisory per-buyer use counts of coupons/validate, the client's count of wrong
 * coupon guesses (a client over its limit is refused by every worker within it), and the
 * first page of upcoming mock exams (campaign/mock_listing.c).
 */
static const char *const local_ns[] = {"plan", "coupon", "uses", "guess", "mocklist", NULL};

static struct cache_local *
local_for(const struct cache *c, const char *ns)
{
    size_t i;

    for (i = 0; c->local && local_ns[i]; i++) {
        if (strcmp(ns, local_ns[i]) == 0)
            return c->local;
    }
    return NULL;
}

/* The cache's own tally (cache_stats) and the worker's metrics. */
static void
count(struct cache *c, int hit, size_t n)
{
    if (hit)
        c->hits += n;
    else
        c->misses += n;
    metrics_add(hit ? MF_CACHE_HITS : MF_CACHE_MISSES, 0, 0, n);
}

static void
outcome(struct cache *c, memcached_return_t mrc)
{
    int failed = mrc != MEMCACHED_SUCCESS && mrc != MEMCACHED_NOTFOUND &&
                 mrc != MEMCACHED_NOTSTORED && mrc != MEMCACHED_DATA_EXISTS &&
                 mrc != MEMCACHED_STORED && mrc != MEMCACHED_DELETED &&
                 mrc != MEMCACHED_END && mrc != MEMCACHED_BUFFERED;

    if (failed && !c->failing) {
        log_msg(LL_WARN, "memcached unavailable, serving without the cache: %s",
                memcached_strerror(c->mc, mrc));
        c->failing = 1;
    } else if (!failed && c->failing) {
        log_msg(LL_INFO, "memcached is back");
        c->failing = 0;
    }
}

int
cache_get(struct cache *c, const char *ns, const char *key, struct buf *out)
{
    char k[CACHE_KEY_BUF];
    size_t klen, vlen = 0;
    memcached_return_t mrc;
    uint32_t flags;
    char *v;
    int rc = APP_ENOTFOUND;

    if (!c || !c->mc) {
        if (c)
            count(c, 0, 1);
        return APP_ENOTFOUND;
    }
    klen = cache_key(k, ns, key);
    switch (cache_local_get(local_for(c, ns), k, klen, out)) {
    case 1:
        count(c, 1, 1);
        return APP_OK;
    case -1:
        count(c, 0, 1);
        return APP_ENOTFOUND;
    }
    v = memcached_get(c->mc, k, klen, &vlen, &flags, &mrc);
    outcome(c, mrc);
    if (mrc == MEMCACHED_SUCCESS) {
        /* An empty value is a hit too: it is how "there is none" is cached. */
        buf_reset(out);
        if (buf_append(out, v ? v : "", v ? vlen : 0) == APP_OK)
            rc = APP_OK;
        cache_local_put(local_for(c, ns), k, klen, v ? v : "", v ? vlen : 0);
    } else if (mrc == MEMCACHED_NOTFOUND) {
        cache_local_put(local_for(c, ns), k, klen, NULL, 0);
    }
    free(v);
    if (rc == APP_OK)
        count(c, 1, 1);
    else
        count(c, 0, 1);
    return rc;
}

void
cache_get_many(struct cache *c, size_t n, const char *const *ns, const char *const *keys,
               struct buf *out, int *hit)
{
    char kbuf[8][CACHE_KEY_BUF];
    const char *kp[8];
    size_t klen[8], ask[8], nask = 0, i, j;
    int known[8];
    memcached_result_st *res;
    memcached_return_t mrc;

    for (i = 0; i < n; i++)
        hit[i] = 0;
    if (!c || !c->mc || n == 0 || n > 8) {
        if (c)
            count(c, 0, n);
        return;
    }
    for (i = 0; i < n; i++) {
        klen[i] = cache_key(kbuf[i], ns[i], keys[i]);
        known[i] = cache_local_get(local_for(c, ns[i]), kbuf[i], klen[i], &out[i]);
        hit[i] = known[i] == 1;
        if (!known[i]) {
            kp[nask] = kbuf[i];
            ask[nask++] = i;
        }
    }
    if (nask > 0) {
        size_t alen[8];

        for (j = 0; j < nask; j++)
            alen[j] = klen[ask[j]];
        mrc = memcached_mget(c->mc, kp, alen, nask);
        outcome(c, mrc);
        if (mrc != MEMCACHED_SUCCESS)
            nask = 0;                 /* down: the unknown ones are misses, not "none" */
        while (nask > 0) {
            res = memcached_fetch_result(c->mc, NULL, &mrc);
            if (!res)
                break;
            for (j = 0; j < nask; j++) {
                i = ask[j];
                if (!hit[i] && memcached_result_key_length(res) == klen[i] &&
                    memcmp(memcached_result_key_value(res), kbuf[i], klen[i]) == 0) {
                    buf_reset(&out[i]);
                    hit[i] = buf_append(&out[i], memcached_result_value(res),
                                        memcached_result_length(res)) == APP_OK;
                    known[i] = 1;
                    cache_local_put(local_for(c, ns[i]), kbuf[i], klen[i],
                                    memcached_result_value(res), memcached_result_length(res));
                }
            }
            memcached_result_free(res);
        }
        for (j = 0; j < nask; j++) {
            if (!known[ask[j]])
                cache_local_put(local_for(c, ns[ask[j]]), kbuf[ask[j]], klen[ask[j]], NULL, 0);
        }
    }
    for (i = 0; i < n; i++) {
        if (hit[i])
            count(c, 1, 1);
        else
            count(c, 0, 1);
    }
}

void
cache_set(struct cache *c, const char *ns, const char *key, const char *value, size_t len,
          time_t ttl)
{
    char k[CACHE_KEY_BUF];
    size_t klen;

    if (!c || !c->mc)
        return;
    klen = cache_key(k, ns, key);
    cache_local_put(local_for(c, ns), k, klen, value, len);
    outcome(c, memcached_set(c->mc, k, klen, value, len,
                             ttl > 0 ? ttl : (time_t)c->cfg->memcached_ttl_s, 0));
}

/* A counter's new value, as memcached's text of it, for this worker's later reads. */
static void
local_count(struct cache *c, const char *ns, const char *k, size_t klen, long long v)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%lld", v);

    cache_local_put(local_for(c, ns), k, klen, text, (size_t)n);
}

long long
cache_incr(struct cache *c, const char *ns, const char *key, time_t ttl)
{
    char k[CACHE_KEY_BUF];
    memcached_return_t mrc;
    uint64_t v = 0;
    size_t klen;
    int i;

    if (!c || !c->mc)
        return -1;
    klen = cache_key(k, ns, key);
    /* increment, else add "1" (expiring with the window), else another worker just added it:
     * increment again.  The text protocol has no increment-with-initial. */
    for (i = 0; i < 2; i++) {
        mrc = memcached_increment(c->mc, k, klen, 1, &v);
        if (mrc == MEMCACHED_SUCCESS) {
            outcome(c, mrc);
            local_count(c, ns, k, klen, (long long)v);
            return (long long)v;
        }
        if (mrc != MEMCACHED_NOTFOUND)
            break;
        mrc = memcached_add(c->mc, k, klen, "1", 1, ttl, 0);
        if (mrc == MEMCACHED_SUCCESS) {
            outcome(c, mrc);
            local_count(c, ns, k, klen, 1);
            return 1;
        }
        if (mrc != MEMCACHED_NOTSTORED && mrc != MEMCACHED_DATA_EXISTS)
            break;
    }
    outcome(c, mrc);
    return -1;
}

void
cache_delete(struct cache *c, const char *ns, const char *key)
{
    char k[CACHE_KEY_BUF];
    size_t klen;

    if (!c || !c->mc)
        return;
    klen = cache_key(k, ns, key);
    cache_local_drop(local_for(c, ns), k, klen);
    outcome(c, memcached_delete(c->mc, k, klen, 0));
}

int
cache_ping(struct cache *c, struct app_error *err)
{
    static const char key[] = "ph:" CACHE_VERSION ":ready";
    memcached_return_t mrc;
    size_t len;
    uint32_t flags;
    char *v;

    if (!c || !c->mc)
        return app_error_set(err, APP_EUNAVAILABLE, "memcached: not configured");
    v = memcached_get(c->mc, key, sizeof(key) - 1, &len, &flags, &mrc);
    free(v);
    outcome(c, mrc);
    if (mrc == MEMCACHED_SUCCESS || mrc == MEMCACHED_NOTFOUND)
        return APP_OK;
    return app_error_set(err, APP_EUNAVAILABLE, "memcached: %s", memcached_strerror(c->mc, mrc));
}
