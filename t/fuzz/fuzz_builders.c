/*
 * Fuzz target "builders": what we build from values that came from outside (names,
 * addresses, plan and exam titles), checked for what a mail or calendar client relies on.
 * The first byte chooses (modulo 3):
 *
 *   0  an email: a template of lib/templates (the second byte picks which) rendered with
 *      each of its variables set to a piece of the input, then mime_build() with a sender's
 *      name and a recipient's address and name from pieces as well;
 *   1  mime_build() from pieces alone (names, subject, parts, an attachment);
 *   2  ics_event() from pieces (uid, summary, description, URL, organizer) and times.
 *
 * Checked: a message's lines all end in CRLF with no other CR or LF, its header block holds
 * each of our headers once and nothing else (no header injected through a value), no line
 * passes 998 octets (RFC 5322); HTML-escaping leaves no '<', '>' or '"' of a variable in the
 * HTML part; a calendar's lines all end in CRLF, none passes 75 octets, and unfolded they
 * are exactly the properties ics.h lists, in order.
 */
#include "config.h"

#include <json-c/json.h>

#include "t/fuzz/fuzz.h"
#include "lib/ics.h"
#include "lib/mime.h"
#include "lib/template.h"

#define MAX_VARS 48
#define PART_MAX (256 * 1024)
#define MAIL_MAX (2 * 1024 * 1024)

static const char *const names[] = {
    "dispute-alert", "mock-registration", "mock-reminder", "mock-results", "payment-alert",
    "payment-failed", "plan-activated", "purchase-confirmation", "scholarship-approved",
    "team-activated", "team-created", "team-invitation",
};
#define NTMPL (sizeof(names) / sizeof(names[0]))

