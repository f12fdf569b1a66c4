/*
 * lib/sns.c against messages signed by the SNS stand-in's Python code (t/unit/sns_vectors.h,
 * from t/sns/gen_vectors.py): the string to sign, the hosts, and every way a message can be
 * refused.  lib/suppress.c's address hash too.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/sns.h"
#include "../../lib/suppress.h"
#include "sns_vectors.h"
#include "unit.h"

#define TOPIC "arn:aws:sns:ap-southeast-2:000000000000:prodenthub-ses-events"
#define TOPIC2 "arn:aws:sns:ap-southeast-2:000000000000:other"

enum { CERT, OTHER_CERT, FAIL, GARBAGE };

static int fetch_mode, fetches;

static int
fake_fetch(struct buf *out, const char *url, void *ud, struct app_error *err)
{
    (void)url;
    (void)ud;
    fetches++;
    if (fetch_mode == FAIL)
        return app_error_set(err, APP_EUNAVAILABLE, "connection refused");
    buf_puts(out, fetch_mode == CERT ? vec_cert : fetch_mode == OTHER_CERT ? vec_other_cert :
             "not a certificate");
    return APP_OK;
}

static const struct {
    const char *name;
    const char *vec;
    const char *field, *value;         /* field set to value (NULL: removed); NULL: as is */
    const char *topics, *hosts;        /* NULL: TOPIC, SNS_VEC_HOST */
    long now;                          /* 0: SNS_VEC_NOW */
    int fetch;
    int rc;
    const char *reason;
    int want_fetches;
} cases[] = {
    {"notification v1", vec_notif_v1, NULL, NULL, NULL, NULL, 0, CERT, APP_OK, NULL, 1},
    {"notification v2, no subject", vec_notif_v2, NULL, NULL, NULL, NULL, 0, CERT, APP_OK,
     NULL, 1},
    {"subscription v1", vec_sub_v1, NULL, NULL, NULL, NULL, 0, CERT, APP_OK, NULL, 1},
    {"unsubscribe v2", vec_unsub_v2, NULL, NULL, NULL, NULL, 0, CERT, APP_OK, NULL, 1},
    {"message changed", vec_notif_v1, "Message", "{}", NULL, NULL, 0, CERT, APP_EFORBIDDEN,
     "bad_signature", 1},
    {"subject removed", vec_notif_v1, "Subject", NULL, NULL, NULL, 0, CERT, APP_EFORBIDDEN,
     "bad_signature", 1},
    {"subject added", vec_notif_v2, "Subject", "x", NULL, NULL, 0, CERT, APP_EFORBIDDEN,
     "bad_signature", 1},
    {"timestamp changed", vec_notif_v1, "Timestamp", "2026-01-01T00:00:00.000Z", NULL, NULL, 0,
     CERT, APP_EFORBIDDEN, "bad_signature", 1},
    {"message id changed", vec_notif_v2, "MessageId", "x", NULL, NULL, 0, CERT,
     APP_EFORBIDDEN, "bad_signature", 1},
    {"v2 claimed as v1", vec_notif_v2, "SignatureVersion", "1", NULL, NULL, 0, CERT,
     APP_EFORBIDDEN, "bad_signature", 1},
    {"v1 claimed as v2", vec_notif_v1, "SignatureVersion", "2", NULL, NULL, 0, CERT,
     APP_EFORBIDDEN, "bad_signature", 1},
    {"token changed", vec_sub_v1, "Token", "abc", NULL, NULL, 0, CERT, APP_EFORBIDDEN,
     "bad_signature", 1},
    {"type changed", vec_unsub_v2, "Type", "SubscriptionConfirmation", NULL, NULL, 0, CERT,
     APP_EFORBIDDEN, "bad_signature", 1},
    {"signature not base64", vec_notif_v1, "Signature", "not base64!", NULL, NULL, 0, CERT,
     APP_EFORBIDDEN, "bad_signature", 1},
    {"signature empty", vec_notif_v1, "Signature", "", NULL, NULL, 0, CERT, APP_EFORBIDDEN,
     "bad_signature", 1},
    {"signed by another key", vec_notif_v1, NULL, NULL, NULL, NULL, 0, OTHER_CERT,
     APP_EFORBIDDEN, "bad_signature", 1},
    {"other allowed topic", vec_notif_v1, "TopicArn", TOPIC2, TOPIC "," TOPIC2, NULL, 0, CERT,
     APP_EFORBIDDEN, "bad_signature", 1},
    {"topic not allowed", vec_notif_v1, NULL, NULL, TOPIC2, NULL, 0, CERT, APP_EFORBIDDEN,
     "topic_not_allowed", 0},
    {"no topic configured", vec_notif_v1, NULL, NULL, "", NULL, 0, CERT, APP_EFORBIDDEN,
     "topic_not_allowed", 0},
    {"cert host not allowed", vec_notif_v1, "SigningCertURL", "https://evil.example/c.pem",
     NULL, NULL, 0, CERT, APP_EFORBIDDEN, "host_not_allowed", 0},
    {"cert over http, not loopback", vec_notif_v1, "SigningCertURL",
     "http://evil.example/c.pem", NULL, "evil.example", 0, CERT, APP_EFORBIDDEN,
     "host_not_allowed", 0},
    {"cert on another port", vec_notif_v1, "SigningCertURL", "http://127.0.0.1:35936/c.pem",
     NULL, NULL, 0, CERT, APP_EFORBIDDEN, "host_not_allowed", 0},
    {"default hosts: the region's SNS only", vec_notif_v1, NULL, NULL, NULL, "", 0, CERT,
     APP_EFORBIDDEN, "host_not_allowed", 0},
    {"subscribe url elsewhere", vec_sub_v1, "SubscribeURL",
     "https://evil.example/?Action=ConfirmSubscription", NULL, NULL, 0, CERT, APP_EFORBIDDEN,
     "host_not_allowed", 0},
    {"certificate expired", vec_notif_v1, NULL, NULL, NULL, NULL, SNS_VEC_NOT_AFTER + 10, CERT,
     APP_EFORBIDDEN, "bad_certificate", 1},
    {"certificate not yet valid", vec_notif_v1, NULL, NULL, NULL, NULL,
     SNS_VEC_NOT_BEFORE - 10, CERT, APP_EFORBIDDEN, "bad_certificate", 1},
    {"no certificate there", vec_notif_v1, NULL, NULL, NULL, NULL, 0, GARBAGE, APP_EFORBIDDEN,
     "bad_certificate", 1},
    {"certificate unreachable", vec_notif_v1, NULL, NULL, NULL, NULL, 0, FAIL,
     APP_EUNAVAILABLE, "certificate_unavailable", 1},
    {"unknown type", vec_notif_v1, "Type", "Weird", NULL, NULL, 0, CERT, APP_EBADREQUEST,
     "unknown_type", 0},
    {"no message id", vec_notif_v1, "MessageId", NULL, NULL, NULL, 0, CERT, APP_EBADREQUEST,
     "malformed", 0},
    {"no token", vec_sub_v1, "Token", NULL, NULL, NULL, 0, CERT, APP_EBADREQUEST, "malformed",
     0},
    {"unknown signature version", vec_notif_v1, "SignatureVersion", "3", NULL, NULL, 0, CERT,
     APP_EBADREQUEST, "malformed", 0},
    {"no signing cert url", vec_notif_v1, "SigningCertURL", NULL, NULL, NULL, 0, CERT,
     APP_EBADREQUEST, "malformed", 0},
};

