#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "aws.h"
#include "buf.h"
#include "cfg.h"
#include "cfg_ssm.h"
#include "creds.h"
#include "log.h"
#include "ssm.h"

#define SSM_TARGET "AmazonSSM.GetParameter"
#define SSM_CONTENT_TYPE "application/x-amz-json-1.1"

static const struct aws_service ssm_service = {
    .name = "ssm",
    .endpoint_label = "ssm",
    .answer_max = 64 * 1024,        /* a value (8 KB at most) and its metadata */
    .backoff_base_ms = 50,
    .backoff_cap_ms = 1000,
    .attempt_min_ms = 1,
    .net_code = APP_EUNAVAILABLE,
    .toolarge_code = APP_EUPSTREAM,
    .secret = 1,                    /* the answers are the secrets */
};

struct ssm {
    struct aws aws;
};

struct ssm *
ssm_new(const struct cfg *cfg, struct creds_provider *creds)
{
    return aws_new(sizeof(struct ssm), &ssm_service, cfg, creds, cfg->aws_endpoint_url_ssm,
                   cfg->ssm_timeout_ms / SSM_MAX_ATTEMPTS);
}

void
ssm_free(struct ssm *s)
{
    aws_delete(s);
}

int
ssm_last_attempts(const struct ssm *s)
{
    return s->aws.last_attempts;
}

/* "com.amazonaws.ssm#ParameterNotFound" or "ParameterNotFound:http://..." → the bare name,
 * copied into out with anything but [A-Za-z0-9._] dropped. */
static void
bare_type(char *out, size_t outlen, const char *t)
{
    const char *h = strrchr(t, '#');
    size_t n = 0;

    for (t = h ? h + 1 : t; *t && *t != ':' && n + 1 < outlen; t++) {
        if ((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
            *t == '.' || *t == '_')
            out[n++] = *t;
    }
    out[n] = '\0';
}

/* The error's message for our log: one line, printable, bounded. */
static void
clean_message(char *out, size_t outlen, const char *m)
{
    size_t n = 0;

    for (; m && *m && n + 1 < outlen; m++)
        out[n++] = (unsigned char)*m < 0x20 || *m == 0x7f ? ' ' : *m;
    out[n] = '\0';
}

/* Classify an error answer: the code for the caller, and whether to try again. */
static enum aws_outcome
classify(const struct aws_answer *a, int *code, struct app_error *err)
{
    static const char *const retryable[] = {
        "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
        "InternalServerError", "ServiceUnavailable", NULL,
    };
    static const char *const missing[] = {
        "ParameterNotFound", "ParameterVersionNotFound", NULL,
    };
    static const char *const auth[] = {
        "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
        "MissingAuthenticationTokenException", "ExpiredTokenException",
        "InvalidClientTokenId", "SignatureDoesNotMatch", NULL,
    };
    struct json_object *t = NULL, *m = NULL;
    char type[96], msg[160];

    bare_type(type, sizeof(type), a->error_type);
    if (a->body && json_object_object_get_ex(a->body, "__type", &t))
        bare_type(type, sizeof(type), json_object_get_string(t));
    if (!type[0])
        snprintf(type, sizeof(type), "UnknownError");
    if (a->body && (json_object_object_get_ex(a->body, "message", &m) ||
                    json_object_object_get_ex(a->body, "Message", &m)))
        clean_message(msg, sizeof(msg), json_object_get_string(m));
    else
        msg[0] = '\0';

    if (a->status >= 500 || aws_type_in(type, retryable)) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "ssm: HTTP %ld %s", a->status, type);
        return AWS_RETRY;
    }
    if (aws_type_in(type, missing)) {
        *code = app_error_set(err, APP_ENOTFOUND, "not found (%s)", type);
        return AWS_FAIL;
    }
    if (strcmp(type, "AccessDeniedException") == 0) {
        *code = app_error_set(err, APP_EFORBIDDEN, "access denied (%s%s%s)", type,
                              msg[0] ? ": " : "", msg);
        return AWS_FAIL;
    }
    if (aws_type_in(type, auth)) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "credentials refused (%s%s%s)", type,
                              msg[0] ? ": " : "", msg);
        return AWS_FAIL;
    }
    *code = app_error_set(err, APP_EUPSTREAM, "ssm: HTTP %ld %s%s%s", a->status, type,
                          msg[0] ? ": " : "", msg);
    return AWS_FAIL;
}

