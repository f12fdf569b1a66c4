#include "config.h"

#include <ctype.h>

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "ids.h"
#include "strparse.h"

int
id_new(char *out, size_t outlen, const char *prefix)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[ID_HEX / 2];
    size_t plen = strlen(prefix), i;

    if (outlen < plen + ID_HEX + 1 || getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -1;
    memcpy(out, prefix, plen);
    for (i = 0; i < sizeof(r); i++) {
        out[plen + 2 * i] = hex[r[i] >> 4];
        out[plen + 2 * i + 1] = hex[r[i] & 15];
    }
    out[plen + ID_HEX] = '\0';
    return 0;
}

int
id_valid(const char *s, const char *prefix)
{
    size_t plen = strlen(prefix);

    if (!s || strncmp(s, prefix, plen) != 0)
        return 0;
    s += plen;
    return strlen(s) == ID_HEX && strspn(s, "0123456789abcdef") == ID_HEX;
}

long
clock_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
time_iso(time_t t, char *out, size_t outlen)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t
time_parse_iso(const char *s)
{
    struct tm tm;
    char *end;

    if (!s)
        return 0;
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return 0;
    if (*end == '.') {
        end++;
        while (isdigit((unsigned char)*end))
            end++;
    }
    if (*end && strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
        return 0;
    return timegm(&tm);
}

void
hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void
token_hash(const char *token, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    hex_encode(md, n < 32 ? n : 32, out);
}

int
token_ok(const char *token, const char *stored)
{
    char h[65];

    if (!token || !stored || strlen(stored) != 64 || strlen(token) > 64)
        return 0;
    token_hash(token, h);
    return str_ct_equal(h, stored, 64);
}
