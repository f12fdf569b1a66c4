#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "cfg.h"
#include "creds.h"
#include "log.h"
#include "mem.h"
#include "s3.h"
#include "sigv4.h"

#define S3_BUCKET_MAX 255           /* botocore's VALID_BUCKET: [a-zA-Z0-9._-]{1,255} */
#define S3_CTYPE_MAX 255
/* The encoded path of an object: the base, '/', the key with every byte as %XX at worst. */
#define S3_PATH_MAX (512 + 1 + 3 * S3_KEY_MAX + 1)
#define S3_URL_MAX (8 + 512 + S3_PATH_MAX)

struct s3 {
    CURL *curl;
    const struct cfg *cfg;
    struct creds_provider *creds;
    const char *scheme;             /* "http" or "https" */
    char url_host[512];             /* authority in URLs: [bucket.]host[:port] as configured */
    char sign_host[512];            /* the Host header signed: url_host without a default port */
    char base[512];                 /* path before the key: [prefix][/bucket], no trailing '/' */
    char errbuf[CURL_ERROR_SIZE];
};

/* botocore's VALID_BUCKET: what may be named at all (path style needs no encoding then). */
static int
bucket_ok(const char *b)
{
    size_t i, n = strlen(b);

    if (n == 0 || n > S3_BUCKET_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)b[i]) && b[i] != '.' && b[i] != '-' && b[i] != '_')
            return 0;
    }
    return 1;
}

/* A bucket that can be a DNS label of its own (botocore's isVirtualHostableS3Bucket). */
static int
bucket_dns_ok(const char *b)
{
    size_t i, n = strlen(b);

    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return 0;
    for (i = 0; i < n; i++) {
        if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '-')
            return 0;
    }
    return 1;
}

/* Whether host (no port) is an IP literal: [v6] or a dotted quad. */
static int
host_is_ip(const char *host, size_t n)
{
    size_t i, digits = 0, dots = 0;

    if (n > 0 && host[0] == '[')
        return 1;
    for (i = 0; i < n; i++) {
        if (isdigit((unsigned char)host[i])) {
            if (++digits > 3)
                return 0;
        } else if (host[i] == '.' && digits > 0) {
            dots++;
            digits = 0;
        } else {
            return 0;
        }
    }
    return dots == 3 && digits > 0;
}

/*
 * Split http[s]://host[:port][/prefix] and decide the addressing once: the URL's authority,
 * the signed Host (a default port dropped, as botocore and curl do) and the base path.
 */
static int
parse_endpoint(struct s3 *s, const char *url, const char *bucket, int want_virtual)
{
    const char *auth, *end, *colon, *port = NULL;
    size_t alen, hlen, plen;
    int virt;

    if (strncmp(url, "https://", 8) == 0) {
        s->scheme = "https";
        auth = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        s->scheme = "http";
        auth = url + 7;
    } else {
        return -1;
    }
    if (strpbrk(url, "?#@ ") || !bucket_ok(bucket))
        return -1;
    end = strchr(auth, '/');
    alen = end ? (size_t)(end - auth) : strlen(auth);
    if (alen == 0)
        return -1;
    /* host and port: the port is after the last ':' outside an IPv6 literal's brackets */
    colon = memrchr(auth, ':', alen);
    if (colon && !memchr(colon, ']', alen - (size_t)(colon - auth)))
        port = colon + 1;
    hlen = port ? (size_t)(colon - auth) : alen;
    if (hlen == 0)
        return -1;
    plen = end ? strlen(end) : 0;
    while (plen > 0 && end[plen - 1] == '/')
        plen--;

    virt = want_virtual && bucket_dns_ok(bucket) && !host_is_ip(auth, hlen);
    if ((size_t)snprintf(s->url_host, sizeof(s->url_host), "%s%s%.*s", virt ? bucket : "",
                         virt ? "." : "", (int)alen, auth) >= sizeof(s->url_host))
        return -1;
    /* ":443" or ":80" for its own scheme is left out of the signed Host */
    if (port && ((strcmp(s->scheme, "https") == 0 && alen - hlen == 4 &&
                  memcmp(port, "443", 3) == 0) ||
                 (strcmp(s->scheme, "http") == 0 && alen - hlen == 3 &&
                  memcmp(port, "80", 2) == 0)))
        alen = hlen;
    snprintf(s->sign_host, sizeof(s->sign_host), "%s%s%.*s", virt ? bucket : "",
             virt ? "." : "", (int)alen, auth);
    if ((size_t)snprintf(s->base, sizeof(s->base), "%.*s%s%s", (int)plen, end ? end : "",
                         virt ? "" : "/", virt ? "" : bucket) >= sizeof(s->base))
        return -1;
    return 0;
}

