/*
 * AWS Signature Version 4, canonicalised as botocore does (see sigv4.h for the rules).
 *
 * One signature is: the canonical request (method, URI, query, headers, signed header list,
 * payload hash), its SHA-256 in the string to sign, and an HMAC-SHA256 chain from the secret
 * over date, region, service and "aws4_request".  Working text lives in bounded struct bufs;
 * nothing is cached between calls.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "errors.h"
#include "sigv4.h"
#include "sigv4_int.h"
#include "strparse.h"

#define SV_ALGORITHM "AWS4-HMAC-SHA256"
#define SV_TERMINATOR "aws4_request"

static const char sv_hex_upper[] = "0123456789ABCDEF";
static const char sv_hex_lower[] = "0123456789abcdef";


void
sv_work_init(struct sv_work *w)
{
    buf_init(&w->scratch, SV_MAX_WORK);
    buf_init(&w->items, SV_MAX_WORK);
    buf_init(&w->chdr, SV_MAX_WORK);
    buf_init(&w->shdr, SV_MAX_WORK);
    buf_init(&w->creq, SV_MAX_WORK);
}

void
sv_work_free(struct sv_work *w)
{
    buf_free(&w->creq);
    buf_free(&w->shdr);
    buf_free(&w->chdr);
    buf_free(&w->items);
    buf_free(&w->scratch);
}

/* A buffer ceiling is an allocation failure to the caller, never a 413. */
static int
sv_err(int rc)
{
    return rc == APP_ETOOLARGE ? APP_ENOMEM : rc;
}

static int
sv_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '_' || c == '.' || c == '~';
}

static void
sv_hex(char *out, const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = sv_hex_lower[p[i] >> 4];
        out[2 * i + 1] = sv_hex_lower[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int
sigv4_uri_encode(struct buf *out, const char *s, size_t n, int keep_slash)
{
    size_t i, start = 0;
    char esc[3];
    int rc;

    if (!out || (!s && n))
        return APP_EINTERNAL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (sv_unreserved(c) || (keep_slash && c == '/'))
            continue;
        rc = buf_append(out, s + start, i - start);
        if (rc != APP_OK)
            return rc;
        esc[0] = '%';
        esc[1] = sv_hex_upper[c >> 4];
        esc[2] = sv_hex_upper[c & 15];
        rc = buf_append(out, esc, 3);
        if (rc != APP_OK)
            return rc;
        start = i + 1;
    }
    return buf_append(out, s ? s + start : "", n - start);
}

/*
 * Append the canonical spelling of a wire component: s[0..n) percent-decoded and encoded
 * again.  A '%' not followed by two hex digits is a literal '%'.  A decoded byte is data,
 * never a separator: "%2F" stays "%2F" even when keep_slash.
 */
int
sv_canon_component(struct buf *out, const char *s, size_t n, int keep_slash)
{
    size_t i;
    char esc[3];
    int rc = APP_OK;

    for (i = 0; i < n && rc == APP_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        int decoded = 0;

        if (c == '%' && i + 2 < n && str_hexval((unsigned char)s[i + 1]) >= 0 &&
            str_hexval((unsigned char)s[i + 2]) >= 0) {
            c = (unsigned char)(str_hexval((unsigned char)s[i + 1]) * 16 +
                                str_hexval((unsigned char)s[i + 2]));
            i += 2;
            decoded = 1;
        }
        if (sv_unreserved(c) || (keep_slash && !decoded && c == '/')) {
            esc[0] = (char)c;
            rc = buf_append(out, esc, 1);
        } else {
            esc[0] = '%';
            esc[1] = sv_hex_upper[c >> 4];
            esc[2] = sv_hex_upper[c & 15];
            rc = buf_append(out, esc, 3);
        }
    }
    return rc;
}

/*
 * botocore's normalize_url_path (utils.remove_dot_segments): drop empty and "." segments,
 * ".." removes the previous one, keep the leading '/' and a trailing '/' when something
 * remains.  Then encode the result again, '/' kept: "%20" signs as "%2520".
 */
static int
sv_uri_normalised(struct buf *out, const char *path)
{
    struct buf norm;
    const char *p = path, *seg;
    size_t len, plen = strlen(path), nseg = 0;
    int rc = APP_OK;

    buf_init(&norm, SV_MAX_WORK);
    while (*p && rc == APP_OK) {
        while (*p == '/')
            p++;
        seg = p;
        while (*p && *p != '/')
            p++;
        len = (size_t)(p - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (nseg > 0) {
                while (norm.len > 0 && norm.data[norm.len - 1] != '/')
                    norm.len--;
                norm.len--;                    /* the '/' before the segment */
                norm.data[norm.len] = '\0';
                nseg--;
            }
            continue;
        }
        rc = buf_append(&norm, "/", 1);
        if (rc == APP_OK)
            rc = buf_append(&norm, seg, len);
        nseg++;
    }
    if (rc == APP_OK && nseg > 0 && path[plen - 1] == '/')
        rc = buf_append(&norm, "/", 1);
    if (rc == APP_OK && nseg == 0)
        rc = buf_append(out, "/", 1);
    else if (rc == APP_OK)
        rc = sigv4_uri_encode(out, norm.data, norm.len, 1);
    buf_free(&norm);
    return rc;
}

static int
sv_canonical_uri(struct buf *out, const char *path, int s3)
{
    if (!path[0] || (path[0] == '/' && !path[1]))
        return buf_append(out, "/", 1);
    if (s3)
        return sv_canon_component(out, path, strlen(path), 1);
    return sv_uri_normalised(out, path);
}

/* --- signature --------------------------------------------------------------------------- */

static int
sv_hmac(const void *key, size_t keylen, const void *msg, size_t len, unsigned char *out)
{
    unsigned int outlen = 0;

    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &outlen) || outlen != 32)
        return APP_EINTERNAL;
    return APP_OK;
}

