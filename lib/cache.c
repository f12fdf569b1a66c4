#include "config.h"

#include <string.h>

#include <libmemcached/memcached.h>

#include "cache.h"
#include "cfg.h"
#include "log.h"
#include "mem.h"

struct cache {
    memcached_st *mc;
};

struct cache *
cache_new(const struct cfg *cfg)
{
    struct cache *c = xcalloc(1, sizeof(*c));
    memcached_server_st *servers;
    memcached_return_t mrc;
    uint64_t ms = (uint64_t)cfg->memcached_timeout_ms;

    c->mc = memcached_create(NULL);
    if (!c->mc) {
        free(c);
        return NULL;
    }
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
    memcached_free(c->mc);
    free(c);
}

int
cache_ping(struct cache *c, struct app_error *err)
{
    static const char key[] = "ph:v1:ready";
    memcached_return_t mrc;
    size_t len;
    uint32_t flags;
    char *v;

    if (!c)
        return app_error_set(err, APP_EUNAVAILABLE, "memcached: not configured");
    v = memcached_get(c->mc, key, sizeof(key) - 1, &len, &flags, &mrc);
    free(v);
    if (mrc == MEMCACHED_SUCCESS || mrc == MEMCACHED_NOTFOUND)
        return APP_OK;
    return app_error_set(err, APP_EUNAVAILABLE, "memcached: %s", memcached_strerror(c->mc, mrc));
}
