/*
 * MIME message builder (see mime.h).  Every body is base64 in 76-column lines, so no line
 * length or charset rule of SMTP can bite, and the boundaries ("=_ph..."), which base64
 * never produces, cannot collide with content.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mime.h"

#define B64_LINE 57                /* input bytes per 76-column base64 line */
#define WORD_IN 42                 /* input bytes per RFC 2047 encoded word (≤ 75 columns) */
/* Plain ASCII stays plain while it fits RFC 5322's 998 octets a line: a subject whose words
 * (folding cuts only at spaces) are at most this long, a quoted display name (escapes
 * doubled, an address of 254 beside it) at most this long.  Else it goes as encoded words. */
#define PLAIN_WORD_MAX 900
#define PLAIN_NAME_MAX 300

int
mail_addr_ok(const char *s)
{
    const char *at;
    size_t n;

    if (!s)
        return 0;
    n = strlen(s);
    at = strchr(s, '@');
    if (n < 3 || n > 254 || !at || at == s || !at[1] || strchr(at + 1, '@') ||
        !strchr(at + 1, '.'))
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("<>()[],;:\\\"", *s))
            return 0;
    return 1;
}

static int
plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static int
b64(struct buf *out, const unsigned char *p, size_t n)
{
    unsigned char enc[4 * B64_LINE / 3 + 4];
    int len, rc = APP_OK;
    size_t k;

    while (n && rc == APP_OK) {
        k = n < B64_LINE ? n : B64_LINE;
        len = EVP_EncodeBlock(enc, p, (int)k);
        rc = buf_append(out, enc, (size_t)len);
        if (rc == APP_OK)
            rc = buf_append(out, "\r\n", 2);
        p += k;
        n -= k;
    }
    return rc;
}

/* The longest run of s without a space. */
static size_t
longest_word(const char *s)
{
    size_t run = 0, max = 0;

    for (; *s; s++) {
        run = *s == ' ' ? 0 : run + 1;
        if (run > max)
            max = run;
    }
    return max;
}

/* Plain ASCII text folded at spaces so no header line passes 78 columns where it can. */
static int
fold_ascii(struct buf *out, const char *s)
{
    size_t col = 9, n;             /* after "Subject: " */
    const char *sp;
    int rc = APP_OK;

    while (*s && rc == APP_OK) {
        sp = strchr(s + 1, ' ');
        n = sp ? (size_t)(sp - s) : strlen(s);
        if (col + n > 76 && col > 9 && *s == ' ') {
            rc = buf_append(out, "\r\n", 2);   /* the space starts the continuation line */
            col = 0;
        }
        if (rc == APP_OK)
            rc = buf_append(out, s, n);
        col += n;
        s += n;
    }
    return rc;
}

/* A header value: as is when plain ASCII that fits, else encoded words cut on UTF-8
 * boundaries. */
static int
header_text(struct buf *out, const char *s, int quote)
{
    unsigned char enc[4 * WORD_IN / 3 + 4];
    size_t n = strlen(s), k;
    int rc = APP_OK, len;

    if (plain_ascii(s) && (quote ? n <= PLAIN_NAME_MAX : longest_word(s) <= PLAIN_WORD_MAX)) {
        if (!quote)
            return fold_ascii(out, s);
        rc = buf_append(out, "\"", 1);
        for (; *s && rc == APP_OK; s++)
            rc = strchr("\"\\", *s) ? buf_printf(out, "\\%c", *s) : buf_append(out, s, 1);
        return rc == APP_OK ? buf_append(out, "\"", 1) : rc;
    }
    while (n && rc == APP_OK) {
        k = n < WORD_IN ? n : WORD_IN;
        /* Never split a UTF-8 sequence (at most 3 bytes back); bytes that are not UTF-8
         * at all are cut where they fall. */
        while (k < n && k > WORD_IN - 3 && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
        if (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
            k = WORD_IN;
        len = EVP_EncodeBlock(enc, (const unsigned char *)s, (int)k);
        rc = buf_printf(out, "=?UTF-8?B?%.*s?=%s", len, enc, n > k ? "\r\n " : "");
        s += k;
        n -= k;
    }
    return rc;
}

static int
address(struct buf *out, const char *field, const char *name, const char *addr)
{
    int rc = buf_printf(out, "%s: ", field);

    if (rc == APP_OK && name && *name) {
        rc = header_text(out, name, 1);
        if (rc == APP_OK)
            rc = buf_puts(out, " ");
    }
    return rc == APP_OK ? buf_printf(out, "<%s>\r\n", addr) : rc;
}

static int
part(struct buf *out, const char *boundary, const char *ctype, const char *body)
{
    int rc = buf_printf(out, "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n", boundary, ctype);

    return rc == APP_OK ? b64(out, (const unsigned char *)body, strlen(body)) : rc;
}

static int
safe_token(const char *s, const char *extra)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(extra, *s)))
            return 0;
    return 1;
}

int
mime_build(const struct mail *m, struct buf *out, struct app_error *err)
{
    unsigned char rnd[12];
    char mixed[48], alt[48], date[64];
    const char *domain;
    struct tm tm;
    size_t i;
    int rc;

    if (!mail_addr_ok(m->from_addr) || !mail_addr_ok(m->to_addr))
        return app_error_set(err, APP_EVALIDATION, "unusable address");
    domain = m->domain ? m->domain : strchr(m->from_addr, '@') + 1;
    if (!safe_token(m->message_id, "._-") || !safe_token(domain, ".-"))
        return app_error_set(err, APP_EINTERNAL, "unusable Message-ID");
    for (i = 0; i < m->natt; i++)
        if (!safe_token(m->att[i].filename, "._-") || strpbrk(m->att[i].content_type, "\r\n"))
            return app_error_set(err, APP_EINTERNAL, "unusable attachment header");
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return app_error_set(err, APP_EINTERNAL, "no random bytes");
    snprintf(alt, sizeof(alt), "=_ph_alt_%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9],
             rnd[10], rnd[11]);
    snprintf(mixed, sizeof(mixed), "=_ph_mix_%s", alt + 9);
    gmtime_r(&m->date, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

    rc = address(out, "From", m->from_name, m->from_addr);
    if (rc == APP_OK)
        rc = address(out, "To", m->to_name, m->to_addr);
    if (rc == APP_OK)
        rc = buf_puts(out, "Subject: ");
    if (rc == APP_OK)
        rc = header_text(out, m->subject, 0);
    if (rc == APP_OK)
        rc = buf_printf(out, "\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n",
                        date, m->message_id, domain);
    if (rc == APP_OK && m->natt)
        rc = buf_printf(out, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n"
                        "--%s\r\n", mixed, mixed);
    if (rc == APP_OK)
        rc = buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
                        alt);
    if (rc == APP_OK)
        rc = part(out, alt, "text/plain", m->text);
    if (rc == APP_OK)
        rc = part(out, alt, "text/html", m->html);
    if (rc == APP_OK)
        rc = buf_printf(out, "--%s--\r\n", alt);
    for (i = 0; rc == APP_OK && i < m->natt; i++) {
        rc = buf_printf(out, "--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
                        "Content-Disposition: attachment; filename=\"%s\"\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n", mixed,
                        m->att[i].content_type, m->att[i].filename, m->att[i].filename);
        if (rc == APP_OK)
            rc = b64(out, (const unsigned char *)m->att[i].data, m->att[i].len);
    }
    if (rc == APP_OK && m->natt)
        rc = buf_printf(out, "--%s--\r\n", mixed);
    return rc == APP_OK ? APP_OK : app_error_set(err, rc, "email too large");
}
