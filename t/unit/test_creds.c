#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/awsconfig.h"
#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "../../lib/errors.h"
#include "unit.h"

/*
 * The AWS credential chain (lib/creds.c), the shared files (lib/awsconfig.c), and the
 * region and table-prefix resolution of lib/cfg.c.  IMDSv2 is a fake server forked by the
 * test on 127.0.0.1.
 */

/* --- fixture ---------------------------------------------------------------------------- */

static char home[64];

/*
 * Start from nothing: every setting cfg_load() reads (and its NAME_FILE form), the AWS
 * shared-file variables, the proxies curl would honour; HOME a fresh empty directory, so a
 * real ~/.aws is never read.
 */
static void
creds_setup(void)
{
    static const char *const extra[] = {
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_PROFILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED",
        "DYNAMODB_MAX_ATTEMPTS", "MEMCACHED_TTL_S", "DYNAMODB_TABLE_PREFIX",
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
    };
    char name[160];
    size_t i;

    unit_clean_env();
    for (i = 0; cfg_setting_name(i); i++) {
        unsetenv(cfg_setting_name(i));
        snprintf(name, sizeof(name), "%s_FILE", cfg_setting_name(i));
        unsetenv(name);
    }
    for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        unsetenv(extra[i]);
    snprintf(home, sizeof(home), "/tmp/ph-test-home-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(home));
    setenv("HOME", home, 1);
}

static void
creds_teardown(void)
{
    rmdir(home);
}

/* --- helpers ---------------------------------------------------------------------------- */

/* Write text to a fresh temporary file; its path goes to path (room for 64 bytes). */
static void
write_temp(char *path, size_t pathlen, const char *text)
{
    size_t len = strlen(text);
    int fd;

    ck_assert_uint_ge(pathlen, 32);
    snprintf(path, pathlen, "/tmp/ph-test-creds-XXXXXX");
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void
load_cfg(struct cfg *c)
{
    char err[512];

    err[0] = '\0';
    ck_assert_msg(cfg_load(c, NULL, 0, err, sizeof(err)) == 0, "cfg_load: %s", err);
}

static long
ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --- awsconfig -------------------------------------------------------------------------- */

#define INI_TEXT \
    "# a comment\n" \
    "; another comment\n" \
    "[default]\n" \
    "region = us-west-2\n" \
    "plain=v1\n" \
    "   spaced   =    value with spaces   \n" \
    "url = https://example.com/?a=b\n" \
    "\n" \
    "[commented]\n" \
    "# hidden = no\n" \
    "; semi = no\n" \
    "[ other ]\n" \
    "region = ap-southeast-2\n" \
    "[dev]\n" \
    "region = not-for-the-config-file\n" \
    "[profile dev]\n" \
    "region = eu-west-2\n" \
    "output = json\n" \
    "[crlf]\r\n" \
    "key = v\r\n"

static void
expect_lookup(const char *path, const char *section, const char *key, const char *want)
{
    char out[128];

    out[0] = '\0';
    ck_assert_msg(awsconfig_lookup(path, section, key, out, sizeof(out)) == 0,
                  "[%s] %s not found", section, key);
    ck_assert_str_eq(out, want);
}

static void
expect_no_lookup(const char *path, const char *section, const char *key)
{
    char out[128];

    ck_assert_msg(awsconfig_lookup(path, section, key, out, sizeof(out)) == -1,
                  "[%s] %s found", section, key);
}

START_TEST(test_lookup_sections)
{
    char path[64];

    write_temp(path, sizeof(path), INI_TEXT);
    expect_lookup(path, "default", "region", "us-west-2");
    expect_lookup(path, "default", "plain", "v1");
    expect_lookup(path, "default", "spaced", "value with spaces");
    expect_lookup(path, "default", "url", "https://example.com/?a=b");
    expect_lookup(path, "other", "region", "ap-southeast-2");
    expect_lookup(path, "dev", "region", "not-for-the-config-file");
    expect_lookup(path, "profile dev", "region", "eu-west-2");
    expect_lookup(path, "profile dev", "output", "json");
    expect_lookup(path, "crlf", "key", "v");
    unlink(path);
}
END_TEST

START_TEST(test_lookup_comments)
{
    char path[64];

    write_temp(path, sizeof(path), INI_TEXT);
    expect_no_lookup(path, "commented", "# hidden");
    expect_no_lookup(path, "commented", "hidden");
    expect_no_lookup(path, "commented", "; semi");
    expect_no_lookup(path, "commented", "semi");
    unlink(path);
}
END_TEST

START_TEST(test_lookup_missing)
{
    char path[64];

    write_temp(path, sizeof(path), INI_TEXT);
    expect_no_lookup(path, "default", "nokey");
    expect_no_lookup(path, "nosection", "region");
    /* A key of another section. */
    expect_no_lookup(path, "other", "plain");
    expect_no_lookup(path, "profile other", "region");
    unlink(path);
    /* No file. */
    expect_no_lookup(path, "default", "region");
    expect_no_lookup("/nonexistent/ph-credentials", "default", "region");
}
END_TEST

START_TEST(test_paths_and_profile)
{
    char creds[256], conf[256], want[256];

    awsconfig_paths(creds, sizeof(creds), conf, sizeof(conf));
    snprintf(want, sizeof(want), "%s/.aws/credentials", home);
    ck_assert_str_eq(creds, want);
    snprintf(want, sizeof(want), "%s/.aws/config", home);
    ck_assert_str_eq(conf, want);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/etc/ph/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/etc/ph/config", 1);
    awsconfig_paths(creds, sizeof(creds), conf, sizeof(conf));
    ck_assert_str_eq(creds, "/etc/ph/credentials");
    ck_assert_str_eq(conf, "/etc/ph/config");

    ck_assert_str_eq(awsconfig_profile(), "default");
    setenv("AWS_PROFILE", "", 1);
    ck_assert_str_eq(awsconfig_profile(), "default");
    setenv("AWS_PROFILE", "dev", 1);
    ck_assert_str_eq(awsconfig_profile(), "dev");
}
END_TEST

START_TEST(test_profile_value)
{
    char path[64], out[128], dir[128], file[160];
    FILE *f;

    write_temp(path, sizeof(path), INI_TEXT);
    setenv("AWS_CONFIG_FILE", path, 1);
    /* "[profile dev]", not "[dev]" (that is the credentials file's form). */
    setenv("AWS_PROFILE", "dev", 1);
    ck_assert_int_eq(awsconfig_profile_value("region", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "eu-west-2");
    ck_assert_int_eq(awsconfig_profile_value("output", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "json");
    ck_assert_int_eq(awsconfig_profile_value("nokey", out, sizeof(out)), -1);
    /* No profile: "[default]". */
    unsetenv("AWS_PROFILE");
    ck_assert_int_eq(awsconfig_profile_value("region", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "us-west-2");
    /* "[ other ]" is not "[profile other]". */
    setenv("AWS_PROFILE", "other", 1);
    ck_assert_int_eq(awsconfig_profile_value("region", out, sizeof(out)), -1);
    unlink(path);
    setenv("AWS_PROFILE", "dev", 1);
    ck_assert_int_eq(awsconfig_profile_value("region", out, sizeof(out)), -1);

    /* Without AWS_CONFIG_FILE: ~/.aws/config. */
    unsetenv("AWS_CONFIG_FILE");
    ck_assert_int_eq(awsconfig_profile_value("region", out, sizeof(out)), -1);
    snprintf(dir, sizeof(dir), "%s/.aws", home);
    snprintf(file, sizeof(file), "%s/config", dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[profile dev]\nregion = sa-east-1\n", f);
    fclose(f);
    ck_assert_int_eq(awsconfig_profile_value("region", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "sa-east-1");
    unlink(file);
    rmdir(dir);
}
END_TEST

/* --- creds: environment and profile ----------------------------------------------------- */

#define CREDS_TEXT \
    "# shared credentials\n" \
    "[default]\n" \
    "aws_access_key_id = AKIADEFAULT\n" \
    "aws_secret_access_key = defaultsecret\n" \
    "\n" \
    "[dev]\n" \
    "aws_access_key_id=AKIADEV\n" \
    "aws_secret_access_key = devsecret\n" \
    "aws_session_token = devtoken\n" \
    "[half]\n" \
    "aws_access_key_id = AKIAHALF\n"

START_TEST(test_env_static)
{
    const struct aws_creds *a = NULL, *b = NULL;
    struct creds_provider *p;
    struct app_error err;
    struct cfg c;
    time_t now = time(NULL);

    setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    load_cfg(&c);
    p = creds_new(&c);
    ck_assert_uint_eq(creds_fetches(p), 0);
    app_error_clear(&err);
    ck_assert_int_eq(creds_get(p, now, &a, &err), APP_OK);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->source, "environment");
    ck_assert_str_eq(a->access_key, "AKIAENVEXAMPLE");
    ck_assert_str_eq(a->secret_key, "envsecret");
    ck_assert_str_eq(a->session_token, "envtoken");
    ck_assert(a->expires == 0);
    ck_assert_uint_eq(creds_fetches(p), 1);
    /* They do not expire: the same ones, not fetched again, even years later. */
    ck_assert_int_eq(creds_get(p, now + 10 * 365 * 86400L, &b, &err), APP_OK);
    ck_assert_ptr_eq(a, b);
    ck_assert_uint_eq(creds_fetches(p), 1);
    ck_assert_int_eq(err.code, APP_OK);
    creds_free(p);
    cfg_free(&c);

    /* Without a session token: empty. */
    unsetenv("AWS_SESSION_TOKEN");
    load_cfg(&c);
    p = creds_new(&c);
    ck_assert_int_eq(creds_get(p, now, &a, &err), APP_OK);
    ck_assert_str_eq(a->session_token, "");
    creds_free(p);
    cfg_free(&c);
}
END_TEST

START_TEST(test_profile_creds)
{
    const struct aws_creds *a = NULL;
    struct creds_provider *p;
    struct app_error err;
    struct cfg c;
    char path[64];

    write_temp(path, sizeof(path), CREDS_TEXT);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_PROFILE", "dev", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    load_cfg(&c);
    p = creds_new(&c);
    app_error_clear(&err);
    ck_assert_int_eq(creds_get(p, time(NULL), &a, &err), APP_OK);
    ck_assert_str_eq(a->source, "profile");
    ck_assert_str_eq(a->access_key, "AKIADEV");
    ck_assert_str_eq(a->secret_key, "devsecret");
    ck_assert_str_eq(a->session_token, "devtoken");
    ck_assert(a->expires == 0);
    ck_assert_uint_eq(creds_fetches(p), 1);
    ck_assert_int_eq(creds_get(p, time(NULL) + 86400, &a, &err), APP_OK);
    ck_assert_uint_eq(creds_fetches(p), 1);
    creds_free(p);

    /* No AWS_PROFILE: [default]. */
    unsetenv("AWS_PROFILE");
    p = creds_new(&c);
    ck_assert_int_eq(creds_get(p, time(NULL), &a, &err), APP_OK);
    ck_assert_str_eq(a->access_key, "AKIADEFAULT");
    ck_assert_str_eq(a->session_token, "");
    creds_free(p);

    /* A profile without a secret yields nothing. */
    setenv("AWS_PROFILE", "half", 1);
    p = creds_new(&c);
    ck_assert_int_eq(creds_get(p, time(NULL), &a, &err), APP_EUNAVAILABLE);
    ck_assert_ptr_null(a);
    ck_assert_uint_eq(creds_fetches(p), 0);
    creds_free(p);
    cfg_free(&c);
    unlink(path);
}
END_TEST

START_TEST(test_env_wins_over_profile)
{
    const struct aws_creds *a = NULL;
    struct creds_provider *p;
    struct app_error err;
    struct cfg c;
    char path[64];

    write_temp(path, sizeof(path), CREDS_TEXT);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_PROFILE", "dev", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    load_cfg(&c);
    p = creds_new(&c);
    app_error_clear(&err);
    ck_assert_int_eq(creds_get(p, time(NULL), &a, &err), APP_OK);
    ck_assert_str_eq(a->source, "environment");
    ck_assert_str_eq(a->access_key, "AKIAENVEXAMPLE");
    ck_assert_str_eq(a->session_token, "");
    creds_free(p);
    cfg_free(&c);
    unlink(path);
}
END_TEST

START_TEST(test_none_imds_disabled)
{
    const struct aws_creds *a = NULL;
    struct creds_provider *p;
    struct app_error err;
    struct cfg c;

    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    load_cfg(&c);
    p = creds_new(&c);
    app_error_clear(&err);
    ck_assert_int_eq(creds_get(p, time(NULL), &a, &err), APP_EUNAVAILABLE);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(err.code, APP_EUNAVAILABLE);
    ck_assert_msg(strstr(err.msg, "disabled"), "message: %s", err.msg);
    ck_assert_uint_eq(creds_fetches(p), 0);
    creds_free(p);
    cfg_free(&c);
}
END_TEST

START_TEST(test_none_imds_unreachable)
{
    const struct aws_creds *a = NULL;
    struct creds_provider *p;
    struct app_error err;
    struct timespec t0;
    struct cfg c;
    time_t now = time(NULL);
    long ms;

    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    load_cfg(&c);
    p = creds_new(&c);

    /* Nothing listens: a quick failure. */
    app_error_clear(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(creds_get(p, now, &a, &err), APP_EUNAVAILABLE);
    ms = ms_since(&t0);
    ck_assert_msg(ms < 2000, "first attempt took %ld ms", ms);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(err.code, APP_EUNAVAILABLE);
    ck_assert_msg(strstr(err.msg, "imds"), "message: %s", err.msg);

    /* Within the retry pause: failed at once, without a network attempt. */
    app_error_clear(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(creds_get(p, now + 5, &a, &err), APP_EUNAVAILABLE);
    ms = ms_since(&t0);
    ck_assert_msg(ms < 50, "call within the retry pause took %ld ms", ms);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, "retried"), "message: %s", err.msg);

    /* After the pause: tried again (and failed again). */
    app_error_clear(&err);
    ck_assert_int_eq(creds_get(p, now + 11, &a, &err), APP_EUNAVAILABLE);
    ck_assert_msg(!strstr(err.msg, "retried") && strstr(err.msg, "imds"), "message: %s",
                  err.msg);
    ck_assert_uint_eq(creds_fetches(p), 0);
    creds_free(p);
    cfg_free(&c);
}
END_TEST

/* --- creds: IMDSv2 against a fake server ------------------------------------------------ */

#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"

struct fake_imds {
    pid_t pid;
    char endpoint[64];
};

/* Read one request head into req, NUL-terminated; 0, or -1 if the client went away. */
static int
read_head(int fd, char *req, size_t len)
{
    size_t n = 0;
    ssize_t r;

    for (;;) {
        r = read(fd, req + n, len - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            return 0;
        if (n == len - 1)
            return -1;
    }
}

static void
reply(int fd, int status, const char *body)
{
    char out[2048];
    const char *reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : "Not Found";
    int n;

    n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 status, reason, strlen(body), body);
    if (n > 0 && (size_t)n < sizeof(out))
        unit_write_all(fd, out, (size_t)n);
}

/*
 * The fake IMDS: sequential HTTP/1.1 requests, one per connection.  PUT /latest/api/token
 * hands out "tok"; a GET without "X-aws-ec2-metadata-token: <accept>" is 401; the role is
 * "role"; each fetch of its credentials issues AccessKeyId ASIA<n>, valid for 600 s.
 */
static void
imds_serve(int lfd, const char *accept_token)
{
    char req[8192], body[1024], exp[32], want[128];
    int fetches = 0;

    alarm(60);                      /* never outlive a test that failed before killing us */
    snprintf(want, sizeof(want), "\r\nX-aws-ec2-metadata-token: %s\r\n", accept_token);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        int authed;

        if (fd < 0)
            continue;
        if (read_head(fd, req, sizeof(req)) != 0) {
            close(fd);
            continue;
        }
        authed = strstr(req, want) ? 1 : 0;
        if (strncmp(req, "PUT /latest/api/token HTTP/1.1\r\n", 32) == 0 &&
            strstr(req, "\r\nX-aws-ec2-metadata-token-ttl-seconds: "))
            reply(fd, 200, "tok");
        else if (strncmp(req, "GET ", 4) == 0 && !authed)
            reply(fd, 401, "");
        else if (strncmp(req, "GET " IMDS_CREDS_PATH " ", strlen(IMDS_CREDS_PATH) + 5) == 0)
            reply(fd, 200, "role");
        else if (strncmp(req, "GET " IMDS_CREDS_PATH "role ",
                         strlen(IMDS_CREDS_PATH) + 9) == 0) {
            time_t t = time(NULL) + 600;
            struct tm tm;

            gmtime_r(&t, &tm);
            strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
            fetches++;
            snprintf(body, sizeof(body), "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\","
                     "\"AccessKeyId\":\"ASIA%d\",\"SecretAccessKey\":\"secret%d\","
                     "\"Token\":\"token%d\",\"Expiration\":\"%s\"}",
                     fetches, fetches, fetches, exp);
            reply(fd, 200, body);
        } else {
            reply(fd, 404, "");
        }
        close(fd);
    }
}

static void
imds_start(struct fake_imds *f, const char *accept_token)
{
    int fd = unit_listen_loopback(f->endpoint, sizeof(f->endpoint));

    f->pid = fork();
    ck_assert_int_ge(f->pid, 0);
    if (f->pid == 0) {
        imds_serve(fd, accept_token);
        _exit(0);
    }
    close(fd);
}

static void
imds_stop(struct fake_imds *f)
{
    int status;

    if (f->pid <= 0)
        return;
    ck_assert_int_eq(kill(f->pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(f->pid, &status, 0), f->pid);
    f->pid = 0;
}

START_TEST(test_imds_fetch_and_refresh)
{
    const struct aws_creds *a = NULL;
    struct creds_provider *p;
    struct unit_capture cap;
    struct fake_imds f;
    struct app_error err;
    struct cfg c;
    time_t now = time(NULL), exp1, exp2;
    char *log;
    int rc;

    imds_start(&f, "tok");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f.endpoint, 1);
    load_cfg(&c);
    p = creds_new(&c);

    /* No environment, no profile: the instance role. */
    app_error_clear(&err);
    rc = creds_get(p, now, &a, &err);
    ck_assert_msg(rc == APP_OK, "creds_get: %d %s", rc, err.msg);
    ck_assert_str_eq(a->source, "imds");
    ck_assert_str_eq(a->access_key, "ASIA1");
    ck_assert_str_eq(a->secret_key, "secret1");
    ck_assert_str_eq(a->session_token, "token1");
    ck_assert_msg(a->expires >= now + 598 && a->expires <= time(NULL) + 602,
                  "expires %ld, now %ld", (long)a->expires, (long)now);
    exp1 = a->expires;
    ck_assert_uint_eq(creds_fetches(p), 1);

    /* Long before the refresh point: cached. */
    ck_assert_int_eq(creds_get(p, time(NULL), &a, &err), APP_OK);
    ck_assert_str_eq(a->access_key, "ASIA1");
    ck_assert_uint_eq(creds_fetches(p), 1);

    /* In the refresh window, the old ones still valid: fetched anew. */
    ck_assert_int_eq(creds_get(p, exp1 - 10, &a, &err), APP_OK);
    ck_assert_str_eq(a->source, "imds");
    ck_assert_str_eq(a->access_key, "ASIA2");
    ck_assert_str_eq(a->session_token, "token2");
    ck_assert_uint_eq(creds_fetches(p), 2);
    exp2 = a->expires;
    ck_assert(exp2 >= exp1);

    /* IMDS gone, in the refresh window but before expiry: the current ones, and a warning. */
    imds_stop(&f);
    unit_capture_start(&cap);
    rc = creds_get(p, exp2 - 1, &a, &err);
    log = unit_capture_end(&cap);
    ck_assert_msg(rc == APP_OK, "creds_get: %d %s", rc, err.msg);
    ck_assert_str_eq(a->access_key, "ASIA2");
    ck_assert_msg(strstr(log, "refreshing aws credentials failed"), "log: %s", log);
    free(log);
    ck_assert_uint_eq(creds_fetches(p), 2);
    ck_assert_int_eq(err.code, APP_OK);

    /* Expired, IMDS gone: none (within the retry pause, then after it). */
    ck_assert_int_eq(creds_get(p, exp2 + 1, &a, &err), APP_EUNAVAILABLE);
    ck_assert_ptr_null(a);
    ck_assert_int_eq(err.code, APP_EUNAVAILABLE);
    app_error_clear(&err);
    ck_assert_int_eq(creds_get(p, exp2 + 60, &a, &err), APP_EUNAVAILABLE);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, "imds"), "message: %s", err.msg);
    ck_assert_uint_eq(creds_fetches(p), 2);
    creds_free(p);
    cfg_free(&c);
}
END_TEST

START_TEST(test_imds_token_refused)
{
    const struct aws_creds *a = NULL;
    struct creds_provider *p;
    struct fake_imds f;
    struct app_error err;
    struct cfg c;

    /* The server hands out "tok" but only honours another token: every GET is 401. */
    imds_start(&f, "rotated");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f.endpoint, 1);
    load_cfg(&c);
    p = creds_new(&c);
    app_error_clear(&err);
    ck_assert_int_eq(creds_get(p, time(NULL), &a, &err), APP_EUNAVAILABLE);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, "401"), "message: %s", err.msg);
    ck_assert_uint_eq(creds_fetches(p), 0);
    imds_stop(&f);
    creds_free(p);
    cfg_free(&c);
}
END_TEST

