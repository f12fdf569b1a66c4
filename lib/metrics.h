/*
 * Counters for Prometheus, kept in memory the master shares with its workers (docs/
 * MONITORING.md, Metrics).
 *
 *   the area   made by the master before it forks (metrics_create), MAP_SHARED like the
 *              scoreboard: a header the master writes (worker restarts, the slots in use),
 *              the tables of label values, and one slot of counters per worker slot;
 *   a slot     written by its worker only, with single-writer atomic stores (no lock, no
 *              system call, no allocation); a successor in the same slot carries on from
 *              its predecessor's totals, so a counter never goes back when a worker dies;
 *   families   one table (metrics_defs.c): name, help, type, labels, buckets; a label is a
 *              fixed list, the route table, the HTTP status, or a table of values learnt at
 *              run time (campaigns, coupons, exams): METRICS_TABLE_SIZE values each, in the
 *              shared area, first come first served; later values count under "other";
 *   reading    metrics_render sums every slot in use into the text format 0.0.4.
 *
 * Without an area (prodenthubctl, unit tests that make none) every hook does nothing.
 */
#ifndef PH_METRICS_H
#define PH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum metrics_family {
    MF_HTTP_REQUESTS,           /* {route, code} */
    MF_HTTP_DURATION,           /* histogram {route}, seconds */
    MF_DDB_REQUESTS,            /* {operation} */
    MF_DDB_RETRIES,
    MF_DDB_THROTTLES,
    MF_DDB_ERRORS,
    MF_STRIPE_REQUESTS,         /* {resource} */
    MF_STRIPE_RETRIES,
    MF_STRIPE_FAILURES,
    MF_WEBHOOK_EVENTS,          /* {type, outcome} */
    MF_CACHE_HITS,
    MF_CACHE_MISSES,
    MF_CHECKOUTS_OPENED,        /* {campaign} */
    MF_CHECKOUTS_PAID,          /* {campaign} */
    MF_PAYMENTS,                /* {campaign, outcome} */
    MF_COUPON_REDEMPTIONS,      /* {coupon} */
    MF_MOCK_REGISTRATIONS,      /* {exam, tier} */
    MF_SCHOLARSHIP_DISCOUNT,    /* histogram, ratio of the price */
    MF_COUNT
};

/* What a label's values are. */
enum metrics_kind {
    MK_LIST,                    /* a fixed list; the last value catches the rest */
    MK_ROUTE,                   /* the route table's patterns (metrics_set_routes) */
    MK_CODE,                    /* an HTTP status code */
    MK_TABLE                    /* values learnt at run time, in a shared table */
};

/* The tables of values learnt at run time; value 0 of each is "other". */
enum metrics_table_id { MT_CAMPAIGN, MT_COUPON, MT_EXAM, MT_COUNT };

#define METRICS_TABLE_SIZE 32   /* values per table, "other" included */
#define METRICS_VALUE_MAX 48    /* bytes of a learnt value, with its NUL; longer is "other" */
#define METRICS_ROUTES 64       /* route label values: the table's routes, then "none" */
#define METRICS_ROUTE_NONE (METRICS_ROUTES - 1)     /* no route matched */
#define METRICS_LABELS 2        /* labels per family at most */

enum metrics_type { MT_TYPE_COUNTER, MT_TYPE_HISTOGRAM };

struct metrics_label {
    const char *name;
    enum metrics_kind kind;
    const char *const *values;  /* MK_LIST: NULL-ended */
    enum metrics_table_id table;    /* MK_TABLE */
};

struct metrics_def {
    const char *name;           /* without _total, _bucket...: those are added */
    const char *help;
    enum metrics_type type;
    size_t nlabels;
    struct metrics_label labels[METRICS_LABELS];
    const double *bounds;       /* histogram: the upper bounds, ascending */
    size_t nbounds;
    double scale;               /* histogram: the sum is kept in units of 1/scale */
    int zeros;                  /* print every series, zero or not (small fixed lists) */
};

extern const struct metrics_def metrics_defs[MF_COUNT];

/* The HTTP status codes the code label names; any other counts as "other". */
extern const int metrics_codes[];
extern const size_t metrics_codes_count;

/* --- the area: the master's side --------------------------------------------------------- */

/* Map the shared area with nslots slots: 0, or -1 (mmap failed; errno set). */
int metrics_create(size_t nslots);
void metrics_destroy(void);
/* Slot is in use from now on (raises the count of slots summed). */
void metrics_slot_used(size_t slot);
/* A worker died unexpectedly and is replaced. */
void metrics_restart(void);

/* --- a worker's side: hooks, no-ops until metrics_attach -------------------------------- */

/* Count into slot from now on (a worker, after fork). */
void metrics_attach(size_t slot);

/* Add 1 to the series of family f at label indices i, j (0 for an absent label). */
void metrics_inc(enum metrics_family f, size_t i, size_t j);
void metrics_add(enum metrics_family f, size_t i, size_t j, uint64_t n);
/* Add 1 where the first label (MK_TABLE) is value and the second is index j. */
void metrics_inc_value(enum metrics_family f, const char *value, size_t j);
/* Observe v in histogram f at label index i. */
void metrics_observe(enum metrics_family f, size_t i, double v);

/* The index of value in label n of family f (MK_LIST): the last value when not listed. */
size_t metrics_index(enum metrics_family f, size_t n, const char *value);
/* The index of an HTTP status in the code label. */
size_t metrics_code(int status);

/* The route label's value for index i: a pattern, "none", or NULL when unused. */
void metrics_set_routes(const char *(*label)(size_t i));

/* --- reading ----------------------------------------------------------------------------- */

/* The sum over every slot in use of family f's word w (metrics_render's source). */
uint64_t metrics_sum(enum metrics_family f, size_t w);
/* The value of learnt table t at index i, or NULL when unused. */
const char *metrics_table_value(enum metrics_table_id t, size_t i);
uint64_t metrics_restarts(void);
/* 1 when there is an area (made here or inherited from the master). */
int metrics_active(void);
/* Words of a family in a slot; the route label's value at i (or NULL). */
size_t metrics_words(enum metrics_family f);
const char *metrics_route_label(size_t i);
/* The number of values of a label (its list's, the routes', the codes', a table's). */
size_t metrics_label_size(const struct metrics_label *l);

/* Every family, in the text format, summed over the slots in use: APP_OK or APP_ENOMEM
 * (out's ceiling).  Without an area: only the build information. */
int metrics_render(struct buf *out);

/* A gauge of one value, with its HELP and TYPE, appended to out (the route's own gauges). */
int metrics_render_gauge(struct buf *out, const char *name, const char *help, double v);

#endif
