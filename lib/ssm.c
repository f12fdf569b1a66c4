#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "cfg.h"
#include "cfg_ssm.h"
#include "creds.h"
#include "ids.h"
#include "log.h"
#include "mem.h"
#include "sigv4.h"
#include "ssm.h"

#define SSM_RESPONSE_MAX (64 * 1024)   /* a value (8 KB at most) and its metadata */
#define SSM_TARGET "AmazonSSM.GetParameter"
#define SSM_CONTENT_TYPE "application/x-amz-json-1.1"
#define BACKOFF_BASE_MS 50
#define BACKOFF_CAP_MS 1000

struct ssm {
    CURL *curl;
    const struct cfg *cfg;
    struct creds_provider *creds;
    char url[512];
    char host[256];                 /* Host header: host[:port] */
    char path[256];                 /* path of the endpoint, "/" */
    char errbuf[CURL_ERROR_SIZE];
    char errtype[128];              /* x-amzn-ErrorType of the last answer */
    struct buf resp;
    unsigned seed;
    int last_attempts;
};

/* What one attempt came to. */
enum outcome { O_OK, O_RETRY, O_FAIL };

static int
parse_endpoint(struct ssm *s, const char *url)
{
    const char *p = strstr(url, "://"), *slash;

    if (!p || strlen(url) >= sizeof(s->url))
        return -1;
    p += 3;
    slash = strchr(p, '/');
    snprintf(s->url, sizeof(s->url), "%s", url);
    snprintf(s->host, sizeof(s->host), "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
    snprintf(s->path, sizeof(s->path), "%s", slash ? slash : "/");
    return s->host[0] ? 0 : -1;
}

struct ssm *
ssm_new(const struct cfg *cfg, struct creds_provider *creds)
{
    struct ssm *s = xcalloc(1, sizeof(*s));
    char tmp[256];
    const char *url = *cfg->aws_endpoint_url_ssm ? cfg->aws_endpoint_url_ssm :
                      *cfg->aws_endpoint_url ? cfg->aws_endpoint_url : NULL;

    if (!url) {
        snprintf(tmp, sizeof(tmp), "https://ssm.%s.amazonaws.com", cfg_region(cfg));
        url = tmp;
    }
    s->cfg = cfg;
    s->creds = creds;
    if (parse_endpoint(s, url) != 0) {
        log_msg(LL_ERROR, "ssm: cannot use endpoint %s", url);
        free(s);
        return NULL;
    }
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return NULL;
    }
    buf_init(&s->resp, SSM_RESPONSE_MAX);
    s->seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    return s;
}

static void
wipe_resp(struct ssm *s)
{
    if (s->resp.data)
        OPENSSL_cleanse(s->resp.data, s->resp.cap);
    buf_reset(&s->resp);
}

void
ssm_free(struct ssm *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->curl);
    wipe_resp(s);
    buf_free(&s->resp);
    free(s);
}

int
ssm_last_attempts(const struct ssm *s)
{
    return s->last_attempts;
}

/* Keep the x-amzn-ErrorType header: some answers carry their error type only there. */
static size_t
header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct ssm *s = ud;
    size_t len = size * n, k = sizeof("x-amzn-ErrorType:") - 1;

    if (len > k && strncasecmp(p, "x-amzn-ErrorType:", k) == 0) {
        const char *v = p + k;
        size_t vl = len - k;

        while (vl > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        snprintf(s->errtype, sizeof(s->errtype), "%.*s", (int)vl, v);
    }
    return len;
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

static int
type_in(const char *type, const char *const *list)
{
    size_t i;

    for (i = 0; list[i]; i++) {
        if (strcmp(type, list[i]) == 0)
            return 1;
    }
    return 0;
}

/* Classify an error answer: the code for the caller, and whether to try again. */
static enum outcome
classify(struct ssm *s, long status, struct json_object *body, int *code,
         struct app_error *err)
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

    bare_type(type, sizeof(type), s->errtype);
    if (body && json_object_object_get_ex(body, "__type", &t))
        bare_type(type, sizeof(type), json_object_get_string(t));
    if (!type[0])
        snprintf(type, sizeof(type), "UnknownError");
    if (body && (json_object_object_get_ex(body, "message", &m) ||
                 json_object_object_get_ex(body, "Message", &m)))
        clean_message(msg, sizeof(msg), json_object_get_string(m));
    else
        msg[0] = '\0';

    if (status >= 500 || type_in(type, retryable)) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "ssm: HTTP %ld %s", status, type);
        return O_RETRY;
    }
    if (type_in(type, missing)) {
        *code = app_error_set(err, APP_ENOTFOUND, "not found (%s)", type);
        return O_FAIL;
    }
    if (strcmp(type, "AccessDeniedException") == 0) {
        *code = app_error_set(err, APP_EFORBIDDEN, "access denied (%s%s%s)", type,
                              msg[0] ? ": " : "", msg);
        return O_FAIL;
    }
    if (type_in(type, auth)) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "credentials refused (%s%s%s)", type,
                              msg[0] ? ": " : "", msg);
        return O_FAIL;
    }
    *code = app_error_set(err, APP_EUPSTREAM, "ssm: HTTP %ld %s%s%s", status, type,
                          msg[0] ? ": " : "", msg);
    return O_FAIL;
}

