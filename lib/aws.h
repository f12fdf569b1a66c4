/*
 * A signed AWS call: what the clients of DynamoDB (lib/ddb.c), SSM (lib/ssm.c), Bedrock
 * Runtime (lib/bedrock.c) and SES v2 (lib/mailer.c) share, so each of them keeps only its
 * own protocol: its headers and body, and what its answers mean.
 *
 *   endpoint   the service's setting (AWS_ENDPOINT_URL_<SERVICE>), else AWS_ENDPOINT_URL,
 *              else https://<label>.<region>.amazonaws.com (".com.cn" in the China
 *              regions), split once into origin, Host and path (aws_endpoint_parse);
 *   signing    SigV4 (lib/sigv4.h) with the worker's credentials (lib/creds.h): the
 *              request's headers for curl, built in place without allocating (aws_sign);
 *   transport  one reused curl handle per client (lib/http.h), the answer read into a buffer
 *              with a ceiling and parsed as JSON;
 *   retries    exponential back-off with full jitter between attempts, within max_attempts
 *              and a budget for the whole call; the client's answer() decides what an HTTP
 *              answer means (its code, and whether it is worth another attempt), this module
 *              what a transport failure means:
 *                no answer in time       APP_ETIMEOUT, retried
 *                an answer over the ceiling    the service's toolarge_code, not retried
 *                any other network error       the service's net_code, retried
 *              and the budget spent before an attempt could start is APP_ETIMEOUT.
 *
 * Details: "<service>: ..." from the attempt that decided, then " (<label>, attempt <n>)"
 * (" (attempt <n>)" without a label); codes pass up unchanged, and the first detail set wins.
 * The S3 client (lib/s3.c) uses the endpoint and the signing for its HEAD and presigns its
 * upload URLs itself; Stripe (lib/stripe.c) shares only lib/http.h.
 */
#ifndef PH_AWS_H
#define PH_AWS_H

#include <stddef.h>

#include <json-c/json.h>

#include "errors.h"
#include "http.h"
#include "sigv4.h"

#define AWS_HOST_MAX 256            /* an endpoint's authority, with its NUL */
#define AWS_ENDPOINT_PATH_MAX 256   /* an endpoint's own path, with its NUL */
#define AWS_CALL_PATH_MAX 2048      /* the path of a call, under the endpoint's */
#define AWS_HEADERS_MAX 4           /* a call's own headers, besides those signing adds */

struct cfg;
struct creds_provider;

struct aws_endpoint {
    int https;
    char origin[8 + AWS_HOST_MAX];  /* scheme://authority */
    char host[AWS_HOST_MAX];        /* the authority: the Host header sent and signed */
    char path[AWS_ENDPOINT_PATH_MAX];   /* as configured: "" or "/..." */
    size_t prefix_len;              /* of path, without its trailing '/'s */
    char url[8 + AWS_HOST_MAX + AWS_ENDPOINT_PATH_MAX];     /* origin + (path, else "/") */
};

/*
 * The endpoint of a service: own (its setting, "" when unset), else AWS_ENDPOINT_URL, else
 * the regional one of label ("dynamodb", "ssm", "s3", "bedrock-runtime", "email") written
 * into tmp.  Returns one of the three.
 */
const char *aws_endpoint_url(const struct cfg *c, const char *own, const char *label,
                             char *tmp, size_t tmplen);

/* Split http[s]://authority[/path]: 0, or -1 for anything else, a URL with a query, a
 * fragment, user information or a space, or parts too long. */
int aws_endpoint_parse(struct aws_endpoint *out, const char *url);

/* The headers of a signed request, ready for CURLOPT_HTTPHEADER (list), in this storage. */
struct aws_headers {
    struct curl_slist *list;
    struct curl_slist node[AWS_HEADERS_MAX + 6];
    char text[8192];
};

