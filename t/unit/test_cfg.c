#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/cfg.h"
#include "unit.h"

/* Write text to a fresh temporary file; its path goes to path (room for 64 bytes). */
static void
write_temp(char *path, size_t pathlen, const char *text)
{
    size_t len = strlen(text);
    int fd;

    ck_assert_uint_ge(pathlen, 32);
    snprintf(path, pathlen, "/tmp/ph-test-cfg-XXXXXX");
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* cfg_load must fail with an error message containing every string in want (NULL-ended). */
static void
expect_fail(const char *path, const char *const *want)
{
    struct cfg c;
    char err[1024];
    size_t i;

    err[0] = '\0';
    ck_assert_int_eq(cfg_load(&c, path, 1, err, sizeof(err)), -1);
    for (i = 0; want[i]; i++)
        ck_assert_msg(strstr(err, want[i]), "error '%s' does not mention '%s'",
                      err, want[i]);
    /* On failure *out is left freed. */
    ck_assert_ptr_null(c.stage);
    ck_assert_ptr_null(c.stripe_secret_key);
}

static void
load_ok(struct cfg *c, const char *path)
{
    char err[1024];

    err[0] = '\0';
    ck_assert_msg(cfg_load(c, path, 1, err, sizeof(err)) == 0, "cfg_load failed: %s", err);
}

/* --- defaults and the environment ------------------------------------------------------- */

START_TEST(test_defaults)
{
    struct cfg c;

    load_ok(&c, NULL);
    ck_assert_str_eq(c.stage, "dev");
    ck_assert_str_eq(c.listen, "127.0.0.1:9000");
    ck_assert_int_eq(c.socket_mode, 0660);
    ck_assert_int_eq(c.workers, 0);
    ck_assert_int_eq(c.backlog, 1024);
    ck_assert_int_eq(c.max_body, 65536);
    ck_assert_int_eq(c.json_max_depth, 20);
    ck_assert_int_eq(c.cors_max_age, 600);
    ck_assert_str_eq(c.log_level, "info");
    ck_assert_str_eq(c.cors_origins, "");
    ck_assert_str_eq(c.admin_token, "");
    ck_assert_str_eq(c.stripe_secret_key, "");
    ck_assert_str_eq(c.tbl_teams, "prodenthub-teams");
    ck_assert_str_eq(c.tbl_mock_statistics, "prodenthub-mock-statistics");
    ck_assert_str_eq(c.memcached_servers, "127.0.0.1:11211");
    ck_assert_int_eq(c.ddb_timeout_ms, 3000);
    ck_assert(!cfg_is_production(&c));
    cfg_free(&c);
    ck_assert_ptr_null(c.stage);
}
END_TEST

START_TEST(test_env_override)
{
    struct cfg c;

    setenv("PRODENTHUB_WORKERS", "3", 1);
    setenv("PRODENTHUB_LISTEN", "/run/prodenthub/fcgi.sock", 1);
    setenv("PRODENTHUB_SOCKET_MODE", "600", 1);
    setenv("DYNAMODB_TEAMS_TABLE", "my-teams", 1);
    setenv("STAGE", "staging", 1);
    load_ok(&c, NULL);
    ck_assert_int_eq(c.workers, 3);
    ck_assert_str_eq(c.listen, "/run/prodenthub/fcgi.sock");
    ck_assert_int_eq(c.socket_mode, 0600);
    ck_assert_str_eq(c.tbl_teams, "my-teams");
    ck_assert_str_eq(c.stage, "staging");
    ck_assert(!cfg_is_production(&c));
    cfg_free(&c);
    unsetenv("PRODENTHUB_WORKERS");
    unsetenv("PRODENTHUB_LISTEN");
    unsetenv("PRODENTHUB_SOCKET_MODE");
    unsetenv("DYNAMODB_TEAMS_TABLE");
    unsetenv("STAGE");
}
END_TEST

START_TEST(test_env_int_bounds)
{
    struct cfg c;

    setenv("PRODENTHUB_WORKERS", "256", 1);
    load_ok(&c, NULL);
    ck_assert_int_eq(c.workers, 256);
    cfg_free(&c);
    unsetenv("PRODENTHUB_WORKERS");
}
END_TEST

START_TEST(test_env_int_refused)
{
    static const char *const bad[] = {"257", "-1", "abc", "3x", " 3", "", "1e2",
                                      "99999999999999999999999"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *want[] = {"PRODENTHUB_WORKERS", bad[i], "environment", NULL};

        setenv("PRODENTHUB_WORKERS", bad[i], 1);
        expect_fail(NULL, want);
    }
    unsetenv("PRODENTHUB_WORKERS");
}
END_TEST

START_TEST(test_env_other_ints_refused)
{
    const char *want_backlog[] = {"PRODENTHUB_BACKLOG", "from 16 to 65535", NULL};
    const char *want_body[] = {"PRODENTHUB_MAX_BODY", NULL};
    const char *want_mode[] = {"PRODENTHUB_SOCKET_MODE", "octal", "888", NULL};
    const char *want_mode2[] = {"PRODENTHUB_SOCKET_MODE", "octal", "1000", NULL};

    setenv("PRODENTHUB_BACKLOG", "15", 1);
    expect_fail(NULL, want_backlog);
    unsetenv("PRODENTHUB_BACKLOG");

    setenv("PRODENTHUB_MAX_BODY", "16777217", 1);
    expect_fail(NULL, want_body);
    unsetenv("PRODENTHUB_MAX_BODY");

    setenv("PRODENTHUB_SOCKET_MODE", "888", 1);
    expect_fail(NULL, want_mode);
    setenv("PRODENTHUB_SOCKET_MODE", "1000", 1);
    expect_fail(NULL, want_mode2);
    unsetenv("PRODENTHUB_SOCKET_MODE");
}
END_TEST

START_TEST(test_checks_refused)
{
    const char *want_stage[] = {"STAGE", "prod", NULL};
    const char *want_level[] = {"PRODENTHUB_LOG_LEVEL", "verbose", NULL};
    const char *want_listen[] = {"PRODENTHUB_LISTEN", NULL};
    const char *want_url[] = {"AWS_ENDPOINT_URL", NULL};
    const char *want_ddb_url[] = {"AWS_ENDPOINT_URL_DYNAMODB", NULL};
    const char *want_keys[] = {"AWS_SECRET_ACCESS_KEY", NULL};
    const char *want_timeouts[] = {"DYNAMODB_CONNECT_TIMEOUT_MS", NULL};

    setenv("STAGE", "prod", 1);
    expect_fail(NULL, want_stage);
    unsetenv("STAGE");

    setenv("PRODENTHUB_LOG_LEVEL", "verbose", 1);
    expect_fail(NULL, want_level);
    unsetenv("PRODENTHUB_LOG_LEVEL");

    setenv("PRODENTHUB_LISTEN", "", 1);
    expect_fail(NULL, want_listen);
    unsetenv("PRODENTHUB_LISTEN");

    setenv("AWS_ENDPOINT_URL", "localhost:8000", 1);
    expect_fail(NULL, want_url);
    unsetenv("AWS_ENDPOINT_URL");

    setenv("AWS_ENDPOINT_URL_DYNAMODB", "ftp://x", 1);
    expect_fail(NULL, want_ddb_url);
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");

    setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE", 1);
    expect_fail(NULL, want_keys);
    unsetenv("AWS_ACCESS_KEY_ID");

    setenv("DYNAMODB_CONNECT_TIMEOUT_MS", "5000", 1);
    setenv("DYNAMODB_TIMEOUT_MS", "4000", 1);
    expect_fail(NULL, want_timeouts);
    unsetenv("DYNAMODB_CONNECT_TIMEOUT_MS");
    unsetenv("DYNAMODB_TIMEOUT_MS");
}
END_TEST

START_TEST(test_log_levels)
{
    static const char *const ok[] = {"debug", "info", "warn", "error"};
    struct cfg c;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        setenv("PRODENTHUB_LOG_LEVEL", ok[i], 1);
        load_ok(&c, NULL);
        ck_assert_str_eq(c.log_level, ok[i]);
        cfg_free(&c);
    }
    unsetenv("PRODENTHUB_LOG_LEVEL");
}
END_TEST