/*
 * The hex signature of the canonical request w->creq: string to sign, then the key chain
 * AWS4+secret -> date -> region -> service -> aws4_request.
 */
static int
sv_signature(const struct sv_work *w, const struct sigv4_request *r,
             const struct sigv4_creds *c, const char *amz_date, const char *date8,
             char *sig)
{
    unsigned char digest[32], k1[32], k2[32];
    char key[4 + SV_MAX_SECRET], creq_hex[65], sts[384];
    size_t slen = strlen(c->secret_key);
    unsigned int dlen = 0;
    int n, rc = APP_EINTERNAL;

    if (!EVP_Digest(w->creq.data, w->creq.len, digest, &dlen, EVP_sha256(), NULL) ||
        dlen != 32)
        return APP_EINTERNAL;
    sv_hex(creq_hex, digest, 32);
    n = snprintf(sts, sizeof(sts), SV_ALGORITHM "\n%s\n%s/%s/%s/" SV_TERMINATOR "\n%s",
                 amz_date, date8, r->region, r->service, creq_hex);
    if (n < 0 || (size_t)n >= sizeof(sts))
        return APP_ENOMEM;
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, c->secret_key, slen);
    if (sv_hmac(key, 4 + slen, date8, 8, k1) == APP_OK &&
        sv_hmac(k1, 32, r->region, strlen(r->region), k2) == APP_OK &&
        sv_hmac(k2, 32, r->service, strlen(r->service), k1) == APP_OK &&
        sv_hmac(k1, 32, SV_TERMINATOR, strlen(SV_TERMINATOR), k2) == APP_OK &&
        sv_hmac(k2, 32, sts, (size_t)n, digest) == APP_OK) {
        sv_hex(sig, digest, 32);
        rc = APP_OK;
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    return rc;
}

/* method \n uri \n (the query, appended by the caller next) */
static int
sv_creq_start(struct sv_work *w, const struct sigv4_request *r, int s3)
{
    int rc = buf_puts(&w->creq, r->method);

    if (rc == APP_OK)
        rc = buf_append(&w->creq, "\n", 1);
    if (rc == APP_OK)
        rc = sv_canonical_uri(&w->creq, r->path, s3);
    if (rc == APP_OK)
        rc = buf_append(&w->creq, "\n", 1);
    return rc;
}

