#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "errors.h"
#include "ics.h"

#define ICS_LINE_MAX 75                    /* octets per physical line, CRLF excluded */
#define ICS_TIME_MAX 253402300799LL        /* 9999-12-31T23:59:59Z */

/* A content line being written: folds as it goes; the first error sticks. */
struct ics_line {
    struct buf *out;
    size_t col;                            /* octets on the current physical line */
    int rc;
};

/*
 * The length of the UTF-8 sequence at s[0..n-1]: 1..4, or 0 when it is not well-formed
 * (overlong, a surrogate, past U+10FFFF, truncated, a stray continuation byte).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned long cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    if (cp >= 0xd800 && cp <= 0xdfff)
        return 0;
    return len;
}

static int
utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, len;

    while (i < n) {
        len = utf8_len(p + i, n - i);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

static int
has_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* scheme ":" rest, all printable ASCII without spaces (RFC 3986 has no room for others). */
static int
url_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i;

    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return 0;
    for (i = 1; p[i] != ':'; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '+' || p[i] == '-' || p[i] == '.'))
            return 0;
    if (!p[i + 1])
        return 0;
    for (; p[i]; i++)
        if (p[i] <= 0x20 || p[i] >= 0x7f)
            return 0;
    return 1;
}

/* local@domain in the printable ASCII a mailto: URI carries without escapes. */
static int
email_valid(const char *s)
{
    const char *at = strchr(s, '@');
    const unsigned char *p;

    if (!at || at == s || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),:;<>[\\]?#%", *p))
            return 0;
    return 1;
}

/* "YYYYMMDDTHHMMSSZ" for t, which validate() kept within 1970..9999. */
static void
utc(time_t t, char *out, size_t n)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, n, "%Y%m%dT%H%M%SZ", &tm);
}

static int
text_ok(const char *s, int required)
{
    if (!s)
        return !required;
    return (!required || *s) && utf8_valid(s);
}

static int
validate(const struct ics_event *e, struct app_error *err)
{
    const char *why = NULL;
    long long end;

    if (!e->uid || !*e->uid)
        why = "uid is missing";
    else if (has_control(e->uid) || !utf8_valid(e->uid))
        why = "uid has a control character or is not UTF-8";
    else if (!text_ok(e->summary, 1))
        why = "summary is missing or not UTF-8";
    else if (!text_ok(e->description, 0))
        why = "description is not UTF-8";
    else if (e->location_url && !url_valid(e->location_url))
        why = "location_url is not a URL (scheme, no spaces or control characters)";
    else if (e->organizer_name && !e->organizer_email)
        why = "organizer_name needs organizer_email";
    else if (e->organizer_name && (has_control(e->organizer_name) ||
                                   strchr(e->organizer_name, '"') ||
                                   !utf8_valid(e->organizer_name)))
        why = "organizer_name has a control character or a double quote";
    else if (e->organizer_email && !email_valid(e->organizer_email))
        why = "organizer_email is not an address";
    else if (e->duration_minutes < 1 || e->duration_minutes > 1440)
        why = "duration_minutes is outside 1..1440";
    if (!why) {
        end = (long long)e->start + 60LL * e->duration_minutes;
        if (e->start < 0 || end > ICS_TIME_MAX || e->stamp < 0 ||
            (long long)e->stamp > ICS_TIME_MAX)
            why = "start or stamp is outside the years 1970..9999";
    }
    if (why)
        return app_error_set(err, APP_EVALIDATION, "ics: %s", why);
    return APP_OK;
}

/* Append one unit (a UTF-8 sequence or an escape) whole, folding before it if it won't fit. */
static void
put_unit(struct ics_line *l, const char *p, size_t n)
{
    if (l->rc != APP_OK)
        return;
    if (l->col + n > ICS_LINE_MAX) {
        l->rc = buf_append(l->out, "\r\n ", 3);
        l->col = 1;
        if (l->rc != APP_OK)
            return;
    }
    l->rc = buf_append(l->out, p, n);
    l->col += n;
}