/* --- the config file -------------------------------------------------------------------- */

START_TEST(test_file_loaded)
{
    char path[64];
    struct cfg c;

    write_temp(path, sizeof(path),
               "# prodenthub settings\n"
               "\n"
               "PRODENTHUB_WORKERS=5\n"
               "   # an indented comment\n"
               "  PRODENTHUB_BACKLOG   =   2048  \n"
               "\t\n"
               "DYNAMODB_COUPONS_TABLE = dev-coupons\n"
               "CORS_ALLOWED_ORIGINS=https://a.example, https://b.example\n"
               "MEMCACHED_SERVERS=\n"
               "PRODENTHUB_SOCKET_MODE=0600");      /* no final newline */
    load_ok(&c, path);
    ck_assert_int_eq(c.workers, 5);
    ck_assert_int_eq(c.backlog, 2048);
    ck_assert_str_eq(c.tbl_coupons, "dev-coupons");
    ck_assert_str_eq(c.cors_origins, "https://a.example, https://b.example");
    ck_assert_str_eq(c.memcached_servers, "");
    ck_assert_int_eq(c.socket_mode, 0600);
    /* Not in the file: still the default. */
    ck_assert_int_eq(c.json_max_depth, 20);
    cfg_free(&c);
    unlink(path);
}
END_TEST

