#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/cfg.h"
#include "../lib/money.h"
#include "../lib/strparse.h"
#include "request.h"
#include "routes.h"
#include "worker.h"

#define RESP_BODY_MAX (4 * 1024 * 1024)
#define RESP_HEADERS_MAX 8192

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {
    {"GET", M_GET}, {"HEAD", M_HEAD}, {"POST", M_POST}, {"PUT", M_PUT},
    {"DELETE", M_DELETE}, {"PATCH", M_PATCH}, {"OPTIONS", M_OPTIONS},
};

/* nginx's $request_id is 32 hex digits; anything else is not echoed into a header. */
static int
request_id_ok(const char *id)
{
    size_t n;

    if (!id)
        return 0;
    n = strspn(id, "0123456789abcdefABCDEF-_");
    return n > 0 && n <= 64 && id[n] == '\0';
}

void
req_init(struct request *req, struct arena *arena, char **envp, const struct cfg *cfg,
         struct worker *w)
{
    memset(req, 0, sizeof(*req));
    req->arena = arena;
    req->envp = envp;
    req->cfg = cfg;
    req->worker = w;
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    buf_init(&req->resp_headers, RESP_HEADERS_MAX);
    buf_init(&req->resp_body, RESP_BODY_MAX);
    req->request_id = req_env(req, "REQUEST_ID");
    if (!request_id_ok(req->request_id))
        req->request_id = "-";
    req->ctx.cfg = cfg;
    if (w) {
        req->ctx.ddb = w->ddb;
        req->ctx.cache = w->cache;
        req->ctx.stripe = w->stripe;
        req->ctx.s3 = w->s3;
        req->ctx.bedrock = w->bedrock;
    }
    req->ctx.now = ctx_clock(cfg);
    req->ctx.request_id = req->request_id;
    req->ctx.method = req_env(req, "REQUEST_METHOD");
    req->ctx.route = "-";
    req->ctx.client = req_env(req, "REMOTE_ADDR");
}

void
req_free(struct request *req)
{
    if (req->json)
        json_object_put(req->json);
    req->json = NULL;
    if (req->field_errors)
        json_object_put(req->field_errors);
    req->field_errors = NULL;
    req->fields = NULL;
    if (req->reply_extra)
        json_object_put(req->reply_extra);
    req->reply_extra = NULL;
    buf_free(&req->resp_headers);
    buf_free(&req->resp_body);
}

const char *
req_env(const struct request *req, const char *name)
{
    size_t n = strlen(name);
    char **e;

    if (!req->envp)
        return NULL;
    for (e = req->envp; *e; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    }
    return NULL;
}

static const char *
kv_find(const struct kv *kv, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    }
    return NULL;
}

const char *
req_path_param(const struct request *req, const char *name)
{
    return kv_find(req->params, req->nparams, name);
}

const char *
req_query(const struct request *req, const char *name)
{
    return kv_find(req->query, req->nquery, name);
}

static int
parse_query(struct request *req, const char *qs)
{
    const char *p = qs;

    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        size_t vlen = eq ? len - klen - 1 : 0;
        char *k, *v;

        if (len > 0) {
            if (req->nquery == REQ_MAX_QUERY)
                return app_error_set(&req->err, APP_EBADREQUEST, "too many query parameters");
            k = arena_alloc(req->arena, klen + 1);
            v = arena_alloc(req->arena, vlen + 1);
            if (str_pct_decode(k, p, klen, 1) < 0 ||
                str_pct_decode(v, eq ? eq + 1 : "", vlen, 1) < 0)
                return app_error_set(&req->err, APP_EBADREQUEST,
                                     "malformed percent-encoding in the query string");
            req->query[req->nquery].key = k;
            req->query[req->nquery].value = v;
            req->nquery++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return APP_OK;
}

int
req_parse_line(struct request *req)
{
    const char *uri, *qs, *q;
    size_t i;

    req->method = req_env(req, "REQUEST_METHOD");
    if (!req->method)
        return app_error_set(&req->err, APP_EBADREQUEST, "no request method");
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(req->method, methods[i].name) == 0)
            req->method_bit = methods[i].bit;
    }
    uri = req_env(req, "REQUEST_URI");
    if (!uri || *uri != '/')
        return app_error_set(&req->err, APP_EBADREQUEST, "no request path");
    q = strchr(uri, '?');
    req->path = q ? arena_strndup(req->arena, uri, (size_t)(q - uri)) : uri;
    qs = req_env(req, "QUERY_STRING");
    if (!qs)
        qs = q ? q + 1 : "";
    return parse_query(req, qs);
}

