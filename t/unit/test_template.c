/*
 * lib/template.c: the email template renderer (syntax in lib/template.h and docs/EMAIL.md),
 * and every real template under lib/templates/ loaded and rendered with realistic values.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "../../lib/template.h"
#include "unit.h"

#define MAX_TEMPLATES 64
#define TNAME_LEN 64

/*
 * Variables written as JSON with ' for " so they stay readable in C; \u0027 stands for a
 * real apostrophe and \" for a real double quote.
 */
static struct json_object *
vars_of(const char *js)
{
    char *s = strdup(js), *p;
    struct json_object *v;

    ck_assert_ptr_nonnull(s);
    for (p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    v = json_tokener_parse(s);
    ck_assert_msg(v != 0, "test bug: not JSON: %s", s);
    free(s);
    return v;
}

/* Render src with the variables js in mode; the output, which the caller frees. */
static char *
render_ok(const char *src, const char *js, enum tmpl_mode mode)
{
    struct json_object *vars = vars_of(js);
    struct app_error err;
    struct buf b;
    char *s;
    int rc;

    app_error_clear(&err);
    buf_init(&b, 1 << 20);
    rc = tmpl_render(src, vars, mode, &b, &err);
    ck_assert_msg(rc == APP_OK, "render \"%s\": %d %s", src, rc, err.msg);
    s = strdup(b.data ? b.data : "");
    ck_assert_ptr_nonnull(s);
    buf_free(&b);
    json_object_put(vars);
    return s;
}

static void
check_render(const char *src, const char *js, enum tmpl_mode mode, const char *want)
{
    char *got = render_ok(src, js, mode);

    ck_assert_str_eq(got, want);
    free(got);
}

/* The same in all three modes (values without characters any mode treats specially). */
static void
check_render_all(const char *src, const char *js, const char *want)
{
    check_render(src, js, TMPL_TEXT, want);
    check_render(src, js, TMPL_HTML, want);
    check_render(src, js, TMPL_HEADER, want);
}

/* tmpl_parse must refuse src[0..n) with APP_ECONFIG and leave nothing half-parsed. */
static void
parse_refused_n(const char *what, const char *src, size_t n)
{
    struct app_error err;
    struct tmpl t;
    int rc;

    app_error_clear(&err);
    rc = tmpl_parse("bad", src, n, &t, &err);
    ck_assert_msg(rc == APP_ECONFIG, "%s: tmpl_parse gave %d, not APP_ECONFIG", what, rc);
    ck_assert_int_eq(err.code, APP_ECONFIG);
    ck_assert_msg(strncmp(err.msg, "template bad: ", 14) == 0, "%s: the message \"%s\" "
                  "does not name the template", what, err.msg);
    ck_assert_ptr_null(t.name);
    ck_assert_ptr_null(t.subject);
    ck_assert_ptr_null(t.text);
    ck_assert_ptr_null(t.html);
}

static void
parse_refused(const char *what, const char *src)
{
    parse_refused_n(what, src, strlen(src));
}

/* A whole template from its three parts, into out. */
static const char *
wrap(char *out, size_t n, const char *subject, const char *text, const char *html)
{
    struct buf b;

    buf_init_fixed(&b, out, n);
    ck_assert_int_eq(buf_printf(&b, "subject: %s\n--- text\n%s\n--- html\n%s\n", subject, text,
                                html), APP_OK);
    return out;
}

/* A part's tag, e.g. "{{ name }}", must be refused wherever it stands. */
static void
tag_refused(const char *tag)
{
    char src[1024];

    parse_refused(tag, wrap(src, sizeof(src), tag, "t", "h"));
    parse_refused(tag, wrap(src, sizeof(src), "s", tag, "h"));
    parse_refused(tag, wrap(src, sizeof(src), "s", "t", tag));
}

/* n sections of kind k ('#' or '^'), all named a, around {{x}}, into out. */
static const char *
nested(char *out, size_t size, int n, char k)
{
    struct buf b;
    int i;

    buf_init_fixed(&b, out, size);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(buf_printf(&b, "{{%ca}}", k), APP_OK);
    ck_assert_int_eq(buf_puts(&b, "{{x}}"), APP_OK);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(buf_puts(&b, "{{/a}}"), APP_OK);
    return out;
}

/* Variables {'a':[{'a':[ ... {'x':'deep'} ... ]}]} n arrays deep. */
static struct json_object *
nested_vars(int n)
{
    struct json_object *v = json_object_new_object(), *o, *arr;
    int i;

    json_object_object_add(v, "x", json_object_new_string("deep"));
    for (i = 0; i < n; i++) {
        arr = json_object_new_array();
        json_object_array_add(arr, v);
        o = json_object_new_object();
        json_object_object_add(o, "a", arr);
        v = o;
    }
    return v;
}

/* --- variables --------------------------------------------------------------------------- */

START_TEST(test_var_string)
{
    check_render_all("Hi {{name}}!", "{'name':'Sam'}", "Hi Sam!");
    check_render_all("{{a}}{{b}}", "{'a':'x','b':'y'}", "xy");
    check_render_all("{{a_1}}-{{B2}}", "{'a_1':'one','B2':'two'}", "one-two");
    /* Names are case-sensitive. */
    check_render_all("[{{Name}}]", "{'name':'Sam'}", "[]");
    /* UTF-8 passes through every mode unchanged. */
    check_render_all("{{n}}", "{'n':'Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80'}",
                     "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80");
    check_render_all("no tags at all", "{}", "no tags at all");
    check_render_all("", "{}", "");
    check_render_all("{{n}}", "{'n':''}", "");
}
END_TEST

START_TEST(test_var_numbers_and_bools)
{
    check_render_all("{{n}}", "{'n':42}", "42");
    check_render_all("{{n}}", "{'n':0}", "0");
    check_render_all("{{n}}", "{'n':-7}", "-7");
    check_render_all("{{n}}", "{'n':9007199254740993}", "9007199254740993");
    check_render_all("{{n}}%", "{'n':71.5}", "71.5%");
    check_render_all("{{n}}", "{'n':0.25}", "0.25");
    /* A decimal prints as its own JSON text: no exponent, no precision lost or invented. */
    check_render_all("{{n}}", "{'n':40.0}", "40.0");
    check_render_all("{{n}}", "{'n':1234567.89}", "1234567.89");
    check_render_all("{{b}}", "{'b':true}", "true");
    check_render_all("{{b}}", "{'b':false}", "false");
}
END_TEST

START_TEST(test_var_prints_nothing)
{
    check_render_all("[{{missing}}]", "{}", "[]");
    check_render_all("[{{n}}]", "{'n':null}", "[]");
    check_render_all("[{{o}}]", "{'o':{'a':'b'}}", "[]");
    check_render_all("[{{a}}]", "{'a':['x','y']}", "[]");
    check_render_all("[{{a}}]", "{'a':[]}", "[]");
}
END_TEST

START_TEST(test_var_html_escapes)
{
    check_render("<p>{{v}}</p>", "{'v':'a & b < c > d \\\" e \\u0027 f'}", TMPL_HTML,
                 "<p>a &amp; b &lt; c &gt; d &quot; e &#39; f</p>");
    check_render("<a href=\"{{u}}\">", "{'u':'https://x.test/?a=1&b=\\\"><script>'}", TMPL_HTML,
                 "<a href=\"https://x.test/?a=1&amp;b=&quot;&gt;&lt;script&gt;\">");
    check_render("{{v}}", "{'v':'&amp;'}", TMPL_HTML, "&amp;amp;");
    check_render("{{v}}", "{'v':'<<>>'}", TMPL_HTML, "&lt;&lt;&gt;&gt;");
    /* The template's own text is not escaped. */
    check_render("<b>&rsquo;{{v}}</b>", "{'v':'x'}", TMPL_HTML, "<b>&rsquo;x</b>");
}
END_TEST

START_TEST(test_var_text_raw)
{
    check_render("{{v}}", "{'v':'a & b < c > d \\\" e \\u0027 f'}", TMPL_TEXT,
                 "a & b < c > d \" e ' f");
    check_render("{{v}}", "{'v':'line1\\r\\nline2\\nline3'}", TMPL_TEXT,
                 "line1\r\nline2\nline3");
    check_render("{{v}}", "{'v':'<script>alert(1)</script>'}", TMPL_TEXT,
                 "<script>alert(1)</script>");
}
END_TEST

START_TEST(test_var_header_no_injection)
{
    check_render("Subject {{v}}", "{'v':'Hi\\r\\nBcc: evil@example.com'}", TMPL_HEADER,
                 "Subject Hi  Bcc: evil@example.com");
    check_render("{{v}}", "{'v':'\\n\\r\\n\\r'}", TMPL_HEADER, "    ");
    check_render("{{v}}", "{'v':'a\\nb'}", TMPL_HEADER, "a b");
    /* Only CR and LF change: the rest is raw. */
    check_render("{{v}}", "{'v':'a & <b> \\\" \\u0027'}", TMPL_HEADER, "a & <b> \" '");
}
END_TEST

START_TEST(test_var_value_not_rescanned)
{
    /* A value is inserted once and never scanned for tags. */
    check_render_all("{{v}}", "{'v':'{{x}}','x':'no'}", "{{x}}");
    check_render_all("{{v}}", "{'v':'{{#x}}{{/y}}'}", "{{#x}}{{/y}}");
    check_render_all("{{v}}", "{'v':'{{'}", "{{");
}
END_TEST

START_TEST(test_var_literal_braces)
{
    /* Braces that do not make "{{" are text. */
    check_render_all("a { b } c }} d {x}", "{}", "a { b } c }} d {x}");
    check_render_all("{ {{v}} }", "{'v':'1'}", "{ 1 }");
}
END_TEST

START_TEST(test_render_appends)
{
    struct json_object *vars = vars_of("{'v':'world'}");
    struct app_error err;
    struct buf b;

    app_error_clear(&err);
    buf_init(&b, 1024);
    ck_assert_int_eq(buf_puts(&b, "hello, "), APP_OK);
    ck_assert_int_eq(tmpl_render("{{v}}", vars, TMPL_TEXT, &b, &err), APP_OK);
    ck_assert_int_eq(tmpl_render("!", vars, TMPL_TEXT, &b, &err), APP_OK);
    ck_assert_str_eq(b.data, "hello, world!");
    ck_assert_uint_eq(b.len, strlen("hello, world!"));
    buf_free(&b);
    json_object_put(vars);
}
END_TEST

/* --- sections ---------------------------------------------------------------------------- */

START_TEST(test_section_array_of_objects)
{
    /* Element fields first, then the outer variables. */
    check_render_all("{{#m}}[{{name}}:{{x}}]{{/m}}",
                     "{'x':'outer','m':[{'name':'a'},{'name':'b','x':'inner'},{}]}",
                     "[a:outer][b:inner][:outer]");
    /* An element's null or missing field does not fall through to the outer one... */
    check_render_all("{{#m}}<{{x}}>{{/m}}", "{'x':'outer','m':[{'x':null}]}", "<>");
    /* ...and the outer value is back after the section. */
    check_render_all("{{#m}}{{x}}{{/m}}|{{x}}", "{'x':'o','m':[{'x':'i'}]}", "i|o");
    check_render_all("{{#m}}x{{/m}}", "{'m':[{},{},{}]}", "xxx");
}
END_TEST

START_TEST(test_section_doc_example)
{
    /* The list idiom of docs/EMAIL.md: the newline inside the section. */
    check_render("Who pays what{{#members}}\n- {{name}} <{{email}}>: {{shareAmount}}"
                 "{{/members}}\n\nEvery share",
                 "{'members':[{'name':'Ann','email':'ann@x.test','shareAmount':'A$1.00'},"
                 "{'name':'Bo','email':'bo@x.test','shareAmount':'A$2.00'}]}", TMPL_TEXT,
                 "Who pays what\n- Ann <ann@x.test>: A$1.00\n- Bo <bo@x.test>: A$2.00\n\n"
                 "Every share");
    /* The optional line idiom. */
    check_render("Plan: P\n{{#couponCode}}Coupon: {{couponCode}}\n{{/couponCode}}Total: T",
                 "{'couponCode':'SAVE20'}", TMPL_TEXT, "Plan: P\nCoupon: SAVE20\nTotal: T");
    check_render("Plan: P\n{{#couponCode}}Coupon: {{couponCode}}\n{{/couponCode}}Total: T",
                 "{'couponCode':''}", TMPL_TEXT, "Plan: P\nTotal: T");
}
END_TEST

START_TEST(test_section_nested_arrays)
{
    static const char *const js =
        "{'g':'outer','groups':["
        "{'g':'A','items':[{'i':'1'},{'i':'2'}]},"
        "{'g':'B','items':[]},"
        "{'items':[{'i':'3','g':'C'}]}]}";

    check_render_all("{{#groups}}{{g}}({{#items}}{{i}}{{g}};{{/items}}){{/groups}}", js,
                     "A(1A;2A;)B()outer(3C;)");
    /* The same name at two levels: the inner section sees the element's own array. */
    check_render_all("{{#a}}<{{#a}}{{v}}{{/a}}>{{/a}}",
                     "{'a':[{'a':[{'v':'1'},{'v':'2'}]},{'a':[]}]}", "<12><>");
}
END_TEST

START_TEST(test_section_truthy_once)
{
    check_render_all("{{#s}}yes:{{s}}{{/s}}", "{'s':'x'}", "yes:x");
    check_render_all("{{#s}}yes:{{s}}{{/s}}", "{'s':' '}", "yes: ");
    check_render_all("{{#s}}yes:{{s}}{{/s}}", "{'s':true}", "yes:true");
    check_render_all("{{#s}}yes:{{s}}{{/s}}", "{'s':3}", "yes:3");
    check_render_all("{{#s}}yes:{{s}}{{/s}}", "{'s':-1}", "yes:-1");
    check_render_all("{{#s}}yes:{{s}}{{/s}}", "{'s':0.5}", "yes:0.5");
    /* Inside a truthy scalar section the outer variables are still there. */
    check_render_all("{{#s}}{{o}}{{/s}}", "{'s':'x','o':'outer'}", "outer");
}
END_TEST

START_TEST(test_section_falsy_nothing)
{
    static const char *const falsy[] = {
        "{}", "{'s':''}", "{'s':false}", "{'s':0}", "{'s':0.0}", "{'s':[]}", "{'s':null}",
    };
    size_t i;

    for (i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
        check_render_all("a{{#s}}yes{{/s}}b", falsy[i], "ab");
        check_render_all("a{{^s}}no{{/s}}b", falsy[i], "anob");
        check_render_all("{{#s}}P{{/s}}{{^s}}F{{/s}}", falsy[i], "F");
    }
}
END_TEST

START_TEST(test_section_inverted)
{
    static const char *const truthy[] = {
        "{'s':'x'}", "{'s':true}", "{'s':1}", "{'s':[{}]}", "{'s':[{},{}]}", "{'s':2.5}",
    };
    size_t i;

    for (i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        check_render_all("a{{^s}}no{{/s}}b", truthy[i], "ab");
        check_render_all("{{^s}}F{{/s}}", truthy[i], "");
    }
    /* An inverted section renders once, in the same scope. */
    check_render_all("{{#m}}{{^x}}[{{n}}]{{/x}}{{/m}}",
                     "{'m':[{'n':'1'},{'n':'2','x':true},{'n':'3'}]}", "[1][3]");
    check_render_all("{{^a}}{{^b}}none{{/b}}{{/a}}", "{}", "none");
}
END_TEST

START_TEST(test_section_array_non_objects)
{
    /* Elements that are not objects still repeat the inside; lookups go outward. */
    check_render_all("{{#a}}({{o}}){{/a}}", "{'o':'x','a':['p','q',null,3]}", "(x)(x)(x)(x)");
}
END_TEST

START_TEST(test_section_newlines_kept)
{
    /* Section tags are not standalone: a tag alone on a line keeps that line's newline. */
    check_render("A\n{{#s}}\nB\n{{/s}}\nC", "{'s':true}", TMPL_TEXT, "A\n\nB\n\nC");
    check_render("A\n{{#s}}\nB\n{{/s}}\nC", "{'s':false}", TMPL_TEXT, "A\n\nC");
}
END_TEST

START_TEST(test_section_depth_limit)
{
    char src[2048], tmpl[4096];
    struct json_object *vars;
    struct app_error err;
    struct tmpl t;
    struct buf b;
    int rc;

    /* Eight levels parse and render, arrays included. */
    nested(src, sizeof(src), 8, '#');
    app_error_clear(&err);
    wrap(tmpl, sizeof(tmpl), src, src, src);
    ck_assert_int_eq(tmpl_parse("deep", tmpl, strlen(tmpl), &t, &err), APP_OK);
    vars = nested_vars(8);
    buf_init(&b, 4096);
    ck_assert_int_eq(tmpl_render(t.html, vars, TMPL_HTML, &b, &err), APP_OK);
    ck_assert_str_eq(b.data, "deep\n");
    buf_free(&b);
    json_object_put(vars);
    tmpl_free(&t);
    check_render_all(nested(src, sizeof(src), 8, '^'), "{'x':'y'}", "y");

    /* Nine are refused at load, whatever the kinds. */
    nested(src, sizeof(src), 9, '#');
    tag_refused(src);
    nested(src, sizeof(src), 9, '^');
    tag_refused(src);
    tag_refused("{{#a}}{{^b}}{{#c}}{{^d}}{{#e}}{{^f}}{{#g}}{{^h}}{{#i}}x"
                "{{/i}}{{/h}}{{/g}}{{/f}}{{/e}}{{/d}}{{/c}}{{/b}}{{/a}}");
    /* Eight then back out and eight again is fine: depth, not count. */
    snprintf(tmpl, sizeof(tmpl), "%s%s", nested(src, sizeof(src), 8, '#'), src);
    check_render_all(tmpl, "{}", "");

    /* tmpl_render on text nobody checked: an error, not a stack overrun. */
    nested(src, sizeof(src), 9, '#');
    vars = nested_vars(9);
    app_error_clear(&err);
    buf_init(&b, 4096);
    rc = tmpl_render(src, vars, TMPL_TEXT, &b, &err);
    ck_assert_int_ne(rc, APP_OK);
    ck_assert_int_eq(err.code, rc);
    buf_free(&b);
    json_object_put(vars);
}
END_TEST

START_TEST(test_render_unchecked_text)
{
    static const char *const bad[] = {
        "{{#a}}x", "x{{/a}}", "{{ name }}", "{{name", "{{#a}}{{bad", "{{/a}}{{#a}}",
    };
    struct json_object *vars = vars_of("{'a':true,'name':'n'}");
    struct app_error err;
    struct buf b;
    size_t i;
    int rc;

    /* What tmpl_parse would refuse gives an error from tmpl_render too, never a crash. */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        app_error_clear(&err);
        buf_init(&b, 4096);
        rc = tmpl_render(bad[i], vars, TMPL_TEXT, &b, &err);
        ck_assert_msg(rc != APP_OK, "\"%s\" rendered", bad[i]);
        buf_free(&b);
    }
    json_object_put(vars);
}
END_TEST