/*
 * Sign r at the current time with creds' credentials (r->now is set) and write out the
 * headers to send: Host, r's own headers, X-Amz-Date, X-Amz-Content-Sha256 (service "s3"),
 * Authorization, X-Amz-Security-Token (with a session token) and, when there is a body, an
 * empty Expect (never wait for a 100 Continue).  APP_OK; creds_get's code; sigv4_sign's code
 * with "<service>: cannot sign the request".
 */
int aws_sign(struct aws_headers *out, struct sigv4_request *r, struct creds_provider *creds,
             struct app_error *err);

/* What differs between the services, fixed per client. */
struct aws_service {
    const char *name;               /* SigV4's service name, and the prefix of details */
    const char *endpoint_label;     /* of its regional endpoint (aws_endpoint_url) */
    size_t answer_max;              /* the ceiling of an answer's body */
    long backoff_base_ms;
    long backoff_cap_ms;
    long attempt_min_ms;            /* less budget left than this: no other attempt (>= 1) */
    int net_code;                   /* of a network error */
    int toolarge_code;              /* of an answer over answer_max */
    int secret;                     /* answers hold secrets: wipe the buffer after each */
};

/* A client: one per service and process (a worker's, the tool's). */
struct aws {
    const struct aws_service *svc;
    const struct cfg *cfg;
    struct creds_provider *creds;
    const char *region;
    long connect_ms;
    int last_attempts;              /* of the last aws_call, for tests and logs */
    struct aws_endpoint ep;
    struct http_conn conn;
};

/*
 * A client for svc on the endpoint aws_endpoint_url gives for own (the service's setting),
 * connecting within connect_ms: 0, or -1 (logged) when the endpoint cannot be used or curl
 * cannot start (aws_free then releases what was made).
 */
int aws_init(struct aws *a, const struct aws_service *svc, const struct cfg *cfg,
             struct creds_provider *creds, const char *own, long connect_ms);
void aws_free(struct aws *a);

/* A client's struct of size bytes whose first member is its struct aws, made by aws_init;
 * NULL when aws_init fails.  aws_delete frees one (or nothing for NULL). */
void *aws_new(size_t size, const struct aws_service *svc, const struct cfg *cfg,
              struct creds_provider *creds, const char *own, long connect_ms);
void aws_delete(void *client);

/* What an attempt came to. */
enum aws_outcome { AWS_OK, AWS_RETRY, AWS_FAIL };

/* An HTTP answer, for the client's answer(). */
struct aws_answer {
    long status;
    struct json_object *body;       /* the body parsed, NULL when it is not JSON */
    const char *error_type;         /* x-amzn-ErrorType of an answer but 200, else "" */
};

/* A POST of a body; the same on every attempt. */
struct aws_call {
    const char *label;              /* named in details: the operation, the model; or NULL */
    const char *path;               /* under the endpoint's path; NULL: the endpoint's own */
    const struct sigv4_header *headers;     /* signed and sent (Content-Type, X-Amz-Target) */
    size_t nheaders;                /* at most AWS_HEADERS_MAX */
    struct json_object *json;       /* the body, sent plain with '/' unescaped; or */
    const char *body;               /* the body as bytes, when json is NULL */
    size_t body_len;
    long budget_ms;                 /* for the whole call, back-off included */
    int max_attempts;
    /* The answer's code (APP_OK for AWS_OK) and what to do: set a detail in err for any
     * other.  ud is the caller's; a->body stays this module's (see aws_call's out). */
    enum aws_outcome (*answer)(void *ud, const struct aws_answer *a, int *code,
                               struct app_error *err);
    void *ud;
};

/*
 * Make the call k: APP_OK once answer() says AWS_OK, else the code of the attempt that
 * decided (or APP_ETIMEOUT), detailed in err.  When out is not NULL, *out is the last
 * answer's body (the caller's; NULL when it had none, or was no JSON).
 */
int aws_call(struct aws *a, const struct aws_call *k, struct json_object **out,
             struct app_error *err);

/* 1 when type is one of list (NULL-ended). */
int aws_type_in(const char *type, const char *const *list);

#endif
