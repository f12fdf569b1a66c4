/*
 * lib/stats_publish.c: the cells, the merged bands, the whole-point mean, the order cohort and
 * the snapshot rule, by hand; then issue 12 item 12 by brute force: every cohort of a few
 * whole scores is enumerated and no published figure may give a score away, neither to
 * everyone else pooling their own scores nor to an outsider.  The same checks run on
 * publications that do give scores away (the statistics published before, the pass rate or
 * an exact mean under the order cohort) and must catch them.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/stats.h"
#include "unit.h"

START_TEST(test_cells)
{
    static const struct {
        long x, top, cell, mid2;
    } c[] = {
        {0, 100, 0, 1}, {1, 100, 0, 1}, {2, 100, 1, 5}, {97, 100, 48, 193},
        {98, 100, 49, 198}, {99, 100, 49, 198}, {100, 100, 49, 198},   /* the top triple */
        {100, 101, 50, 201}, {101, 101, 50, 201},                       /* odd top: a pair */
        {0, 1, 0, 1}, {1, 1, 0, 1}, {0, 2, 0, 2}, {2, 2, 0, 2},
        {7, 0, 3, 13}, {-3, 100, 0, 1},                                 /* unknown top */
    };
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        ck_assert_msg(stats_cell(c[i].x, c[i].top) == c[i].cell, "cell(%ld, %ld) = %ld",
                      c[i].x, c[i].top, stats_cell(c[i].x, c[i].top));
        ck_assert_int_eq(stats_cell_mid2(c[i].cell, c[i].top), c[i].mid2);
    }
    ck_assert_int_eq(stats_cell_mean(0, 0), 0);
    ck_assert_int_eq(stats_cell_mean(875, 10), 44);      /* 43.75 */
    ck_assert_int_eq(stats_cell_mean(870, 10), 44);      /* 43.5, half up */
    ck_assert_int_eq(stats_cell_mean(869, 10), 43);
}
END_TEST

START_TEST(test_publish_ten)
{
    /* Bands [0-9]:1 [10-19]:2 → [0-19]:3; [20-29]:1 [40-49]:2 → [20-49]:3; [50-79]:3;
     * [90-100]:1 is fewer than 3 and joins the last.  Cells' midpoints 2.5 12.5 14.5 26.5
     * 40.5 44.5 58.5 62.5 76.5 99 sum to 437.5: mean 43.75 → 44. */
    long x[] = { 63, 3, 100, 12, 44, 15, 27, 41, 58, 77 };
    struct stats_rule r = { 3, 20, 10, 100 };
    struct stats_public p;

    ck_assert_int_eq(stats_publish(x, 10, 4, &r, &p), 0);
    ck_assert_uint_eq(p.count, 10);
    ck_assert_int_eq(p.mean, 44);
    ck_assert_uint_eq(p.nbands, 3);
    ck_assert_int_eq(p.bands[0].from, 0);
    ck_assert_int_eq(p.bands[0].to, 19);
    ck_assert_uint_eq(p.bands[0].count, 3);
    ck_assert_int_eq(p.bands[1].from, 20);
    ck_assert_int_eq(p.bands[1].to, 49);
    ck_assert_uint_eq(p.bands[1].count, 3);
    ck_assert_int_eq(p.bands[2].from, 50);
    ck_assert_int_eq(p.bands[2].to, 100);
    ck_assert_uint_eq(p.bands[2].count, 4);
    ck_assert_int_eq(p.order, 0);
    ck_assert_int_eq(p.pass_rate_bp, -1);
    stats_public_free(&p);

    /* Under the minimum every score is in one band from 0 to the top. */
    r.min_cohort = 11;
    ck_assert_int_eq(stats_publish(x, 10, 4, &r, &p), 0);
    ck_assert_uint_eq(p.nbands, 1);
    ck_assert_int_eq(p.bands[0].from, 0);
    ck_assert_int_eq(p.bands[0].to, 100);
    ck_assert_uint_eq(p.bands[0].count, 10);
    stats_public_free(&p);

    /* From the order cohort: the exact statistics and the pass rate. */
    r.min_cohort = 5;
    r.order_cohort = 10;
    ck_assert_int_eq(stats_publish(x, 10, 4, &r, &p), 0);
    ck_assert_int_eq(p.order, 1);
    ck_assert_int_eq(p.pass_rate_bp, 4000);
    ck_assert(p.exact.min == 3.0 && p.exact.max == 100.0 && p.exact.median == 42.5);
    stats_public_free(&p);

    ck_assert_int_eq(stats_publish(x, 0, 0, &r, &p), -1);
    ck_assert_int_eq(stats_publish(x, 10, 11, &r, &p), -1);
    r.top = 0;
    ck_assert_int_eq(stats_publish(x, 10, 4, &r, &p), -1);
}
END_TEST