/* --- tmpl_parse -------------------------------------------------------------------------- */

START_TEST(test_parse_ok)
{
    static const char src[] =
        "# when it is sent\n"
        "# Needs: name\n"
        "subject: Hi {{name}}\n"
        "--- text\n"
        "Hello {{name}},\n"
        "bye\n"
        "--- html\n"
        "<p>Hello {{name}}</p>\n";
    struct app_error err;
    struct tmpl t;

    app_error_clear(&err);
    ck_assert_int_eq(tmpl_parse("greeting", src, sizeof(src) - 1, &t, &err), APP_OK);
    ck_assert_int_eq(err.code, APP_OK);
    ck_assert_str_eq(t.name, "greeting");
    ck_assert_str_eq(t.subject, "Hi {{name}}");
    ck_assert_str_eq(t.text, "Hello {{name}},\nbye\n");
    ck_assert_str_eq(t.html, "<p>Hello {{name}}</p>\n");
    tmpl_free(&t);
    ck_assert_ptr_null(t.name);
    ck_assert_ptr_null(t.html);
    tmpl_free(&t);             /* twice is harmless */
}
END_TEST

START_TEST(test_parse_edges)
{
    struct app_error err;
    struct tmpl t;
    static const char tail[] = "subject: s\n--- text\nt\n--- html\nh{{oops";
    static const char bare[] = "subject: s\n--- text\n--- html";
    static const char mid[] = "subject: s\n--- text\na --- html\n--- html\nh";
    static const char empty_subject[] = "subject: \n--- text\n--- html\n";

    /* src need not be NUL-terminated: only n bytes count. */
    app_error_clear(&err);
    ck_assert_int_eq(tmpl_parse("tail", tail, sizeof(tail) - 1 - strlen("{{oops"), &t, &err),
                     APP_OK);
    ck_assert_str_eq(t.html, "h");
    ck_assert_str_eq(t.text, "t\n");
    tmpl_free(&t);

    /* Empty parts, and no newline after "--- html". */
    ck_assert_int_eq(tmpl_parse("bare", bare, sizeof(bare) - 1, &t, &err), APP_OK);
    ck_assert_str_eq(t.subject, "s");
    ck_assert_str_eq(t.text, "");
    ck_assert_str_eq(t.html, "");
    tmpl_free(&t);

    /* "--- html" inside a line is text, not the separator. */
    ck_assert_int_eq(tmpl_parse("mid", mid, sizeof(mid) - 1, &t, &err), APP_OK);
    ck_assert_str_eq(t.text, "a --- html\n");
    ck_assert_str_eq(t.html, "h");
    tmpl_free(&t);

    /* A "subject: " line may itself be empty after the prefix. */
    ck_assert_int_eq(tmpl_parse("e", empty_subject, sizeof(empty_subject) - 1, &t, &err),
                     APP_OK);
    ck_assert_str_eq(t.subject, "");
    tmpl_free(&t);
    ck_assert_int_eq(err.code, APP_OK);
}
END_TEST

