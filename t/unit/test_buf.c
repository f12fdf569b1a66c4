#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "unit.h"

/* Append s as JSON-escaped text to a fresh buffer and compare with want. */
static void
check_escape(const char *s, size_t n, const char *want)
{
    struct buf b;

    buf_init(&b, 1024);
    ck_assert_int_eq(buf_json_escape(&b, s, n), APP_OK);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, want);
    ck_assert_uint_eq(b.len, strlen(want));
    buf_free(&b);
}

START_TEST(test_init_empty)
{
    struct buf b;

    buf_init(&b, 100);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_uint_eq(b.max, 100);
    buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.max, 100);
}
END_TEST

START_TEST(test_append_grows)
{
    struct buf b;
    char chunk[100];
    size_t i;

    memset(chunk, 'a', sizeof(chunk));
    buf_init(&b, 1 << 20);
    for (i = 0; i < 100; i++) {
        chunk[0] = (char)('0' + (int)(i % 10));
        ck_assert_int_eq(buf_append(&b, chunk, sizeof(chunk)), APP_OK);
    }
    ck_assert_uint_eq(b.len, 10000);
    ck_assert_uint_ge(b.cap, b.len + 1);
    for (i = 0; i < 100; i++) {
        ck_assert_int_eq(b.data[i * 100], '0' + (int)(i % 10));
        ck_assert_int_eq(b.data[i * 100 + 99], 'a');
    }
    ck_assert_int_eq(b.data[b.len], '\0');
    ck_assert_uint_eq(strlen(b.data), 10000);
    buf_free(&b);
}
END_TEST