/* --- cfg: region and table prefix ------------------------------------------------------- */

static void
expect_region(const char *want)
{
    struct cfg c;

    load_cfg(&c);
    ck_assert_str_eq(cfg_region(&c), want);
    ck_assert_str_eq(c.region, want);
    cfg_free(&c);
}

START_TEST(test_region_order)
{
    char path[64];

    write_temp(path, sizeof(path), "[default]\nregion = ap-south-1\n"
               "[profile dev]\nregion = eu-west-2\n[profile blank]\nregion =\n");
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_PROFILE", "dev", 1);
    setenv("AWS_REGION", "eu-central-1", 1);
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    expect_region("eu-central-1");
    unsetenv("AWS_REGION");
    expect_region("us-west-1");
    setenv("AWS_REGION", "", 1);          /* set but empty: as unset */
    expect_region("us-west-1");
    unsetenv("AWS_DEFAULT_REGION");
    expect_region("eu-west-2");
    unsetenv("AWS_PROFILE");
    expect_region("ap-south-1");
    setenv("AWS_PROFILE", "blank", 1);
    expect_region("us-east-1");
    setenv("AWS_PROFILE", "ghost", 1);
    expect_region("us-east-1");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_CONFIG_FILE");
    expect_region("us-east-1");
    unlink(path);
}
END_TEST

