#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/buf.h"
#include "../../lib/cfg.h"
#include "../../lib/cfg_ssm.h"
#include "../../lib/errors.h"
#include "unit.h"

/*
 * Secrets from SSM Parameter Store in the configuration (lib/cfg_ssm.c): NAME_SSM in the file
 * and the environment, and their resolution with a stub fetcher.  The client on the wire is
 * t/unit/test_ssm.c.  Every case is one row of a table.
 */

#define PARAM "/prodenthub/dev/stripe-webhook-secret"
#define SECRET_VALUE "whsec_from_ssm_5f2a"
#define OUTBOX_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void
clean_env(void)
{
    unit_clean_env();
    unsetenv("FOO_SSM");
}

/* Set each "NAME=value" of env (NULL-ended). */
static void
put_env(const char *const *env)
{
    char name[160];
    size_t i;

    for (i = 0; env[i]; i++) {
        const char *eq = strchr(env[i], '=');

        ck_assert_ptr_nonnull(eq);
        snprintf(name, sizeof(name), "%.*s", (int)(eq - env[i]), env[i]);
        setenv(name, eq + 1, 1);
    }
}

/* A configuration file holding text; its path in path (the caller unlinks it). */
static void
write_conf(char *path, size_t pathlen, const char *text)
{
    int fd;

    snprintf(path, pathlen, "/tmp/ph-test-ssm-XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* A name of n bytes: "/" and segments of 'a' (depth levels). */
static void
make_name(char *out, size_t n, int depth)
{
    size_t i, seg = (n - (size_t)depth) / (size_t)depth;

    for (i = 0; i < n; i++)
        out[i] = 'a';
    for (i = 0; i < (size_t)depth; i++)
        out[i * (seg + 1)] = '/';
    out[n] = '\0';
}

/* --- NAME_SSM in the configuration ------------------------------------------------------- */

struct load_case {
    const char *name;
    const char *env[7];            /* "NAME=value", NULL-ended */
    const char *file;              /* the configuration file's text, or NULL */
    const char *want[3];           /* NULL: it loads; else what the error names */
    const char *param;             /* when it loads: STRIPE_WEBHOOK_SECRET's parameter */
};

static const struct load_case load_cases[] = {
    {"env", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL}, NULL, {NULL}, PARAM},
    {"file", {NULL}, "STRIPE_WEBHOOK_SECRET_SSM = " PARAM "\n", {NULL}, PARAM},
    {"env wins over the file", {"STRIPE_WEBHOOK_SECRET_SSM=/b/c", NULL},
     "STRIPE_WEBHOOK_SECRET_SSM=" PARAM "\n", {NULL}, "/b/c"},
    {"an empty line drops the file's", {NULL},
     "STRIPE_WEBHOOK_SECRET_SSM=" PARAM "\nSTRIPE_WEBHOOK_SECRET_SSM=\n", {NULL}, NULL},
    {"an empty environment value is no source", {"STRIPE_WEBHOOK_SECRET_SSM=", NULL}, NULL,
     {NULL}, NULL},
    {"an empty NAME in the file is no source", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     "STRIPE_WEBHOOK_SECRET=\n", {NULL}, PARAM},
    {"one level, dots and dashes", {"STRIPE_WEBHOOK_SECRET_SSM=/Whsec_1.live-2", NULL}, NULL,
     {NULL}, "/Whsec_1.live-2"},
    {"production counts a secret from SSM",
     {"STAGE=production", "CORS_ALLOWED_ORIGINS=https://a.example",
      "STRIPE_SECRET_KEY_SSM=/p/sk", "STRIPE_WEBHOOK_SECRET_SSM=" PARAM,
      "OUTBOX_KEY_SSM=/p/outbox", NULL}, NULL, {NULL}, PARAM},
    {"production still requires the others",
     {"STAGE=production", "CORS_ALLOWED_ORIGINS=https://a.example",
      "STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL}, NULL,
     {"must be set when STAGE=production", NULL}, NULL},
    {"NAME and NAME_SSM", {"STRIPE_WEBHOOK_SECRET=whsec_x",
                           "STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL}, NULL,
     {"STRIPE_WEBHOOK_SECRET and STRIPE_WEBHOOK_SECRET_SSM", NULL}, NULL},
    {"an empty NAME in the environment is a source too",
     {"STRIPE_WEBHOOK_SECRET=", "STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL}, NULL,
     {"STRIPE_WEBHOOK_SECRET and STRIPE_WEBHOOK_SECRET_SSM", NULL}, NULL},
    {"NAME_FILE and NAME_SSM", {"STRIPE_WEBHOOK_SECRET_FILE=/dev/null",
                                "STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL}, NULL,
     {"both STRIPE_WEBHOOK_SECRET_FILE and STRIPE_WEBHOOK_SECRET_SSM", NULL}, NULL},
    {"NAME in the file, NAME_SSM in the environment",
     {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL}, "STRIPE_WEBHOOK_SECRET=whsec_x\n",
     {"STRIPE_WEBHOOK_SECRET and STRIPE_WEBHOOK_SECRET_SSM", NULL}, NULL},
    {"NAME_SSM in the file, NAME in the environment", {"STRIPE_WEBHOOK_SECRET=whsec_x", NULL},
     "STRIPE_WEBHOOK_SECRET_SSM=" PARAM "\n",
     {"STRIPE_WEBHOOK_SECRET and STRIPE_WEBHOOK_SECRET_SSM", NULL}, NULL},
    {"a value, not a name", {"STRIPE_WEBHOOK_SECRET_SSM=whsec_pasted_by_mistake", NULL}, NULL,
     {"STRIPE_WEBHOOK_SECRET_SSM must name an SSM parameter", "not shown"}, NULL},
    {"an empty level", {"STRIPE_WEBHOOK_SECRET_SSM=/prodenthub//x", NULL}, NULL,
     {"must name an SSM parameter", NULL}, NULL},
    {"a trailing slash", {"STRIPE_WEBHOOK_SECRET_SSM=/prodenthub/x/", NULL}, NULL,
     {"must name an SSM parameter", NULL}, NULL},
    {"a space", {"STRIPE_WEBHOOK_SECRET_SSM=/prodenthub/x y", NULL}, NULL,
     {"must name an SSM parameter", NULL}, NULL},
    {"a version selector", {"STRIPE_WEBHOOK_SECRET_SSM=/prodenthub/x:3", NULL}, NULL,
     {"must name an SSM parameter", NULL}, NULL},
    {"only a slash", {"STRIPE_WEBHOOK_SECRET_SSM=/", NULL}, NULL,
     {"must name an SSM parameter", NULL}, NULL},
    {"a bad name in the file", {NULL}, "STRIPE_WEBHOOK_SECRET_SSM=whsec_oops\n",
     {":1: STRIPE_WEBHOOK_SECRET_SSM must name an SSM parameter", NULL}, NULL},
    {"the AWS secret key", {"AWS_SECRET_ACCESS_KEY_SSM=/p/aws", NULL}, NULL,
     {"AWS_SECRET_ACCESS_KEY_SSM is refused", "AWS credentials cannot come from SSM"}, NULL},
    {"the AWS session token", {"AWS_SESSION_TOKEN_SSM=/p/aws", NULL}, NULL,
     {"AWS_SESSION_TOKEN_SSM is refused", NULL}, NULL},
    {"the AWS key id", {"AWS_ACCESS_KEY_ID_SSM=/p/aws", NULL}, NULL,
     {"AWS_ACCESS_KEY_ID_SSM is refused", NULL}, NULL},
    {"the AWS secret key in the file", {NULL}, "AWS_SECRET_ACCESS_KEY_SSM=/p/aws\n",
     {":1: AWS_SECRET_ACCESS_KEY_SSM is refused", NULL}, NULL},
    {"not a secret", {"STAGE_SSM=/p/stage", NULL}, NULL,
     {"STAGE is not a secret", NULL}, NULL},
    {"unknown in the file", {NULL}, "FOO_SSM=/p/foo\n", {":1: unknown setting 'FOO_SSM'", NULL},
     NULL},
    {"AWS_ENDPOINT_URL_SSM is a setting of its own",
     {"AWS_ENDPOINT_URL_SSM=http://127.0.0.1:9", NULL}, NULL, {NULL}, NULL},
    {"the SSM endpoint is a URL", {"AWS_ENDPOINT_URL_SSM=ssm.local", NULL}, NULL,
     {"AWS_ENDPOINT_URL_SSM must start with http", NULL}, NULL},
    {"SSM_TIMEOUT_MS bounds", {"SSM_TIMEOUT_MS=50", NULL}, NULL,
     {"SSM_TIMEOUT_MS must be an integer from 100 to 60000", NULL}, NULL},
};

START_TEST(test_load)
{
    const struct load_case *k = &load_cases[_i];
    const struct cfg_ssm *e;
    char path[64] = "", err[1024] = "";
    struct cfg c;
    size_t j;
    int rc;

    put_env(k->env);
    if (k->file)
        write_conf(path, sizeof(path), k->file);
    rc = cfg_load(&c, k->file ? path : NULL, !!k->file, err, sizeof(err));
    if (k->file)
        unlink(path);
    if (k->want[0]) {
        ck_assert_msg(rc == -1, "%s: loaded", k->name);
        for (j = 0; j < 3 && k->want[j]; j++)
            ck_assert_msg(strstr(err, k->want[j]), "%s: '%s' lacks '%s'", k->name, err,
                          k->want[j]);
        ck_assert_msg(!strstr(err, "whsec_"), "%s: a value in '%s'", k->name, err);
        ck_assert_ptr_null(c.ssm);
        return;
    }
    ck_assert_msg(rc == 0, "%s: %s", k->name, err);
    e = cfg_ssm_find(&c, "STRIPE_WEBHOOK_SECRET");
    if (k->param) {
        ck_assert_msg(e && strcmp(e->param, k->param) == 0, "%s: %s", k->name,
                      e ? e->param : "(none)");
        ck_assert_int_eq(e->fetched, 0);
        ck_assert_str_eq(c.stripe_webhook_secret, "");
    } else {
        ck_assert_msg(!e, "%s: %s", k->name, e ? e->param : "");
    }
    cfg_free(&c);
    ck_assert_ptr_null(c.ssm);
}
END_TEST

struct name_case {
    size_t len;
    int depth;
    int ok;
};

static const struct name_case name_cases[] = {
    {CFG_SSM_NAME_MAX, 1, 1}, {CFG_SSM_NAME_MAX + 1, 1, 0}, {200, CFG_SSM_DEPTH_MAX, 1},
    {200, CFG_SSM_DEPTH_MAX + 1, 0}, {2, 1, 1},
};

START_TEST(test_name_limits)
{
    const struct name_case *k = &name_cases[_i];
    char name[CFG_SSM_NAME_MAX + 2];

    make_name(name, k->len, k->depth);
    ck_assert_msg(cfg_ssm_name_ok(name, k->len) == k->ok, "len %zu depth %d", k->len, k->depth);
}
END_TEST

/* --- resolution with a stub fetcher ------------------------------------------------------ */

struct stub_param {
    const char *name;
    int code;                      /* APP_OK: answer value */
    const char *value;
};

struct fetch_stub {
    const struct stub_param *params;
    int calls;
};

static char long_value[CFG_SSM_VALUE_MAX + 2];

static int
stub_fetch(struct buf *out, const char *param, void *ud, struct app_error *err)
{
    struct fetch_stub *f = ud;
    size_t i;

    f->calls++;
    for (i = 0; f->params[i].name; i++) {
        const struct stub_param *p = &f->params[i];

        if (strcmp(p->name, param) != 0)
            continue;
        if (p->code != APP_OK)
            return app_error_set(err, p->code, "stub: %s", app_error_info(p->code)->slug);
        if (strcmp(p->value, "LONG") == 0)
            return buf_append(out, long_value, strlen(long_value));
        if (strcmp(p->value, "NUL") == 0)
            return buf_append(out, "ab\0cd", 5);
        return buf_append(out, p->value, strlen(p->value));
    }
    return app_error_set(err, APP_ENOTFOUND, "not found (ParameterNotFound)");
}

struct resolve_case {
    const char *name;
    const char *env[4];
    struct stub_param params[4];
    int rc;
    const char *want;              /* rc == 0: STRIPE_WEBHOOK_SECRET; else in the error */
    int calls;
};

static const struct resolve_case resolve_cases[] = {
    {"found", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     {{PARAM, APP_OK, SECRET_VALUE}, {NULL, 0, NULL}}, APP_OK, SECRET_VALUE, 1},
    {"trimmed as NAME_FILE is", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     {{PARAM, APP_OK, " \t" SECRET_VALUE "\r\n"}, {NULL, 0, NULL}}, APP_OK, SECRET_VALUE, 1},
    {"two secrets", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, "PRODENTHUB_ADMIN_TOKEN_SSM=/p/admin",
                     NULL},
     {{PARAM, APP_OK, SECRET_VALUE}, {"/p/admin", APP_OK, "admin-token"}, {NULL, 0, NULL}},
     APP_OK, SECRET_VALUE, 2},
    {"none named: nothing fetched", {NULL}, {{NULL, 0, NULL}}, APP_OK, "", 0},
    {"not found", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL}, {{NULL, 0, NULL}},
     APP_ENOTFOUND, "STRIPE_WEBHOOK_SECRET_SSM: cannot read parameter " PARAM
     ": not found (ParameterNotFound)", 1},
    {"access denied", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     {{PARAM, APP_EFORBIDDEN, NULL}, {NULL, 0, NULL}}, APP_EFORBIDDEN,
     "STRIPE_WEBHOOK_SECRET_SSM: cannot read parameter " PARAM ": stub: FORBIDDEN", 1},
    {"the first failure stops", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM,
                                 "PRODENTHUB_ADMIN_TOKEN_SSM=/p/admin", NULL},
     {{PARAM, APP_OK, SECRET_VALUE}, {NULL, 0, NULL}}, APP_ENOTFOUND,
     "PRODENTHUB_ADMIN_TOKEN_SSM: cannot read parameter /p/admin", 1},
    {"unavailable", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     {{PARAM, APP_EUNAVAILABLE, NULL}, {NULL, 0, NULL}}, APP_EUNAVAILABLE,
     "stub: SERVICE_UNAVAILABLE", 1},
    {"value too long", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     {{PARAM, APP_OK, "LONG"}, {NULL, 0, NULL}}, APP_ETOOLARGE, "longer than 4096 bytes", 1},
    {"a NUL byte", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     {{PARAM, APP_OK, "NUL"}, {NULL, 0, NULL}}, APP_EUPSTREAM, "holds a NUL byte", 1},
    {"only white space", {"STRIPE_WEBHOOK_SECRET_SSM=" PARAM, NULL},
     {{PARAM, APP_OK, " \n "}, {NULL, 0, NULL}}, APP_ECONFIG, PARAM " is empty", 1},
    {"checked as the setting is", {"OUTBOX_KEY_SSM=/p/outbox", NULL},
     {{"/p/outbox", APP_OK, "whsec_not_hex"}, {NULL, 0, NULL}}, APP_ECONFIG,
     "OUTBOX_KEY must be 64 hex digits", 1},
    {"a good outbox key", {"OUTBOX_KEY_SSM=/p/outbox", NULL},
     {{"/p/outbox", APP_OK, OUTBOX_HEX}, {NULL, 0, NULL}}, APP_OK, "", 1},
};

START_TEST(test_resolve)
{
    const struct resolve_case *k = &resolve_cases[_i];
    struct fetch_stub f = {k->params, 0};
    char err[1024] = "";
    struct cfg c;
    int rc;

    memset(long_value, 'x', CFG_SSM_VALUE_MAX + 1);
    long_value[CFG_SSM_VALUE_MAX + 1] = '\0';
    put_env(k->env);
    ck_assert_msg(cfg_load(&c, NULL, 0, err, sizeof(err)) == 0, "%s: %s", k->name, err);
    rc = cfg_resolve_ssm(&c, stub_fetch, &f, err, sizeof(err));
    ck_assert_msg(rc == k->rc, "%s: rc %d (%s)", k->name, rc, err);
    ck_assert_msg(f.calls == k->calls, "%s: %d calls", k->name, f.calls);
    if (rc == APP_OK)
        ck_assert_str_eq(c.stripe_webhook_secret, k->want);
    else
        ck_assert_msg(strstr(err, k->want), "%s: '%s' lacks '%s'", k->name, err, k->want);
    ck_assert_msg(!strstr(err, "whsec_") && !strstr(err, "admin-token"), "%s: %s", k->name,
                  err);
    cfg_free(&c);
}
END_TEST

START_TEST(test_value_at_the_limit)
{
    struct stub_param params[] = {{PARAM, APP_OK, "LONG"}, {NULL, 0, NULL}};
    struct fetch_stub f = {params, 0};
    char err[512] = "";
    struct cfg c;

    memset(long_value, 'x', CFG_SSM_VALUE_MAX);
    long_value[CFG_SSM_VALUE_MAX] = '\0';
    setenv("STRIPE_WEBHOOK_SECRET_SSM", PARAM, 1);
    ck_assert_int_eq(cfg_load(&c, NULL, 0, err, sizeof(err)), 0);
    ck_assert_msg(cfg_resolve_ssm(&c, stub_fetch, &f, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(strlen(c.stripe_webhook_secret), CFG_SSM_VALUE_MAX);
    cfg_free(&c);
}
END_TEST

/* -p shows where a secret comes from, never its value. */
START_TEST(test_dump)
{
    struct stub_param params[] = {{PARAM, APP_OK, SECRET_VALUE}, {NULL, 0, NULL}};
    struct fetch_stub f = {params, 0};
    char err[512] = "", *out;
    int fds[2];
    struct cfg c;

    setenv("STRIPE_WEBHOOK_SECRET_SSM", PARAM, 1);
    setenv("STRIPE_SECRET_KEY", "sk_test_plain", 1);
    ck_assert_int_eq(cfg_load(&c, NULL, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(pipe(fds), 0);
    cfg_dump(&c, fds[1]);
    ck_assert_int_eq(cfg_resolve_ssm(&c, stub_fetch, &f, err, sizeof(err)), 0);
    cfg_dump(&c, fds[1]);
    close(fds[1]);
    out = unit_read_fd(fds[0]);
    ck_assert_msg(strstr(out, "STRIPE_WEBHOOK_SECRET=(not read yet, from SSM " PARAM ")\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "STRIPE_WEBHOOK_SECRET=(set, hidden, from SSM " PARAM ")\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "STRIPE_SECRET_KEY=(set, hidden)\n"), "%s", out);
    ck_assert_msg(strstr(out, "SMTP_PASSWORD=\n"), "%s", out);
    ck_assert_msg(strstr(out, "SSM_TIMEOUT_MS=5000\n"), "%s", out);
    ck_assert(!strstr(out, SECRET_VALUE) && !strstr(out, "sk_test_plain"));
    free(out);
    cfg_free(&c);
}
END_TEST
static Suite *
cfg_ssm_suite(void)
{
    Suite *s = suite_create("cfg_ssm");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, clean_env, NULL);
    tcase_add_loop_test(tc, test_load, 0, sizeof(load_cases) / sizeof(load_cases[0]));
    tcase_add_loop_test(tc, test_name_limits, 0, sizeof(name_cases) / sizeof(name_cases[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, clean_env, NULL);
    tcase_add_loop_test(tc, test_resolve, 0, sizeof(resolve_cases) / sizeof(resolve_cases[0]));
    tcase_add_test(tc, test_value_at_the_limit);
    tcase_add_test(tc, test_dump);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cfg_ssm_suite)
