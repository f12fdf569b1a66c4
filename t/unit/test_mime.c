/*
 * lib/mime.c (mail_addr_ok, mime_build) and lib/fmt.c (money, dates and times for emails).
 * The built messages are taken apart again here: headers unfolded, multiparts split on their
 * boundaries, base64 and RFC 2047 words decoded; where /usr/bin/python3 exists its email
 * parser checks the same message independently.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "../../lib/fmt.h"
#include "../../lib/mime.h"
#include "unit.h"

#define MAIL_MAX (1 << 20)
#define MAX_PARTS 8

/* 2026-12-08T23:00:00Z: Wed 9 Dec 2026 10:00 in Sydney (AEDT). */
#define T_DEC 1796770800
/* 2026-06-15T00:00:00Z: Mon 15 Jun 2026 10:00 in Sydney (AEST). */
#define T_JUN 1781481600

static const char text_body[] =
    "Hi Sam,\n\nYour results for ADC Written Mock 1 are ready.\n\n"
    "Score: 71.5%  Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\n\n"
    "https://prodenthub.com.au/reports/reg_5511\n";

static const char html_body[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>"
    "<table role=\"presentation\" width=\"100%\" style=\"max-width:600px;font-family:Arial,"
    "Helvetica,sans-serif\"><tr><td><p>Hi Sam,</p><p>Your results for ADC Written Mock 1 are "
    "ready: 71.5% &mdash; Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80</p><p><a href=\"https://"
    "prodenthub.com.au/reports/reg_5511\">View the report</a></p></td></tr></table>"
    "</body></html>\n";

static void
base_mail(struct mail *m)
{
    memset(m, 0, sizeof(*m));
    m->from_addr = "noreply@prodenthub.com.au";
    m->from_name = "ProDentHub";
    m->to_addr = "sam@example.com";
    m->to_name = "Sam Smith";
    m->subject = "Your results: ADC Written Mock 1";
    m->text = text_body;
    m->html = html_body;
    m->message_id = "3f2a9c0d1e7b";
    m->date = T_DEC;
}

/* Build m; the message as a NUL-terminated copy the caller frees. */
static char *
build_ok(const struct mail *m, size_t *len)
{
    struct app_error err;
    struct buf b;
    char *s;
    int rc;

    app_error_clear(&err);
    buf_init(&b, MAIL_MAX);
    rc = mime_build(m, &b, &err);
    ck_assert_msg(rc == APP_OK, "mime_build: %d %s", rc, err.msg);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(strlen(b.data), b.len);
    s = strdup(b.data);
    ck_assert_ptr_nonnull(s);
    if (len)
        *len = b.len;
    buf_free(&b);
    return s;
}

/* mime_build must refuse m with code and write nothing. */
static void
build_refused(const char *what, const struct mail *m, int code)
{
    struct app_error err;
    struct buf b;
    int rc;

    app_error_clear(&err);
    buf_init(&b, MAIL_MAX);
    rc = mime_build(m, &b, &err);
    ck_assert_msg(rc != APP_OK, "%s: accepted", what);
    if (code)
        ck_assert_msg(rc == code, "%s: %d, not %d", what, rc, code);
    ck_assert_int_eq(err.code, rc);
    ck_assert_msg(b.len == 0, "%s: wrote %zu bytes", what, b.len);
    buf_free(&b);
}

/* --- taking a message apart -------------------------------------------------------------- */

/* The length of the header block at s, through the CRLF before the blank line. */
static size_t
head_len(const char *s)
{
    const char *e = strstr(s, "\r\n\r\n");

    ck_assert_msg(e != 0, "no blank line after the headers");
    return (size_t)(e - s) + 2;
}

/* How many header lines of the block s[0..n) are field name. */
static int
header_count(const char *s, size_t n, const char *name)
{
    size_t nl = strlen(name);
    const char *p = s, *end = s + n, *eol;
    int count = 0;

    for (; p < end; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        ck_assert_msg(eol != 0, "a header line without CRLF");
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':')
            count++;
    }
    return count;
}

/* The unfolded value of field name in the block s[0..n), or NULL; the caller frees it. */
static char *
header_get(const char *s, size_t n, const char *name)
{
    size_t nl = strlen(name);
    const char *p = s, *end = s + n, *eol, *v;
    struct buf out;

    for (; p < end; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        ck_assert_msg(eol != 0, "a header line without CRLF");
        if ((size_t)(eol - p) < nl + 1 || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        v = p + nl + 1;
        while (v < eol && *v == ' ')
            v++;
        buf_init(&out, MAIL_MAX);
        ck_assert_int_eq(buf_append(&out, v, (size_t)(eol - v)), APP_OK);
        /* Unfolding removes the CRLF before a continuation line's white space. */
        while (eol + 2 < end && (eol[2] == ' ' || eol[2] == '\t')) {
            p = eol + 2;
            eol = memmem(p, (size_t)(end - p), "\r\n", 2);
            ck_assert_ptr_nonnull(eol);
            ck_assert_int_eq(buf_append(&out, p, (size_t)(eol - p)), APP_OK);
        }
        return out.data;
    }
    return NULL;
}

/* The quoted boundary parameter of a Content-Type value; the caller frees it. */
static char *
boundary_of(const char *ctype)
{
    const char *b = strstr(ctype, "boundary=\""), *e;
    char *s;

    ck_assert_msg(b != 0, "no boundary in %s", ctype);
    b += strlen("boundary=\"");
    e = strchr(b, '"');
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(e > b && e - b <= 70, "boundary length %d", (int)(e - b));
    s = strndup(b, (size_t)(e - b));
    ck_assert_ptr_nonnull(s);
    return s;
}

struct part {
    const char *head;          /* header block, through its last CRLF */
    size_t head_len;
    const char *body;
    size_t body_len;           /* without the CRLF that belongs to the next delimiter */
};

/* Split the multipart body s[0..n) on boundary; returns the number of parts. */
static size_t
split_multipart(const char *s, size_t n, const char *boundary, struct part *parts, size_t max)
{
    char delim[128];
    const char *p, *q, *end = s + n, *next;
    size_t count = 0, dl;

    dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    ck_assert_uint_lt(dl, sizeof(delim));
    /* The first delimiter may open the body, without the CRLF. */
    if ((size_t)(end - s) >= dl - 2 && memcmp(s, delim + 2, dl - 2) == 0)
        p = s - 2;
    else
        p = memmem(s, n, delim, dl);
    ck_assert_msg(p != 0, "no --%s", boundary);
    for (;;) {
        q = p + dl;
        ck_assert_msg(q + 2 <= end, "delimiter at the end of the body");
        if (q[0] == '-' && q[1] == '-')
            break;
        ck_assert_msg(q[0] == '\r' && q[1] == '\n', "a delimiter not followed by CRLF");
        q += 2;
        next = memmem(q, (size_t)(end - q), delim, dl);
        ck_assert_msg(next != 0, "part %zu is not closed", count);
        ck_assert_uint_lt(count, max);
        parts[count].head = q;
        parts[count].head_len = head_len(q);
        if (q + parts[count].head_len == next) {
            /* Headers and no body: the blank line's CRLF is the delimiter's (RFC 2046). */
            parts[count].body = next;
            parts[count].body_len = 0;
        } else {
            ck_assert_msg(q + parts[count].head_len + 2 <= next, "part headers overrun");
            parts[count].body = q + parts[count].head_len + 2;
            parts[count].body_len = (size_t)(next - parts[count].body);
        }
        count++;
        p = next;
    }
    /* The close delimiter ends the entity: CRLF or nothing after it. */
    q = p + dl + 2;
    ck_assert_msg(q == end || (q + 2 <= end && q[0] == '\r' && q[1] == '\n'),
                  "junk after the close delimiter");
    return count;
}

/*
 * Decode body s[0..n): base64 in CRLF-terminated lines of at most 76 columns.  Returns the
 * bytes (NUL-terminated for convenience, caller frees) and their number in len.
 */
static unsigned char *
b64_decode(const char *s, size_t n, size_t *len)
{
    char *in = malloc(n + 1);
    unsigned char *out = malloc(n + 1);
    size_t k = 0, col = 0, i, pad = 0;
    int got;

    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    for (i = 0; i < n; i++) {
        if (s[i] == '\r') {
            ck_assert_msg(i + 1 < n && s[i + 1] == '\n', "bare CR");
            col = 0;
            i++;
            continue;
        }
        ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
                             s[i]) && s[i], "not base64: 0x%02x", (unsigned char)s[i]);
        col++;
        ck_assert_msg(col <= 76, "base64 line longer than 76");
        in[k++] = s[i];
    }
    ck_assert_msg(k % 4 == 0, "base64 length %zu", k);
    if (k && in[k - 1] == '=')
        pad++;
    if (k > 1 && in[k - 2] == '=')
        pad++;
    got = k ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)k) : 0;
    ck_assert_int_ge(got, 0);
    free(in);
    *len = (size_t)got - pad;
    out[*len] = '\0';
    return out;
}