START_TEST(test_parse_no_subject)
{
    parse_refused("empty", "");
    parse_refused("only comments", "# a comment\n# another\n");
    parse_refused("no subject", "--- text\nt\n--- html\nh\n");
    parse_refused("capital S", "Subject: s\n--- text\nt\n--- html\nh\n");
    parse_refused("no space", "subject:s\n--- text\nt\n--- html\nh\n");
    parse_refused("blank line first", "\nsubject: s\n--- text\nt\n--- html\nh\n");
    parse_refused("text before subject", "hello\nsubject: s\n--- text\nt\n--- html\nh\n");
    parse_refused("indented comment", " # c\nsubject: s\n--- text\nt\n--- html\nh\n");
    parse_refused("subject only", "subject: s");
    parse_refused("subject line only", "subject: s\n");
}
END_TEST

START_TEST(test_parse_separators)
{
    parse_refused("no --- text", "subject: s\nt\n--- html\nh\n");
    parse_refused("no --- html", "subject: s\n--- text\nt\n");
    parse_refused("neither", "subject: s\nbody\n");
    parse_refused("wrong order", "subject: s\n--- html\nh\n--- text\nt\n");
    parse_refused("trailing space", "subject: s\n--- text \nt\n--- html\nh\n");
    parse_refused("indented", "subject: s\n --- text\nt\n--- html\nh\n");
    parse_refused("two dashes", "subject: s\n-- text\nt\n--- html\nh\n");
    parse_refused("capitalised", "subject: s\n--- TEXT\nt\n--- HTML\nh\n");
    /* CRLF files: the separators are not exactly "--- text", so no '\r' reaches a subject. */
    parse_refused("CRLF", "subject: s\r\n--- text\r\nt\r\n--- html\r\nh\r\n");
    /* Nor does one inside the subject line (found by t/fuzz: documents), nor any control. */
    parse_refused("CR in the subject", "subject: a\rb\n--- text\nt\n--- html\nh\n");
    parse_refused("CR ending the subject", "subject: s\r\n--- text\nt\n--- html\nh\n");
    parse_refused("tab in the subject", "subject: a\tb\n--- text\nt\n--- html\nh\n");
    parse_refused("DEL in the subject", "subject: a\x7f\n--- text\nt\n--- html\nh\n");
}
END_TEST

