/*
 * Memory: allocation that never returns NULL, and the per-request arena.
 *
 * A worker is long-lived, a request is not.  Everything a request allocates comes from its
 * arena (or is registered on it with arena_cleanup) and is released in one arena_reset()
 * after the response is sent, as nginx ties allocations to r->pool.
 */
#ifndef PH_MEM_H
#define PH_MEM_H

#include <stddef.h>

/* Abort with a logged size on OOM: the master respawns the worker. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

struct arena_chunk;
struct arena_cleanup;

struct arena {
    struct arena_chunk *chunks;    /* the current chunk first */
    struct arena_chunk *first;     /* the chunk kept across resets */
    struct arena_cleanup *cleanups;
    size_t chunk_size;
};

void arena_init(struct arena *a, size_t chunk_size);
void *arena_alloc(struct arena *a, size_t n);        /* 16-byte aligned, never NULL */
void *arena_calloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Run fn(data) at reset, newest first: how json-c objects and curl lists join the arena. */
void arena_cleanup(struct arena *a, void (*fn)(void *), void *data);
void arena_reset(struct arena *a);
void arena_destroy(struct arena *a);

#endif
