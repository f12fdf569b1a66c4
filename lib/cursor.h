/*
 * The opaque cursors of paged listings, as the API hands them out and takes them back: what
 * a client sends back is checked to be one of ours before anything of it reaches DynamoDB.
 *
 *   a key cursor     (GET /v1/mock-exams) a page's LastEvaluatedKey as unpadded base64url of
 *                    its JSON; taken back only as an object of exactly the named attributes,
 *                    each a {"S": string};
 *   a sealed cursor  (GET /v1/ai/history) one value (a sort key) sealed with a key from the
 *                    configuration (OUTBOX_KEY, lib/seal.h) and bound to associated data
 *                    (the user): "s1." and unpadded base64url; without a key, "p1." and the
 *                    unpadded base64url of the plain value.  A cursor of one kind is refused
 *                    where the other is expected.
 */
#ifndef PH_CURSOR_H
#define PH_CURSOR_H

#include <json-c/json.h>

#include "buf.h"
#include "mem.h"

#define CURSOR_MAX 512              /* characters of a cursor a client may send back */

/* last (a DynamoDB key) as a key cursor, in a's memory. */
char *cursor_key_out(struct arena *a, struct json_object *last);

/* The key a key cursor c carries, when it is an object of exactly the NULL-terminated names,
 * each {"S": string}; NULL otherwise.  The caller puts it. */
struct json_object *cursor_key_in(const char *c, const char *const *names);

/*
 * value (text, at most CURSOR_MAX / 2 bytes) as a sealed cursor for aad under the 64 hex
 * digits key_hex, or as a plain one when key_hex is "".  out is reset first; 0, or -1 (a key
 * that does not parse, no random bytes, a value too long).
 */
int cursor_seal(const char *key_hex, const char *aad, const char *value, struct buf *out);

/* The value of a cursor cursor_seal made with key_hex and aad, into out (reset first,
 * NUL-terminated, no NUL inside); -1 when cursor is not one. */
int cursor_unseal(const char *key_hex, const char *aad, const char *cursor, struct buf *out);

#endif
