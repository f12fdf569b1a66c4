/*
 * The checks every SigV4 signature starts with (sigv4_int.h): names, values, paths, queries,
 * scopes and credentials a signer would otherwise sign into a request nobody can verify.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "errors.h"
#include "sigv4_int.h"

/* --- validation ---------------------------------------------------------------------- */

/* RFC 9110 tchar: what a header name is made of. */
static int
sv_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int
sv_valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!sv_tchar((unsigned char)*s))
            return 0;
    return 1;
}

/* A header value: no control character but HTAB (no CR/LF to inject a header). */
static int
sv_valid_value(const char *s)
{
    if (!s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* 1..max printable characters, none of them white space or in reject. */
static int
sv_valid_token(const char *s, size_t max, const char *reject)
{
    size_t n = 0;

    if (!s || !*s)
        return 0;
    for (; *s; s++, n++) {
        unsigned char c = (unsigned char)*s;

        if (c <= 0x20 || c >= 0x7f || n >= max || strchr(reject, c))
            return 0;
    }
    return 1;
}

static int
sv_valid_scope_part(const char *s)
{
    size_t n = 0;

    if (!s || !*s)
        return 0;
    for (; *s; s++, n++) {
        unsigned char c = (unsigned char)*s;

        if (n >= SV_MAX_SCOPE_PART ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static int
sv_valid_method(const char *s)
{
    size_t n = 0;

    if (!s || !*s)
        return 0;
    for (; *s; s++, n++)
        if (n >= SV_MAX_METHOD || *s < 'A' || *s > 'Z')
            return 0;
    return 1;
}

/* The path as sent: "" or starting with '/', no query, no fragment, no control character. */
static int
sv_valid_path(const char *s)
{
    if (!s)
        return 0;
    if (*s && *s != '/')
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c == 0x7f || c == '?' || c == '#')
            return 0;
    }
    return 1;
}

static int
sv_valid_query(const char *s)
{
    if (!s)
        return 1;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c == 0x7f || c == '#')
            return 0;
    }
    return 1;
}

int
sigv4_has_token(const struct sigv4_creds *c)
{
    return c->session_token && c->session_token[0];
}

/* Everything both signers need; *s3 says whether the service is S3. */
int
sigv4_check_request(const struct sigv4_request *r, const struct sigv4_creds *c, int *s3)
{
    size_t i;

    if (!r || !c)
        return APP_EINTERNAL;
    if (!sv_valid_method(r->method) || !sv_valid_token(r->host, 1024, "") ||
        !sv_valid_path(r->path) || !sv_valid_query(r->query) ||
        !sv_valid_scope_part(r->region) || !sv_valid_scope_part(r->service))
        return APP_EINTERNAL;
    if (r->nheaders && !r->headers)
        return APP_EINTERNAL;
    for (i = 0; i < r->nheaders; i++)
        if (!sv_valid_name(r->headers[i].name) || !sv_valid_value(r->headers[i].value))
            return APP_EINTERNAL;
    if (r->payload_len && !r->payload)
        return APP_EINTERNAL;
    if (r->payload_hash && !sv_valid_token(r->payload_hash, 64, ""))
        return APP_EINTERNAL;
    if (!sv_valid_token(c->access_key, SV_MAX_KEY_ID, "/,;=\"\\"))
        return APP_EINTERNAL;
    if (!c->secret_key || !c->secret_key[0] || strlen(c->secret_key) > SV_MAX_SECRET)
        return APP_EINTERNAL;
    if (sigv4_has_token(c) && !sv_valid_value(c->session_token))
        return APP_EINTERNAL;
    *s3 = strcmp(r->service, "s3") == 0;
    return APP_OK;
}

/* X-Amz-Date (20150830T123600Z) and the scope's date (20150830). */
int
sigv4_dates(time_t now, char *amz_date, char *date8)
{
    struct tm tm;

    if (now < 0 || !gmtime_r(&now, &tm) || tm.tm_year + 1900 > 9999)
        return APP_EINTERNAL;
    if (strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return APP_EINTERNAL;
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    return APP_OK;
}