START_TEST(test_file_value_with_equals)
{
    char path[64];
    struct cfg c;

    write_temp(path, sizeof(path), "API_BASE_URL=https://api.example/v1?a=b\n");
    load_ok(&c, path);
    ck_assert_str_eq(c.api_base_url, "https://api.example/v1?a=b");
    cfg_free(&c);
    unlink(path);
}
END_TEST

START_TEST(test_env_wins_over_file)
{
    char path[64];
    struct cfg c;

    write_temp(path, sizeof(path), "PRODENTHUB_WORKERS=5\nPRODENTHUB_BACKLOG=2048\n");
    setenv("PRODENTHUB_WORKERS", "7", 1);
    load_ok(&c, path);
    ck_assert_int_eq(c.workers, 7);
    ck_assert_int_eq(c.backlog, 2048);
    cfg_free(&c);
    unsetenv("PRODENTHUB_WORKERS");
    unlink(path);
}
END_TEST

START_TEST(test_file_unknown_key)
{
    char path[64], where[96];
    const char *want[] = {where, "NO_SUCH_SETTING", NULL};

    write_temp(path, sizeof(path), "# comment\nPRODENTHUB_WORKERS=2\n NO_SUCH_SETTING = 1\n");
    snprintf(where, sizeof(where), "%s:3", path);
    expect_fail(path, want);
    unlink(path);
}
END_TEST

START_TEST(test_file_bad_lines)
{
    char path[64], where[96];
    const char *want_noeq[] = {where, "NAME=value", NULL};
    const char *want_range[] = {where, "PRODENTHUB_WORKERS", "999", NULL};

    write_temp(path, sizeof(path), "\nPRODENTHUB_WORKERS\n");
    snprintf(where, sizeof(where), "%s:2", path);
    expect_fail(path, want_noeq);
    unlink(path);

    write_temp(path, sizeof(path), "PRODENTHUB_WORKERS=999\n");
    snprintf(where, sizeof(where), "%s:1", path);
    expect_fail(path, want_range);
    unlink(path);
}
END_TEST

/* Issue 12, item 14: a secret whose '=' was lost is never echoed into the journal. */
START_TEST(test_file_bad_line_not_echoed)
{
    struct cfg c;
    char path[64], err[1024];

    write_temp(path, sizeof(path), "STAGE=dev\nSTRIPE_SECRET_KEY sk_live_51Hsecret\n");
    err[0] = '\0';
    ck_assert_int_eq(cfg_load(&c, path, 1, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":2"));
    ck_assert_msg(!strstr(err, "sk_live"), "the line was echoed: %s", err);
    unlink(path);
}
END_TEST

