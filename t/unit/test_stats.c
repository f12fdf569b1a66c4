/*
 * lib/stats.c: hand-computed cohorts, then 50 random cohorts cross-checked against Python's
 * statistics module (mean, median, pstdev, quantiles(n=100, method='inclusive')), the mid-rank
 * percentile rank, the half-up pass rate and 2-decimal rounding (skipped without Python).
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "../../lib/stats.h"
#include "unit.h"

#define PYTHON "/usr/bin/python3"

#define ck_near(got, want) \
    ck_assert_msg(fabs((got) - (want)) <= 1e-9, "%s = %.17g, want %.17g", #got, (double)(got), \
                  (double)(want))

static void
check_stats(const struct stats *s, double mean, double median, double sd, double min,
            double max, double p10, double p25, double p50, double p75, double p90)
{
    ck_near(s->mean, mean);
    ck_near(s->median, median);
    ck_near(s->stddev, sd);
    ck_near(s->min, min);
    ck_near(s->max, max);
    ck_near(s->p10, p10);
    ck_near(s->p25, p25);
    ck_near(s->p50, p50);
    ck_near(s->p75, p75);
    ck_near(s->p90, p90);
}

START_TEST(test_refuses_empty_and_non_finite)
{
    double x[] = { 50.0, NAN, 70.0 };
    struct stats s;

    ck_assert_int_eq(stats_compute(x, 0, &s), -1);
    ck_assert_int_eq(stats_compute(x, 3, &s), -1);
    x[1] = INFINITY;
    ck_assert_int_eq(stats_compute(x, 3, &s), -1);
}
END_TEST

START_TEST(test_one)
{
    double x[] = { 71.5 };
    struct stats s;

    ck_assert_int_eq(stats_compute(x, 1, &s), 0);
    ck_assert_uint_eq(s.count, 1);
    check_stats(&s, 71.5, 71.5, 0.0, 71.5, 71.5, 71.5, 71.5, 71.5, 71.5, 71.5);
}
END_TEST

START_TEST(test_two)
{
    double x[] = { 60.0, 40.0 };
    struct stats s;

    /* h = p/100: P10 = 40 * 0.9 + 60 * 0.1 = 42, ...; pstdev = |60 - 40| / 2. */
    ck_assert_int_eq(stats_compute(x, 2, &s), 0);
    ck_assert_uint_eq(s.count, 2);
    check_stats(&s, 50.0, 50.0, 10.0, 40.0, 60.0, 42.0, 45.0, 50.0, 55.0, 58.0);
}
END_TEST

START_TEST(test_five_with_ties)
{
    /* sorted 50 60 70 70 90; deviations from 68: -18 -8 2 2 22, squares sum 880, /5 = 176 */
    double x[] = { 70.0, 50.0, 70.0, 90.0, 60.0 };
    double copy[5];
    struct stats s;

    memcpy(copy, x, sizeof(x));
    ck_assert_int_eq(stats_compute(x, 5, &s), 0);
    ck_assert_uint_eq(s.count, 5);
    /* (n-1)p = 40 → j 0 d 40: (50*60 + 60*40)/100 = 54; 100 → x[1]; 200 → x[2]; 300 → x[3];
     * 360 → j 3 d 60: (70*40 + 90*60)/100 = 82 */
    check_stats(&s, 68.0, 70.0, sqrt(176.0), 50.0, 90.0, 54.0, 60.0, 70.0, 70.0, 82.0);
    ck_assert_msg(memcmp(x, copy, sizeof(x)) == 0, "the caller's array was changed");
}
END_TEST

START_TEST(test_even_median)
{
    /* sorted 55 65 72.5 80: median (65 + 72.5) / 2; mean 272.5 / 4 = 68.125;
     * squared deviations 172.265625 + 9.765625 + 19.140625 + 141.015625 = 342.1875, / 4;
     * (n-1)p = 30 → 55*.7 + 65*.3 = 58; 75 → 55*.25 + 65*.75 = 62.5; 150 → 68.75;
     * 225 → 72.5*.75 + 80*.25 = 74.375; 270 → 72.5*.3 + 80*.7 = 77.75 */
    double x[] = { 55.0, 80.0, 65.0, 72.5 };
    struct stats s;

    ck_assert_int_eq(stats_compute(x, 4, &s), 0);
    check_stats(&s, 68.125, 68.75, sqrt(342.1875 / 4), 55.0, 80.0, 58.0, 62.5, 68.75, 74.375,
                77.75);
}
END_TEST

START_TEST(test_stable_far_from_zero)
{
    /* The textbook sum-of-squares formula loses everything here; pstdev is sqrt(22.5). */
    double x[] = { 1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16 };
    struct stats s;

    ck_assert_int_eq(stats_compute(x, 4, &s), 0);
    ck_near(s.mean, 1e9 + 10);
    ck_near(s.stddev, sqrt(22.5));
}
END_TEST

