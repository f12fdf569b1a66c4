#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "aws.h"
#include "buf.h"
#include "cfg.h"
#include "creds.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "s3.h"
#include "sigv4.h"

#define S3_BUCKET_MAX 255           /* botocore's VALID_BUCKET: [a-zA-Z0-9._-]{1,255} */
#define S3_CTYPE_MAX 255
/* The encoded path of an object: the base, '/', the key with every byte as %XX at worst. */
#define S3_PATH_MAX (512 + 1 + 3 * S3_KEY_MAX + 1)
#define S3_URL_MAX (8 + 512 + S3_PATH_MAX)
/* A listing's answer (S3_LIST_PAGE keys of at most S3_KEY_MAX bytes, escaped, and their
 * details) or an error's. */
#define S3_LIST_PAGE 100
#define S3_ANSWER_MAX (S3_LIST_PAGE * (6 * S3_KEY_MAX + 512) + 4096)

struct s3 {
    const struct cfg *cfg;
    struct creds_provider *creds;
    const char *scheme;             /* "http" or "https" */
    char url_host[512];             /* authority in URLs: [bucket.]host[:port] as configured */
    char sign_host[512];            /* the Host header signed: url_host without a default port */
    char base[512];                 /* path before the key: [prefix][/bucket], no trailing '/' */
    struct http_conn conn;          /* HEAD, DELETE, and listings (S3_ANSWER_MAX) */
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
 * Decide the addressing once from the endpoint (aws_endpoint_parse): the URL's authority,
 * the signed Host (a default port dropped, as botocore and curl do) and the base path.
 */
static int
addressing(struct s3 *s, const char *url, const char *bucket, int want_virtual)
{
    struct aws_endpoint ep;
    const char *colon, *port = NULL;
    size_t alen, hlen;
    int virt;

    if (aws_endpoint_parse(&ep, url) != 0 || !bucket_ok(bucket))
        return -1;
    s->scheme = ep.https ? "https" : "http";
    /* host and port: the port is after the last ':' outside an IPv6 literal's brackets */
    alen = strlen(ep.host);
    colon = strrchr(ep.host, ':');
    if (colon && !strchr(colon, ']'))
        port = colon + 1;
    hlen = port ? (size_t)(colon - ep.host) : alen;
    if (hlen == 0)
        return -1;

    virt = want_virtual && bucket_dns_ok(bucket) && !host_is_ip(ep.host, hlen);
    if ((size_t)snprintf(s->url_host, sizeof(s->url_host), "%s%s%s", virt ? bucket : "",
                         virt ? "." : "", ep.host) >= sizeof(s->url_host))
        return -1;
    /* ":443" or ":80" for its own scheme is left out of the signed Host */
    if (port && ((ep.https && strcmp(port, "443") == 0) || (!ep.https && strcmp(port, "80") == 0)))
        alen = hlen;
    snprintf(s->sign_host, sizeof(s->sign_host), "%s%s%.*s", virt ? bucket : "",
             virt ? "." : "", (int)alen, ep.host);
    if ((size_t)snprintf(s->base, sizeof(s->base), "%.*s%s%s", (int)ep.prefix_len, ep.path,
                         virt ? "" : "/", virt ? "" : bucket) >= sizeof(s->base))
        return -1;
    return 0;
}

struct s3 *
s3_new(const struct cfg *cfg, struct creds_provider *creds)
{
    struct s3 *s = xcalloc(1, sizeof(*s));
    char tmp[128];
    const char *endpoint = aws_endpoint_url(cfg, cfg->aws_endpoint_url_s3, "s3", tmp,
                                            sizeof(tmp));

    s->cfg = cfg;
    s->creds = creds;
    if (addressing(s, endpoint, cfg->s3_bucket,
                   strcmp(cfg->s3_addressing_style, "virtual") == 0) != 0) {
        log_msg(LL_ERROR, "s3: cannot use endpoint %s with bucket %s", endpoint, cfg->s3_bucket);
        free(s);
        return NULL;
    }
    if (http_conn_init(&s->conn, S3_ANSWER_MAX) != 0) {
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
    http_conn_free(&s->conn);
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
    sc.access_key = c->access_key;
    sc.secret_key = c->secret_key;
    sc.session_token = c->session_token;

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

/* One signed request (GET, HEAD or DELETE) of path?query (both already encoded); its status into
 * *status, the body in s->conn.resp. */
static int
send_signed(struct s3 *s, const char *method, const char *path, const char *query,
            long *status, struct app_error *err)
{
    const char *bucket = s->cfg->s3_bucket;
    long budget = s->cfg->s3_timeout_ms;
    struct sigv4_request sr;
    struct aws_headers h;
    struct http_req hr;
    char urlst[S3_URL_MAX + 1024];
    struct buf url;
    CURLcode cc;
    int rc;

    buf_init_fixed(&url, urlst, sizeof(urlst));
    if (buf_printf(&url, "%s://%s%s%s%s", s->scheme, s->url_host, path, query ? "?" : "",
                   query ? query : "") != APP_OK)
        return app_error_set(err, APP_ENOMEM, "s3: URL too long");
    memset(&sr, 0, sizeof(sr));
    sr.method = method;
    sr.host = s->sign_host;
    sr.path = path;
    sr.query = query;
    sr.region = cfg_region(s->cfg);
    sr.service = "s3";
    rc = aws_sign(&h, &sr, s->creds, err);
    if (rc != APP_OK)
        return rc;
    memset(&hr, 0, sizeof(hr));
    hr.method = strcmp(method, "DELETE") == 0 ? "GET" : method;
    hr.url = url.data;
    hr.headers = h.list;
    hr.connect_ms = budget;
    hr.left_ms = budget;
    http_conn_prepare(&s->conn, &hr);
    if (strcmp(method, "DELETE") == 0)
        curl_easy_setopt(s->conn.curl, CURLOPT_CUSTOMREQUEST, method);
    cc = curl_easy_perform(s->conn.curl);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return app_error_set(err, APP_ETIMEOUT, "s3: %s in %s: no answer within %ld ms",
                             method, bucket, budget);
    if (cc != CURLE_OK)
        return app_error_set(err, APP_EUNAVAILABLE, "s3: %s in %s: %s", method, bucket,
                             http_conn_error(&s->conn, cc));
    curl_easy_getinfo(s->conn.curl, CURLINFO_RESPONSE_CODE, status);
    if (*status >= 500)
        return app_error_set(err, APP_EUNAVAILABLE, "s3: %s in %s: HTTP %ld", method, bucket,
                             *status);
    return APP_OK;
}

int
s3_head(struct s3 *s, const char *key, long long *size_out, char *ctype_out,
        size_t ctype_len, struct app_error *err)
{
    char pathst[S3_PATH_MAX];
    struct buf path;
    curl_off_t clen = -1;
    const char *ctype = NULL, *bucket = s->cfg->s3_bucket;
    long status = 0;
    int rc;

    if (size_out)
        *size_out = -1;
    if (ctype_out && ctype_len)
        ctype_out[0] = '\0';
    buf_init_fixed(&path, pathst, sizeof(pathst));
    rc = object_path(s, key, &path, err);
    if (rc == APP_OK)
        rc = send_signed(s, "HEAD", path.data, NULL, &status, err);
    if (rc != APP_OK)
        return rc;
    if (status == 404)
        return app_error_set(err, APP_ENOTFOUND, "s3: no such object in %s", bucket);
    if (status != 200) {
        /* 403: credentials, clock or policy (S3 also answers 403 for a missing key when
         * the caller may not s3:ListBucket); 301/307: the bucket is in another region */
        return app_error_set(err, APP_EUPSTREAM, "s3: HEAD in %s: HTTP %ld", bucket, status);
    }
    curl_easy_getinfo(s->conn.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
    curl_easy_getinfo(s->conn.curl, CURLINFO_CONTENT_TYPE, &ctype);
    if (clen < 0)
        return app_error_set(err, APP_EUPSTREAM, "s3: HEAD in %s: no Content-Length", bucket);
    if (size_out)
        *size_out = (long long)clen;
    if (ctype_out && ctype_len && ctype)
        snprintf(ctype_out, ctype_len, "%s", ctype);
    return APP_OK;
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

int
s3_delete(struct s3 *s, const char *key, struct app_error *err)
{
    char pathst[S3_PATH_MAX];
    struct buf path;
    long status = 0;
    int rc;

    buf_init_fixed(&path, pathst, sizeof(pathst));
    rc = object_path(s, key, &path, err);
    if (rc == APP_OK)
        rc = send_signed(s, "DELETE", path.data, NULL, &status, err);
    if (rc != APP_OK)
        return rc;
    if (status != 204 && status != 200 && status != 404)
        return app_error_set(err, APP_EUPSTREAM, "s3: DELETE in %s: HTTP %ld",
                             s->cfg->s3_bucket, status);
    return APP_OK;
}

/* XML text between <tag> and </tag> from *p on, unescaped (the five entities), into out;
 * *p moved past it.  0, or -1 when there is no more. */
static int
xml_next(const char **p, const char *open, const char *close, char *out, size_t n)
{
    static const struct { const char *e; char c; } ents[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
    };
    const char *a = strstr(*p, open), *b;
    size_t j = 0, k;

    if (!a || !(b = strstr(a + strlen(open), close)))
        return -1;
    for (a += strlen(open); a < b && j + 1 < n; a++) {
        for (k = 0; *a == '&' && k < sizeof(ents) / sizeof(ents[0]); k++) {
            if (strncmp(a, ents[k].e, strlen(ents[k].e)) == 0)
                break;
        }
        if (*a == '&' && k < sizeof(ents) / sizeof(ents[0])) {
            out[j++] = ents[k].c;
            a += strlen(ents[k].e) - 1;
        } else {
            out[j++] = *a;
        }
    }
    out[j] = '\0';
    *p = b + strlen(close);
    return 0;
}

int
s3_delete_prefix(struct s3 *s, const char *prefix, long *deleted, struct app_error *err)
{
    char pathst[S3_PATH_MAX], queryst[S3_PATH_MAX + 64], key[S3_KEY_MAX + 1];
    struct buf path, query;
    const char *p;
    long status = 0;
    int rc, n, round;

    *deleted = 0;
    if (!prefix || !*prefix || strlen(prefix) > S3_KEY_MAX)
        return app_error_set(err, APP_EINTERNAL, "s3: a prefix must have 1 to %d bytes",
                             S3_KEY_MAX);
    buf_init_fixed(&path, pathst, sizeof(pathst));
    buf_init_fixed(&query, queryst, sizeof(queryst));
    if (buf_puts(&path, s->base) != APP_OK || buf_puts(&path, "/") != APP_OK ||
        buf_printf(&query, "list-type=2&max-keys=%d&prefix=", S3_LIST_PAGE) != APP_OK ||
        sigv4_uri_encode(&query, prefix, strlen(prefix), 0) != APP_OK)
        return app_error_set(err, APP_ENOMEM, "s3: prefix too long");
    /* List the first page and delete what it names, until a listing is empty: what was
     * deleted is no longer listed, so no continuation token is needed. */
    for (round = 0; round < 100000; round++) {
        rc = send_signed(s, "GET", path.data, query.data, &status, err);
        if (rc != APP_OK)
            return rc;
        if (status != 200)
            return app_error_set(err, APP_EUPSTREAM, "s3: listing %s in %s: HTTP %ld",
                                 prefix, s->cfg->s3_bucket, status);
        {
            size_t len = s->conn.resp.len;
            char *copy = xmalloc(len + 1);

            memcpy(copy, s->conn.resp.data ? s->conn.resp.data : "", len);
            copy[len] = '\0';
            p = copy;
            for (n = 0; xml_next(&p, "<Key>", "</Key>", key, sizeof(key)) == 0; n++) {
                rc = s3_delete(s, key, err);
                if (rc != APP_OK) {
                    free(copy);
                    return rc;
                }
                (*deleted)++;
            }
            free(copy);
        }
        if (n == 0)
            return APP_OK;
    }
    return app_error_set(err, APP_EINTERNAL, "s3: %s: too many objects", prefix);
}