struct s3 *
s3_new(const struct cfg *cfg, struct creds_provider *creds)
{
    struct s3 *s = xcalloc(1, sizeof(*s));
    const char *endpoint = cfg->aws_endpoint_url_s3;
    char tmp[128];

    s->cfg = cfg;
    s->creds = creds;
    if (!*endpoint)
        endpoint = cfg->aws_endpoint_url;
    if (!*endpoint) {
        /* the China regions are in their own partition */
        snprintf(tmp, sizeof(tmp), "https://s3.%s.amazonaws.com%s", cfg_region(cfg),
                 strncmp(cfg_region(cfg), "cn-", 3) == 0 ? ".cn" : "");
        endpoint = tmp;
    }
    if (parse_endpoint(s, endpoint, cfg->s3_bucket,
                       strcmp(cfg->s3_addressing_style, "virtual") == 0) != 0) {
        log_msg(LL_ERROR, "s3: cannot use endpoint %s with bucket %s", endpoint, cfg->s3_bucket);
        free(s);
        return NULL;
    }
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return NULL;
    }
    return s;
}

void
s3_free(struct s3 *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->curl);
    free(s);
}

/* The object's wire path into path: base, '/', the key encoded (S3: '/' kept, no dots
 * removed, nothing encoded twice). */
static int
object_path(const struct s3 *s, const char *key, struct buf *path, struct app_error *err)
{
    size_t n = key ? strlen(key) : 0;

    if (n == 0 || n > S3_KEY_MAX)
        return app_error_set(err, APP_EINTERNAL, "s3: an object key must have 1 to %d bytes",
                             S3_KEY_MAX);
    if (buf_puts(path, s->base) != APP_OK || buf_puts(path, "/") != APP_OK ||
        sigv4_uri_encode(path, key, n, 1) != APP_OK)
        return app_error_set(err, APP_ENOMEM, "s3: object path too long");
    return APP_OK;
}

static void
creds_for_sigv4(const struct aws_creds *c, struct sigv4_creds *out)
{
    out->access_key = c->access_key;
    out->secret_key = c->secret_key;
    out->session_token = c->session_token;
}

/*
 * botocore (1.29: generate_presigned_url('put_object', Params={..., 'ContentType': t,
 * 'ContentLength': n})) serialises both parameters as headers and S3SigV4QueryAuth signs
 * every header but its blacklist, so its URL signs content-length;content-type;host exactly
 * as here; the cross-check compares with that and with S3SigV4QueryAuth on a bare request.
 */
int
s3_presign_put(struct s3 *s, const char *key, const char *content_type,
               long long content_length, long expires_s, time_t now, struct buf *url_out,
               struct app_error *err)
{
    const struct aws_creds *c = NULL;
    struct sigv4_header sh[2];
    struct sigv4_request sr;
    struct sigv4_creds sc;
    char pathst[S3_PATH_MAX], len[24];
    size_t mark = url_out->len, tlen = content_type ? strlen(content_type) : 0;
    struct buf path;
    int rc;

    if (content_length < 0)
        return app_error_set(err, APP_EVALIDATION, "s3: negative content length");
    if (content_length > s->cfg->s3_upload_max_bytes)
        return app_error_set(err, APP_ETOOLARGE, "s3: %lld bytes is over S3_UPLOAD_MAX_BYTES "
                             "(%ld)", content_length, s->cfg->s3_upload_max_bytes);
    if (tlen == 0 || tlen > S3_CTYPE_MAX)
        return app_error_set(err, APP_EINTERNAL, "s3: a content type must have 1 to %d bytes",
                             S3_CTYPE_MAX);
    if (expires_s == 0)
        expires_s = s->cfg->s3_upload_expires_s;
    buf_init_fixed(&path, pathst, sizeof(pathst));
    rc = object_path(s, key, &path, err);
    if (rc != APP_OK)
        return rc;
    rc = creds_get(s->creds, now, &c, err);
    if (rc != APP_OK)
        return rc;

    snprintf(len, sizeof(len), "%lld", content_length);
    sh[0].name = "Content-Length";
    sh[0].value = len;
    sh[1].name = "Content-Type";
    sh[1].value = content_type;
    memset(&sr, 0, sizeof(sr));
    sr.method = "PUT";
    sr.host = s->sign_host;
    sr.path = path.data;
    sr.headers = sh;
    sr.nheaders = 2;
    sr.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
    sr.region = cfg_region(s->cfg);
    sr.service = "s3";
    sr.now = now;
    creds_for_sigv4(c, &sc);

    rc = buf_printf(url_out, "%s://%s%s?", s->scheme, s->url_host, path.data);
    if (rc != APP_OK) {
        rc = app_error_set(err, APP_ENOMEM, "s3: presigned URL too long");
        goto done;
    }
    rc = sigv4_presign(&sr, &sc, expires_s, url_out);
    if (rc != APP_OK)
        app_error_set(err, rc, "s3: cannot presign the upload (expires %ld s)", expires_s);

done:
    if (rc != APP_OK && url_out->data) {
        url_out->len = mark;
        url_out->data[mark] = '\0';
    }
    return rc;
}

