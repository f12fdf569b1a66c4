#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "bedrock.h"
#include "buf.h"
#include "cfg.h"
#include "creds.h"
#include "ids.h"
#include "log.h"
#include "mem.h"
#include "sigv4.h"

#define BEDROCK_RESPONSE_MAX (1024 * 1024)
#define BEDROCK_CONNECT_MS 3000
#define BACKOFF_BASE_MS 50
#define BACKOFF_CAP_MS 2000
#define ATTEMPT_MIN_MS 50           /* no model answers faster: less left is a timeout */
/* The path: the endpoint's prefix, "/model/", the id with every byte as %XX at worst. */
#define BEDROCK_PATH_MAX (256 + 7 + 3 * BEDROCK_MODEL_MAX + 10 + 1)

struct bedrock {
    CURL *curl;
    const struct cfg *cfg;
    struct creds_provider *creds;
    char origin[512];               /* scheme://authority, as configured */
    char host[256];                 /* the Host header sent and signed */
    char prefix[256];               /* the endpoint's path, no trailing '/' */
    char errbuf[CURL_ERROR_SIZE];
    struct buf resp;                /* reused for every answer */
    unsigned seed;
    int last_attempts;
};

int
bedrock_model_id_ok(const char *id, size_t n)
{
    size_t i;

    if (n == 0 || n > BEDROCK_MODEL_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)id[i]) && !strchr("._:/-", id[i]))
            return 0;
    }
    return 1;
}

int
bedrock_models_ok(const char *list)
{
    const char *p = list, *end, *a, *b;
    int count = 0;

    for (;;) {
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        for (a = p; a < end && *a == ' '; a++)
            ;
        for (b = end; b > a && b[-1] == ' '; b--)
            ;
        if (!bedrock_model_id_ok(a, (size_t)(b - a)) || ++count > BEDROCK_MODELS_MAX)
            return 0;
        if (!*end)
            return 1;
        p = end + 1;
    }
}

int
bedrock_cfg_check(const struct cfg *c, char *err, size_t errlen)
{
    const char *e = c->aws_endpoint_url_bedrock;

    if (*e && strncmp(e, "http://", 7) != 0 && strncmp(e, "https://", 8) != 0) {
        snprintf(err, errlen, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME must start with http:// or "
                 "https://");
        return -1;
    }
    if (!bedrock_models_ok(c->ai_models)) {
        snprintf(err, errlen, "AI_MODELS must be 1 to %d comma-separated Bedrock model ids "
                 "([A-Za-z0-9._:/-], at most %d bytes each)", BEDROCK_MODELS_MAX,
                 BEDROCK_MODEL_MAX);
        return -1;
    }
    return 0;
}

/* Split http[s]://authority[/prefix] into the origin, the Host header and the prefix. */
static int
parse_endpoint(struct bedrock *b, const char *url)
{
    const char *auth, *slash;
    size_t alen, plen;

    if (strncmp(url, "https://", 8) == 0)
        auth = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        auth = url + 7;
    else
        return -1;
    if (strpbrk(url, "?#@ "))
        return -1;
    slash = strchr(auth, '/');
    alen = slash ? (size_t)(slash - auth) : strlen(auth);
    plen = slash ? strlen(slash) : 0;
    while (plen > 0 && slash[plen - 1] == '/')
        plen--;
    if (alen == 0 || alen >= sizeof(b->host) || plen >= sizeof(b->prefix) ||
        (size_t)(auth - url) + alen >= sizeof(b->origin))
        return -1;
    snprintf(b->origin, sizeof(b->origin), "%.*s", (int)((size_t)(auth - url) + alen), url);
    snprintf(b->host, sizeof(b->host), "%.*s", (int)alen, auth);
    snprintf(b->prefix, sizeof(b->prefix), "%.*s", (int)plen, plen ? slash : "");
    return 0;
}

struct bedrock *
bedrock_new(const struct cfg *cfg, struct creds_provider *creds)
{
    struct bedrock *b = xcalloc(1, sizeof(*b));
    const char *endpoint = cfg->aws_endpoint_url_bedrock;
    char tmp[128];

    b->cfg = cfg;
    b->creds = creds;
    if (!*endpoint)
        endpoint = cfg->aws_endpoint_url;
    if (!*endpoint) {
        snprintf(tmp, sizeof(tmp), "https://bedrock-runtime.%s.amazonaws.com", cfg_region(cfg));
        endpoint = tmp;
    }
    if (parse_endpoint(b, endpoint) != 0) {
        log_msg(LL_ERROR, "bedrock: cannot use endpoint %s", endpoint);
        free(b);
        return NULL;
    }
    b->curl = curl_easy_init();
    if (!b->curl) {
        free(b);
        return NULL;
    }
    buf_init(&b->resp, BEDROCK_RESPONSE_MAX);
    b->seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    return b;
}

