/*
 * The opaque cursors of paged listings (cursor.h).
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cursor.h"
#include "errors.h"
#include "seal.h"

#define PLAIN_PREFIX "p1."

/* Standard base64 in place to base64url without padding. */
static void
to_b64url(char *s)
{
    size_t i;

    for (i = 0; s[i] && s[i] != '='; i++)
        s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    s[i] = '\0';
}

/* base64url without padding to standard base64 with padding into out: the number of '='
 * added, or -1 if in is not base64url (or does not fit). */
static int
from_b64url(const char *in, char *out, size_t outlen)
{
    size_t i, n = strlen(in);
    int pad = 0;

    if (n == 0 || n % 4 == 1 || n + 4 > outlen)
        return -1;
    for (i = 0; i < n; i++) {
        char ch = in[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return -1;
        out[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
    }
    for (; i % 4; pad++)
        out[i++] = '=';
    out[i] = '\0';
    return pad;
}

/* --- key cursors ------------------------------------------------------------------------- */

char *
cursor_key_out(struct arena *a, struct json_object *last)
{
    const char *js = json_object_to_json_string_ext(last, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(js);
    char *out = arena_alloc(a, 4 * ((n + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)js, (int)n);
    to_b64url(out);
    return out;
}

struct json_object *
cursor_key_in(const char *c, const char *const *names)
{
    unsigned char dec[CURSOR_MAX];
    char b64[CURSOR_MAX + 4];
    struct json_object *o, *v, *s;
    size_t n = strlen(c), i, k;
    int len;

    if (n == 0 || n > CURSOR_MAX - 4)
        return NULL;
    for (i = 0; i < n; i++)
        b64[i] = c[i] == '-' ? '+' : c[i] == '_' ? '/' : c[i];
    while (i % 4)
        b64[i++] = '=';
    b64[i] = '\0';
    len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)i);
    if (len <= 0)
        return NULL;
    while (len > 0 && dec[len - 1] == '\0')
        len--;                       /* EVP_DecodeBlock pads with zero bytes */
    dec[len] = '\0';
    o = json_tokener_parse((const char *)dec);
    for (k = 0; names[k]; k++)
        ;
    if (!json_object_is_type(o, json_type_object) || (size_t)json_object_object_length(o) != k)
        goto bad;
    for (i = 0; i < k; i++)
        if (!json_object_object_get_ex(o, names[i], &v) ||
            !json_object_object_get_ex(v, "S", &s) || !json_object_is_type(s, json_type_string) ||
            json_object_object_length(v) != 1)
            goto bad;
    return o;
bad:
    if (o)
        json_object_put(o);
    return NULL;
}

/* --- sealed cursors ---------------------------------------------------------------------- */

int
cursor_seal(const char *key_hex, const char *aad, const char *value, struct buf *out)
{
    unsigned char key[SEAL_KEY_LEN];
    char b64[4 * (CURSOR_MAX / 2 / 3 + 1) + 1];
    size_t n = strlen(value);
    int rc = -1;

    buf_reset(out);
    if (n > CURSOR_MAX / 2)
        return -1;
    if (!*key_hex) {
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)value, (int)n);
        to_b64url(b64);
        return buf_printf(out, PLAIN_PREFIX "%s", b64) == APP_OK ? 0 : -1;
    }
    if (seal_key_parse(key_hex, key) == 0 && seal(key, aad, value, n, out) == 0) {
        to_b64url(out->data + strlen(SEAL_PREFIX));
        out->len = strlen(out->data);
        rc = 0;
    }
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int
cursor_unseal(const char *key_hex, const char *aad, const char *cursor, struct buf *out)
{
    unsigned char key[SEAL_KEY_LEN], raw[CURSOR_MAX];
    char std[CURSOR_MAX + 8];
    int len, pad, rc = -1;

    buf_reset(out);
    if (strlen(cursor) > CURSOR_MAX)
        return -1;
    if (!*key_hex) {
        pad = strncmp(cursor, PLAIN_PREFIX, strlen(PLAIN_PREFIX)) == 0 ?
              from_b64url(cursor + strlen(PLAIN_PREFIX), std, sizeof(std)) : -1;
        if (pad < 0)
            return -1;
        len = EVP_DecodeBlock(raw, (const unsigned char *)std, (int)strlen(std)) - pad;
        if (len <= 0 || memchr(raw, 0, (size_t)len))
            return -1;
        return buf_append(out, raw, (size_t)len) == APP_OK ? 0 : -1;
    }
    memcpy(std, SEAL_PREFIX, strlen(SEAL_PREFIX));
    if (strncmp(cursor, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0 ||
        from_b64url(cursor + strlen(SEAL_PREFIX), std + strlen(SEAL_PREFIX),
                    sizeof(std) - strlen(SEAL_PREFIX)) < 0)
        return -1;
    if (seal_key_parse(key_hex, key) == 0 && unseal(key, aad, std, out) == 0 && out->data &&
        strlen(out->data) == out->len)
        rc = 0;
    OPENSSL_cleanse(key, sizeof(key));
    if (rc != 0)
        buf_reset(out);
    return rc;
}
