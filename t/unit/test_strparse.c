#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/strparse.h"
#include "unit.h"

/* --- str_to_long ------------------------------------------------------------------------ */

START_TEST(test_long_valid)
{
    long v = -1;

    ck_assert_int_eq(str_to_long("0", 0, 10, &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(str_to_long("42", 0, 100, &v), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(str_to_long("-17", -100, 100, &v), 0);
    ck_assert_int_eq(v, -17);
    ck_assert_int_eq(str_to_long("007", 0, 100, &v), 0);
    ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(test_long_bounds)
{
    long v = 99;

    ck_assert_int_eq(str_to_long("1", 1, 256, &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(str_to_long("256", 1, 256, &v), 0);
    ck_assert_int_eq(v, 256);
    v = 99;
    ck_assert_int_eq(str_to_long("0", 1, 256, &v), -1);
    ck_assert_int_eq(str_to_long("257", 1, 256, &v), -1);
    ck_assert_int_eq(str_to_long("-1", 0, 256, &v), -1);
    /* A refused value leaves *out alone. */
    ck_assert_int_eq(v, 99);
}
END_TEST

START_TEST(test_long_garbage)
{
    long v = 99;

    ck_assert_int_eq(str_to_long("abc", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long("12abc", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long("1.5", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long("0x10", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long("-", -100, 100, &v), -1);
    ck_assert_int_eq(str_to_long("1 ", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long("1\n", 0, 100, &v), -1);
    ck_assert_int_eq(v, 99);
}
END_TEST

START_TEST(test_long_empty_and_space)
{
    long v = 99;

    ck_assert_int_eq(str_to_long("", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long(NULL, 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long(" 1", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long("\t1", 0, 100, &v), -1);
    ck_assert_int_eq(str_to_long("\n1", 0, 100, &v), -1);
    ck_assert_int_eq(v, 99);
}
END_TEST

START_TEST(test_long_overflow)
{
    long v = 99;

    ck_assert_int_eq(str_to_long("9223372036854775807", LONG_MIN, LONG_MAX, &v), 0);
    ck_assert_int_eq(v, LONG_MAX);
    ck_assert_int_eq(str_to_long("-9223372036854775808", LONG_MIN, LONG_MAX, &v), 0);
    ck_assert_int_eq(v, LONG_MIN);
    v = 99;
    ck_assert_int_eq(str_to_long("9223372036854775808", LONG_MIN, LONG_MAX, &v), -1);
    ck_assert_int_eq(str_to_long("-9223372036854775809", LONG_MIN, LONG_MAX, &v), -1);
    ck_assert_int_eq(str_to_long("99999999999999999999999", LONG_MIN, LONG_MAX, &v), -1);
    ck_assert_int_eq(v, 99);
}
END_TEST

/* --- str_to_size ------------------------------------------------------------------------ */

START_TEST(test_size_valid)
{
    size_t v = 1;

    ck_assert_int_eq(str_to_size("0", 100, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(str_to_size("4096", 4096, &v), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(str_to_size("1099511627776", (size_t)1 << 40, &v), 0);
    ck_assert_uint_eq(v, (size_t)1 << 40);
}
END_TEST

START_TEST(test_size_refused)
{
    size_t v = 7;

    ck_assert_int_eq(str_to_size("4097", 4096, &v), -1);
    ck_assert_int_eq(str_to_size("", 4096, &v), -1);
    ck_assert_int_eq(str_to_size(NULL, 4096, &v), -1);
    ck_assert_int_eq(str_to_size("-1", 4096, &v), -1);
    ck_assert_int_eq(str_to_size("+1", 4096, &v), -1);
    ck_assert_int_eq(str_to_size(" 1", 4096, &v), -1);
    ck_assert_int_eq(str_to_size("1 ", 4096, &v), -1);
    ck_assert_int_eq(str_to_size("12a", 4096, &v), -1);
    ck_assert_int_eq(str_to_size("1e3", 4096, &v), -1);
    ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_size_overflow)
{
    size_t v = 7;

    /* 2^64 and far beyond: must not wrap to a small number. */
    ck_assert_int_eq(str_to_size("18446744073709551616", SIZE_MAX, &v), -1);
    ck_assert_int_eq(str_to_size("36893488147419103232", SIZE_MAX, &v), -1);
    ck_assert_int_eq(str_to_size("99999999999999999999999999", SIZE_MAX, &v), -1);
    ck_assert_int_eq(str_to_size("18446744073709551617", SIZE_MAX, &v), -1);
    ck_assert_uint_eq(v, 7);
}
END_TEST

/*
 * Fixed (lib/strparse.c, str_to_size): the overflow guard "v > (ULLONG_MAX - 9) / 10" refuses
 * some values that fit, e.g. SIZE_MAX itself.
 */
START_TEST(test_size_max_accepted)
{
    size_t v = 7;

    ck_assert_int_eq(str_to_size("18446744073709551615", SIZE_MAX, &v), 0);
    ck_assert_uint_eq(v, SIZE_MAX);
}
END_TEST

/* --- str_to_octal ----------------------------------------------------------------------- */

START_TEST(test_octal_valid)
{
    long v = -1;

    ck_assert_int_eq(str_to_octal("660", 0777, &v), 0);
    ck_assert_int_eq(v, 0660);
    ck_assert_int_eq(str_to_octal("0777", 0777, &v), 0);
    ck_assert_int_eq(v, 0777);
    ck_assert_int_eq(str_to_octal("0", 0777, &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(str_to_octal("0000000000000000000000000007", 0777, &v), 0);
    ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(test_octal_refused)
{
    long v = 5;

    ck_assert_int_eq(str_to_octal("1000", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal("8", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal("19", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal("", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal(NULL, 0777, &v), -1);
    ck_assert_int_eq(str_to_octal("-1", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal(" 660", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal("660 ", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal("0o660", 0777, &v), -1);
    ck_assert_int_eq(str_to_octal("77777777777777777777777777", 0777, &v), -1);
    ck_assert_int_eq(v, 5);
}
END_TEST

/*
 * Fixed (lib/strparse.c, str_to_octal): "v = v * 8 + digit" is computed before the "v > max"
 * check, so with a max above LONG_MAX / 8 a long input overflows a signed long (undefined
 * behaviour).  In practice it wraps: "1000000000000000000000" (2^63) with max LONG_MAX
 * returns 0 with *out == LONG_MIN.
 */
START_TEST(test_octal_overflow)
{
    long v = 5;

    ck_assert_int_eq(str_to_octal("777777777777777777777", LONG_MAX, &v), 0);
    ck_assert_int_eq(v, LONG_MAX);
    v = 5;
    ck_assert_int_eq(str_to_octal("1000000000000000000000", LONG_MAX, &v), -1);
    ck_assert_int_eq(str_to_octal("7777777777777777777777", LONG_MAX, &v), -1);
    ck_assert_int_eq(v, 5);
}
END_TEST

/* --- str_pct_decode --------------------------------------------------------------------- */

/* Decode s (its strlen) into a buffer of exactly strlen + 1 bytes; returns the length. */
static long
decode(const char *s, int plus, char **out)
{
    size_t n = strlen(s);

    *out = malloc(n + 1);
    ck_assert_ptr_nonnull(*out);
    memset(*out, 'Z', n + 1);
    return str_pct_decode(*out, s, n, plus);
}

START_TEST(test_pct_valid)
{
    char *out;

    ck_assert_int_eq(decode("plain", 0, &out), 5);
    ck_assert_str_eq(out, "plain");
    free(out);
    ck_assert_int_eq(decode("a%20b", 0, &out), 3);
    ck_assert_str_eq(out, "a b");
    free(out);
    ck_assert_int_eq(decode("%41%62%7a%7A", 0, &out), 4);
    ck_assert_str_eq(out, "Abzz");
    free(out);
    ck_assert_int_eq(decode("%C3%A9", 0, &out), 2);
    ck_assert_str_eq(out, "\xc3\xa9");
    free(out);
    ck_assert_int_eq(decode("100%25", 0, &out), 4);
    ck_assert_str_eq(out, "100%");
    free(out);
    ck_assert_int_eq(decode("%2541", 0, &out), 3);
    ck_assert_str_eq(out, "%41");
    free(out);
    ck_assert_int_eq(decode("", 0, &out), 0);
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

START_TEST(test_pct_plus)
{
    char *out;

    ck_assert_int_eq(decode("a+b+", 1, &out), 4);
    ck_assert_str_eq(out, "a b ");
    free(out);
    ck_assert_int_eq(decode("a+b+", 0, &out), 4);
    ck_assert_str_eq(out, "a+b+");
    free(out);
    /* An encoded plus is a plus in both modes. */
    ck_assert_int_eq(decode("1%2B1", 1, &out), 3);
    ck_assert_str_eq(out, "1+1");
    free(out);
    ck_assert_int_eq(decode("1%2b1", 0, &out), 3);
    ck_assert_str_eq(out, "1+1");
    free(out);
}
END_TEST

START_TEST(test_pct_truncated)
{
    char *out;

    ck_assert_int_eq(decode("%4", 0, &out), -1);
    free(out);
    ck_assert_int_eq(decode("abc%4", 0, &out), -1);
    free(out);
    ck_assert_int_eq(decode("%", 0, &out), -1);
    free(out);
    ck_assert_int_eq(decode("abc%", 1, &out), -1);
    free(out);
}
END_TEST

START_TEST(test_pct_truncated_by_n)
{
    char out[8];

    /* Only n bytes count: "%41" cut to "%4" is truncated even though src goes on. */
    ck_assert_int_eq(str_pct_decode(out, "%41", 2, 0), -1);
    ck_assert_int_eq(str_pct_decode(out, "a%41", 3, 0), -1);
    ck_assert_int_eq(str_pct_decode(out, "ab%41", 2, 0), 2);
    ck_assert_str_eq(out, "ab");
}
END_TEST

START_TEST(test_pct_bad_hex)
{
    char *out;

    ck_assert_int_eq(decode("%zz", 0, &out), -1);
    free(out);
    ck_assert_int_eq(decode("%4g", 0, &out), -1);
    free(out);
    ck_assert_int_eq(decode("%g4", 1, &out), -1);
    free(out);
    ck_assert_int_eq(decode("%%41", 0, &out), -1);
    free(out);
    ck_assert_int_eq(decode("% 1", 0, &out), -1);
    free(out);
}
END_TEST

START_TEST(test_pct_nul_refused)
{
    char *out;

    ck_assert_int_eq(decode("%00", 0, &out), -1);
    free(out);
    ck_assert_int_eq(decode("abc%00def", 1, &out), -1);
    free(out);
}
END_TEST

START_TEST(test_pct_length_not_strlen)
{
    char out[16];

    /* The return value is the decoded length, and out is terminated right there. */
    memset(out, 'Z', sizeof(out));
    ck_assert_int_eq(str_pct_decode(out, "%41%42%43xyz", 12, 0), 6);
    ck_assert_str_eq(out, "ABCxyz");
    ck_assert_int_eq(out[6], '\0');
}
END_TEST

/* --- str_trim --------------------------------------------------------------------------- */

static void
check_trim(const char *in, const char *want)
{
    char buf[64];

    ck_assert_uint_lt(strlen(in), sizeof(buf));
    memcpy(buf, in, strlen(in) + 1);
    ck_assert_ptr_eq(str_trim(buf), buf);
    ck_assert_str_eq(buf, want);
}

START_TEST(test_trim)
{
    check_trim("abc", "abc");
    check_trim("  abc", "abc");
    check_trim("abc  ", "abc");
    check_trim(" \t\r\n abc def \n\r\t ", "abc def");
    check_trim("", "");
    check_trim("   ", "");
    check_trim("\n", "");
    check_trim("a", "a");
    check_trim(" a ", "a");
    check_trim("a b", "a b");
    check_trim("secret\n", "secret");
}
END_TEST

/* --- str_ct_equal ----------------------------------------------------------------------- */

START_TEST(test_ct_equal)
{
    ck_assert_int_eq(str_ct_equal("token", "token", 5), 1);
    ck_assert_int_eq(str_ct_equal("token", "tokeN", 5), 0);
    ck_assert_int_eq(str_ct_equal("token", "Token", 5), 0);
    ck_assert_int_eq(str_ct_equal("abc", "abd", 2), 1);
    ck_assert_int_eq(str_ct_equal("abc", "xyz", 0), 1);
    /* Every byte is compared, NULs included: not a strcmp. */
    ck_assert_int_eq(str_ct_equal("a\0b", "a\0c", 3), 0);
    ck_assert_int_eq(str_ct_equal("a\0b", "a\0b", 3), 1);
    /* Differences in single bits are not lost. */
    ck_assert_int_eq(str_ct_equal("\x80", "\x00", 1), 0);
    ck_assert_int_eq(str_ct_equal("\x01", "\x00", 1), 0);
}
END_TEST

/* Text a person could type: one case per row, the length given so NUL counts. */
static const struct {
    const char *s;
    size_t n;
    int ok;
    int multiline;
} text_cases[] = {
    {"", 0, 1, 0},
    {"O'Brien", 7, 1, 0},
    {"Zo\xc3\xab M\xc3\xbcller", 12, 1, 0},             /* two-byte forms */
    {"\xe5\xb1\xb1\xe7\x94\xb0", 6, 1, 0},                  /* three-byte forms */
    {"\xf0\x9f\xa6\xb7 tooth", 10, 1, 0},               /* four-byte form */
    {"\xef\xbf\xbd", 3, 0, 0},                          /* U+FFFD: json-c's lone \ud800 */
    {"\xef\xbf\xbe", 3, 0, 0},                          /* noncharacter U+FFFE */
    {"\xe2\x82\xac", 3, 1, 0},                          /* euro sign */
    {"\xed\xa0\x80", 3, 0, 0},                          /* a surrogate, UTF-8 encoded */
    {"\xed\xbf\xbf", 3, 0, 0},                          /* U+DFFF */
    {"\xc0\xaf", 2, 0, 0},                              /* overlong '/' */
    {"\xe0\x80\xaf", 3, 0, 0},                          /* overlong, three bytes */
    {"\xf0\x80\x80\xaf", 4, 0, 0},                      /* overlong, four bytes */
    {"\xf4\x90\x80\x80", 4, 0, 0},                      /* above U+10FFFF */
    {"\xf5\x80\x80\x80", 4, 0, 0},
    {"\x80", 1, 0, 0},                                  /* a lone continuation byte */
    {"\xc3", 1, 0, 0},                                  /* truncated */
    {"\xe5\xb1", 2, 0, 0},
    {"a\xc3(", 3, 0, 0},                                /* bad continuation */
    {"a\x00b", 3, 0, 0},                                /* NUL */
    {"line\nbreak", 10, 0, 0},
    {"tab\there", 8, 0, 0},
    {"del\x7f", 4, 0, 0},
    {"\xc2\x85", 2, 0, 0},                              /* C1 control NEL */
    {"\xc2\xa0", 2, 1, 0},                              /* no-break space is text */
    {"line\nbreak", 10, 1, 1},                        /* a statement may have lines */
    {"a\r\nb\tc", 6, 1, 1},
    {"a\x00b", 3, 0, 1},
    {"bell\x07", 5, 0, 1},
};

START_TEST(test_text_ok)
{
    ck_assert_msg(str_text_ok(text_cases[_i].s, text_cases[_i].n, text_cases[_i].multiline) ==
                  text_cases[_i].ok,
                  "case %d", _i);
}
END_TEST

/* Issue 12, item 11: names that reach an email are plain names.  One case per row: the
 * name, at most max characters, and whether it passes. */
static const struct {
    const char *s;
    size_t max;
    int ok;
    const char *why;
} name_cases[] = {
    {"Jane", 60, 1, "a first name"},
    {"Mary Jane", 60, 1, "two words"},
    {"O'Brien", 60, 1, "an apostrophe"},
    {"O\xe2\x80\x99" "Brien", 60, 1, "a typographic apostrophe"},
    {"'t Hooft", 60, 1, "a leading apostrophe"},
    {"Jean-Paul", 60, 1, "a hyphen"},
    {"J.R.R. Tolkien", 60, 1, "initials"},
    {"Martin Luther King Jr.", 60, 1, "a final period"},
    {"Zo\xc3\xab M\xc3\xbcller", 60, 1, "Latin letters with diacritics"},
    {"Zoe\xcc\x88", 60, 1, "a combining mark after its letter"},
    {"\xe5\xb1\xb1\xe7\x94\xb0", 60, 1, "Han"},
    {"\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0", 60, 1, "Cyrillic"},
    {"\xd9\x85\xd8\xad\xd9\x85\xd8\xaf", 60, 1, "Arabic"},
    {"\xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xb0\xe0\xa5\x87\xe0\xa4\xb6", 60, 1,
     "Devanagari with its vowel signs"},
    {"\xd9\x85\xe2\x80\x8c\xd9\x8a", 60, 1, "a joiner between letters"},
    {"Ann", 3, 1, "exactly max"},
    {"Anna", 3, 0, "over max"},
    {"\xe5\xb1\xb1\xe7\x94\xb0", 2, 1, "max counts characters, not bytes"},
    {"", 60, 0, "empty"},
    {" ", 60, 0, "a space"},
    {" Jane", 60, 0, "a leading space"},
    {"Jane ", 60, 0, "a trailing space"},
    {"Mary  Jane", 60, 0, "two spaces"},
    {"-.'", 60, 0, "no letter"},
    {"12345", 60, 0, "digits only"},
    {"Jane 2", 60, 0, "a digit"},
    {"\xd9\xa1\xd9\xa2", 60, 0, "Arabic-Indic digits"},
    {"jane@example.com", 60, 0, "an address"},
    {"example.com", 60, 0, "a domain"},
    {"Visit evil.com now", 60, 0, "a domain among words"},
    {"bit.ly", 60, 0, "a short domain"},
    {"evil.com's", 60, 0, "a domain before an apostrophe"},
    {"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84", 60, 0,
     "a domain in another script"},
    {"evil\xef\xbc\x8e" "com", 60, 0, "a fullwidth period"},
    {"evil\xe3\x80\x82" "com", 60, 0, "an ideographic period"},
    {"https://evil", 60, 0, "a URL"},
    {"evil/path", 60, 0, "a slash"},
    {"a:b", 60, 0, "a colon"},
    {"Win $100", 60, 0, "a symbol"},
    {"Jane\tDoe", 60, 0, "a tab"},
    {"Jane\nDoe", 60, 0, "a line break"},
    {"Jane\xe2\x80\xae", 60, 0, "a bidirectional override"},
    {"Ja\xe2\x80\x8bne", 60, 0, "a zero-width space"},
    {"\xe2\x80\x8cJane", 60, 0, "a leading joiner"},
    {"\xcc\x88Jane", 60, 0, "a leading combining mark"},
    {"Jane \xcc\x88", 60, 0, "a combining mark after a space"},
    {"Jane\xc2\xa0" "Doe", 60, 0, "a no-break space"},
    {"\xf0\x9f\xa6\xb7", 60, 0, "an emoji"},
    {"Jane\xc3", 60, 0, "not UTF-8"},
};

START_TEST(test_issue12_item11_plain_names)
{
    ck_assert_msg(str_name_ok(name_cases[_i].s, strlen(name_cases[_i].s), name_cases[_i].max)
                  == name_cases[_i].ok, "%s: %s", name_cases[_i].why,
                  name_cases[_i].ok ? "refused" : "accepted");
}
END_TEST

static Suite *
strparse_suite(void)
{
    Suite *s = suite_create("strparse");
    TCase *tc = tcase_create("to_long");

    tcase_add_test(tc, test_long_valid);
    tcase_add_test(tc, test_long_bounds);
    tcase_add_test(tc, test_long_garbage);
    tcase_add_test(tc, test_long_empty_and_space);
    tcase_add_test(tc, test_long_overflow);
    suite_add_tcase(s, tc);

    tc = tcase_create("to_size");
    tcase_add_test(tc, test_size_valid);
    tcase_add_test(tc, test_size_refused);
    tcase_add_test(tc, test_size_overflow);
    tcase_add_test(tc, test_size_max_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("to_octal");
    tcase_add_test(tc, test_octal_valid);
    tcase_add_test(tc, test_octal_refused);
    tcase_add_test(tc, test_octal_overflow);
    suite_add_tcase(s, tc);

    tc = tcase_create("pct_decode");
    tcase_add_test(tc, test_pct_valid);
    tcase_add_test(tc, test_pct_plus);
    tcase_add_test(tc, test_pct_truncated);
    tcase_add_test(tc, test_pct_truncated_by_n);
    tcase_add_test(tc, test_pct_bad_hex);
    tcase_add_test(tc, test_pct_nul_refused);
    tcase_add_test(tc, test_pct_length_not_strlen);
    suite_add_tcase(s, tc);

    tc = tcase_create("misc");
    tcase_add_test(tc, test_trim);
    tcase_add_test(tc, test_ct_equal);
    tcase_add_loop_test(tc, test_text_ok, 0, sizeof(text_cases) / sizeof(text_cases[0]));
    tcase_add_loop_test(tc, test_issue12_item11_plain_names, 0,
                        sizeof(name_cases) / sizeof(name_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(strparse_suite)
