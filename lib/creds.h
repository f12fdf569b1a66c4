/*
 * AWS credentials, found the way the SDKs find them (first that yields wins):
 *   1. the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
 *      also through the config file or NAME_FILE (lib/cfg.c);
 *   2. the shared credentials file for AWS_PROFILE (lib/awsconfig.h);
 *   3. the EC2 instance profile through IMDSv2 (token PUT, then the role's credentials).
 *
 * Each worker has its own provider.  Temporary credentials are refreshed ahead of their
 * expiry, at a point jittered per process so workers do not all refresh at once; a failed
 * refresh keeps the current credentials while they are valid and retries after a pause, so
 * a request waits on IMDS only when it has no valid credentials at all.
 */
#ifndef PH_CREDS_H
#define PH_CREDS_H

#include <time.h>

#include "errors.h"

struct cfg;
struct creds_provider;

struct aws_creds {
    char access_key[128];
    char secret_key[128];
    char session_token[4096];
    time_t expires;               /* 0: does not expire */
    const char *source;           /* "environment", "profile", "imds" */
};

struct creds_provider *creds_new(const struct cfg *cfg);
void creds_free(struct creds_provider *p);

/* Valid credentials at now, refreshing when due; APP_EUNAVAILABLE when there are none. */
int creds_get(struct creds_provider *p, time_t now, const struct aws_creds **out,
              struct app_error *err);

/* How many times credentials were fetched (for tests and logs). */
unsigned long creds_fetches(const struct creds_provider *p);

#endif
