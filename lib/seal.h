/*
 * Sealing small values kept at rest (an outbox row's template variables, which carry pay
 * links with their tokens): AES-256-GCM under a key from configuration, with the row's id as
 * associated data so a sealed value cannot be moved to another row.  A sealed value is text:
 * "s1." and the base64 of nonce (12 bytes), ciphertext and tag (16 bytes).
 */
#ifndef PH_SEAL_H
#define PH_SEAL_H

#include <stddef.h>

#include "buf.h"

#define SEAL_KEY_LEN 32
#define SEAL_PREFIX "s1."
#define SEAL_MAX (256 * 1024)       /* plain bytes; an outbox row's variables are a few KB */
/* A buffer that holds any sealed text or plain value. */
#define SEAL_TEXT_MAX (4 * ((12 + SEAL_MAX + 16 + 2) / 3) + 8)

/* key from 64 hex digits; 0, or -1 when hex is not exactly that. */
int seal_key_parse(const char *hex, unsigned char key[SEAL_KEY_LEN]);

/* out (reset first) gets the sealed text of in; 0, or -1 (no random bytes, out of room). */
int seal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in, size_t inlen,
         struct buf *out);

/* out (reset first) gets the plain bytes, NUL-terminated; -1 when sealed is not a value
 * sealed with this key for this aad (tampered, truncated, another row's). */
int unseal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const char *sealed,
           struct buf *out);

#endif