START_TEST(test_verify)
{
    struct json_object *m = json_tokener_parse(cases[_i].vec);
    struct sns_policy pol;
    struct app_error e;
    struct sns_msg msg;
    int rc;

    ck_assert_ptr_nonnull(m);
    if (cases[_i].field) {
        json_object_object_del(m, cases[_i].field);
        if (cases[_i].value)
            json_object_object_add(m, cases[_i].field, json_object_new_string(cases[_i].value));
    }
    sns_cache_clear();
    fetches = 0;
    fetch_mode = cases[_i].fetch;
    memset(&pol, 0, sizeof(pol));
    pol.topics = cases[_i].topics ? cases[_i].topics : TOPIC;
    pol.hosts = cases[_i].hosts ? cases[_i].hosts : SNS_VEC_HOST;
    pol.fetch = fake_fetch;
    app_error_clear(&e);
    rc = sns_parse(&msg, m, &e);
    if (rc == APP_OK)
        rc = sns_verify(&msg, &pol, cases[_i].now ? cases[_i].now : SNS_VEC_NOW, &e);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d, want %d (%s)", cases[_i].name, rc,
                  cases[_i].rc, e.msg);
    if (cases[_i].reason)
        ck_assert_msg(e.reason && strcmp(e.reason, cases[_i].reason) == 0, "%s: reason %s",
                      cases[_i].name, e.reason ? e.reason : "(none)");
    ck_assert_msg(fetches == cases[_i].want_fetches, "%s: %d fetches", cases[_i].name,
                  fetches);
    json_object_put(m);
}
END_TEST

