/*
 * Statistics of a mock-exam cohort's scores: exact definitions, each the same as Python's
 * statistics module (and numpy's defaults), so a number on a results page can be re-derived
 * by anyone with the scores.
 *
 * x[0] <= x[1] <= ... <= x[n-1] are the scores sorted ascending (0-based), n >= 1.
 *
 *   mean     (x[0] + ... + x[n-1]) / n, summed with compensation (Neumaier), so it is the
 *            correctly rounded mean whenever the sum is exact (scores in halves: always).
 *            = statistics.mean.
 *   median   x[n/2] when n is odd, (x[n/2-1] + x[n/2]) / 2 when even.  = statistics.median.
 *   stddev   the POPULATION standard deviation sqrt(sum((x[i] - mean)^2) / n): the cohort
 *            is the whole population, not a sample of one.  = statistics.pstdev,
 *            numpy.std(ddof=0).  Computed by the corrected two-pass algorithm (Chan, Golub
 *            and LeVeque): d[i] = x[i] - mean, var = (sum(d^2) - sum(d)^2 / n) / n, which stays
 *            accurate when the scores sit far from zero (no sum-of-squares cancellation).
 *   min, max x[0], x[n-1].
 *   P(p)     for p in 1..99, linear interpolation between the closest ranks, with x[0] the
 *            0th and x[n-1] the 100th percentile:
 *                j = floor((n-1) * p / 100),  d = (n-1) * p - 100 * j   (integers, 0 <= d < 100)
 *                P(p) = (x[j] * (100 - d) + x[j+1] * d) / 100
 *            i.e. position h = (n-1) * p / 100 and P = x[j] + (h - j) * (x[j+1] - x[j]).
 *            = statistics.quantiles(x, n=100, method='inclusive')[p-1], numpy.percentile's
 *            default ('linear'), Excel's PERCENTILE.INC.  So P50 is the median.
 *
 * n == 1: every location statistic is the one score and stddev is 0.
 */
#ifndef PH_STATS_H
#define PH_STATS_H

#include <stddef.h>

struct stats {
    size_t count;
    double mean;
    double median;
    double stddev;             /* population (statistics.pstdev) */
    double min;
    double max;
    double p10;
    double p25;
    double p50;
    double p75;
    double p90;
};

/*
 * Fill out from scores[0..n-1] as defined above.  Sorts a private copy: the caller's array is
 * untouched.  0, or -1 when n is 0 or a score is not finite (NaN or infinite).
 */
int stats_compute(const double *scores, size_t n, struct stats *out);

/*
 * Where a candidate stands: the mid-rank percentile rank of score in the cohort sorted[0..n-1]
 * (ascending), 100 * (below + equal / 2) / n, where below counts the scores strictly less than
 * score and equal those equal to it.  Lowest of 5 distinct scores → 10, highest → 90; a score
 * above everyone → 100, below everyone → 0.  0 when n is 0.
 */
double stats_percentile_rank(const double *sorted, size_t n, double score);

/*
 * The pass rate in basis points (1/100 of a percent), 10000 * passed / n rounded half up
 * (1 of 32 → 312.5 → 313), in exact integer arithmetic.  -1 when n is 0, passed > n, or n is
 * past SIZE_MAX / 20001 (the arithmetic would overflow; no cohort is that large).
 */
int stats_pass_rate_bp(size_t passed, size_t n);

/*
 * v rounded to 2 decimals, half away from zero, as text ("71.25", -0.5 → "-0.50", 0.005 →
 * "0.01", -0.005 → "-0.01"; never "-0.00").  The rounding is decided on v's 15 significant
 * decimal digits, the digits a double holds faithfully, not on its binary expansion: so
 * 2.675 (stored as 2.67499999999999982...) gives "2.68", as a reader of the number expects,
 * and float noise such as 71.24499999999999 for 71.245 does not flip the result.  |v| >= 1e12
 * (never a score) is printed as "%.2f"; NaN and infinities as "%.2f" prints them ("nan").
 * Truncated to fit n bytes, as snprintf.
 */
void stats_round2(double v, char *out, size_t n);

/*
 * --- What is published (docs/MOCK_EXAMS.md, "Statistics") --------------------------------
 *
 * Scores are whole numbers from 0 to the top of the scale.  Every figure published for a cohort
 * under the order cohort depends on a score only through its cell: the pair {2j, 2j+1}, and
 * when the top is even the last cell is the triple {top-2, top-1, top}, so no cell is a single
 * value.  Changing any one score within its cell changes nothing published: even everyone
 * else pooling their own scores learns a candidate's cell, never the score.
 *
 *   mean       the mean of the cells' midpoints, rounded half up to a whole point (within
 *              a point and a half of the exact mean; within one unless at the top).
 *   bands      a histogram of band_width-point bands from 0 (the last running to the top),
 *              merged upward until each holds at least min_cohort scores: the first band
 *              starts at 0 and the last ends at the top, whatever the scores.  An even
 *              band_width (an odd one is taken up by one) keeps each cell in one band.
 *   order      from order_cohort scores (never under min_cohort): the exact statistics
 *              above (median, stddev, min, max, p10..p90) and the pass rate.  Under it
 *              these are withheld: they are single scores, and the pass rate cuts the scale
 *              at a pass mark this service is not told, which may split a cell.
 */

struct stats_rule {
    size_t min_cohort;         /* k: the least count of a band (and of a cohort, a snapshot) */
    size_t order_cohort;       /* order statistics and the pass rate from this many scores */
    long band_width;           /* points per band before merging */
    long top;                  /* the top of the scale (the largest maxScore), >= 1 */
};

struct stats_band {
    long from;                 /* inclusive */
    long to;                   /* inclusive */
    size_t count;
};

struct stats_public {
    size_t count;
    long mean;                 /* whole points, from the cells */
    struct stats_band *bands;  /* ascending, from 0 to the top; stats_public_free() */
    size_t nbands;
    int order;                 /* 1: exact and pass_rate_bp are published */
    struct stats exact;
    int pass_rate_bp;          /* -1 unless order */
};

/* The cell of score x on a scale to top (top <= 0: unknown, pairs only), and twice the
 * midpoint of cell (4j + 1 for a pair, 2 * (top - 1) for the top triple). */
long stats_cell(long x, long top);
long stats_cell_mid2(long cell, long top);

/* The whole-point mean of n scores whose doubled cell midpoints sum to sum_mid2, rounded half
 * up; 0 when n is 0. */
long stats_cell_mean(long long sum_mid2, size_t n);

/*
 * The figures published for scores[0..n-1] (passed of them passed) under rule r.  0, or -1
 * when n is 0, passed > n, a score is negative or r->top < 1.  Scores above the top count as
 * the top.  Release with stats_public_free().
 */
int stats_publish(const long *scores, size_t n, size_t passed, const struct stats_rule *r,
                  struct stats_public *out);
void stats_public_free(struct stats_public *p);

/*
 * 1 when a cohort of n results may replace a published snapshot of published results (0 when
 * none was published): n >= published + min_cohort.  However results came and went, at least
 * n - published of the n were not in the snapshot, so two snapshots never differ by fewer than
 * min_cohort new results (no differencing below the cohort minimum).
 */
int stats_snapshot_due(size_t n, size_t published, size_t min_cohort);

#endif
