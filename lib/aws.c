/*
 * A signed AWS call (see aws.h): the endpoint, the signed headers, one attempt on the
 * client's connection, and the retry loop around it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "aws.h"
#include "buf.h"
#include "cfg.h"
#include "creds.h"
#include "ids.h"
#include "log.h"
#include "mem.h"

/* --- the endpoint ------------------------------------------------------------------------- */

const char *
aws_endpoint_url(const struct cfg *c, const char *own, const char *label, char *tmp,
                 size_t tmplen)
{
    const char *region = cfg_region(c);

    if (own && *own)
        return own;
    if (*c->aws_endpoint_url)
        return c->aws_endpoint_url;
    /* the China regions are in a partition of their own */
    snprintf(tmp, tmplen, "https://%s.%s.amazonaws.com%s", label, region,
             strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    return tmp;
}

int
aws_endpoint_parse(struct aws_endpoint *ep, const char *url)
{
    const char *auth, *slash;
    size_t alen, plen;

    memset(ep, 0, sizeof(*ep));
    if (strncmp(url, "https://", 8) == 0) {
        ep->https = 1;
        auth = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        auth = url + 7;
    } else {
        return -1;
    }
    if (strpbrk(url, "?#@ "))
        return -1;
    slash = strchr(auth, '/');
    alen = slash ? (size_t)(slash - auth) : strlen(auth);
    plen = slash ? strlen(slash) : 0;
    if (alen == 0 || alen >= sizeof(ep->host) || plen >= sizeof(ep->path))
        return -1;
    snprintf(ep->origin, sizeof(ep->origin), "%.*s", (int)((size_t)(auth - url) + alen), url);
    snprintf(ep->host, sizeof(ep->host), "%.*s", (int)alen, auth);
    snprintf(ep->path, sizeof(ep->path), "%.*s", (int)plen, plen ? slash : "");
    ep->prefix_len = plen;
    while (ep->prefix_len > 0 && ep->path[ep->prefix_len - 1] == '/')
        ep->prefix_len--;
    snprintf(ep->url, sizeof(ep->url), "%s%s", ep->origin, plen ? ep->path : "/");
    return 0;
}

/* --- signing ------------------------------------------------------------------------------- */

/* Append the line "name: value" ("name:" when value is NULL) to h. */
static int
header_add(struct aws_headers *h, struct buf *text, size_t *n, const char *name,
           const char *value)
{
    size_t start = text->len;
    int rc;

    if (*n >= sizeof(h->node) / sizeof(h->node[0]))
        return APP_ENOMEM;
    rc = value ? buf_printf(text, "%s: %s", name, value) : buf_printf(text, "%s:", name);
    if (rc == APP_OK)
        rc = buf_append(text, "", 1);               /* each line ends with its NUL */
    if (rc != APP_OK)
        return APP_ENOMEM;
    h->node[*n].data = text->data + start;
    h->node[*n].next = NULL;
    if (*n > 0)
        h->node[*n - 1].next = &h->node[*n];
    (*n)++;
    return APP_OK;
}

int
aws_sign(struct aws_headers *out, struct sigv4_request *r, struct creds_provider *creds,
         struct app_error *err)
{
    const struct aws_creds *c = NULL;
    struct sigv4_creds sc;
    struct sigv4_signed sig;
    struct buf text;
    size_t i, n = 0;
    int rc;

    out->list = NULL;
    r->now = time(NULL);
    rc = creds_get(creds, r->now, &c, err);
    if (rc != APP_OK)
        return rc;
    sc.access_key = c->access_key;
    sc.secret_key = c->secret_key;
    sc.session_token = c->session_token;
    rc = sigv4_sign(r, &sc, &sig);
    if (rc != APP_OK)
        return app_error_set(err, rc, "%s: cannot sign the request", r->service);

    buf_init_fixed(&text, out->text, sizeof(out->text));
    rc = header_add(out, &text, &n, "Host", r->host);
    for (i = 0; i < r->nheaders && rc == APP_OK; i++)
        rc = header_add(out, &text, &n, r->headers[i].name, r->headers[i].value);
    if (rc == APP_OK)
        rc = header_add(out, &text, &n, "X-Amz-Date", sig.amz_date);
    if (rc == APP_OK && strcmp(r->service, "s3") == 0)
        rc = header_add(out, &text, &n, "X-Amz-Content-Sha256", sig.payload_hash);
    if (rc == APP_OK)
        rc = header_add(out, &text, &n, "Authorization", sig.authorization);
    if (rc == APP_OK && c->session_token[0])
        rc = header_add(out, &text, &n, "X-Amz-Security-Token", c->session_token);
    if (rc == APP_OK && r->payload_len > 0)
        rc = header_add(out, &text, &n, "Expect", NULL);     /* unsigned */
    if (rc != APP_OK)
        return app_error_set(err, rc, "%s: the request's headers are too long", r->service);
    out->list = &out->node[0];
    return APP_OK;
}

/* --- the client ---------------------------------------------------------------------------- */

int
aws_init(struct aws *a, const struct aws_service *svc, const struct cfg *cfg,
         struct creds_provider *creds, const char *own, long connect_ms)
{
    char tmp[128];
    const char *url = aws_endpoint_url(cfg, own, svc->endpoint_label, tmp, sizeof(tmp));

    memset(a, 0, sizeof(*a));
    a->svc = svc;
    a->cfg = cfg;
    a->creds = creds;
    a->region = cfg_region(cfg);
    a->connect_ms = connect_ms;
    if (aws_endpoint_parse(&a->ep, url) != 0) {
        log_msg(LL_ERROR, "%s: cannot use endpoint %s", svc->name, url);
        return -1;
    }
    return http_conn_init(&a->conn, svc->answer_max);
}

void *
aws_new(size_t size, const struct aws_service *svc, const struct cfg *cfg,
        struct creds_provider *creds, const char *own, long connect_ms)
{
    struct aws *a = xcalloc(1, size);

    if (aws_init(a, svc, cfg, creds, own, connect_ms) != 0) {
        aws_delete(a);
        return NULL;
    }
    return a;
}

void
aws_delete(void *client)
{
    if (!client)
        return;
    aws_free(client);
    free(client);
}

static void
wipe_answer(struct aws *a)
{
    if (a->conn.resp.data)
        OPENSSL_cleanse(a->conn.resp.data, a->conn.resp.cap);
    buf_reset(&a->conn.resp);
}

void
aws_free(struct aws *a)
{
    if (a->svc && a->svc->secret)
        wipe_answer(a);
    http_conn_free(&a->conn);
}

int
aws_type_in(const char *type, const char *const *list)
{
    size_t i;

    for (i = 0; list[i]; i++) {
        if (strcmp(type, list[i]) == 0)
            return 1;
    }
    return 0;
}

/* What a call sends on every attempt: its path and URL (the endpoint's own, or k->path
 * under the endpoint's path) and its body. */
struct wire {
    const char *path;
    const char *url;
    const char *body;
    size_t body_len;
    char pathst[AWS_ENDPOINT_PATH_MAX + AWS_CALL_PATH_MAX];
    char urlst[8 + AWS_HOST_MAX + AWS_ENDPOINT_PATH_MAX + AWS_CALL_PATH_MAX];
};

static int
wire_of(struct wire *w, const struct aws *a, const struct aws_call *k)
{
    w->body = k->body;
    w->body_len = k->body_len;
    if (k->json) {
        w->body = json_object_to_json_string_ext(k->json, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
        w->body_len = strlen(w->body);
    }
    if (!k->path) {
        w->path = a->ep.path[0] ? a->ep.path : "/";
        w->url = a->ep.url;
        return 0;
    }
    if ((size_t)snprintf(w->pathst, sizeof(w->pathst), "%.*s%s", (int)a->ep.prefix_len,
                         a->ep.path, k->path) >= sizeof(w->pathst))
        return -1;
    snprintf(w->urlst, sizeof(w->urlst), "%s%s", a->ep.origin, w->pathst);
    w->path = w->pathst;
    w->url = w->urlst;
    return 0;
}

static enum aws_outcome
attempt(struct aws *a, const struct aws_call *k, const struct wire *w, long left_ms,
        int *code, struct json_object **out, struct app_error *err)
{
    const struct aws_service *svc = a->svc;
    struct sigv4_request sr;
    struct aws_headers h;
    struct aws_answer ans;
    struct http_req hr;
    struct curl_header *type = NULL;
    enum aws_outcome o;
    CURLcode cc;

    memset(&sr, 0, sizeof(sr));
    sr.method = "POST";
    sr.host = a->ep.host;
    sr.path = w->path;
    sr.headers = k->headers;
    sr.nheaders = k->nheaders;
    sr.payload = w->body;
    sr.payload_len = w->body_len;
    sr.region = a->region;
    sr.service = svc->name;
    *code = aws_sign(&h, &sr, a->creds, err);
    if (*code != APP_OK)
        return AWS_FAIL;
    if (svc->secret)
        wipe_answer(a);
    memset(&hr, 0, sizeof(hr));
    hr.method = "POST";
    hr.url = w->url;
    hr.headers = h.list;
    hr.body = w->body;
    hr.body_len = w->body_len;
    hr.connect_ms = a->connect_ms;
    hr.left_ms = left_ms;
    http_conn_prepare(&a->conn, &hr);
    cc = curl_easy_perform(a->conn.curl);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        *code = app_error_set(err, APP_ETIMEOUT, "%s: no answer within %ld ms", svc->name,
                              left_ms);
        return AWS_RETRY;
    }
    if (cc == CURLE_WRITE_ERROR) {
        *code = app_error_set(err, svc->toolarge_code, "%s: an answer over %zu bytes",
                              svc->name, svc->answer_max);
        return AWS_FAIL;
    }
    if (cc != CURLE_OK) {
        *code = app_error_set(err, svc->net_code, "%s: %s", svc->name,
                              http_conn_error(&a->conn, cc));
        return AWS_RETRY;
    }
    memset(&ans, 0, sizeof(ans));
    curl_easy_getinfo(a->conn.curl, CURLINFO_RESPONSE_CODE, &ans.status);
    ans.body = json_tokener_parse(a->conn.resp.data ? a->conn.resp.data : "");
    ans.error_type = "";
    if (ans.status != 200 && curl_easy_header(a->conn.curl, "x-amzn-ErrorType", 0,
                                              CURLH_HEADER, -1, &type) == CURLHE_OK)
        ans.error_type = type->value;
    o = k->answer(k->ud, &ans, code, err);
    if (out)
        *out = ans.body;
    else
        json_object_put(ans.body);
    if (svc->secret)
        wipe_answer(a);
    return o;
}

int
aws_call(struct aws *a, const struct aws_call *k, struct json_object **out,
         struct app_error *err)
{
    const struct aws_service *svc = a->svc;
    long deadline = clock_ms() + k->budget_ms;
    int code = APP_EUNAVAILABLE, n;
    struct wire w;

    if (out)
        *out = NULL;
    a->last_attempts = 0;
    if (wire_of(&w, a, k) != 0)
        return app_error_set(err, APP_EINTERNAL, "%s: the path is too long", svc->name);
    for (n = 1;; n++) {
        struct app_error e;
        enum aws_outcome o;
        long left = deadline - clock_ms(), delay;

        if (left < svc->attempt_min_ms) {
            if (k->label)
                code = app_error_set(err, APP_ETIMEOUT, "%s: %s gave no answer within %ld ms",
                                     svc->name, k->label, k->budget_ms);
            else
                code = app_error_set(err, APP_ETIMEOUT, "%s: no answer within %ld ms",
                                     svc->name, k->budget_ms);
            break;
        }
        if (out && *out) {
            json_object_put(*out);
            *out = NULL;
        }
        app_error_clear(&e);
        o = attempt(a, k, &w, left, &code, out, &e);
        a->last_attempts = n;
        if (o == AWS_OK)
            break;
        if (o == AWS_FAIL || n >= k->max_attempts) {
            if (k->label)
                app_error_set(err, code, "%s (%s, attempt %d)", e.msg, k->label, n);
            else
                app_error_set(err, code, "%s (attempt %d)", e.msg, n);
            break;
        }
        delay = http_backoff_ms(&a->conn, svc->backoff_base_ms, svc->backoff_cap_ms, n);
        left = deadline - clock_ms();
        if (delay >= left)
            delay = left > 1 ? left - 1 : 0;
        LOG(LL_DEBUG, "%s%s%s: %s; retrying in %ld ms", svc->name, k->label ? " " : "",
            k->label ? k->label : "", e.msg, delay);
        http_pause_ms(delay);
    }
    return code;
}
