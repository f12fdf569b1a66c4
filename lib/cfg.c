#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awsconfig.h"
#include "bedrock.h"
#include "cfg.h"
#include "cfg_ssm.h"
#include "cluster.h"
#include "cognito.h"
#include "sns.h"
#include "log.h"
#include "mem.h"
#include "scholarship.h"
#include "seal.h"
#include "strparse.h"

#include "cfg_int.h"

#define NDEFS cfg_ndefs


static char **
str_slot(struct cfg *c, const struct cfg_def *d)
{
    return (char **)((char *)c + d->off);
}

static long *
long_slot(struct cfg *c, const struct cfg_def *d)
{
    return (long *)((char *)c + d->off);
}

static const struct cfg_def *
cfg_find(const char *name)
{
    size_t i;

    for (i = 0; i < NDEFS; i++) {
        if (strcmp(cfg_defs[i].name, name) == 0)
            return &cfg_defs[i];
    }
    return NULL;
}

int
cfg_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Store value into the setting d; where says where it came from, for the error message. */
static int
cfg_set(struct cfg *c, const struct cfg_def *d, const char *value, const char *where,
        char *err, size_t errlen)
{
    long v;
    int rc;

    switch (d->type) {
    case CFG_STR:
        free(*str_slot(c, d));
        *str_slot(c, d) = xstrdup(value);
        return 0;
    case CFG_INT:
        rc = str_to_long(value, d->min, d->max, &v);
        break;
    case CFG_OCTAL:
        rc = str_to_octal(value, d->max, &v);
        break;
    default:
        return cfg_errf(err, errlen, "%s: %s has an unknown type", where, d->name);
    }
    if (rc != 0) {
        if (d->type == CFG_OCTAL)
            return cfg_errf(err, errlen, "%s: %s must be an octal mode, got '%s'",
                        where, d->name, value);
        return cfg_errf(err, errlen, "%s: %s must be an integer from %ld to %ld, got '%s'",
                    where, d->name, d->min, d->max, value);
    }
    *long_slot(c, d) = v;
    return 0;
}

static int
read_small_file(const char *path, char **out, char *err, size_t errlen, const char *name)
{
    char tmp[4096];
    size_t n;
    FILE *f = fopen(path, "r");

    if (!f)
        return cfg_errf(err, errlen, "%s_FILE: cannot open %s: %s", name, path, strerror(errno));
    n = fread(tmp, 1, sizeof(tmp), f);
    if (n == sizeof(tmp)) {
        fclose(f);
        return cfg_errf(err, errlen, "%s_FILE: %s is larger than %zu bytes", name, path,
                    sizeof(tmp) - 1);
    }
    fclose(f);
    tmp[n] = '\0';
    *out = xstrdup(str_trim(tmp));
    return 0;
}

static int
cfg_load_file(struct cfg *c, const char *path, int required, char *err, size_t errlen)
{
    char line[4096], where[PATH_MAX + 32];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        if (errno == ENOENT && !required)
            return 0;
        return cfg_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    }
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        const struct cfg_def *d;
        char *key, *value, *eq;

        lineno++;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            rc = cfg_errf(err, errlen, "%s: line too long", where);
            break;
        }
        key = str_trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            /* Never echo the line: a secret whose '=' was lost would land in the journal. */
            rc = cfg_errf(err, errlen, "%s: expected NAME=value (the line is not shown)", where);
            break;
        }
        *eq = '\0';
        value = str_trim(eq + 1);
        str_trim(key);
        d = cfg_find(key);
        if (!d && cfg_ssm_is_key(key)) {
            rc = cfg_ssm_file(c, key, value, where, err, errlen);
            continue;
        }
        if (!d) {
            rc = cfg_errf(err, errlen, "%s: unknown setting '%s'", where, key);
            break;
        }
        rc = cfg_set(c, d, value, where, err, errlen);
    }
    fclose(f);
    return rc;
}