/* Append s verbatim (validated ASCII or UTF-8), unit by unit. */
static void
put_raw(struct ics_line *l, const char *s)
{
    size_t n = strlen(s), i = 0, len;

    while (i < n) {
        len = utf8_len((const unsigned char *)s + i, n - i);
        if (len == 0)
            len = 1;                           /* not reached: validate() checked */
        put_unit(l, s + i, len);
        i += len;
    }
}

/* Append s as an RFC 5545 TEXT value (section 3.3.11). */
static void
put_text(struct ics_line *l, const char *s)
{
    size_t n = strlen(s), i = 0, len;
    unsigned char c;

    while (i < n) {
        c = (unsigned char)s[i];
        if (c == '\\' || c == ';' || c == ',') {
            char esc[2] = { '\\', (char)c };

            put_unit(l, esc, 2);
        } else if (c == '\n') {
            put_unit(l, "\\n", 2);
        } else if ((c >= 0x20 && c != 0x7f) || c == '\t') {
            len = utf8_len((const unsigned char *)s + i, n - i);
            if (len == 0)
                len = 1;                       /* not reached: validate() checked */
            put_unit(l, s + i, len);
            i += len;
            continue;
        }
        i++;                                   /* escaped, or a control dropped (CR too) */
    }
}

static void
end_line(struct ics_line *l)
{
    if (l->rc == APP_OK)
        l->rc = buf_append(l->out, "\r\n", 2);
    l->col = 0;
}

/* A whole line whose value is raw: "NAME:value". */
static void
line_raw(struct ics_line *l, const char *name, const char *value)
{
    put_raw(l, name);
    put_unit(l, ":", 1);
    put_raw(l, value);
    end_line(l);
}

static void
line_text(struct ics_line *l, const char *name, const char *value)
{
    put_raw(l, name);
    put_unit(l, ":", 1);
    put_text(l, value);
    end_line(l);
}

int
ics_event(struct buf *out, const struct ics_event *e, struct app_error *err)
{
    struct ics_line l = { out, 0, APP_OK };
    size_t start_len = out->len;
    char t[20];
    int rc;

    rc = validate(e, err);
    if (rc != APP_OK)
        return rc;

    line_raw(&l, "BEGIN", "VCALENDAR");
    line_raw(&l, "VERSION", "2.0");
    line_raw(&l, "PRODID", ICS_PRODID);
    line_raw(&l, "CALSCALE", "GREGORIAN");
    line_raw(&l, "METHOD", "PUBLISH");
    line_raw(&l, "BEGIN", "VEVENT");
    line_text(&l, "UID", e->uid);
    utc(e->stamp, t, sizeof(t));
    line_raw(&l, "DTSTAMP", t);
    utc(e->start, t, sizeof(t));
    line_raw(&l, "DTSTART", t);
    utc(e->start + (time_t)(60 * e->duration_minutes), t, sizeof(t));
    line_raw(&l, "DTEND", t);
    line_text(&l, "SUMMARY", e->summary);
    if (e->description)
        line_text(&l, "DESCRIPTION", e->description);
    if (e->location_url)
        line_raw(&l, "URL", e->location_url);
    if (e->organizer_email) {
        put_raw(&l, "ORGANIZER");
        if (e->organizer_name) {
            put_raw(&l, ";CN=\"");
            put_raw(&l, e->organizer_name);
            put_unit(&l, "\"", 1);
        }
        put_raw(&l, ":mailto:");
        put_raw(&l, e->organizer_email);
        end_line(&l);
    }
    line_raw(&l, "STATUS", "CONFIRMED");
    line_raw(&l, "TRANSP", "OPAQUE");
    line_raw(&l, "BEGIN", "VALARM");
    line_raw(&l, "ACTION", "DISPLAY");
    line_text(&l, "DESCRIPTION", e->summary);
    line_raw(&l, "TRIGGER", "-PT1H");
    line_raw(&l, "END", "VALARM");
    line_raw(&l, "END", "VEVENT");
    line_raw(&l, "END", "VCALENDAR");

    if (l.rc != APP_OK) {
        out->len = start_len;
        if (out->data)
            out->data[start_len] = '\0';
        return app_error_set(err, l.rc, "ics: the calendar does not fit in %zu bytes", out->max);
    }
    return APP_OK;
}