/* \n headers block \n signed headers \n payload hash */
static int
sv_creq_finish(struct sv_work *w, const char *payload_hash)
{
    int rc = buf_append(&w->creq, "\n", 1);

    if (rc == APP_OK)
        rc = buf_append(&w->creq, w->chdr.data, w->chdr.len);
    if (rc == APP_OK)
        rc = buf_append(&w->creq, "\n", 1);
    if (rc == APP_OK)
        rc = buf_append(&w->creq, w->shdr.data, w->shdr.len);
    if (rc == APP_OK)
        rc = buf_append(&w->creq, "\n", 1);
    if (rc == APP_OK)
        rc = buf_puts(&w->creq, payload_hash);
    return rc;
}

/* --- the two signers ----------------------------------------------------------------------- */

int
sigv4_sign(const struct sigv4_request *r, const struct sigv4_creds *c,
           struct sigv4_signed *out)
{
    struct sv_work w;
    const char *extra[8];
    struct sv_pair *p;
    char date8[9], sig[65];
    unsigned char digest[32];
    unsigned int dlen = 0;
    size_t nextra = 0, np;
    int s3 = 0, n, rc;

    if (!out)
        return APP_EINTERNAL;
    memset(out, 0, sizeof(*out));
    rc = sigv4_check_request(r, c, &s3);
    if (rc == APP_OK)
        rc = sigv4_dates(r->now, out->amz_date, date8);
    if (rc != APP_OK)
        return rc;
    if (r->payload_hash) {
        snprintf(out->payload_hash, sizeof(out->payload_hash), "%s", r->payload_hash);
    } else {
        if (!EVP_Digest(r->payload_len ? r->payload : "", r->payload_len, digest, &dlen,
                        EVP_sha256(), NULL) || dlen != 32)
            return APP_EINTERNAL;
        sv_hex(out->payload_hash, digest, 32);
    }

    extra[nextra * 2] = "host";
    extra[nextra++ * 2 + 1] = r->host;
    extra[nextra * 2] = "x-amz-date";
    extra[nextra++ * 2 + 1] = out->amz_date;
    if (sigv4_has_token(c)) {
        extra[nextra * 2] = "x-amz-security-token";
        extra[nextra++ * 2 + 1] = c->session_token;
    }
    if (s3) {
        extra[nextra * 2] = "x-amz-content-sha256";
        extra[nextra++ * 2 + 1] = out->payload_hash;
    }

    sv_work_init(&w);
    rc = sv_headers(&w, r, extra, nextra, s3);
    if (rc == APP_OK)
        rc = sv_creq_start(&w, r, s3);
    if (rc == APP_OK) {
        buf_reset(&w.scratch);
        buf_reset(&w.items);
        rc = buf_append(&w.scratch, "", 0);
    }
    if (rc == APP_OK)
        rc = sv_query_parse(&w, r->query, 0);
    if (rc == APP_OK) {
        p = sv_pairs(&w, &np);
        qsort(p, np, sizeof(*p), sv_pair_cmp);
        rc = sv_pairs_join(&w.creq, p, np);
    }
    if (rc == APP_OK)
        rc = sv_creq_finish(&w, out->payload_hash);
    if (rc == APP_OK)
        rc = sv_signature(&w, r, c, out->amz_date, date8, sig);
    if (rc == APP_OK) {
        n = snprintf(out->authorization, sizeof(out->authorization),
                     SV_ALGORITHM " Credential=%s/%s/%s/%s/" SV_TERMINATOR
                     ", SignedHeaders=%s, Signature=%s",
                     c->access_key, date8, r->region, r->service, w.shdr.data, sig);
        if (n < 0 || (size_t)n >= sizeof(out->authorization))
            rc = APP_ENOMEM;
    }
    sv_work_free(&w);
    if (rc != APP_OK)
        memset(out, 0, sizeof(*out));
    return sv_err(rc);
}

