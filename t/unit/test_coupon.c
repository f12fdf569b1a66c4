/* The coupon rules of lib/coupon.c: normalisation, parsing, every reason, the discount maths. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "../../lib/coupon.h"
#include "../../lib/ids.h"
#include "unit.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static struct coupon
make(const char *json)
{
    struct json_object *o = json_tokener_parse(json);
    struct coupon c;

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(coupon_from_item(o, &c), 0);
    json_object_put(o);
    return c;
}

START_TEST(test_normalize)
{
    char out[COUPON_CODE_MAX + 1];

    ck_assert_int_eq(coupon_normalize_code("  save20 ", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "SAVE20");
    ck_assert_int_eq(coupon_normalize_code("a-b_c", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "A-B_C");
    ck_assert_int_eq(coupon_normalize_code("ab", out, sizeof(out)), -1);
    ck_assert_int_eq(coupon_normalize_code("SAVE 20", out, sizeof(out)), -1);
    ck_assert_int_eq(coupon_normalize_code("SAVE%20", out, sizeof(out)), -1);
    ck_assert_int_eq(coupon_normalize_code("", out, sizeof(out)), -1);
    ck_assert_int_eq(coupon_normalize_code("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", out, sizeof(out)),
                     -1);
}
END_TEST

START_TEST(test_parse_refuses_malformed)
{
    static const char *const bad[] = {
        "{\"type\":\"percentage\",\"value\":20}",
        "{\"couponCode\":\"X1X\",\"type\":\"percentage\",\"value\":0}",
        "{\"couponCode\":\"X1X\",\"type\":\"percentage\",\"value\":101}",
        "{\"couponCode\":\"X1X\",\"type\":\"fixed\"}",
        "{\"couponCode\":\"X1X\",\"type\":\"bogus\",\"value\":5}",
        "{\"couponCode\":\"X1X\",\"type\":\"fixed\",\"valueCents\":5,\"validUntil\":\"soon\"}",
        "{\"couponCode\":\"X1X\",\"type\":\"fixed\",\"valueCents\":5,\"usageLimit\":-1}",
        NULL,
    };
    struct coupon c;
    size_t i;

    for (i = 0; bad[i]; i++) {
        struct json_object *o = json_tokener_parse(bad[i]);

        ck_assert_msg(coupon_from_item(o, &c) == -1, "accepted %s", bad[i]);
        json_object_put(o);
    }
}
END_TEST

START_TEST(test_every_reason_in_order)
{
    struct coupon c = make("{\"couponCode\":\"SAVE20\",\"type\":\"percentage\",\"value\":20,"
                           "\"minPurchaseCents\":10000,\"maxDiscountCents\":5000,"
                           "\"validFrom\":\"2025-06-01T00:00:00Z\","
                           "\"validUntil\":\"2026-06-01T00:00:00Z\",\"usageLimit\":100,"
                           "\"usageCount\":99,\"perUserLimit\":1,"
                           "\"applicablePlans\":[\"full-6months\"],\"status\":\"active\"}");

    ck_assert_int_eq(coupon_check(&c, "full-6months", 19900, T0, 0), COUPON_OK);
    ck_assert_int_eq(coupon_check(&c, "full-6months", 19900, T0, 1), COUPON_ALREADY_USED);
    c.usage_count = 100;
    ck_assert_int_eq(coupon_check(&c, "full-6months", 19900, T0, 0), COUPON_USAGE_LIMIT_REACHED);
    ck_assert_int_eq(coupon_check(&c, "full-6months", 9999, T0, 0), COUPON_MIN_PURCHASE_NOT_MET);
    ck_assert_int_eq(coupon_check(&c, "basic-1month", 19900, T0, 0), COUPON_PLAN_NOT_APPLICABLE);
    ck_assert_int_eq(coupon_check(&c, NULL, 19900, T0, 0), COUPON_PLAN_NOT_APPLICABLE);
    ck_assert_int_eq(coupon_check(&c, "full-6months", 19900, T0 + 200 * 86400, 0),
                     COUPON_EXPIRED);
    ck_assert_int_eq(coupon_check(&c, "full-6months", 19900, T0 - 365 * 86400, 0),
                     COUPON_NOT_YET_VALID);
    c.active = 0;
    ck_assert_int_eq(coupon_check(&c, "full-6months", 19900, T0, 0), COUPON_INACTIVE);
    ck_assert_str_eq(coupon_reason_slug(COUPON_MIN_PURCHASE_NOT_MET), "MIN_PURCHASE_NOT_MET");
}
END_TEST

START_TEST(test_discount_maths)
{
    struct coupon p = make("{\"couponCode\":\"P15\",\"type\":\"percentage\",\"value\":15,"
                           "\"status\":\"active\"}");
    struct coupon f = make("{\"couponCode\":\"F10\",\"type\":\"fixed\",\"valueCents\":1000,"
                           "\"status\":\"active\"}");

    ck_assert_int_eq(coupon_discount(&p, 1999), 300);    /* 299.85 */
    ck_assert_int_eq(coupon_discount(&p, 1990), 299);    /* 298.5, half up */
    ck_assert_int_eq(coupon_discount(&p, 10), 2);        /* 1.5 */
    ck_assert_int_eq(coupon_discount(&p, 3), 0);         /* 0.45 */
    ck_assert_int_eq(coupon_discount(&p, 0), 0);
    p.max_discount_cents = 250;
    ck_assert_int_eq(coupon_discount(&p, 1999), 250);
    ck_assert_int_eq(coupon_discount(&f, 4900), 1000);
    ck_assert_int_eq(coupon_discount(&f, 999), 999);     /* never more than the price */
    p.value = 100;
    p.max_discount_cents = 0;
    ck_assert_int_eq(coupon_discount(&p, 29900), 29900);
}
END_TEST

START_TEST(test_times)
{
    ck_assert_int_eq(time_parse_iso("2026-01-01T00:00:00Z"), T0);
    ck_assert_int_eq(time_parse_iso("2026-01-01T00:00:00.123Z"), T0);
    ck_assert_int_eq(time_parse_iso("2026-01-01T00:00:00"), T0);
    ck_assert_int_eq(time_parse_iso("2026-01-01T00:00:00+02:00"), 0);
    ck_assert_int_eq(time_parse_iso("yesterday"), 0);
}
END_TEST

static Suite *
coupon_suite(void)
{
    Suite *s = suite_create("coupon");
    TCase *tc = tcase_create("rules");

    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_parse_refuses_malformed);
    tcase_add_test(tc, test_every_reason_in_order);
    tcase_add_test(tc, test_discount_maths);
    tcase_add_test(tc, test_times);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(coupon_suite)
