/*
 * lib/ics.c: the exact file for a simple event, TEXT escaping, folding (at exactly 75 octets,
 * never inside a UTF-8 sequence or an escape), validation, the buffer ceiling, and an
 * independent reading of the output by a small RFC 5545 parser below (unfold, split content
 * lines, nest components, unescape TEXT).  Python's icalendar module would be the natural
 * second opinion, but Debian's python3 does not ship it.
 */
#include "config.h"

#include <check.h>
#include <string.h>
#include <time.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "../../lib/ics.h"
#include "unit.h"

#define T0 1767225600              /* 2026-01-01T00:00:00Z */
#define START 1773529200           /* 2026-03-14T23:00:00Z, 10:00 on the 15th in Sydney */
#define A16 "aaaaaaaaaaaaaaaa"
#define A64 A16 A16 A16 A16

static struct ics_event
base_event(void)
{
    struct ics_event e = {
        .uid = "reg_01JQ7ZK3@prodenthub.com.au",
        .start = START,
        .duration_minutes = 180,
        .stamp = T0,
        .summary = "ADC Written Exam - Mock 1",
        .description = "Online sitting. Join 10 minutes early.",
        .location_url = "https://prodenthub.com.au/mock/m1",
    };

    return e;
}

/* ics_event into a fresh buffer with a roomy ceiling; asserts success. */
static char *
render(const struct ics_event *e, struct buf *b)
{
    struct app_error err;

    app_error_clear(&err);
    buf_init(b, 1 << 16);
    ck_assert_msg(ics_event(b, e, &err) == APP_OK, "ics_event: %s", err.msg);
    ck_assert_int_eq(err.code, APP_OK);
    return b->data;
}

START_TEST(test_simple_exact)
{
    static const char want[] =
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//ProDentHub//prodenthub//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:reg_01JQ7ZK3@prodenthub.com.au\r\n"
        "DTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20260314T230000Z\r\n"
        "DTEND:20260315T020000Z\r\n"
        "SUMMARY:ADC Written Exam - Mock 1\r\n"
        "DESCRIPTION:Online sitting. Join 10 minutes early.\r\n"
        "URL:https://prodenthub.com.au/mock/m1\r\n"
        "STATUS:CONFIRMED\r\n"
        "TRANSP:OPAQUE\r\n"
        "BEGIN:VALARM\r\n"
        "ACTION:DISPLAY\r\n"
        "DESCRIPTION:ADC Written Exam - Mock 1\r\n"
        "TRIGGER:-PT1H\r\n"
        "END:VALARM\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n";
    struct ics_event e = base_event();
    struct buf b;

    ck_assert_str_eq(render(&e, &b), want);
    ck_assert_uint_eq(b.len, sizeof(want) - 1);
    buf_free(&b);
}
END_TEST

START_TEST(test_optional_lines)
{
    struct ics_event e = base_event();
    struct buf b;
    const char *s;

    e.description = NULL;
    e.location_url = NULL;
    s = render(&e, &b);
    ck_assert_ptr_null(strstr(s, "URL:"));
    ck_assert_ptr_null(strstr(s, "ORGANIZER"));
    ck_assert_ptr_nonnull(strstr(s, "SUMMARY:ADC Written Exam - Mock 1\r\nSTATUS:CONFIRMED\r\n"));
    buf_free(&b);

    e.organizer_email = "exams@prodenthub.com.au";
    s = render(&e, &b);
    ck_assert_ptr_nonnull(strstr(s, "\r\nORGANIZER:mailto:exams@prodenthub.com.au\r\n"));
    buf_free(&b);

    e.organizer_name = "ProDentHub Exams; Sydney";
    s = render(&e, &b);
    ck_assert_ptr_nonnull(strstr(s, "\r\nORGANIZER;CN=\"ProDentHub Exams; Sydney\":"
                                    "mailto:exams@prodenthub.com.au\r\nSTATUS:"));
    buf_free(&b);
}
END_TEST

