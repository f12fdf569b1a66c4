/*
 * Secrets from SSM Parameter Store.  Any secret setting NAME (CFG_SECRET in cfg.c) may be
 * given as NAME_SSM=/prodenthub/<stage>/name, in the configuration file or the environment,
 * instead of NAME or NAME_FILE.  The AWS credentials are the exception: reading SSM needs
 * them, so AWS_SECRET_ACCESS_KEY_SSM and AWS_SESSION_TOKEN_SSM are refused.
 *
 * Two steps.  cfg_load() only records the parameter names and checks them (a valid SSM
 * name; one source per secret: NAME_SSM excludes NAME and NAME_FILE); a secret required in
 * production counts as set when it names a parameter.  Then cfg_load()'s caller runs
 * cfg_resolve_ssm() with a fetcher, which fills each secret and checks the values as the
 * settings' own checks do: ssm_resolve_cfg() (lib/ssm.h) with the real client in the
 * programs, a stub in the tests.  No network code here.  Values are never printed or logged:
 * cfg_dump() shows "(set, hidden, from SSM /name)".
 */
#ifndef PH_CFG_SSM_H
#define PH_CFG_SSM_H

#include <stddef.h>

#include "buf.h"
#include "errors.h"

struct cfg;

#define CFG_SSM_NAME_MAX 2048      /* the longest parameter name SSM accepts */
#define CFG_SSM_DEPTH_MAX 15       /* levels of a hierarchical name, as SSM allows */
#define CFG_SSM_VALUE_MAX 4096     /* a standard parameter's largest value (and NAME_FILE's) */

/* One secret named by NAME_SSM. */
struct cfg_ssm {
    const char *setting;           /* the secret's name, from the settings table */
    char *param;                   /* the parameter name, e.g. /prodenthub/production/x */
    int fetched;                   /* cfg_resolve_ssm filled the setting */
};

/*
 * Append the value of the parameter param, decrypted, to out (a buffer whose ceiling the
 * caller set: CFG_SSM_VALUE_MAX).  APP_OK, or an APP_E* code with a detail in err that
 * names the parameter and never holds a value.  ud is the fetcher's own (a client).
 */
typedef int (*cfg_ssm_fetch_fn)(struct buf *out, const char *param, void *ud,
                                struct app_error *err);

/*
 * Fetch every secret c names by NAME_SSM (one call each) and store the values, trimmed of
 * white space at both ends as NAME_FILE's are; then check the settings again (e.g. OUTBOX_KEY's
 * shape).  0, or the fetcher's code unchanged (APP_ECONFIG for a value the checks refuse), with
 * a message naming the setting and the parameter in err.  On failure c is partly filled: free
 * it.  With no NAME_SSM it does nothing and never calls fetch.
 */
int cfg_resolve_ssm(struct cfg *c, cfg_ssm_fetch_fn fetch, void *ud, char *err, size_t errlen);

/* The entry of setting (e.g. "STRIPE_SECRET_KEY") when it is named by NAME_SSM, or NULL. */
const struct cfg_ssm *cfg_ssm_find(const struct cfg *c, const char *setting);

/* 1 if s[0..n) is a parameter name we accept: '/' then segments of A-Z a-z 0-9 _ . -
 * separated by single '/', at most CFG_SSM_DEPTH_MAX of them, CFG_SSM_NAME_MAX bytes in all. */
int cfg_ssm_name_ok(const char *s, size_t n);

/* --- between cfg.c and cfg_ssm.c ------------------------------------------------------- */

/* 1 if key ends in "_SSM" (a file line for cfg_ssm_file). */
int cfg_ssm_is_key(const char *key);
/* A NAME_SSM=value line of the configuration file (at where, "file:line"); an empty value
 * drops an earlier line's.  0 or -1 with the reason in err. */
int cfg_ssm_file(struct cfg *c, const char *key, const char *value, const char *where,
                 char *err, size_t errlen);
/* After the file and the environment: take NAME_SSM from the environment (it wins over the
 * file's), then refuse a secret that has another source too.  0 or -1. */
int cfg_ssm_collect(struct cfg *c, char *err, size_t errlen);
/* What cfg_dump prints for the secret setting: "", "(set, hidden)", or with its parameter
 * "(set, hidden, from SSM /x)" / "(from SSM /x, not read yet)"; in tmp when it must be. */
const char *cfg_ssm_shown(const struct cfg *c, const char *setting, int set, char *tmp,
                          size_t tmplen);
void cfg_ssm_free(struct cfg *c);

/* cfg.c: the slot of the secret string setting name, or NULL when name is no such setting. */
char **cfg_secret_slot(struct cfg *c, const char *name);

#endif
