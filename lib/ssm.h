/*
 * SSM Parameter Store client: GetParameter with decryption, for the secrets named by
 * NAME_SSM (lib/cfg_ssm.h).
 *
 * The JSON 1.1 protocol: POST / to AWS_ENDPOINT_URL_SSM, else AWS_ENDPOINT_URL, else
 * https://ssm.REGION.amazonaws.com, with Content-Type: application/x-amz-json-1.1,
 * X-Amz-Target: AmazonSSM.GetParameter and {"Name": ..., "WithDecryption": true}, signed with
 * SigV4 (service "ssm") and the credentials of lib/creds.h (environment, profile, IMDS): a
 * signed AWS call of lib/aws.h.
 * Throttling, 5xx and network errors are retried with full-jitter back-off, at most
 * SSM_MAX_ATTEMPTS times, all within SSM_TIMEOUT_MS.  Values are never logged, and the
 * answer's bytes are wiped once read.
 */
#ifndef PH_SSM_H
#define PH_SSM_H

#include <stddef.h>

#include "buf.h"
#include "errors.h"

#define SSM_MAX_ATTEMPTS 3

struct cfg;
struct creds_provider;
struct ssm;

/* A client on cfg's endpoint and region; NULL (logged) when the endpoint is unusable. */
struct ssm *ssm_new(const struct cfg *cfg, struct creds_provider *creds);
void ssm_free(struct ssm *s);

/*
 * Append the decrypted value of the parameter name to out (within out's ceiling).  APP_OK;
 * APP_ENOTFOUND (ParameterNotFound, ParameterVersionNotFound); APP_EFORBIDDEN
 * (AccessDeniedException: IAM or the KMS key); APP_ETOOLARGE (a value over out's ceiling);
 * APP_EUNAVAILABLE (network, throttling or 5xx after the last attempt; credentials refused);
 * APP_ETIMEOUT; APP_EUPSTREAM (an answer without a value, any other error).  The detail in
 * err names the error type, never the value.
 */
int ssm_get_parameter(struct buf *out, struct ssm *s, const char *name, struct app_error *err);

/* Attempts the last call made (tests). */
int ssm_last_attempts(const struct ssm *s);

/*
 * cfg_resolve_ssm (lib/cfg_ssm.h) with a client of its own on c's settings: what the
 * programs run after cfg_load, at start, for -t and on reload.  0 at once when c names no
 * parameter; else cfg_resolve_ssm's result.
 */
int ssm_resolve_cfg(struct cfg *c, char *err, size_t errlen);

#endif