START_TEST(test_parse_sections_unbalanced)
{
    tag_refused("{{#a}}x");
    tag_refused("{{^a}}x");
    tag_refused("{{#a}}{{#b}}x{{/b}}");
    tag_refused("{{#a}}x{{/b}}");
    tag_refused("{{^a}}x{{/b}}");
    tag_refused("{{#a}}{{#b}}{{/a}}{{/b}}");
    tag_refused("x{{/a}}");
    tag_refused("{{#a}}x{{/a}}{{/a}}");
    tag_refused("{{/a}}{{#a}}");
    /* The subject, text and html are checked on their own: a section cannot span them. */
    parse_refused("spans parts", "subject: {{#a}}s\n--- text\n{{/a}}\n--- html\nh\n");
}
END_TEST

START_TEST(test_parse_bad_tags)
{
    static const char *const bad[] = {
        "{{ name }}", "{{name }}", "{{ name}}", "{{a.b}}", "{{name", "{{name}", "{{}}",
        "{{#}}", "{{/}}", "{{^}}", "{{{name}}}", "{{!comment}}", "{{>partial}}", "{{&name}}",
        "{{=<% %>=}}", "{{a-b}}", "{{#a b}}x{{/a b}}", "{{na\nme}}", "{{\xc3\xa9}}", "{{",
        "x {{ y", "{{.}}", "{{#a}}{{.}}{{/a}}",
        "{{abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde}}",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tag_refused(bad[i]);
}
END_TEST

START_TEST(test_parse_long_name_ok)
{
    /* 64 characters is the longest name. */
    check_render_all("{{abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd}}",
                     "{'abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd':'ok'}",
                     "ok");
}
END_TEST

START_TEST(test_parse_nul_byte)
{
    static const char in_subject[] = "subject: a\0b\n--- text\nt\n--- html\nh\n";
    static const char in_text[] = "subject: s\n--- text\nt\0t\n--- html\nh\n";
    static const char in_html[] = "subject: s\n--- text\nt\n--- html\nh\0";
    static const char first[] = "\0subject: s\n--- text\nt\n--- html\nh\n";

    parse_refused_n("NUL in subject", in_subject, sizeof(in_subject) - 1);
    parse_refused_n("NUL in text", in_text, sizeof(in_text) - 1);
    parse_refused_n("NUL in html", in_html, sizeof(in_html) - 1);
    parse_refused_n("NUL first", first, sizeof(first) - 1);
}
END_TEST

/* --- tmpl_load --------------------------------------------------------------------------- */

/* The source tree's lib/templates holds team-created.tmpl. */
static int
is_templates_dir(const char *dir)
{
    char path[PATH_MAX];

    if ((size_t)snprintf(path, sizeof(path), "%s/team-created.tmpl", dir) >= sizeof(path))
        return 0;
    return access(path, R_OK) == 0;
}

/*
 * lib/templates in the source tree: $PH_SRCDIR (make check and make distcheck export it),
 * else next to this file (../../lib/templates from its directory), else ./lib/templates.
 */
static const char *
templates_dir(char *out, size_t n)
{
    const char *src = getenv("PH_SRCDIR");
    const char *slash = strrchr(__FILE__, '/');

    if (src && *src) {
        snprintf(out, n, "%s/lib/templates", src);
        if (is_templates_dir(out))
            return out;
    }
    if (slash)
        snprintf(out, n, "%.*s/../../lib/templates", (int)(slash - __FILE__), __FILE__);
    else
        snprintf(out, n, "../../lib/templates");
    if (is_templates_dir(out))
        return out;
    snprintf(out, n, "lib/templates");
    ck_assert_msg(is_templates_dir(out), "lib/templates not found (set PH_SRCDIR)");
    return out;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The names (without .tmpl) of the templates in dir, sorted; returns how many. */
static size_t
list_templates(const char *dir, char names[][TNAME_LEN], size_t max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0, len;

    ck_assert_msg(d != 0, "cannot open %s", dir);
    for (;;) {
        e = readdir(d);
        if (!e)
            break;
        len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".tmpl") != 0 || e->d_name[0] == '.')
            continue;
        ck_assert_uint_lt(n, max);
        ck_assert_uint_lt(len - 5, TNAME_LEN);
        snprintf(names[n++], TNAME_LEN, "%.*s", (int)(len - 5), e->d_name);
    }
    closedir(d);
    qsort(names, n, TNAME_LEN, cmp_names);
    return n;
}

