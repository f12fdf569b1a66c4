#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aws.h"
#include "bedrock.h"
#include "buf.h"
#include "cfg.h"
#include "mem.h"

#define BEDROCK_RESPONSE_MAX (1024 * 1024)
#define BEDROCK_CONNECT_MS 3000
/* A call's path: "/model/", the id with every byte as %XX at worst, "/converse". */
#define BEDROCK_PATH_MAX (7 + 3 * BEDROCK_MODEL_MAX + 10 + 1)

static const struct aws_service bedrock_service = {
    .name = "bedrock",
    .endpoint_label = "bedrock-runtime",
    .answer_max = BEDROCK_RESPONSE_MAX,
    .backoff_base_ms = 50,
    .backoff_cap_ms = 2000,
    .attempt_min_ms = 50,           /* no model answers faster: less left is a timeout */
    .net_code = APP_EUPSTREAM,
    .toolarge_code = APP_EUPSTREAM,
};

struct bedrock {
    struct aws aws;
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

/* The entry of a comma-separated list at p: its first byte in *id and its length in *n,
 * the spaces around it dropped.  Returns the ',' after it, or the list's NUL. */
static const char *
list_entry(const char *p, const char **id, size_t *n)
{
    const char *end = strchr(p, ','), *a, *b;

    if (!end)
        end = p + strlen(p);
    for (a = p; a < end && *a == ' '; a++)
        ;
    for (b = end; b > a && b[-1] == ' '; b--)
        ;
    *id = a;
    *n = (size_t)(b - a);
    return end;
}

int
bedrock_models_ok(const char *list)
{
    const char *p = list, *id;
    size_t n;
    int count;

    for (count = 1; count <= BEDROCK_MODELS_MAX; count++) {
        p = list_entry(p, &id, &n);
        if (!bedrock_model_id_ok(id, n))
            return 0;
        if (!*p++)
            return 1;
    }
    return 0;
}

int
bedrock_model_find(const char *list, const char *want, char out[BEDROCK_MODEL_MAX + 1])
{
    const char *p = list, *id;
    size_t n;

    do {
        p = list_entry(p, &id, &n);
        if (n <= BEDROCK_MODEL_MAX && (!want || (strlen(want) == n && memcmp(want, id, n) == 0))) {
            snprintf(out, BEDROCK_MODEL_MAX + 1, "%.*s", (int)n, id);
            return 0;
        }
    } while (*p++);
    return -1;
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

struct bedrock *
bedrock_new(const struct cfg *cfg, struct creds_provider *creds)
{
    return aws_new(sizeof(struct bedrock), &bedrock_service, cfg, creds,
                   cfg->aws_endpoint_url_bedrock, BEDROCK_CONNECT_MS);
}

void
bedrock_free(struct bedrock *b)
{
    aws_delete(b);
}

int
bedrock_last_attempts(const struct bedrock *b)
{
    return b->aws.last_attempts;
}

void
bedrock_reply_free(struct bedrock_reply *r)
{
    free(r->text);
    memset(r, 0, sizeof(*r));
}

/* The error's type: the x-amzn-ErrorType header ("Type:namespace..." cut at ':'), else the
 * body's "__type" (cut after '#') or "code"; "" when none says. */
static void
error_type(const struct aws_answer *a, char *out, size_t n)
{
    struct json_object *t = NULL;
    const char *v = a->error_type, *cut;

    if (!*v && a->body && (json_object_object_get_ex(a->body, "__type", &t) ||
                           json_object_object_get_ex(a->body, "code", &t)) &&
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
static enum aws_outcome
classify(const struct aws_answer *a, int *code, struct app_error *err)
{
    static const char *const retryable[] = {
        "ThrottlingException", "ModelNotReadyException", "ServiceUnavailableException",
        "InternalServerException", NULL,
    };
    char type[64], msg[120] = "";

    error_type(a, type, sizeof(type));
    if (a->status == 403 || a->status == 404)
        error_message(a->body, msg, sizeof(msg));
    if (strcmp(type, "ModelTimeoutException") == 0 || a->status == 408) {
        *code = app_error_set(err, APP_ETIMEOUT, "bedrock: HTTP %ld %s", a->status, type);
        return AWS_FAIL;
    }
    *code = app_error_set(err, APP_EUPSTREAM, "bedrock: HTTP %ld %s%s%s", a->status,
                          type[0] ? type : "(no type)", msg[0] ? ": " : "", msg);
    return a->status == 429 || a->status >= 500 || aws_type_in(type, retryable) ? AWS_RETRY :
           AWS_FAIL;
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

/* A 200's reply into out (ud); an error answer classified. */
static enum aws_outcome
answer(void *ud, const struct aws_answer *a, int *code, struct app_error *err)
{
    if (a->status != 200)
        return classify(a, code, err);
    *code = read_reply(a->body, ud, err);
    return *code == APP_OK ? AWS_OK : AWS_FAIL;
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
    static const struct sigv4_header h[2] = {
        {"Content-Type", "application/json"}, {"Accept", "application/json"},
    };
    char pathst[BEDROCK_PATH_MAX];
    struct buf path;
    struct aws_call k;
    int rc;

    memset(out, 0, sizeof(*out));
    b->aws.last_attempts = 0;
    if (!model || !bedrock_model_id_ok(model, strlen(model)))
        return app_error_set(err, APP_EINTERNAL, "bedrock: not a model id");
    buf_init_fixed(&path, pathst, sizeof(pathst));
    if (buf_puts(&path, "/model/") != APP_OK ||
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

    k = (struct aws_call){
        .label = model, .path = path.data, .headers = h, .nheaders = 2, .json = req,
        .budget_ms = b->aws.cfg->bedrock_timeout_ms,
        .max_attempts = b->aws.cfg->bedrock_max_attempts, .answer = answer, .ud = out,
    };
    rc = aws_call(&b->aws, &k, NULL, err);
    json_object_put(req);
    if (rc != APP_OK)
        bedrock_reply_free(out);
    return rc;
}
