/*
 * AWS Signature Version 4: the Authorization header (DynamoDB, SES, S3 ...) and query-string
 * presigning (S3 presigned URLs), canonicalised exactly as botocore does (botocore/auth.py:
 * SigV4Auth, S3SigV4Auth, SigV4QueryAuth, S3SigV4QueryAuth).
 *
 * Canonical URI: for every service but "s3" the path is normalised (dot segments and empty
 * segments removed) and then percent-encoded again, so "%20" on the wire signs as "%2520";
 * for "s3" the path is neither normalised nor double-encoded, only its encoding is made
 * canonical (an unreserved character is signed literally, anything else as %XX uppercase,
 * "%2F" stays "%2F").  Canonical query: each key and value is percent-decoded and encoded
 * again ('+' is a literal plus, never a space), sorted by key then value, repeats kept, a key
 * without '=' gets an empty value.  Build paths and queries with sigv4_uri_encode() and the
 * wire form and the signed form agree whatever the service.
 *
 * Every function is pure (no global state) and returns APP_OK or a negative APP_E* code:
 * APP_EINTERNAL for an invalid argument (a caller bug: a NULL or empty required field, a
 * header the signer owns, a control character in a header value, expires out of range) and
 * APP_ENOMEM when the result would not fit its bounded buffer.
 */
#ifndef PH_SIGV4_H
#define PH_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_MAX_EXPIRES 604800L       /* seven days, the most AWS accepts */

struct sigv4_creds {
    const char *access_key;
    const char *secret_key;
    const char *session_token;   /* NULL or "" when none */
};

struct sigv4_header {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method;          /* "GET", "POST", "PUT" */
    const char *host;            /* value of the Host header, with ":port" when not default */
    const char *path;            /* the path exactly as sent on the wire (already
                                  * percent-encoded); "" means "/" */
    const char *query;           /* the query string as sent (no '?'), or NULL */
    /*
     * Other headers sent and to be signed (any case, any order, values may have extra
     * spaces; a name may repeat, its values are signed in the order given).  Host,
     * X-Amz-Date and X-Amz-Security-Token (and X-Amz-Content-Sha256 when signing for s3) are
     * added by the signer: passing one of them, or Authorization, is an error.
     */
    const struct sigv4_header *headers;
    size_t nheaders;
    const void *payload;         /* request body (may be NULL when payload_len == 0) */
    size_t payload_len;
    const char *payload_hash;    /* NULL: hex sha256 of payload; or e.g. "UNSIGNED-PAYLOAD" */
    const char *region;
    /* "dynamodb", "s3", "ses", ... ; "s3" changes path canonicalisation (no double
     * encoding, no normalisation) */
    const char *service;
    time_t now;
};

struct sigv4_signed {
    char authorization[1024];    /* value of the Authorization header */
    char amz_date[17];           /* value of X-Amz-Date, e.g. 20150830T123600Z */
    char payload_hash[65];       /* hex sha256 (or the given payload_hash); S3 callers send it
                                  * as X-Amz-Content-Sha256 */
};

/*
 * Header signing.  The caller sends X-Amz-Date: out->amz_date, Authorization:
 * out->authorization, and, when creds->session_token is set, X-Amz-Security-Token (it is
 * signed too).  For service "s3" X-Amz-Content-Sha256: out->payload_hash is signed as well
 * (S3 requires it) and must be sent; for other services a caller that sends
 * X-Amz-Content-Sha256 passes it in r->headers like any other header.
 * Returns APP_OK or a negative APP_E* code (out is then emptied).
 */
int sigv4_sign(const struct sigv4_request *r, const struct sigv4_creds *c,
               struct sigv4_signed *out);

/*
 * Query-string presigning (S3 presigned URLs): appends to out the complete query string to
 * send (the request's own query params, in their order and canonically encoded, then
 * X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * [X-Amz-Security-Token,] X-Amz-Signature), suitable for "https://host" + path + "?" + out.
 * expires_s in [1, 604800].  Signed headers: host plus r->headers (e.g. content-type,
 * content-length to pin an upload's size): the client must send exactly those.  The session
 * token travels (signed) in the query, never as a header.  Payload hash defaults to
 * UNSIGNED-PAYLOAD for presigning when r->payload_hash is NULL (botocore's rule for S3; for
 * other services botocore signs the body's hash: pass SIGV4_EMPTY_SHA256 to match it).
 * On error out is left as it was.
 */
int sigv4_presign(const struct sigv4_request *r, const struct sigv4_creds *c, long expires_s,
                  struct buf *out);

/*
 * Percent-encode s[0..n) per SigV4 (unreserved A-Z a-z 0-9 - _ . ~ kept; everything else
 * %XX uppercase; '/' kept when keep_slash).  Returns buf_append()'s code.
 */
int sigv4_uri_encode(struct buf *out, const char *s, size_t n, int keep_slash);

#endif
