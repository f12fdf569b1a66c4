#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/buf.h"
#include "../../lib/cfg.h"
#include "../../lib/cfg_ssm.h"
#include "../../lib/creds.h"
#include "../../lib/errors.h"
#include "../../lib/ssm.h"
#include "stub.h"
#include "unit.h"

/*
 * The SSM Parameter Store client (lib/ssm.c): GetParameter against a stub server speaking the
 * JSON 1.1 wire format (t/unit/stub.h), and ssm_resolve_cfg filling the configuration's
 * NAME_SSM secrets through it.  Every case of the wire is one row of a table.
 */

#define PARAM "/prodenthub/dev/stripe-webhook-secret"
#define SECRET_VALUE "whsec_from_ssm_5f2a"

static void
clean_env(void)
{
    unit_clean_env();
}

static char long_value[CFG_SSM_VALUE_MAX + 2];

/* --- the client on the wire ------------------------------------------------------------- */

#define ANSWER(v) \
    "{\"Parameter\":{\"Name\":\"" PARAM "\",\"Type\":\"SecureString\",\"Value\":\"" v "\"," \
    "\"Version\":3,\"LastModifiedDate\":1.717171717E9,\"ARN\":\"arn:aws:ssm:ap-southeast-2:" \
    "123456789012:parameter" PARAM "\",\"DataType\":\"text\"}}"
#define ERROR(t, m) "{\"__type\":\"" t "\",\"message\":\"" m "\"}"
#define TARGET "X-Amz-Target: AmazonSSM.GetParameter"

struct wire_case {
    const char *name;
    struct stub_reply script[4];
    size_t nscript;
    int rc;
    const char *want;              /* rc == 0: the value; else in the error */
    int attempts;
};

static const struct wire_case wire_cases[] = {
    {"found", {{TARGET, 200, ANSWER(SECRET_VALUE)}}, 1, APP_OK, SECRET_VALUE, 1},
    {"escaped in JSON", {{TARGET, 200, ANSWER("a\\\"b\\\\c\\u00e9\\n")}}, 1, APP_OK,
     "a\"b\\c\xc3\xa9\n", 1},
    {"not found", {{TARGET, 400, ERROR("ParameterNotFound", "")}}, 1, APP_ENOTFOUND,
     "not found (ParameterNotFound) (attempt 1)", 1},
    {"not found, with a namespace", {{TARGET, 400,
                                      ERROR("com.amazonaws.ssm#ParameterNotFound", "")}},
     1, APP_ENOTFOUND, "ParameterNotFound", 1},
    {"version not found", {{TARGET, 400, ERROR("ParameterVersionNotFound", "v9")}}, 1,
     APP_ENOTFOUND, "ParameterVersionNotFound", 1},
    {"access denied", {{TARGET, 400, ERROR("AccessDeniedException", "User: arn:aws:sts::1:"
                                           "assumed-role/api is not authorized to perform: "
                                           "ssm:GetParameter\\r\\non resource")}}, 1,
     APP_EFORBIDDEN, "perform: ssm:GetParameter  on resource", 1},
    {"KMS refuses", {{TARGET, 400, ERROR("AccessDeniedException", "kms:Decrypt denied")}}, 1,
     APP_EFORBIDDEN, "kms:Decrypt", 1},
    {"throttled then ok", {{TARGET, 400, ERROR("ThrottlingException", "Rate exceeded")},
                           {TARGET, 200, ANSWER(SECRET_VALUE)}}, 2, APP_OK, SECRET_VALUE, 2},
    {"5xx then ok", {{TARGET, 500, ERROR("InternalServerError", "")},
                     {TARGET, 200, ANSWER(SECRET_VALUE)}}, 2, APP_OK, SECRET_VALUE, 2},
    {"throttled to the end", {{TARGET, 400, ERROR("ThrottlingException", "")},
                              {TARGET, 400, ERROR("ThrottlingException", "")},
                              {TARGET, 503, "{}"}}, 3, APP_EUNAVAILABLE,
     "HTTP 503 UnknownError (attempt 3)", 3},
    {"bad JSON", {{TARGET, 200, "{\"Parameter\": {\"Val"}, {TARGET, 200, "<html>"},
                  {TARGET, 200, "not json"}}, 3, APP_EUPSTREAM, "not JSON", 3},
    {"no value", {{TARGET, 200, "{\"Parameter\":{\"Name\":\"" PARAM "\"}}"}}, 1,
     APP_EUPSTREAM, "without Parameter.Value", 1},
    {"a value that is no string", {{TARGET, 200, "{\"Parameter\":{\"Value\":7}}"}}, 1,
     APP_EUPSTREAM, "without Parameter.Value", 1},
    {"credentials refused", {{TARGET, 400, ERROR("UnrecognizedClientException", "bad key")}},
     1, APP_EUNAVAILABLE, "credentials refused (UnrecognizedClientException: bad key)", 1},
    {"signature refused", {{TARGET, 400, ERROR("com.amazon.coral.service#"
                                               "InvalidSignatureException", "mismatch")}},
     1, APP_EUNAVAILABLE, "InvalidSignatureException", 1},
    {"anything else", {{TARGET, 400, ERROR("ValidationException", "bad name")}}, 1,
     APP_EUPSTREAM, "HTTP 400 ValidationException: bad name", 1},
    {"value too long", {{TARGET, 200, NULL}}, 1, APP_ETOOLARGE, "longer than 4096 bytes", 1},
};

