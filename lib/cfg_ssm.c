#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cfg.h"
#include "cfg_int.h"
#include "cfg_ssm.h"
#include "log.h"
#include "mem.h"
#include "strparse.h"

/* Reading SSM needs the AWS credentials, so they can never come from it. */
static const char *const aws_creds[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", NULL,
};

int
cfg_ssm_is_key(const char *key)
{
    size_t n = strlen(key);

    return n > 4 && strcmp(key + n - 4, "_SSM") == 0;
}

static int
name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

int
cfg_ssm_name_ok(const char *s, size_t n)
{
    size_t i, depth = 0;

    if (n < 2 || n > CFG_SSM_NAME_MAX || s[0] != '/' || s[n - 1] == '/')
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '/') {
            if (s[i + 1] == '/')        /* s[n - 1] is no '/': i + 1 < n */
                return 0;
            depth++;
        } else if (!name_char(s[i])) {
            return 0;
        }
    }
    return depth <= CFG_SSM_DEPTH_MAX;
}

/* The settings table's own name for the first n bytes of key, or NULL. */
static const char *
setting_named(const char *key, size_t n)
{
    const char *name;
    size_t i;

    for (i = 0; (name = cfg_setting_name(i)); i++) {   /* checksrc: ok */
        if (strlen(name) == n && strncmp(name, key, n) == 0)
            return name;
    }
    return NULL;
}

static struct cfg_ssm *
entry(const struct cfg *c, const char *setting)
{
    size_t i;

    for (i = 0; i < c->nssm; i++) {
        if (strcmp(c->ssm[i].setting, setting) == 0)
            return &c->ssm[i];
    }
    return NULL;
}

const struct cfg_ssm *
cfg_ssm_find(const struct cfg *c, const char *setting)
{
    return entry(c, setting);
}

/*
 * May setting (NULL: unknown) come from SSM as key=value (from where)?  The value is never
 * put in a message: a secret written into NAME_SSM by mistake must not reach the journal.
 */
static int
check_entry(struct cfg *c, const char *setting, const char *key, const char *value,
            const char *where, char *err, size_t errlen)
{
    size_t i;

    if (!setting)
        return cfg_errf(err, errlen, "%s: unknown setting '%s'", where, key);
    for (i = 0; aws_creds[i]; i++) {
        if (strcmp(setting, aws_creds[i]) == 0)
            return cfg_errf(err, errlen, "%s: %s is refused: the AWS credentials cannot come from "
                        "SSM Parameter Store, which needs them to be read; use %s_FILE, the "
                        "AWS profile or the instance role", where, key, setting);
    }
    if (!cfg_secret_slot(c, setting))
        return cfg_errf(err, errlen, "%s: %s is not a secret: only secrets may come from SSM "
                    "Parameter Store", where, setting);
    if (!cfg_ssm_name_ok(value, strlen(value)))
        return cfg_errf(err, errlen, "%s: %s must name an SSM parameter: '/' then names of "
                    "A-Z a-z 0-9 _ . - separated by '/', at most %d levels and %d characters "
                    "(the value is not shown)", where, key, CFG_SSM_DEPTH_MAX,
                    CFG_SSM_NAME_MAX);
    return 0;
}

static void
put_entry(struct cfg *c, const char *setting, const char *param)
{
    struct cfg_ssm *e = entry(c, setting);

    if (!e) {
        c->ssm = xrealloc(c->ssm, (c->nssm + 1) * sizeof(*c->ssm));
        e = &c->ssm[c->nssm++];
        e->setting = setting;
        e->param = NULL;
    }
    free(e->param);
    e->param = xstrdup(param);
    e->fetched = 0;
}

static void
drop_entry(struct cfg *c, const char *setting)
{
    struct cfg_ssm *e = entry(c, setting);
    size_t i;

    if (!e)
        return;
    free(e->param);
    i = (size_t)(e - c->ssm);
    memmove(e, e + 1, (c->nssm - i - 1) * sizeof(*e));
    c->nssm--;
}

int
cfg_ssm_file(struct cfg *c, const char *key, const char *value, const char *where,
             char *err, size_t errlen)
{
    const char *setting = setting_named(key, strlen(key) - 4);

    if (!*value && setting) {
        drop_entry(c, setting);
        return 0;
    }
    if (check_entry(c, setting, key, value, where, err, errlen) != 0)
        return -1;
    put_entry(c, setting, value);
    return 0;
}

