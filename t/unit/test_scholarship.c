/*
 * The scholarship rules (lib/scholarship.c) against the worked examples of docs/CAMPAIGNS.md,
 * with the real rules file, and the loader's refusals.
 */
#include "config.h"

#include "unit.h"

#include "../../lib/scholarship.h"

static struct scholarship_rules *
real_rules(void)
{
    const char *src = getenv("PH_SRCDIR");
    char path[1024], err[256];
    struct scholarship_rules *r;

    snprintf(path, sizeof(path), "%s/sql/rules/scholarship.json", src && *src ? src : ".");
    r = scholarship_rules_load(path, err, sizeof(err));
    ck_assert_msg(r, "%s", err);
    return r;
}

/* The table of docs/CAMPAIGNS.md, Scholarships: keep the two in step. */
static const struct {
    const char *country;
    long attempts, last_score;
    int hardship;
    long hours;
    int points, percent;
    long long price;
} cases[] = {
    { "AU", 0, -1, 0, 10, 0, 0, 12900 },
    { "IN", 1, 55, 1, 25, 50, 50, 6450 },
    { "AF", 2, 52, 1, 35, 70, 60, 5160 },
    { "BR", 0, -1, 0, 20, 15, 15, 10965 },
    { "PH", 1, 40, 0, 8, 20, 20, 10320 },
    { "GB", 1, 61, 1, 12, 15, 15, 10965 },
    { "EG", 2, 58, 1, 12, 50, 50, 6450 },
    { "CN", 0, -1, 0, 0, 10, 10, 11610 },
    { "NG", 0, -1, 0, 20, 25, 25, 9675 },
    { "ZA", 3, 30, 0, 29, 20, 20, 10320 },
    { "US", 0, -1, 0, 30, 10, 10, 11610 },
    { "NZ", 0, -1, 0, 25, 5, 0, 12900 },
    { "KE", 1, 59, 0, 20, 35, 35, 8385 },
    { "ET", 1, 50, 1, 40, 65, 60, 5160 },
    { "xx", 0, -1, 1, 0, 15, 15, 10965 },
};

START_TEST(test_worked_examples)
{
    struct scholarship_rules *r = real_rules();
    struct scholarship_input in;
    struct scholarship_result res;
    size_t i;

    ck_assert_str_eq(scholarship_plan(r), "scholarship-3months");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&in, 0, sizeof(in));
        memcpy(in.country, cases[i].country, 2);
        in.attempts = cases[i].attempts;
        in.last_score = cases[i].last_score;
        in.hardship = cases[i].hardship;
        in.study_hours = cases[i].hours;
        scholarship_calculate(r, &in, 12900, &res);
        ck_assert_msg(res.points == cases[i].points && res.percent == cases[i].percent &&
                      res.price_cents == cases[i].price,
                      "case %zu (%s): points %d percent %d price %lld", i, cases[i].country,
                      res.points, res.percent, res.price_cents);
        ck_assert_int_eq(res.price_cents + res.discount_cents, 12900);
        ck_assert(res.nreasons >= 1);
    }
    scholarship_rules_free(r);
}
END_TEST

/* Every input lands within the bounds, on a step, and the money adds up. */
START_TEST(test_bounds_hold_for_every_input)
{
    struct scholarship_rules *r = real_rules();
    static const char *const countries[] = { "AU", "IN", "AF", "BR", "QQ" };
    struct scholarship_input in;
    struct scholarship_result res;
    long a, s, h;
    size_t c;
    int hard;

    for (c = 0; c < 5; c++)
        for (a = 0; a <= 4; a++)
            for (s = -1; s <= 100; s += 7)
                for (hard = 0; hard <= 1; hard++)
                    for (h = 0; h <= 60; h += 5) {
                        memset(&in, 0, sizeof(in));
                        memcpy(in.country, countries[c], 2);
                        in.attempts = a;
                        in.last_score = a ? s : -1;
                        in.hardship = hard;
                        in.study_hours = h;
                        scholarship_calculate(r, &in, 12345, &res);
                        ck_assert(res.percent == 0 ||
                                  (res.percent >= 10 && res.percent <= 60));
                        ck_assert_int_eq(res.percent % 5, 0);
                        ck_assert_int_eq(res.price_cents + res.discount_cents, 12345);
                        ck_assert(res.price_cents >= 12345 * 40 / 100);
                    }
    scholarship_rules_free(r);
}
END_TEST

