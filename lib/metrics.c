/*
 * The shared area of counters and the hooks that count into it (see metrics.h).
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/mman.h>

#include "metrics.h"

struct table_entry {
    int state;                          /* 0 free, 1 being written, 2 ready */
    char value[METRICS_VALUE_MAX];
};

/* Written by the master (restarts, slots_used) and by any worker (the tables, by CAS). */
struct head {
    uint64_t restarts;
    uint64_t slots_used;
    struct table_entry tables[MT_COUNT][METRICS_TABLE_SIZE];
};

static struct head *head;
static uint64_t *slots;                 /* nslots x words, after the head */
static size_t nslots, words, area_size;
static uint64_t *me;                    /* this worker's slot, or NULL: count nothing */
static size_t offs[MF_COUNT];
static size_t dims[MF_COUNT][METRICS_LABELS];   /* values per label (1 when absent) */
static const char *(*route_label)(size_t i);

size_t
metrics_label_size(const struct metrics_label *l)
{
    size_t n = 0;

    switch (l->kind) {
    case MK_LIST:
        while (l->values[n])
            n++;
        return n;
    case MK_ROUTE:
        return METRICS_ROUTES;
    case MK_CODE:
        return metrics_codes_count + 1;
    case MK_TABLE:
        return METRICS_TABLE_SIZE;
    }
    return 0;
}

size_t
metrics_words(enum metrics_family f)
{
    const struct metrics_def *d = &metrics_defs[f];
    size_t i, n = 1;

    for (i = 0; i < d->nlabels; i++)
        n *= metrics_label_size(&d->labels[i]);
    return d->type == MT_TYPE_HISTOGRAM ? n * (d->nbounds + 2) : n;
}

static void
layout(void)
{
    size_t f;

    words = 0;
    for (f = 0; f < MF_COUNT; f++) {
        const struct metrics_def *d = &metrics_defs[f];
        size_t n;

        offs[f] = words;
        words += metrics_words((enum metrics_family)f);
        for (n = 0; n < METRICS_LABELS; n++)
            dims[f][n] = n < d->nlabels ? metrics_label_size(&d->labels[n]) : 1;
    }
}

