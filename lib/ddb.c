#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "ids.h"
#include "cfg.h"
#include "creds.h"
#include "ddb.h"
#include "log.h"
#include "mem.h"
#include "sigv4.h"

#define DDB_RESPONSE_MAX (16 * 1024 * 1024)
#define BACKOFF_BASE_MS 25
#define BACKOFF_CAP_MS 1000

struct ddb {
    CURL *curl;
    const struct cfg *cfg;
    struct creds_provider *creds;
    char url[512];
    char host[256];                 /* Host header: host[:port] */
    char path[256];                 /* path of the endpoint, "/" */
    char errbuf[CURL_ERROR_SIZE];
    struct buf resp;                /* reused for every response */
    unsigned seed;
    int last_attempts;
};

/* Split http[s]://host[:port][/path] into the Host header and the path. */
static int
parse_endpoint(struct ddb *d, const char *url)
{
    const char *p = strstr(url, "://"), *slash;

    if (!p)
        return -1;
    p += 3;
    slash = strchr(p, '/');
    snprintf(d->url, sizeof(d->url), "%s", url);
    snprintf(d->host, sizeof(d->host), "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
    snprintf(d->path, sizeof(d->path), "%s", slash ? slash : "/");
    return d->host[0] ? 0 : -1;
}

struct ddb *
ddb_new(const struct cfg *cfg, struct creds_provider *creds)
{
    struct ddb *d = xcalloc(1, sizeof(*d));
    char tmp[256];

    d->cfg = cfg;
    d->creds = creds;
    if (parse_endpoint(d, cfg_dynamodb_endpoint(cfg, tmp, sizeof(tmp))) != 0) {
        log_msg(LL_ERROR, "dynamodb: cannot use endpoint %s", tmp);
        free(d);
        return NULL;
    }
    d->curl = curl_easy_init();
    if (!d->curl) {
        free(d);
        return NULL;
    }
    buf_init(&d->resp, DDB_RESPONSE_MAX);
    d->seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    return d;
}

void
ddb_free(struct ddb *d)
{
    if (!d)
        return;
    curl_easy_cleanup(d->curl);
    buf_free(&d->resp);
    free(d);
}

int
ddb_last_attempts(const struct ddb *d)
{
    return d->last_attempts;
}

/* What one attempt came to. */
enum outcome { O_OK, O_RETRY, O_FAIL };

/* The error type without its namespace: "com.amazonaws...#ThrottlingException". */
static const char *
short_type(const char *t)
{
    const char *h = strrchr(t, '#');

    return h ? h + 1 : t;
}

static int
reasons_include(struct json_object *body, const char *code)
{
    struct json_object *reasons, *r, *c;
    size_t i;

    if (!body || !json_object_object_get_ex(body, "CancellationReasons", &reasons))
        return 0;
    for (i = 0; i < json_object_array_length(reasons); i++) {
        r = json_object_array_get_idx(reasons, i);
        if (json_object_object_get_ex(r, "Code", &c) &&
            strcmp(json_object_get_string(c), code) == 0)
            return 1;
    }
    return 0;
}

/* Classify an error answer: the code for the caller, and whether to try again. */
static enum outcome
classify(long status, struct json_object *body, int *code, struct app_error *err)
{
    static const char *const retryable[] = {
        "ProvisionedThroughputExceededException", "ThrottlingException",
        "RequestLimitExceeded", "TransactionInProgressException", NULL,
    };
    static const char *const auth[] = {
        "InvalidSignatureException", "UnrecognizedClientException",
        "MissingAuthenticationTokenException", "ExpiredTokenException",
        "AccessDeniedException", "IncompleteSignatureException", NULL,
    };
    struct json_object *t = NULL, *m = NULL;
    const char *type = "UnknownError", *msg = "";
    size_t i;

    if (body && json_object_object_get_ex(body, "__type", &t))
        type = short_type(json_object_get_string(t));
    if (body && (json_object_object_get_ex(body, "message", &m) ||
                 json_object_object_get_ex(body, "Message", &m)))
        msg = json_object_get_string(m);

    if (status >= 500) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: HTTP %ld %s", status, type);
        return O_RETRY;
    }
    for (i = 0; retryable[i]; i++) {
        if (strcmp(type, retryable[i]) == 0) {
            *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s", type);
            return O_RETRY;
        }
    }
    if (strcmp(type, "ConditionalCheckFailedException") == 0 ||
        (strcmp(type, "TransactionCanceledException") == 0 &&
         reasons_include(body, "ConditionalCheckFailed"))) {
        *code = app_error_set(err, APP_ECONDITION, "dynamodb: %s", type);
        return O_FAIL;
    }
    if (strcmp(type, "TransactionCanceledException") == 0 &&
        reasons_include(body, "TransactionConflict")) {
        /* Another transaction held one of the items: nothing was written, try again. */
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s: conflict", type);
        return O_RETRY;
    }
    if (strcmp(type, "TransactionCanceledException") == 0) {
        *code = app_error_set(err, APP_ECONFLICT, "dynamodb: %s: %s", type, msg);
        return O_FAIL;
    }
    for (i = 0; auth[i]; i++) {
        if (strcmp(type, auth[i]) == 0) {
            *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s: %s", type, msg);
            return O_FAIL;
        }
    }
    *code = app_error_set(err, APP_EINTERNAL, "dynamodb: HTTP %ld %s: %s", status, type, msg);
    return O_FAIL;
}

static enum outcome
attempt(struct ddb *d, const char *op, const char *body, long budget_ms, int *code,
        struct json_object **out, struct app_error *err)
{
    const struct aws_creds *c = NULL;
    struct sigv4_header sh[2];
    struct sigv4_request sr;
    struct sigv4_creds sc;
    struct sigv4_signed sig;
    struct curl_slist *h = NULL;
    char target[96], line[1200];
    struct buf tok;
    long status = 0;
    CURLcode cc;
    enum outcome o = O_FAIL;

