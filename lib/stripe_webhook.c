#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "strparse.h"
#include "stripe_webhook.h"

#define MAX_SIGS 8

#define EVENT_TYPE(type, handler) type,
const char *const stripe_webhook_events[] = { STRIPE_WEBHOOK_EVENTS(EVENT_TYPE) NULL };

/* hex(HMAC-SHA256(secret, t "." payload)) into out[65]. */
static void
sign(const char *secret, size_t slen, const char *t, size_t tlen, const char *payload,
     size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, NULL,
                                                 (const unsigned char *)secret, slen);
    size_t outl = sizeof(md);

    out[0] = '\0';
    if (ctx && key && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSignUpdate(ctx, t, tlen) == 1 && EVP_DigestSignUpdate(ctx, ".", 1) == 1 &&
        EVP_DigestSignUpdate(ctx, payload, len) == 1 &&
        EVP_DigestSignFinal(ctx, md, &outl) == 1) {
        mdlen = (unsigned int)outl;
        for (i = 0; i < mdlen && i < 32; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[2 * i] = '\0';
    }
    EVP_PKEY_free(key);
    EVP_MD_CTX_free(ctx);
}

int
stripe_webhook_verify(const char *payload, size_t len, const char *header,
                      const char *secrets, long tolerance_s, time_t now,
                      struct app_error *err)
{
    const char *p, *t = NULL, *sigs[MAX_SIGS];
    size_t tlen = 0, siglen[MAX_SIGS], nsig = 0, i;
    char tbuf[24], want[65];
    long ts;

    if (!header || !*header)
        return app_error_set(err, APP_EBADREQUEST, "no Stripe-Signature header");
    if (!secrets || !*secrets)
        return app_error_set(err, APP_EBADREQUEST, "no webhook secret configured");
    for (p = header; *p;) {
        const char *end = strchr(p, ','), *eq;
        size_t n = end ? (size_t)(end - p) : strlen(p);

        while (n && *p == ' ') {
            p++;
            n--;
        }
        eq = memchr(p, '=', n);
        if (eq && eq - p == 1 && *p == 't') {
            t = eq + 1;
            tlen = n - 2;
        } else if (eq && eq - p == 2 && strncmp(p, "v1", 2) == 0 && nsig < MAX_SIGS) {
            sigs[nsig] = eq + 1;
            siglen[nsig++] = n - 3;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (!t || tlen == 0 || tlen >= sizeof(tbuf) || nsig == 0)
        return app_error_set(err, APP_EBADREQUEST, "malformed Stripe-Signature header");
    memcpy(tbuf, t, tlen);
    tbuf[tlen] = '\0';
    if (str_to_long(tbuf, 0, 4102444800L, &ts) != 0)
        return app_error_set(err, APP_EBADREQUEST, "malformed Stripe-Signature timestamp");
    if (ts < (long)now - tolerance_s || ts > (long)now + tolerance_s)
        return app_error_set(err, APP_EBADREQUEST, "Stripe-Signature timestamp outside the "
                             "tolerance");
    for (p = secrets; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        while (n && *p == ' ') {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (n) {
            sign(p, n, tbuf, tlen, payload, len, want);
            for (i = 0; i < nsig; i++) {
                if (siglen[i] == 64 && want[0] && str_ct_equal(sigs[i], want, 64))
                    return APP_OK;
            }
        }
        p = end ? end + 1 : p + n;
    }
    return app_error_set(err, APP_EBADREQUEST, "no signature matches");
}
