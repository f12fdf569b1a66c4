#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mem.h"
#include "seal.h"
#include "strparse.h"

#define NONCE_LEN 12
#define TAG_LEN 16

int
seal_key_parse(const char *hex, unsigned char key[SEAL_KEY_LEN])
{
    size_t i;

    if (!hex || strlen(hex) != 2 * SEAL_KEY_LEN)
        return -1;
    for (i = 0; i < SEAL_KEY_LEN; i++) {
        int hi = str_hexval(hex[2 * i]), lo = str_hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* AES-256-GCM over in (encrypt, or decrypt checking tag); out gets inlen bytes. */
static int
gcm(int enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
    const unsigned char *in, size_t inlen, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    int n = 0, rc = -1;

    if (!cx || inlen > SEAL_MAX)
        goto done;
    if (EVP_CipherInit_ex(cx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(cx, NULL, NULL, key, nonce, enc) != 1 ||
        EVP_CipherUpdate(cx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_CipherUpdate(cx, out, &n, in, (int)inlen) != 1)
        goto done;
    if (!enc && EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
        goto done;
    if (EVP_CipherFinal_ex(cx, out + n, &n) != 1)
        goto done;
    if (enc && EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
        goto done;
    rc = 0;
done:
    EVP_CIPHER_CTX_free(cx);
    return rc;
}

int
seal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in, size_t inlen,
     struct buf *out)
{
    size_t n = NONCE_LEN + inlen + TAG_LEN;
    unsigned char *raw, *b64;
    int len, rc = -1;

    buf_reset(out);
    if (inlen > SEAL_MAX)
        return -1;
    raw = xmalloc(n);
    b64 = xmalloc(4 * ((n + 2) / 3) + 1);
    if (RAND_bytes(raw, NONCE_LEN) == 1 &&
        gcm(1, key, raw, aad, in, inlen, raw + NONCE_LEN, raw + NONCE_LEN + inlen) == 0) {
        len = EVP_EncodeBlock(b64, raw, (int)n);
        rc = buf_puts(out, SEAL_PREFIX) == 0 && buf_append(out, b64, (size_t)len) == 0 ? 0 : -1;
    }
    free(b64);
    free(raw);
    return rc;
}

int
unseal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const char *sealed,
       struct buf *out)
{
    unsigned char *raw = NULL, *plain = NULL;
    size_t b64len, pad = 0, n;
    int len, rc = -1;

    buf_reset(out);
    if (!sealed || strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0)
        return -1;
    sealed += strlen(SEAL_PREFIX);
    b64len = strlen(sealed);
    if (b64len % 4 != 0 || b64len / 4 * 3 > NONCE_LEN + SEAL_MAX + TAG_LEN + 2)
        return -1;
    raw = xmalloc(b64len / 4 * 3 + 1);
    len = EVP_DecodeBlock(raw, (const unsigned char *)sealed, (int)b64len);
    /* EVP_DecodeBlock counts the padding as bytes. */
    if (b64len && sealed[b64len - 1] == '=')
        pad++;
    if (b64len > 1 && sealed[b64len - 2] == '=')
        pad++;
    if (len < 0 || (size_t)len < pad + NONCE_LEN + TAG_LEN)
        goto done;
    n = (size_t)len - pad - NONCE_LEN - TAG_LEN;
    plain = xmalloc(n + 1);
    if (gcm(0, key, raw, aad, raw + NONCE_LEN, n, plain, raw + NONCE_LEN + n) != 0)
        goto done;
    plain[n] = '\0';
    if (buf_append(out, plain, n + 1) != 0)
        goto done;
    out->len--;
    rc = 0;
done:
    free(plain);
    free(raw);
    return rc;
}
