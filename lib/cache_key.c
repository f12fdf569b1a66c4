/* The memcached key of a namespace and a lookup key (see cache.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cache.h"
#include "ids.h"

/* "ph:v2:ns:key"; "ph:v2:ns:#<sha256(key) hex>" when key is long or not memcached-safe;
 * "ph:v2:#<sha256(ns:key) hex>" when even that is over memcached's limit (a namespace of
 * over 170 bytes, which none of ours is).  0 only when OpenSSL cannot digest (no memory):
 * memcached refuses an empty key and the worker's copy holds none. */
size_t
cache_key(char out[CACHE_KEY_BUF], const char *ns, const char *key)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx;
    const char *p;
    int safe = 1, n;

    for (p = key; *p && safe; p++)
        safe = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
    n = snprintf(out, CACHE_KEY_BUF, "ph:%s:%s:%s", CACHE_VERSION, ns, key);
    if (safe && n > 0 && (size_t)n < CACHE_KEY_BUF && n <= CACHE_KEY_MAX)
        return (size_t)n;
    n = snprintf(out, CACHE_KEY_BUF, "ph:%s:%s:#", CACHE_VERSION, ns);
    if (n > 0 && n + 2 * SHA256_DIGEST_LENGTH <= CACHE_KEY_MAX) {
        if (!EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL))
            return 0;
    } else {
        n = snprintf(out, CACHE_KEY_BUF, "ph:%s:#", CACHE_VERSION);
        ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
            !EVP_DigestUpdate(ctx, ns, strlen(ns)) || !EVP_DigestUpdate(ctx, ":", 1) ||
            !EVP_DigestUpdate(ctx, key, strlen(key)) || !EVP_DigestFinal_ex(ctx, md, &mdlen))
            mdlen = 0;
        EVP_MD_CTX_free(ctx);
        if (mdlen == 0)
            return 0;
    }
    hex_encode(md, mdlen, out + n);
    return (size_t)n + 2 * mdlen;
}