/* The certificate is fetched once per URL, then taken from the cache. */
START_TEST(test_cache)
{
    struct json_object *m = json_tokener_parse(vec_notif_v1);
    struct sns_policy pol = { TOPIC, SNS_VEC_HOST, fake_fetch, NULL };
    struct app_error e;
    struct sns_msg msg;
    int i;

    sns_cache_clear();
    fetches = 0;
    fetch_mode = CERT;
    ck_assert_int_eq(sns_parse(&msg, m, &e), APP_OK);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(sns_verify(&msg, &pol, SNS_VEC_NOW + i, &e), APP_OK);
    ck_assert_int_eq(fetches, 1);
    ck_assert_int_eq(sns_verify(&msg, &pol, SNS_VEC_NOW + SNS_CERT_KEEP_S + 1, &e), APP_OK);
    ck_assert_int_eq(fetches, 2);
    json_object_put(m);
    sns_cache_clear();
}
END_TEST

static const struct {
    const char *json, *want;
} tbs_cases[] = {
    {"{\"Type\":\"Notification\",\"MessageId\":\"m1\",\"TopicArn\":\"arn:t\",\"Subject\":"
     "\"S\",\"Message\":\"a\\nb\",\"Timestamp\":\"T\",\"SignatureVersion\":\"1\","
     "\"Signature\":\"x\",\"SigningCertURL\":\"u\",\"UnsubscribeURL\":\"un\"}",
     "Message\na\nb\nMessageId\nm1\nSubject\nS\nTimestamp\nT\nTopicArn\narn:t\nType\n"
     "Notification\n"},
    {"{\"Type\":\"Notification\",\"MessageId\":\"m1\",\"TopicArn\":\"arn:t\",\"Subject\":null,"
     "\"Message\":\"a\",\"Timestamp\":\"T\",\"SignatureVersion\":\"2\",\"Signature\":\"x\","
     "\"SigningCertURL\":\"u\"}",
     "Message\na\nMessageId\nm1\nTimestamp\nT\nTopicArn\narn:t\nType\nNotification\n"},
    {"{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"m2\",\"Token\":\"tk\","
     "\"TopicArn\":\"arn:t\",\"Message\":\"c\",\"SubscribeURL\":\"https://s/?a=1\","
     "\"Timestamp\":\"T\",\"SignatureVersion\":\"1\",\"Signature\":\"x\","
     "\"SigningCertURL\":\"u\",\"Subject\":\"ignored\"}",
     "Message\nc\nMessageId\nm2\nSubscribeURL\nhttps://s/?a=1\nTimestamp\nT\nToken\ntk\n"
     "TopicArn\narn:t\nType\nSubscriptionConfirmation\n"},
};

START_TEST(test_string_to_sign)
{
    struct json_object *m = json_tokener_parse(tbs_cases[_i].json);
    struct app_error e;
    struct sns_msg msg;
    struct buf b;

    buf_init(&b, 4096);
    ck_assert_int_eq(sns_parse(&msg, m, &e), APP_OK);
    ck_assert_int_eq(sns_string_to_sign(&msg, &b, &e), APP_OK);
    ck_assert_str_eq(b.data, tbs_cases[_i].want);
    buf_free(&b);
    json_object_put(m);
}
END_TEST

#define ARN "arn:aws:sns:us-east-1:123456789012:t"

