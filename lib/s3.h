/*
 * A small S3 client for the score reports: presigned PUT URLs for browser uploads and a
 * signed HEAD Object to confirm what was uploaded.  One reused curl handle per worker
 * (keep-alive), the endpoint parsed once.
 *
 * Endpoint: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else
 * https://s3.<region>.amazonaws.com (".com.cn" for cn-* regions); an endpoint may carry a
 * path prefix (http://host:9000/prefix).  Addressing (S3_ADDRESSING_STYLE): "virtual" puts
 * the bucket in the host (<bucket>.<endpoint host>, path /<key>); "path" keeps the
 * endpoint's host (path /<bucket>/<key>).  As botocore does, "virtual" falls back to path
 * style when the bucket cannot be a DNS label (dots, upper case, '_', shorter than 3 or
 * longer than 63 characters, a leading or trailing '-') or the endpoint's host is an IP
 * address.  Keys are percent-encoded the S3 way: unreserved characters and '/' kept, every
 * other byte %XX, dot segments and double slashes left alone.  URLs are byte-identical to
 * botocore's generate_presigned_url for the same endpoint and addressing
 * (t/sigv4/s3_crosscheck.py).
 *
 * Presigned URLs are bearer credentials: never log them.  A URL made with temporary
 * credentials (IMDS) stops working when those credentials expire, whatever X-Amz-Expires says.
 */
#ifndef PH_S3_H
#define PH_S3_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "buf.h"
#include "errors.h"

#define S3_KEY_MAX 1024          /* bytes of UTF-8, S3's own limit */

struct cfg;
struct creds_provider;
struct s3;

/* NULL (and a logged reason) when the endpoint or the bucket name is unusable. */
struct s3 *s3_new(const struct cfg *cfg, struct creds_provider *creds);
void s3_free(struct s3 *s);

/*
 * Append to url_out a presigned PUT URL for key (1 to S3_KEY_MAX bytes), valid expires_s
 * seconds from now (0: S3_UPLOAD_EXPIRES_S; at most 604800).  The signed headers are host,
 * content-length and content-type: the upload must send exactly content_type and
 * content_length bytes, so the size limit is enforced by the signature itself.  The payload
 * is UNSIGNED-PAYLOAD; a session token travels (signed) in the query.
 *
 * Returns APP_OK; APP_EVALIDATION for a negative length, APP_ETOOLARGE over
 * S3_UPLOAD_MAX_BYTES; APP_EINTERNAL for an empty or too long key or content type (a caller
 * bug); APP_EUNAVAILABLE without credentials; APP_ENOMEM when url_out's ceiling is reached.
 * On error url_out is left as it was.
 */
int s3_presign_put(struct s3 *s, const char *key, const char *content_type,
                   long long content_length, long expires_s, time_t now, struct buf *url_out,
                   struct app_error *err);

/*
 * What a browser needs to use a presigned PUT, as JSON: {url_member: url, "method": "PUT",
 * "headers": {"Content-Type", "Content-Length"}, "expiresAt"} (the caller puts it).
 */
struct json_object *s3_put_instructions(const char *url_member, const char *url,
                                        const char *content_type, long long content_length,
                                        const char *expires_at);

/*
 * HEAD Object: the object's size and Content-Type (copied into ctype_out, truncated to
 * ctype_len - 1 bytes; "" when S3 sent none).  Either out-parameter may be NULL.
 * Returns APP_OK; APP_ENOTFOUND (404); APP_ETIMEOUT (no answer within S3_TIMEOUT_MS);
 * APP_EUNAVAILABLE (network error, 5xx, no credentials); APP_EUPSTREAM (403 or any other
 * answer: a bucket policy, clock or signing problem, not the caller's).
 */
int s3_head(struct s3 *s, const char *key, long long *size_out, char *ctype_out,
            size_t ctype_len, struct app_error *err);

/*
 * DELETE Object: APP_OK also when there was none (S3 answers 204 either way); other codes
 * as s3_head's.
 */
int s3_delete(struct s3 *s, const char *key, struct app_error *err);

/*
 * Delete every object whose key starts with prefix (ListObjectsV2 then DELETE of each, until
 * nothing is listed); how many into *deleted.  Codes as s3_head's.  The caller needs
 * s3:ListBucket on the prefix and s3:DeleteObject.
 */
int s3_delete_prefix(struct s3 *s, const char *prefix, long *deleted, struct app_error *err);

#endif
