/*
 * Every template under lib/templates/ reads well whatever was optional: rendered with each
 * optional variable absent (the key missing, then empty), one at a time and all together,
 * and with everything present.  One row of cases[] per template: which variables the code
 * may leave empty (docs/EMAIL.md), what the email says with them and what it says without.
 */
#include "config.h"

#include <ctype.h>
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

#define MAX_OPT 6
#define MAX_WANT 6

/* An optional variable: "name", or "list.field" for a field of every element of list. */
struct opt {
    const char *name;
    const char *mark;          /* text that shows only with the value */
};

struct optcase {
    const char *tmpl;
    struct opt opt[MAX_OPT];
    const char *subject_full;
    const char *subject_bare;  /* with every optional variable absent */
    const char *full[MAX_WANT];        /* in the text and the html part, everything set */
    const char *bare[MAX_WANT];        /* in both parts, every optional variable absent */
};

static const struct optcase cases[] = {
    {"purchase-confirmation",
     {{"customerName", "Ana Silva"}, {"planName", "Cluster 2 Premium"},
      {"couponCode", "SAVE20"}},
     "Your ProDentHub purchase is confirmed: Cluster 2 Premium",
     "Your ProDentHub purchase is confirmed",
     {"Hi Ana Silva,", "Cluster 2 Premium", "SAVE20", "A$59.80", "A$239.20"},
     {"Hi there,", "A$239.20", "pur_7c2d9e"}},
    {"payment-failed",
     {{"customerName", "Ana Silva"}, {"planName", "Cluster 2 Premium"},
      {"reason", "Card declined by issuer"}},
     "Your payment for Cluster 2 Premium did not go through",
     "Your payment did not go through",
     {"Hi Ana Silva,", "Cluster 2 Premium", "Card declined by issuer", "A$149.00"},
     {"Hi there,", "A$149.00", "https://prodenthub.com.au/retry/pur_7c2d9e"}},
    {"team-created",
     {{"leaderName", "Lena Ortiz"}, {"planName", "Cluster 2 Premium"},
      {"members.name", "Priya Patel"}},
     "Your ProDentHub team is set up: shares due by Wed 9 Dec 2026",
     "Your ProDentHub team is set up: shares due by Wed 9 Dec 2026",
     {"Hi Lena Ortiz,", "Cluster 2 Premium", "Priya Patel", "priya@example.com"},
     {"Hi there,", "priya@example.com", "lee@example.com", "A$299.00"}},
    {"team-invitation",
     {{"memberName", "Maya Chen"}, {"leaderName", "Lena Ortiz"},
      {"planName", "Cluster 2 Premium"}},
     "Lena Ortiz has invited you to a ProDentHub team",
     "You are invited to a ProDentHub team",
     {"Hi Maya Chen,", "Lena Ortiz has invited you to join their ProDentHub team.",
      "Cluster 2 Premium", "because Lena Ortiz added you"},
     {"Hi there,", "You have been invited to join a ProDentHub team.",
      "because a team leader added you", "A$299.00"}},
    {"team-activated",
     {{"memberName", "Maya Chen"}, {"leaderName", "Lena Ortiz"},
      {"planName", "Cluster 2 Premium"}},
     "Your ProDentHub team is complete: access is active",
     "Your ProDentHub team is complete: access is active",
     {"Hi Maya Chen,", "members of Lena Ortiz's team", "Cluster 2 Premium",
      "because Lena Ortiz added you"},
     {"Hi there,", "members of your team", "your access is now active.",
      "because a team leader added you"}},
    {"scholarship-approved",
     {{"applicantName", "Abe Moss"}, {"planName", "Cluster 2 Premium"}},
     "Your ProDentHub scholarship is approved",
     "Your ProDentHub scholarship is approved",
     {"Hi Abe Moss,", "Cluster 2 Premium", "A$29.00", "Thu 9 Dec 2027"},
     {"Hi there,", "A$29.00", "Thu 9 Dec 2027"}},
    {"plan-activated",
     {{"customerName", "Ana Silva"}, {"planName", "Cluster 2 Premium"},
      {"clusterName", "Clinical Knowledge Gap"}, {"clusterDescription", "multi-step cases"},
      {"roadmap", "Diagnosis"}},
     "Your personalised ProDentHub study plan is active",
     "Your personalised ProDentHub study plan is active",
     {"Hi Ana Silva,", "Cluster 2 Premium", "Clinical Knowledge Gap", "multi-step cases",
      "Diagnosis", "Weeks 1-2"},
     {"Hi there,", "Your personalised plan is now active.",
      "Your week-by-week roadmap is on your plan page.", "Thu 9 Dec 2027"}},
    {"mock-registration",
     {{"candidateName", "Cara Diaz"}, {"examTitle", "ADC Written Mock 1"},
      {"amountPaid", "A$29.00"}},
     "You are registered: ADC Written Mock 1 on Wed 9 Dec 2026",
     "You are registered: ProDentHub mock exam on Wed 9 Dec 2026",
     {"Hi Cara Diaz,", "ADC Written Mock 1", "A$29.00", "reg_5511"},
     {"Hi there,", "the mock exam", "reg_5511", "10:00 AEDT"}},
    {"mock-reminder",
     {{"candidateName", "Cara Diaz"}, {"examTitle", "ADC Written Mock 1"}},
     "Reminder: ADC Written Mock 1 is tomorrow at 10:00 AEDT",
     "Reminder: your mock exam is tomorrow at 10:00 AEDT",
     {"Hi Cara Diaz,", "ADC Written Mock 1", "Wed 9 Dec 2026"},
     {"Hi there,", "your mock exam", "Wed 9 Dec 2026"}},
    {"mock-results",
     {{"candidateName", "Cara Diaz"}, {"examTitle", "ADC Written Mock 1"},
      {"sections", "Ethics and law"}, {"cohortMedian", "Median score"},
      {"passRate", "Pass rate"}},
     "Your results: ADC Written Mock 1",
     "Your results: ProDentHub mock exam",
     {"Hi Cara Diaz,", "ADC Written Mock 1", "Ethics and law", "64.2%"},
     {"Hi there,", "your mock exam", "Your full report shows your score in each section.",
      "71.5%"}},
    {"dispute-alert",
     {{"amount", "A$149.00"}, {"reason", "fraudulent"}, {"chargeId", "ch_3Nx"}},
     "[ProDentHub] Dispute opened: A$149.00 on purchase pur_7c2d9e",
     "[ProDentHub] Dispute opened on purchase pur_7c2d9e",
     {"A$149.00", "fraudulent", "ch_3Nx", "dp_1Nx", "pi_3Nx"},
     {"purchase pur_7c2d9e", "dp_1Nx", "pi_3Nx"}},
    {"payment-alert",
     {{"amount", "A$149.00"}, {"expected", "A$199.00"}, {"reason", "paid twice"}},
     "[ProDentHub] Payment refunded: A$149.00 on purchase pur_7c2d9e",
     "[ProDentHub] Payment refunded on purchase pur_7c2d9e",
     {"A$149.00", "A$199.00", "paid twice", "pi_3Nx"},
     {"purchase pur_7c2d9e", "pi_3Nx", "refunded in full"}},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Every variable of every template, with distinct values; ' stands for ". */
static const char all_vars[] =
    "{'brandName':'ProDentHub','frontendUrl':'https://prodenthub.com.au',"
    "'supportEmail':'support@prodenthub.com.au','recipientName':'Ana Silva','year':'2026',"
    "'customerName':'Ana Silva','leaderName':'Lena Ortiz','memberName':'Maya Chen',"
    "'candidateName':'Cara Diaz','applicantName':'Abe Moss','planName':'Cluster 2 Premium',"
    "'teamId':'team_8f3k2q','memberCount':3,'totalAmount':'A$897.00',"
    "'shareAmount':'A$299.00','members':["
    "{'name':'Priya Patel','email':'priya@example.com','shareAmount':'A$299.00'},"
    "{'name':'Lee Wong','email':'lee@example.com','shareAmount':'A$299.00'}],"
    "'teamUrl':'https://prodenthub.com.au/teams/team_8f3k2q','payBy':'Wed 9 Dec 2026',"
    "'payUrl':'https://prodenthub.com.au/pay/team_8f3k2q','scholarshipId':'sch_91ab',"
    "'percentage':40,'price':'A$179.40','fullPrice':'A$299.00',"
    "'reasons':[{'text':'Final-year student'}],'amountPaid':'A$29.00',"
    "'accessFrom':'Wed 9 Dec 2026','accessUntil':'Thu 9 Dec 2027',"
    "'loginUrl':'https://prodenthub.com.au/login','originalAmount':'A$299.00',"
    "'discountAmount':'A$59.80','finalAmount':'A$239.20','couponCode':'SAVE20',"
    "'purchaseId':'pur_7c2d9e','clusterName':'Clinical Knowledge Gap',"
    "'clusterDescription':'Good recall, weaker on multi-step cases.',"
    "'roadmap':[{'week':'1-2','focus':'Diagnosis','activities':'Two case sets a day.'}],"
    "'examTitle':'ADC Written Mock 1','examDate':'Wed 9 Dec 2026','examTime':'10:00 AEDT',"
    "'durationMinutes':180,'tier':'Premium','registrationId':'reg_5511',"
    "'accessUrl':'https://prodenthub.com.au/mock/reg_5511','score':71.5,'passed':true,"
    "'percentile':85,'cohortSize':214,'cohortMean':64.2,'cohortMedian':65,'passRate':58.5,"
    "'sections':[{'name':'Ethics and law','score':68,'cohortMean':62}],"
    "'reportUrl':'https://prodenthub.com.au/reports/reg_5511','amount':'A$149.00',"
    "'reason':'Card declined by issuer','retryUrl':'https://prodenthub.com.au/retry/pur_7c2d9e',"
    "'recordType':'purchase','recordId':'pur_7c2d9e','paymentIntentId':'pi_3Nx',"
    "'chargeId':'ch_3Nx','disputeId':'dp_1Nx','expected':'A$199.00',"
    "'dashboardUrl':'https://dashboard.stripe.com/disputes/dp_1Nx'}";

static struct json_object *
full_vars(const struct optcase *c)
{
    char *s = strdup(all_vars), *p;
    struct json_object *v;

    ck_assert_ptr_nonnull(s);
    for (p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    v = json_tokener_parse(s);
    free(s);
    ck_assert_ptr_nonnull(v);
    /* In the dispute alert, "reason" is Stripe's dispute reason. */
    if (strcmp(c->tmpl, "dispute-alert") == 0)
        json_object_object_add(v, "reason", json_object_new_string("fraudulent"));
    if (strcmp(c->tmpl, "payment-alert") == 0)
        json_object_object_add(v, "reason", json_object_new_string("paid twice"));
    return v;
}

/* Make o's key absent: removed (how = 0) or empty (how = 1: "" or an empty list). */
static void
absent(struct json_object *o, const char *key, int how)
{
    struct json_object *old = NULL;

    if (!how) {
        json_object_object_del(o, key);
        return;
    }
    json_object_object_get_ex(o, key, &old);
    json_object_object_add(o, key, json_object_is_type(old, json_type_array) ?
                           json_object_new_array() : json_object_new_string(""));
}

/* The same for an optional variable: a name, or list.field in every element. */
static void
drop(struct json_object *vars, const char *name, int how)
{
    const char *dot = strchr(name, '.');
    struct json_object *list = NULL;
    char key[64];
    size_t i;

    if (!dot) {
        absent(vars, name, how);
        return;
    }
    snprintf(key, sizeof(key), "%.*s", (int)(dot - name), name);
    ck_assert_msg(json_object_object_get_ex(vars, key, &list), "test bug: no %s", key);
    for (i = 0; i < json_object_array_length(list); i++)
        absent(json_object_array_get_idx(list, i), dot + 1, how);
}

/* lib/templates in the source tree, as test_template.c finds it. */
static const char *
templates_dir(char *out, size_t n)
{
    const char *src = getenv("PH_SRCDIR");
    const char *slash = strrchr(__FILE__, '/');
    char probe[PATH_MAX + 32];

    if (src && *src)
        snprintf(out, n, "%s/lib/templates", src);
    else if (slash)
        snprintf(out, n, "%.*s/../../lib/templates", (int)(slash - __FILE__), __FILE__);
    else
        snprintf(out, n, "lib/templates");
    snprintf(probe, sizeof(probe), "%s/team-created.tmpl", out);
    if (access(probe, R_OK) != 0)
        snprintf(out, n, "lib/templates");
    return out;
}

static char *
render(const char *what, const char *src, struct json_object *vars, enum tmpl_mode mode)
{
    struct app_error err;
    struct buf b;
    char *s;

    app_error_clear(&err);
    buf_init(&b, 1 << 20);
    ck_assert_msg(tmpl_render(src, vars, mode, &b, &err) == APP_OK, "%s: %s", what, err.msg);
    s = strdup(b.data ? b.data : "");
    ck_assert_ptr_nonnull(s);
    buf_free(&b);
    return s;
}

/*
 * The html part as the reader sees it: tags dropped, a line break for each block end or
 * <br>, so a value missing from a sentence shows as it would in a mail client.
 */
static char *
html_text(const char *h)
{
    static const char *const breaks[] = {"<br", "</p", "</td", "</th", "</div", "</h1", "</h2",
                                         "</tr", "</table", "<title"};
    char *out = malloc(strlen(h) + 1), *o = out;
    size_t i;

    ck_assert_ptr_nonnull(out);
    while (*h) {
        if (*h != '<') {
            *o++ = *h++;
            continue;
        }
        for (i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++)
            if (strncmp(h, breaks[i], strlen(breaks[i])) == 0)
                *o++ = '\n';
        while (*h && *h != '>')
            h++;
        if (*h)
            h++;
    }
    *o = '\0';
    return out;
}

/* What no rendering may hold, part by part and line by line. */
static void
check_reads_well(const char *what, const char *s)
{
    static const char *const never[] = {"{{", "}}", "Hi ,", " ,", " .", " ;", " :", " )",
                                        "()", "[]", "<>", " 's", "''"};
    const char *line = s, *eol, *p;
    char buf[512];
    size_t i, n;
    int alnum;

    for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
        ck_assert_msg(!strstr(s, never[i]), "%s has \"%s\": ...%.60s", what, never[i],
                      strstr(s, never[i]));
    for (; *line; line = *eol ? eol + 1 : eol) {
        eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        n = (size_t)(eol - line);
        snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
        ck_assert_msg(n == 0 || line[n - 1] != ' ', "%s: a line ends in a space: \"%s\"",
                      what, buf);
        /* Two spaces inside a line only align a column after "Label:". */
        for (p = line + strspn(line, " "); p + 1 < eol; p++)
            ck_assert_msg(!(p[0] != ' ' && p[0] != ':' && p[1] == ' ' && p + 2 < eol &&
                            p[2] == ' '), "%s: doubled space in \"%s\"", what, buf);
        for (alnum = 0, p = line; p < eol && !alnum; p++)
            alnum = isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80;
        ck_assert_msg(alnum || strspn(line, " ") == n || strcmp(buf, "--") == 0,
                      "%s: a line of punctuation only: \"%s\"", what, buf);
    }
}

/* The html part has no empty cell or emphasis a missing value would leave. */
static void
check_no_empty_elements(const char *what, const char *h)
{
    static const char *const tags[] = {"<td", "<strong", "<p ", "<span", "<h1", "<h2"};
    const char *p, *gt;
    size_t i;

    for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        for (p = strstr(h, tags[i]); p; p = strstr(p + 1, tags[i])) {
            gt = strchr(p, '>');
            ck_assert_ptr_nonnull(gt);
            ck_assert_msg(strncmp(gt + 1, "</", 2) != 0, "%s: empty element: %.80s", what, p);
        }
}

/* A subject is one line, trimmed, and does not end on a dangling word. */
static void
check_subject(const char *what, const char *s)
{
    static const char *const dangling[] = {" on", " for", " at", " to", " of", " in", " a",
                                           " the", " your", " and", " by", ":", ",", "-"};
    size_t n = strlen(s), i, k;

    ck_assert_msg(n > 10, "%s: subject too short: \"%s\"", what, s);
    ck_assert_msg(s[0] != ' ' && s[n - 1] != ' ', "%s: subject not trimmed: \"%s\"", what, s);
    ck_assert_msg(!strstr(s, "  "), "%s: doubled space in the subject \"%s\"", what, s);
    ck_assert_msg(!strpbrk(s, "\r\n"), "%s: subject has CR or LF", what);
    for (i = 0; i < sizeof(dangling) / sizeof(dangling[0]); i++) {
        k = strlen(dangling[i]);
        ck_assert_msg(n < k || strcmp(s + n - k, dangling[i]) != 0,
                      "%s: subject ends in \"%s\": \"%s\"", what, dangling[i], s);
    }
    check_reads_well(what, s);
}

/* The three rendered parts of one template. */
struct parts {
    char *subject, *text, *html, *seen;
};

static void
render_all(const struct tmpl *t, struct json_object *vars, const char *what, struct parts *o)
{
    char w[160];

    snprintf(w, sizeof(w), "%s subject", what);
    o->subject = render(w, t->subject, vars, TMPL_HEADER);
    check_subject(w, o->subject);
    snprintf(w, sizeof(w), "%s text", what);
    o->text = render(w, t->text, vars, TMPL_TEXT);
    check_reads_well(w, o->text);
    snprintf(w, sizeof(w), "%s html", what);
    o->html = render(w, t->html, vars, TMPL_HTML);
    check_no_empty_elements(w, o->html);
    o->seen = html_text(o->html);
    snprintf(w, sizeof(w), "%s html as read", what);
    check_reads_well(w, o->seen);
}

static void
parts_free(struct parts *o)
{
    free(o->subject);
    free(o->text);
    free(o->html);
    free(o->seen);
}

/* want[] is in the text part and in the html part. */
static void
check_has(const char *what, const struct parts *o, const char *const *want)
{
    size_t i;

    for (i = 0; i < MAX_WANT && want[i]; i++) {
        ck_assert_msg(strstr(o->text, want[i]), "%s text lacks \"%s\"", what, want[i]);
        ck_assert_msg(strstr(o->seen, want[i]), "%s html lacks \"%s\"", what, want[i]);
    }
}

static void
load(const struct optcase *c, struct tmpl *t)
{
    char dir[PATH_MAX];
    struct app_error err;

    app_error_clear(&err);
    templates_dir(dir, sizeof(dir));
    ck_assert_msg(tmpl_load(dir, c->tmpl, t, &err) == APP_OK, "%s: %s", c->tmpl, err.msg);
}

/* Everything set: the expected subject and text, and every optional value shows. */
START_TEST(test_all_present)
{
    const struct optcase *c = &cases[_i];
    struct json_object *vars = full_vars(c);
    struct parts o;
    struct tmpl t;
    size_t k;

    load(c, &t);
    render_all(&t, vars, c->tmpl, &o);
    ck_assert_str_eq(o.subject, c->subject_full);
    check_has(c->tmpl, &o, c->full);
    for (k = 0; k < MAX_OPT && c->opt[k].name; k++)
        ck_assert_msg(strstr(o.text, c->opt[k].mark) && strstr(o.seen, c->opt[k].mark),
                      "%s: \"%s\" does not show %s", c->tmpl, c->opt[k].mark, c->opt[k].name);
    parts_free(&o);
    json_object_put(vars);
    tmpl_free(&t);
}
END_TEST

/* Each optional variable missing, then empty, alone: its value is gone, the rest reads. */
START_TEST(test_each_absent)
{
    const struct optcase *c = &cases[_i];
    struct json_object *vars;
    char what[160];
    struct parts o;
    struct tmpl t;
    size_t k;
    int how;

    load(c, &t);
    for (k = 0; k < MAX_OPT && c->opt[k].name; k++) {
        for (how = 0; how < 2; how++) {
            vars = full_vars(c);
            drop(vars, c->opt[k].name, how);
            snprintf(what, sizeof(what), "%s without %s (%s)", c->tmpl, c->opt[k].name,
                     how ? "empty" : "missing");
            render_all(&t, vars, what, &o);
            ck_assert_msg(!strstr(o.subject, c->opt[k].mark) && !strstr(o.text, c->opt[k].mark)
                          && !strstr(o.html, c->opt[k].mark), "%s still shows \"%s\"", what,
                          c->opt[k].mark);
            parts_free(&o);
            json_object_put(vars);
        }
    }
    tmpl_free(&t);
}
END_TEST

/* Every optional variable absent at once: the bare subject and wording. */
START_TEST(test_all_absent)
{
    const struct optcase *c = &cases[_i];
    struct json_object *vars;
    char what[160];
    struct parts o;
    struct tmpl t;
    size_t k;
    int how;

    load(c, &t);
    for (how = 0; how < 2; how++) {
        vars = full_vars(c);
        for (k = 0; k < MAX_OPT && c->opt[k].name; k++)
            drop(vars, c->opt[k].name, how);
        snprintf(what, sizeof(what), "%s, every optional value %s", c->tmpl,
                 how ? "empty" : "missing");
        render_all(&t, vars, what, &o);
        ck_assert_str_eq(o.subject, c->subject_bare);
        check_has(what, &o, c->bare);
        for (k = 0; k < MAX_OPT && c->opt[k].name; k++)
            ck_assert_msg(!strstr(o.text, c->opt[k].mark) && !strstr(o.html, c->opt[k].mark),
                          "%s still shows \"%s\"", what, c->opt[k].mark);
        parts_free(&o);
        json_object_put(vars);
    }
    tmpl_free(&t);
}
END_TEST

/* The table covers every template in lib/templates, and only those. */
START_TEST(test_every_template_has_a_case)
{
    char dir[PATH_MAX], path[PATH_MAX + 80];
    struct dirent *e;
    size_t i, n = 0, len;
    DIR *d;

    templates_dir(dir, sizeof(dir));
    for (i = 0; i < NCASES; i++) {
        snprintf(path, sizeof(path), "%s/%s.tmpl", dir, cases[i].tmpl);
        ck_assert_msg(access(path, R_OK) == 0, "%s: no such template", path);
    }
    d = opendir(dir);
    ck_assert_msg(d != 0, "cannot open %s", dir);
    for (;;) {
        e = readdir(d);
        if (!e)
            break;
        len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".tmpl") == 0 && e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    ck_assert_msg(n == NCASES, "%zu templates but %zu cases", n, (size_t)NCASES);
}
END_TEST

static Suite *
optional_suite(void)
{
    Suite *s = suite_create("templates_optional");
    TCase *tc = tcase_create("optional");

    tcase_add_test(tc, test_every_template_has_a_case);
    tcase_add_loop_test(tc, test_all_present, 0, (int)NCASES);
    tcase_add_loop_test(tc, test_each_absent, 0, (int)NCASES);
    tcase_add_loop_test(tc, test_all_absent, 0, (int)NCASES);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(optional_suite)
