/*
 * The tests' base64url encoder (RFC 4648 section 5, no padding), for the tokens and keys
 * they sign; the product only decodes (lib/jwt.h, jwt_b64url_decode).  Used by t/unit and
 * t/fuzz; include lib/buf.h first.
 */
#ifndef PH_T_B64URL_H
#define PH_T_B64URL_H

#include <stddef.h>

/* Append base64url of p[0..n) to b: 0, or -1 when b cannot take it. */
static inline int
t_b64url(struct buf *b, const void *p, size_t n)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *s = p;
    unsigned long acc = 0;
    int bits = 0, rc = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        acc = (acc << 8) | s[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            rc |= buf_append(b, &al[(acc >> bits) & 63], 1);
        }
    }
    if (bits > 0)
        rc |= buf_append(b, &al[(acc << (6 - bits)) & 63], 1);
    return rc ? -1 : 0;
}

#endif