/* A hostile value: must come out escaped in html, raw in text. */
#define HOSTILE "Sam <script>alert(1)</script> O\\u0027Brien & \\\"Co\\\""
#define HOSTILE_HTML "Sam &lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien &amp; &quot;Co&quot;"
#define HOSTILE_TEXT "Sam <script>alert(1)</script> O'Brien & \"Co\""

/*
 * Every variable of every template (docs/EMAIL.md), as the code would pass them, with a
 * hostile person name and reason and with CR/LF in values that reach subjects.
 */
static const char realistic_vars[] =
    "{'brandName':'ProDentHub','frontendUrl':'https://prodenthub.com.au',"
    "'supportEmail':'support@prodenthub.com.au','recipientName':'" HOSTILE "','year':'2026',"
    "'leaderName':'" HOSTILE "','memberName':'" HOSTILE "','customerName':'" HOSTILE "',"
    "'candidateName':'" HOSTILE "','applicantName':'" HOSTILE "',"
    "'teamId':'team_8f3k2q','planName':'Cluster 2 Premium\\r\\nBcc: evil@example.com',"
    "'memberCount':3,'totalAmount':'A$897.00','shareAmount':'A$299.00',"
    "'members':[{'name':'" HOSTILE "','email':'sam@example.com','shareAmount':'A$299.00'},"
    "{'name':'Priya Patel','email':'priya@example.com','shareAmount':'A$299.00'},"
    "{'name':'Lee Wong','email':'lee@example.com','shareAmount':'A$299.00'}],"
    "'teamUrl':'https://prodenthub.com.au/teams/team_8f3k2q','payBy':'Wed 9 Dec 2026',"
    "'payUrl':'https://prodenthub.com.au/pay/team_8f3k2q?m=2&t=abc',"
    "'scholarshipId':'sch_91ab','percentage':40,'price':'A$179.40','fullPrice':'A$299.00',"
    "'reasons':[{'text':'Final-year student'},{'text':'Rural & remote practice'}],"
    "'amountPaid':'A$179.40','accessFrom':'Wed 9 Dec 2026','accessUntil':'Thu 9 Dec 2027',"
    "'loginUrl':'https://prodenthub.com.au/login','originalAmount':'A$299.00',"
    "'discountAmount':'A$59.80','finalAmount':'A$239.20','couponCode':'SAVE20',"
    "'purchaseId':'pur_7c2d9e','clusterName':'Cluster 2: Clinical reasoning',"
    "'clusterDescription':'Candidates in this cluster answer recall questions well but lose "
    "marks on multi-step clinical scenarios, so the plan weights case work.',"
    "'roadmap':[{'week':1,'focus':'Diagnosis','activities':'Two case sets a day.'},"
    "{'week':2,'focus':'Treatment planning','activities':'Timed scenarios & review.'}],"
    "'examTitle':'ADC Written Mock 1\\r\\nBcc: evil@example.com','examDate':'Wed 9 Dec 2026',"
    "'examTime':'10:00 AEDT','durationMinutes':180,'tier':'Premium',"
    "'accessUrl':'https://prodenthub.com.au/mock/reg_5511','registrationId':'reg_5511',"
    "'score':71.5,'passed':true,'percentile':85,'cohortSize':214,'cohortMean':64.2,"
    "'cohortMedian':65,'passRate':58.5,"
    "'sections':[{'name':'Clinical','score':75,'cohortMean':66.1},"
    "{'name':'Ethics & law','score':68,'cohortMean':62}],"
    "'reportUrl':'https://prodenthub.com.au/reports/reg_5511',"
    "'amount':'A$299.00','reason':'" HOSTILE "',"
    "'retryUrl':'https://prodenthub.com.au/retry/pur_7c2d9e',"
    "'recordType':'purchase\\r\\nX-Evil: 1','recordId':'pur_7c2d9e','paymentIntentId':'pi_3Nx',"
    "'chargeId':'ch_3Nx','disputeId':'dp_1Nx',"
    "'dashboardUrl':'https://dashboard.stripe.com/disputes/dp_1Nx'}";

