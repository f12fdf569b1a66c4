/*
 * Amazon Bedrock Runtime's Converse API: one prompt in, the model's text and its token
 * counts out.  SigV4-signed (lib/sigv4.h, service "bedrock") with credentials from the
 * worker's provider chain (lib/creds.h), on one reused curl handle per worker: a signed AWS
 * call of lib/aws.h, as DynamoDB's.
 *
 *   POST /model/{modelId}/converse   host bedrock-runtime.<region>.amazonaws.com
 *
 * The model id is percent-encoded in the path as botocore encodes a URI label (unreserved
 * characters kept, anything else %XX: "v1:0" is sent as "v1%3A0"); SigV4 then encodes the
 * path once more for the canonical request ("v1%253A0"), as for every service but S3.
 *
 * Endpoint: AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else AWS_ENDPOINT_URL, else
 * https://bedrock-runtime.<region>.amazonaws.com; an endpoint may carry a path prefix.
 *
 * Errors come as the REST-JSON protocol sends them: the type in the x-amzn-ErrorType header
 * (or "__type"/"code" in the body), {"message": ...} in the body.  Throttling
 * (ThrottlingException, ModelNotReadyException, 429), 5xx and network errors are retried
 * with exponential back-off and full jitter within BEDROCK_MAX_ATTEMPTS and the whole-call
 * budget BEDROCK_TIMEOUT_MS; nothing else is.  Codes:
 *   APP_ETIMEOUT      no answer within the budget, or ModelTimeoutException (408)
 *   APP_EUPSTREAM     any other failure of Bedrock: throttled or 5xx after the retries,
 *                     a network error, a refusal (validation, access, unknown model), an
 *                     answer we cannot read
 *   APP_EUNAVAILABLE  no credentials
 * A prompt is user content: nothing of it, nor of the answer, is logged or put in err.
 */
#ifndef PH_BEDROCK_H
#define PH_BEDROCK_H

#include <stddef.h>

#include "errors.h"

#define BEDROCK_MODEL_MAX 256          /* bytes of a model id (or inference profile ARN) */
#define BEDROCK_MODELS_MAX 16          /* ids in AI_MODELS */

struct cfg;
struct creds_provider;
struct bedrock;

/* NULL (and a logged reason) when the endpoint is unusable. */
struct bedrock *bedrock_new(const struct cfg *cfg, struct creds_provider *creds);
void bedrock_free(struct bedrock *b);

struct bedrock_reply {
    char *text;                    /* the answer's text blocks, joined (malloc'd) */
    char stop_reason[32];          /* "end_turn", "max_tokens", ... ("" when absent) */
    long long input_tokens;
    long long output_tokens;
    long long total_tokens;        /* usage.totalTokens, else input + output */
    long long latency_ms;          /* metrics.latencyMs; 0 when absent */
};

/*
 * One Converse call: the user's prompt as the one message, system (NULL: none) as the system
 * prompt, at most max_tokens tokens of answer.  On APP_OK out holds the reply (release it
 * with bedrock_reply_free); on error out is empty.
 */
int bedrock_converse(struct bedrock *b, const char *model, const char *system,
                     const char *prompt, long max_tokens, struct bedrock_reply *out,
                     struct app_error *err);
void bedrock_reply_free(struct bedrock_reply *r);

/* Attempts made by the last bedrock_converse (for tests and logs). */
int bedrock_last_attempts(const struct bedrock *b);

/* The configuration's Bedrock and AI settings (cfg_load checks them): 0, or -1 with the
 * setting named in err. */
int bedrock_cfg_check(const struct cfg *c, char *err, size_t errlen);

/* 1 when id (n bytes) can be a model id: 1 to BEDROCK_MODEL_MAX of [A-Za-z0-9._:/-]. */
int bedrock_model_id_ok(const char *id, size_t n);
/* 1 when list is 1 to BEDROCK_MODELS_MAX such ids, comma-separated (spaces around ignored). */
int bedrock_models_ok(const char *list);
/* want (NULL: the first) as one of list's ids into out: 0, or -1 when list does not hold it. */
int bedrock_model_find(const char *list, const char *want, char out[BEDROCK_MODEL_MAX + 1]);

#endif
