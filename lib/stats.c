#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "stats.h"

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* P(p) of the header, on sorted x[0..n-1], n >= 2, 1 <= p <= 99. */
static double
quantile(const double *x, size_t n, unsigned p)
{
    size_t pos = (n - 1) * p;
    size_t j = pos / 100;
    double d = (double)(pos - 100 * j);

    return (x[j] * (100.0 - d) + x[j + 1] * d) / 100.0;
}

int
stats_compute(const double *scores, size_t n, struct stats *out)
{
    double *x;
    double sum = 0.0, comp = 0.0, t, mean, dsum = 0.0, dsq = 0.0, var;
    size_t i;

    if (n == 0)
        return -1;
    for (i = 0; i < n; i++)
        if (!isfinite(scores[i]))
            return -1;

    /* Neumaier's compensated sum: exact while the running sum is exactly representable. */
    for (i = 0; i < n; i++) {
        t = sum + scores[i];
        if (fabs(sum) >= fabs(scores[i]))
            comp += (sum - t) + scores[i];
        else
            comp += (scores[i] - t) + sum;
        sum = t;
    }
    mean = (sum + comp) / (double)n;

    /* Corrected two-pass: the sum(d) term cancels what rounding left in the mean. */
    for (i = 0; i < n; i++) {
        t = scores[i] - mean;
        dsum += t;
        dsq += t * t;
    }
    var = (dsq - dsum * dsum / (double)n) / (double)n;

    x = xmalloc(n * sizeof(*x));
    memcpy(x, scores, n * sizeof(*x));
    qsort(x, n, sizeof(*x), cmp_double);

    memset(out, 0, sizeof(*out));
    out->count = n;
    out->mean = mean;
    out->stddev = var > 0.0 ? sqrt(var) : 0.0;
    out->min = x[0];
    out->max = x[n - 1];
    out->median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2.0;
    if (n == 1) {
        out->p10 = out->p25 = out->p50 = out->p75 = out->p90 = x[0];
    } else {
        out->p10 = quantile(x, n, 10);
        out->p25 = quantile(x, n, 25);
        out->p50 = quantile(x, n, 50);
        out->p75 = quantile(x, n, 75);
        out->p90 = quantile(x, n, 90);
    }
    free(x);
    return 0;
}

/* The first index in sorted[0..n-1] whose value is >= score (strict: > score). */
static size_t
bound(const double *sorted, size_t n, double score, int strict)
{
    size_t lo = 0, hi = n, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (sorted[mid] < score || (strict && sorted[mid] == score))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

double
stats_percentile_rank(const double *sorted, size_t n, double score)
{
    size_t below, upto;

    if (n == 0)
        return 0.0;
    below = bound(sorted, n, score, 0);
    upto = bound(sorted, n, score, 1);
    /* 100 * (below + equal / 2) / n with one rounding: 2 * below + equal is an exact integer. */
    return 100.0 * (double)(below + upto) / (2.0 * (double)n);
}

int
stats_pass_rate_bp(size_t passed, size_t n)
{
    if (n == 0 || passed > n || n > SIZE_MAX / 20001)
        return -1;
    /* floor(10000 * passed / n + 1/2) = floor((20000 * passed + n) / (2 * n)) */
    return (int)((20000 * passed + n) / (2 * n));
}

void
stats_round2(double v, char *out, size_t n)
{
    char e[40];
    const char *p;
    int digit[15], exp = 0, esign, r, i, neg;
    long long cents = 0;

    if (!isfinite(v) || fabs(v) >= 1e12) {
        snprintf(out, n, "%.2f", v);
        return;
    }
    /* 15 significant digits: [-]d.dddddddddddddde[+-]dd */
    snprintf(e, sizeof(e), "%.14e", v);
    p = e;
    neg = *p == '-';
    if (neg)
        p++;
    for (i = 0; i < 15; i++) {
        if (i == 1)
            p++;                                   /* the decimal point */
        digit[i] = *p++ - '0';
    }
    p++;                                           /* 'e' */
    esign = *p++ == '-' ? -1 : 1;
    while (*p >= '0' && *p <= '9')
        exp = exp * 10 + (*p++ - '0');
    exp *= esign;

    /* digit[i] is worth 10^(exp - i): keep those worth 10^-2 and up, round on 10^-3. */
    r = exp + 3;
    for (i = 0; i < r; i++)
        cents = cents * 10 + (i < 15 ? digit[i] : 0);
    if (r >= 0 && r < 15 && digit[r] >= 5)
        cents++;
    snprintf(out, n, "%s%lld.%02lld", neg && cents ? "-" : "", cents / 100, cents % 100);
}
