/*
 * The Bedrock Runtime client (lib/bedrock.c) against a scripted stub (stub_bedrock.h): what
 * it sends (the path with the model id encoded, the SigV4 scope, the Converse body), how it
 * reads an answer, and which failures it retries and how it reports them.  One case per row.
 * The signature itself is checked against botocore by t/sigv4/crosscheck.py and, end to end,
 * by the SigV4-verifying front before the Bedrock stand-in (t/e2e/test_ai.py).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/bedrock.h"
#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "stub_bedrock.h"
#include "unit.h"

#define HAIKU "anthropic.claude-3-haiku-20240307-v1:0"
#define OK_BODY STUB_CONVERSE("Hello", 12, 5, 17)
#define TWO_BLOCKS \
    "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"Hello, \"}," \
    "{\"image\":{}},{\"text\":\"world\"}]}},\"stopReason\":\"max_tokens\"," \
    "\"usage\":{\"inputTokens\":3,\"outputTokens\":4},\"metrics\":{\"latencyMs\":321}}"
#define MSG(m) "{\"message\":\"" m "\"}"

static const struct {
    const char *name;
    const char *model;
    const char *prefix;               /* of the endpoint */
    struct stub_bedrock_reply script[4];
    size_t nscript;
    int rc;
    int attempts;
    const char *text;                 /* answered, when rc is APP_OK */
    long long in, out, total, latency;
    const char *stop;
    const char *path;                 /* the request line's path */
    const char *in_err;               /* in err.msg, when rc is not APP_OK */
} cases[] = {
    {"an answer", HAIKU, "", {{200, NULL, 0, OK_BODY}}, 1, APP_OK, 1, "Hello", 12, 5, 17, 42,
     "end_turn", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", NULL},
    {"text blocks joined, other blocks skipped, no totalTokens", HAIKU, "",
     {{200, NULL, 0, TWO_BLOCKS}}, 1, APP_OK, 1, "Hello, world", 3, 4, 7, 321, "max_tokens",
     NULL, NULL},
    {"an ARN: ':' and '/' encoded, behind a path prefix",
     "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-v1:0",
     "/proxy/", {{200, NULL, 0, OK_BODY}}, 1, APP_OK, 1, "Hello", 12, 5, 17, 42, "end_turn",
     "/proxy/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
     "us.anthropic.claude-v1%3A0/converse", NULL},
    {"throttled, then answered", HAIKU, "",
     {{429, "ThrottlingException", 0, MSG("Too many requests")}, {200, NULL, 0, OK_BODY}}, 2,
     APP_OK, 2, "Hello", 12, 5, 17, 42, "end_turn", NULL, NULL},
    {"model not ready (type in the body only), then answered", HAIKU, "",
     {{429, NULL, 0, "{\"__type\":\"com.amazon.bedrock#ModelNotReadyException\"}"},
      {200, NULL, 0, OK_BODY}}, 2, APP_OK, 2, "Hello", 12, 5, 17, 42, "end_turn", NULL, NULL},
    {"unavailable every time: 502 after every attempt", HAIKU, "",
     {{503, "ServiceUnavailableException", 0, MSG("down")},
      {503, "ServiceUnavailableException", 0, MSG("down")},
      {503, "ServiceUnavailableException", 0, MSG("down")}}, 3, APP_EUPSTREAM, 3, NULL, 0, 0,
     0, 0, NULL, NULL, "ServiceUnavailableException"},
    {"throttled every time, the type's namespace cut", HAIKU, "",
     {{429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", 0,
       NULL},
      {429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", 0,
       NULL},
      {429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/", 0,
       NULL}}, 3, APP_EUPSTREAM, 3, NULL, 0, 0, 0, 0, NULL, NULL, "HTTP 429 ThrottlingException "},
    {"a validation error is not retried, nor its message kept", HAIKU, "",
     {{400, "ValidationException", 0, MSG("the prompt says: secret")}}, 1, APP_EUPSTREAM, 1,
     NULL, 0, 0, 0, 0, NULL, NULL, "HTTP 400 ValidationException ("},
    {"access denied: not retried, its message kept for the log", HAIKU, "",
     {{403, "AccessDeniedException", 0, MSG("You don't have access to the model")}}, 1,
     APP_EUPSTREAM, 1, NULL, 0, 0, 0, 0, NULL, NULL, "access to the model"},
    {"an unknown model", HAIKU, "",
     {{404, "ResourceNotFoundException", 0, MSG("Model not found")}}, 1, APP_EUPSTREAM, 1,
     NULL, 0, 0, 0, 0, NULL, NULL, "ResourceNotFoundException: Model not found"},
    {"the model timed out: 504, not retried", HAIKU, "",
     {{408, "ModelTimeoutException", 0, MSG("Model has timed out")}}, 1, APP_ETIMEOUT, 1,
     NULL, 0, 0, 0, 0, NULL, NULL, "ModelTimeoutException"},
    {"no answer within BEDROCK_TIMEOUT_MS: 504", HAIKU, "",
     {{200, NULL, 1500, OK_BODY}}, 1, APP_ETIMEOUT, 1, NULL, 0, 0, 0, 0, NULL, NULL,
     "within"},
    {"an answer without text", HAIKU, "",
     {{200, NULL, 0, "{\"output\":{\"message\":{\"content\":[{\"image\":{}}]}}}"}}, 1,
     APP_EUPSTREAM, 1, NULL, 0, 0, 0, 0, NULL, NULL, "without text"},
    {"an answer that is not JSON", HAIKU, "", {{200, NULL, 0, "<html>"}}, 1, APP_EUPSTREAM, 1,
     NULL, 0, 0, 0, 0, NULL, NULL, "output.message.content"},
};

START_TEST(test_converse)
{
    struct bedrock_reply r;
    struct app_error err;
    struct creds_provider *creds;
    struct bedrock *b;
    struct stub s;
    struct cfg cfg;
    char e[256], line[1024];
    const char *raw;
    int rc;

    unit_clean_env();
    stub_bedrock_start(&s, cases[_i].script, cases[_i].nscript, cases[_i].prefix);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("AWS_REGION", "ap-southeast-2", 1);
    setenv("BEDROCK_TIMEOUT_MS", "1000", 1);
    setenv("BEDROCK_MAX_ATTEMPTS", "3", 1);
    ck_assert_msg(cfg_load(&cfg, NULL, 0, e, sizeof(e)) == 0, "%s", e);
    creds = creds_new(&cfg);
    b = bedrock_new(&cfg, creds);
    ck_assert_ptr_nonnull(b);
    app_error_clear(&err);
    rc = bedrock_converse(b, cases[_i].model, NULL, "Say \"hi\"\nplease", 256, &r, &err);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s)", cases[_i].name, rc, err.msg);
    ck_assert_msg(bedrock_last_attempts(b) == cases[_i].attempts, "%s: %d attempts",
                  cases[_i].name, bedrock_last_attempts(b));
    if (rc == APP_OK) {
        ck_assert_str_eq(r.text, cases[_i].text);
        ck_assert_msg(r.input_tokens == cases[_i].in && r.output_tokens == cases[_i].out &&
                      r.total_tokens == cases[_i].total && r.latency_ms == cases[_i].latency,
                      "%s: tokens %lld/%lld/%lld, %lld ms", cases[_i].name, r.input_tokens,
                      r.output_tokens, r.total_tokens, r.latency_ms);
        ck_assert_str_eq(r.stop_reason, cases[_i].stop);
    } else {
        ck_assert_ptr_null(r.text);
        ck_assert_msg(strstr(err.msg, cases[_i].in_err), "%s: err %s", cases[_i].name,
                      err.msg);
        ck_assert_msg(!strstr(err.msg, "secret"), "%s: err %s", cases[_i].name, err.msg);
    }
    bedrock_reply_free(&r);
    bedrock_free(b);
    creds_free(creds);
    stub_stop(&s);
    ck_assert_msg(s.nseen == (size_t)cases[_i].attempts, "%s: %zu requests", cases[_i].name,
                  s.nseen);
    raw = s.seen[0];
    if (cases[_i].path) {
        snprintf(line, sizeof(line), "POST %s HTTP/1.1\r\n", cases[_i].path);
        ck_assert_msg(strncmp(raw, line, strlen(line)) == 0, "%s: %.200s", cases[_i].name, raw);
    }
    ck_assert_ptr_nonnull(strstr(raw, "/ap-southeast-2/bedrock/aws4_request"));
    ck_assert_ptr_nonnull(strstr(raw, "SignedHeaders=accept;content-type;host;x-amz-date,"));
    ck_assert_ptr_nonnull(strstr(raw, "\r\nContent-Type: application/json\r\n"));
    ck_assert_str_eq(stub_body(raw), "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":"
                     "\"Say \\\"hi\\\"\\nplease\"}]}],\"inferenceConfig\":{\"maxTokens\":256}}");
    stub_free(&s);
    cfg_free(&cfg);
}
END_TEST