START_TEST(test_escaping)
{
    struct ics_event e = base_event();
    struct buf b;
    const char *s;

    e.summary = "Mock 1, Part A; \\ B";
    e.description = "Line one\r\nLine two\nTab\there\x01\x7f, end\r";
    e.uid = "reg_a,b;c@prodenthub.com.au";
    s = render(&e, &b);
    ck_assert_ptr_nonnull(strstr(s, "\r\nSUMMARY:Mock 1\\, Part A\\; \\\\ B\r\n"));
    ck_assert_ptr_nonnull(strstr(s, "\r\nDESCRIPTION:Line one\\nLine two\\nTab\there\\, end\r\n"));
    ck_assert_ptr_nonnull(strstr(s, "\r\nUID:reg_a\\,b\\;c@prodenthub.com.au\r\n"));
    buf_free(&b);
}
END_TEST

START_TEST(test_fold_boundary)
{
    char summary[80];
    struct ics_event e = base_event();
    struct buf b;
    const char *s;

    /* "SUMMARY:" is 8 octets: 67 more make exactly 75, no fold. */
    memset(summary, 'a', 67);
    summary[67] = '\0';
    e.summary = summary;
    s = render(&e, &b);
    ck_assert_ptr_nonnull(strstr(s, "\r\nSUMMARY:" A64 "aaa\r\nDESCRIPTION:"));
    buf_free(&b);

    /* 68: the 76th octet goes to a continuation line after one space. */
    summary[67] = 'b';
    summary[68] = '\0';
    s = render(&e, &b);
    ck_assert_ptr_nonnull(strstr(s, "\r\nSUMMARY:" A64 "aaa\r\n b\r\nDESCRIPTION:"));
    buf_free(&b);

    /* An escape is not cut in two: 66 + "\," would end at 76, so it moves down whole. */
    summary[66] = ',';
    summary[67] = '\0';
    s = render(&e, &b);
    ck_assert_ptr_nonnull(strstr(s, "\r\nSUMMARY:" A64 "aa\r\n \\,\r\nDESCRIPTION:"));
    buf_free(&b);
}
END_TEST

/* --- an independent reader --------------------------------------------------------------- */

