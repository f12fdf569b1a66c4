/*
 * What is published of a cohort's scores (lib/stats.h, "What is published"): the cells, the
 * merged bands, the whole-point mean, the order statistics from the order cohort, and the rule
 * that spaces snapshots.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stats.h"

long
stats_cell(long x, long top)
{
    if (x < 0)
        x = 0;
    if (top >= 2 && top % 2 == 0 && x >= top)
        return top / 2 - 1;                        /* {top-2, top-1, top} */
    return x / 2;
}

long
stats_cell_mid2(long cell, long top)
{
    if (top >= 2 && top % 2 == 0 && cell == top / 2 - 1)
        return 2 * (top - 1);
    return 4 * cell + 1;
}

long
stats_cell_mean(long long sum_mid2, size_t n)
{
    if (n == 0)
        return 0;
    /* floor(sum / 2n + 1/2) */
    return (long)((sum_mid2 + (long long)n) / (2 * (long long)n));
}

static int
cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

/* The bands of sorted x[0..n-1] (each <= top), merged upward to at least k each. */
static void
bands(const long *x, size_t n, long w, long top, size_t k, struct stats_public *out)
{
    long last = (top - 1) / w, b, start = 0;
    size_t i = 0, j, acc = 0;

    out->bands = xcalloc(n / k + 1, sizeof(*out->bands));
    while (i < n) {
        b = x[i] / w < last ? x[i] / w : last;
        for (j = i; j < n && (x[j] / w < last ? x[j] / w : last) == b; j++)
            ;
        acc += j - i;
        i = j;
        if (acc >= k) {
            out->bands[out->nbands].from = start;
            out->bands[out->nbands].to = b == last ? top : (b + 1) * w - 1;
            out->bands[out->nbands++].count = acc;
            start = (b + 1) * w;
            acc = 0;
        }
    }
    if (out->nbands == 0) {
        out->bands[0].from = 0;
        out->nbands = 1;
    }
    /* What is left (fewer than k) joins the last band, which runs to the top. */
    out->bands[out->nbands - 1].count += acc;
    out->bands[out->nbands - 1].to = top;
}

int
stats_publish(const long *scores, size_t n, size_t passed, const struct stats_rule *r,
              struct stats_public *out)
{
    size_t k = r->min_cohort ? r->min_cohort : 1, i;
    long w = r->band_width < 2 ? 2 : r->band_width + (r->band_width & 1);
    long long mid2 = 0;
    long *x;
    double *d;

    memset(out, 0, sizeof(*out));
    out->pass_rate_bp = -1;
    if (n == 0 || passed > n || r->top < 1)
        return -1;
    for (i = 0; i < n; i++)
        if (scores[i] < 0)
            return -1;
    x = xmalloc(n * sizeof(*x));
    for (i = 0; i < n; i++) {
        x[i] = scores[i] < r->top ? scores[i] : r->top;
        mid2 += stats_cell_mid2(stats_cell(x[i], r->top), r->top);
    }
    qsort(x, n, sizeof(*x), cmp_long);
    out->count = n;
    out->mean = stats_cell_mean(mid2, n);
    bands(x, n, w, r->top, k, out);
    if (n >= k && n >= r->order_cohort) {
        d = xmalloc(n * sizeof(*d));
        for (i = 0; i < n; i++)
            d[i] = (double)x[i];
        stats_compute(d, n, &out->exact);
        free(d);
        out->order = 1;
        out->pass_rate_bp = stats_pass_rate_bp(passed, n);
    }
    free(x);
    return 0;
}

void
stats_public_free(struct stats_public *p)
{
    free(p->bands);
    p->bands = NULL;
    p->nbands = 0;
}

int
stats_snapshot_due(size_t n, size_t published, size_t min_cohort)
{
    return n >= published && n - published >= min_cohort;
}
