#include "config.h"

#include <check.h>
#include <limits.h>
#include <string.h>

#include "../../lib/errors.h"
#include "unit.h"

START_TEST(test_every_code_has_a_row)
{
    int code;

    for (code = 0; code > -APP_ERR_COUNT; code--) {
        const struct app_error_info *e = app_error_info(code);

        ck_assert_ptr_nonnull(e);
        ck_assert_msg(e->status == 200 || (e->status >= 400 && e->status <= 599),
                      "code %d has status %d", code, e->status);
        ck_assert_msg(e->slug && *e->slug, "code %d has no slug", code);
        ck_assert_msg(e->message && *e->message, "code %d has no message", code);
        /* Slugs are machine codes: upper case, digits and '_' only. */
        ck_assert_msg(strspn(e->slug, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                      strlen(e->slug), "code %d slug '%s'", code, e->slug);
        /* Only APP_OK is a success. */
        if (code != APP_OK)
            ck_assert_int_ge(e->status, 400);
    }
    ck_assert_int_eq(app_error_info(APP_OK)->status, 200);
}
END_TEST

START_TEST(test_last_code_is_counted)
{
    /* APP_ERR_COUNT is one past the most negative code. */
    ck_assert_int_eq(APP_EQUOTA, -(APP_ERR_COUNT - 1));
    ck_assert_str_eq(app_error_info(APP_EQUOTA)->slug, "QUOTA_EXCEEDED");
    ck_assert_int_eq(app_error_info(APP_EQUOTA)->status, 429);
}
END_TEST

START_TEST(test_unknown_maps_to_internal)
{
    static const int unknown[] = {1, 7, -APP_ERR_COUNT, -APP_ERR_COUNT - 1, -1000, 1000,
                                  INT_MAX};
    const struct app_error_info *internal = app_error_info(APP_EINTERNAL);
    size_t i;

    ck_assert_int_eq(internal->status, 500);
    ck_assert_str_eq(internal->slug, "INTERNAL_ERROR");
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        const struct app_error_info *e = app_error_info(unknown[i]);

        ck_assert_msg(e == internal, "code %d did not map to INTERNAL_ERROR", unknown[i]);
    }
}
END_TEST

/*
 * Fixed (lib/errors.c, app_error_info): "int idx = -code" overflows for code == INT_MIN
 * (undefined behaviour; UBSan aborts here).  Compare code against the bounds instead of
 * negating it.
 */
START_TEST(test_int_min_maps_to_internal)
{
    ck_assert_ptr_eq(app_error_info(INT_MIN), app_error_info(APP_EINTERNAL));
}
END_TEST

START_TEST(test_key_slugs)
{
    static const struct {
        int code;
        int status;
        const char *slug;
    } want[] = {
        {APP_OK, 200, "OK"},
        {APP_EBADREQUEST, 400, "BAD_REQUEST"},
        {APP_EVALIDATION, 400, "VALIDATION_ERROR"},
        {APP_EBADJSON, 400, "INVALID_JSON"},
        {APP_EUNAUTHORIZED, 401, "UNAUTHORIZED"},
        {APP_EFORBIDDEN, 403, "FORBIDDEN"},
        {APP_ENOTFOUND, 404, "NOT_FOUND"},
        {APP_EMETHOD, 405, "METHOD_NOT_ALLOWED"},
        {APP_ECONFLICT, 409, "CONFLICT"},
        {APP_ETOOLARGE, 413, "PAYLOAD_TOO_LARGE"},
        {APP_EMEDIATYPE, 415, "UNSUPPORTED_MEDIA_TYPE"},
        {APP_EUNPROCESSABLE, 422, "UNPROCESSABLE"},
        {APP_ERATELIMIT, 429, "RATE_LIMITED"},
        {APP_EINTERNAL, 500, "INTERNAL_ERROR"},
        {APP_ENOTIMPL, 501, "NOT_IMPLEMENTED"},
        {APP_EUPSTREAM, 502, "UPSTREAM_ERROR"},
        {APP_EUNAVAILABLE, 503, "SERVICE_UNAVAILABLE"},
        {APP_ETIMEOUT, 504, "UPSTREAM_TIMEOUT"},
        {APP_ENOMEM, 500, "INTERNAL_ERROR"},
        {APP_EORIGIN, 403, "ORIGIN_NOT_ALLOWED"},
        {APP_ECONDITION, 409, "CONDITION_FAILED"},
        {APP_ECONFIG, 500, "INTERNAL_ERROR"},
        {APP_ESUBSCRIPTION, 403, "SUBSCRIPTION_REQUIRED"},
        {APP_EQUOTA, 429, "QUOTA_EXCEEDED"},
    };
    size_t i;

    ck_assert_uint_eq(sizeof(want) / sizeof(want[0]), APP_ERR_COUNT);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct app_error_info *e = app_error_info(want[i].code);

        ck_assert_msg(e->status == want[i].status, "code %d: status %d, want %d",
                      want[i].code, e->status, want[i].status);
        ck_assert_str_eq(e->slug, want[i].slug);
    }
}
END_TEST

