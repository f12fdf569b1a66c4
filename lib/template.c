/*
 * The email template renderer (see template.h).  Two passes: check() proves a part's tags
 * nest and name valid variables, once at load; render() then walks the same text with a
 * stack of scopes, innermost first.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "template.h"

#define MAX_DEPTH 8
#define MAX_FILE (256 * 1024)
#define NAME_MAX_LEN 64

struct tag {
    char kind;                 /* 0 variable, '#', '^', '/' */
    const char *name;
    size_t name_len;
    const char *start;         /* the first '{' */
    const char *after;         /* just past the closing braces */
};

static int
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* The next tag at or after p: 1 found, 0 none, -1 malformed (message in err). */
static int
next_tag(const char *p, const char *end, struct tag *t, struct app_error *err)
{
    const char *q, *n;

    for (; p + 1 < end; p++)
        if (p[0] == '{' && p[1] == '{')
            break;
    if (p + 1 >= end)
        return 0;
    t->start = p;
    q = p + 2;
    t->kind = 0;
    if (q < end && (*q == '#' || *q == '^' || *q == '/'))
        t->kind = *q++;
    n = q;
    while (q < end && name_char(*q))
        q++;
    t->name = n;
    t->name_len = (size_t)(q - n);
    if (t->name_len == 0 || t->name_len > NAME_MAX_LEN || q + 1 >= end || q[0] != '}' ||
        q[1] != '}') {
        app_error_set(err, APP_ECONFIG, "bad tag at \"%.20s\"", p);
        return -1;
    }
    t->after = q + 2;
    return 1;
}

static int
check(const char *what, const char *src, struct app_error *err)
{
    const char *p = src, *end = src + strlen(src);
    struct tag stack[MAX_DEPTH], t;
    int depth = 0, rc;

    for (;;) {
        rc = next_tag(p, end, &t, err);
        if (rc != 1)
            break;
        p = t.after;
        if (t.kind == '#' || t.kind == '^') {
            if (depth == MAX_DEPTH)
                return app_error_set(err, APP_ECONFIG, "%s: sections nested too deep", what);
            stack[depth++] = t;
        } else if (t.kind == '/') {
            if (depth == 0 || stack[depth - 1].name_len != t.name_len ||
                memcmp(stack[depth - 1].name, t.name, t.name_len) != 0)
                return app_error_set(err, APP_ECONFIG, "%s: {{/%.*s}} closes nothing open",
                                     what, (int)t.name_len, t.name);
            depth--;
        }
    }
    if (rc < 0)                     /* next_tag said why */
        return app_error_prefix(err, "%s: ", what);
    if (depth)
        return app_error_set(err, APP_ECONFIG, "%s: {{%c%.*s}} is never closed", what,
                             stack[depth - 1].kind, (int)stack[depth - 1].name_len,
                             stack[depth - 1].name);
    return APP_OK;
}

static struct json_object *
lookup(struct json_object **scopes, int n, const char *name, size_t len)
{
    char key[NAME_MAX_LEN + 1];
    struct json_object *v;
    int i;

    memcpy(key, name, len);
    key[len] = '\0';
    for (i = n - 1; i >= 0; i--)
        if (json_object_is_type(scopes[i], json_type_object) &&
            json_object_object_get_ex(scopes[i], key, &v))
            return v;
    return NULL;
}

static int
truthy(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        return json_object_get_boolean(v);
    case json_type_int:
        return json_object_get_int64(v) != 0;
    case json_type_double:
        return json_object_get_double(v) != 0.0;
    case json_type_string:
        return json_object_get_string_len(v) > 0;
    case json_type_array:
        return json_object_array_length(v) > 0;
    case json_type_object:
        return 1;
    default:
        return 0;
    }
}