START_TEST(test_snapshot_due)
{
    static const struct {
        size_t n, published, k;
        int due;
    } c[] = {
        {4, 0, 5, 0}, {5, 0, 5, 1}, {9, 5, 5, 0}, {10, 5, 5, 1}, {3, 5, 5, 0}, {5, 5, 5, 0},
        {0, 0, 0, 1}, {SIZE_MAX, SIZE_MAX - 5, 5, 1},
    };
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        ck_assert_msg(stats_snapshot_due(c[i].n, c[i].published, c[i].k) == c[i].due,
                      "case %zu", i);
}
END_TEST

/* --- issue 12 item 12 by brute force --------------------------------------------------- */

#define MAXN 8
#define PUB_MAX 512
#define SLOTS (1u << 19)               /* the outsider's table: publications seen */

enum how {
    RULE,                              /* stats_publish, as the service publishes */
    BEFORE,                            /* the exact statistics to 2 decimals from 5 results */
    PASS_RATE,                         /* the rule, with the pass rate under the order cohort */
    EXACT_MEAN,                        /* the rule, with the mean of the exact scores */
};

static const struct pub_case {
    const char *name;
    size_t n_from, n_to;               /* cohort sizes */
    long top, band;                    /* scores 0..top, bands before merging */
    size_t k, order;
    long mark;                         /* passed: score >= mark */
    enum how how;
    int leaks;                         /* 1: the checks must find a score given away */
} cases[] = {
    {"the issue's cohort: 5 of 0-20", 5, 5, 20, 10, 5, 20, 10, RULE, 0},
    {"5 and 6 of 0-21 (an odd top), bands of 4 merged to 2", 5, 6, 21, 4, 2, 20, 11, RULE, 0},
    {"6 to 8 of 0-12, bands of one cell merged to 3", 6, 8, 12, 2, 3, 20, 7, RULE, 0},
    {"5 of 0-15, bands never merged (k 1)", 5, 5, 15, 6, 1, 20, 8, RULE, 0},
    {"5 and 6 of 0-17, an odd band width", 5, 6, 17, 5, 2, 20, 9, RULE, 0},
    {"5 to 8 of 0-2 (one triple)", 5, 8, 2, 2, 2, 20, 1, RULE, 0},
    {"5 to 8 of 0-1", 5, 8, 1, 2, 2, 20, 1, RULE, 0},
    {"7 of 0-10, order statistics from 8", 7, 7, 10, 4, 2, 8, 5, RULE, 0},
    {"before: exact statistics of 5 of 0-20", 5, 5, 20, 10, 5, 5, 10, BEFORE, 1},
    {"order statistics from the cohort minimum", 5, 5, 10, 10, 5, 5, 5, RULE, 1},
    {"the pass rate under the order cohort", 5, 5, 11, 4, 5, 20, 5, PASS_RATE, 1},
    {"the mean of the exact scores, to a whole point", 6, 6, 12, 4, 2, 20, 6, EXACT_MEAN, 1},
};

/* What c publishes of x[0..n-1], as text: equal texts are equal publications. */
static void
publication(const struct pub_case *c, const long *x, size_t n, char *out)
{
    struct stats_rule r = { c->k, c->order, c->band, c->top };
    struct stats_public p;
    struct stats s;
    double d[MAXN];
    size_t i, passed = 0, len;
    long long sum = 0;

    for (i = 0; i < n; i++) {
        passed += x[i] >= c->mark;
        sum += x[i];
        d[i] = (double)x[i];
    }
    if (c->how == BEFORE) {
        stats_compute(d, n, &s);
        {
            const double v[10] = { s.mean, s.median, s.stddev, s.min, s.max, s.p10, s.p25,
                                   s.p50, s.p75, s.p90 };

            len = (size_t)snprintf(out, PUB_MAX, "%zu %d", n, stats_pass_rate_bp(passed, n));
            for (i = 0; i < 10; i++) {
                out[len++] = ' ';
                stats_round2(v[i], out + len, PUB_MAX - len);
                len += strlen(out + len);
            }
        }
        return;
    }
    if (stats_publish(x, n, passed, &r, &p) != 0)   /* no ck_assert: each one is a write */
        ck_abort_msg("stats_publish refused a cohort");
    if (c->how == EXACT_MEAN)
        p.mean = (long)((2 * sum + (long long)n) / (2 * (long long)n));
    if (c->how == PASS_RATE)
        p.pass_rate_bp = stats_pass_rate_bp(passed, n);
    len = (size_t)snprintf(out, PUB_MAX, "%zu %ld %d |", p.count, p.mean, p.pass_rate_bp);
    for (i = 0; i < p.nbands; i++)
        len += (size_t)snprintf(out + len, PUB_MAX - len, " %ld-%ld:%zu", p.bands[i].from,
                                p.bands[i].to, p.bands[i].count);
    if (p.order)
        snprintf(out + len, PUB_MAX - len, " | %.17g %.17g %.17g %.17g %.17g", p.exact.min,
                 p.exact.max, p.exact.median, p.exact.p25, p.exact.p75);
    stats_public_free(&p);
}