/* Nothing listens: a network error, retried, then 502. */
START_TEST(test_unreachable)
{
    struct bedrock_reply r;
    struct app_error err;
    struct creds_provider *creds;
    struct bedrock *b;
    struct cfg cfg;
    char e[256], url[64];
    int fd;

    unit_clean_env();
    fd = unit_listen_loopback(url, sizeof(url));
    close(fd);                          /* a port nobody listens on */
    setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("BEDROCK_MAX_ATTEMPTS", "2", 1);
    ck_assert_msg(cfg_load(&cfg, NULL, 0, e, sizeof(e)) == 0, "%s", e);
    creds = creds_new(&cfg);
    b = bedrock_new(&cfg, creds);
    app_error_clear(&err);
    ck_assert_int_eq(bedrock_converse(b, HAIKU, "be brief", "hi", 10, &r, &err), APP_EUPSTREAM);
    ck_assert_int_eq(bedrock_last_attempts(b), 2);
    bedrock_free(b);
    creds_free(creds);
    cfg_free(&cfg);
}
END_TEST

static const struct {
    const char *list;
    int ok;
} model_lists[] = {
    {"anthropic.claude-3-haiku-20240307-v1:0", 1},
    {"anthropic.claude-3-haiku-20240307-v1:0, anthropic.claude-3-5-sonnet-20240620-v1:0", 1},
    {"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-v1:0", 1},
    {"", 0},
    {"a,,b", 0},
    {"a,", 0},
    {" , a", 0},
    {"model id", 0},
    {"a?b", 0},
    {"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", 1},
    {"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", 0},
};