/* Part p must be Content-Type ctype, base64, and decode to exactly want[0..n). */
static void
check_part(const struct part *p, const char *ctype, const void *want, size_t n)
{
    char *ct = header_get(p->head, p->head_len, "Content-Type");
    char *cte = header_get(p->head, p->head_len, "Content-Transfer-Encoding");
    unsigned char *got;
    size_t len;

    ck_assert_ptr_nonnull(ct);
    ck_assert_str_eq(ct, ctype);
    ck_assert_ptr_nonnull(cte);
    ck_assert_str_eq(cte, "base64");
    got = b64_decode(p->body, p->body_len, &len);
    ck_assert_uint_eq(len, n);
    ck_assert_msg(memcmp(got, want, n) == 0, "part %s does not decode to its input", ctype);
    free(got);
    free(ct);
    free(cte);
}

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int
utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0, k, need;
    unsigned long cp, min;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((s[i] & 0xe0) == 0xc0) {
            need = 1;
            cp = s[i] & 0x1f;
            min = 0x80;
        } else if ((s[i] & 0xf0) == 0xe0) {
            need = 2;
            cp = s[i] & 0x0f;
            min = 0x800;
        } else if ((s[i] & 0xf8) == 0xf0) {
            need = 3;
            cp = s[i] & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        for (k = 1; k <= need; k++) {
            if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/*
 * Decode a header value made only of RFC 2047 words "=?UTF-8?B?...?=" separated by white
 * space.  Each word must fit in 75 columns and decode to valid UTF-8 on its own.  Returns the
 * text (caller frees); the number of words goes to nwords.
 */
static char *
decode_words(const char *v, size_t *nwords)
{
    struct buf out;
    const char *p = v, *e;
    unsigned char *dec;
    size_t len, wl;

    buf_init(&out, MAIL_MAX);
    ck_assert_int_eq(buf_append(&out, "", 0), APP_OK);
    *nwords = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        e = p + strcspn(p, " \t");
        wl = (size_t)(e - p);
        ck_assert_msg(wl <= 75, "encoded word of %zu columns", wl);
        ck_assert_msg(wl > 12 && strncmp(p, "=?UTF-8?B?", 10) == 0 && strncmp(e - 2, "?=", 2) == 0,
                      "not an encoded word: %.*s", (int)wl, p);
        dec = b64_decode(p + 10, wl - 12, &len);
        ck_assert_msg(len > 0, "an empty encoded word");
        ck_assert_msg(utf8_valid(dec, len), "word %zu is not UTF-8 on its own", *nwords);
        ck_assert_int_eq(buf_append(&out, dec, len), APP_OK);
        free(dec);
        (*nwords)++;
        p = e;
    }
    return out.data;
}

/* Every line ends in CRLF (no bare CR or LF), the last included; none is longer than max. */
static void
check_lines(const char *msg, size_t n, size_t max)
{
    size_t i, col = 0, line = 1;

    ck_assert_msg(n >= 2 && msg[n - 2] == '\r' && msg[n - 1] == '\n', "no final CRLF");
    for (i = 0; i < n; i++) {
        if (msg[i] == '\r') {
            ck_assert_msg(i + 1 < n && msg[i + 1] == '\n', "bare CR on line %zu", line);
            ck_assert_msg(col <= max, "line %zu has %zu columns (at most %zu): %.*s", line, col,
                          max, (int)col, msg + i - col);
            col = 0;
            line++;
            i++;
            continue;
        }
        ck_assert_msg(msg[i] != '\n', "bare LF on line %zu", line);
        col++;
    }
}

/* --- mail_addr_ok ------------------------------------------------------------------------ */

START_TEST(test_addr_valid)
{
    static const char *const ok[] = {
        "a@b.co", "sam@example.com", "first.last@example.com",
        "first+tag@sub.example.com.au", "o'brien@example.ie", "x_y-z@ex-ample.org",
        "UPPER@EXAMPLE.COM", "1234@123.45.io", "a!#$%&*/=?^`{|}~@example.com",
    };
    char longest[255];
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        ck_assert_msg(mail_addr_ok(ok[i]) == 1, "\"%s\" refused", ok[i]);
    /* 254 characters is the longest. */
    memset(longest, 'a', 254);
    memcpy(longest + 254 - 12, "@example.com", 12);
    longest[254] = '\0';
    ck_assert_uint_eq(strlen(longest), 254);
    ck_assert_int_eq(mail_addr_ok(longest), 1);
}
END_TEST

START_TEST(test_addr_refused)
{
    static const char *const bad[] = {
        "", "a", "a@", "@", "@example.com", "sam.example.com", "sam@@example.com",
        "sam@exa@mple.com", "s@m@example.com", "sam smith@example.com", "sam@exa mple.com",
        " sam@example.com", "sam@example.com ", "sam\t@example.com", "sam@example.com\r",
        "sam@example.com\n", "sam@example.com\r\nBcc: evil@example.com",
        "sam\r\n@example.com", "<sam@example.com>", "sam<@example.com", "sam@example.com>",
        "\"sam\"@example.com", "\"sam@example.com", "sam,eve@example.com",
        "sam@example.com,eve@example.com", "sam;eve@example.com", "sam:x@example.com",
        "sam(x)@example.com", "sam[x]@example.com", "sam\\x@example.com",
        "zo\xc3\xab@example.com", "sam@ex\xc3\xa4mple.com", "sam\x7f@example.com",
        "sam\x01@example.com", "sam@localhost", "sam@example",
    };
    char toolong[300];
    size_t i;

    ck_assert_int_eq(mail_addr_ok(NULL), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(mail_addr_ok(bad[i]) == 0, "\"%s\" accepted", bad[i]);
    /* 255 characters. */
    memset(toolong, 'a', 255);
    memcpy(toolong + 255 - 12, "@example.com", 12);
    toolong[255] = '\0';
    ck_assert_int_eq(mail_addr_ok(toolong), 0);
    memset(toolong, 'a', sizeof(toolong) - 1);
    memcpy(toolong + 10, "@example.com", 12);
    toolong[sizeof(toolong) - 1] = '\0';
    ck_assert_int_eq(mail_addr_ok(toolong), 0);
}
END_TEST

/* --- mime_build: headers ----------------------------------------------------------------- */

START_TEST(test_headers)
{
    struct mail m;
    char *msg, *v;
    size_t n, hl;

    base_mail(&m);
    msg = build_ok(&m, &n);
    hl = head_len(msg);

    v = header_get(msg, hl, "From");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "\"ProDentHub\" <noreply@prodenthub.com.au>");
    free(v);
    v = header_get(msg, hl, "To");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "\"Sam Smith\" <sam@example.com>");
    free(v);
    v = header_get(msg, hl, "Subject");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "Your results: ADC Written Mock 1");
    free(v);
    v = header_get(msg, hl, "Date");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "Tue, 08 Dec 2026 23:00:00 +0000");
    free(v);
    v = header_get(msg, hl, "Message-ID");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "<3f2a9c0d1e7b@prodenthub.com.au>");
    free(v);
    v = header_get(msg, hl, "MIME-Version");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "1.0");
    free(v);
    v = header_get(msg, hl, "Content-Type");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(strncmp(v, "multipart/alternative; boundary=\"", 33), 0);
    free(v);

    /* Each once, and nothing that would make a second recipient. */
    ck_assert_int_eq(header_count(msg, hl, "From"), 1);
    ck_assert_int_eq(header_count(msg, hl, "To"), 1);
    ck_assert_int_eq(header_count(msg, hl, "Subject"), 1);
    ck_assert_int_eq(header_count(msg, hl, "Date"), 1);
    ck_assert_int_eq(header_count(msg, hl, "Message-ID"), 1);
    ck_assert_int_eq(header_count(msg, hl, "MIME-Version"), 1);
    ck_assert_int_eq(header_count(msg, hl, "Content-Type"), 1);
    ck_assert_int_eq(header_count(msg, hl, "Cc"), 0);
    ck_assert_int_eq(header_count(msg, hl, "Bcc"), 0);
    free(msg);
}
END_TEST