START_TEST(test_percentile_rank)
{
    double x[] = { 50.0, 60.0, 70.0, 70.0, 90.0 };

    ck_near(stats_percentile_rank(x, 5, 50.0), 10.0);     /* (0 + 1/2) / 5 */
    ck_near(stats_percentile_rank(x, 5, 70.0), 60.0);     /* (2 + 2/2) / 5 */
    ck_near(stats_percentile_rank(x, 5, 65.0), 40.0);
    ck_near(stats_percentile_rank(x, 5, 90.0), 90.0);
    ck_near(stats_percentile_rank(x, 5, 100.0), 100.0);
    ck_near(stats_percentile_rank(x, 5, 10.0), 0.0);
    ck_near(stats_percentile_rank(x, 1, 50.0), 50.0);
    ck_near(stats_percentile_rank(x, 0, 50.0), 0.0);
}
END_TEST

START_TEST(test_pass_rate_bp)
{
    ck_assert_int_eq(stats_pass_rate_bp(3, 4), 7500);
    ck_assert_int_eq(stats_pass_rate_bp(1, 3), 3333);     /* 3333.33 */
    ck_assert_int_eq(stats_pass_rate_bp(2, 3), 6667);     /* 6666.67 */
    ck_assert_int_eq(stats_pass_rate_bp(1, 32), 313);     /* 312.5, half up */
    ck_assert_int_eq(stats_pass_rate_bp(1, 64), 156);     /* 156.25 */
    ck_assert_int_eq(stats_pass_rate_bp(1, 160000), 0);   /* 0.0625 */
    ck_assert_int_eq(stats_pass_rate_bp(1, 20000), 1);    /* 0.5, half up */
    ck_assert_int_eq(stats_pass_rate_bp(0, 5), 0);
    ck_assert_int_eq(stats_pass_rate_bp(5, 5), 10000);
    ck_assert_int_eq(stats_pass_rate_bp(6, 5), -1);
    ck_assert_int_eq(stats_pass_rate_bp(0, 0), -1);
    ck_assert_int_eq(stats_pass_rate_bp(1, SIZE_MAX), -1);
}
END_TEST

static void
check_round2(double v, const char *want)
{
    char out[64];

    stats_round2(v, out, sizeof(out));
    ck_assert_msg(strcmp(out, want) == 0, "stats_round2(%.17g) = \"%s\", want \"%s\"", v, out,
                  want);
}

START_TEST(test_round2)
{
    char small[4];

    check_round2(71.25, "71.25");
    check_round2(-0.5, "-0.50");
    check_round2(0.0, "0.00");
    check_round2(-0.0, "0.00");
    check_round2(-0.001, "0.00");
    check_round2(-0.004999, "0.00");
    check_round2(-0.005, "-0.01");
    check_round2(0.005, "0.01");
    check_round2(0.004999999, "0.00");
    check_round2(0.125, "0.13");
    check_round2(0.115, "0.12");                  /* binary 0.11500000000000000499 */
    check_round2(2.675, "2.68");                  /* binary 2.67499999999999982236 */
    check_round2(1.005, "1.01");                  /* binary 1.00499999999999989342 */
    check_round2(-2.675, "-2.68");
    check_round2(71.24499999999999, "71.25");     /* float noise on 71.245 */
    check_round2(71.2449, "71.24");
    check_round2(99.995, "100.00");
    check_round2(99.99499, "99.99");
    check_round2(100.0, "100.00");
    check_round2(7.0, "7.00");
    check_round2(123456.789, "123456.79");
    check_round2(999999999999.995, "1000000000000.00");
    check_round2(1e-320, "0.00");
    check_round2(-1e-320, "0.00");
    check_round2(1e15, "1000000000000000.00");
    check_round2(NAN, "nan");
    stats_round2(71.25, small, sizeof(small));
    ck_assert_str_eq(small, "71.");
}
END_TEST

/* --- the cross-check against Python ---------------------------------------------------- */

#define COHORTS 50

/* splitmix64: a fixed sequence on every platform, unlike rand(). */
static uint64_t
next_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct cohort {
    double x[300];
    size_t n;
    double probe;              /* a score to rank */
    size_t passed;
};

static const char py_check[] =
    "import statistics, sys\n"
    "from decimal import Decimal, ROUND_HALF_UP\n"
    "from fractions import Fraction\n"
    "for line in open(sys.argv[1]):\n"
    "    f = line.split()\n"
    "    probe, passed, d = float(f[0]), int(f[1]), [float(v) for v in f[2:]]\n"
    "    n = len(d)\n"
    "    q = [d[0]] * 99 if n == 1 else statistics.quantiles(d, n=100, method='inclusive')\n"
    "    rank = 100 * (sum(v < probe for v in d) + Fraction(sum(v == probe for v in d), 2)) / n\n"
    "    bp = int(Fraction(10000 * passed, n) + Fraction(1, 2))\n"
    "    m = statistics.mean(d)\n"
    "    r2 = Decimal('%.15g' % m).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)\n"
    "    print(repr(m), repr(statistics.median(d)), repr(statistics.pstdev(d)),\n"
    "          *(repr(q[p - 1]) for p in (10, 25, 50, 75, 90)),\n"
    "          repr(float(rank)), bp, '%s' % r2)\n";