START_TEST(test_file_missing)
{
    struct cfg c;
    char err[512];
    const char *want[] = {"/nonexistent/prodenthub.conf", NULL};

    /* Not required: a missing file is fine. */
    ck_assert_int_eq(cfg_load(&c, "/nonexistent/prodenthub.conf", 0, err, sizeof(err)), 0);
    ck_assert_str_eq(c.stage, "dev");
    cfg_free(&c);
    /* Required: an error naming the path. */
    expect_fail("/nonexistent/prodenthub.conf", want);
}
END_TEST

/* --- production ------------------------------------------------------------------------- */

static void
set_production(void)
{
    setenv("STAGE", "production", 1);
    setenv("CORS_ALLOWED_ORIGINS", "https://prodenthub.com.au", 1);
    setenv("STRIPE_SECRET_KEY", "sk_live_x", 1);
    setenv("STRIPE_WEBHOOK_SECRET", "whsec_x", 1);
    setenv("OUTBOX_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
}

START_TEST(test_production_ok)
{
    struct cfg c;

    set_production();
    load_ok(&c, NULL);
    ck_assert(cfg_is_production(&c));
    ck_assert_str_eq(c.cors_origins, "https://prodenthub.com.au");
    cfg_free(&c);
}
END_TEST

START_TEST(test_production_requires)
{
    static const char *const req[] = {"CORS_ALLOWED_ORIGINS", "STRIPE_SECRET_KEY",
                                      "STRIPE_WEBHOOK_SECRET", "OUTBOX_KEY"};
    size_t i;

    for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        const char *want[] = {req[i], "production", NULL};

        set_production();
        unsetenv(req[i]);
        expect_fail(NULL, want);
        /* Set but empty counts as missing. */
        setenv(req[i], "", 1);
        expect_fail(NULL, want);
    }
}
END_TEST

START_TEST(test_production_refuses_wildcard)
{
    const char *want[] = {"CORS_ALLOWED_ORIGINS", "*", NULL};
    struct cfg c;

    set_production();
    setenv("CORS_ALLOWED_ORIGINS", "*", 1);
    expect_fail(NULL, want);
    setenv("CORS_ALLOWED_ORIGINS", "https://prodenthub.com.au,https://*.example", 1);
    expect_fail(NULL, want);
    /* Outside production a wildcard is allowed. */
    setenv("STAGE", "staging", 1);
    setenv("CORS_ALLOWED_ORIGINS", "*", 1);
    load_ok(&c, NULL);
    cfg_free(&c);
}
END_TEST

/* Issue 12, item 14: no SMTP in production that may fall back to clear text. */
START_TEST(test_production_smtp_tls)
{
    static const struct {
        const char *url, *starttls;
        int ok;
    } cases[] = {
        {"smtp://mail.example:587", "try", 0},
        {"smtp://127.0.0.1:25", "try", 0},
        {"smtp://mail.example:587", "none", 0},
        {"smtp://localhost:25", "none", 1},
        {"smtp://127.0.0.1", "none", 1},
        {"smtp://[::1]:25", "none", 1},
        {"smtp://localhost.evil.example:25", "none", 0},
        {"smtp://mail.example:587", "required", 1},
        {"smtps://mail.example:465", "try", 1},
    };
    const char *want[] = {"SMTP_STARTTLS", NULL};
    struct cfg c;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        set_production();
        setenv("SMTP_URL", cases[i].url, 1);
        setenv("SMTP_STARTTLS", cases[i].starttls, 1);
        if (cases[i].ok) {
            load_ok(&c, NULL);
            cfg_free(&c);
        } else {
            expect_fail(NULL, want);
        }
        /* Outside production, and with SES, any setting loads. */
        setenv("STAGE", "staging", 1);
        load_ok(&c, NULL);
        cfg_free(&c);
        setenv("STAGE", "production", 1);
        setenv("EMAIL_TRANSPORT", "ses", 1);
        load_ok(&c, NULL);
        cfg_free(&c);
        unsetenv("EMAIL_TRANSPORT");
    }
}
END_TEST