START_TEST(test_headers_other_forms)
{
    struct mail m;
    char *msg, *v;
    size_t hl;

    /* No display names: the bare address in angle brackets. */
    base_mail(&m);
    m.from_name = NULL;
    m.to_name = "";
    m.domain = "mail.prodenthub.com.au";
    m.message_id = "out_1.a-B";
    m.date = T_JUN + 5 * 3600 + 7 * 60 + 9;
    msg = build_ok(&m, NULL);
    hl = head_len(msg);
    v = header_get(msg, hl, "From");
    ck_assert_str_eq(v, "<noreply@prodenthub.com.au>");
    free(v);
    v = header_get(msg, hl, "To");
    ck_assert_str_eq(v, "<sam@example.com>");
    free(v);
    v = header_get(msg, hl, "Message-ID");
    ck_assert_str_eq(v, "<out_1.a-B@mail.prodenthub.com.au>");
    free(v);
    v = header_get(msg, hl, "Date");
    ck_assert_str_eq(v, "Mon, 15 Jun 2026 05:07:09 +0000");
    free(v);
    free(msg);

    /* The Date is UTC whatever the process's time zone. */
    setenv("TZ", "Australia/Sydney", 1);
    tzset();
    base_mail(&m);
    msg = build_ok(&m, NULL);
    v = header_get(msg, head_len(msg), "Date");
    ck_assert_str_eq(v, "Tue, 08 Dec 2026 23:00:00 +0000");
    free(v);
    free(msg);

    /* An empty subject is still a Subject header. */
    base_mail(&m);
    m.subject = "";
    msg = build_ok(&m, NULL);
    ck_assert_int_eq(header_count(msg, head_len(msg), "Subject"), 1);
    free(msg);
}
END_TEST

START_TEST(test_crlf_and_line_limit)
{
    static const char ics[] = "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n";
    struct mail_attachment att = {
        "invite.ics", "text/calendar; method=REQUEST; charset=UTF-8", ics, sizeof(ics) - 1,
    };
    struct mail m;
    char *msg;
    size_t n;

    base_mail(&m);
    m.subject = "R\xc3\xa9sultats \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ready";
    m.to_name = "Zo\xc3\xab Caf\xc3\xa9";
    m.att = &att;
    m.natt = 1;
    msg = build_ok(&m, &n);
    /* RFC 5322: CRLF only, and at most 998 characters a line. */
    check_lines(msg, n, 998);
    free(msg);
}
END_TEST

/*
 * Regression (mime_build, fixed): every message had the header line
 *   Content-Type: multipart/alternative; boundary="=_ph_alt_<24 hex digits>"
 * of 81 characters, over RFC 5322's 78 (a SHOULD; the MUST of 998 holds).  Folding it after
 * the ';' fixes it.  This test asserts the 78-column limit for an ordinary email.
 */
START_TEST(test_lines_within_78)
{
    static const char ics[] = "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n";
    struct mail_attachment att = {
        "invite.ics", "text/calendar; method=REQUEST; charset=UTF-8", ics, sizeof(ics) - 1,
    };
    struct mail m;
    char *msg;
    size_t n;

    base_mail(&m);
    m.subject = "R\xc3\xa9sultats \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ready";
    msg = build_ok(&m, &n);
    check_lines(msg, n, 78);
    free(msg);
    m.att = &att;
    m.natt = 1;
    msg = build_ok(&m, &n);
    check_lines(msg, n, 78);
    free(msg);
}
END_TEST