/* The same with every optional value empty. */
static struct json_object *
optional_empty_vars(void)
{
    struct json_object *v = vars_of(realistic_vars);

    json_object_object_add(v, "couponCode", json_object_new_string(""));
    json_object_object_add(v, "amountPaid", json_object_new_string(""));
    json_object_object_add(v, "reason", json_object_new_string(""));
    json_object_object_add(v, "passed", json_object_new_boolean(0));
    json_object_object_add(v, "tier", json_object_new_string("Free"));
    return v;
}

static void
render_part(const char *what, const char *src, struct json_object *vars,
            enum tmpl_mode mode, struct buf *out)
{
    struct app_error err;
    int rc;

    app_error_clear(&err);
    buf_init(out, 1 << 20);
    rc = tmpl_render(src, vars, mode, out, &err);
    ck_assert_msg(rc == APP_OK, "%s: render: %d %s", what, rc, err.msg);
    ck_assert_ptr_nonnull(out->data);
    ck_assert_msg(!strstr(out->data, "{{"), "%s: a tag was left: %s", what,
                  strstr(out->data, "{{"));
}

/* Load dir/name, render its three parts with vars and check what every email needs. */
static void
render_template(const char *dir, const char *name, struct json_object *vars, int hostile)
{
    struct app_error err;
    struct buf subj, text, html, raw;
    struct tmpl t;
    const char *p;
    char what[128];

    app_error_clear(&err);
    ck_assert_msg(tmpl_load(dir, name, &t, &err) == APP_OK, "%s: %s", name, err.msg);
    ck_assert_str_eq(t.name, name);
    ck_assert_msg(t.subject[0] != '\0', "%s: empty subject", name);
    for (p = t.subject; *p; p++)
        ck_assert_msg((unsigned char)*p < 0x80, "%s: the subject is not ASCII", name);

    snprintf(what, sizeof(what), "%s subject", name);
    render_part(what, t.subject, vars, TMPL_HEADER, &subj);
    ck_assert_msg(strspn(subj.data, " ") < subj.len, "%s: blank", what);
    ck_assert_msg(!strpbrk(subj.data, "\r\n"), "%s has CR or LF: %s", what, subj.data);

    snprintf(what, sizeof(what), "%s text", name);
    render_part(what, t.text, vars, TMPL_TEXT, &text);
    ck_assert_msg(strstr(text.data, "ProDentHub"), "%s lacks the brand", what);

    snprintf(what, sizeof(what), "%s html", name);
    render_part(what, t.html, vars, TMPL_HTML, &html);
    ck_assert_msg(strstr(html.data, "</html>"), "%s is not a whole document", what);
    ck_assert_msg(strstr(html.data, "ProDentHub"), "%s lacks the brand", what);
    ck_assert_msg(!strstr(html.data, "<script"), "%s has a raw <script", what);

    /* The html part rendered raw shows that escaping is what kept the value out. */
    snprintf(what, sizeof(what), "%s html as text", name);
    render_part(what, t.html, vars, TMPL_TEXT, &raw);
    if (hostile) {
        ck_assert_msg(strstr(html.data, HOSTILE_HTML), "%s: the value is not escaped", name);
        ck_assert_msg(strstr(text.data, HOSTILE_TEXT), "%s: the text value is not raw", name);
        ck_assert_msg(strstr(raw.data, "<script>"), "%s: no hostile value in html", name);
    }
    buf_free(&subj);
    buf_free(&text);
    buf_free(&html);
    buf_free(&raw);
    tmpl_free(&t);
}

