#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"

static void
oom(size_t n)
{
    /* No allocation here: the logger itself allocates. */
    char line[128];
    int len = snprintf(line, sizeof(line),
                       "{\"level\":\"crit\",\"msg\":\"out of memory allocating %zu bytes\"}\n", n);

    if (len > 0 && write(STDERR_FILENO, line, (size_t)len) < 0)
        abort();
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        oom(n);
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        oom(n * size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        oom(n);
    return q;
}

char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t used;
    unsigned char *data;
};

struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *data;
};

#define ALIGN_UP(n) (((n) + 15) & ~(size_t)15)

static struct arena_chunk *
chunk_new(size_t size)
{
    struct arena_chunk *c = xmalloc(ALIGN_UP(sizeof(*c)) + size);

    c->next = NULL;
    c->size = size;
    c->used = 0;
    c->data = (unsigned char *)c + ALIGN_UP(sizeof(*c));
    return c;
}

void
arena_init(struct arena *a, size_t chunk_size)
{
    a->chunk_size = chunk_size ? chunk_size : 16384;
    a->chunks = chunk_new(a->chunk_size);
    a->first = a->chunks;
    a->cleanups = NULL;
}

void *
arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->chunks;
    void *p;

    n = ALIGN_UP(n ? n : 1);
    if (n > a->chunk_size / 4) {
        /* Big requests get a chunk of their own behind the current one, which stays current. */
        c = chunk_new(n);
        c->next = a->chunks->next;
        a->chunks->next = c;
        c->used = n;
        return c->data;
    }
    if (c->size - c->used < n) {
        c = chunk_new(a->chunk_size);
        c->next = a->chunks;
        a->chunks = c;
    }
    p = c->data + c->used;
    c->used += n;
    return p;
}

void *
arena_calloc(struct arena *a, size_t n)
{
    return memset(arena_alloc(a, n), 0, n);
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void
arena_cleanup(struct arena *a, void (*fn)(void *), void *data)
{
    struct arena_cleanup *cl = arena_alloc(a, sizeof(*cl));

    cl->fn = fn;
    cl->data = data;
    cl->next = a->cleanups;
    a->cleanups = cl;
}

void
arena_reset(struct arena *a)
{
    struct arena_cleanup *cl;
    struct arena_chunk *c, *next;

    /* Cleanups live in the arena, so run them all before any chunk is freed. */
    for (cl = a->cleanups; cl; cl = cl->next)
        cl->fn(cl->data);
    a->cleanups = NULL;

    /* Keep the first chunk: most requests fit in it and reuse it with no malloc. */
    for (c = a->chunks; c; c = next) {
        next = c->next;
        if (c != a->first)
            free(c);
    }
    a->chunks = a->first;
    a->first->next = NULL;
    a->first->used = 0;
}

void
arena_destroy(struct arena *a)
{
    arena_reset(a);
    free(a->first);
    a->chunks = NULL;
    a->first = NULL;
}