/* Line and column (1-based) of byte offset off in s, for "where it broke". */
static void
line_col(const char *s, size_t off, int *line, int *col)
{
    size_t i;

    *line = 1;
    *col = 1;
    for (i = 0; i < off; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int
content_type_is_json(const char *ct)
{
    size_t n = strlen("application/json");

    if (!ct || strncasecmp(ct, "application/json", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int
req_parse_json_body(struct request *req, int max_depth)
{
    struct json_tokener *tok;
    enum json_tokener_error jerr;
    struct json_object *details;
    size_t end;
    int line, col;

    if (!content_type_is_json(req_env(req, "CONTENT_TYPE")))
        return app_error_set(&req->err, APP_EMEDIATYPE,
                             "Content-Type must be application/json");
    if (req->body_len == 0)
        return app_error_set(&req->err, APP_EBADJSON, "a JSON request body is required");

    tok = json_tokener_new_ex(max_depth);
    if (!tok)
        return app_error_set(&req->err, APP_ENOMEM, "json tokener");
    /* Strict JSON only (no single quotes, comments, trailing commas...): the edge's WAF
     * reads bodies with a strict parser and leaves those it cannot read to us, so we must
     * refuse each of them too.  What follows the value is checked below. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    /* body_len + 1 takes in the NUL after the body: json-c then knows the input has ended,
     * so a bare 42 is complete and "{" is truncated. */
    req->json = json_tokener_parse_ex(tok, req->body, (int)req->body_len + 1);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    if (jerr == json_tokener_success) {
        /* Only white space may follow the value: "{} x" is not a JSON document. */
        while (end < req->body_len && req->body[end] && strchr(" \t\r\n", req->body[end]))
            end++;
        if (end < req->body_len)
            jerr = json_tokener_error_parse_unexpected;
    }
    if (jerr != json_tokener_success) {
        const char *why = jerr == json_tokener_continue || end >= req->body_len ?
                          "unexpected end of input" : json_tokener_error_desc(jerr);

        if (req->json)
            json_object_put(req->json);
        req->json = NULL;
        if (end > req->body_len)
            end = req->body_len;
        line_col(req->body, end, &line, &col);
        details = json_object_new_object();
        json_object_object_add(details, "reason", json_object_new_string(why));
        json_object_object_add(details, "offset", json_object_new_int64((int64_t)end));
        json_object_object_add(details, "line", json_object_new_int(line));
        json_object_object_add(details, "column", json_object_new_int(col));
        reply_error(req, APP_EBADJSON, NULL, details);
        return APP_EBADJSON;
    }
    if (!json_object_is_type(req->json, json_type_object))
        return app_error_set(&req->err, APP_EVALIDATION, "the request body must be a JSON object");
    return APP_OK;
}

void
req_add_header(struct request *req, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n") || strpbrk(value, "\r\n")) {
        req_log(req, LL_ERROR, "refusing a response header with CR/LF: %s", name);
        return;
    }
    buf_printf(&req->resp_headers, "%s: %s\r\n", name, value);
}

static int
reply_envelope(struct request *req, int status, struct json_object *root)
{
    const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);

    req->status = status;
    buf_reset(&req->resp_body);
    if (buf_puts(&req->resp_body, s) != APP_OK) {
        /* Our own response over the ceiling is a bug: send a fixed 500 instead. */
        buf_reset(&req->resp_body);
        req->status = 500;
        buf_puts(&req->resp_body, "{\"success\":false,\"error\":\"Internal server error\","
                 "\"code\":\"INTERNAL_ERROR\",\"details\":{}}");
        req_log(req, LL_ERROR, "response body over %zu bytes", req->resp_body.max);
    }
    json_object_put(root);
    return APP_OK;
}

int
reply_json(struct request *req, int status, struct json_object *data)
{
    struct json_object *root = json_object_new_object();

    if (req->reply_extra && json_object_is_type(data, json_type_object)) {
        json_object_object_foreach(req->reply_extra, k, v)
            json_object_object_add(data, k, json_object_get(v));
    }
    /* Integer cents inside; beside each, the seed's decimal field (lib/money.h). */
    money_add_decimals(data);
    json_object_object_add(root, "success", json_object_new_boolean(1));
    json_object_object_add(root, "data", data);
    return reply_envelope(req, status, root);
}

int
reply_json_raw(struct request *req, int status, const char *data)
{
    req->status = status;
    buf_reset(&req->resp_body);
    if (buf_puts(&req->resp_body, "{\"success\":true,\"data\":") != APP_OK ||
        buf_puts(&req->resp_body, data) != APP_OK || buf_puts(&req->resp_body, "}") != APP_OK)
        return app_error_set(&req->err, APP_ENOMEM, "response body over %zu bytes",
                             req->resp_body.max);
    return APP_OK;
}

int
reply_error(struct request *req, int code, const char *msg, struct json_object *details)
{
    const struct app_error_info *info = app_error_info(code);
    struct json_object *root = json_object_new_object();

    /* Every error reply passes here: count it per code for the worker's scoreboard. */
    if (req->worker && code < 0 && code > -APP_ERR_COUNT)
        req->worker->sb->errors[-code]++;
    if (!app_error_is_client(code)) {
        /* Our fault: the detail is for the log, never for the client. */
        req_log(req, LL_ERROR, "%s: %s", info->slug, msg ? msg : req->err.msg);
        msg = NULL;
    }
    if (!details)
        details = json_object_new_object();
    json_object_object_add(details, "requestId", json_object_new_string(req->request_id));
    json_object_object_add(root, "success", json_object_new_boolean(0));
    json_object_object_add(root, "error", json_object_new_string(msg ? msg : info->message));
    json_object_object_add(root, "code", json_object_new_string(info->slug));
    json_object_object_add(root, "details", details);
    return reply_envelope(req, info->status, root);
}

int
reply_app_error(struct request *req, int code)
{
    const struct app_error *e = &req->err;
    struct json_object *d = NULL, *f;

    if (e->code == code && e->reason && app_error_is_client(code)) {
        d = json_object_new_object();
        json_object_object_add(d, "reason", json_object_new_string(e->reason));
    } else if (e->code == code && code == APP_EVALIDATION && e->field[0]) {
        d = json_object_new_object();
        f = json_object_new_object();
        json_object_object_add(f, e->field, json_object_new_string(e->msg));
        json_object_object_add(d, "fields", f);
        return reply_error(req, code, "Some fields are invalid", d);
    }
    return reply_error(req, code, e->msg[0] ? e->msg : NULL, d);
}

void
req_log(const struct request *req, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctx_vlog(&req->ctx, level, fmt, ap);
    va_end(ap);
}