static struct tmpl tmpls[NTMPL];
static char *vars_of[NTMPL][MAX_VARS];      /* each template's variable names */
static size_t nvars[NTMPL];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Add the names of src's tags to template i's list, once each. */
static void
collect(size_t i, const char *src)
{
    const char *p = src, *n;
    size_t len, k;

    while ((p = strstr(p, "{{"))) {       /* checksrc: ok */
        p += 2;
        if (*p == '#' || *p == '^' || *p == '/')
            p++;
        n = p;
        len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        for (k = 0; k < nvars[i]; k++)
            if (strlen(vars_of[i][k]) == len && strncmp(vars_of[i][k], n, len) == 0)
                break;
        if (len && k == nvars[i] && nvars[i] < MAX_VARS)
            vars_of[i][nvars[i]++] = strndup(n, len);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct app_error err;
    size_t i;

    (void)argc;
    (void)argv;
    fz_settings(NULL);
    for (i = 0; i < NTMPL; i++) {
        app_error_clear(&err);
        if (tmpl_load(PH_SRCDIR "/lib/templates", names[i], &tmpls[i], &err) != APP_OK) {
            fprintf(stderr, "fuzz: %s\n", err.msg);
            abort();
        }
        collect(i, tmpls[i].subject);
        collect(i, tmpls[i].text);
        collect(i, tmpls[i].html);
    }
    return 0;
}

/* --- the checks ---------------------------------------------------------------------------- */

/* Every line ends in CRLF, no other CR or LF; none longer than max octets. */
static void
check_lines(const char *s, size_t n, size_t max)
{
    size_t i, col = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\r') {
            FZ_ASSERT(i + 1 < n && s[i + 1] == '\n');
            i++;
            col = 0;
            continue;
        }
        FZ_ASSERT(s[i] != '\n');
        col++;
        FZ_ASSERT(col <= max);
    }
    FZ_ASSERT(n == 0 || (n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n'));
}

/* The header block: our headers, each once; a line that does not start one continues one. */
static void
check_headers(const char *msg)
{
    static const char *const ours[] = {
        "From: ", "To: ", "Subject: ", "Date: ", "Message-ID: ", "MIME-Version: ",
        "Content-Type: ",
    };
    const char *end = strstr(msg, "\r\n\r\n"), *p;
    int seen[7] = { 0 };
    size_t k;

    FZ_ASSERT(end);
    for (p = msg; p < end + 2; p = strstr(p, "\r\n") + 2) {
        if (*p == ' ' || *p == '\t') {
            FZ_ASSERT(p != msg);
            continue;
        }
        for (k = 0; k < 7; k++)
            if (strncmp(p, ours[k], strlen(ours[k])) == 0)
                break;
        FZ_ASSERT(k < 7 && !seen[k]);
        seen[k] = 1;
    }
    for (k = 0; k < 7; k++)
        FZ_ASSERT(seen[k]);
}

static void
check_mail(const struct mail *m)
{
    struct app_error err;
    struct buf out;

    buf_init(&out, MAIL_MAX);
    app_error_clear(&err);
    mime_build(m, &out, &err);
    if (fz_verbose())
        fprintf(stderr, "mime: %s\n%s\n", err.code ? err.msg : "built", out.data ? out.data : "");
    if (err.code == APP_OK) {
        FZ_ASSERT(out.data && strlen(out.data) == out.len);
        check_lines(out.data, out.len, 998);
        check_headers(out.data);
    }
    buf_free(&out);
}

static size_t
count(const char *s, char c)
{
    size_t n = 0;

    for (; s && *s; s++)
        n += *s == c;
    return n;
}

/* --- the modes ------------------------------------------------------------------------------ */

static void
email(struct fz *f)
{
    size_t t = fz_byte(f) % NTMPL, i;
    struct json_object *vars = json_object_new_object(), *plain = json_object_new_object();
    struct buf subject, text, html, html_plain;
    struct app_error err;
    char *from_name = fz_piece(f, NULL), *to = fz_piece(f, NULL), *v, *u;
    struct json_object *rn = NULL;
    struct mail m;

    for (i = 0; i < nvars[t] && f->n; i++) {
        v = fz_piece(f, NULL);
        json_object_object_add(vars, vars_of[t][i], json_object_new_string(v));
        for (u = v; *u; u++)
            if (strchr("<>\"'&", *u))
                *u = 'x';
        json_object_object_add(plain, vars_of[t][i], json_object_new_string(v));
        free(v);
    }
    buf_init(&subject, 2048);
    buf_init(&text, PART_MAX);
    buf_init(&html, PART_MAX);
    buf_init(&html_plain, PART_MAX);
    app_error_clear(&err);
    if (tmpl_render(tmpls[t].subject, vars, TMPL_HEADER, &subject, &err) == APP_OK &&
        tmpl_render(tmpls[t].text, vars, TMPL_TEXT, &text, &err) == APP_OK &&
        tmpl_render(tmpls[t].html, vars, TMPL_HTML, &html, &err) == APP_OK) {
        FZ_ASSERT(!subject.data || !strpbrk(subject.data, "\r\n"));
        FZ_ASSERT(tmpl_render(tmpls[t].html, plain, TMPL_HTML, &html_plain, &err) == APP_OK);
        FZ_ASSERT(count(html.data, '<') == count(html_plain.data, '<'));
        FZ_ASSERT(count(html.data, '>') == count(html_plain.data, '>'));
        FZ_ASSERT(count(html.data, '"') == count(html_plain.data, '"'));
        memset(&m, 0, sizeof(m));
        m.from_addr = "noreply@prodenthub.com.au";
        m.from_name = from_name;
        m.to_addr = to;
        json_object_object_get_ex(vars, "recipientName", &rn);
        m.to_name = rn ? json_object_get_string(rn) : NULL;
        m.subject = subject.data ? subject.data : "";
        m.text = text.data ? text.data : "";
        m.html = html.data ? html.data : "";
        m.message_id = "0123456789abcdef0123456789abcdef";
        m.date = 1767225600;
        check_mail(&m);
    }
    buf_free(&html_plain);
    buf_free(&html);
    buf_free(&text);
    buf_free(&subject);
    json_object_put(plain);
    json_object_put(vars);
    free(to);
    free(from_name);
}

static void
mime(struct fz *f)
{
    unsigned flags = fz_byte(f);
    char *p[9];
    struct mail_attachment att;
    struct mail m;
    size_t i, len = 0;

    for (i = 0; i < 9; i++)
        p[i] = i < 8 ? fz_piece(f, NULL) : fz_rest(f, &len);
    memset(&m, 0, sizeof(m));
    m.from_addr = (flags & 1) ? p[0] : "noreply@prodenthub.com.au";
    m.from_name = (flags & 2) ? p[1] : NULL;
    m.to_addr = p[2];
    m.to_name = (flags & 4) ? p[3] : NULL;
    m.subject = p[4];
    m.text = p[5];
    m.html = p[6];
    m.message_id = "ph-0123456789abcdef";
    m.domain = (flags & 8) ? NULL : "prodenthub.com.au";
    m.date = (time_t)(flags * 86400L * 97);
    att.filename = "exam.ics";
    att.content_type = p[7];
    att.data = p[8];
    att.len = len;
    m.att = &att;
    m.natt = (flags & 16) ? 1 : 0;
    check_mail(&m);
    for (i = 0; i < 9; i++)
        free(p[i]);
}

static void
ics(struct fz *f)
{
    static const char *const props[] = {
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        "BEGIN:VEVENT", "UID:", "DTSTAMP:", "DTSTART:", "DTEND:", "SUMMARY:", "DESCRIPTION:",
        "URL:", "ORGANIZER", "STATUS:CONFIRMED", "TRANSP:OPAQUE", "BEGIN:VALARM",
        "ACTION:DISPLAY", "DESCRIPTION:", "TRIGGER:-PT1H", "END:VALARM", "END:VEVENT",
        "END:VCALENDAR",
    };
    unsigned flags = fz_byte(f), b1 = fz_byte(f), b2 = fz_byte(f), b3 = fz_byte(f);
    char *p[6], *line, *eol, *u;
    struct ics_event e;
    struct app_error err;
    struct buf out, unfolded;
    size_t i, k = 0;

    for (i = 0; i < 6; i++)
        p[i] = fz_piece(f, NULL);
    memset(&e, 0, sizeof(e));
    e.uid = p[0];
    e.summary = p[1];
    e.description = (flags & 1) ? p[2] : NULL;
    e.location_url = (flags & 2) ? p[3] : NULL;
    e.organizer_name = (flags & 4) ? p[4] : NULL;
    e.organizer_email = (flags & 8) ? p[5] : NULL;
    e.start = (time_t)((long long)(b1 << 16 | b2 << 8 | b3) * 15013 - ((flags & 16) ? 3600 : 0));
    e.duration_minutes = (long)((flags & 32) ? 1441 - (b1 % 3) : b2 * 6 + 1);
    e.stamp = (time_t)((flags & 64) ? 253402300799LL : 1767225600LL);
    buf_init(&out, 1 << 20);
    buf_init(&unfolded, 1 << 20);
    app_error_clear(&err);
    ics_event(&out, &e, &err);
    if (fz_verbose())
        fprintf(stderr, "ics: %s\n%s\n", err.code ? err.msg : "built", out.data ? out.data : "");
    if (err.code == APP_OK) {
        check_lines(out.data, out.len, 75);
        /* unfold: CRLF and the one space that starts a continuation */
        for (i = 0; i < out.len; i++) {
            if (out.data[i] == '\r' && out.data[i + 2] == ' ') {
                i += 2;
                continue;
            }
            buf_append(&unfolded, out.data + i, 1);
        }
        for (line = unfolded.data; *line; line = eol + 2) {
            eol = strstr(line, "\r\n");
            FZ_ASSERT(eol);
            while (k < sizeof(props) / sizeof(props[0]) &&
                   strncmp(line, props[k], strlen(props[k])) != 0) {
                FZ_ASSERT(k >= 11 && k <= 13);  /* only an optional property is left out */
                k++;
            }
            FZ_ASSERT(k < sizeof(props) / sizeof(props[0]));
            k++;
            for (u = line; u < eol; u++)
                FZ_ASSERT(*u != '\r' && *u != '\n');
        }
        FZ_ASSERT(k == sizeof(props) / sizeof(props[0]));
    }
    buf_free(&unfolded);
    buf_free(&out);
    for (i = 0; i < 6; i++)
        free(p[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_part *const parts[] = { email, mime, ics };

    fz_run_part(data, size, parts, sizeof(parts) / sizeof(parts[0]));
    return 0;
}
