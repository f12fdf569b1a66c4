#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "strparse.h"

int
str_to_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10); /* checksrc: ok, this is the checked wrapper */
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
str_to_size(const char *s, size_t max, size_t *out)
{
    unsigned long long v = 0;
    const char *p;

    if (!s || !*s)
        return -1;
    for (p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (ULLONG_MAX - (unsigned)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

int
str_to_octal(const char *s, long max, long *out)
{
    long v = 0;
    const char *p;

    if (!s || !*s)
        return -1;
    for (p = s; *p; p++) {
        if (*p < '0' || *p > '7')
            return -1;
        if (v > (max - (*p - '0')) / 8)
            return -1;
        v = v * 8 + (*p - '0');
    }
    *out = v;
    return 0;
}

int
str_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long
str_pct_decode(char *out, const char *src, size_t n, int plus_is_space)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        char c = src[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= n)
                return -1;
            hi = str_hexval((unsigned char)src[i + 1]);
            lo = str_hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return -1;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

char *
str_trim(char *s)
{
    char *start = s, *end;
    size_t n;

    while (*start && isspace((unsigned char)*start))
        start++;
    end = start + strlen(start);
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    n = (size_t)(end - start);
    memmove(s, start, n);
    s[n] = '\0';
    return s;
}

int
str_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    size_t i;

    for (i = 0; i < n; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}

/* The code point at p (before end) into *cp: its length in bytes, or 0 when it is not
 * well-formed UTF-8 (overlong, a surrogate, above U+10FFFF, cut short). */
static size_t
utf8_next(const unsigned char *p, const unsigned char *end, unsigned long *cp)
{
    size_t len, i;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        *cp = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        *cp = p[0] & 0x0fu;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        *cp = p[0] & 0x07u;
    } else {
        return 0;                           /* a continuation byte, 0xc0, 0xc1 or > 0xf4 */
    }
    if ((size_t)(end - p) < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3fu);
    }
    if ((len == 3 && *cp < 0x800) || (len == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
        (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

int
str_text_ok(const char *s, size_t n, int multiline)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    unsigned long cp;
    size_t len;

    while (p < end) {
        len = utf8_next(p, end, &cp);
        if (len == 0)
            return 0;
        if ((cp < 0x20 || cp == 0x7f) &&
            !(multiline && (cp == '\n' || cp == '\r' || cp == '\t')))
            return 0;
        /* C1 controls; U+FFFD is what json-c makes of a lone "\ud800": text mangled before
         * it reached us; noncharacters are never text. */
        if ((cp >= 0x80 && cp <= 0x9f) || cp == 0xfffd || (cp >= 0xfdd0 && cp <= 0xfdef) ||
            (cp & 0xfffe) == 0xfffe)
            return 0;
        p += len;
    }
    return 1;
}

/* What a character of a name is: a letter (of any script), a combining mark, a space, a
 * joiner (ZWNJ, ZWJ: some scripts need them between letters), one of the name's
 * punctuation marks, a period (kept apart: it could make an address), or none of these. */
enum name_char { NC_OTHER, NC_LETTER, NC_MARK, NC_SPACE, NC_JOINER, NC_PUNCT, NC_PERIOD };

static enum name_char
name_char(unsigned long cp)
{
    int k;

    if (cp == ' ')
        return NC_SPACE;
    if (cp == '.')
        return NC_PERIOD;
    if (cp == '\'' || cp == '-' || cp == 0x2019)   /* O'Brien, O\u2019Brien, Jean-Paul */
        return NC_PUNCT;
    if (cp == 0x200c || cp == 0x200d)
        return NC_JOINER;
    k = str_letter_kind(cp);
    return k == STR_LETTER ? NC_LETTER : k == STR_MARK ? NC_MARK : NC_OTHER;
}

int
str_name_ok(const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    enum name_char c, prev = NC_SPACE;
    size_t len, chars = 0, letters = 0, run = 0;
    int after_period = 0;
    unsigned long cp;

    if (!str_text_ok(s, n, 0))
        return 0;
    while (p < end) {
        len = utf8_next(p, end, &cp);
        c = name_char(cp);
        if (c == NC_OTHER || ++chars > max)
            return 0;
        if ((c == NC_SPACE && prev == NC_SPACE) ||
            (prev == NC_JOINER && c != NC_LETTER && c != NC_MARK) ||
            (c == NC_MARK && prev != NC_LETTER && prev != NC_MARK) ||
            (c == NC_JOINER && prev != NC_LETTER && prev != NC_MARK))
            return 0;
        if (c == NC_LETTER) {
            letters++;
            run++;
        } else if (c != NC_MARK && c != NC_JOINER) {
            /* A period followed by a word of two letters or more reads as an address
             * ("example.com"); initials ("J.R.R.") keep one letter between periods. */
            if (after_period && run > 1)
                return 0;
            after_period = c == NC_PERIOD;
            run = 0;
        }
        prev = c;
        p += len;
    }
    return letters > 0 && prev != NC_SPACE && prev != NC_JOINER && !(after_period && run > 1);
}

int
str_host_is_loopback(const char *h)
{
    static const char *const hosts[] = {"127.0.0.1", "[::1]", "localhost"};
    size_t i, n;

    for (i = 0; h && i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        n = strlen(hosts[i]);
        if (strncmp(h, hosts[i], n) == 0 && (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
            return 1;
    }
    return 0;
}
