/*
 * The parts of lib/cluster.c and lib/cluster_assess.c that only they share: the rules as
 * loaded, and the helpers both use.  Not for other modules (they include cluster.h).
 */
#ifndef PH_CLUSTER_INT_H
#define PH_CLUSTER_INT_H

#include <stddef.h>

#include "cluster.h"

#define MAX_RULES 32
#define ROADMAP_MIN 4
#define ROADMAP_MAX 8
#define MAX_WEEK 104
#define FOCUS_MAX 120
#define ACTIVITIES_MAX 600
#define MAX_FILE (256 * 1024)

enum metric { M_UNANSWERED, M_ACCURACY, M_OVERALL, M_CLINICAL, M_THEORY, M_COUNT };

extern const char *const cluster_metric_names[M_COUNT];

/* Every metric has a MinPct (>=) and a MaxPct (<) condition. */
#define NCONDS (2 * M_COUNT)

struct cond {
    enum metric metric;
    int min;                    /* 1: metric >= pct; 0: metric < pct */
    int pct;
};

struct rule {
    int cluster;
    struct cond conds[NCONDS];
    size_t nconds;
    char *reason;
};

struct week {
    char *week, *focus, *activities;
};

struct cluster {
    char *name, *plan_id, *description;
    struct week roadmap[ROADMAP_MAX];
    size_t nroadmap;
};

struct cluster_rules {
    int pass_mark;
    struct cluster clusters[CLUSTER_COUNT];     /* clusters[i] has id i + 1 */
    struct rule rules[MAX_RULES];
    size_t nrules;
};

/* Format fmt into err; returns -1 (for "return cluster_fail(...)"). */
int cluster_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The placeholder at p ("{clinical}...") as a metric, M_COUNT for {passMark}, and its
 * length in *len; -1 when p does not start a placeholder.
 */
int cluster_placeholder_at(const char *p, size_t *len);

#endif