/* --- mime_build: bodies ------------------------------------------------------------------ */

/* Build m (no attachments) and check its two parts decode to m's text and html. */
static void
check_alternative(const struct mail *m)
{
    struct part parts[MAX_PARTS];
    char *msg, *ct, *bnd;
    size_t n, hl, np;

    msg = build_ok(m, &n);
    check_lines(msg, n, 998);
    hl = head_len(msg);
    ct = header_get(msg, hl, "Content-Type");
    ck_assert_ptr_nonnull(ct);
    ck_assert_int_eq(strncmp(ct, "multipart/alternative;", 22), 0);
    bnd = boundary_of(ct);
    np = split_multipart(msg + hl + 2, n - hl - 2, bnd, parts, MAX_PARTS);
    ck_assert_uint_eq(np, 2);
    check_part(&parts[0], "text/plain; charset=UTF-8", m->text, strlen(m->text));
    check_part(&parts[1], "text/html; charset=UTF-8", m->html, strlen(m->html));
    /* The boundary appears only as delimiters. */
    ck_assert_ptr_null(strstr(m->text, bnd));
    free(bnd);
    free(ct);
    free(msg);
}

START_TEST(test_alternative_parts)
{
    struct mail m;

    base_mail(&m);
    check_alternative(&m);
}
END_TEST

START_TEST(test_body_sizes)
{
    /* Around the 57-byte base64 line and the padding cases. */
    static const size_t sizes[] = { 0, 1, 2, 3, 4, 55, 56, 57, 58, 59, 113, 114, 115, 171, 4000 };
    char text[4001], html[4001];
    struct mail m;
    size_t i, k;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (k = 0; k < sizes[i]; k++) {
            text[k] = (char)(1 + (k * 7 + i) % 255);       /* every byte but NUL */
            html[k] = (char)('a' + k % 26);
        }
        text[sizes[i]] = '\0';
        html[sizes[i]] = '\0';
        base_mail(&m);
        m.text = text;
        m.html = html;
        check_alternative(&m);
    }
}
END_TEST

/* --- mime_build: RFC 2047 ---------------------------------------------------------------- */

/* The Subject of m's message, decoded from its encoded words; checks each word. */
static void
check_encoded_subject(const struct mail *m, size_t *nwords)
{
    char *msg, *v, *dec;
    size_t n, hl, i, col, line;

    msg = build_ok(m, &n);
    hl = head_len(msg);
    v = header_get(msg, hl, "Subject");
    ck_assert_ptr_nonnull(v);
    dec = decode_words(v, nwords);
    ck_assert_str_eq(dec, m->subject);
    free(dec);
    free(v);
    /* The Subject's own lines: folded, each within 78 columns. */
    v = strstr(msg, "\r\nSubject: ");
    ck_assert_ptr_nonnull(v);
    v += 2;
    for (line = 0, col = 0, i = 0; v[i]; i++) {
        if (v[i] == '\r') {
            ck_assert_msg(col <= 78, "Subject line %zu: %zu columns", line, col);
            line++;
            col = 0;
            i++;
            if (v[i + 1] != ' ')
                break;
            continue;
        }
        col++;
    }
    free(msg);
}

START_TEST(test_subject_encoded)
{
    struct mail m;
    size_t words;
    char *msg, *v;

    base_mail(&m);
    m.subject = "R\xc3\xa9sultats: \xc3\xa9preuve \xe2\x9c\x93";
    check_encoded_subject(&m, &words);
    ck_assert_uint_eq(words, 1);
    /* Plain ASCII stays as it is. */
    m.subject = "Plain ASCII (with punctuation): 100% ready!";
    msg = build_ok(&m, NULL);
    v = header_get(msg, head_len(msg), "Subject");
    ck_assert_str_eq(v, "Plain ASCII (with punctuation): 100% ready!");
    free(v);
    free(msg);
}
END_TEST

START_TEST(test_subject_long_multibyte)
{
    static const char *const pieces[] = {
        "R\xc3\xa9sum\xc3\xa9 ", "\xe2\x9c\x93 ", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ",
        "\xf0\x9f\x98\x80", "\xc3\xa9\xc3\xa8\xc3\xaa", "\xe2\x82\xac", "\xf0\x9f\xa6\xb7 ",
    };
    char subject[1024];
    struct buf b;
    struct mail m;
    size_t shift, i, words;

    /* Shift the characters against the 42-byte word size so every split point is hit. */
    for (shift = 0; shift < 4; shift++) {
        buf_init_fixed(&b, subject, sizeof(subject));
        for (i = 0; i < shift; i++)
            ck_assert_int_eq(buf_puts(&b, "x"), APP_OK);
        for (i = 0; i < 60; i++)
            ck_assert_int_eq(buf_puts(&b, pieces[(i + shift) % 7]), APP_OK);
        ck_assert_uint_gt(b.len, 300);
        base_mail(&m);
        m.subject = subject;
        check_encoded_subject(&m, &words);
        ck_assert_uint_ge(words, b.len / 42);
    }
    /* All 4-byte characters, and all 2-byte ones. */
    buf_init_fixed(&b, subject, sizeof(subject));
    for (i = 0; i < 60; i++)
        ck_assert_int_eq(buf_puts(&b, "\xf0\x9f\x98\x80"), APP_OK);
    base_mail(&m);
    m.subject = subject;
    check_encoded_subject(&m, &words);
    buf_init_fixed(&b, subject, sizeof(subject));
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(buf_puts(&b, "\xc3\xa9"), APP_OK);
    check_encoded_subject(&m, &words);
}
END_TEST

/* The display name in field's value "NAME <addr>", with want as the address. */
static char *
display_name(const char *msg, const char *field, const char *addr)
{
    char *v = header_get(msg, head_len(msg), field), *lt;
    char want[300];

    ck_assert_ptr_nonnull(v);
    snprintf(want, sizeof(want), " <%s>", addr);
    lt = strstr(v, want);
    ck_assert_msg(lt != 0 && lt[strlen(want)] == '\0', "%s: %s", field, v);
    *lt = '\0';
    return v;
}

START_TEST(test_display_name_encoded)
{
    static const char name[] = "Zo\xc3\xab Caf\xc3\xa9 \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac";
    struct mail m;
    char *msg, *v, *dec;
    size_t words;

    base_mail(&m);
    m.from_name = "ProDentHub \xe2\x9c\x93";
    m.to_name = name;
    msg = build_ok(&m, NULL);
    v = display_name(msg, "To", m.to_addr);
    dec = decode_words(v, &words);
    ck_assert_str_eq(dec, name);
    free(dec);
    free(v);
    v = display_name(msg, "From", m.from_addr);
    dec = decode_words(v, &words);
    ck_assert_str_eq(dec, "ProDentHub \xe2\x9c\x93");
    free(dec);
    free(v);
    free(msg);
}
END_TEST