START_TEST(test_rounding_half_up)
{
    struct scholarship_rules *r = real_rules();
    struct scholarship_input in;
    struct scholarship_result res;

    memset(&in, 0, sizeof(in));
    memcpy(in.country, "IN", 2);           /* 20 % */
    scholarship_calculate(r, &in, 12345, &res);
    ck_assert_int_eq(res.percent, 20);
    ck_assert_int_eq(res.price_cents, 9876);   /* 12345 * 0.8 = 9876.0 */
    memcpy(in.country, "BR", 2);
    in.study_hours = 20;                   /* 15 %: 12345 * 0.85 = 10493.25 → 10493 */
    scholarship_calculate(r, &in, 12345, &res);
    ck_assert_int_eq(res.price_cents, 10493);
    in.study_hours = 0;
    in.hardship = 1;                       /* 25 %: 12346 * 0.75 = 9259.5 → 9260 */
    scholarship_calculate(r, &in, 12346, &res);
    ck_assert_int_eq(res.percent, 25);
    ck_assert_int_eq(res.price_cents, 9260);
    scholarship_rules_free(r);
}
END_TEST

static const char *good =
    "{\"planId\":\"p\",\"passMark\":60,\"maxPercent\":60,\"minAwardPercent\":10,"
    "\"stepPercent\":5,\"incomePoints\":{\"high\":0,\"upper-middle\":10,\"lower-middle\":20,"
    "\"low\":30},\"countries\":{\"IN\":\"lower-middle\"},\"hardshipPoints\":15,"
    "\"nearPass\":{\"fromScore\":50,\"points\":10},\"repeatCandidate\":{\"minAttempts\":2,"
    "\"points\":5},\"studyHours\":[{\"minHours\":30,\"points\":10},"
    "{\"minHours\":20,\"points\":5}]}";

/* good with one substring replaced. */
static char *
variant(const char *from, const char *to)
{
    static char out[2048];
    const char *p = strstr(good, from);

    ck_assert_ptr_nonnull(p);
    snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
    return out;
}

START_TEST(test_loader_refusals)
{
    static const struct { const char *from, *to, *why; } bad[] = {
        { "\"planId\":\"p\",", "", "planId" },
        { "\"maxPercent\":60", "\"maxPercent\":160", "maxPercent" },
        { "\"minAwardPercent\":10", "\"minAwardPercent\":70", "minAwardPercent" },
        { "\"stepPercent\":5", "\"stepPercent\":0", "stepPercent" },
        { "\"IN\":\"lower-middle\"", "\"IN\":\"middle\"", "countries.IN" },
        { "\"IN\":", "\"IND\":", "IND" },
        { "\"low\":30}", "\"low\":30,\"mid\":5}", "incomePoints" },
        { "\"hardshipPoints\":15", "\"hardshipPoints\":\"15\"", "hardshipPoints" },
        { "\"fromScore\":50", "\"fromScore\":500", "nearPass" },
        { "\"minHours\":20", "\"minHours\":40", "studyHours" },
        { "\"passMark\":60,", "\"passMark\":60,\"typo\":1,", "typo" },
    };
    struct scholarship_rules *r;
    char err[256];
    size_t i;

    r = scholarship_rules_parse(good, err, sizeof(err));
    ck_assert_msg(r, "%s", err);
    scholarship_rules_free(r);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = scholarship_rules_parse(variant(bad[i].from, bad[i].to), err, sizeof(err));
        ck_assert_msg(!r, "case %zu accepted", i);
        ck_assert_msg(strstr(err, bad[i].why), "case %zu: %s", i, err);
    }
    ck_assert_ptr_null(scholarship_rules_parse("[1]", err, sizeof(err)));
    ck_assert_ptr_null(scholarship_rules_parse("{", err, sizeof(err)));
    ck_assert_ptr_null(scholarship_rules_load("/nonexistent/rules.json", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/rules.json"));
}
END_TEST

static Suite *
suite(void)
{
    Suite *s = suite_create("scholarship");
    TCase *tc = tcase_create("rules");

    tcase_add_test(tc, test_worked_examples);
    tcase_add_test(tc, test_bounds_hold_for_every_input);
    tcase_add_test(tc, test_rounding_half_up);
    tcase_add_test(tc, test_loader_refusals);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(suite)
