/* The COGNITO_* settings resolved into the issuer and JWKS URL the verifier uses. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/cfg.h"
#include "../../lib/cognito.h"
#include "../../lib/jwt.h"
#include "unit.h"

static const struct {
    const char *pool, *region, *client, *issuer, *jwks;
    const char *want_iss, *want_jwks;     /* NULL want_iss: sign-in off */
    const char *error;                    /* non-NULL: cfg_load fails naming this */
} cases[] = {
    {"", "", "", "", "", NULL, NULL, NULL},
    {"ap-southeast-2_AbC123", "", "client1", "", "",
     "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_AbC123",
     "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_AbC123/.well-known/"
     "jwks.json", NULL},
    {"us-east-1_X", "us-east-1", "a, b", "", "",
     "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X",
     "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X/.well-known/jwks.json", NULL},
    {"", "", "c1", "http://127.0.0.1:9229/local_1", "", "http://127.0.0.1:9229/local_1",
     "http://127.0.0.1:9229/local_1/.well-known/jwks.json", NULL},
    {"p_1", "", "c1", "", "https://keys.example/jwks.json",
     "https://cognito-idp.ap-southeast-2.amazonaws.com/p_1", "https://keys.example/jwks.json",
     NULL},
    {"", "", "c1", "http://issuer.example/p", "", NULL, NULL, "COGNITO_ISSUER"},
    {"", "", "c1", "https://issuer.example/p/", "", NULL, NULL, "COGNITO_ISSUER"},
    {"", "", "c1", "ftp://issuer.example/p", "", NULL, NULL, "COGNITO_ISSUER"},
    {"p_1", "", "c1", "", "http://keys.example/jwks.json", NULL, NULL, "COGNITO_JWKS_URL"},
    {"p_1", "", "", "", "", NULL, NULL, "COGNITO_CLIENT_ID"},
    {"p_1", "", "a,,b", "", "", NULL, NULL, "COGNITO_CLIENT_ID"},
    {"p_1", "", "a;b", "", "", NULL, NULL, "COGNITO_CLIENT_ID"},
    {"p/1", "", "c1", "", "", NULL, NULL, "COGNITO_USER_POOL_ID"},
    {"p_1", "us east", "c1", "", "", NULL, NULL, "COGNITO_REGION"},
    {"", "", "c1", "", "", NULL, NULL, "COGNITO_CLIENT_ID"},
    {"", "", "", "", "https://keys.example/jwks.json", NULL, NULL, "COGNITO_JWKS_URL"},
};

static void
set(const char *name, const char *v)
{
    if (*v)
        setenv(name, v, 1);
    else
        unsetenv(name);
}

START_TEST(test_resolve)
{
    struct jwt_config jc;
    struct cfg c;
    char err[512] = "";
    int rc;

    set("COGNITO_USER_POOL_ID", cases[_i].pool);
    set("COGNITO_REGION", cases[_i].region);
    set("COGNITO_CLIENT_ID", cases[_i].client);
    set("COGNITO_ISSUER", cases[_i].issuer);
    set("COGNITO_JWKS_URL", cases[_i].jwks);
    setenv("AWS_REGION", "ap-southeast-2", 1);
    rc = cfg_load(&c, NULL, 0, err, sizeof(err));
    if (cases[_i].error) {
        ck_assert_int_eq(rc, -1);
        ck_assert_msg(strstr(err, cases[_i].error), "case %d: '%s' lacks %s", _i, err,
                      cases[_i].error);
        return;
    }
    ck_assert_msg(rc == 0, "case %d: %s", _i, err);
    ck_assert_int_eq(cognito_enabled(&c), !!cases[_i].want_iss);
    if (cases[_i].want_iss) {
        ck_assert_str_eq(c.cognito_iss, cases[_i].want_iss);
        ck_assert_str_eq(c.cognito_jwks, cases[_i].want_jwks);
        cognito_jwt_config(&c, &jc);
        ck_assert_str_eq(jc.issuer, cases[_i].want_iss);
        ck_assert_str_eq(jc.client_ids, cases[_i].client);
    }
    cfg_free(&c);
}
END_TEST

static Suite *
cognito_suite(void)
{
    Suite *s = suite_create("cognito");
    TCase *tc = tcase_create("resolve");

    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_loop_test(tc, test_resolve, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cognito_suite)