START_TEST(test_display_name_quoted)
{
    struct mail m;
    char *msg, *v;

    base_mail(&m);
    m.to_name = "Sam \"The Man\" O\\Brien";
    m.from_name = "Smith, Sam <admin@example.com>";
    msg = build_ok(&m, NULL);
    v = header_get(msg, head_len(msg), "To");
    ck_assert_str_eq(v, "\"Sam \\\"The Man\\\" O\\\\Brien\" <sam@example.com>");
    free(v);
    /* A comma or angle brackets inside the quotes cannot add a recipient. */
    v = header_get(msg, head_len(msg), "From");
    ck_assert_str_eq(v, "\"Smith, Sam <admin@example.com>\" <noreply@prodenthub.com.au>");
    free(v);
    free(msg);
}
END_TEST

/*
 * Regression (mime_build, caught by the 998-octet check of t/fuzz: builders): plain ASCII
 * went into a header as it was, folded only at spaces, so a word (or a quoted display name)
 * longer than a line made a header line over RFC 5322's 998 octets.  Such values go as
 * encoded words now; ordinary ones stay plain.  One case a row: the header, the word's
 * length, the text around it.
 */
static const struct {
    const char *field;          /* "Subject", "To" (to_name) or "From" (from_name) */
    size_t word;
    const char *before, *after;     /* the text around the word */
    int plain;                  /* stays plain ASCII */
} long_words[] = {
    {"Subject", 1200, "", "", 0},
    {"Subject", 990, "Your results: ", " ready", 0},
    {"Subject", 900, "Your results: ", " ready", 1},
    {"Subject", 80, "", " and more", 1},
    {"To", 400, "", "", 0},
    {"To", 300, "", "", 1},
    {"From", 2000, "Pro ", "", 0},
};

START_TEST(test_long_words_within_998)
{
    char *word = malloc(long_words[_i].word + 1), text[4200], *msg, *v, *dec;
    struct mail m;
    size_t n, words;

    ck_assert_ptr_nonnull(word);
    memset(word, 'w', long_words[_i].word);
    word[long_words[_i].word] = '\0';
    snprintf(text, sizeof(text), "%s%s%s", long_words[_i].before, word, long_words[_i].after);
    base_mail(&m);
    if (strcmp(long_words[_i].field, "Subject") == 0)
        m.subject = text;
    else if (strcmp(long_words[_i].field, "To") == 0)
        m.to_name = text;
    else
        m.from_name = text;
    msg = build_ok(&m, &n);
    check_lines(msg, n, 998);
    if (strcmp(long_words[_i].field, "Subject") == 0) {
        v = header_get(msg, head_len(msg), "Subject");
        ck_assert_ptr_nonnull(v);
        if (long_words[_i].plain) {
            ck_assert_str_eq(v, text);
        } else {
            dec = decode_words(v, &words);
            ck_assert_str_eq(dec, text);
            free(dec);
        }
    } else {
        v = display_name(msg, long_words[_i].field, strcmp(long_words[_i].field, "To") == 0 ?
                         m.to_addr : m.from_addr);
        if (long_words[_i].plain) {
            ck_assert_uint_eq(strlen(v), strlen(text) + 2);
        } else {
            dec = decode_words(v, &words);
            ck_assert_str_eq(dec, text);
            free(dec);
        }
    }
    free(v);
    free(msg);
    free(word);
}
END_TEST

START_TEST(test_header_injection)
{
    struct mail m;
    char *msg, *v, *dec;
    size_t hl, words;

    base_mail(&m);
    m.subject = "Hi\r\nBcc: evil@example.com";
    m.to_name = "Sam\r\nCc: evil@example.com";
    m.from_name = "ProDentHub\nX-Evil: 1";
    msg = build_ok(&m, NULL);
    hl = head_len(msg);
    ck_assert_int_eq(header_count(msg, hl, "Bcc"), 0);
    ck_assert_int_eq(header_count(msg, hl, "Cc"), 0);
    ck_assert_int_eq(header_count(msg, hl, "X-Evil"), 0);
    ck_assert_ptr_null(strstr(msg, "evil@example.com"));
    /* Encoded, so the value comes back whole. */
    v = header_get(msg, hl, "Subject");
    dec = decode_words(v, &words);
    ck_assert_str_eq(dec, m.subject);
    free(dec);
    free(v);
    v = display_name(msg, "To", m.to_addr);
    dec = decode_words(v, &words);
    ck_assert_str_eq(dec, m.to_name);
    free(dec);
    free(v);
    free(msg);
}
END_TEST

/*
 * Regression (header_text, fixed): a name or subject that is not valid UTF-8 and held 42 or more
 * continuation bytes (0x80-0xbf) in a row makes the "never split a UTF-8 sequence" loop walk k
 * down to 0 (and past it, to SIZE_MAX): it then emits empty words "=?UTF-8?B??=" forever
 * (reading before the string when k wrapped) until the buffer's ceiling, and mime_build
 * returns APP_ETOOLARGE after writing up to the whole ceiling.  Names come from customers
 * (json-c does not check UTF-8), so one bad name makes an email unsendable.  Expected: the
 * value encoded anyway (the bytes come back) or refused with APP_EVALIDATION.
 */
START_TEST(test_invalid_utf8_no_runaway)
{
    char name[64];
    struct app_error err;
    struct mail m;
    struct buf b;
    int rc;

    memset(name, 0x80, 50);
    name[0] = (char)0xc3;      /* a lead byte, then only continuation bytes */
    name[50] = '\0';
    base_mail(&m);
    m.to_name = name;
    app_error_clear(&err);
    buf_init(&b, MAIL_MAX);
    rc = mime_build(&m, &b, &err);
    ck_assert_msg(rc == APP_OK || rc == APP_EVALIDATION,
                  "a 50-byte invalid UTF-8 name: %d (%s) after %zu bytes", rc, err.msg, b.len);
    if (rc == APP_OK)
        ck_assert_uint_lt(b.len, 4096);
    buf_free(&b);
}
END_TEST

/* --- mime_build: attachments ------------------------------------------------------------- */

