/*
 * The SES v2 transport of lib/mailer.c (EMAIL_TRANSPORT=ses) against a scripted stub
 * (stub.h): SendEmail with the message as raw content, signed for "ses", sent once, and each
 * answer's code (worth a retry later, or refused for good).  One row a case.  SMTP is
 * exercised end to end against the local mail server (t/e2e).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "../../lib/errors.h"
#include "../../lib/log.h"
#include "../../lib/mailer.h"
#include "stub.h"
#include "stub_bedrock.h"
#include "unit.h"

#define SEND "POST /v2/email/outbound-emails HTTP/1.1\r\n"
#define MIME "Subject: hi\r\n\r\nHello\r\n"
/* MIME in base64, as the SES API wants raw content */
#define MIME64 "U3ViamVjdDogaGkNCg0KSGVsbG8NCg=="

static const struct {
    const char *name;
    int status;
    const char *body;
    int rc;
    const char *in_err;             /* in err.msg when rc is not APP_OK */
} cases[] = {
    {"sent", 200, "{\"MessageId\":\"0100018f\"}", APP_OK, NULL},
    {"the message rejected", 400, "{\"__type\":\"MessageRejected\",\"message\":\"m\"}",
     APP_EUNPROCESSABLE, "ses: HTTP 400 MessageRejected"},
    {"a bad request", 400, "{\"code\":\"BadRequestException\"}", APP_EUNPROCESSABLE,
     "ses: HTTP 400 BadRequestException"},
    {"a sending quota", 400, "{\"__type\":\"LimitExceededException\"}", APP_EUNAVAILABLE,
     "ses: HTTP 400 LimitExceededException"},
    {"throttled", 429, "{\"__type\":\"TooManyRequestsException\"}", APP_EUNAVAILABLE,
     "ses: HTTP 429 TooManyRequestsException"},
    {"SES down", 503, "<html>", APP_EUNAVAILABLE, "ses: HTTP 503"},
    {"the signature refused", 403, "{\"__type\":\"SignatureDoesNotMatch\"}", APP_EUPSTREAM,
     "ses: HTTP 403 SignatureDoesNotMatch"},
    {"an account paused", 400, "{\"__type\":\"AccountSuspendedException\"}", APP_EUPSTREAM,
     "ses: HTTP 400 AccountSuspendedException"},
};

static void
setup(void)
{
    unit_clean_env();
    log_level_min = LL_CRIT + 1;
    setenv("EMAIL_TRANSPORT", "ses", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
}

static struct mailer *
client(struct cfg *c, struct creds_provider **creds, const char *base)
{
    char err[256] = "";
    struct mailer *m;

    setenv("AWS_ENDPOINT_URL_SESV2", base, 1);
    ck_assert_msg(cfg_load(c, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    *creds = creds_new(c);
    m = mailer_new(c, *creds);
    ck_assert_ptr_nonnull(m);
    return m;
}

START_TEST(test_send)
{
    struct stub_reply script[1] = {{SEND, cases[_i].status, cases[_i].body}};
    struct creds_provider *creds;
    struct app_error err;
    struct mailer *m;
    struct stub st;
    struct cfg c;
    int rc;

    stub_start(&st, script, 1);
    m = client(&c, &creds, st.base);
    app_error_clear(&err);
    rc = mailer_send(m, "noreply@prodenthub.test", "zoe@example.com", MIME, strlen(MIME),
                     &err);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s)", cases[_i].name, rc, err.msg);
    if (rc != APP_OK)
        ck_assert_msg(strstr(err.msg, cases[_i].in_err), "%s: err %s", cases[_i].name,
                      err.msg);
    mailer_free(m);
    creds_free(creds);
    stub_stop(&st);
    ck_assert_msg(st.nseen == 1, "%s: %zu requests", cases[_i].name, st.nseen);
    ck_assert_str_eq(stub_body(st.seen[0]), "{\"FromEmailAddress\":\"noreply@prodenthub.test\","
                     "\"Destination\":{\"ToAddresses\":[\"zoe@example.com\"]},\"Content\":"
                     "{\"Raw\":{\"Data\":\"" MIME64 "\"}}}");
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* The request is SES v2's: the path, JSON, the scope of "ses", the session token signed. */
START_TEST(test_request_signed_for_ses)
{
    static const struct stub_reply script[] = {{SEND, 200, "{}"}};
    static const char *const want[] = {
        "Content-Type: application/json\r\n",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDSTUB/",
        "/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
        "x-amz-security-token, Signature=",
        "X-Amz-Security-Token: tok-789\r\n", "X-Amz-Date: ", NULL,
    };
    struct creds_provider *creds;
    struct app_error err;
    struct mailer *m;
    struct stub st;
    struct cfg c;

    setenv("AWS_SESSION_TOKEN", "tok-789", 1);
    stub_start(&st, script, 1);
    m = client(&c, &creds, st.base);
    app_error_clear(&err);
    ck_assert_int_eq(mailer_send(m, "a@prodenthub.test", "b@example.com", MIME, strlen(MIME),
                                 &err), APP_OK);
    mailer_free(m);
    creds_free(creds);
    stub_stop(&st);
    stub_expect_sent(&st, "signed", SEND, want, 6);
    ck_assert_ptr_null(strstr(st.seen[0], "Expect:"));
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

/* Nothing listens: unavailable, worth a retry later; one attempt. */
START_TEST(test_unreachable)
{
    struct creds_provider *creds;
    struct app_error err;
    struct mailer *m;
    char base[64];
    struct cfg c;
    int fd;

    fd = unit_listen_loopback(base, sizeof(base));
    close(fd);
    m = client(&c, &creds, base);
    app_error_clear(&err);
    ck_assert_int_eq(mailer_send(m, "a@prodenthub.test", "b@example.com", MIME, strlen(MIME),
                                 &err), APP_EUNAVAILABLE);
    ck_assert_msg(strncmp(err.msg, "ses: ", 5) == 0, "%s", err.msg);
    mailer_free(m);
    creds_free(creds);
    cfg_free(&c);
}
END_TEST

/* SES slower than SMTP_TIMEOUT_MS: a timeout, not retried here. */
START_TEST(test_timeout)
{
    static const struct stub_bedrock_reply slow[] = {{200, NULL, 1500, "{}"}};
    struct creds_provider *creds;
    struct app_error err;
    struct mailer *m;
    struct stub st;
    struct cfg c;
    int fd, w;

    if (stub_fork(&st, &fd, &w)) {
        stub_bedrock_serve(fd, w, slow, 1);
        _exit(0);
    }
    setenv("SMTP_TIMEOUT_MS", "300", 1);
    m = client(&c, &creds, st.base);
    app_error_clear(&err);
    ck_assert_int_eq(mailer_send(m, "a@prodenthub.test", "b@example.com", MIME, strlen(MIME),
                                 &err), APP_ETIMEOUT);
    ck_assert_msg(strncmp(err.msg, "ses: ", 5) == 0, "%s", err.msg);
    mailer_free(m);
    creds_free(creds);
    stub_stop(&st);
    ck_assert_uint_eq(st.nseen, 1);
    stub_free(&st);
    cfg_free(&c);
}
END_TEST

static Suite *
mailer_suite(void)
{
    Suite *s = suite_create("mailer");
    TCase *tc = tcase_create("ses");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, test_send, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_request_signed_for_ses);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_timeout);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(mailer_suite)
