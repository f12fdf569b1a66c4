/*
 * Shared by the libFuzzer targets of t/fuzz (t/fuzz/run builds and runs them): an input read
 * in pieces, the settings every target starts from, and the check that ends a run.
 *
 * An input is a selector byte (which parser of the target it feeds) and then pieces, each
 * ended by FZ_SEP (0x1e, ASCII's record separator, which none of the formats uses) or the
 * end of the input, so a seed is readable and a piece may hold any other byte, CR and LF
 * included.  Everything here is static inline: each target is one translation unit.
 */
#ifndef PH_FUZZ_H
#define PH_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "lib/buf.h"
#include "lib/cfg.h"
#include "lib/errors.h"
#include "lib/log.h"
#include "../b64url.h"

#define FZ_SEP 0x1e

struct fz {
    const uint8_t *p;
    size_t n;
};

/* The next byte, or 0 at the end. */
static inline unsigned
fz_byte(struct fz *f)
{
    unsigned b;

    if (f->n == 0)
        return 0;
    b = f->p[0];
    f->p++;
    f->n--;
    return b;
}

/* The next piece as a NUL-terminated copy (the caller frees it); its length in *len when len
 * is not NULL.  A NUL byte inside ends the C string early, as it would in the service. */
static inline char *
fz_piece(struct fz *f, size_t *len)
{
    const uint8_t *end = memchr(f->p, FZ_SEP, f->n);
    size_t k = end ? (size_t)(end - f->p) : f->n;
    char *s = malloc(k + 1);

    if (!s)
        abort();
    memcpy(s, f->p, k);
    s[k] = '\0';
    if (len)
        *len = k;
    f->p += k;
    f->n -= k;
    if (end) {
        f->p++;
        f->n--;
    }
    return s;
}

/* The rest of the input as a NUL-terminated copy (the caller frees it). */
static inline char *
fz_rest(struct fz *f, size_t *len)
{
    char *s = malloc(f->n + 1);

    if (!s)
        abort();
    memcpy(s, f->p, f->n);
    s[f->n] = '\0';
    if (len)
        *len = f->n;
    f->p += f->n;
    f->n = 0;
    return s;
}

/* A target made of parts: the selector byte picks which part gets the rest of the input. */
typedef void fz_part(struct fz *f);

static inline void
fz_run_part(const uint8_t *data, size_t size, fz_part *const *parts, size_t nparts)
{
    struct fz f = { data, size };

    parts[fz_byte(&f) % nparts](&f);
}

/* PH_FUZZ_VERBOSE=1 in the environment: the targets say what each input gave (for seeds and
 * reproducers; a run stays quiet). */
static inline int
fz_verbose(void)
{
    static int v = -1;

    if (v < 0)
        v = !!getenv("PH_FUZZ_VERBOSE");
    return v;
}

/* A broken invariant: say which, and abort so libFuzzer keeps the input. */
#define FZ_ASSERT(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz: invariant broken at %s:%d: %s\n", __FILE__, __LINE__, \
                    #cond); \
            abort(); \
        } \
    } while (0)

/*
 * The settings as the service's defaults, whatever the caller's environment holds (as
 * t/unit/unit.h does), then NULL-terminated NAME=value pairs on top; quiet logs.  No setting
 * here names a reachable server: memcached is off and nothing is fetched.
 */
static inline void
fz_settings(const char *const *kv)
{
    char name[160];
    const char *n;
    size_t i;

    for (i = 0; (n = cfg_setting_name(i)); i++) {   /* checksrc: ok */
        unsetenv(n);
        snprintf(name, sizeof(name), "%s_FILE", n);
        unsetenv(name);
        snprintf(name, sizeof(name), "%s_SSM", n);
        unsetenv(name);
    }
    setenv("MEMCACHED_SERVERS", "", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    for (i = 0; kv && kv[i]; i += 2)
        setenv(kv[i], kv[i + 1], 1);
    log_level_min = LL_CRIT + 1;
}

/* cfg from the environment fz_settings made, with the rule files of sql/rules loaded. */
static inline void
fz_cfg(struct cfg *cfg, int rules)
{
    char err[512];

    err[0] = '\0';
    if (cfg_load(cfg, NULL, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz: cfg_load: %s\n", err);
        abort();
    }
    if (rules && cfg_load_rules(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz: cfg_load_rules: %s\n", err);
        abort();
    }
    log_level_min = LL_CRIT + 1;
}

/* --- a signing key and its JWKS, for the JWT reader ------------------------------------ */

/* Append base64url (no padding) of p[0..n) to b. */
static inline void
fz_b64url(struct buf *b, const void *p, size_t n)
{
    if (t_b64url(b, p, n) != 0)
        abort();
}

/* The fetch hook of jwks_cache_init for a document of the target's own (ud: its struct buf). */
static inline int
fz_fetch_jwks(struct buf *out, const char *url, void *ud, struct app_error *err)
{
    const struct buf *doc = ud;

    (void)url;
    (void)err;
    return buf_append(out, doc->data, doc->len);
}

/* A fresh RSA-2048 key (once per process: a run signs many tokens with it). */
static inline EVP_PKEY *
fz_rsa_key(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);

    if (!k)
        abort();
    return k;
}

/* The JWKS document {"keys":[{kid, n, e, ...}]} of k's public half into b. */
static inline void
fz_jwks(struct buf *b, EVP_PKEY *k, const char *kid)
{
    static const char *const params[] = {
        OSSL_PKEY_PARAM_RSA_N, "n", OSSL_PKEY_PARAM_RSA_E, "e",
    };
    unsigned char raw[1024];
    BIGNUM *bn = NULL;
    size_t i;
    int n;

    buf_printf(b, "{\"keys\":[{\"kid\":\"%s\",\"kty\":\"RSA\",\"alg\":\"RS256\","
               "\"use\":\"sig\"", kid);
    for (i = 0; i < 4; i += 2) {
        if (EVP_PKEY_get_bn_param(k, params[i], &bn) != 1)
            abort();
        n = BN_bn2bin(bn, raw);
        BN_free(bn);
        bn = NULL;
        buf_printf(b, ",\"%s\":\"", params[i + 1]);
        fz_b64url(b, raw, (size_t)n);
        buf_puts(b, "\"");
    }
    buf_puts(b, "}]}");
}

#endif