static size_t
discard_cb(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

int
s3_head(struct s3 *s, const char *key, long long *size_out, char *ctype_out,
        size_t ctype_len, struct app_error *err)
{
    const struct aws_creds *c = NULL;
    struct sigv4_request sr;
    struct sigv4_creds sc;
    struct sigv4_signed sig;
    struct curl_slist *h = NULL;
    char pathst[S3_PATH_MAX], urlst[S3_URL_MAX], line[1200];
    struct buf path, url, tok;
    curl_off_t clen = -1;
    const char *ctype = NULL;
    long status = 0, budget = s->cfg->s3_timeout_ms;
    CURLcode cc;
    int rc;

    if (size_out)
        *size_out = -1;
    if (ctype_out && ctype_len)
        ctype_out[0] = '\0';
    buf_init_fixed(&path, pathst, sizeof(pathst));
    buf_init_fixed(&url, urlst, sizeof(urlst));
    rc = object_path(s, key, &path, err);
    if (rc != APP_OK)
        return rc;
    if (buf_printf(&url, "%s://%s%s", s->scheme, s->url_host, path.data) != APP_OK)
        return app_error_set(err, APP_ENOMEM, "s3: object URL too long");
    rc = creds_get(s->creds, time(NULL), &c, err);
    if (rc != APP_OK)
        return rc;

    memset(&sr, 0, sizeof(sr));
    sr.method = "HEAD";
    sr.host = s->sign_host;
    sr.path = path.data;
    sr.region = cfg_region(s->cfg);
    sr.service = "s3";
    sr.now = time(NULL);
    creds_for_sigv4(c, &sc);
    rc = sigv4_sign(&sr, &sc, &sig);
    if (rc != APP_OK)
        return app_error_set(err, rc, "s3: cannot sign HEAD");

    snprintf(line, sizeof(line), "X-Amz-Date: %s", sig.amz_date);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Amz-Content-Sha256: %s", sig.payload_hash);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "Authorization: %s", sig.authorization);
    h = curl_slist_append(h, line);
    if (c->session_token[0]) {
        buf_init(&tok, sizeof(c->session_token) + 32);
        buf_printf(&tok, "X-Amz-Security-Token: %s", c->session_token);
        h = curl_slist_append(h, tok.data);
        buf_free(&tok);
    }

    curl_easy_reset(s->curl);
    curl_easy_setopt(s->curl, CURLOPT_URL, url.data);
    curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, budget);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, budget);
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, discard_cb);
    s->errbuf[0] = '\0';

    cc = curl_easy_perform(s->curl);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        rc = app_error_set(err, APP_ETIMEOUT, "s3: HEAD in %s: no answer within %ld ms",
                           s->cfg->s3_bucket, budget);
        goto done;
    }
    if (cc != CURLE_OK) {
        rc = app_error_set(err, APP_EUNAVAILABLE, "s3: HEAD in %s: %s", s->cfg->s3_bucket,
                           s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 404) {
        rc = app_error_set(err, APP_ENOTFOUND, "s3: no such object in %s", s->cfg->s3_bucket);
        goto done;
    }
    if (status >= 500) {
        rc = app_error_set(err, APP_EUNAVAILABLE, "s3: HEAD in %s: HTTP %ld",
                           s->cfg->s3_bucket, status);
        goto done;
    }
    if (status != 200) {
        /* 403: credentials, clock or policy (S3 also answers 403 for a missing key when
         * the caller may not s3:ListBucket); 301/307: the bucket is in another region */
        rc = app_error_set(err, APP_EUPSTREAM, "s3: HEAD in %s: HTTP %ld",
                           s->cfg->s3_bucket, status);
        goto done;
    }
    curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
    curl_easy_getinfo(s->curl, CURLINFO_CONTENT_TYPE, &ctype);
    if (clen < 0) {
        rc = app_error_set(err, APP_EUPSTREAM, "s3: HEAD in %s: no Content-Length",
                           s->cfg->s3_bucket);
        goto done;
    }
    if (size_out)
        *size_out = (long long)clen;
    if (ctype_out && ctype_len && ctype)
        snprintf(ctype_out, ctype_len, "%s", ctype);
    rc = APP_OK;

done:
    curl_slist_free_all(h);
    return rc;
}

struct json_object *
s3_put_instructions(const char *url_member, const char *url, const char *content_type,
                    long long content_length, const char *expires_at)
{
    struct json_object *o = json_object_new_object(), *h = json_object_new_object();

    json_object_object_add(o, url_member, json_object_new_string(url));
    json_object_object_add(o, "method", json_object_new_string("PUT"));
    json_object_object_add(h, "Content-Type", json_object_new_string(content_type));
    json_object_object_add(h, "Content-Length", json_object_new_int64(content_length));
    json_object_object_add(o, "headers", h);
    json_object_object_add(o, "expiresAt", json_object_new_string(expires_at));
    return o;
}