START_TEST(test_load_every_template)
{
    static const char *const documented[] = {
        "dispute-alert", "mock-registration", "mock-reminder", "mock-results",
        "payment-alert", "payment-failed", "plan-activated", "purchase-confirmation",
        "scholarship-approved",
        "team-created", "team-invitation",
    };
    char dir[PATH_MAX], names[MAX_TEMPLATES][TNAME_LEN];
    struct json_object *full = vars_of(realistic_vars), *empty = optional_empty_vars();
    size_t n, i, k;

    templates_dir(dir, sizeof(dir));
    n = list_templates(dir, names, MAX_TEMPLATES);
    for (k = 0; k < sizeof(documented) / sizeof(documented[0]); k++) {
        for (i = 0; i < n && strcmp(names[i], documented[k]) != 0; i++)
            ;
        ck_assert_msg(i < n, "%s/%s.tmpl is missing", dir, documented[k]);
    }
    for (i = 0; i < n; i++) {
        render_template(dir, names[i], full, 1);
        render_template(dir, names[i], empty, 0);
    }
    json_object_put(full);
    json_object_put(empty);
}
END_TEST

START_TEST(test_load_optional_values)
{
    struct json_object *full = vars_of(realistic_vars), *empty = optional_empty_vars();
    struct app_error err;
    struct buf a, b;
    struct tmpl t;
    char dir[PATH_MAX];

    /* The optional coupon lines show only with a coupon. */
    templates_dir(dir, sizeof(dir));
    app_error_clear(&err);
    ck_assert_int_eq(tmpl_load(dir, "purchase-confirmation", &t, &err), APP_OK);
    render_part("with coupon", t.text, full, TMPL_TEXT, &a);
    render_part("without coupon", t.text, empty, TMPL_TEXT, &b);
    ck_assert_ptr_nonnull(strstr(a.data, "SAVE20"));
    ck_assert_ptr_null(strstr(b.data, "SAVE20"));
    ck_assert_ptr_null(strstr(b.data, "A$59.80"));
    buf_free(&a);
    buf_free(&b);
    tmpl_free(&t);

    /* Every team member is listed. */
    ck_assert_int_eq(tmpl_load(dir, "team-created", &t, &err), APP_OK);
    render_part("members", t.text, full, TMPL_TEXT, &a);
    ck_assert_ptr_nonnull(strstr(a.data, "priya@example.com"));
    ck_assert_ptr_nonnull(strstr(a.data, "lee@example.com"));
    buf_free(&a);
    tmpl_free(&t);
    json_object_put(full);
    json_object_put(empty);
}
END_TEST

START_TEST(test_load_bad_names)
{
    static const char *const bad[] = {
        "", "Team-created", "TEAM-CREATED", "team/created", "../templates/team-created",
        "..", ".", "team-created.tmpl", "team_created", "team created", "/etc/passwd",
        "team-created\n", "t\xc3\xa9",
    };
    char dir[PATH_MAX], longname[2048];
    struct app_error err;
    struct tmpl t;
    size_t i;
    int rc;

    templates_dir(dir, sizeof(dir));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        app_error_clear(&err);
        rc = tmpl_load(dir, bad[i], &t, &err);
        ck_assert_msg(rc != APP_OK, "name \"%s\" accepted", bad[i]);
        ck_assert_int_eq(err.code, rc);
        ck_assert_ptr_null(t.name);
        ck_assert_ptr_null(t.subject);
    }
    /* A name whose path does not fit. */
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    app_error_clear(&err);
    ck_assert_int_ne(tmpl_load(dir, longname, &t, &err), APP_OK);
    ck_assert_ptr_null(t.name);
}
END_TEST

START_TEST(test_load_missing)
{
    char dir[PATH_MAX];
    struct app_error err;
    struct tmpl t;

    templates_dir(dir, sizeof(dir));
    app_error_clear(&err);
    ck_assert_int_eq(tmpl_load(dir, "no-such-template", &t, &err), APP_ECONFIG);
    ck_assert_int_eq(err.code, APP_ECONFIG);
    ck_assert_ptr_null(t.name);
    app_error_clear(&err);
    ck_assert_int_eq(tmpl_load("/nonexistent/ph/templates", "team-created", &t, &err),
                     APP_ECONFIG);
    ck_assert_ptr_null(t.name);
}
END_TEST