/* The query parameters presigning adds; the caller's query must not carry them. */
static const char *const sv_auth_params[] = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
};

static int
sv_is_auth_param(const struct sv_pair *p)
{
    size_t i, len;

    for (i = 0; i < sizeof(sv_auth_params) / sizeof(sv_auth_params[0]); i++) {
        len = strlen(sv_auth_params[i]);
        if (p->klen == len && !strncasecmp(p->k, sv_auth_params[i], len))
            return 1;
    }
    return 0;
}

int
sigv4_presign(const struct sigv4_request *r, const struct sigv4_creds *c, long expires_s,
              struct buf *out)
{
    struct sv_work w;
    struct buf q;
    const char *extra[2], *auth[12];
    struct sv_pair *p;
    char amz_date[17], date8[9], sig[65], credential[512], expires[24];
    size_t i, np, nown, na = 0;
    int s3 = 0, n, rc;

    if (!out || expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES)
        return APP_EINTERNAL;
    rc = sigv4_check_request(r, c, &s3);
    if (rc == APP_OK)
        rc = sigv4_dates(r->now, amz_date, date8);
    if (rc != APP_OK)
        return rc;
    n = snprintf(credential, sizeof(credential), "%s/%s/%s/%s/" SV_TERMINATOR,
                 c->access_key, date8, r->region, r->service);
    if (n < 0 || (size_t)n >= sizeof(credential))
        return APP_EINTERNAL;
    snprintf(expires, sizeof(expires), "%ld", expires_s);
    extra[0] = "host";
    extra[1] = r->host;

    sv_work_init(&w);
    buf_init(&q, SV_MAX_WORK);
    rc = sv_headers(&w, r, extra, 1, 0);
    if (rc == APP_OK)
        rc = sv_creq_start(&w, r, s3);
    if (rc == APP_OK) {
        buf_reset(&w.scratch);
        buf_reset(&w.items);
        rc = buf_append(&w.scratch, "", 0);
    }
    if (rc == APP_OK)
        rc = sv_query_parse(&w, r->query, 1);
    nown = w.items.len / sizeof(struct sv_pair);
    auth[na++] = "X-Amz-Algorithm";
    auth[na++] = SV_ALGORITHM;
    auth[na++] = "X-Amz-Credential";
    auth[na++] = credential;
    auth[na++] = "X-Amz-Date";
    auth[na++] = amz_date;
    auth[na++] = "X-Amz-Expires";
    auth[na++] = expires;
    auth[na++] = "X-Amz-SignedHeaders";
    auth[na++] = w.shdr.data;
    if (sigv4_has_token(c)) {
        auth[na++] = "X-Amz-Security-Token";
        auth[na++] = c->session_token;
    }
    for (i = 0; i + 1 < na && rc == APP_OK; i += 2)
        rc = sv_pair_push(&w, auth[i], strlen(auth[i]), auth[i + 1], strlen(auth[i + 1]), 0);
    if (rc == APP_OK) {
        /* what is sent: the caller's parameters in their order, then ours */
        p = sv_pairs(&w, &np);
        for (i = 0; i < nown && rc == APP_OK; i++)
            if (sv_is_auth_param(&p[i]))
                rc = APP_EINTERNAL;
        if (rc == APP_OK)
            rc = sv_pairs_join(&q, p, np);
        if (rc == APP_OK) {
            qsort(p, np, sizeof(*p), sv_pair_cmp);
            rc = sv_pairs_join(&w.creq, p, np);
        }
    }
    if (rc == APP_OK)
        rc = sv_creq_finish(&w, r->payload_hash ? r->payload_hash : SIGV4_UNSIGNED_PAYLOAD);
    if (rc == APP_OK)
        rc = sv_signature(&w, r, c, amz_date, date8, sig);
    if (rc == APP_OK)
        rc = buf_printf(&q, "&X-Amz-Signature=%s", sig);
    if (rc == APP_OK)
        rc = buf_append(out, q.data, q.len);
    buf_free(&q);
    sv_work_free(&w);
    return sv_err(rc);
}