/*
 * Everyone else pooling: candidate i of x (any one holding each distinct score) could have
 * scored something else, everyone else unchanged, for the same publication.
 */
static int
pooled_cannot_tell(const struct pub_case *c, const long *x, size_t n, size_t i,
                   const char *pub)
{
    char alt[PUB_MAX];
    long y[MAXN], d, v;
    int side;

    memcpy(y, x, n * sizeof(*y));
    for (d = 1; d <= c->top; d++) {
        for (side = -1; side <= 1; side += 2) {
            v = x[i] + side * d;
            if (v < 0 || v > c->top)
                continue;
            y[i] = v;
            publication(c, y, n, alt);
            if (strcmp(alt, pub) == 0)
                return 1;
        }
    }
    return 0;
}

struct outsider {
    uint64_t key[SLOTS];               /* FNV-1a of a publication; 0: empty */
    uint64_t common[SLOTS];            /* the scores present in every cohort published so */
};

static uint64_t
fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
    return h ? h : 1;
}

/* The outsider sees pub for a cohort holding the scores in mask. */
static void
outsider_sees(struct outsider *o, const char *pub, uint64_t mask)
{
    uint64_t h = fnv(pub);
    size_t at = (size_t)(h & (SLOTS - 1));

    while (o->key[at] && o->key[at] != h)
        at = (at + 1) & (SLOTS - 1);
    if (!o->key[at]) {
        o->key[at] = h;
        o->common[at] = mask;
    } else {
        o->common[at] &= mask;
    }
}

/* Enumerate every cohort of c (scores ascending, repeats allowed); the count of scores given
 * away, the first described in *what. */
static size_t
brute_force(const struct pub_case *c, struct outsider *o, char *what, size_t wlen)
{
    char pub[PUB_MAX];
    size_t n, i, leaks = 0;
    long x[MAXN];
    uint64_t mask;

    for (n = c->n_from; n <= c->n_to; n++) {
        memset(o, 0, sizeof(*o));
        memset(x, 0, sizeof(x));
        for (;;) {
            publication(c, x, n, pub);
            mask = 0;
            for (i = 0; i < n; i++) {
                mask |= 1ULL << x[i];
                if ((i == 0 || x[i] != x[i - 1]) && !pooled_cannot_tell(c, x, n, i, pub)) {
                    if (leaks++ == 0)
                        snprintf(what, wlen, "n %zu: everyone else can tell score %ld from "
                                 "\"%s\"", n, x[i], pub);
                    if (c->leaks)
                        return leaks;          /* caught: that is all a leaking case needs */
                }
            }
            outsider_sees(o, pub, mask);
            /* The next ascending cohort. */
            for (i = n; i > 0 && x[i - 1] == c->top; i--)
                ;
            if (i == 0)
                break;
            x[i - 1]++;
            for (; i < n; i++)
                x[i] = x[i - 1];
        }
        for (i = 0; i < SLOTS; i++) {
            if (o->key[i] && o->common[i]) {
                if (leaks++ == 0)
                    snprintf(what, wlen, "n %zu: an outsider knows someone scored %d", n,
                             __builtin_ctzll(o->common[i]));
            }
        }
    }
    return leaks;
}

START_TEST(test_issue12_item12_no_score_given_away)
{
    static struct outsider o;
    const struct pub_case *c = &cases[_i];
    char what[PUB_MAX + 128] = "";
    size_t leaks;

    ck_assert(c->n_to <= MAXN && c->top < 64);
    leaks = brute_force(c, &o, what, sizeof(what));
    if (c->leaks)
        ck_assert_msg(leaks > 0, "%s: the checks found nothing to catch", c->name);
    else
        ck_assert_msg(leaks == 0, "%s: %zu scores given away; %s", c->name, leaks, what);
}
END_TEST

static Suite *
stats_publish_suite(void)
{
    Suite *s = suite_create("stats_publish");
    TCase *tc = tcase_create("publish");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cells);
    tcase_add_test(tc, test_publish_ten);
    tcase_add_test(tc, test_snapshot_due);
    tcase_add_loop_test(tc, test_issue12_item12_no_score_given_away, 0,
                        sizeof(cases) / sizeof(cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(stats_publish_suite)