/* Write text (n bytes) to dir/name.tmpl. */
static void
write_tmpl(const char *dir, const char *name, const char *text, size_t n)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.tmpl", dir, name);
    f = fopen(path, "w");
    ck_assert_msg(f != 0, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void
remove_tmpl(const char *dir, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s.tmpl", dir, name);
    unlink(path);
}

START_TEST(test_load_files)
{
    static const char good[] =
        "# c\nsubject: Hi {{n}}\n--- text\nT {{n}}\n--- html\n<p>{{n}}</p>\n";
    static const char broken[] = "subject: Hi {{n}\n--- text\nT\n--- html\nH\n";
    static const char nul[] = "subject: s\n--- text\n\0\n--- html\nh\n";
    char dir[64];
    struct app_error err;
    struct tmpl t;

    snprintf(dir, sizeof(dir), "/tmp/ph-test-tmpl-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_tmpl(dir, "good-1", good, sizeof(good) - 1);
    write_tmpl(dir, "broken", broken, sizeof(broken) - 1);
    write_tmpl(dir, "empty", "", 0);
    write_tmpl(dir, "nul", nul, sizeof(nul) - 1);

    app_error_clear(&err);
    ck_assert_int_eq(tmpl_load(dir, "good-1", &t, &err), APP_OK);
    ck_assert_str_eq(t.name, "good-1");
    ck_assert_str_eq(t.subject, "Hi {{n}}");
    ck_assert_str_eq(t.text, "T {{n}}\n");
    ck_assert_str_eq(t.html, "<p>{{n}}</p>\n");
    tmpl_free(&t);

    ck_assert_int_eq(tmpl_load(dir, "broken", &t, &err), APP_ECONFIG);
    ck_assert_ptr_null(t.subject);
    app_error_clear(&err);
    ck_assert_int_eq(tmpl_load(dir, "empty", &t, &err), APP_ECONFIG);
    app_error_clear(&err);
    ck_assert_int_eq(tmpl_load(dir, "nul", &t, &err), APP_ECONFIG);
    ck_assert_ptr_null(t.subject);

    remove_tmpl(dir, "good-1");
    remove_tmpl(dir, "broken");
    remove_tmpl(dir, "empty");
    remove_tmpl(dir, "nul");
    rmdir(dir);
}
END_TEST

/*
 * Regression (tmpl_load, fixed): a file over the 256 KiB ceiling returned APP_ETOOLARGE
 * (buf_append's code, a 413) while err->code says APP_ECONFIG ("larger than 262144 bytes"):
 * the code returned and the one in the error slot disagree.  Expected APP_ECONFIG for both,
 * like every other unusable template file.
 */
START_TEST(test_load_too_large)
{
    char dir[64], *big;
    size_t n = 300 * 1024;
    struct app_error err;
    struct tmpl t;
    int rc;

    snprintf(dir, sizeof(dir), "/tmp/ph-test-tmpl-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    memcpy(big, "subject: s\n--- text\n", 20);
    memcpy(big + n - 11, "\n--- html\nh", 11);
    write_tmpl(dir, "big", big, n);
    free(big);

    app_error_clear(&err);
    rc = tmpl_load(dir, "big", &t, &err);
    remove_tmpl(dir, "big");
    rmdir(dir);
    ck_assert_ptr_null(t.name);
    ck_assert_int_ne(rc, APP_OK);
    ck_assert_int_eq(err.code, APP_ECONFIG);
    ck_assert_msg(rc == err.code, "tmpl_load returned %d but set err->code %d (%s)", rc,
                  err.code, err.msg);
}
END_TEST

/* --- output ceiling ---------------------------------------------------------------------- */

/* Rendering src into a buffer of at most max bytes fails cleanly. */
static void
render_too_large(const char *src, const char *js, size_t max)
{
    struct json_object *vars = vars_of(js);
    struct app_error err;
    struct buf b;
    int rc;

    app_error_clear(&err);
    buf_init(&b, max);
    rc = tmpl_render(src, vars, TMPL_HTML, &b, &err);
    ck_assert_msg(rc != APP_OK, "\"%s\" fit in %zu bytes", src, max);
    ck_assert_int_eq(err.code, rc);
    ck_assert_uint_le(b.len, max);
    buf_free(&b);
    json_object_put(vars);
}

START_TEST(test_output_limit)
{
    char storage[16];
    struct json_object *vars;
    struct app_error err;
    struct buf b;
    char dir[PATH_MAX];
    struct tmpl t;
    int rc;

    render_too_large("literal text longer than the ceiling", "{}", 8);
    render_too_large("{{v}}", "{'v':'a value longer than the ceiling'}", 8);
    render_too_large("{{v}}", "{'v':'<<<<<<'}", 8);                /* escaping grows it */
    render_too_large("{{#a}}{{x}}{{/a}}", "{'a':[{'x':'12345'},{'x':'67890'}]}", 8);
    render_too_large("{{^a}}inverted text over it{{/a}}", "{}", 8);
    render_too_large("x", "{}", 0);

    /* Exactly at the ceiling fits. */
    vars = vars_of("{'v':'45678'}");
    app_error_clear(&err);
    buf_init(&b, 8);
    ck_assert_int_eq(tmpl_render("123{{v}}", vars, TMPL_TEXT, &b, &err), APP_OK);
    ck_assert_str_eq(b.data, "12345678");
    buf_free(&b);

    /* Caller's storage: never overrun. */
    memset(storage, 'Z', sizeof(storage));
    buf_init_fixed(&b, storage, 8);
    rc = tmpl_render("123{{v}}{{v}}", vars, TMPL_TEXT, &b, &err);
    ck_assert_int_ne(rc, APP_OK);
    ck_assert_int_eq(storage[8], 'Z');
    json_object_put(vars);

    /* A real template into a small buffer. */
    templates_dir(dir, sizeof(dir));
    app_error_clear(&err);
    ck_assert_int_eq(tmpl_load(dir, "team-created", &t, &err), APP_OK);
    vars = vars_of(realistic_vars);
    buf_init(&b, 256);
    rc = tmpl_render(t.html, vars, TMPL_HTML, &b, &err);
    ck_assert_int_ne(rc, APP_OK);
    ck_assert_int_eq(err.code, rc);
    ck_assert_uint_le(b.len, 256);
    buf_free(&b);
    json_object_put(vars);
    tmpl_free(&t);
}
END_TEST

static Suite *
template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("variables");

    tcase_add_test(tc, test_var_string);
    tcase_add_test(tc, test_var_numbers_and_bools);
    tcase_add_test(tc, test_var_prints_nothing);
    tcase_add_test(tc, test_var_html_escapes);
    tcase_add_test(tc, test_var_text_raw);
    tcase_add_test(tc, test_var_header_no_injection);
    tcase_add_test(tc, test_var_value_not_rescanned);
    tcase_add_test(tc, test_var_literal_braces);
    tcase_add_test(tc, test_render_appends);
    suite_add_tcase(s, tc);

    tc = tcase_create("sections");
    tcase_add_test(tc, test_section_array_of_objects);
    tcase_add_test(tc, test_section_doc_example);
    tcase_add_test(tc, test_section_nested_arrays);
    tcase_add_test(tc, test_section_truthy_once);
    tcase_add_test(tc, test_section_falsy_nothing);
    tcase_add_test(tc, test_section_inverted);
    tcase_add_test(tc, test_section_array_non_objects);
    tcase_add_test(tc, test_section_newlines_kept);
    tcase_add_test(tc, test_section_depth_limit);
    tcase_add_test(tc, test_render_unchecked_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_ok);
    tcase_add_test(tc, test_parse_edges);
    tcase_add_test(tc, test_parse_no_subject);
    tcase_add_test(tc, test_parse_separators);
    tcase_add_test(tc, test_parse_sections_unbalanced);
    tcase_add_test(tc, test_parse_bad_tags);
    tcase_add_test(tc, test_parse_long_name_ok);
    tcase_add_test(tc, test_parse_nul_byte);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_test(tc, test_load_every_template);
    tcase_add_test(tc, test_load_optional_values);
    tcase_add_test(tc, test_load_bad_names);
    tcase_add_test(tc, test_load_missing);
    tcase_add_test(tc, test_load_files);
    tcase_add_test(tc, test_load_too_large);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_output_limit);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(template_suite)
