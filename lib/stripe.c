#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "ids.h"
#include "cfg.h"
#include "ddbjson.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "strparse.h"
#include "metrics.h"
#include "stripe.h"

#define STRIPE_RESPONSE_MAX (4 * 1024 * 1024)
#define STRIPE_BODY_MAX (1024 * 1024)
#define STRIPE_URL_MAX (64 * 1024)
#define STRIPE_HEADER_MAX 1024          /* one request header line */
#define STRIPE_PATH_MAX 512
#define STRIPE_IDEMPOTENCY_KEY_MAX 255  /* Stripe's limit */
#define STRIPE_CONNECT_TIMEOUT_MS 2000
#define STRIPE_MIN_ATTEMPT_MS 20        /* less budget than this left: no point in a retry */

/* stripe-python's HTTPClient: INITIAL_DELAY 0.5 s, MAX_DELAY 2 s, MAX_RETRY_AFTER 60 s. */
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 2000
#define RETRY_AFTER_MAX_S 60

struct stripe {
    struct http_conn conn;          /* its answer buffer reused for every answer */
    const struct cfg *cfg;
    char *base;                     /* STRIPE_API_BASE without a trailing "/" */
    /* From the headers of the last answer. */
    char request_id[128];
    int should_retry;               /* Stripe-Should-Retry: -1 absent, 0 false, 1 true */
    long retry_after_s;             /* Retry-After in seconds, -1 absent */
    int last_attempts;
};

/* One request, the same on every attempt. */
struct call {
    const char *method;
    const char *path;
    const char *url;
    const char *body;               /* NULL for a GET */
    size_t body_len;
    struct curl_slist *headers;
};

/* What an attempt's answer said, for the log: never Stripe's message. */
struct answer {
    long status;                    /* 0: no HTTP answer */
    char type[64];
    char code[64];
    char param[128];
    char net[CURL_ERROR_SIZE];      /* the network error, when there was no answer */
};

/* What one attempt came to. */
enum outcome { O_OK, O_RETRY, O_FAIL };

/* --- the client -------------------------------------------------------------------------- */

struct stripe *
stripe_new(const struct cfg *cfg)
{
    struct stripe *s;
    size_t n;

    if (!cfg->stripe_api_base || (strncmp(cfg->stripe_api_base, "https://", 8) != 0 &&
                                  strncmp(cfg->stripe_api_base, "http://", 7) != 0)) {
        log_msg(LL_ERROR, "stripe: cannot use STRIPE_API_BASE %s",
                cfg->stripe_api_base ? cfg->stripe_api_base : "(unset)");
        return NULL;
    }
    s = xcalloc(1, sizeof(*s));
    s->cfg = cfg;
    s->base = xstrdup(cfg->stripe_api_base);
    n = strlen(s->base);
    while (n > 0 && s->base[n - 1] == '/')
        s->base[--n] = '\0';
    if (http_conn_init(&s->conn, STRIPE_RESPONSE_MAX) != 0) {
        log_msg(LL_ERROR, "stripe: curl_easy_init failed");
        free(s->base);
        free(s);
        return NULL;
    }
    return s;
}

void
stripe_free(struct stripe *s)
{
    if (!s)
        return;
    http_conn_free(&s->conn);
    free(s->base);
    free(s);
}

int
stripe_last_attempts(const struct stripe *s)
{
    return s->last_attempts;
}

const char *
stripe_last_request_id(const struct stripe *s)
{
    return s->request_id;
}

/* Overwrite a secret in a way the compiler may not drop. */
static void
wipe(char *p, size_t n)
{
    volatile char *v = p;

    while (n-- > 0)
        *v++ = '\0';
}

static void
headers_free(struct curl_slist *h)
{
    struct curl_slist *n;

    for (n = h; n; n = n->next)
        wipe(n->data, strlen(n->data));      /* the Authorization line */
    curl_slist_free_all(h);
}

