#include "config.h"

#include <check.h>
#include <string.h>

#include "../../lib/buf.h"
#include "../../lib/seal.h"
#include "unit.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

START_TEST(test_key_parse)
{
    static const struct {
        const char *hex;
        int rc;
    } cases[] = {
        {KEY_HEX, 0},
        {"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 0},
        {"00", -1},
        {KEY_HEX "00", -1},
        {"g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", -1},
        {"", -1},
        {NULL, -1},
    };
    unsigned char key[SEAL_KEY_LEN];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(seal_key_parse(cases[i].hex, key) == cases[i].rc, "case %zu", i);
    seal_key_parse(KEY_HEX, key);
    ck_assert_int_eq(key[0], 0);
    ck_assert_int_eq(key[31], 0x1f);
}
END_TEST

START_TEST(test_round_trip_and_refusals)
{
    static const char *const plains[] = {"", "x", "{\"payUrl\":\"https://p/pay?token=abc\"}"};
    unsigned char key[SEAL_KEY_LEN], other[SEAL_KEY_LEN];
    struct buf s, p, s2;
    size_t i, n;

    seal_key_parse(KEY_HEX, key);
    memcpy(other, key, sizeof(other));
    other[0] ^= 1;
    buf_init(&s, SEAL_TEXT_MAX);
    buf_init(&s2, SEAL_TEXT_MAX);
    buf_init(&p, SEAL_TEXT_MAX);
    for (i = 0; i < sizeof(plains) / sizeof(plains[0]); i++) {
        ck_assert_int_eq(seal(key, "row-1", plains[i], strlen(plains[i]), &s), 0);
        ck_assert(strncmp(s.data, SEAL_PREFIX, strlen(SEAL_PREFIX)) == 0);
        ck_assert(strlen(plains[i]) < 8 || !strstr(s.data, plains[i]));
        ck_assert_int_eq(unseal(key, "row-1", s.data, &p), 0);
        ck_assert_str_eq(p.data, plains[i]);
        ck_assert_uint_eq(p.len, strlen(plains[i]));
        /* A fresh nonce each time. */
        ck_assert_int_eq(seal(key, "row-1", plains[i], strlen(plains[i]), &s2), 0);
        ck_assert_str_ne(s.data, s2.data);
        /* Another row, another key, a flipped byte, a cut: refused. */
        ck_assert_int_eq(unseal(key, "row-2", s.data, &p), -1);
        ck_assert_int_eq(unseal(other, "row-1", s.data, &p), -1);
        n = strlen(SEAL_PREFIX) + 2;
        s.data[n] = s.data[n] == 'A' ? 'B' : 'A';
        ck_assert_int_eq(unseal(key, "row-1", s.data, &p), -1);
        s.data[s.len - 4] = '\0';
        ck_assert_int_eq(unseal(key, "row-1", s.data, &p), -1);
    }
    ck_assert_int_eq(unseal(key, "row-1", "s1.", &p), -1);
    ck_assert_int_eq(unseal(key, "row-1", "s1.!!!!", &p), -1);
    ck_assert_int_eq(unseal(key, "row-1", "{\"a\":1}", &p), -1);
    ck_assert_int_eq(unseal(key, "row-1", NULL, &p), -1);
    buf_free(&s);
    buf_free(&s2);
    buf_free(&p);
}
END_TEST

static Suite *
seal_suite(void)
{
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("seal");

    tcase_add_test(tc, test_key_parse);
    tcase_add_test(tc, test_round_trip_and_refusals);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(seal_suite)
