/*
 * The worker's own copy of hot cache entries (cache_local.h).  The table and its values
 * belong to the worker's cache (struct cache) and go with it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_local.h"
#include "errors.h"
#include "mem.h"

#define KEY_CAP 320

struct entry {
    char key[KEY_CAP];
    size_t klen;
    char *value;                      /* NULL: the slot is free */
    size_t len, cap;
    int absent;                       /* memcached had none */
    int64_t expires_ms;
};

struct cache_local {
    long ttl_ms;
    struct entry slots[CACHE_LOCAL_SLOTS];
};

static int64_t
now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* FNV-1a: the slot of a key. */
static struct entry *
slot(struct cache_local *l, const char *key, size_t klen)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < klen; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return &l->slots[h % CACHE_LOCAL_SLOTS];
}

struct cache_local *
cache_local_new(long ttl_ms)
{
    struct cache_local *l;

    if (ttl_ms <= 0)
        return NULL;
    l = xcalloc(1, sizeof(*l));
    l->ttl_ms = ttl_ms;
    return l;
}

void
cache_local_free(struct cache_local *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < CACHE_LOCAL_SLOTS; i++)
        free(l->slots[i].value);
    free(l);
}

int
cache_local_get(struct cache_local *l, const char *key, size_t klen, struct buf *out)
{
    struct entry *e;

    if (!l || klen == 0)
        return 0;
    e = slot(l, key, klen);
    if (!e->value || e->klen != klen || memcmp(e->key, key, klen) != 0)
        return 0;
    if (now_ms() >= e->expires_ms) {
        e->klen = 0;                  /* stale: the next read asks memcached */
        return 0;
    }
    if (e->absent)
        return -1;
    buf_reset(out);
    return buf_append(out, e->value, e->len) == APP_OK;
}

void
cache_local_put(struct cache_local *l, const char *key, size_t klen, const char *value,
                size_t len)
{
    struct entry *e;

    if (!l || klen == 0 || klen >= KEY_CAP || len > CACHE_LOCAL_VALUE_MAX)
        return;
    e = slot(l, key, klen);
    if (!e->value || e->cap < len + 1) {
        free(e->value);
        e->cap = len + 1 > 256 ? len + 1 : 256;
        e->value = xmalloc(e->cap);
    }
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->absent = !value;
    if (value)
        memcpy(e->value, value, len);
    e->len = value ? len : 0;
    e->value[e->len] = '\0';
    e->expires_ms = now_ms() + l->ttl_ms;
}

void
cache_local_drop(struct cache_local *l, const char *key, size_t klen)
{
    struct entry *e;

    if (!l)
        return;
    e = slot(l, key, klen);
    if (e->klen == klen && memcmp(e->key, key, klen) == 0)
        e->klen = 0;
}