static char long_answer[CFG_SSM_VALUE_MAX + 512];

/* AWS settings on a stub at base, and a client on them. */
static struct ssm *
client(struct cfg *c, struct creds_provider **creds, const char *base)
{
    char err[512] = "";
    struct ssm *s;

    setenv("AWS_ENDPOINT_URL_SSM", base, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("AWS_REGION", "ap-southeast-2", 1);
    ck_assert_msg(cfg_load(c, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    *creds = creds_new(c);
    s = ssm_new(c, *creds);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(test_wire)
{
    const struct wire_case *k = &wire_cases[_i];
    struct stub_reply script[4];
    struct creds_provider *creds;
    struct app_error err;
    struct stub st;
    struct buf out;
    struct cfg c;
    struct ssm *s;
    size_t j;
    int rc;

    memcpy(script, k->script, sizeof(script));
    if (!script[0].body) {
        memset(long_value, 'x', CFG_SSM_VALUE_MAX + 1);
        long_value[CFG_SSM_VALUE_MAX + 1] = '\0';
        snprintf(long_answer, sizeof(long_answer), "{\"Parameter\":{\"Value\":\"%s\"}}",
                 long_value);
        script[0].body = long_answer;
    }
    stub_start(&st, script, k->nscript);
    s = client(&c, &creds, st.base);
    buf_init(&out, CFG_SSM_VALUE_MAX);
    app_error_clear(&err);
    rc = ssm_get_parameter(&out, s, PARAM, &err);
    ck_assert_msg(rc == k->rc, "%s: rc %d (%s)", k->name, rc, err.msg);
    ck_assert_msg(ssm_last_attempts(s) == k->attempts, "%s: %d attempts", k->name,
                  ssm_last_attempts(s));
    if (rc == APP_OK)
        ck_assert_str_eq(out.data, k->want);
    else
        ck_assert_msg(strstr(err.msg, k->want), "%s: '%s' lacks '%s'", k->name, err.msg,
                      k->want);
    ck_assert_msg(!strstr(err.msg, SECRET_VALUE), "%s: %s", k->name, err.msg);
    ssm_free(s);
    creds_free(creds);
    stub_stop(&st);
    ck_assert_msg(st.nseen == (size_t)k->attempts, "%s: %zu requests", k->name, st.nseen);
    for (j = 0; j < st.nseen; j++) {
        ck_assert_msg(strncmp(st.seen[j], "POST / HTTP/1.1\r\n", 17) == 0, "%s", st.seen[j]);
        ck_assert_str_eq(stub_body(st.seen[j]), "{\"Name\":\"" PARAM "\",\"WithDecryption\":true}");
    }
    stub_free(&st);
    buf_free(&out);
    cfg_free(&c);
}
END_TEST

/* The request is AWS's: its headers, the credential scope of ssm, the session token. */
START_TEST(test_request_signed_for_ssm)
{
    static const struct stub_reply script[] = {{TARGET, 200, ANSWER(SECRET_VALUE)}};
    static const char *const want[] = {
        "Content-Type: application/x-amz-json-1.1\r\n", TARGET "\r\n",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDSTUB/",
        "/ap-southeast-2/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
        "x-amz-security-token;x-amz-target, Signature=",
        "X-Amz-Security-Token: tok-123\r\n", "X-Amz-Date: ", NULL,
    };
    struct creds_provider *creds;
    struct app_error err;
    struct stub st;
    struct buf out;
    struct cfg c;
    struct ssm *s;

    setenv("AWS_SESSION_TOKEN", "tok-123", 1);
    stub_start(&st, script, 1);
    s = client(&c, &creds, st.base);
    buf_init(&out, CFG_SSM_VALUE_MAX);
    app_error_clear(&err);
    ck_assert_int_eq(ssm_get_parameter(&out, s, PARAM, &err), APP_OK);
    ssm_free(s);
    creds_free(creds);
    stub_stop(&st);
    stub_expect_sent(&st, "signed", TARGET, want, 7);
    stub_free(&st);
    buf_free(&out);
    cfg_free(&c);
}
END_TEST

/* The endpoint: AWS_ENDPOINT_URL_SSM, else AWS_ENDPOINT_URL; the log names settings only. */
START_TEST(test_resolve_cfg_on_the_wire)
{
    static const struct stub_reply script[] = {
        {"/prodenthub/dev/admin-token", 200, "{\"Parameter\":{\"Value\":\"admin-token-77\"}}"},
        {PARAM, 200, ANSWER(SECRET_VALUE)},
    };
    struct unit_capture cap;
    char err[512] = "", *log;
    struct stub st;
    struct cfg c;
    int rc;

    stub_start(&st, script, 2);
    setenv("AWS_ENDPOINT_URL", st.base, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("STRIPE_WEBHOOK_SECRET_SSM", PARAM, 1);
    setenv("PRODENTHUB_ADMIN_TOKEN_SSM", "/prodenthub/dev/admin-token", 1);
    ck_assert_msg(cfg_load(&c, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    unit_capture_start(&cap);
    rc = ssm_resolve_cfg(&c, err, sizeof(err));
    log = unit_capture_end(&cap);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(c.stripe_webhook_secret, SECRET_VALUE);
    ck_assert_str_eq(c.admin_token, "admin-token-77");
    ck_assert_msg(strstr(log, "read 2 secret(s) from SSM Parameter Store: "
                         "PRODENTHUB_ADMIN_TOKEN STRIPE_WEBHOOK_SECRET"), "%s", log);
    ck_assert(!strstr(log, SECRET_VALUE) && !strstr(log, "admin-token-77"));
    free(log);
    stub_stop(&st);
    ck_assert_uint_eq(st.nseen, 2);
    ck_assert(strstr(st.seen[1], "/ssm/aws4_request"));
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* Nothing listens: network errors are retried, then the start-up fails naming the setting. */
START_TEST(test_unreachable)
{
    char base[64], err[512] = "";
    struct cfg c;
    int fd, rc;

    fd = unit_listen_loopback(base, sizeof(base));
    close(fd);
    setenv("AWS_ENDPOINT_URL_SSM", base, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("SSM_TIMEOUT_MS", "1000", 1);
    setenv("STRIPE_WEBHOOK_SECRET_SSM", PARAM, 1);
    ck_assert_int_eq(cfg_load(&c, NULL, 0, err, sizeof(err)), 0);
    rc = ssm_resolve_cfg(&c, err, sizeof(err));
    ck_assert_int_eq(rc, APP_EUNAVAILABLE);
    ck_assert_msg(strstr(err, "STRIPE_WEBHOOK_SECRET_SSM: cannot read parameter " PARAM ": ssm:")
                  && strstr(err, "(attempt 3)"), "%s", err);
    cfg_free(&c);
}
END_TEST

/* Without NAME_SSM nothing is made and nothing is sent. */
START_TEST(test_resolve_cfg_without_names)
{
    char err[512] = "";
    struct cfg c;

    setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:1", 1);
    ck_assert_int_eq(cfg_load(&c, NULL, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(ssm_resolve_cfg(&c, err, sizeof(err)), 0);
    cfg_free(&c);
}
END_TEST
static Suite *
ssm_suite(void)
{
    Suite *s = suite_create("ssm");
    TCase *tc = tcase_create("client");

    tcase_add_checked_fixture(tc, clean_env, NULL);
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, test_wire, 0, sizeof(wire_cases) / sizeof(wire_cases[0]));
    tcase_add_test(tc, test_request_signed_for_ssm);
    tcase_add_test(tc, test_resolve_cfg_on_the_wire);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_resolve_cfg_without_names);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(ssm_suite)