static int
put_value(struct buf *out, struct json_object *v, enum tmpl_mode mode)
{
    const char *s, *e;
    char num[32];
    int rc = APP_OK;

    switch (json_object_get_type(v)) {
    case json_type_string:
        s = json_object_get_string(v);
        break;
    case json_type_int:
        snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
        s = num;
        break;
    case json_type_double:
        s = json_object_to_json_string(v);     /* the number's own text, as parsed */
        break;
    case json_type_boolean:
        s = json_object_get_boolean(v) ? "true" : "false";
        break;
    default:
        return APP_OK;         /* missing, null, objects and arrays print nothing */
    }
    for (; *s && rc == APP_OK; s = e) {
        for (e = s; *e && !strchr("&<>\"'\r\n", *e); e++)
            ;
        rc = buf_append(out, s, (size_t)(e - s));
        if (!*e || rc != APP_OK)
            break;
        if (mode == TMPL_HTML) {
            switch (*e) {
            case '&': rc = buf_puts(out, "&amp;"); break;
            case '<': rc = buf_puts(out, "&lt;"); break;
            case '>': rc = buf_puts(out, "&gt;"); break;
            case '"': rc = buf_puts(out, "&quot;"); break;
            case '\'': rc = buf_puts(out, "&#39;"); break;
            default: rc = buf_append(out, e, 1); break;
            }
        } else if (mode == TMPL_HEADER && (*e == '\r' || *e == '\n')) {
            rc = buf_append(out, " ", 1);      /* no header injection through a variable */
        } else {
            rc = buf_append(out, e, 1);
        }
        e++;
    }
    return rc;
}

/* The {{/name}} that closes the section opened by open (check() proved there is one). */
static const struct tag *
find_close(const struct tag *open, const char *end, struct tag *close)
{
    const char *p = open->after;
    struct app_error e;
    int depth = 0;

    while (next_tag(p, end, close, &e) == 1) {
        p = close->after;
        if (close->kind == '#' || close->kind == '^') {
            depth++;
        } else if (close->kind == '/') {
            if (depth == 0)
                return close;
            depth--;
        }
    }
    return NULL;
}

static int
render(const char *p, const char *end, struct json_object **scopes, int n,
       enum tmpl_mode mode, struct buf *out, struct app_error *err)
{
    struct json_object *v;
    struct tag t, c;
    size_t i, len;
    int rc, found;

    for (;;) {
        found = next_tag(p, end, &t, err);
        if (found != 1)
            break;
        rc = buf_append(out, p, (size_t)(t.start - p));
        if (rc != APP_OK)
            return app_error_set(err, rc, "template output too large");
        v = lookup(scopes, n, t.name, t.name_len);
        if (t.kind == 0) {
            rc = put_value(out, v, mode);
            if (rc != APP_OK)
                return app_error_set(err, rc, "template output too large");
            p = t.after;
            continue;
        }
        if (t.kind == '/' || !find_close(&t, end, &c))
            return app_error_set(err, APP_ECONFIG, "unbalanced section %.*s",
                                 (int)t.name_len, t.name);
        if (t.kind == '^') {
            if (!truthy(v)) {
                rc = render(t.after, c.start, scopes, n, mode, out, err);
                if (rc != APP_OK)
                    return rc;
            }
        } else if (truthy(v)) {
            if (n == MAX_DEPTH + 1)
                return app_error_set(err, APP_ECONFIG, "sections nested too deep");
            len = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;
            for (i = 0; i < len; i++) {
                scopes[n] = json_object_is_type(v, json_type_array) ?
                            json_object_array_get_idx(v, i) : NULL;
                rc = render(t.after, c.start, scopes, scopes[n] ? n + 1 : n, mode, out, err);
                if (rc != APP_OK)
                    return rc;
            }
        }
        p = c.after;
    }
    if (found < 0)
        return found;
    rc = buf_append(out, p, (size_t)(end - p));
    return rc == APP_OK ? APP_OK : app_error_set(err, rc, "template output too large");
}

int
tmpl_render(const char *src, struct json_object *vars, enum tmpl_mode mode, struct buf *out,
            struct app_error *err)
{
    struct json_object *scopes[MAX_DEPTH + 2];

    scopes[0] = vars;
    return render(src, src + strlen(src), scopes, 1, mode, out, err);
}