START_TEST(test_append_zero_terminates)
{
    struct buf b;

    buf_init(&b, 16);
    ck_assert_int_eq(buf_append(&b, "", 0), APP_OK);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(test_append_binary)
{
    struct buf b;
    static const char bin[] = {'a', '\0', 'b'};

    buf_init(&b, 16);
    ck_assert_int_eq(buf_append(&b, bin, sizeof(bin)), APP_OK);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_mem_eq(b.data, bin, 3);
    ck_assert_int_eq(b.data[3], '\0');
    buf_free(&b);
}
END_TEST

START_TEST(test_puts_and_printf)
{
    struct buf b;

    buf_init(&b, 4096);
    ck_assert_int_eq(buf_puts(&b, "id="), APP_OK);
    ck_assert_int_eq(buf_printf(&b, "%d/%s/%05.1f", 42, "x", 3.5), APP_OK);
    ck_assert_str_eq(b.data, "id=42/x/003.5");
    ck_assert_uint_eq(b.len, strlen("id=42/x/003.5"));
    buf_free(&b);
}
END_TEST

START_TEST(test_printf_grows)
{
    struct buf b;
    size_t i;

    buf_init(&b, 1 << 20);
    for (i = 0; i < 1000; i++)
        ck_assert_int_eq(buf_printf(&b, "%04zu,", i), APP_OK);
    ck_assert_uint_eq(b.len, 5000);
    ck_assert_int_eq(strncmp(b.data, "0000,0001,", 10), 0);
    ck_assert_str_eq(b.data + 4995, "0999,");
    buf_free(&b);
}
END_TEST

START_TEST(test_printf_empty_result)
{
    struct buf b;

    buf_init(&b, 8);
    ck_assert_int_eq(buf_printf(&b, "%s", ""), APP_OK);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    buf_free(&b);
}
END_TEST

START_TEST(test_ceiling_exact_fit)
{
    struct buf b;

    buf_init(&b, 10);
    ck_assert_int_eq(buf_append(&b, "0123456789", 10), APP_OK);
    ck_assert_str_eq(b.data, "0123456789");
    ck_assert_uint_le(b.cap, 11);
    buf_free(&b);
}
END_TEST

START_TEST(test_ceiling_refuses_append)
{
    struct buf b;

    buf_init(&b, 10);
    ck_assert_int_eq(buf_append(&b, "01234567", 8), APP_OK);
    ck_assert_int_eq(buf_append(&b, "abc", 3), APP_ETOOLARGE);
    ck_assert_uint_eq(b.len, 8);
    ck_assert_str_eq(b.data, "01234567");
    /* What still fits is accepted after a refusal. */
    ck_assert_int_eq(buf_append(&b, "ab", 2), APP_OK);
    ck_assert_str_eq(b.data, "01234567ab");
    ck_assert_int_eq(buf_append(&b, "c", 1), APP_ETOOLARGE);
    ck_assert_int_eq(buf_puts(&b, "c"), APP_ETOOLARGE);
    ck_assert_str_eq(b.data, "01234567ab");
    buf_free(&b);
}
END_TEST

START_TEST(test_ceiling_refuses_huge)
{
    struct buf b;

    buf_init(&b, 10);
    ck_assert_int_eq(buf_append(&b, "ab", 2), APP_OK);
    /* n so large that len + n would wrap: must be refused, not wrap around. */
    ck_assert_int_eq(buf_append(&b, "x", (size_t)-1), APP_ETOOLARGE);
    ck_assert_int_eq(buf_append(&b, "x", (size_t)-2), APP_ETOOLARGE);
    ck_assert_str_eq(b.data, "ab");
    buf_free(&b);
}
END_TEST

START_TEST(test_ceiling_refuses_printf)
{
    struct buf b;

    buf_init(&b, 10);
    ck_assert_int_eq(buf_printf(&b, "%s", "12345"), APP_OK);
    ck_assert_int_eq(buf_printf(&b, "%s", "678901"), APP_ETOOLARGE);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_str_eq(b.data, "12345");
    ck_assert_int_eq(buf_printf(&b, "%d", 67890), APP_OK);
    ck_assert_str_eq(b.data, "1234567890");
    buf_free(&b);
}
END_TEST

START_TEST(test_ceiling_zero)
{
    struct buf b;

    buf_init(&b, 0);
    ck_assert_int_eq(buf_append(&b, "a", 1), APP_ETOOLARGE);
    ck_assert_int_eq(buf_append(&b, "", 0), APP_OK);
    ck_assert_str_eq(b.data, "");
    buf_free(&b);
}
END_TEST

START_TEST(test_reset_keeps_memory)
{
    struct buf b;
    char *data;
    size_t cap;

    buf_init(&b, 1000);
    ck_assert_int_eq(buf_puts(&b, "hello world"), APP_OK);
    data = b.data;
    cap = b.cap;
    buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_ptr_eq(b.data, data);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_str_eq(b.data, "");
    ck_assert_int_eq(buf_puts(&b, "hi"), APP_OK);
    ck_assert_str_eq(b.data, "hi");
    buf_free(&b);
}
END_TEST

START_TEST(test_reset_restores_room)
{
    struct buf b;

    buf_init(&b, 4);
    ck_assert_int_eq(buf_puts(&b, "abcd"), APP_OK);
    ck_assert_int_eq(buf_puts(&b, "e"), APP_ETOOLARGE);
    buf_reset(&b);
    ck_assert_int_eq(buf_puts(&b, "wxyz"), APP_OK);
    ck_assert_str_eq(b.data, "wxyz");
    buf_free(&b);
}
END_TEST

START_TEST(test_reset_unallocated)
{
    struct buf b;

    buf_init(&b, 4);
    buf_reset(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

START_TEST(test_escape_plain)
{
    check_escape("hello, world", 12, "hello, world");
    check_escape("", 0, "");
}
END_TEST

START_TEST(test_escape_quote_backslash)
{
    check_escape("say \"hi\"", 8, "say \\\"hi\\\"");
    check_escape("a\\b", 3, "a\\\\b");
    check_escape("\"", 1, "\\\"");
    check_escape("\\\"\\", 3, "\\\\\\\"\\\\");
}
END_TEST

START_TEST(test_escape_whitespace)
{
    check_escape("a\nb\rc\td", 7, "a\\nb\\rc\\td");
    check_escape("\n", 1, "\\n");
    check_escape("x\r\n", 3, "x\\r\\n");
}
END_TEST

START_TEST(test_escape_control)
{
    check_escape("\x01", 1, "\\u0001");
    check_escape("a\x1f" "b", 3, "a\\u001fb");
    check_escape("\x08\x0c", 2, "\\u0008\\u000c");
    check_escape("\x10", 1, "\\u0010");
    /* DEL is not a control character for JSON. */
    check_escape("\x7f", 1, "\x7f");
}
END_TEST

START_TEST(test_escape_embedded_nul)
{
    check_escape("a\0b", 3, "a\\u0000b");
}
END_TEST

START_TEST(test_escape_only_n_bytes)
{
    check_escape("abc\"def", 3, "abc");
    check_escape("ab\ncd", 3, "ab\\n");
}
END_TEST

START_TEST(test_escape_utf8_passthrough)
{
    /* "cafe" with e-acute, a check mark and an emoji as UTF-8 bytes: copied unchanged. */
    static const char s[] = "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80";

    check_escape(s, sizeof(s) - 1, s);
}
END_TEST

START_TEST(test_escape_appends)
{
    struct buf b;

    buf_init(&b, 64);
    ck_assert_int_eq(buf_puts(&b, "{\"m\":\""), APP_OK);
    ck_assert_int_eq(buf_json_escape(&b, "x\"y", 3), APP_OK);
    ck_assert_int_eq(buf_puts(&b, "\"}"), APP_OK);
    ck_assert_str_eq(b.data, "{\"m\":\"x\\\"y\"}");
    buf_free(&b);
}
END_TEST

START_TEST(test_escape_ceiling)
{
    struct buf b;

    buf_init(&b, 5);
    /* 3 bytes in, 6 out: over the ceiling. */
    ck_assert_int_eq(buf_json_escape(&b, "a\x01", 2), APP_ETOOLARGE);
    ck_assert_uint_le(b.len, 5);
    buf_free(&b);
    buf_init(&b, 5);
    ck_assert_int_eq(buf_json_escape(&b, "abcdef", 6), APP_ETOOLARGE);
    buf_free(&b);
}
END_TEST

START_TEST(test_fixed_storage_never_grows)
{
    char storage[8];
    struct buf b;

    buf_init_fixed(&b, storage, sizeof(storage));
    ck_assert_int_eq(buf_puts(&b, "abcdefg"), APP_OK);
    ck_assert_str_eq(storage, "abcdefg");
    ck_assert_ptr_eq(b.data, storage);
    ck_assert_int_eq(buf_puts(&b, "h"), APP_ETOOLARGE);
    ck_assert_str_eq(storage, "abcdefg");
    buf_free(&b);
    ck_assert_ptr_eq(b.data, storage);
    ck_assert_int_eq(b.len, 0);
    ck_assert_int_eq(buf_printf(&b, "%d", 1234), APP_OK);
    ck_assert_str_eq(storage, "1234");
}
END_TEST

static Suite *
buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("append");

    tcase_add_test(tc, test_fixed_storage_never_grows);
    tcase_add_test(tc, test_init_empty);
    tcase_add_test(tc, test_append_grows);
    tcase_add_test(tc, test_append_zero_terminates);
    tcase_add_test(tc, test_append_binary);
    tcase_add_test(tc, test_puts_and_printf);
    tcase_add_test(tc, test_printf_grows);
    tcase_add_test(tc, test_printf_empty_result);
    suite_add_tcase(s, tc);

    tc = tcase_create("ceiling");
    tcase_add_test(tc, test_ceiling_exact_fit);
    tcase_add_test(tc, test_ceiling_refuses_append);
    tcase_add_test(tc, test_ceiling_refuses_huge);
    tcase_add_test(tc, test_ceiling_refuses_printf);
    tcase_add_test(tc, test_ceiling_zero);
    suite_add_tcase(s, tc);

    tc = tcase_create("reset");
    tcase_add_test(tc, test_reset_keeps_memory);
    tcase_add_test(tc, test_reset_restores_room);
    tcase_add_test(tc, test_reset_unallocated);
    suite_add_tcase(s, tc);

    tc = tcase_create("json_escape");
    tcase_add_test(tc, test_escape_plain);
    tcase_add_test(tc, test_escape_quote_backslash);
    tcase_add_test(tc, test_escape_whitespace);
    tcase_add_test(tc, test_escape_control);
    tcase_add_test(tc, test_escape_embedded_nul);
    tcase_add_test(tc, test_escape_only_n_bytes);
    tcase_add_test(tc, test_escape_utf8_passthrough);
    tcase_add_test(tc, test_escape_appends);
    tcase_add_test(tc, test_escape_ceiling);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(buf_suite)