START_TEST(test_attachments)
{
    static const char ics[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        "SUMMARY:ADC Written Mock 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    unsigned char bin[700];
    struct mail_attachment att[2];
    struct part top[MAX_PARTS], alt[MAX_PARTS];
    struct mail m;
    char *msg, *ct, *bnd, *abnd, *v;
    size_t n, hl, np, i;

    for (i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 31 + 7);
    bin[10] = 0;
    att[0].filename = "invite.ics";
    att[0].content_type = "text/calendar; method=REQUEST; charset=UTF-8";
    att[0].data = ics;
    att[0].len = sizeof(ics) - 1;
    att[1].filename = "report_v1.2-final.pdf";
    att[1].content_type = "application/pdf";
    att[1].data = (const char *)bin;
    att[1].len = sizeof(bin);
    base_mail(&m);
    m.att = att;
    m.natt = 2;
    msg = build_ok(&m, &n);
    check_lines(msg, n, 998);

    hl = head_len(msg);
    ck_assert_int_eq(header_count(msg, hl, "Content-Type"), 1);
    ck_assert_int_eq(header_count(msg, hl, "MIME-Version"), 1);
    ct = header_get(msg, hl, "Content-Type");
    ck_assert_int_eq(strncmp(ct, "multipart/mixed;", 16), 0);
    bnd = boundary_of(ct);
    np = split_multipart(msg + hl + 2, n - hl - 2, bnd, top, MAX_PARTS);
    ck_assert_uint_eq(np, 3);

    /* First the alternative, whole. */
    free(ct);
    ct = header_get(top[0].head, top[0].head_len, "Content-Type");
    ck_assert_int_eq(strncmp(ct, "multipart/alternative;", 22), 0);
    abnd = boundary_of(ct);
    ck_assert_str_ne(abnd, bnd);
    ck_assert_uint_eq(split_multipart(top[0].body, top[0].body_len, abnd, alt, MAX_PARTS), 2);
    check_part(&alt[0], "text/plain; charset=UTF-8", m.text, strlen(m.text));
    check_part(&alt[1], "text/html; charset=UTF-8", m.html, strlen(m.html));

    /* Then each attachment, named twice, decoding to its bytes. */
    check_part(&top[1], "text/calendar; method=REQUEST; charset=UTF-8; name=\"invite.ics\"",
               ics, sizeof(ics) - 1);
    v = header_get(top[1].head, top[1].head_len, "Content-Disposition");
    ck_assert_str_eq(v, "attachment; filename=\"invite.ics\"");
    free(v);
    check_part(&top[2], "application/pdf; name=\"report_v1.2-final.pdf\"", bin, sizeof(bin));
    v = header_get(top[2].head, top[2].head_len, "Content-Disposition");
    ck_assert_str_eq(v, "attachment; filename=\"report_v1.2-final.pdf\"");
    free(v);
    free(abnd);
    free(bnd);
    free(ct);
    free(msg);
}
END_TEST

START_TEST(test_attachment_empty)
{
    struct mail_attachment att = { "empty.txt", "text/plain", "", 0 };
    struct part top[MAX_PARTS];
    struct mail m;
    char *msg, *ct, *bnd;
    size_t n, hl;

    base_mail(&m);
    m.att = &att;
    m.natt = 1;
    msg = build_ok(&m, &n);
    hl = head_len(msg);
    ct = header_get(msg, hl, "Content-Type");
    bnd = boundary_of(ct);
    ck_assert_uint_eq(split_multipart(msg + hl + 2, n - hl - 2, bnd, top, MAX_PARTS), 2);
    check_part(&top[1], "text/plain; name=\"empty.txt\"", "", 0);
    free(bnd);
    free(ct);
    free(msg);
}
END_TEST

/* --- mime_build: refusals ---------------------------------------------------------------- */

START_TEST(test_refused_addresses)
{
    static const char *const bad[] = {
        "", "sam", "sam@", "sam@example", "sam@example.com\r\nBcc: evil@example.com",
        "Sam <sam@example.com>", "sam@example.com, eve@example.com", "zo\xc3\xab@example.com",
    };
    struct mail m;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        base_mail(&m);
        m.to_addr = bad[i];
        build_refused(bad[i], &m, APP_EVALIDATION);
        base_mail(&m);
        m.from_addr = bad[i];
        m.domain = "prodenthub.com.au";
        build_refused(bad[i], &m, APP_EVALIDATION);
    }
    base_mail(&m);
    m.to_addr = NULL;
    build_refused("no To", &m, APP_EVALIDATION);
}
END_TEST

/*
 * Regression (mime_build, fixed): with m->domain NULL the Message-ID domain was computed as
 * strchr(m->from_addr, '@') + 1 *before* mail_addr_ok() has looked at from_addr, so a NULL
 * from_addr (e.g. SES_FROM_EMAIL unset, lib/outbox.c passes cfg->ses_from as is) crashes in
 * strchr, and a from_addr without '@' computes NULL + 1 (undefined behaviour).  Expected:
 * APP_EVALIDATION, like any other unusable address.
 */
START_TEST(test_refused_from_before_domain)
{
    struct mail m;

    base_mail(&m);
    m.from_addr = "no-at-sign.example.com";
    build_refused("from without @, no domain", &m, APP_EVALIDATION);
    base_mail(&m);
    m.from_addr = NULL;
    build_refused("no From, no domain", &m, APP_EVALIDATION);
}
END_TEST

START_TEST(test_refused_message_id)
{
    static const char *const bad[] = {
        "", "a b", "a<b", "a>b", "a@b", "a\r\nb", "a\n", "a\"b", "a,b", "a/b",
        "id\xc3\xa9",
    };
    static const char *const bad_domain[] = {
        "", "ex ample.com", "example.com>", "example.com\r\nX: 1", "a@b.com", "ex_ample.com",
    };
    struct mail m;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        base_mail(&m);
        m.message_id = bad[i];
        build_refused(bad[i], &m, 0);
    }
    base_mail(&m);
    m.message_id = NULL;
    build_refused("no message_id", &m, 0);
    for (i = 0; i < sizeof(bad_domain) / sizeof(bad_domain[0]); i++) {
        base_mail(&m);
        m.domain = bad_domain[i];
        build_refused(bad_domain[i], &m, 0);
    }
}
END_TEST

START_TEST(test_refused_attachments)
{
    static const char *const bad_names[] = {
        "", "in\"vite.ics", "invite.ics\r", "in\rvite.ics", "invite\n.ics", "a/b.ics",
        "a b.ics", "invite.ics\"; x=\"y", "caf\xc3\xa9.ics", "a;b.ics",
    };
    static const char *const bad_types[] = {
        "text/calendar\r\nX-Evil: 1", "text/calendar\n", "text/\rcalendar",
    };
    struct mail_attachment att[2] = {
        { "ok.txt", "text/plain", "x", 1 }, { "ok.txt", "text/plain", "x", 1 },
    };
    struct mail m;
    size_t i;

    base_mail(&m);
    m.att = att;
    m.natt = 2;
    for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        att[1].filename = bad_names[i];
        build_refused(bad_names[i], &m, 0);
    }
    att[1].filename = NULL;
    build_refused("no filename", &m, 0);
    att[1].filename = "ok.txt";
    for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        att[1].content_type = bad_types[i];
        build_refused(bad_types[i], &m, 0);
    }
}
END_TEST

