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

int
str_text_ok(const char *s, size_t n, int multiline)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        unsigned long cp;
        size_t len, i;

        if (p[0] < 0x80) {
            if ((p[0] < 0x20 || p[0] == 0x7f) &&
                !(multiline && (p[0] == '\n' || p[0] == '\r' || p[0] == '\t')))
                return 0;
            p++;
            continue;
        }
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
            len = 2;
            cp = p[0] & 0x1fu;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
            len = 3;
            cp = p[0] & 0x0fu;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
            len = 4;
            cp = p[0] & 0x07u;
        } else {
            return 0;                       /* a continuation byte, 0xc0, 0xc1 or > 0xf4 */
        }
        if ((size_t)(end - p) < len)
            return 0;
        for (i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        /* U+FFFD is what json-c makes of a lone "\ud800": text mangled before it reached us;
         * noncharacters are never text. */
        if (cp == 0xfffd || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
            return 0;
        p += len;
    }
    return 1;
}