void
bedrock_free(struct bedrock *b)
{
    if (!b)
        return;
    curl_easy_cleanup(b->curl);
    buf_free(&b->resp);
    free(b);
}

int
bedrock_last_attempts(const struct bedrock *b)
{
    return b->last_attempts;
}

void
bedrock_reply_free(struct bedrock_reply *r)
{
    free(r->text);
    memset(r, 0, sizeof(*r));
}

/* What one attempt came to. */
enum outcome { O_OK, O_RETRY, O_FAIL };

/* The error's type: the x-amzn-ErrorType header ("Type:namespace..." cut at ':'), else the
 * body's "__type" (cut after '#') or "code"; "" when none says. */
static void
error_type(CURL *curl, struct json_object *body, char *out, size_t n)
{
    struct curl_header *h = NULL;
    struct json_object *t = NULL;
    const char *v = "", *cut;

    if (curl_easy_header(curl, "x-amzn-ErrorType", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
        v = h->value;
    else if (body && (json_object_object_get_ex(body, "__type", &t) ||
                      json_object_object_get_ex(body, "code", &t)) &&
             json_object_is_type(t, json_type_string))
        v = json_object_get_string(t);
    cut = strrchr(v, '#');
    if (cut)
        v = cut + 1;
    cut = strchr(v, ':');
    snprintf(out, n, "%.*s", cut ? (int)(cut - v) : (int)strlen(v), v);
}

/* The body's message, one line of printable ASCII, for the log only. */
static void
error_message(struct json_object *body, char *out, size_t n)
{
    struct json_object *m = NULL;
    size_t i;

    out[0] = '\0';
    if (!body || !(json_object_object_get_ex(body, "message", &m) ||
                   json_object_object_get_ex(body, "Message", &m)))
        return;
    snprintf(out, n, "%s", json_object_get_string(m));
    for (i = 0; out[i]; i++)
        if (!isprint((unsigned char)out[i]))
            out[i] = ' ';
}

/*
 * Classify an error answer.  Only a refusal about the account or the model (403, 404) has
 * its message logged: the others may quote the request, and a prompt is never logged.
 */
static enum outcome
classify(struct bedrock *b, long status, struct json_object *body, int *code,
         struct app_error *err)
{
    static const char *const retryable[] = {
        "ThrottlingException", "ModelNotReadyException", "ServiceUnavailableException",
        "InternalServerException", NULL,
    };
    char type[64], msg[120] = "";
    size_t i;

    error_type(b->curl, body, type, sizeof(type));
    if (status == 403 || status == 404)
        error_message(body, msg, sizeof(msg));
    if (strcmp(type, "ModelTimeoutException") == 0 || status == 408) {
        *code = app_error_set(err, APP_ETIMEOUT, "bedrock: HTTP %ld %s", status, type);
        return O_FAIL;
    }
    *code = app_error_set(err, APP_EUPSTREAM, "bedrock: HTTP %ld %s%s%s", status,
                          type[0] ? type : "(no type)", msg[0] ? ": " : "", msg);
    if (status == 429 || status >= 500)
        return O_RETRY;
    for (i = 0; retryable[i]; i++)
        if (strcmp(type, retryable[i]) == 0)
            return O_RETRY;
    return O_FAIL;
}

static long long
member_int(struct json_object *o, const char *k)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    return (long long)json_object_get_int64(v);
}

/* A 200's body into out: the text blocks joined, the stop reason, usage and latency. */
static int
read_reply(struct json_object *body, struct bedrock_reply *out, struct app_error *err)
{
    struct json_object *o = NULL, *m = NULL, *content = NULL, *blk, *t, *usage = NULL,
                       *metrics = NULL;
    struct buf text;
    size_t i;
    int blocks = 0;

    if (!body || !json_object_object_get_ex(body, "output", &o) ||
        !json_object_object_get_ex(o, "message", &m) ||
        !json_object_object_get_ex(m, "content", &content) ||
        !json_object_is_type(content, json_type_array))
        return app_error_set(err, APP_EUPSTREAM, "bedrock: an answer without "
                             "output.message.content");
    buf_init(&text, BEDROCK_RESPONSE_MAX);
    for (i = 0; i < json_object_array_length(content); i++) {
        blk = json_object_array_get_idx(content, i);
        if (!json_object_object_get_ex(blk, "text", &t) ||
            !json_object_is_type(t, json_type_string))
            continue;
        if (buf_append(&text, json_object_get_string(t),
                       (size_t)json_object_get_string_len(t)) != APP_OK) {
            buf_free(&text);
            return app_error_set(err, APP_EUPSTREAM, "bedrock: an answer too large");
        }
        blocks++;
    }
    if (blocks == 0) {
        buf_free(&text);
        return app_error_set(err, APP_EUPSTREAM, "bedrock: an answer without text");
    }
    out->text = text.data ? text.data : xstrdup("");
    if (json_object_object_get_ex(body, "stopReason", &t) &&
        json_object_is_type(t, json_type_string))
        snprintf(out->stop_reason, sizeof(out->stop_reason), "%s", json_object_get_string(t));
    json_object_object_get_ex(body, "usage", &usage);
    json_object_object_get_ex(body, "metrics", &metrics);
    out->input_tokens = member_int(usage, "inputTokens");
    out->output_tokens = member_int(usage, "outputTokens");
    out->total_tokens = member_int(usage, "totalTokens");
    if (out->input_tokens < 0)
        out->input_tokens = 0;
    if (out->output_tokens < 0)
        out->output_tokens = 0;
    if (out->total_tokens < 0)
        out->total_tokens = out->input_tokens + out->output_tokens;
    out->latency_ms = member_int(metrics, "latencyMs");
    if (out->latency_ms < 0)
        out->latency_ms = 0;
    return APP_OK;
}

struct call {
    const char *path;               /* on the wire */
    const char *body;
    size_t body_len;
};

static enum outcome
attempt(struct bedrock *b, const struct call *k, long budget_ms, int *code,
        struct bedrock_reply *out, struct app_error *err)
{
    const struct aws_creds *c = NULL;
    struct sigv4_header sh[2];
    struct sigv4_request sr;
    struct sigv4_creds sc;
    struct sigv4_signed sig;
    struct curl_slist *h = NULL;
    struct json_object *body = NULL;
    char line[1200], url[sizeof(b->origin) + BEDROCK_PATH_MAX];
    struct buf tok;
    long status = 0;
    CURLcode cc;
    enum outcome o;

    *code = creds_get(b->creds, time(NULL), &c, err);
    if (*code != APP_OK)
        return O_FAIL;
    sh[0].name = "Content-Type";
    sh[0].value = "application/json";
    sh[1].name = "Accept";
    sh[1].value = "application/json";
    memset(&sr, 0, sizeof(sr));
    sr.method = "POST";
    sr.host = b->host;
    sr.path = k->path;
    sr.headers = sh;
    sr.nheaders = 2;
    sr.payload = k->body;
    sr.payload_len = k->body_len;
    sr.region = cfg_region(b->cfg);
    sr.service = "bedrock";
    sr.now = time(NULL);
    sc.access_key = c->access_key;
    sc.secret_key = c->secret_key;
    sc.session_token = c->session_token;
    *code = sigv4_sign(&sr, &sc, &sig);
    if (*code != APP_OK) {
        app_error_set(err, *code, "bedrock: cannot sign the request");
        return O_FAIL;
    }

    snprintf(url, sizeof(url), "%s%s", b->origin, k->path);
    snprintf(line, sizeof(line), "Host: %s", b->host);
    h = curl_slist_append(h, line);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
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

    buf_reset(&b->resp);
    curl_easy_reset(b->curl);
    curl_easy_setopt(b->curl, CURLOPT_URL, url);
    curl_easy_setopt(b->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(b->curl, CURLOPT_POSTFIELDS, k->body);
    curl_easy_setopt(b->curl, CURLOPT_POSTFIELDSIZE, (long)k->body_len);
    curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(b->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(b->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(b->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     budget_ms < BEDROCK_CONNECT_MS ? budget_ms : (long)BEDROCK_CONNECT_MS);
    curl_easy_setopt(b->curl, CURLOPT_TIMEOUT_MS, budget_ms);
    curl_easy_setopt(b->curl, CURLOPT_ERRORBUFFER, b->errbuf);
    curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
    curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, &b->resp);
    b->errbuf[0] = '\0';

    cc = curl_easy_perform(b->curl);
    curl_slist_free_all(h);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        *code = app_error_set(err, APP_ETIMEOUT, "bedrock: no answer within %ld ms", budget_ms);
        return O_RETRY;
    }
    if (cc == CURLE_WRITE_ERROR) {
        *code = app_error_set(err, APP_EUPSTREAM, "bedrock: an answer over %d bytes",
                              BEDROCK_RESPONSE_MAX);
        return O_FAIL;
    }
    if (cc != CURLE_OK) {
        *code = app_error_set(err, APP_EUPSTREAM, "bedrock: %s",
                              b->errbuf[0] ? b->errbuf : curl_easy_strerror(cc));
        return O_RETRY;
    }
    curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
    body = json_tokener_parse(b->resp.data ? b->resp.data : "");
    if (status == 200) {
        *code = read_reply(body, out, err);
        o = *code == APP_OK ? O_OK : O_FAIL;
    } else {
        o = classify(b, status, body, code, err);
    }
    if (body)
        json_object_put(body);
    return o;
}

static int
call(struct bedrock *b, const struct call *k, const char *model, struct bedrock_reply *out,
     struct app_error *err)
{
    long budget = b->cfg->bedrock_timeout_ms, deadline = clock_ms() + budget;
    int code = APP_EUPSTREAM, n;

    for (n = 1;; n++) {
        struct app_error e;
        enum outcome o;
        long left = deadline - clock_ms(), cap, delay;

        if (left < ATTEMPT_MIN_MS) {
            code = app_error_set(err, APP_ETIMEOUT, "bedrock: %s gave no answer within %ld ms",
                                 model, budget);
            break;
        }
        app_error_clear(&e);
        o = attempt(b, k, left, &code, out, &e);
        b->last_attempts = n;
        if (o == O_OK)
            break;
        if (o == O_FAIL || n >= b->cfg->bedrock_max_attempts) {
            app_error_set(err, code, "%s (%s, attempt %d)", e.msg, model, n);
            break;
        }
        /* Full jitter: a random pause up to an exponentially growing cap. */
        cap = BACKOFF_BASE_MS << (n > 6 ? 6 : n);
        if (cap > BACKOFF_CAP_MS)
            cap = BACKOFF_CAP_MS;
        delay = (long)(rand_r(&b->seed) % (unsigned)(cap + 1));
        left = deadline - clock_ms();
        if (delay >= left)
            delay = left > 1 ? left - 1 : 0;
        LOG(LL_DEBUG, "bedrock %s: %s; retrying in %ld ms", model, e.msg, delay);
        if (delay > 0)
            usleep((useconds_t)delay * 1000);
    }
    return code;
}

static struct json_object *
text_block(const char *s)
{
    struct json_object *blk = json_object_new_object();

    json_object_object_add(blk, "text", json_object_new_string(s));
    return blk;
}

int
bedrock_converse(struct bedrock *b, const char *model, const char *system,
                 const char *prompt, long max_tokens, struct bedrock_reply *out,
                 struct app_error *err)
{
    struct json_object *req, *msgs, *msg, *content, *inf, *sys;
    char pathst[BEDROCK_PATH_MAX];
    struct buf path;
    struct call k;
    int rc;

    memset(out, 0, sizeof(*out));
    b->last_attempts = 0;
    if (!model || !bedrock_model_id_ok(model, strlen(model)))
        return app_error_set(err, APP_EINTERNAL, "bedrock: not a model id");
    buf_init_fixed(&path, pathst, sizeof(pathst));
    if (buf_printf(&path, "%s/model/", b->prefix) != APP_OK ||
        sigv4_uri_encode(&path, model, strlen(model), 0) != APP_OK ||
        buf_puts(&path, "/converse") != APP_OK)
        return app_error_set(err, APP_EINTERNAL, "bedrock: the path is too long");

    req = json_object_new_object();
    msgs = json_object_new_array();
    msg = json_object_new_object();
    content = json_object_new_array();
    json_object_array_add(content, text_block(prompt));
    json_object_object_add(msg, "role", json_object_new_string("user"));
    json_object_object_add(msg, "content", content);
    json_object_array_add(msgs, msg);
    json_object_object_add(req, "messages", msgs);
    if (system && *system) {
        sys = json_object_new_array();
        json_object_array_add(sys, text_block(system));
        json_object_object_add(req, "system", sys);
    }
    inf = json_object_new_object();
    json_object_object_add(inf, "maxTokens", json_object_new_int64(max_tokens));
    json_object_object_add(req, "inferenceConfig", inf);

    k.path = path.data;
    k.body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
                                            JSON_C_TO_STRING_NOSLASHESCAPE);
    k.body_len = strlen(k.body);
    rc = call(b, &k, model, out, err);
    json_object_put(req);
    if (rc != APP_OK)
        bedrock_reply_free(out);
    return rc;
}