static int
cfg_load_env(struct cfg *c, char *err, size_t errlen)
{
    char fname[128];
    size_t i;

    for (i = 0; i < NDEFS; i++) {
        const struct cfg_def *d = &cfg_defs[i];
        const char *v = getenv(d->name);

        if (d->flags & CFG_SECRET) {
            const char *fpath;

            snprintf(fname, sizeof(fname), "%s_FILE", d->name);
            fpath = getenv(fname);
            if (fpath && *fpath) {
                char *s = NULL;

                if (v)
                    return cfg_errf(err, errlen, "both %s and %s are set; use one", d->name, fname);
                if (read_small_file(fpath, &s, err, errlen, d->name) != 0)
                    return -1;
                free(*str_slot(c, d));
                *str_slot(c, d) = s;
                continue;
            }
        }
        if (v && cfg_set(c, d, v, "environment", err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int
url_ok(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

int
cfg_check(struct cfg *c, char *err, size_t errlen)
{
    unsigned char key[SEAL_KEY_LEN];
    size_t i;

    if (strcmp(c->stage, "dev") != 0 && strcmp(c->stage, "staging") != 0 &&
        strcmp(c->stage, "production") != 0)
        return cfg_errf(err, errlen, "STAGE must be dev, staging or production, got '%s'",
                        c->stage);
    if (log_level_parse(c->log_level) < 0)
        return cfg_errf(err, errlen, "PRODENTHUB_LOG_LEVEL must be debug, info, warn or error, "
                    "got '%s'", c->log_level);
    if (*c->listen == '\0')
        return cfg_errf(err, errlen, "PRODENTHUB_LISTEN must be host:port or a socket path");
    if (cfg_is_production(c)) {
        for (i = 0; i < NDEFS; i++) {
            const struct cfg_def *d = &cfg_defs[i];

            if ((d->flags & CFG_PROD_REQ) && **str_slot(c, d) == '\0' &&
                !cfg_ssm_find(c, d->name))
                return cfg_errf(err, errlen, "%s must be set when STAGE=production", d->name);
        }
        /* The seed asks for restricted origins in production: never a wildcard. */
        if (strchr(c->cors_origins, '*'))
            return cfg_errf(err, errlen, "CORS_ALLOWED_ORIGINS must not contain '*' in production");
    }
    if (!url_ok(c->stripe_api_base))
        return cfg_errf(err, errlen, "STRIPE_API_BASE must start with http:// or https://");
    if (cfg_is_production(c) && strncmp(c->stripe_api_base, "https://", 8) != 0)
        return cfg_errf(err, errlen, "STRIPE_API_BASE must be https:// in production");
    if (cfg_is_production(c) && c->clock_offset_s != 0)
        return cfg_errf(err, errlen, "PRODENTHUB_CLOCK_OFFSET_S is for tests: it must be 0 in "
                    "production");
    if (*c->aws_endpoint_url && !url_ok(c->aws_endpoint_url))
        return cfg_errf(err, errlen, "AWS_ENDPOINT_URL must start with http:// or https://");
    if (*c->aws_endpoint_url_dynamodb && !url_ok(c->aws_endpoint_url_dynamodb))
        return cfg_errf(err, errlen,
                        "AWS_ENDPOINT_URL_DYNAMODB must start with http:// or https://");
    if (*c->aws_endpoint_url_ssm && !url_ok(c->aws_endpoint_url_ssm))
        return cfg_errf(err, errlen, "AWS_ENDPOINT_URL_SSM must start with http:// or https://");
    if (!url_ok(c->imds_endpoint))
        return cfg_errf(err, errlen, "AWS_EC2_METADATA_SERVICE_ENDPOINT must start with http://");
    if (strcmp(c->imds_disabled, "true") != 0 && strcmp(c->imds_disabled, "false") != 0)
        return cfg_errf(err, errlen, "AWS_EC2_METADATA_DISABLED must be true or false");
    if (*c->aws_access_key_id && !*c->aws_secret_access_key)
        return cfg_errf(err, errlen, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    if (c->ddb_connect_timeout_ms > c->ddb_timeout_ms)
        return cfg_errf(err, errlen,
                        "DYNAMODB_CONNECT_TIMEOUT_MS must not exceed DYNAMODB_TIMEOUT_MS");
    if (strcmp(c->email_transport, "smtp") != 0 && strcmp(c->email_transport, "ses") != 0)
        return cfg_errf(err, errlen, "EMAIL_TRANSPORT must be smtp or ses");
    if (strncmp(c->smtp_url, "smtp://", 7) != 0 && strncmp(c->smtp_url, "smtps://", 8) != 0)
        return cfg_errf(err, errlen, "SMTP_URL must start with smtp:// or smtps://");
    if (strcmp(c->smtp_starttls, "none") != 0 && strcmp(c->smtp_starttls, "try") != 0 &&
        strcmp(c->smtp_starttls, "required") != 0)
        return cfg_errf(err, errlen, "SMTP_STARTTLS must be none, try or required");
    if (cfg_is_production(c) && strcmp(c->email_transport, "smtp") == 0 &&
        strncmp(c->smtp_url, "smtp://", 7) == 0) {
        /* "try" sends in clear whenever someone in the path strips STARTTLS. */
        if (strcmp(c->smtp_starttls, "try") == 0)
            return cfg_errf(err, errlen, "SMTP_STARTTLS=try is refused in production: use "
                        "required (or none for a relay on this host)");
        if (strcmp(c->smtp_starttls, "none") == 0 && !str_host_is_loopback(c->smtp_url + 7))
            return cfg_errf(err, errlen, "SMTP_STARTTLS=none is allowed in production only for "
                        "a relay on this host");
    }
    if (*c->outbox_key && seal_key_parse(c->outbox_key, key) != 0)
        return cfg_errf(err, errlen, "OUTBOX_KEY must be 64 hex digits (openssl rand -hex 32)");
    if (*c->aws_endpoint_url_s3 && !url_ok(c->aws_endpoint_url_s3))
        return cfg_errf(err, errlen, "AWS_ENDPOINT_URL_S3 must start with http:// or https://");
    if (strcmp(c->s3_addressing_style, "virtual") != 0 &&
        strcmp(c->s3_addressing_style, "path") != 0)
        return cfg_errf(err, errlen, "S3_ADDRESSING_STYLE must be virtual or path");
    if (bedrock_cfg_check(c, err, errlen) != 0 || pricelist_cfg_check(c, err, errlen) != 0)
        return -1;
    if (*c->aws_endpoint_url_sesv2 && !url_ok(c->aws_endpoint_url_sesv2))
        return cfg_errf(err, errlen, "AWS_ENDPOINT_URL_SESV2 must start with http:// or https://");
    return 0;
}

/* DYNAMODB_TABLE_PREFIX (e.g. "staging-") goes in front of every table name. */
static void
apply_table_prefix(struct cfg *c)
{
    size_t i;

    if (!*c->table_prefix)
        return;
    for (i = 0; i < NDEFS; i++) {
        char **slot = str_slot(c, &cfg_defs[i]);
        size_t n;
        char *v;

        if (!(cfg_defs[i].flags & CFG_TABLE))
            continue;
        n = strlen(c->table_prefix) + strlen(*slot) + 1;
        v = xmalloc(n);
        snprintf(v, n, "%s%s", c->table_prefix, *slot);
        free(*slot);
        *slot = v;
    }
}

const char *
cfg_string(const struct cfg *c, const char *name)
{
    const struct cfg_def *d = cfg_find(name);

    if (!d || d->type != CFG_STR)
        return NULL;
    return *str_slot((struct cfg *)c, d);
}

/* The SDKs' order: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1. */
static void
resolve_region(struct cfg *c)
{
    if (*c->aws_region)
        snprintf(c->region, sizeof(c->region), "%s", c->aws_region);
    else if (*c->aws_default_region)
        snprintf(c->region, sizeof(c->region), "%s", c->aws_default_region);
    else if (awsconfig_profile_value("region", c->region, sizeof(c->region)) != 0 || !*c->region)
        snprintf(c->region, sizeof(c->region), "us-east-1");
}

int
cfg_load(struct cfg *out, const char *path, int path_required, char *err, size_t errlen)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < NDEFS; i++) {
        if (cfg_set(out, &cfg_defs[i], cfg_defs[i].def, "default", err, errlen) != 0)
            goto fail;
    }
    if (path && cfg_load_file(out, path, path_required, err, errlen) != 0)
        goto fail;
    if (cfg_load_env(out, err, errlen) != 0)
        goto fail;
    if (cfg_ssm_collect(out, err, errlen) != 0)
        goto fail;
    if (cfg_check(out, err, errlen) != 0)
        goto fail;
    resolve_region(out);
    if (cognito_resolve(out, err, errlen) != 0)
        goto fail;
    if (sns_settings_check(out->ses_events_topic_arn, out->sns_allowed_hosts, err, errlen) != 0)
        goto fail;
    apply_table_prefix(out);
    return 0;
fail:
    cfg_free(out);
    return -1;
}

void
cfg_free(struct cfg *c)
{
    size_t i;

    for (i = 0; i < NDEFS; i++) {
        if (cfg_defs[i].type == CFG_STR) {
            free(*str_slot(c, &cfg_defs[i]));
            *str_slot(c, &cfg_defs[i]) = NULL;
        }
    }
    scholarship_rules_free(c->scholarship);
    c->scholarship = NULL;
    cluster_rules_free(c->clusters);
    c->clusters = NULL;
    cfg_ssm_free(c);
}

int
cfg_load_rules(struct cfg *c, char *err, size_t errlen)
{
    scholarship_rules_free(c->scholarship);
    c->scholarship = scholarship_rules_load(c->scholarship_rules_file, err, errlen);
    if (!c->scholarship)
        return -1;
    cluster_rules_free(c->clusters);
    c->clusters = cluster_rules_load(c->cluster_rules_file, err, errlen);
    return c->clusters ? 0 : -1;
}

void
cfg_dump(const struct cfg *c, int fd)
{
    char tmp[CFG_SSM_NAME_MAX + 64];
    size_t i;

    for (i = 0; i < NDEFS; i++) {
        const struct cfg_def *d = &cfg_defs[i];
        struct cfg *mc = (struct cfg *)c;

        if (d->type == CFG_OCTAL)
            dprintf(fd, "%s=%03lo\n", d->name, *long_slot(mc, d));
        else if (d->type == CFG_INT)
            dprintf(fd, "%s=%ld\n", d->name, *long_slot(mc, d));
        else if (d->flags & CFG_SECRET)
            dprintf(fd, "%s=%s\n", d->name, cfg_ssm_shown(c, d->name, **str_slot(mc, d) != '\0',
                                                            tmp, sizeof(tmp)));
        else
            dprintf(fd, "%s=%s\n", d->name, *str_slot(mc, d));
    }
}

char **
cfg_secret_slot(struct cfg *c, const char *name)
{
    const struct cfg_def *d = cfg_find(name);

    return d && d->type == CFG_STR && (d->flags & CFG_SECRET) ? str_slot(c, d) : NULL;
}

const char *
cfg_setting_name(size_t i)
{
    return i < NDEFS ? cfg_defs[i].name : NULL;
}

const char *
cfg_region(const struct cfg *c)
{
    return c->region;
}

int
cfg_is_production(const struct cfg *c)
{
    return strcmp(c->stage, "production") == 0;
}
