/*
 * The signed AWS call (lib/aws.c) and the connection under it (lib/http.c): endpoints, the
 * signed headers, and one call's attempts against a scripted stub (stub_bedrock.h: a status,
 * an x-amzn-ErrorType, a delay and a body a reply) with a test service whose answer()
 * records what it was given.  The clients' own rows are in test_ddb.c, test_ssm.c,
 * test_bedrock.c and test_mailer.c.  Every case is one row of a table.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../lib/aws.h"
#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "../../lib/errors.h"
#include "../../lib/http.h"
#include "../../lib/log.h"
#include "stub_bedrock.h"
#include "unit.h"

static void
setup(void)
{
    unit_clean_env();
    log_level_min = LL_CRIT + 1;
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("AWS_REGION", "ap-southeast-2", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void
load(struct cfg *c)
{
    char err[256] = "";

    ck_assert_msg(cfg_load(c, NULL, 0, err, sizeof(err)) == 0, "%s", err);
}

/* --- endpoints ------------------------------------------------------------------------ */

static const struct {
    const char *url;
    int ok;
    const char *origin, *host, *path, *prefix, *own_url;
} endpoints[] = {
    {"http://127.0.0.1:8000", 1, "http://127.0.0.1:8000", "127.0.0.1:8000", "", "",
     "http://127.0.0.1:8000/"},
    {"https://dynamodb.us-east-1.amazonaws.com/", 1, "https://dynamodb.us-east-1.amazonaws.com",
     "dynamodb.us-east-1.amazonaws.com", "/", "", "https://dynamodb.us-east-1.amazonaws.com/"},
    {"http://h:1/proxy/", 1, "http://h:1", "h:1", "/proxy/", "/proxy", "http://h:1/proxy/"},
    {"http://h:1/proxy", 1, "http://h:1", "h:1", "/proxy", "/proxy", "http://h:1/proxy"},
    {"http://[::1]:8000/a//", 1, "http://[::1]:8000", "[::1]:8000", "/a//", "/a",
     "http://[::1]:8000/a//"},
    {"https://h:443", 1, "https://h:443", "h:443", "", "", "https://h:443/"},
    {"ftp://h", 0, NULL, NULL, NULL, NULL, NULL},
    {"h:8000", 0, NULL, NULL, NULL, NULL, NULL},
    {"http://", 0, NULL, NULL, NULL, NULL, NULL},
    {"http:///x", 0, NULL, NULL, NULL, NULL, NULL},
    {"http://h/?x=1", 0, NULL, NULL, NULL, NULL, NULL},
    {"http://h#f", 0, NULL, NULL, NULL, NULL, NULL},
    {"http://user@h", 0, NULL, NULL, NULL, NULL, NULL},
    {"http://h /x", 0, NULL, NULL, NULL, NULL, NULL},
};

START_TEST(test_endpoint_parse)
{
    struct aws_endpoint ep;
    int rc = aws_endpoint_parse(&ep, endpoints[_i].url);

    ck_assert_msg((rc == 0) == endpoints[_i].ok, "%s: %d", endpoints[_i].url, rc);
    if (rc != 0)
        return;
    ck_assert_str_eq(ep.origin, endpoints[_i].origin);
    ck_assert_str_eq(ep.host, endpoints[_i].host);
    ck_assert_str_eq(ep.path, endpoints[_i].path);
    ck_assert_uint_eq(ep.prefix_len, strlen(endpoints[_i].prefix));
    ck_assert_int_eq(strncmp(ep.path, endpoints[_i].prefix, ep.prefix_len), 0);
    ck_assert_str_eq(ep.url, endpoints[_i].own_url);
    ck_assert_int_eq(ep.https, strncmp(endpoints[_i].url, "https:", 6) == 0);
}
END_TEST

/* An authority or a path too long for the endpoint's fields is refused, not cut. */
START_TEST(test_endpoint_too_long)
{
    char url[1024];
    struct aws_endpoint ep;

    snprintf(url, sizeof(url), "http://%0*d", AWS_HOST_MAX, 0);
    ck_assert_int_eq(aws_endpoint_parse(&ep, url), -1);
    snprintf(url, sizeof(url), "http://%0*d", AWS_HOST_MAX - 1, 0);
    ck_assert_int_eq(aws_endpoint_parse(&ep, url), 0);
    snprintf(url, sizeof(url), "http://h/%0*d", AWS_ENDPOINT_PATH_MAX - 1, 0);
    ck_assert_int_eq(aws_endpoint_parse(&ep, url), -1);
    snprintf(url, sizeof(url), "http://h/%0*d", AWS_ENDPOINT_PATH_MAX - 2, 0);
    ck_assert_int_eq(aws_endpoint_parse(&ep, url), 0);
}
END_TEST