    *code = creds_get(d->creds, time(NULL), &c, err);
    if (*code != APP_OK)
        return O_FAIL;
    snprintf(target, sizeof(target), "DynamoDB_20120810.%s", op);
    sh[0].name = "Content-Type";
    sh[0].value = "application/x-amz-json-1.0";
    sh[1].name = "X-Amz-Target";
    sh[1].value = target;
    memset(&sr, 0, sizeof(sr));
    sr.method = "POST";
    sr.host = d->host;
    sr.path = d->path;
    sr.headers = sh;
    sr.nheaders = 2;
    sr.payload = body;
    sr.payload_len = strlen(body);
    sr.region = cfg_region(d->cfg);
    sr.service = "dynamodb";
    sr.now = time(NULL);
    sc.access_key = c->access_key;
    sc.secret_key = c->secret_key;
    sc.session_token = c->session_token;
    *code = sigv4_sign(&sr, &sc, &sig);
    if (*code != APP_OK) {
        app_error_set(err, *code, "dynamodb: cannot sign the request");
        return O_FAIL;
    }

    h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.0");
    snprintf(line, sizeof(line), "X-Amz-Target: %s", target);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Amz-Date: %s", sig.amz_date);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "Authorization: %s", sig.authorization);
    h = curl_slist_append(h, line);
    if (c->session_token[0]) {
        buf_init(&tok, sizeof(c->session_token) + 32);
        buf_printf(&tok, "X-Amz-Security-Token: %s", c->session_token);
        h = curl_slist_append(h, tok.data);
        buf_free(&tok);
    }
    h = curl_slist_append(h, "Expect:");      /* unsigned; never wait for 100-continue */

    buf_reset(&d->resp);
    curl_easy_reset(d->curl);
    curl_easy_setopt(d->curl, CURLOPT_URL, d->url);
    curl_easy_setopt(d->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, (long)sr.payload_len);
    curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     d->cfg->ddb_connect_timeout_ms < budget_ms ?
                     d->cfg->ddb_connect_timeout_ms : budget_ms);
    curl_easy_setopt(d->curl, CURLOPT_TIMEOUT_MS, budget_ms);
    curl_easy_setopt(d->curl, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
    curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, &d->resp);
    d->errbuf[0] = '\0';

    cc = curl_easy_perform(d->curl);
    curl_slist_free_all(h);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        *code = app_error_set(err, APP_ETIMEOUT, "dynamodb: no answer within %ld ms", budget_ms);
        return O_RETRY;
    }
    if (cc != CURLE_OK) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s",
                              d->errbuf[0] ? d->errbuf : curl_easy_strerror(cc));
        return cc == CURLE_WRITE_ERROR ? O_FAIL : O_RETRY;
    }
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
    *out = json_tokener_parse(d->resp.data ? d->resp.data : "");
    if (status == 200) {
        if (*out) {
            *code = APP_OK;
            return O_OK;
        }
        *code = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: unreadable response");
        return O_RETRY;
    }
    o = classify(status, *out, code, err);
    return o;
}

static int
call(struct ddb *d, const char *op, struct json_object *req, long budget_ms, long max_attempts,
     struct json_object **out, struct app_error *err)
{
    const char *body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
    long deadline = clock_ms() + budget_ms;
    int code = APP_EUNAVAILABLE, n;

    *out = NULL;
    for (n = 1;; n++) {
        struct app_error e;
        enum outcome o;
        long left = deadline - clock_ms(), cap, delay;

        if (left <= 0) {
            code = app_error_set(err, APP_ETIMEOUT, "dynamodb: %s gave no answer within %ld ms",
                                 op, budget_ms);
            break;
        }
        if (*out) {
            json_object_put(*out);
            *out = NULL;
        }
        app_error_clear(&e);
        o = attempt(d, op, body, left, &code, out, &e);
        d->last_attempts = n;
        if (o == O_OK)
            break;
        if (o == O_FAIL || n >= max_attempts) {
            app_error_set(err, code, "%s (%s, attempt %d)", e.msg, op, n);
            break;
        }
        /* Full jitter: a random pause up to an exponentially growing cap. */
        cap = BACKOFF_BASE_MS << (n > 6 ? 6 : n);
        if (cap > BACKOFF_CAP_MS)
            cap = BACKOFF_CAP_MS;
        delay = (long)(rand_r(&d->seed) % (unsigned)(cap + 1));
        left = deadline - clock_ms();
        if (delay >= left)
            delay = left > 1 ? left - 1 : 0;
        LOG(LL_DEBUG, "dynamodb %s: %s; retrying in %ld ms", op, e.msg, delay);
        if (delay > 0)
            usleep((useconds_t)delay * 1000);
    }
    return code;
}

int
ddb_call(struct ddb *d, const char *op, struct json_object *req, struct json_object **out,
         struct app_error *err)
{
    return call(d, op, req, d->cfg->ddb_timeout_ms, d->cfg->ddb_max_attempts, out, err);
}

int
ddb_ping(struct ddb *d, long timeout_ms, struct app_error *err)
{
    struct json_object *req = json_object_new_object(), *out = NULL;
    int rc;

    /* One attempt within the readiness bound: a probe must answer fast, not retry. */
    json_object_object_add(req, "Limit", json_object_new_int(1));
    rc = call(d, "ListTables", req, timeout_ms, 1, &out, err);
    json_object_put(req);
    if (out)
        json_object_put(out);
    return rc;
}