static void
make_cohorts(struct cohort *c)
{
    uint64_t seed = 20260314;
    size_t i, k;

    for (i = 0; i < COHORTS; i++) {
        c[i].n = i < 3 ? i + 1 : 1 + next_rand(&seed) % 300;
        for (k = 0; k < c[i].n; k++) {
            if (i % 2)
                c[i].x[k] = (double)(next_rand(&seed) % 201) / 2.0;   /* 0, 0.5, .. 100 */
            else
                c[i].x[k] = (double)(next_rand(&seed) % 101);
        }
        c[i].probe = c[i].x[next_rand(&seed) % c[i].n];
        if (i % 3 == 0)
            c[i].probe = (double)(next_rand(&seed) % 201) / 2.0;
        c[i].passed = next_rand(&seed) % (c[i].n + 1);
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Run Python over the cohorts written to path; its stdout, NUL-terminated (caller frees). */
static char *
run_python(const char *path)
{
    char *argv[6];
    pid_t pid;
    int fds[2], status;
    char *text;

    argv[0] = "python3";
    argv[1] = "-I";                                /* no user site, no PYTHON* variables */
    argv[2] = "-c";
    argv[3] = (char *)py_check;
    argv[4] = (char *)path;
    argv[5] = NULL;
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(PYTHON, argv);
        _exit(127);
    }
    close(fds[1]);
    text = unit_read_fd(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "Python's statistics check failed (status %d; see stderr)", status);
    return text;
}

/* The next number on *p (Python's repr of a float, or an integer). */
static double
next_num(char **p)
{
    char *end;
    double v = strtod(*p, &end);

    ck_assert_msg(end != *p, "Python's output ended early: \"%.40s\"", *p);
    *p = end;
    return v;
}

START_TEST(test_matches_python)
{
    static struct cohort c[COHORTS];
    double sorted[300], want[10];
    char path[64], word[32], got2[32];
    struct stats s;
    char *out, *p, *q;
    size_t i, k;
    FILE *f;
    int fd;

    if (access(PYTHON, X_OK) != 0)
        return;                /* no Python here: nothing to cross-check with */
    make_cohorts(c);
    snprintf(path, sizeof(path), "/tmp/ph-test-stats-XXXXXX");
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    for (i = 0; i < COHORTS; i++) {
        fprintf(f, "%.1f %zu", c[i].probe, c[i].passed);
        for (k = 0; k < c[i].n; k++)
            fprintf(f, " %.1f", c[i].x[k]);
        fputc('\n', f);
    }
    ck_assert_int_eq(fclose(f), 0);
    out = run_python(path);
    unlink(path);

    p = out;
    for (i = 0; i < COHORTS; i++) {
        for (k = 0; k < 10; k++)
            want[k] = next_num(&p);
        while (*p == ' ')
            p++;
        q = word;
        while (*p && *p != '\n' && q < word + sizeof(word) - 1)
            *q++ = *p++;
        *q = '\0';

        ck_assert_int_eq(stats_compute(c[i].x, c[i].n, &s), 0);
        ck_assert_uint_eq(s.count, c[i].n);
        ck_near(s.mean, want[0]);
        ck_near(s.median, want[1]);
        ck_near(s.stddev, want[2]);
        ck_near(s.p10, want[3]);
        ck_near(s.p25, want[4]);
        ck_near(s.p50, want[5]);
        ck_near(s.p75, want[6]);
        ck_near(s.p90, want[7]);
        memcpy(sorted, c[i].x, c[i].n * sizeof(double));
        qsort(sorted, c[i].n, sizeof(double), cmp_double);
        ck_near(s.min, sorted[0]);
        ck_near(s.max, sorted[c[i].n - 1]);
        ck_near(stats_percentile_rank(sorted, c[i].n, c[i].probe), want[8]);
        ck_assert_int_eq(stats_pass_rate_bp(c[i].passed, c[i].n), (int)want[9]);
        stats_round2(s.mean, got2, sizeof(got2));
        ck_assert_msg(strcmp(got2, word) == 0, "cohort %zu: round2(%.17g) = %s, Python %s", i,
                      s.mean, got2, word);
    }
    while (*p == '\n')
        p++;
    ck_assert_msg(*p == '\0', "Python printed more lines than cohorts");
    free(out);
}
END_TEST

static Suite *
stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("cohort");

    tcase_add_test(tc, test_refuses_empty_and_non_finite);
    tcase_add_test(tc, test_one);
    tcase_add_test(tc, test_two);
    tcase_add_test(tc, test_five_with_ties);
    tcase_add_test(tc, test_even_median);
    tcase_add_test(tc, test_stable_far_from_zero);
    tcase_add_test(tc, test_percentile_rank);
    tcase_add_test(tc, test_pass_rate_bp);
    tcase_add_test(tc, test_round2);
    tcase_add_test(tc, test_matches_python);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(stats_suite)