/* The value of a 200 answer into out. */
static enum outcome
take_value(struct buf *out, struct json_object *body, int *code, struct app_error *err)
{
    struct json_object *p, *v;
    size_t len;

    if (!body) {
        *code = app_error_set(err, APP_EUPSTREAM, "ssm: unreadable answer (not JSON)");
        return O_RETRY;
    }
    if (!json_object_object_get_ex(body, "Parameter", &p) ||
        !json_object_object_get_ex(p, "Value", &v) || !json_object_is_type(v, json_type_string)) {
        *code = app_error_set(err, APP_EUPSTREAM, "ssm: answer without Parameter.Value");
        return O_FAIL;
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
    return *code == APP_OK ? O_OK : O_FAIL;
}

static struct curl_slist *
headers(const struct sigv4_signed *sig, const struct aws_creds *c)
{
    struct curl_slist *h = NULL;
    char line[1200];
    struct buf tok;

    h = curl_slist_append(h, "Content-Type: " SSM_CONTENT_TYPE);
    h = curl_slist_append(h, "X-Amz-Target: " SSM_TARGET);
    snprintf(line, sizeof(line), "X-Amz-Date: %s", sig->amz_date);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "Authorization: %s", sig->authorization);
    h = curl_slist_append(h, line);
    if (c->session_token[0]) {
        buf_init(&tok, sizeof(c->session_token) + 32);
        buf_printf(&tok, "X-Amz-Security-Token: %s", c->session_token);
        h = curl_slist_append(h, tok.data);
        buf_free(&tok);
    }
    return curl_slist_append(h, "Expect:");     /* unsigned; never wait for 100-continue */
}

static enum outcome
attempt(struct ssm *s, const char *body, long left_ms, struct buf *out, int *code,
        struct app_error *err)
{
    const struct aws_creds *c = NULL;
    struct sigv4_header sh[2] = {
        {"Content-Type", SSM_CONTENT_TYPE}, {"X-Amz-Target", SSM_TARGET},
    };
    struct sigv4_request sr;
    struct sigv4_creds sc;
    struct sigv4_signed sig;
    struct curl_slist *h;
    struct json_object *answer;
    long status = 0, connect_ms = s->cfg->ssm_timeout_ms / SSM_MAX_ATTEMPTS;
    enum outcome o;
    CURLcode cc;

    *code = creds_get(s->creds, time(NULL), &c, err);
    if (*code != APP_OK)
        return O_FAIL;
    memset(&sr, 0, sizeof(sr));
    sr.method = "POST";
    sr.host = s->host;
    sr.path = s->path;
    sr.headers = sh;
    sr.nheaders = 2;
    sr.payload = body;
    sr.payload_len = strlen(body);
    sr.region = cfg_region(s->cfg);
    sr.service = "ssm";
    sr.now = time(NULL);
    sc.access_key = c->access_key;
    sc.secret_key = c->secret_key;
    sc.session_token = c->session_token;
    *code = sigv4_sign(&sr, &sc, &sig);
    if (*code != APP_OK) {
        app_error_set(err, *code, "ssm: cannot sign the request");
        return O_FAIL;
    }

    h = headers(&sig, c);
    wipe_resp(s);
    s->errtype[0] = '\0';
    curl_easy_reset(s->curl);
    curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
    curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)sr.payload_len);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     connect_ms < left_ms ? connect_ms : left_ms);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, left_ms);
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, s);
    s->errbuf[0] = '\0';

    cc = curl_easy_perform(s->curl);
    curl_slist_free_all(h);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        *code = app_error_set(err, APP_ETIMEOUT, "ssm: no answer within %ld ms", left_ms);
        return O_RETRY;
    }
    if (cc == CURLE_WRITE_ERROR) {
        *code = app_error_set(err, APP_EUPSTREAM, "ssm: answer over %d bytes",
                              SSM_RESPONSE_MAX);
        return O_FAIL;
    }
    if (cc != CURLE_OK) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "ssm: %s",
                              s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc));
        return O_RETRY;
    }
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    answer = s->resp.len ? json_tokener_parse(s->resp.data) : NULL;
    if (status == 200)
        o = take_value(out, answer, code, err);
    else
        o = classify(s, status, answer, code, err);
    json_object_put(answer);
    wipe_resp(s);
    return o;
}

int
ssm_get_parameter(struct buf *out, struct ssm *s, const char *name, struct app_error *err)
{
    struct json_object *req = json_object_new_object();
    long budget = s->cfg->ssm_timeout_ms, deadline = clock_ms() + budget;
    const char *body;
    int code = APP_EUNAVAILABLE, n;

    json_object_object_add(req, "Name", json_object_new_string(name));
    json_object_object_add(req, "WithDecryption", json_object_new_boolean(1));
    body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    s->last_attempts = 0;
    for (n = 1;; n++) {
        struct app_error e;
        enum outcome o;
        long left = deadline - clock_ms(), cap, delay;

        if (left <= 0) {
            code = app_error_set(err, APP_ETIMEOUT, "ssm: no answer within %ld ms", budget);
            break;
        }
        app_error_clear(&e);
        o = attempt(s, body, left, out, &code, &e);
        s->last_attempts = n;
        if (o == O_OK)
            break;
        if (o == O_FAIL || n >= SSM_MAX_ATTEMPTS) {
            app_error_set(err, code, "%s (attempt %d)", e.msg, n);
            break;
        }
        cap = BACKOFF_BASE_MS << (n > 6 ? 6 : n);
        if (cap > BACKOFF_CAP_MS)
            cap = BACKOFF_CAP_MS;
        delay = (long)(rand_r(&s->seed) % (unsigned)(cap + 1));
        left = deadline - clock_ms();
        if (delay >= left)
            delay = left > 1 ? left - 1 : 0;
        LOG(LL_DEBUG, "ssm GetParameter: %s; retrying in %ld ms", e.msg, delay);
        if (delay > 0)
            usleep((useconds_t)delay * 1000);
    }
    json_object_put(req);
    return code;
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