/* Append line to *h; -1 (and *h unchanged) when curl cannot. */
static int
header_add(struct curl_slist **h, const char *line)
{
    struct curl_slist *n = curl_slist_append(*h, line);

    if (!n)
        return -1;
    *h = n;
    return 0;
}

/* A header value we send: 1 to max printable ASCII characters, no space, CR or LF. */
static int
header_value_ok(const char *v, size_t max)
{
    size_t n = 0;

    for (; v[n]; n++) {
        if ((unsigned char)v[n] <= 0x20 || (unsigned char)v[n] >= 0x7f || n >= max)
            return 0;
    }
    return n > 0;
}

static int
path_ok(const char *path)
{
    size_t i;

    if (path[0] != '/' || strlen(path) > STRIPE_PATH_MAX)
        return 0;
    for (i = 1; path[i]; i++) {
        char c = path[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '/'))
            return 0;
    }
    return 1;
}

/* The request headers; idempotency_key NULL for a GET. */
static int
headers_new(struct stripe *s, const char *idempotency_key, struct curl_slist **out,
            struct app_error *err)
{
    const char *key = s->cfg->stripe_secret_key, *version = s->cfg->stripe_api_version;
    struct curl_slist *h = NULL;
    char line[STRIPE_HEADER_MAX];
    int bad = 0;

    *out = NULL;
    if (!key || !key[0])
        return app_error_set(err, APP_ECONFIG, "stripe: STRIPE_SECRET_KEY is not set");
    if (!header_value_ok(key, 512))
        return app_error_set(err, APP_ECONFIG, "stripe: STRIPE_SECRET_KEY is not a key");
    if (version && version[0] && !header_value_ok(version, 64))
        return app_error_set(err, APP_ECONFIG, "stripe: STRIPE_API_VERSION is not a version");

    snprintf(line, sizeof(line), "Authorization: Bearer %s", key);
    bad |= header_add(&h, line);
    wipe(line, sizeof(line));
    if (version && version[0]) {
        snprintf(line, sizeof(line), "Stripe-Version: %s", version);
        bad |= header_add(&h, line);
    }
    bad |= header_add(&h, "User-Agent: prodenthub/" PACKAGE_VERSION);
    bad |= header_add(&h, "Accept: application/json");
    if (idempotency_key) {
        bad |= header_add(&h, "Content-Type: application/x-www-form-urlencoded");
        snprintf(line, sizeof(line), "Idempotency-Key: %s", idempotency_key);
        bad |= header_add(&h, line);
        bad |= header_add(&h, "Expect:");    /* never wait for a 100-continue */
    }
    if (bad) {
        headers_free(h);
        return app_error_set(err, APP_ENOMEM, "stripe: cannot build the request headers");
    }
    *out = h;
    return APP_OK;
}

/* Keep the answer headers the retry decision and the log need. */
static size_t
header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct stripe *s = ud;
    size_t len = size * n;
    char line[256], *v;
    long ra;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new answer (after a 100 Continue, say): forget the last one's headers. */
        s->request_id[0] = '\0';
        s->should_retry = -1;
        s->retry_after_s = -1;
        return len;
    }
    if (len >= sizeof(line))
        return len;                 /* none of ours is that long */
    memcpy(line, p, len);
    line[len] = '\0';
    v = strchr(line, ':');
    if (!v)
        return len;
    *v++ = '\0';
    str_trim(v);
    if (strcasecmp(line, "Request-Id") == 0) {
        snprintf(s->request_id, sizeof(s->request_id), "%s", v);
    } else if (strcasecmp(line, "Stripe-Should-Retry") == 0) {
        s->should_retry = strcmp(v, "true") == 0 ? 1 : strcmp(v, "false") == 0 ? 0 : -1;
    } else if (strcasecmp(line, "Retry-After") == 0) {
        if (str_to_long(v, 0, LONG_MAX / 1000, &ra) == 0)
            s->retry_after_s = ra;
    }
    return len;
}