START_TEST(test_outbox_key_shape)
{
    const char *want[] = {"OUTBOX_KEY", "64 hex", NULL};
    struct cfg c;

    setenv("OUTBOX_KEY", "not-hex", 1);
    expect_fail(NULL, want);
    setenv("OUTBOX_KEY", "0001", 1);
    expect_fail(NULL, want);
    setenv("OUTBOX_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
    load_ok(&c, NULL);
    cfg_free(&c);
}
END_TEST

START_TEST(test_subscription_settings)
{
    const char *prices[] = {"STRIPE_SUBSCRIPTION_PRICES", "listed twice", NULL};
    const char *ends[] = {"STRIPE_SUBSCRIPTION_PRICES", "ends with a comma", NULL};
    struct cfg c;

    setenv("STRIPE_SUBSCRIPTION_PRICES", "price_a=basic, price_a=pro", 1);
    expect_fail(NULL, prices);
    setenv("STRIPE_SUBSCRIPTION_PRICES", "price_a=basic,", 1);
    expect_fail(NULL, ends);
    setenv("STRIPE_SUBSCRIPTION_PRICES", "price_a=basic, price_b", 1);
    load_ok(&c, NULL);
    ck_assert_str_eq(c.stripe_subscription_prices, "price_a=basic, price_b");
    cfg_free(&c);
    unsetenv("STRIPE_SUBSCRIPTION_PRICES");
}
END_TEST

/* --- secrets ---------------------------------------------------------------------------- */

START_TEST(test_secret_file)
{
    char path[64];
    struct cfg c;

    write_temp(path, sizeof(path), "sk_test_from_file\n");
    setenv("STRIPE_SECRET_KEY_FILE", path, 1);
    load_ok(&c, NULL);
    ck_assert_str_eq(c.stripe_secret_key, "sk_test_from_file");
    cfg_free(&c);
    unsetenv("STRIPE_SECRET_KEY_FILE");
    unlink(path);
}
END_TEST

START_TEST(test_secret_file_crlf)
{
    char path[64];
    struct cfg c;

    write_temp(path, sizeof(path), "admin-token\r\n\n");
    setenv("PRODENTHUB_ADMIN_TOKEN_FILE", path, 1);
    load_ok(&c, NULL);
    ck_assert_str_eq(c.admin_token, "admin-token");
    cfg_free(&c);
    unsetenv("PRODENTHUB_ADMIN_TOKEN_FILE");
    unlink(path);
}
END_TEST

START_TEST(test_secret_file_overrides_file)
{
    char conf[64], secret[64];
    struct cfg c;

    write_temp(conf, sizeof(conf), "STRIPE_WEBHOOK_SECRET=whsec_from_conf\n");
    write_temp(secret, sizeof(secret), "whsec_from_secret_file");
    setenv("STRIPE_WEBHOOK_SECRET_FILE", secret, 1);
    load_ok(&c, conf);
    ck_assert_str_eq(c.stripe_webhook_secret, "whsec_from_secret_file");
    cfg_free(&c);
    unsetenv("STRIPE_WEBHOOK_SECRET_FILE");
    unlink(conf);
    unlink(secret);
}
END_TEST

START_TEST(test_secret_both_refused)
{
    char path[64];
    const char *want[] = {"STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY_FILE", NULL};

    write_temp(path, sizeof(path), "sk_test_from_file\n");
    setenv("STRIPE_SECRET_KEY_FILE", path, 1);
    setenv("STRIPE_SECRET_KEY", "sk_test_env", 1);
    expect_fail(NULL, want);
    unsetenv("STRIPE_SECRET_KEY_FILE");
    unsetenv("STRIPE_SECRET_KEY");
    unlink(path);
}
END_TEST

START_TEST(test_secret_file_missing)
{
    const char *want[] = {"STRIPE_SECRET_KEY_FILE", "/nonexistent/secret", NULL};

    setenv("STRIPE_SECRET_KEY_FILE", "/nonexistent/secret", 1);
    expect_fail(NULL, want);
    unsetenv("STRIPE_SECRET_KEY_FILE");
}
END_TEST

START_TEST(test_secret_file_empty_name_ignored)
{
    struct cfg c;

    setenv("STRIPE_SECRET_KEY_FILE", "", 1);
    setenv("STRIPE_SECRET_KEY", "sk_test_env", 1);
    load_ok(&c, NULL);
    ck_assert_str_eq(c.stripe_secret_key, "sk_test_env");
    cfg_free(&c);
    unsetenv("STRIPE_SECRET_KEY_FILE");
    unsetenv("STRIPE_SECRET_KEY");
}
END_TEST

START_TEST(test_secret_file_too_large)
{
    char path[64];
    char *big = malloc(10001);
    const char *want[] = {"STRIPE_SECRET_KEY_FILE", NULL};

    ck_assert_ptr_nonnull(big);
    memset(big, 'k', 10000);
    big[10000] = '\0';
    write_temp(path, sizeof(path), big);
    free(big);
    setenv("STRIPE_SECRET_KEY_FILE", path, 1);
    expect_fail(NULL, want);
    unsetenv("STRIPE_SECRET_KEY_FILE");
    unlink(path);
}
END_TEST

/*
 * Fixed (lib/cfg.c, read_small_file): a secret file of exactly 4095 bytes is refused as
 * "larger than 4095 bytes": fread() asks for 4095 bytes, gets them all, and feof() is not
 * yet set because no read has hit the end.  Ask fread for sizeof(tmp) bytes and refuse when
 * n == sizeof(tmp) instead.
 */
START_TEST(test_secret_file_at_limit)
{
    char path[64];
    char *big = malloc(4096);
    struct cfg c;

    ck_assert_ptr_nonnull(big);
    memset(big, 'k', 4095);
    big[4095] = '\0';
    write_temp(path, sizeof(path), big);
    setenv("STRIPE_SECRET_KEY_FILE", path, 1);
    load_ok(&c, NULL);
    ck_assert_str_eq(c.stripe_secret_key, big);
    cfg_free(&c);
    free(big);
    unsetenv("STRIPE_SECRET_KEY_FILE");
    unlink(path);
}
END_TEST

/* Dump c into a pipe and return what was written (the caller frees it). */
static char *
dump_to_string(const struct cfg *c)
{
    int fds[2];

    ck_assert_int_eq(pipe(fds), 0);
    cfg_dump(c, fds[1]);
    close(fds[1]);
    return unit_read_fd(fds[0]);
}

START_TEST(test_dump_hides_secrets)
{
    char path[64];
    struct cfg c;
    char *out;

    write_temp(path, sizeof(path), "whsec_SECRET_FROM_FILE\n");
    setenv("STRIPE_SECRET_KEY", "sk_live_SECRET_VALUE_1", 1);
    setenv("STRIPE_WEBHOOK_SECRET_FILE", path, 1);
    setenv("PRODENTHUB_ADMIN_TOKEN", "ADMIN_SECRET_VALUE_2", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIAVISIBLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_VALUE_3", 1);
    setenv("PRODENTHUB_WORKERS", "3", 1);
    load_ok(&c, NULL);
    out = dump_to_string(&c);
    ck_assert_ptr_null(strstr(out, "SECRET_VALUE"));
    ck_assert_ptr_null(strstr(out, "SECRET_FROM_FILE"));
    ck_assert_ptr_nonnull(strstr(out, "STRIPE_SECRET_KEY=(set, hidden)\n"));
    ck_assert_ptr_nonnull(strstr(out, "STRIPE_WEBHOOK_SECRET=(set, hidden)\n"));
    ck_assert_ptr_nonnull(strstr(out, "PRODENTHUB_ADMIN_TOKEN=(set, hidden)\n"));
    ck_assert_ptr_nonnull(strstr(out, "AWS_SECRET_ACCESS_KEY=(set, hidden)\n"));
    /* An unset secret shows empty; ordinary settings show their value. */
    ck_assert_ptr_nonnull(strstr(out, "AWS_SESSION_TOKEN=\n"));
    ck_assert_ptr_nonnull(strstr(out, "AWS_ACCESS_KEY_ID=AKIAVISIBLE\n"));
    ck_assert_ptr_nonnull(strstr(out, "PRODENTHUB_WORKERS=3\n"));
    ck_assert_ptr_nonnull(strstr(out, "STAGE=dev\n"));
    ck_assert_ptr_nonnull(strstr(out, "PRODENTHUB_SOCKET_MODE=660\n"));
    free(out);
    cfg_free(&c);
    unsetenv("STRIPE_SECRET_KEY");
    unsetenv("STRIPE_WEBHOOK_SECRET_FILE");
    unsetenv("PRODENTHUB_ADMIN_TOKEN");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("PRODENTHUB_WORKERS");
    unlink(path);
}
END_TEST

START_TEST(test_dump_unset_secret)
{
    struct cfg c;
    char *out;

    load_ok(&c, NULL);
    out = dump_to_string(&c);
    ck_assert_ptr_null(strstr(out, "(set, hidden)"));
    ck_assert_ptr_nonnull(strstr(out, "STRIPE_SECRET_KEY=\n"));
    free(out);
    cfg_free(&c);
}
END_TEST

/* --- derived values --------------------------------------------------------------------- */

START_TEST(test_region_order)
{
    struct cfg c;

    load_ok(&c, NULL);
    ck_assert_str_eq(cfg_region(&c), "us-east-1");
    cfg_free(&c);

    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    load_ok(&c, NULL);
    ck_assert_str_eq(cfg_region(&c), "eu-west-1");
    cfg_free(&c);

    setenv("AWS_REGION", "ap-southeast-2", 1);
    load_ok(&c, NULL);
    ck_assert_str_eq(cfg_region(&c), "ap-southeast-2");
    cfg_free(&c);

    unsetenv("AWS_DEFAULT_REGION");
    load_ok(&c, NULL);
    ck_assert_str_eq(cfg_region(&c), "ap-southeast-2");
    cfg_free(&c);
    unsetenv("AWS_REGION");
}
END_TEST

static Suite *
cfg_suite(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("env");

    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_env_override);
    tcase_add_test(tc, test_env_int_bounds);
    tcase_add_test(tc, test_env_int_refused);
    tcase_add_test(tc, test_env_other_ints_refused);
    tcase_add_test(tc, test_checks_refused);
    tcase_add_test(tc, test_log_levels);
    suite_add_tcase(s, tc);

    tc = tcase_create("file");
    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_file_loaded);
    tcase_add_test(tc, test_file_value_with_equals);
    tcase_add_test(tc, test_env_wins_over_file);
    tcase_add_test(tc, test_file_unknown_key);
    tcase_add_test(tc, test_file_bad_lines);
    tcase_add_test(tc, test_file_bad_line_not_echoed);
    tcase_add_test(tc, test_file_missing);
    suite_add_tcase(s, tc);

    tc = tcase_create("production");
    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_production_ok);
    tcase_add_test(tc, test_production_requires);
    tcase_add_test(tc, test_production_refuses_wildcard);
    tcase_add_test(tc, test_production_smtp_tls);
    tcase_add_test(tc, test_outbox_key_shape);
    tcase_add_test(tc, test_subscription_settings);
    suite_add_tcase(s, tc);

    tc = tcase_create("secrets");
    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_secret_file);
    tcase_add_test(tc, test_secret_file_crlf);
    tcase_add_test(tc, test_secret_file_overrides_file);
    tcase_add_test(tc, test_secret_both_refused);
    tcase_add_test(tc, test_secret_file_missing);
    tcase_add_test(tc, test_secret_file_empty_name_ignored);
    tcase_add_test(tc, test_secret_file_too_large);
    tcase_add_test(tc, test_secret_file_at_limit);
    tcase_add_test(tc, test_dump_hides_secrets);
    tcase_add_test(tc, test_dump_unset_secret);
    suite_add_tcase(s, tc);

    tc = tcase_create("derived");
    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_region_order);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cfg_suite)