static const struct {
    const char *region, *global, *own, *label, *want;
} endpoint_urls[] = {
    {"eu-west-1", "", "", "ssm", "https://ssm.eu-west-1.amazonaws.com"},
    {"cn-north-1", "", "", "dynamodb", "https://dynamodb.cn-north-1.amazonaws.com.cn"},
    {"eu-west-1", "http://localstack:4566", "", "email", "http://localstack:4566"},
    {"eu-west-1", "http://localstack:4566", "http://127.0.0.1:8000", "dynamodb",
     "http://127.0.0.1:8000"},
    {"eu-west-1", "", "http://127.0.0.1:8000", "dynamodb", "http://127.0.0.1:8000"},
};

START_TEST(test_endpoint_url)
{
    char tmp[128];
    struct cfg c;

    setenv("AWS_REGION", endpoint_urls[_i].region, 1);
    setenv("AWS_ENDPOINT_URL", endpoint_urls[_i].global, 1);
    load(&c);
    ck_assert_str_eq(aws_endpoint_url(&c, endpoint_urls[_i].own, endpoint_urls[_i].label, tmp,
                                      sizeof(tmp)), endpoint_urls[_i].want);
    cfg_free(&c);
}
END_TEST

/* --- the signed headers ------------------------------------------------------------------ */

static const struct sigv4_header json_ctype[1] = {{"Content-Type", "application/json"}};
static const struct sigv4_header owned[1] = {{"Authorization", "mine"}};
static const struct sigv4_header many[9] = {
    {"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}, {"E", "5"}, {"F", "6"}, {"G", "7"},
    {"H", "8"}, {"I", "9"},
};

static const struct {
    const char *name;
    const char *method, *service, *body, *token;
    const struct sigv4_header *headers;
    size_t nheaders;
    int rc;
    const char *lines;              /* each header's name (or whole line) in order, '|' apart */
} signs[] = {
    {"a JSON POST", "POST", "ssm", "{}", NULL, json_ctype, 1, APP_OK,
     "Host: s.example:8000|Content-Type: application/json|X-Amz-Date|Authorization|Expect:"},
    {"with a session token", "POST", "dynamodb", "{}", "tok-1", json_ctype, 1, APP_OK,
     "Host: s.example:8000|Content-Type: application/json|X-Amz-Date|Authorization|"
     "X-Amz-Security-Token: tok-1|Expect:"},
    {"S3's HEAD: the payload hash, no Expect", "HEAD", "s3", NULL, NULL, NULL, 0, APP_OK,
     "Host: s.example:8000|X-Amz-Date|X-Amz-Content-Sha256: " SIGV4_EMPTY_SHA256 "|"
     "Authorization"},
    {"a header the signer owns", "POST", "ssm", "{}", NULL, owned, 1, APP_EINTERNAL,
     "ssm: cannot sign the request"},
    {"more headers than fit", "POST", "ssm", "{}", "tok-2", many, 9, APP_ENOMEM,
     "ssm: the request's headers are too long"},
};

START_TEST(test_sign)
{
    struct creds_provider *creds;
    struct sigv4_request r;
    struct app_error err;
    struct aws_headers h;
    struct curl_slist *l;
    char got[8192] = "", want[1024], *w, *next;
    struct cfg c;
    int rc;

    if (signs[_i].token)
        setenv("AWS_SESSION_TOKEN", signs[_i].token, 1);
    load(&c);
    creds = creds_new(&c);
    memset(&r, 0, sizeof(r));
    r.method = signs[_i].method;
    r.host = "s.example:8000";
    r.path = "/";
    r.headers = signs[_i].headers;
    r.nheaders = signs[_i].nheaders;
    r.payload = signs[_i].body;
    r.payload_len = signs[_i].body ? strlen(signs[_i].body) : 0;
    r.region = "ap-southeast-2";
    r.service = signs[_i].service;
    app_error_clear(&err);
    rc = aws_sign(&h, &r, creds, &err);
    ck_assert_msg(rc == signs[_i].rc, "%s: rc %d (%s)", signs[_i].name, rc, err.msg);
    if (rc != APP_OK) {
        ck_assert_ptr_null(h.list);
        ck_assert_str_eq(err.msg, signs[_i].lines);
    } else {
        ck_assert_msg(r.now > 0, "%s: no time", signs[_i].name);
        for (l = h.list; l; l = l->next)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", l->data,
                     l->next ? "\n" : "");
        snprintf(want, sizeof(want), "%s", signs[_i].lines);
        for (w = want, l = h.list; w; w = next, l = l ? l->next : NULL) {
            next = strchr(w, '|');
            if (next)
                *next++ = '\0';
            ck_assert_msg(l && strncmp(l->data, w, strlen(w)) == 0, "%s: %s in\n%s",
                          signs[_i].name, w, got);
        }
        ck_assert_msg(!l, "%s: more headers than %s:\n%s", signs[_i].name, signs[_i].lines,
                      got);
        ck_assert_ptr_nonnull(strstr(got, "/ap-southeast-2/"));
    }
    creds_free(creds);
    cfg_free(&c);
}
END_TEST