static const struct {
    const char *hosts, *topic, *url;
    int want;
} url_cases[] = {
    {"", ARN, "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", 1},
    {"", ARN, "https://SNS.us-east-1.amazonaws.com/a.pem", 1},
    {"", ARN, "https://sns.us-west-2.amazonaws.com/a.pem", 0},
    {"", ARN, "http://sns.us-east-1.amazonaws.com/a.pem", 0},
    {"", ARN, "https://sns.us-east-1.amazonaws.com.evil.example/a.pem", 0},
    {"", ARN, "https://evil.example/?sns.us-east-1.amazonaws.com", 0},
    {"", ARN, "https://user@sns.us-east-1.amazonaws.com/a.pem", 0},
    {"", ARN, "https://sns.us-east-1.amazonaws.com:444/a.pem", 0},
    {"", ARN, "https://sns.us-east-1.amazonaws.com%2f@evil/a.pem", 0},
    {"", ARN, "https://sns.us-east-1.amazonaws.com/a b.pem", 0},
    {"", ARN, "ftp://sns.us-east-1.amazonaws.com/a.pem", 0},
    {"", "arn:aws-cn:sns:cn-north-1:1:t", "https://sns.cn-north-1.amazonaws.com.cn/a.pem", 1},
    {"", "not-an-arn", "https://sns.us-east-1.amazonaws.com/a.pem", 0},
    {"", "arn:aws:s3:us-east-1:1:t", "https://sns.us-east-1.amazonaws.com/a.pem", 0},
    {"127.0.0.1:8080", ARN, "http://127.0.0.1:8080/a.pem", 1},
    {"127.0.0.1:8080", ARN, "http://127.0.0.1:8081/a.pem", 0},
    {"127.0.0.1:8080", ARN, "https://sns.us-east-1.amazonaws.com/a.pem", 0},
    {"evil.example", ARN, "http://evil.example/a.pem", 0},
    {"evil.example", ARN, "https://evil.example/a.pem", 1},
    {"a.example, sns.x.example", ARN, "https://SNS.X.example/a.pem", 1},
    {"a.example", ARN, "https://a.example.b/a.pem", 0},
    {"a.example", ARN, NULL, 0},
};

START_TEST(test_url_allowed)
{
    ck_assert_msg(sns_url_allowed(url_cases[_i].hosts, url_cases[_i].topic,
                                  url_cases[_i].url) == url_cases[_i].want, "case %d: %s", _i,
                  url_cases[_i].url ? url_cases[_i].url : "(null)");
}
END_TEST

static const struct {
    const char *addr, *want;           /* want NULL: not an address */
} hash_cases[] = {
    {"bob@example.com", "69c1f15ed84878474a49e67d193a566a1a8b3526525afda816a70974775ac978"},
    {" Bob@EXAMPLE.com\t", "69c1f15ed84878474a49e67d193a566a1a8b3526525afda816a70974775ac978"},
    {"Bob <bob@Example.com>", "69c1f15ed84878474a49e67d193a566a1a8b3526525afda816a70974775ac978"},
    {"", NULL},
    {"   ", NULL},
    {"nobody", NULL},
    {NULL, NULL},
};

START_TEST(test_hash)
{
    char h[SUPPRESS_HASH_LEN + 1];
    int rc = suppress_hash(hash_cases[_i].addr, h);

    if (!hash_cases[_i].want) {
        ck_assert_int_eq(rc, -1);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(h, hash_cases[_i].want);
}
END_TEST

static const struct {
    const char *topics, *hosts;
    int ok;
} settings_cases[] = {
    {"", "", 1},
    {ARN, "", 1},
    {ARN "," TOPIC, "127.0.0.1:8080, sns.example", 1},
    {"arn:aws-cn:sns:cn-north-1:1:t", "", 1},
    {"prodenthub-ses-events", "", 0},
    {"arn:aws:sqs:us-east-1:1:t", "", 0},
    {"arn:aws:sns:US_EAST:1:t", "", 0},
    {ARN, "https://sns.example", 0},
    {ARN, "sns.example/path", 0},
    {ARN, "user@sns.example", 0},
};

START_TEST(test_settings)
{
    char err[256] = "";
    int rc = sns_settings_check(settings_cases[_i].topics, settings_cases[_i].hosts, err,
                                sizeof(err));

    ck_assert_msg((rc == 0) == settings_cases[_i].ok, "case %d: %d %s", _i, rc, err);
    if (!settings_cases[_i].ok)
        ck_assert(strstr(err, "SES_EVENTS_TOPIC_ARN") || strstr(err, "SNS_ALLOWED_HOSTS"));
}
END_TEST

static Suite *
sns_suite(void)
{
    Suite *s = suite_create("sns");
    TCase *tc = tcase_create("sns");

    tcase_add_loop_test(tc, test_verify, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_cache);
    tcase_add_loop_test(tc, test_string_to_sign, 0,
                        (int)(sizeof(tbs_cases) / sizeof(tbs_cases[0])));
    tcase_add_loop_test(tc, test_url_allowed, 0, (int)(sizeof(url_cases) / sizeof(url_cases[0])));
    tcase_add_loop_test(tc, test_settings, 0,
                        (int)(sizeof(settings_cases) / sizeof(settings_cases[0])));
    tcase_add_loop_test(tc, test_hash, 0, (int)(sizeof(hash_cases) / sizeof(hash_cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(sns_suite)