START_TEST(test_too_large)
{
    static const char ics[] = "BEGIN:VCALENDAR\nEND:VCALENDAR\n";
    struct mail_attachment att = { "invite.ics", "text/calendar", ics, sizeof(ics) - 1 };
    struct app_error err;
    struct mail m;
    struct buf b;
    char storage[512], *msg;
    size_t full, max;
    int rc;

    base_mail(&m);
    m.att = &att;
    m.natt = 1;
    msg = build_ok(&m, &full);
    free(msg);
    /* Every ceiling short of the whole message fails cleanly, wherever it falls. */
    for (max = 0; max < full; max += (max < 600 ? 1 : 37)) {
        app_error_clear(&err);
        buf_init(&b, max);
        rc = mime_build(&m, &b, &err);
        ck_assert_msg(rc != APP_OK, "fitted in %zu of %zu bytes", max, full);
        ck_assert_int_eq(rc, APP_ETOOLARGE);
        ck_assert_int_eq(err.code, rc);
        ck_assert_uint_le(b.len, max);
        buf_free(&b);
    }
    app_error_clear(&err);
    buf_init(&b, full);
    ck_assert_int_eq(mime_build(&m, &b, &err), APP_OK);
    ck_assert_uint_eq(b.len, full);
    buf_free(&b);

    /* The caller's storage is never overrun. */
    memset(storage, 'Z', sizeof(storage));
    buf_init_fixed(&b, storage, 256);
    app_error_clear(&err);
    ck_assert_int_eq(mime_build(&m, &b, &err), APP_ETOOLARGE);
    ck_assert_int_eq(storage[256], 'Z');
}
END_TEST

/* --- an independent parser --------------------------------------------------------------- */

#define PYTHON "/usr/bin/python3"

static const char py_check[] =
    "import sys, email, email.policy\n"
    "a = sys.argv[1:]\n"
    "h = lambda x: bytes.fromhex(x).decode('utf-8')\n"
    "m = email.message_from_binary_file(open(a[0], 'rb'), policy=email.policy.default)\n"
    "assert str(m['subject']) == h(a[1]), repr(str(m['subject']))\n"
    "f = m['from'].addresses\n"
    "assert len(f) == 1 and f[0].display_name == h(a[2]), f\n"
    "assert f[0].addr_spec == h(a[3]), f\n"
    "t = m['to'].addresses\n"
    "assert len(t) == 1 and t[0].display_name == h(a[4]) and t[0].addr_spec == h(a[5]), t\n"
    "assert m['message-id'] == h(a[6]), m['message-id']\n"
    "assert int(m['date'].datetime.timestamp()) == int(a[7]), m['date']\n"
    "assert m.get_content_type() == 'multipart/mixed'\n"
    "assert m.get_body(('plain',)).get_content() == h(a[8]), 'text'\n"
    "assert m.get_body(('html',)).get_content() == h(a[9]), 'html'\n"
    "att = list(m.iter_attachments())\n"
    "assert len(att) == 1, att\n"
    "assert att[0].get_filename() == h(a[10]), att[0].get_filename()\n"
    "assert att[0].get_content_type() == 'text/calendar', att[0].get_content_type()\n"
    "assert att[0].get_payload(decode=True) == bytes.fromhex(a[11]), 'attachment'\n"
    "for p in m.walk():\n"
    "    assert not p.defects, (p.get_content_type(), p.defects)\n"
    "    for k, v in p.items():\n"
    "        assert not v.defects, (k, v.defects)\n";