/* No credentials at all: creds_get's code and detail, nothing signed. */
START_TEST(test_sign_without_credentials)
{
    struct creds_provider *creds;
    struct sigv4_request r;
    struct app_error err;
    struct aws_headers h;
    struct cfg c;

    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    load(&c);
    creds = creds_new(&c);
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.host = "h";
    r.path = "/";
    r.region = "ap-southeast-2";
    r.service = "ssm";
    app_error_clear(&err);
    ck_assert_int_eq(aws_sign(&h, &r, creds, &err), APP_EUNAVAILABLE);
    ck_assert_ptr_null(h.list);
    ck_assert_msg(err.msg[0] && !strstr(err.msg, "cannot sign"), "%s", err.msg);
    creds_free(creds);
    cfg_free(&c);
}
END_TEST

/* --- a call's attempts ------------------------------------------------------------------ */

/* What the test service's answer() was given, reply by reply. */
static char seen[512];

static enum aws_outcome
answer(void *ud, const struct aws_answer *a, int *code, struct app_error *err)
{
    (void)ud;
    snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%ld %s %s",
             seen[0] ? "|" : "", a->status, a->error_type[0] ? a->error_type : "-",
             a->body ? "json" : "-");
    if (a->status == 200 && a->body) {
        *code = APP_OK;
        return AWS_OK;
    }
    if (a->status == 200 || a->status >= 500) {
        *code = app_error_set(err, APP_EUNAVAILABLE, "test: HTTP %ld %s", a->status,
                              a->error_type);
        return AWS_RETRY;
    }
    *code = app_error_set(err, APP_EINTERNAL, "test: HTTP %ld refused", a->status);
    return AWS_FAIL;
}

static const struct aws_service test_service = {
    .name = "test",
    .endpoint_label = "test",
    .answer_max = 64,
    .backoff_base_ms = 5,
    .backoff_cap_ms = 20,
    .attempt_min_ms = 20,
    .net_code = APP_EUPSTREAM,
    .toolarge_code = APP_ETOOLARGE,
};

#define BIG "{\"pad\":\"0123456789012345678901234567890123456789012345678901234567890\"}"

static const struct {
    const char *name;
    struct stub_bedrock_reply script[3];
    size_t nscript;
    const char *label, *path;       /* of the call */
    long budget_ms;
    int rc, attempts;
    const char *seen;               /* what answer() was given */
    const char *detail;             /* err.msg, or its start when it ends in '*' */
    const char *out;                /* *out afterwards, as JSON; NULL: none */
} calls[] = {
    {"answered", {{200, NULL, 0, "{\"a\":1}"}}, 1, "Op", NULL, 1000, APP_OK, 1, "200 - json",
     "", "{\"a\":1}"},
    {"5xx, then answered", {{503, "Busy", 0, "{}"}, {200, NULL, 0, "{\"a\":2}"}}, 2, "Op",
     NULL, 1000, APP_OK, 2, "503 Busy json|200 - json", "", "{\"a\":2}"},
    {"5xx to the end, the type as sent", {{500, "T:http://x/", 0, "{}"},
                                          {500, "T:http://x/", 0, NULL},
                                          {502, NULL, 0, "<html>"}}, 3, "Op", NULL, 1000,
     APP_EUNAVAILABLE, 3, "500 T:http://x/ json|500 T:http://x/ json|502 - -",
     "test: HTTP 502  (Op, attempt 3)", NULL},
    {"refused: not retried", {{400, "Bad", 0, "{\"m\":1}"}}, 1, "Op", NULL, 1000,
     APP_EINTERNAL, 1, "400 Bad json", "test: HTTP 400 refused (Op, attempt 1)", "{\"m\":1}"},
    {"no label", {{400, NULL, 0, "{}"}}, 1, NULL, NULL, 1000, APP_EINTERNAL, 1, "400 - json",
     "test: HTTP 400 refused (attempt 1)", "{}"},
    {"an answer over the ceiling: not retried", {{200, NULL, 0, BIG}}, 1, "Op", NULL, 1000,
     APP_ETOOLARGE, 1, "", "test: an answer over 64 bytes (Op, attempt 1)", NULL},
    {"no answer in time", {{200, NULL, 1500, "{}"}, {200, NULL, 1500, "{}"}}, 2, "Op", NULL,
     200, APP_ETIMEOUT, 1, "", "test: Op gave no answer within 200 ms", NULL},
    {"no answer in time, no label", {{200, NULL, 1500, "{}"}, {200, NULL, 1500, "{}"}}, 2,
     NULL, NULL, 200, APP_ETIMEOUT, 1, "", "test: no answer within 200 ms", NULL},
    {"a budget below an attempt's least", {{200, NULL, 0, "{}"}}, 1, "Op", NULL, 10,
     APP_ETIMEOUT, 0, "", "test: Op gave no answer within 10 ms", NULL},
    {"a path under the endpoint's", {{200, NULL, 0, "{}"}}, 1, "Op", "/model/m%3A1/converse",
     1000, APP_OK, 1, "200 - json", "", "{}"},
};