static char *
part_dup(const char *p, const char *e)
{
    char *s = xmalloc((size_t)(e - p) + 1);

    memcpy(s, p, (size_t)(e - p));
    s[e - p] = '\0';
    return s;
}

/* The start of the line that is exactly sep, at or after p; NULL if none. */
static const char *
find_line(const char *p, const char *end, const char *sep)
{
    size_t n = strlen(sep);

    for (; p && p + n <= end; p = memchr(p, '\n', (size_t)(end - p)), p = p ? p + 1 : NULL)
        if (memcmp(p, sep, n) == 0 && (p + n == end || p[n] == '\n'))
            return p;
    return NULL;
}

/* 1 if s[0..n) has a control character (C0 or DEL): no place in a header line. */
static int
has_control(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

int
tmpl_parse(const char *name, const char *src, size_t n, struct tmpl *t, struct app_error *err)
{
    const char *end = src + n, *p = src, *eol, *text, *html;
    int rc;

    memset(t, 0, sizeof(*t));
    if (memchr(src, '\0', n))
        return app_error_set(err, APP_ECONFIG, "template %s: NUL byte", name);
    while (p < end && *p == '#') {                        /* comment lines */
        eol = memchr(p, '\n', (size_t)(end - p));
        p = eol ? eol + 1 : end;
    }
    if ((size_t)(end - p) < 9 || memcmp(p, "subject: ", 9) != 0)
        return app_error_set(err, APP_ECONFIG, "template %s: no \"subject: \" line", name);
    eol = memchr(p, '\n', (size_t)(end - p));
    text = eol ? find_line(eol + 1, end, "--- text") : NULL;
    html = text ? find_line(text, end, "--- html") : NULL;
    if (!text || !html)
        return app_error_set(err, APP_ECONFIG,
                             "template %s: needs \"--- text\" then \"--- html\" lines", name);
    /* The subject becomes a header: a CR in it would reach the message as it is. */
    if (has_control(p + 9, (size_t)(eol - p - 9)))
        return app_error_set(err, APP_ECONFIG, "template %s: a control character in the "
                             "subject", name);
    t->name = xstrdup(name);
    t->subject = part_dup(p + 9, eol);
    t->text = part_dup(text + 9, html);
    t->html = part_dup(html + 9 > end ? end : html + 9, end);
    rc = check("subject", t->subject, err);
    if (rc == APP_OK)
        rc = check("text part", t->text, err);
    if (rc == APP_OK)
        rc = check("html part", t->html, err);
    if (rc != APP_OK) {
        app_error_prefix(err, "template %s: ", name);
        tmpl_free(t);
    }
    return rc;
}

int
tmpl_load(const char *dir, const char *name, struct tmpl *t, struct app_error *err)
{
    char path[1024];
    struct buf b;
    size_t i;
    int rc;

    memset(t, 0, sizeof(*t));
    for (i = 0; name[i]; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return app_error_set(err, APP_EINTERNAL, "bad template name");
    if (!i || (size_t)snprintf(path, sizeof(path), "%s/%s.tmpl", dir, name) >= sizeof(path))
        return app_error_set(err, APP_EINTERNAL, "bad template name");
    buf_init(&b, MAX_FILE);
    rc = buf_read_file(&b, path);
    if (rc == APP_ENOTFOUND)
        rc = app_error_set(err, APP_ECONFIG, "%s: %s", path, strerror(errno));
    else if (rc == APP_ETOOLARGE)
        rc = app_error_set(err, APP_ECONFIG, "%s: larger than %d bytes", path, MAX_FILE);
    else if (rc != APP_OK)
        rc = app_error_set(err, APP_ECONFIG, "%s: read error or NUL byte", path);
    else
        rc = tmpl_parse(name, b.data ? b.data : "", b.len, t, err);
    buf_free(&b);
    return rc;
}

void
tmpl_free(struct tmpl *t)
{
    free(t->name);
    free(t->subject);
    free(t->text);
    free(t->html);
    memset(t, 0, sizeof(*t));
}