int
cfg_ssm_collect(struct cfg *c, char *err, size_t errlen)
{
    char key[160];
    const char *name, *v;
    size_t i;

    for (i = 0; (name = cfg_setting_name(i)); i++) {   /* checksrc: ok */
        snprintf(key, sizeof(key), "%s_SSM", name);
        v = getenv(key);
        /* AWS_ENDPOINT_URL_SSM is a setting of its own, not AWS_ENDPOINT_URL from SSM. */
        if (!v || !*v || setting_named(key, strlen(key)))
            continue;
        if (check_entry(c, name, key, v, "environment", err, errlen) != 0)
            return -1;
        put_entry(c, name, v);
    }
    for (i = 0; i < c->nssm; i++) {
        const char *s = c->ssm[i].setting;

        snprintf(key, sizeof(key), "%s_FILE", s);
        v = getenv(key);
        if (v && *v)
            return cfg_errf(err, errlen, "both %s and %s_SSM are set; use one", key, s);
        if (getenv(s) || **cfg_secret_slot(c, s))
            return cfg_errf(err, errlen, "both %s and %s_SSM are set; use one", s, s);
    }
    return 0;
}

const char *
cfg_ssm_shown(const struct cfg *c, const char *setting, int set, char *tmp, size_t tmplen)
{
    const struct cfg_ssm *e = entry(c, setting);

    if (!e)
        return set ? "(set, hidden)" : "";
    snprintf(tmp, tmplen, "(%s, from SSM %s)", e->fetched ? "set, hidden" : "not read yet",
             e->param);
    return tmp;
}

void
cfg_ssm_free(struct cfg *c)
{
    size_t i;

    for (i = 0; i < c->nssm; i++)
        free(c->ssm[i].param);
    free(c->ssm);
    c->ssm = NULL;
    c->nssm = 0;
}

/* Store the fetched value v (of e) in its setting: trimmed, non-empty, no NUL. */
static int
store(struct cfg *c, struct cfg_ssm *e, struct buf *v, char *err, size_t errlen)
{
    char **slot = cfg_secret_slot(c, e->setting);
    const char *data = v->data ? v->data : "";
    char *val;

    if (strlen(data) != v->len) {
        cfg_errf(err, errlen, "%s_SSM: parameter %s holds a NUL byte", e->setting, e->param);
        return APP_EUPSTREAM;
    }
    val = xstrdup(data);
    str_trim(val);
    if (!*val) {
        free(val);
        cfg_errf(err, errlen, "%s_SSM: parameter %s is empty", e->setting, e->param);
        return APP_ECONFIG;
    }
    free(*slot);
    *slot = val;
    e->fetched = 1;
    return APP_OK;
}

int
cfg_resolve_ssm(struct cfg *c, cfg_ssm_fetch_fn fetch, void *ud, char *err, size_t errlen)
{
    char why[512];
    struct app_error e;
    struct buf v;
    size_t i;
    int rc = APP_OK;

    for (i = 0; i < c->nssm && rc == APP_OK; i++) {
        struct cfg_ssm *s = &c->ssm[i];

        buf_init(&v, CFG_SSM_VALUE_MAX);
        app_error_clear(&e);
        rc = fetch(&v, s->param, ud, &e);
        if (rc == APP_ETOOLARGE && !e.msg[0])
            app_error_set(&e, rc, "the value is longer than %d bytes", CFG_SSM_VALUE_MAX);
        if (rc != APP_OK)
            cfg_errf(err, errlen, "%s_SSM: cannot read parameter %s: %s", s->setting, s->param,
                 e.msg[0] ? e.msg : app_error_info(rc)->message);
        else
            rc = store(c, s, &v, err, errlen);
        if (v.data)
            OPENSSL_cleanse(v.data, v.cap);
        buf_free(&v);
    }
    if (rc == APP_OK && c->nssm > 0 && cfg_check(c, why, sizeof(why)) != 0) {
        cfg_errf(err, errlen, "%s (a secret read from SSM Parameter Store)", why);
        rc = APP_ECONFIG;
    }
    return rc;
}