/* Well-formed UTF-8 by the letter of RFC 3629, written apart from lib/ics.c's check. */
static int
is_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;
    unsigned long cp, min;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((s[i] & 0xe0) == 0xc0) {
            len = 2;
            min = 0x80;
        } else if ((s[i] & 0xf0) == 0xe0) {
            len = 3;
            min = 0x800;
        } else if ((s[i] & 0xf8) == 0xf0) {
            len = 4;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        cp = s[i] & (0x7f >> len);
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

#define MAX_PROPS 64

struct prop {
    char comp[64];             /* the innermost component, e.g. "VEVENT/VALARM" */
    char name[32];
    char params[128];
    char value[2048];          /* raw, still escaped */
};

struct parsed {
    struct prop p[MAX_PROPS];
    size_t n;
};

/*
 * Check the physical layer (CRLF only, lines <= 75 octets, each line whole UTF-8, folds are
 * CRLF + one space), unfold, and split into properties with their component path.
 */
static void
parse_ics(const char *ics, struct parsed *out)
{
    static char logical[1 << 16];
    char stack[64] = "";
    const char *p = ics, *eol;
    size_t len = 0, k;

    memset(out, 0, sizeof(*out));
    ck_assert_msg(strlen(ics) > 2 && strcmp(ics + strlen(ics) - 2, "\r\n") == 0,
                  "does not end in CRLF");
    while (*p) {
        eol = strstr(p, "\r\n");
        ck_assert_ptr_nonnull(eol);
        ck_assert_msg(!memchr(p, '\n', (size_t)(eol - p)) && !memchr(p, '\r', (size_t)(eol - p)),
                      "a bare CR or LF");
        ck_assert_msg(eol - p <= 75, "a line of %d octets: %.*s", (int)(eol - p), (int)(eol - p),
                      p);
        ck_assert_msg(is_utf8((const unsigned char *)p, (size_t)(eol - p)),
                      "a line that is not whole UTF-8 (a split sequence): %.*s", (int)(eol - p), p);
        if (*p == ' ') {
            ck_assert_msg(len > 0, "a continuation line first");
            ck_assert_msg(eol - p > 1, "an empty continuation line");
            memcpy(logical + len, p + 1, (size_t)(eol - p - 1));
            len += (size_t)(eol - p - 1);
        } else {
            ck_assert_msg(*p != '\t', "folded with a TAB");
            memcpy(logical + len, "\n", 1);
            memcpy(logical + len + 1, p, (size_t)(eol - p));
            len += 1 + (size_t)(eol - p);
        }
        ck_assert_uint_lt(len, sizeof(logical) - 1);
        p = eol + 2;
    }
    logical[len] = '\0';

    /* logical is "\nLINE\nLINE...": one content line after each \n. */
    p = logical + 1;
    while (*p) {
        const char *end = strchr(p, '\n'), *colon;
        const char *q;
        struct prop *pr;
        int quoted = 0;

        if (!end)
            end = p + strlen(p);
        ck_assert_uint_lt(out->n, MAX_PROPS);
        pr = &out->p[out->n];
        q = p;
        while (q < end && ((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-'))
            q++;
        ck_assert_msg(q > p && q < end && (*q == ':' || *q == ';'), "bad name: %.*s",
                      (int)(end - p), p);
        snprintf(pr->name, sizeof(pr->name), "%.*s", (int)(q - p), p);
        for (colon = q; colon < end; colon++) {
            if (*colon == '"')
                quoted = !quoted;
            else if (*colon == ':' && !quoted)
                break;
        }
        ck_assert_msg(colon < end, "no value: %.*s", (int)(end - p), p);
        snprintf(pr->params, sizeof(pr->params), "%.*s", (int)(colon - q), q);
        snprintf(pr->value, sizeof(pr->value), "%.*s", (int)(end - colon - 1), colon + 1);
        if (strcmp(pr->name, "BEGIN") == 0) {
            k = strlen(stack);
            snprintf(stack + k, sizeof(stack) - k, "%s%s", k ? "/" : "", pr->value);
        } else if (strcmp(pr->name, "END") == 0) {
            char *slash = strrchr(stack, '/');
            const char *last = slash ? slash + 1 : stack;

            ck_assert_msg(strcmp(last, pr->value) == 0, "END:%s closes %s", pr->value, last);
            if (slash)
                *slash = '\0';
            else
                stack[0] = '\0';
        } else {
            ck_assert_msg(stack[0], "property %s outside any component", pr->name);
            snprintf(pr->comp, sizeof(pr->comp), "%s", stack);
            out->n++;
        }
        p = *end ? end + 1 : end;
    }
    ck_assert_msg(stack[0] == '\0', "unclosed component %s", stack);
}

/* The one property name in comp; fails the test when absent or repeated. */
static const struct prop *
prop(const struct parsed *ps, const char *comp, const char *name)
{
    const struct prop *found = NULL;
    size_t i;

    for (i = 0; i < ps->n; i++) {
        if (strcmp(ps->p[i].comp, comp) == 0 && strcmp(ps->p[i].name, name) == 0) {
            ck_assert_msg(!found, "%s appears twice in %s", name, comp);
            found = &ps->p[i];
        }
    }
    ck_assert_msg(found, "no %s in %s", name, comp);
    return found;
}

/* A TEXT value unescaped (RFC 5545 3.3.11); fails on a stray backslash. */
static void
unescape(const char *s, char *out, size_t n)
{
    size_t k = 0;

    for (; *s; s++) {
        char c = *s;

        if (c == '\\') {
            s++;
            ck_assert_msg(*s && strchr("\\;,nN", *s), "bad escape \\%c", *s);
            c = (*s == 'n' || *s == 'N') ? '\n' : *s;
        } else {
            ck_assert_msg(c != ';' && c != ',', "unescaped %c in TEXT", c);
        }
        ck_assert_uint_lt(k, n - 1);
        out[k++] = c;
    }
    out[k] = '\0';
}

static time_t
parse_utc(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    ck_assert_uint_eq(strlen(s), 16);
    ck_assert_int_eq(sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* s without CR (what the escaping is meant to keep of a newline). */
static void
drop_cr(const char *s, char *out, size_t n)
{
    size_t k = 0;

    for (; *s && k < n - 1; s++)
        if (*s != '\r')
            out[k++] = *s;
    out[k] = '\0';
}

START_TEST(test_read_back_utf8_fold)
{
    static struct parsed ps;
    char summary[512], desc[2048], got[2048], want[2048];
    struct ics_event e = base_event();
    struct buf b, sb, db;
    const char *s;
    size_t i, lines = 0;

    /* 2-, 3- and 4-octet sequences (é 日 😀) and escapes, so folds land everywhere. */
    buf_init_fixed(&sb, summary, sizeof(summary));
    buf_init_fixed(&db, desc, sizeof(desc));
    for (i = 0; i < 30; i++) {
        ck_assert_int_eq(buf_puts(&sb, "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80 "), APP_OK);
        ck_assert_int_eq(buf_puts(&db, "Bring ID, a pen; arrive \\early\\.\r\nR\xc3\xa9vision: "),
                         APP_OK);
    }
    e.summary = summary;
    e.description = desc;
    e.organizer_name = "ProDentHub Caf\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac";
    e.organizer_email = "exams@prodenthub.com.au";
    s = render(&e, &b);

    for (i = 0; s[i]; i++)
        if (s[i] == '\n' && i > 0 && s[i + 1] == ' ')
            lines++;
    ck_assert_uint_gt(lines, 10);                  /* it did fold, many times */

    parse_ics(s, &ps);
    ck_assert_str_eq(prop(&ps, "VCALENDAR", "VERSION")->value, "2.0");
    ck_assert_str_eq(prop(&ps, "VCALENDAR", "PRODID")->value, "-//ProDentHub//prodenthub//EN");
    ck_assert_str_eq(prop(&ps, "VCALENDAR", "METHOD")->value, "PUBLISH");
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT", "UID")->value, e.uid);
    ck_assert_int_eq(parse_utc(prop(&ps, "VCALENDAR/VEVENT", "DTSTAMP")->value), T0);
    ck_assert_int_eq(parse_utc(prop(&ps, "VCALENDAR/VEVENT", "DTSTART")->value), START);
    ck_assert_int_eq(parse_utc(prop(&ps, "VCALENDAR/VEVENT", "DTEND")->value),
                     START + 180 * 60);
    unescape(prop(&ps, "VCALENDAR/VEVENT", "SUMMARY")->value, got, sizeof(got));
    ck_assert_str_eq(got, summary);
    unescape(prop(&ps, "VCALENDAR/VEVENT", "DESCRIPTION")->value, got, sizeof(got));
    drop_cr(desc, want, sizeof(want));
    ck_assert_str_eq(got, want);
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT", "URL")->value, e.location_url);
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT", "ORGANIZER")->value,
                     "mailto:exams@prodenthub.com.au");
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT", "ORGANIZER")->params,
                     ";CN=\"ProDentHub Caf\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac\"");
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT", "STATUS")->value, "CONFIRMED");
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT", "TRANSP")->value, "OPAQUE");
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT/VALARM", "ACTION")->value, "DISPLAY");
    ck_assert_str_eq(prop(&ps, "VCALENDAR/VEVENT/VALARM", "TRIGGER")->value, "-PT1H");
    unescape(prop(&ps, "VCALENDAR/VEVENT/VALARM", "DESCRIPTION")->value, got, sizeof(got));
    ck_assert_str_eq(got, summary);
    buf_free(&b);
}
END_TEST

START_TEST(test_read_back_simple)
{
    static struct parsed ps;
    struct ics_event e = base_event();
    struct buf b;

    parse_ics(render(&e, &b), &ps);
    ck_assert_uint_eq(ps.n, 16);                   /* the properties of test_simple_exact */
    buf_free(&b);
}
END_TEST

/* --- refusals ---------------------------------------------------------------------------- */

static void
check_refused(const struct ics_event *e, const char *what)
{
    struct app_error err;
    struct buf b;

    app_error_clear(&err);
    buf_init(&b, 1 << 16);
    ck_assert_int_eq(buf_puts(&b, "keep"), APP_OK);
    ck_assert_msg(ics_event(&b, e, &err) == APP_EVALIDATION, "accepted %s", what);
    ck_assert_int_eq(err.code, APP_EVALIDATION);
    ck_assert_msg(strncmp(err.msg, "ics: ", 5) == 0, "message: %s", err.msg);
    ck_assert_str_eq(b.data, "keep");
    buf_free(&b);
}

START_TEST(test_validation)
{
    static const char *const bad_urls[] = {
        "", "https://x.example/a b", "https://x.example/\r\nX-EVIL:1", "https://x.example/\x01",
        "//x.example/", "x.example/path", "https:", "https://x.example/caf\xc3\xa9",
        "1http://x.example/", NULL,
    };
    struct ics_event e;
    size_t i;

    e = base_event();
    e.uid = NULL;
    check_refused(&e, "no uid");
    e.uid = "";
    check_refused(&e, "an empty uid");
    e.uid = "reg_1@prodenthub.com.au\r\nX-EVIL:1";
    check_refused(&e, "a uid with CRLF");
    e.uid = "reg_1\n@prodenthub.com.au";
    check_refused(&e, "a uid with LF");
    e.uid = "reg_1\x7f@prodenthub.com.au";
    check_refused(&e, "a uid with DEL");
    e.uid = "reg_1\t@prodenthub.com.au";
    check_refused(&e, "a uid with TAB");
    e.uid = "reg_\xff@prodenthub.com.au";
    check_refused(&e, "a uid not UTF-8");

    e = base_event();
    for (i = 0; bad_urls[i]; i++) {
        e.location_url = bad_urls[i];
        check_refused(&e, bad_urls[i]);
    }

    e = base_event();
    e.summary = NULL;
    check_refused(&e, "no summary");
    e.summary = "";
    check_refused(&e, "an empty summary");
    e.summary = "Mock \xc3\x28";
    check_refused(&e, "a summary with a broken sequence");
    e.summary = "Mock \xc0\xaf";
    check_refused(&e, "a summary with an overlong sequence");
    e.summary = "Mock \xed\xa0\x80";
    check_refused(&e, "a summary with a surrogate");
    e.summary = "Mock \xf0\x9f\x98";
    check_refused(&e, "a summary with a truncated sequence");
    e = base_event();
    e.description = "Mock \xf4\x90\x80\x80";
    check_refused(&e, "a description past U+10FFFF");

    e = base_event();
    e.organizer_name = "ProDentHub";
    check_refused(&e, "an organizer name without an email");
    e.organizer_email = "exams@prodenthub.com.au";
    e.organizer_name = "Pro \"Dent\" Hub";
    check_refused(&e, "an organizer name with a quote");
    e.organizer_name = "ProDentHub\r\nX-EVIL:1";
    check_refused(&e, "an organizer name with CRLF");
    e.organizer_name = NULL;
    e.organizer_email = "exams";
    check_refused(&e, "an email without @");
    e.organizer_email = "exams@pro dent.com";
    check_refused(&e, "an email with a space");
    e.organizer_email = "a@b@c";
    check_refused(&e, "an email with two @");
    e.organizer_email = "exams@prodenthub.com.au\r\nX-EVIL:1";
    check_refused(&e, "an email with CRLF");

    e = base_event();
    e.duration_minutes = 0;
    check_refused(&e, "a duration of 0");
    e.duration_minutes = -60;
    check_refused(&e, "a negative duration");
    e.duration_minutes = 1441;
    check_refused(&e, "a duration of 1441");
    e = base_event();
    e.start = -1;
    check_refused(&e, "a start before 1970");
    e.start = (time_t)253402300800LL;
    check_refused(&e, "a start in the year 10000");
    e.start = (time_t)253402300799LL - 59;
    check_refused(&e, "an end in the year 10000");
    e = base_event();
    e.stamp = -5;
    check_refused(&e, "a stamp before 1970");
}
END_TEST

START_TEST(test_validation_limits_accepted)
{
    struct ics_event e = base_event();
    struct buf b;

    e.duration_minutes = 1;
    render(&e, &b);
    buf_free(&b);
    e.duration_minutes = 1440;
    ck_assert_ptr_nonnull(strstr(render(&e, &b), "\r\nDTEND:20260315T230000Z\r\n"));
    buf_free(&b);
    e.location_url = "mailto:exams@prodenthub.com.au";
    render(&e, &b);
    buf_free(&b);
    e.start = 0;
    e.duration_minutes = 60;
    ck_assert_ptr_nonnull(strstr(render(&e, &b), "\r\nDTSTART:19700101T000000Z\r\n"
                                                 "DTEND:19700101T010000Z\r\n"));
    buf_free(&b);
}
END_TEST

START_TEST(test_ceiling)
{
    struct ics_event e = base_event();
    struct app_error err;
    struct buf b;
    char storage[2048];
    size_t need;

    render(&e, &b);
    need = b.len;
    buf_free(&b);

    app_error_clear(&err);
    buf_init(&b, need);
    ck_assert_int_eq(ics_event(&b, &e, &err), APP_OK);      /* exactly enough */
    buf_free(&b);

    buf_init(&b, need - 1);
    ck_assert_int_eq(ics_event(&b, &e, &err), APP_ETOOLARGE);
    ck_assert_int_eq(err.code, APP_ETOOLARGE);
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);

    /* What was in the buffer before stays, and nothing after it. */
    app_error_clear(&err);
    buf_init(&b, need + 3);
    ck_assert_int_eq(buf_puts(&b, "keep"), APP_OK);
    ck_assert_int_eq(ics_event(&b, &e, &err), APP_ETOOLARGE);
    ck_assert_str_eq(b.data, "keep");
    ck_assert_uint_eq(b.len, 4);
    buf_free(&b);

    /* A fixed buffer on the stack. */
    app_error_clear(&err);
    buf_init_fixed(&b, storage, 100);
    ck_assert_int_eq(ics_event(&b, &e, &err), APP_ETOOLARGE);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(storage, "");
    buf_init_fixed(&b, storage, need + 1);
    ck_assert_int_eq(ics_event(&b, &e, NULL), APP_OK);
    ck_assert_uint_eq(b.len, need);
}
END_TEST

static Suite *
ics_suite(void)
{
    Suite *s = suite_create("ics");
    TCase *tc = tcase_create("event");

    tcase_add_test(tc, test_simple_exact);
    tcase_add_test(tc, test_optional_lines);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_fold_boundary);
    tcase_add_test(tc, test_read_back_utf8_fold);
    tcase_add_test(tc, test_read_back_simple);
    tcase_add_test(tc, test_validation);
    tcase_add_test(tc, test_validation_limits_accepted);
    tcase_add_test(tc, test_ceiling);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(ics_suite)