START_TEST(test_model_lists)
{
    ck_assert_msg(bedrock_models_ok(model_lists[_i].list) == model_lists[_i].ok, "'%s'",
                  model_lists[_i].list);
}
END_TEST

/* One of AI_MODELS by its id (NULL: the first), as the list is written. */
static const struct {
    const char *list, *want, *found;  /* found NULL: not in the list */
} finds[] = {
    {"a.b-v1:0, c.d-v2:0", NULL, "a.b-v1:0"},
    {"  a.b-v1:0 ,c.d-v2:0", NULL, "a.b-v1:0"},
    {"a.b-v1:0, c.d-v2:0", "c.d-v2:0", "c.d-v2:0"},
    {"a.b-v1:0,c.d-v2:0 ", "c.d-v2:0", "c.d-v2:0"},
    {"a.b-v1:0, c.d-v2:0", "c.d", NULL},
    {"a.b-v1:0, c.d-v2:0", "c.d-v2:0 ", NULL},
    {"a.b-v1:0, c.d-v2:0", "", NULL},
    {"a.b-v1:0", "a.b-v1:0,", NULL},
};

START_TEST(test_model_find)
{
    char out[BEDROCK_MODEL_MAX + 1] = "unset";
    int rc = bedrock_model_find(finds[_i].list, finds[_i].want, out);

    if (finds[_i].found) {
        ck_assert_msg(rc == 0, "'%s' in '%s'", finds[_i].want, finds[_i].list);
        ck_assert_str_eq(out, finds[_i].found);
    } else {
        ck_assert_msg(rc == -1, "'%s' in '%s': %s", finds[_i].want, finds[_i].list, out);
    }
}
END_TEST

/* A bad setting stops cfg_load with the setting's name. */
static const struct {
    const char *name, *value;
    int ok;
} settings[] = {
    {"AI_MODELS", "anthropic.claude-3-haiku-20240307-v1:0,amazon.nova-lite-v1:0", 1},
    {"AI_MODELS", "", 0},
    {"AI_MODELS", "a model", 0},
    {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:4010/prefix", 1},
    {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "bedrock-runtime.us-east-1.amazonaws.com", 0},
    {"BEDROCK_TIMEOUT_MS", "25001", 0},
    {"AI_MAX_PROMPT_BYTES", "0", 0},
    {"AI_MONTHLY_REQUESTS", "0", 0},
};

START_TEST(test_settings)
{
    struct cfg cfg;
    char e[256] = "";
    int rc;

    unit_clean_env();
    setenv(settings[_i].name, settings[_i].value, 1);
    rc = cfg_load(&cfg, NULL, 0, e, sizeof(e));
    ck_assert_msg((rc == 0) == settings[_i].ok, "%s=%s: %s", settings[_i].name,
                  settings[_i].value, e);
    if (rc == 0)
        cfg_free(&cfg);
    else
        ck_assert_msg(strstr(e, settings[_i].name), "%s", e);
}
END_TEST

static Suite *
bedrock_suite(void)
{
    Suite *s = suite_create("bedrock");
    TCase *tc = tcase_create("converse");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_converse, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_unreachable);
    tcase_add_loop_test(tc, test_model_lists, 0, sizeof(model_lists) / sizeof(model_lists[0]));
    tcase_add_loop_test(tc, test_model_find, 0, sizeof(finds) / sizeof(finds[0]));
    tcase_add_loop_test(tc, test_settings, 0, sizeof(settings) / sizeof(settings[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(bedrock_suite)