START_TEST(test_is_client)
{
    int code;

    ck_assert(app_error_is_client(APP_EBADREQUEST));
    ck_assert(app_error_is_client(APP_EVALIDATION));
    ck_assert(app_error_is_client(APP_ENOTFOUND));
    ck_assert(app_error_is_client(APP_ETOOLARGE));
    ck_assert(app_error_is_client(APP_EORIGIN));
    ck_assert(app_error_is_client(APP_ECONDITION));
    ck_assert(!app_error_is_client(APP_OK));
    ck_assert(!app_error_is_client(APP_EINTERNAL));
    ck_assert(!app_error_is_client(APP_ENOTIMPL));
    ck_assert(!app_error_is_client(APP_EUNAVAILABLE));
    ck_assert(!app_error_is_client(APP_ENOMEM));
    ck_assert(!app_error_is_client(APP_ECONFIG));
    ck_assert(!app_error_is_client(-999));
    /* Consistent with the table for every code. */
    for (code = 0; code > -APP_ERR_COUNT; code--) {
        int status = app_error_info(code)->status;

        ck_assert_int_eq(app_error_is_client(code), status >= 400 && status < 500);
    }
}
END_TEST

START_TEST(test_set_first_wins)
{
    struct app_error e;

    app_error_clear(&e);
    ck_assert_int_eq(e.code, APP_OK);
    ck_assert_str_eq(e.msg, "");
    ck_assert_int_eq(app_error_set(&e, APP_ENOTFOUND, "team %s not found", "t1"), APP_ENOTFOUND);
    ck_assert_int_eq(e.code, APP_ENOTFOUND);
    ck_assert_str_eq(e.msg, "team t1 not found");
    /* A higher layer's message does not overwrite the lower layer's, but its code returns. */
    ck_assert_int_eq(app_error_set(&e, APP_EINTERNAL, "wrapped: %d", 5), APP_EINTERNAL);
    ck_assert_int_eq(e.code, APP_ENOTFOUND);
    ck_assert_str_eq(e.msg, "team t1 not found");
    app_error_clear(&e);
    ck_assert_int_eq(app_error_set(&e, APP_EUNAVAILABLE, "%s", "down"), APP_EUNAVAILABLE);
    ck_assert_int_eq(e.code, APP_EUNAVAILABLE);
    ck_assert_str_eq(e.msg, "down");
}
END_TEST

START_TEST(test_reason_and_field_first_wins)
{
    struct app_error e;

    app_error_clear(&e);
    ck_assert_int_eq(app_error_reason(&e, APP_ECONDITION, "NO_SEATS", "full %d", 3),
                     APP_ECONDITION);
    ck_assert_pstr_eq(e.reason, "NO_SEATS");
    ck_assert_str_eq(e.msg, "full 3");
    ck_assert_int_eq(app_error_field(&e, "email", "bad"), APP_EVALIDATION);
    ck_assert_str_eq(e.field, "");
    ck_assert_int_eq(e.code, APP_ECONDITION);
    app_error_clear(&e);
    ck_assert_ptr_null(e.reason);
    ck_assert_int_eq(app_error_field(&e, "email", "is %s", "bad"), APP_EVALIDATION);
    ck_assert_str_eq(e.field, "email");
    ck_assert_str_eq(e.msg, "is bad");
    ck_assert_ptr_null(e.reason);
}
END_TEST

START_TEST(test_set_null_slot)
{
    ck_assert_int_eq(app_error_set(NULL, APP_ETIMEOUT, "x"), APP_ETIMEOUT);
}
END_TEST

START_TEST(test_set_truncates)
{
    struct app_error e;
    char big[600];

    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    app_error_clear(&e);
    ck_assert_int_eq(app_error_set(&e, APP_EVALIDATION, "%s", big), APP_EVALIDATION);
    ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1);
}
END_TEST

START_TEST(test_prefix_keeps_the_code)
{
    static const struct { const char *msg, *prefix, *want; } cases[] = {
        { "bad tag", "template t: ", "template t: bad tag" },
        { "", "x: ", "x: " },
        { "why", "", "why" },
    };
    struct app_error e;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        app_error_clear(&e);
        app_error_set(&e, APP_ECONFIG, "%s", cases[i].msg);
        ck_assert_int_eq(app_error_prefix(&e, "%s", cases[i].prefix), APP_ECONFIG);
        ck_assert_int_eq(e.code, APP_ECONFIG);
        ck_assert_str_eq(e.msg, cases[i].want);
    }
    /* Too long for the slot: cut, still a string. */
    app_error_clear(&e);
    app_error_set(&e, APP_ECONFIG, "%0200d", 0);
    app_error_prefix(&e, "%0100d: ", 1);
    ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1);
    ck_assert(strncmp(e.msg + 100, ": 000", 5) == 0);
}
END_TEST

static Suite *
errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("table");

    tcase_add_test(tc, test_every_code_has_a_row);
    tcase_add_test(tc, test_last_code_is_counted);
    tcase_add_test(tc, test_unknown_maps_to_internal);
    tcase_add_test(tc, test_int_min_maps_to_internal);
    tcase_add_test(tc, test_key_slugs);
    tcase_add_test(tc, test_is_client);
    suite_add_tcase(s, tc);

    tc = tcase_create("slot");
    tcase_add_test(tc, test_set_first_wins);
    tcase_add_test(tc, test_reason_and_field_first_wins);
    tcase_add_test(tc, test_set_null_slot);
    tcase_add_test(tc, test_set_truncates);
    tcase_add_test(tc, test_prefix_keeps_the_code);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(errors_suite)