/* Network errors worth another attempt (stripe-python: connection errors and timeouts). */
static int
net_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* Append to the string m of size bytes, truncating. */
static void PH_PRINTF(3, 4)
msg_cat(char *m, size_t size, const char *fmt, ...)
{
    size_t n = strlen(m);
    va_list ap;

    if (n + 1 >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(m + n, size - n, fmt, ap);
    va_end(ap);
}

/*
 * An error answer: the code for the caller, and whether to try again.  Retry on 409, 429
 * and 5xx unless Stripe-Should-Retry says otherwise (it also makes any answer retryable).
 */
static enum outcome
classify(struct stripe *s, long status, struct json_object *body, struct answer *a, int *code,
         struct app_error *err)
{
    struct json_object *e = NULL;
    const char *type, *ecode, *msg, *param, *decline;
    int retry = status == 409 || status == 429 || status >= 500;
    char m[sizeof(err->msg)];

    if (body && json_object_object_get_ex(body, "error", &e) &&
        !json_object_is_type(e, json_type_object))
        e = NULL;
    type = json_str(e, "type");
    ecode = json_str(e, "code");
    msg = json_str(e, "message");
    param = json_str(e, "param");
    decline = json_str(e, "decline_code");
    snprintf(a->type, sizeof(a->type), "%s", type ? type : "");
    snprintf(a->code, sizeof(a->code), "%s", ecode ? ecode : "");
    snprintf(a->param, sizeof(a->param), "%s", param ? param : "");

    if (s->should_retry >= 0)
        retry = s->should_retry;

    if (type && strcmp(type, "idempotency_error") == 0)
        *code = APP_ECONFLICT;
    else if (type && strcmp(type, "card_error") == 0)
        *code = APP_EUNPROCESSABLE;
    else if (status == 404 && ecode && strcmp(ecode, "resource_missing") == 0)
        *code = APP_ENOTFOUND;
    else
        *code = APP_EUPSTREAM;

    /* "stripe: <type>/<code>: <message> (param X) (decline_code Y)" */
    m[0] = '\0';
    if (type)
        msg_cat(m, sizeof(m), "stripe: %s", type);
    else
        msg_cat(m, sizeof(m), "stripe: HTTP %ld", status);
    if (ecode)
        msg_cat(m, sizeof(m), "/%s", ecode);
    if (msg)
        msg_cat(m, sizeof(m), ": %s", msg);
    if (param)
        msg_cat(m, sizeof(m), " (param %s)", param);
    if (decline)
        msg_cat(m, sizeof(m), " (decline_code %s)", decline);
    app_error_set(err, *code, "%s", m);
    return retry ? O_RETRY : O_FAIL;
}

static enum outcome
attempt(struct stripe *s, const struct call *c, long deadline, struct answer *a, int *code,
        struct json_object **out, struct app_error *err)
{
    struct http_req r;
    long status = 0;
    CURLcode cc;

    memset(a, 0, sizeof(*a));
    s->request_id[0] = '\0';
    s->should_retry = -1;
    s->retry_after_s = -1;

    memset(&r, 0, sizeof(r));
    r.method = c->method;
    r.url = c->url;
    r.headers = c->headers;
    r.body = c->body;
    r.body_len = c->body_len;
    r.connect_ms = STRIPE_CONNECT_TIMEOUT_MS;
    r.left_ms = deadline - clock_ms();
    http_conn_prepare(&s->conn, &r);
    curl_easy_setopt(s->conn.curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(s->conn.curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(s->conn.curl, CURLOPT_HEADERDATA, s);

    cc = curl_easy_perform(s->conn.curl);
    if (cc == CURLE_OPERATION_TIMEDOUT && deadline - clock_ms() < STRIPE_MIN_ATTEMPT_MS) {
        snprintf(a->net, sizeof(a->net), "no answer within the budget");
        *code = app_error_set(err, APP_ETIMEOUT, "stripe: %s %s: no answer within %ld ms",
                              c->method, c->path, s->cfg->stripe_timeout_ms);
        return O_FAIL;
    }
    if (cc == CURLE_WRITE_ERROR) {
        snprintf(a->net, sizeof(a->net), "answer too large");
        *code = app_error_set(err, APP_EUPSTREAM, "stripe: %s %s: answer over %d bytes",
                              c->method, c->path, STRIPE_RESPONSE_MAX);
        return O_FAIL;
    }
    if (cc != CURLE_OK) {
        snprintf(a->net, sizeof(a->net), "%s", http_conn_error(&s->conn, cc));
        *code = app_error_set(err, APP_EUPSTREAM, "stripe: %s %s: %s", c->method, c->path,
                              a->net);
        return net_retryable(cc) ? O_RETRY : O_FAIL;
    }
    curl_easy_getinfo(s->conn.curl, CURLINFO_RESPONSE_CODE, &status);
    a->status = status;
    if (s->conn.resp.len > 0) {
        *out = json_tokener_parse(s->conn.resp.data);
        if (*out && !json_object_is_type(*out, json_type_object)) {
            json_object_put(*out);
            *out = NULL;
        }
    }
    if (status >= 200 && status < 300) {
        if (*out) {
            *code = APP_OK;
            return O_OK;
        }
        *code = app_error_set(err, APP_EUPSTREAM, "stripe: %s %s: HTTP %ld, not a JSON object",
                              c->method, c->path, status);
        return O_FAIL;
    }
    return classify(s, status, *out, a, code, err);
}

/* One log line for an answer: method, path, status, type/code, Request-Id; no message. */
static void
log_answer(int level, struct stripe *s, const struct call *c, const struct answer *a,
           const char *tail)
{
    char m[512];

    if (level < log_level_min)
        return;
    m[0] = '\0';
    if (a->status)
        msg_cat(m, sizeof(m), "HTTP %ld", a->status);
    else
        msg_cat(m, sizeof(m), "%s", a->net[0] ? a->net : "no answer");
    if (a->type[0])
        msg_cat(m, sizeof(m), " %s", a->type);
    if (a->code[0])
        msg_cat(m, sizeof(m), "/%s", a->code);
    if (a->param[0])
        msg_cat(m, sizeof(m), " (param %s)", a->param);
    log_msg(level, "stripe: %s %s: %s (request %s, attempt %d)%s", c->method, c->path, m,
            s->request_id[0] ? s->request_id : "-", s->last_attempts, tail);
}

static int
call(struct stripe *s, const struct call *c, struct json_object **out, struct app_error *err)
{
    long deadline = clock_ms() + s->cfg->stripe_timeout_ms;
    int code = APP_EUPSTREAM, n, level;

    for (n = 1;; n++) {
        struct app_error e;
        struct answer a;
        enum outcome o;
        long delay, left;
        char tail[64];

        if (*out) {
            json_object_put(*out);
            *out = NULL;
        }
        app_error_clear(&e);
        o = attempt(s, c, deadline, &a, &code, out, &e);
        s->last_attempts = n;
        if (o == O_OK) {
            log_answer(LL_DEBUG, s, c, &a, "");
            break;
        }
        if (o == O_RETRY && n < s->cfg->stripe_max_attempts) {
            /* retry number n: [0, min(cap, base 2^(n-1))] */
            delay = http_backoff_ms(&s->conn, BACKOFF_BASE_MS, BACKOFF_CAP_MS, n - 1);
            if (s->retry_after_s >= 0 && s->retry_after_s <= RETRY_AFTER_MAX_S &&
                s->retry_after_s * 1000 > delay)
                delay = s->retry_after_s * 1000;
            left = deadline - clock_ms();
            if (delay + STRIPE_MIN_ATTEMPT_MS < left) {
                snprintf(tail, sizeof(tail), "; retrying in %ld ms", delay);
                log_answer(LL_INFO, s, c, &a, tail);
                http_pause_ms(delay);
                continue;
            }
        }
        app_error_set(err, code, "%s", e.msg);
        if (code == APP_ENOTFOUND || code == APP_EUNPROCESSABLE || code == APP_ECONFLICT)
            level = LL_INFO;
        else if (a.status == 401 || a.status == 403)
            level = LL_ERROR;       /* our key or its permissions */
        else if (a.status >= 400 && a.status < 500 && a.status != 409 && a.status != 429)
            level = LL_ERROR;       /* Stripe refused our request: a bug on our side */
        else
            level = LL_WARN;
        log_answer(level, s, c, &a, a.status == 401 || a.status == 403 ?
                   ": check STRIPE_SECRET_KEY" : "");
        break;
    }
    return code;
}

/* The metrics' resource label of a path: its first segment after /v1/. */
static size_t
resource_of(const char *path)
{
    char seg[32];
    size_t n;

    if (!path || strncmp(path, "/v1/", 4) != 0)
        return metrics_index(MF_STRIPE_REQUESTS, 0, NULL);
    path += 4;
    n = strcspn(path, "/?");
    if (n >= sizeof(seg))
        return metrics_index(MF_STRIPE_REQUESTS, 0, NULL);
    memcpy(seg, path, n);
    seg[n] = '\0';
    return metrics_index(MF_STRIPE_REQUESTS, 0, seg);
}

static int
request(struct stripe *s, int post, const char *path, const struct stripe_params *p,
        const char *idempotency_key, struct json_object **out, struct app_error *err)
{
    struct json_object *ignored = NULL;
    struct buf url, body;
    struct call c;
    size_t res;
    int rc;

    if (!out)
        out = &ignored;
    *out = NULL;
    s->last_attempts = 0;
    s->request_id[0] = '\0';
    buf_init(&url, STRIPE_URL_MAX);
    buf_init(&body, STRIPE_BODY_MAX);
    memset(&c, 0, sizeof(c));
    c.method = post ? "POST" : "GET";
    c.path = path ? path : "";

    if (!path_ok(c.path)) {
        rc = app_error_set(err, APP_EINTERNAL, "stripe: %s of a path that is not plain",
                           c.method);
        goto done;
    }
    if (post && (!idempotency_key ||
                 !header_value_ok(idempotency_key, STRIPE_IDEMPOTENCY_KEY_MAX))) {
        rc = app_error_set(err, APP_EINTERNAL, "stripe: POST %s without a usable "
                           "Idempotency-Key", path);
        goto done;
    }
    rc = headers_new(s, post ? idempotency_key : NULL, &c.headers, err);
    if (rc != APP_OK)
        goto done;
    rc = buf_puts(&url, s->base);
    if (rc == APP_OK)
        rc = buf_puts(&url, path);
    if (rc == APP_OK && post)
        rc = stripe_params_encode(p, &body);
    if (rc == APP_OK && !post && stripe_params_count(p) > 0) {
        rc = buf_append(&url, "?", 1);
        if (rc == APP_OK)
            rc = stripe_params_encode(p, &url);
    }
    if (rc != APP_OK) {
        rc = app_error_set(err, APP_EINTERNAL, "stripe: %s %s: request too large", c.method,
                           path);
        goto done;
    }
    c.url = url.data;
    if (post) {
        c.body = body.data;
        c.body_len = body.len;
    }
    rc = call(s, &c, out, err);
    res = resource_of(path);
    metrics_inc(MF_STRIPE_REQUESTS, res, 0);
    if (s->last_attempts > 1)
        metrics_add(MF_STRIPE_RETRIES, res, 0, (uint64_t)(s->last_attempts - 1));
    if (rc != APP_OK)
        metrics_inc(MF_STRIPE_FAILURES, res, 0);

done:
    if (ignored)
        json_object_put(ignored);
    headers_free(c.headers);
    buf_free(&body);
    buf_free(&url);
    return rc;
}

int
stripe_post(struct stripe *s, const char *path, const struct stripe_params *p,
            const char *idempotency_key, struct json_object **out, struct app_error *err)
{
    return request(s, 1, path, p, idempotency_key, out, err);
}

int
stripe_get(struct stripe *s, const char *path, const struct stripe_params *query,
           struct json_object **out, struct app_error *err)
{
    return request(s, 0, path, query, NULL, out, err);
}
