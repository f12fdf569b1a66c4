/* lib/money.c: the exact dollars-to-cents parser (a table of texts) and the split. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/money.h"
#include "unit.h"

#define REFUSED -1LL

static const struct {
    const char *text;
    long long cents;                /* REFUSED: the parser must say -1 */
} decimals[] = {
    {"100", 10000},
    {"99.5", 9950},
    {"99.50", 9950},
    {"0.01", 1},
    {"0", 0},
    {"0.0", 0},
    {"007", 700},
    {"199", 19900},
    {"12.34", 1234},
    {"10000000000000", 1000000000000000LL},      /* MONEY_MAX_CENTS exactly */
    {"1.005", REFUSED},                          /* more than two decimals */
    {"1.000", REFUSED},                          /* so is this, zeros or not */
    {"1e2", REFUSED},
    {"1E2", REFUSED},
    {"-1", REFUSED},
    {"+1", REFUSED},
    {"", REFUSED},
    {" 1", REFUSED},
    {"1 ", REFUSED},
    {"1.", REFUSED},
    {".5", REFUSED},
    {"1..5", REFUSED},
    {"1.2.3", REFUSED},
    {"0x10", REFUSED},
    {"NaN", REFUSED},
    {"inf", REFUSED},
    {"1,5", REFUSED},
    {"10000000000000.01", REFUSED},              /* a cent above the ceiling */
    {"99999999999999999999999", REFUSED},        /* would overflow a long long */
};
#define NDECIMALS (sizeof(decimals) / sizeof(decimals[0]))

START_TEST(test_parse_decimal)
{
    long long got = 4242;
    int rc = money_parse_decimal(decimals[_i].text, &got);

    if (decimals[_i].cents == REFUSED) {
        ck_assert_msg(rc == -1, "'%s' accepted as %lld", decimals[_i].text, got);
        ck_assert_msg(got == 4242, "'%s' refused but *out changed", decimals[_i].text);
    } else {
        ck_assert_msg(rc == 0, "'%s' refused", decimals[_i].text);
        ck_assert_msg(got == decimals[_i].cents, "'%s' gave %lld, not %lld", decimals[_i].text,
                      got, decimals[_i].cents);
    }
}
END_TEST

START_TEST(test_parse_decimal_null)
{
    long long got = 0;

    ck_assert_int_eq(money_parse_decimal(0, &got), -1);
}
END_TEST

static const struct {
    long long dollars, cents;
} wholes[] = {
    {0, 0}, {1, 100}, {100, 10000}, {10000000000000LL, 1000000000000000LL},
    {-1, REFUSED}, {10000000000001LL, REFUSED}, {9223372036854775807LL, REFUSED},
};
#define NWHOLES (sizeof(wholes) / sizeof(wholes[0]))

START_TEST(test_dollars_to_cents)
{
    long long got = 4242;
    int rc = money_dollars_to_cents(wholes[_i].dollars, &got);

    if (wholes[_i].cents == REFUSED) {
        ck_assert_msg(rc == -1 && got == 4242, "%lld dollars accepted", wholes[_i].dollars);
    } else {
        ck_assert_msg(rc == 0 && got == wholes[_i].cents, "%lld dollars gave %lld",
                      wholes[_i].dollars, got);
    }
}
END_TEST

START_TEST(test_split)
{
    long long s[3];

    ck_assert_int_eq(money_split(29900, 3, s), 0);
    ck_assert_int_eq(s[0], 9967);
    ck_assert_int_eq(s[1], 9967);
    ck_assert_int_eq(s[2], 9966);
    ck_assert_int_eq(money_split(100, 0, s), -1);
    ck_assert_int_eq(money_split(-1, 3, s), -1);
}
END_TEST

/* The seed's decimal money: the JSON text is exactly the cents, whatever a double would say. */
static const struct {
    long long cents;
    const char *json;
} texts[] = {
    {3980, "39.80"}, {0, "0.00"}, {5, "0.05"}, {19900, "199.00"}, {9967, "99.67"},
    {-5, "-0.05"}, {1, "0.01"}, {123456789012LL, "1234567890.12"}, {10, "0.10"},
};

START_TEST(test_money_json)
{
    struct json_object *o = json_object_new_object(), *back;
    char text[32];

    money_decimal(texts[_i].cents, text);
    money_json_add(o, "amount", texts[_i].cents);
    /* 39.80, never 39.799999 or 39.8: the text is printed from the integer. */
    ck_assert_str_eq(text, texts[_i].json);
    {
        char want[64];

        snprintf(want, sizeof(want), "{\"amount\":%s}", text);
        ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), want);
    }
    back = json_tokener_parse(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    ck_assert_ptr_nonnull(back);
    json_object_put(back);
    json_object_put(o);
}
END_TEST

static Suite *
money_suite(void)
{
    Suite *s = suite_create("money");
    TCase *tc = tcase_create("cents");

    tcase_add_loop_test(tc, test_parse_decimal, 0, (int)NDECIMALS);
    tcase_add_test(tc, test_parse_decimal_null);
    tcase_add_loop_test(tc, test_dollars_to_cents, 0, (int)NWHOLES);
    tcase_add_test(tc, test_split);
    tcase_add_loop_test(tc, test_money_json, 0, sizeof(texts) / sizeof(texts[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(money_suite)