static int
is_table_setting(const char *name)
{
    size_t n = strlen(name);

    return (n > 6 && strcmp(name + n - 6, "_TABLE") == 0) ||
        strcmp(name, "DATABASE_TABLE_NAME") == 0;
}

START_TEST(test_table_prefix)
{
    struct cfg plain, c;
    char want[256];
    size_t i, tables = 0;

    load_cfg(&plain);
    setenv("DYNAMODB_TABLE_PREFIX", "staging-", 1);
    load_cfg(&c);
    ck_assert_str_eq(c.tbl_coupons, "staging-prodenthub-coupons");
    ck_assert_str_eq(c.tbl_catalogue, "staging-prodenthub-catalogue");
    ck_assert_str_eq(c.tbl_teams, "staging-prodenthub-teams");
    ck_assert_str_eq(c.tbl_app, "staging-prodenthub-app");
    ck_assert_str_eq(cfg_string(&c, "DYNAMODB_COUPONS_TABLE"), "staging-prodenthub-coupons");
    ck_assert_str_eq(cfg_string(&c, "DYNAMODB_TABLE_PREFIX"), "staging-");
    /* Not tables: untouched. */
    ck_assert_str_eq(c.s3_bucket, "prodenthub-score-reports");
    ck_assert_str_eq(c.ses_from, "noreply@prodenthub.com.au");
    ck_assert_str_eq(c.memcached_servers, "127.0.0.1:11211");
    ck_assert_str_eq(c.stage, "dev");
    ck_assert_int_eq(c.ddb_max_attempts, plain.ddb_max_attempts);
    ck_assert_int_eq(c.memcached_ttl_s, plain.memcached_ttl_s);
    /* Every setting: a table name is prefixed, anything else is as without the prefix. */
    for (i = 0; cfg_setting_name(i); i++) {
        const char *name = cfg_setting_name(i);
        const char *a = cfg_string(&plain, name), *b = cfg_string(&c, name);

        if (!a) {
            ck_assert_msg(!b, "%s", name);
            continue;
        }
        ck_assert_msg(b, "%s", name);
        if (is_table_setting(name)) {
            snprintf(want, sizeof(want), "staging-%s", a);
            ck_assert_str_eq(b, want);
            tables++;
        } else if (strcmp(name, "DYNAMODB_TABLE_PREFIX") != 0) {
            ck_assert_str_eq(b, a);
        }
    }
    ck_assert_uint_ge(tables, 14);
    cfg_free(&c);
    cfg_free(&plain);

    /* An explicit table name is prefixed too. */
    setenv("DYNAMODB_COUPONS_TABLE", "my-coupons", 1);
    load_cfg(&c);
    ck_assert_str_eq(c.tbl_coupons, "staging-my-coupons");
    cfg_free(&c);
}
END_TEST