START_TEST(test_call)
{
    const struct sigv4_header h[1] = {{"X-Amz-Target", "Test.Op"}};
    struct json_object *out = NULL;
    struct creds_provider *creds;
    struct app_error err;
    struct aws_call k;
    struct stub st;
    struct cfg c;
    struct aws a;
    char base[128], line[256];
    size_t n;
    int fd, w, rc;

    if (stub_fork(&st, &fd, &w)) {
        stub_bedrock_serve(fd, w, calls[_i].script, calls[_i].nscript);
        _exit(0);
    }
    load(&c);
    creds = creds_new(&c);
    snprintf(base, sizeof(base), "%s/pre/", st.base);
    ck_assert_int_eq(aws_init(&a, &test_service, &c, creds, base, 100), 0);
    memset(&k, 0, sizeof(k));
    k.label = calls[_i].label;
    k.path = calls[_i].path;
    k.headers = h;
    k.nheaders = 1;
    k.body = "{\"q\":1}";
    k.body_len = strlen(k.body);
    k.budget_ms = calls[_i].budget_ms;
    k.max_attempts = 3;
    k.answer = answer;
    seen[0] = '\0';
    app_error_clear(&err);
    rc = aws_call(&a, &k, &out, &err);
    ck_assert_msg(rc == calls[_i].rc, "%s: rc %d (%s)", calls[_i].name, rc, err.msg);
    ck_assert_msg(a.last_attempts == calls[_i].attempts, "%s: %d attempts", calls[_i].name,
                  a.last_attempts);
    ck_assert_msg(strcmp(seen, calls[_i].seen) == 0, "%s: seen %s", calls[_i].name, seen);
    n = strlen(calls[_i].detail);
    if (n && calls[_i].detail[n - 1] == '*')
        ck_assert_msg(strncmp(err.msg, calls[_i].detail, n - 1) == 0, "%s: %s",
                      calls[_i].name, err.msg);
    else
        ck_assert_msg(strcmp(err.msg, calls[_i].detail) == 0, "%s: %s", calls[_i].name,
                      err.msg);
    if (calls[_i].out)
        ck_assert_msg(out && strcmp(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN),
                                    calls[_i].out) == 0, "%s: out %s", calls[_i].name,
                      out ? json_object_to_json_string(out) : "-");
    else
        ck_assert_msg(!out, "%s: out %s", calls[_i].name, json_object_to_json_string(out));
    json_object_put(out);
    aws_free(&a);
    creds_free(creds);
    stub_stop(&st);
    ck_assert_msg(st.nseen >= (size_t)calls[_i].attempts, "%s: %zu requests", calls[_i].name,
                  st.nseen);
    if (st.nseen > 0) {
        snprintf(line, sizeof(line), "POST /pre%s HTTP/1.1\r\n",
                 calls[_i].path ? calls[_i].path : "/");
        ck_assert_msg(strncmp(st.seen[0], line, strlen(line)) == 0, "%s: %.80s",
                      calls[_i].name, st.seen[0]);
        ck_assert_ptr_nonnull(strstr(st.seen[0], "\r\nX-Amz-Target: Test.Op\r\n"));
        ck_assert_ptr_nonnull(strstr(st.seen[0], "/ap-southeast-2/test/aws4_request, "
                                     "SignedHeaders=host;x-amz-date;x-amz-target,"));
        ck_assert_ptr_null(strstr(st.seen[0], "Expect:"));
        ck_assert_str_eq(stub_body(st.seen[0]), "{\"q\":1}");
    }
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* Nothing listens: the service's net_code, retried up to max_attempts. */
START_TEST(test_unreachable)
{
    struct creds_provider *creds;
    struct app_error err;
    struct aws_call k;
    struct cfg c;
    struct aws a;
    char base[64];
    int fd;

    fd = unit_listen_loopback(base, sizeof(base));
    close(fd);
    load(&c);
    creds = creds_new(&c);
    ck_assert_int_eq(aws_init(&a, &test_service, &c, creds, base, 100), 0);
    memset(&k, 0, sizeof(k));
    k.json = json_object_new_object();
    k.budget_ms = 2000;
    k.max_attempts = 3;
    k.answer = answer;
    seen[0] = '\0';
    app_error_clear(&err);
    ck_assert_int_eq(aws_call(&a, &k, NULL, &err), APP_EUPSTREAM);
    ck_assert_int_eq(a.last_attempts, 3);
    ck_assert_str_eq(seen, "");
    ck_assert_msg(strncmp(err.msg, "test: ", 6) == 0 && strstr(err.msg, " (attempt 3)"), "%s",
                  err.msg);
    json_object_put(k.json);
    aws_free(&a);
    creds_free(creds);
    cfg_free(&c);
}
END_TEST