/* The value of a 200 answer into out (ud); an error answer classified. */
static enum aws_outcome
answer(void *ud, const struct aws_answer *a, int *code, struct app_error *err)
{
    struct json_object *body = a->body, *p, *v;
    struct buf *out = ud;
    size_t len;

    if (a->status != 200)
        return classify(a, code, err);
    if (!body) {
        *code = app_error_set(err, APP_EUPSTREAM, "ssm: unreadable answer (not JSON)");
        return AWS_RETRY;
    }
    if (!json_object_object_get_ex(body, "Parameter", &p) ||
        !json_object_object_get_ex(p, "Value", &v) || !json_object_is_type(v, json_type_string)) {
        *code = app_error_set(err, APP_EUPSTREAM, "ssm: answer without Parameter.Value");
        return AWS_FAIL;
    }
    len = (size_t)json_object_get_string_len(v);
    if (len > out->max - out->len) {
        *code = app_error_set(err, APP_ETOOLARGE, "the value is longer than %zu bytes",
                              out->max);
    } else {
        *code = buf_append(out, json_object_get_string(v), len);
    }
    /* json-c's copy of the value goes back to the allocator wiped. */
    OPENSSL_cleanse((char *)json_object_get_string(v), len);
    return *code == APP_OK ? AWS_OK : AWS_FAIL;
}

int
ssm_get_parameter(struct buf *out, struct ssm *s, const char *name, struct app_error *err)
{
    static const struct sigv4_header h[2] = {
        {"Content-Type", SSM_CONTENT_TYPE}, {"X-Amz-Target", SSM_TARGET},
    };
    struct json_object *req = json_object_new_object();
    const struct aws_call k = {
        .headers = h, .nheaders = 2, .json = req, .budget_ms = s->aws.cfg->ssm_timeout_ms,
        .max_attempts = SSM_MAX_ATTEMPTS, .answer = answer, .ud = out,
    };
    int rc;

    json_object_object_add(req, "Name", json_object_new_string(name));
    json_object_object_add(req, "WithDecryption", json_object_new_boolean(1));
    rc = aws_call(&s->aws, &k, NULL, err);
    json_object_put(req);
    return rc;
}

static int
fetch(struct buf *out, const char *param, void *ud, struct app_error *err)
{
    return ssm_get_parameter(out, ud, param, err);
}

int
ssm_resolve_cfg(struct cfg *c, char *err, size_t errlen)
{
    struct creds_provider *creds;
    struct ssm *s;
    struct buf names;
    size_t i;
    int rc;

    if (c->nssm == 0)
        return APP_OK;
    creds = creds_new(c);
    s = ssm_new(c, creds);
    if (!s) {
        creds_free(creds);
        snprintf(err, errlen, "cannot make the SSM Parameter Store client");
        return APP_EINTERNAL;
    }
    rc = cfg_resolve_ssm(c, fetch, s, err, errlen);
    ssm_free(s);
    creds_free(creds);
    if (rc != APP_OK)
        return rc;
    buf_init(&names, 4096);
    for (i = 0; i < c->nssm; i++)
        buf_printf(&names, "%s%s", i ? " " : "", c->ssm[i].setting);
    log_msg(LL_INFO, "read %zu secret(s) from SSM Parameter Store: %s", c->nssm,
            names.data ? names.data : "");
    buf_free(&names);
    return APP_OK;
}