START_TEST(test_cfg_string)
{
    struct cfg c;

    load_cfg(&c);
    ck_assert_str_eq(cfg_string(&c, "DYNAMODB_COUPONS_TABLE"), "prodenthub-coupons");
    ck_assert_str_eq(cfg_string(&c, "STAGE"), "dev");
    ck_assert_ptr_null(cfg_string(&c, "NO_SUCH_SETTING"));
    ck_assert_ptr_null(cfg_string(&c, ""));
    ck_assert_ptr_null(cfg_string(&c, "dynamodb_coupons_table"));
    /* Integer and octal settings have no string. */
    ck_assert_ptr_null(cfg_string(&c, "DYNAMODB_MAX_ATTEMPTS"));
    ck_assert_ptr_null(cfg_string(&c, "MEMCACHED_TTL_S"));
    ck_assert_ptr_null(cfg_string(&c, "PRODENTHUB_SOCKET_MODE"));
    cfg_free(&c);
}
END_TEST

static Suite *
creds_suite(void)
{
    Suite *s = suite_create("creds");
    TCase *tc = tcase_create("awsconfig");

    tcase_add_checked_fixture(tc, creds_setup, creds_teardown);
    tcase_add_test(tc, test_lookup_sections);
    tcase_add_test(tc, test_lookup_comments);
    tcase_add_test(tc, test_lookup_missing);
    tcase_add_test(tc, test_paths_and_profile);
    tcase_add_test(tc, test_profile_value);
    suite_add_tcase(s, tc);

    tc = tcase_create("chain");
    tcase_add_checked_fixture(tc, creds_setup, creds_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_env_static);
    tcase_add_test(tc, test_profile_creds);
    tcase_add_test(tc, test_env_wins_over_profile);
    tcase_add_test(tc, test_none_imds_disabled);
    tcase_add_test(tc, test_none_imds_unreachable);
    suite_add_tcase(s, tc);

    tc = tcase_create("imds");
    tcase_add_checked_fixture(tc, creds_setup, creds_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_imds_fetch_and_refresh);
    tcase_add_test(tc, test_imds_token_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("cfg");
    tcase_add_checked_fixture(tc, creds_setup, creds_teardown);
    tcase_add_test(tc, test_region_order);
    tcase_add_test(tc, test_table_prefix);
    tcase_add_test(tc, test_cfg_string);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(creds_suite)