/* An endpoint that cannot be used makes no client (and aws_new frees what it made). */
START_TEST(test_new_refuses_an_unusable_endpoint)
{
    struct creds_provider *creds;
    struct unit_capture cap;
    struct cfg c;
    char *log;
    void *p;

    load(&c);
    creds = creds_new(&c);
    log_level_min = LL_ERROR;
    unit_capture_start(&cap);
    p = aws_new(sizeof(struct aws) + 8, &test_service, &c, creds, "http://user@h", 100);
    log = unit_capture_end(&cap);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(log, "test: cannot use endpoint http://user@h"), "%s", log);
    free(log);
    p = aws_new(sizeof(struct aws) + 8, &test_service, &c, creds, "http://h:1", 100);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(((struct aws *)p)->ep.url, "http://h:1/");
    aws_delete(p);
    aws_delete(NULL);
    creds_free(creds);
    cfg_free(&c);
}
END_TEST

/* --- the back-off ---------------------------------------------------------------------- */

static const struct {
    long base, cap;
    int k;
    long most;                      /* the largest pause it may draw */
} backoffs[] = {
    {25, 1000, 1, 50}, {25, 1000, 3, 200}, {25, 1000, 6, 1000}, {25, 1000, 40, 1000},
    {500, 2000, 0, 500}, {500, 2000, 1, 1000}, {500, 2000, 9, 2000}, {50, 2000, -1, 50},
};

START_TEST(test_backoff)
{
    struct http_conn c;
    long d, top = 0;
    int i;

    ck_assert_int_eq(http_conn_init(&c, 16), 0);
    for (i = 0; i < 2000; i++) {
        d = http_backoff_ms(&c, backoffs[_i].base, backoffs[_i].cap, backoffs[_i].k);
        ck_assert_msg(d >= 0 && d <= backoffs[_i].most, "%ld", d);
        if (d > top)
            top = d;
    }
    ck_assert_msg(top > backoffs[_i].most / 2, "never above %ld", top);   /* full jitter */
    http_conn_free(&c);
}
END_TEST

static Suite *
aws_suite(void)
{
    Suite *s = suite_create("aws");
    TCase *tc = tcase_create("aws");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_endpoint_parse, 0, sizeof(endpoints) / sizeof(endpoints[0]));
    tcase_add_test(tc, test_endpoint_too_long);
    tcase_add_loop_test(tc, test_endpoint_url, 0,
                        sizeof(endpoint_urls) / sizeof(endpoint_urls[0]));
    tcase_add_loop_test(tc, test_sign, 0, sizeof(signs) / sizeof(signs[0]));
    tcase_add_test(tc, test_sign_without_credentials);
    tcase_add_loop_test(tc, test_call, 0, sizeof(calls) / sizeof(calls[0]));
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_new_refuses_an_unusable_endpoint);
    tcase_add_loop_test(tc, test_backoff, 0, sizeof(backoffs) / sizeof(backoffs[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(aws_suite)