/* Bytes as lowercase hex; the caller frees. */
static char *
hex(const void *p, size_t n)
{
    const unsigned char *s = p;
    char *out = malloc(2 * n + 1);
    size_t i;

    ck_assert_ptr_nonnull(out);
    for (i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", s[i]);
    out[2 * n] = '\0';
    return out;
}

START_TEST(test_python_parses_it)
{
    static const char ics[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Mock \xe2\x9c\x93\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n";
    struct mail_attachment att = {
        "invite.ics", "text/calendar; method=REQUEST; charset=UTF-8", ics, sizeof(ics) - 1,
    };
    char subject[512], path[64], date[32];
    char *argv[17], *msg;
    struct mail m;
    struct buf b;
    size_t n, i;
    pid_t pid;
    FILE *f;
    int fd, status;

    if (access(PYTHON, X_OK) != 0)
        return;                /* no Python here: nothing to cross-check with */
    buf_init_fixed(&b, subject, sizeof(subject));
    ck_assert_int_eq(buf_puts(&b, "Your results \xe2\x80\x94 "), APP_OK);
    for (i = 0; i < 12; i++)
        ck_assert_int_eq(buf_puts(&b, "\xc3\xa9preuve \xe6\x97\xa5\xf0\x9f\x98\x80 "), APP_OK);
    base_mail(&m);
    m.subject = subject;
    m.from_name = "ProDentHub Caf\xc3\xa9";
    m.to_name = "Sam \"The Man\" O\\Brien";
    m.att = &att;
    m.natt = 1;
    msg = build_ok(&m, &n);

    snprintf(path, sizeof(path), "/tmp/ph-test-mime-XXXXXX");
    fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    f = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(msg, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    free(msg);

    snprintf(date, sizeof(date), "%lld", (long long)m.date);
    argv[0] = "python3";
    argv[1] = "-I";                                /* no user site, no PYTHON* variables */
    argv[2] = "-c";
    argv[3] = (char *)py_check;
    argv[4] = path;
    argv[5] = hex(m.subject, strlen(m.subject));
    argv[6] = hex(m.from_name, strlen(m.from_name));
    argv[7] = hex(m.from_addr, strlen(m.from_addr));
    argv[8] = hex(m.to_name, strlen(m.to_name));
    argv[9] = hex(m.to_addr, strlen(m.to_addr));
    argv[10] = hex("<3f2a9c0d1e7b@prodenthub.com.au>", 32);
    argv[11] = date;
    argv[12] = hex(m.text, strlen(m.text));
    argv[13] = hex(m.html, strlen(m.html));
    argv[14] = hex(att.filename, strlen(att.filename));
    argv[15] = hex(att.data, att.len);
    argv[16] = NULL;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execv(PYTHON, argv);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    unlink(path);
    for (i = 5; i <= 15; i++)
        if (i != 11)
            free(argv[i]);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "Python's email parser disagrees (status %d; see stderr)", status);
}
END_TEST

/* --- fmt --------------------------------------------------------------------------------- */

static void
check_money(long long cents, const char *currency, const char *want)
{
    char out[64];

    fmt_money(cents, currency, out, sizeof(out));
    ck_assert_str_eq(out, want);
}

START_TEST(test_money_aud)
{
    check_money(0, "aud", "A$0.00");
    check_money(5, "aud", "A$0.05");
    check_money(99, "aud", "A$0.99");
    check_money(100, "aud", "A$1.00");
    check_money(19900, "aud", "A$199.00");
    check_money(99999, "aud", "A$999.99");
    check_money(100000, "aud", "A$1,000.00");
    check_money(129900, "aud", "A$1,299.00");
    check_money(100000000, "aud", "A$1,000,000.00");
    check_money(123456789, "aud", "A$1,234,567.89");
    check_money(123456789, "AUD", "A$1,234,567.89");
    check_money(123456789, "Aud", "A$1,234,567.89");
}
END_TEST

START_TEST(test_money_negative_and_extremes)
{
    check_money(-5, "aud", "-A$0.05");
    check_money(-19900, "aud", "-A$199.00");
    check_money(-123456789, "aud", "-A$1,234,567.89");
    check_money(LLONG_MAX, "aud", "A$92,233,720,368,547,758.07");
    check_money(LLONG_MIN, "aud", "-A$92,233,720,368,547,758.08");
}
END_TEST

START_TEST(test_money_other_currencies)
{
    check_money(1234, "usd", "US$12.34");
    check_money(1234, "USD", "US$12.34");
    check_money(1234, "nzd", "NZ$12.34");
    check_money(1234, "cad", "CA$12.34");
    check_money(1234, "eur", "\xe2\x82\xac" "12.34");
    check_money(123456, "gbp", "\xc2\xa3" "1,234.56");
    check_money(1234, "xyz", "12.34 xyz");
    check_money(123456, "xyz", "1,234.56 xyz");
    check_money(-1234, "xyz", "-12.34 xyz");
    check_money(0, "jpy", "0.00 jpy");
}
END_TEST

START_TEST(test_money_small_buffer)
{
    char out[16];

    /* Truncated, terminated, never past n. */
    memset(out, 'Z', sizeof(out));
    fmt_money(123456789, "aud", out, 6);
    ck_assert_str_eq(out, "A$1,2");
    ck_assert_int_eq(out[6], 'Z');
    fmt_money(123456789, "aud", out, 1);
    ck_assert_str_eq(out, "");
}
END_TEST

static int
have_sydney(void)
{
    return access("/usr/share/zoneinfo/Australia/Sydney", R_OK) == 0;
}

static void
check_when(time_t t, const char *date, const char *time_of_day)
{
    char out[64];

    fmt_date(t, out, sizeof(out));
    ck_assert_str_eq(out, date);
    fmt_time(t, out, sizeof(out));
    ck_assert_str_eq(out, time_of_day);
}

START_TEST(test_date_time_sydney)
{
    if (!have_sydney())
        return;                /* no tzdata: nothing to compare with */
    fmt_init("Australia/Sydney");
    check_when(T_DEC, "Wed 9 Dec 2026", "10:00 AEDT");
    check_when(T_JUN, "Mon 15 Jun 2026", "10:00 AEST");
    /* Local midnight, not UTC's, turns the date. */
    check_when(1796734799, "Tue 8 Dec 2026", "23:59 AEDT");
    check_when(1796734800, "Wed 9 Dec 2026", "00:00 AEDT");
    /* Daylight saving ends (5 Apr 2026, 03:00 AEDT) and starts (4 Oct 2026, 02:00 AEST). */
    check_when(1775318399, "Sun 5 Apr 2026", "02:59 AEDT");
    check_when(1775318400, "Sun 5 Apr 2026", "02:00 AEST");
    check_when(1791043199, "Sun 4 Oct 2026", "01:59 AEST");
    check_when(1791043200, "Sun 4 Oct 2026", "03:00 AEDT");
    /* An empty or missing zone keeps the one set. */
    fmt_init("");
    check_when(T_DEC, "Wed 9 Dec 2026", "10:00 AEDT");
    fmt_init(NULL);
    check_when(T_JUN, "Mon 15 Jun 2026", "10:00 AEST");
}
END_TEST

START_TEST(test_date_time_utc)
{
    char out[8];

    fmt_init("UTC");
    check_when(T_DEC, "Tue 8 Dec 2026", "23:00 UTC");
    check_when(T_JUN, "Mon 15 Jun 2026", "00:00 UTC");
    check_when(0, "Thu 1 Jan 1970", "00:00 UTC");
    if (have_sydney()) {
        fmt_init("Australia/Sydney");
        fmt_init("UTC");
        check_when(T_DEC, "Tue 8 Dec 2026", "23:00 UTC");
    }
    /* A short buffer is truncated, not overrun. */
    memset(out, 'Z', sizeof(out));
    fmt_date(T_DEC, out, 5);
    ck_assert_str_eq(out, "Tue ");
    ck_assert_int_eq(out[5], 'Z');
}
END_TEST

static Suite *
mime_suite(void)
{
    Suite *s = suite_create("mime");
    TCase *tc = tcase_create("addr");

    tcase_add_test(tc, test_addr_valid);
    tcase_add_test(tc, test_addr_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("headers");
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_headers_other_forms);
    tcase_add_test(tc, test_crlf_and_line_limit);
    tcase_add_test(tc, test_lines_within_78);
    tcase_add_loop_test(tc, test_long_words_within_998, 0,
                        sizeof(long_words) / sizeof(long_words[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("bodies");
    tcase_add_test(tc, test_alternative_parts);
    tcase_add_test(tc, test_body_sizes);
    suite_add_tcase(s, tc);

    tc = tcase_create("rfc2047");
    tcase_add_test(tc, test_subject_encoded);
    tcase_add_test(tc, test_subject_long_multibyte);
    tcase_add_test(tc, test_display_name_encoded);
    tcase_add_test(tc, test_display_name_quoted);
    tcase_add_test(tc, test_header_injection);
    tcase_add_test(tc, test_invalid_utf8_no_runaway);
    suite_add_tcase(s, tc);

    tc = tcase_create("attachments");
    tcase_add_test(tc, test_attachments);
    tcase_add_test(tc, test_attachment_empty);
    suite_add_tcase(s, tc);

    tc = tcase_create("refused");
    tcase_add_test(tc, test_refused_addresses);
    tcase_add_test(tc, test_refused_from_before_domain);
    tcase_add_test(tc, test_refused_message_id);
    tcase_add_test(tc, test_refused_attachments);
    tcase_add_test(tc, test_too_large);
    suite_add_tcase(s, tc);

    tc = tcase_create("python");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_python_parses_it);
    suite_add_tcase(s, tc);

    tc = tcase_create("fmt");
    tcase_add_test(tc, test_money_aud);
    tcase_add_test(tc, test_money_negative_and_extremes);
    tcase_add_test(tc, test_money_other_currencies);
    tcase_add_test(tc, test_money_small_buffer);
    tcase_add_test(tc, test_date_time_sydney);
    tcase_add_test(tc, test_date_time_utc);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(mime_suite)
