/*
 * lib/cursor.h: the listings' cursors taken back only when they are ours.  One case a row.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "../../lib/buf.h"
#include "../../lib/cursor.h"
#include "../../lib/mem.h"
#include "unit.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define AAD "prodenthub ai-history cursor\nuser-1"
#define LISTING_KEY "{\"mockExamId\":{\"S\":\"mock_1\"},\"listing\":{\"S\":\"upcoming\"}," \
                    "\"examDate\":{\"S\":\"2026-12-09T10:00:00Z\"}}"

static const char *const keys[] = { "mockExamId", "listing", "examDate", NULL };

/* base64url (no padding) of text, into out. */
static void
b64url(const char *text, char *out, size_t outlen)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = (const unsigned char *)text;
    unsigned long acc = 0;
    size_t i, o = 0;
    int bits = 0;

    for (i = 0; s[i]; i++) {
        acc = (acc << 8) | s[i];
        bits += 8;
        while (bits >= 6 && o + 1 < outlen) {
            bits -= 6;
            out[o++] = al[(acc >> bits) & 63];
        }
    }
    if (bits > 0 && o + 1 < outlen)
        out[o++] = al[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

START_TEST(test_key_round_trip)
{
    struct json_object *k = json_tokener_parse(LISTING_KEY), *back;
    struct arena a;
    char *c;

    arena_init(&a, 0);
    c = cursor_key_out(&a, k);
    ck_assert_uint_eq(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-_"), strlen(c));
    back = cursor_key_in(c, keys);
    ck_assert_ptr_nonnull(back);
    ck_assert(json_object_equal(k, back));
    json_object_put(back);
    json_object_put(k);
    arena_destroy(&a);
}
END_TEST

/* Key cursors that are not ours: as JSON text (encoded by the test) or as the cursor itself. */
static const struct {
    const char *what;
    const char *json;       /* encoded as base64url; NULL: use cursor as it is */
    const char *cursor;
} bad_keys[] = {
    {"a missing attribute", "{\"mockExamId\":{\"S\":\"m\"},\"listing\":{\"S\":\"u\"}}", NULL},
    {"an extra attribute", "{\"mockExamId\":{\"S\":\"m\"},\"listing\":{\"S\":\"u\"},"
                           "\"examDate\":{\"S\":\"d\"},\"pk\":{\"S\":\"x\"}}", NULL},
    {"a number", "{\"mockExamId\":{\"N\":\"1\"},\"listing\":{\"S\":\"u\"},"
                 "\"examDate\":{\"S\":\"d\"}}", NULL},
    {"a string not typed", "{\"mockExamId\":\"m\",\"listing\":{\"S\":\"u\"},"
                           "\"examDate\":{\"S\":\"d\"}}", NULL},
    {"two types", "{\"mockExamId\":{\"S\":\"m\",\"N\":\"1\"},\"listing\":{\"S\":\"u\"},"
                  "\"examDate\":{\"S\":\"d\"}}", NULL},
    {"an array", "[1,2,3]", NULL},
    {"not JSON", "mockExamId", NULL},
    {"empty", NULL, ""},
    {"not base64", NULL, "***"},
    {"one character", NULL, "A"},
};

START_TEST(test_key_refused)
{
    char c[CURSOR_MAX * 2];

    if (bad_keys[_i].json)
        b64url(bad_keys[_i].json, c, sizeof(c));
    else
        snprintf(c, sizeof(c), "%s", bad_keys[_i].cursor);
    ck_assert_msg(!cursor_key_in(c, keys), "%s: taken", bad_keys[_i].what);
}
END_TEST

START_TEST(test_key_too_long)
{
    char c[CURSOR_MAX + 8];

    memset(c, 'A', CURSOR_MAX);
    c[CURSOR_MAX] = '\0';
    ck_assert_ptr_null(cursor_key_in(c, keys));
}
END_TEST

/* A sealed cursor made with one key and aad, then opened with another pair or changed. */
static const struct {
    const char *what;
    const char *key, *open_key;        /* made with key, opened with open_key */
    const char *aad;                   /* opened with this aad (made with AAD) */
    int change;                        /* 1: flip a character; 2: swap the prefix */
    int rc;
} sealed[] = {
    {"sealed: opens", KEY_HEX, KEY_HEX, AAD, 0, 0},
    {"plain: opens", "", "", AAD, 0, 0},
    {"sealed: another user", KEY_HEX, KEY_HEX, "prodenthub ai-history cursor\nuser-2", 0, -1},
    {"sealed: changed", KEY_HEX, KEY_HEX, AAD, 1, -1},
    {"sealed: sent where plain is expected", KEY_HEX, "", AAD, 0, -1},
    {"plain: sent where sealed is expected", "", KEY_HEX, AAD, 0, -1},
    {"plain: with the sealed prefix", "", "", AAD, 2, -1},
};

START_TEST(test_sealed)
{
    struct buf c, v;

    buf_init(&c, CURSOR_MAX + 1);
    buf_init(&v, 256);
    ck_assert_int_eq(cursor_seal(sealed[_i].key, AAD, "AI#2026-12-03T10:00:00Z#ai_0", &c), 0);
    ck_assert_uint_le(c.len, CURSOR_MAX);
    ck_assert_ptr_null(strstr(c.data, "ai_0"));
    if (sealed[_i].change == 1)
        c.data[10] = c.data[10] == 'A' ? 'B' : 'A';
    if (sealed[_i].change == 2)
        c.data[0] = 's';
    ck_assert_msg(cursor_unseal(sealed[_i].open_key, sealed[_i].aad, c.data, &v) ==
                  sealed[_i].rc, "%s", sealed[_i].what);
    if (sealed[_i].rc == 0)
        ck_assert_str_eq(v.data, "AI#2026-12-03T10:00:00Z#ai_0");
    else
        ck_assert_uint_eq(v.len, 0);
    buf_free(&v);
    buf_free(&c);
}
END_TEST

START_TEST(test_sealed_limits)
{
    char big[CURSOR_MAX + 2];
    struct buf c, v;

    buf_init(&c, CURSOR_MAX + 1);
    buf_init(&v, 256);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(cursor_seal("", AAD, big, &c), -1);
    ck_assert_int_eq(cursor_seal("not hex", AAD, "AI#1", &c), -1);
    big[CURSOR_MAX / 2] = '\0';
    ck_assert_int_eq(cursor_seal(KEY_HEX, AAD, big, &c), 0);
    ck_assert_uint_le(c.len, CURSOR_MAX);
    ck_assert_int_eq(cursor_unseal("", AAD, "p1.", &v), -1);
    ck_assert_int_eq(cursor_unseal("", AAD, "p1.AA", &v), -1);          /* a NUL byte */
    ck_assert_int_eq(cursor_unseal("", AAD, "p1.QUkjMQ==", &v), -1);    /* padding */
    ck_assert_int_eq(cursor_unseal("", AAD, "p1.QUkjMQ", &v), 0);
    ck_assert_str_eq(v.data, "AI#1");
    buf_free(&v);
    buf_free(&c);
}
END_TEST

static Suite *
cursor_suite(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("cursor");

    tcase_add_test(tc, test_key_round_trip);
    tcase_add_loop_test(tc, test_key_refused, 0, sizeof(bad_keys) / sizeof(bad_keys[0]));
    tcase_add_test(tc, test_key_too_long);
    tcase_add_loop_test(tc, test_sealed, 0, sizeof(sealed) / sizeof(sealed[0]));
    tcase_add_test(tc, test_sealed_limits);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cursor_suite)