int
metrics_create(size_t n)
{
    size_t t, hsize = (sizeof(struct head) + 63) & ~(size_t)63;
    void *p;

    layout();
    area_size = hsize + n * words * sizeof(uint64_t);
    p = mmap(NULL, area_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    head = p;
    slots = (uint64_t *)((char *)p + hsize);
    nslots = n;
    for (t = 0; t < MT_COUNT; t++) {
        head->tables[t][0].state = 2;
        memcpy(head->tables[t][0].value, "other", 6);
    }
    return 0;
}

void
metrics_destroy(void)
{
    if (head)
        munmap(head, area_size);
    head = NULL;
    slots = NULL;
    me = NULL;
    nslots = 0;
}

/* One writer per word: a plain read and an untorn store, no locked instruction. */
static inline void
bump(uint64_t *p, uint64_t n)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

void
metrics_slot_used(size_t slot)
{
    if (head && slot < nslots && slot + 1 > head->slots_used)
        __atomic_store_n(&head->slots_used, (uint64_t)slot + 1, __ATOMIC_RELEASE);
}

void
metrics_restart(void)
{
    if (head)
        bump(&head->restarts, 1);
}

void
metrics_attach(size_t slot)
{
    me = head && slot < nslots ? slots + slot * words : NULL;
}

void
metrics_set_routes(const char *(*label)(size_t i))
{
    route_label = label;
}

const char *
metrics_route_label(size_t i)
{
    return route_label && i < METRICS_ROUTES ? route_label(i) : NULL;
}

/* The word of series (i, j) of f, or NULL when an index is out of its label's range. */
static uint64_t *
series(enum metrics_family f, size_t i, size_t j)
{
    const struct metrics_def *d = &metrics_defs[f];
    size_t w = d->type == MT_TYPE_HISTOGRAM ? d->nbounds + 2 : 1;

    if (!me || (unsigned)f >= MF_COUNT || i >= dims[f][0] || j >= dims[f][1])
        return NULL;
    return me + offs[f] + (i * dims[f][1] + j) * w;
}

void
metrics_add(enum metrics_family f, size_t i, size_t j, uint64_t n)
{
    uint64_t *p = series(f, i, j);

    if (p)
        bump(p, n);
}

void
metrics_inc(enum metrics_family f, size_t i, size_t j)
{
    metrics_add(f, i, j, 1);
}

void
metrics_observe(enum metrics_family f, size_t i, double v)
{
    const struct metrics_def *d = &metrics_defs[f];
    uint64_t *p = series(f, i, 0);
    size_t k;

    if (!p || d->type != MT_TYPE_HISTOGRAM)
        return;
    if (!(v >= 0))
        v = 0;
    for (k = 0; k < d->nbounds && v > d->bounds[k]; k++)
        ;
    if (k < d->nbounds)
        bump(&p[k], 1);
    bump(&p[d->nbounds], 1);
    bump(&p[d->nbounds + 1], (uint64_t)llround(v * d->scale));
}

/*
 * The index of value in table t, adding it when there is room: several workers may add the
 * same value at once into different entries; the renderer sums entries of equal value.
 */
static size_t
table_index(enum metrics_table_id t, const char *value)
{
    struct table_entry *e = head->tables[t];
    size_t i, len = value ? strlen(value) : 0;

    if (len == 0 || len >= METRICS_VALUE_MAX)
        return 0;
    for (i = 1; i < METRICS_TABLE_SIZE; i++) {
        int st = __atomic_load_n(&e[i].state, __ATOMIC_ACQUIRE), free_ = 0;

        if (st == 2 && strcmp(e[i].value, value) == 0)
            return i;
        if (st != 0)
            continue;
        if (!__atomic_compare_exchange_n(&e[i].state, &free_, 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        memcpy(e[i].value, value, len + 1);
        __atomic_store_n(&e[i].state, 2, __ATOMIC_RELEASE);
        return i;
    }
    return 0;
}

void
metrics_inc_value(enum metrics_family f, const char *value, size_t j)
{
    const struct metrics_def *d = &metrics_defs[f];

    if (!me || (unsigned)f >= MF_COUNT || d->nlabels == 0 || d->labels[0].kind != MK_TABLE)
        return;
    metrics_inc(f, table_index(d->labels[0].table, value), j);
}

size_t
metrics_index(enum metrics_family f, size_t n, const char *value)
{
    const struct metrics_label *l = &metrics_defs[f].labels[n];
    size_t i;

    if (n >= metrics_defs[f].nlabels || l->kind != MK_LIST)
        return 0;
    for (i = 0; l->values[i + 1]; i++) {
        if (value && strcmp(l->values[i], value) == 0)
            return i;
    }
    return i;
}

size_t
metrics_code(int status)
{
    size_t i;

    for (i = 0; i < metrics_codes_count; i++) {
        if (metrics_codes[i] == status)
            return i;
    }
    return metrics_codes_count;
}

uint64_t
metrics_sum(enum metrics_family f, size_t w)
{
    size_t s, used;
    uint64_t t = 0;

    if (!head)
        return 0;
    used = (size_t)__atomic_load_n(&head->slots_used, __ATOMIC_ACQUIRE);
    for (s = 0; s < used && s < nslots; s++)
        t += __atomic_load_n(&slots[s * words + offs[f] + w], __ATOMIC_RELAXED);
    return t;
}

const char *
metrics_table_value(enum metrics_table_id t, size_t i)
{
    const struct table_entry *e;

    if (!head || i >= METRICS_TABLE_SIZE)
        return NULL;
    e = &head->tables[t][i];
    return __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == 2 ? e->value : NULL;
}

uint64_t
metrics_restarts(void)
{
    return head ? __atomic_load_n(&head->restarts, __ATOMIC_RELAXED) : 0;
}

int
metrics_active(void)
{
    return head ? 1 : 0;
}
