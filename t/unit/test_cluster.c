/*
 * lib/cluster.c: the real sql/rules/clusters.json loaded, the worked examples of
 * docs/CAMPAIGNS.md (Personalised plans) assessed against it (the same table, so the docs and
 * the code agree), every invalid report and every refused rules file, and 10,000 random
 * reports checked against the documented algorithm.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <json-c/json.h>

#include "../../lib/buf.h"
#include "../../lib/cluster.h"
#include "../../lib/strparse.h"
#include "unit.h"

#define U CLUSTER_UNDEFINED
#define PATH_LEN 4096

#define PATH_LEN 4096

/* A file of the source tree: $PH_SRCDIR (make check exports it), else next to this file. */
static void
src_path(const char *rel, char out[PATH_LEN])
{
    const char *src = getenv("PH_SRCDIR");
    const char *slash = strrchr(__FILE__, '/');
    struct buf b;

    buf_init_fixed(&b, out, PATH_LEN);
    if (src && *src) {
        buf_printf(&b, "%s/%s", src, rel);
        if (access(out, R_OK) == 0)
            return;
    }
    buf_reset(&b);
    if (slash)
        buf_append(&b, __FILE__, (size_t)(slash - __FILE__ + 1));
    buf_printf(&b, "../../%s", rel);
    if (access(out, R_OK) == 0)
        return;
    buf_reset(&b);
    buf_puts(&b, rel);
    ck_assert_msg(access(out, R_OK) == 0, "%s not found (set PH_SRCDIR)", rel);
}

static struct cluster_rules *
real_rules(void)
{
    struct cluster_rules *r;
    char path[PATH_LEN], err[512];

    src_path("sql/rules/clusters.json", path);
    r = cluster_rules_load(path, err, sizeof(err));
    ck_assert_msg(r != 0, "%s", err);
    return r;
}

/* JSON written with ' for " so it stays readable in C. */
static struct json_object *
json_of(const char *js)
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

/*
 * A report written as the docs' table writes it: "Endodontics (C) 52/85/100; Physiology (T)
 * 27/50/50", each section its name, (C)linical or (T)heory, correct/answered/total.
 */
static struct json_object *
report_of(const char *text)
{
    struct json_object *a = json_object_new_array(), *o;
    char *s = strdup(text), *sec, *next, *paren;
    long c, an, t;
    char cat;

    ck_assert_ptr_nonnull(s);
    for (sec = s; sec; sec = next) {
        next = strchr(sec, ';');
        if (next)
            *next++ = '\0';
        while (*sec == ' ')
            sec++;
        paren = strstr(sec, " (");
        ck_assert_msg(paren && sscanf(paren, " (%c) %ld/%ld/%ld", &cat, &c, &an, &t) == 4,
                      "test bug: bad section \"%s\"", sec);
        *paren = '\0';
        o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(sec));
        json_object_object_add(o, "category",
                               json_object_new_string(cat == 'C' ? "clinical" : "theory"));
        json_object_object_add(o, "correct", json_object_new_int64(c));
        json_object_object_add(o, "answered", json_object_new_int64(an));
        json_object_object_add(o, "total", json_object_new_int64(t));
        json_object_array_add(a, o);
    }
    free(s);
    return a;
}

/*
 * The worked examples (passMark 60).  Metrics in basis points, rounded down; U: undefined.
 * "rule" is the index in the file's rules[] that matched; "weakest" the second reason.
 */
static const struct example {
    const char *report;
    int overall, clinical, theory, unanswered, accuracy;
    int rule, cluster;
    const char *reason;
    const char *weakest;
} examples[] = {
    /* 1: many unanswered, accurate on the rest */
    {"Restorative Dentistry (C) 24/30/40; Pharmacology (T) 26/32/40",
     6250, 6000, 6500, 2250, 8064, 0, 3,
     "You left 22.5% of the questions unanswered, but 80.6% of those you answered were correct "
     "(pass mark 60%): time, not knowledge, is costing you marks.",
     "Your weakest section was Restorative Dentistry (clinical): 24 of 40 correct (60%)."},
    /* 2: exactly 15% unanswered counts as many (no theory sections) */
    {"Endodontics (C) 52/85/100",
     5200, 5200, U, 1500, 6117, 0, 3,
     "You left 15% of the questions unanswered, but 61.1% of those you answered were correct "
     "(pass mark 60%): time, not knowledge, is costing you marks.",
     "Your weakest section was Endodontics (clinical): 52 of 100 correct (52%)."},
    /* 3: one more answered, 14% unanswered: a clinical gap (no theory sections) */
    {"Endodontics (C) 52/86/100",
     5200, 5200, U, 1400, 6046, 5, 1,
     "Your report has clinical sections only, and your clinical score of 52% is below the pass "
     "mark of 60%.",
     "Your weakest section was Endodontics (clinical): 52 of 100 correct (52%)."},
    /* 4: accuracy exactly at the pass mark, half unanswered; weakest: a tie, the first */
    {"Periodontics (C) 15/25/50; Oral Pathology (T) 15/25/50",
     3000, 3000, 3000, 5000, 6000, 0, 3,
     "You left 50% of the questions unanswered, but 60% of those you answered were correct "
     "(pass mark 60%): time, not knowledge, is costing you marks.",
     "Your weakest section was Periodontics (clinical): 15 of 50 correct (30%)."},
    /* 5: accuracy just below the pass mark: the low overall score decides */
    {"Periodontics (C) 15/25/50; Oral Pathology (T) 14/25/50",
     2900, 3000, 2800, 5000, 5800, 1, 4,
     "Your overall score of 29% is well below the pass mark of 60%: a full review of both "
     "clinical and theory areas gives you the best chance of passing.",
     "Your weakest section was Oral Pathology (theory): 14 of 50 correct (28%)."},
    /* 6: overall exactly 45 is not "well below"; theory exactly at the pass mark meets it */
    {"Prosthodontics (C) 15/50/50; Head and Neck Anatomy (T) 30/50/50",
     4500, 3000, 6000, 0, 4500, 2, 1,
     "Your clinical score of 30% is below the pass mark of 60% while your theory score of 60% "
     "meets it: the gap is in applying your knowledge to clinical cases.",
     "Your weakest section was Prosthodontics (clinical): 15 of 50 correct (30%)."},
    /* 7: one fewer correct, overall 44 */
    {"Prosthodontics (C) 14/50/50; Head and Neck Anatomy (T) 30/50/50",
     4400, 2800, 6000, 0, 4400, 1, 4,
     "Your overall score of 44% is well below the pass mark of 60%: a full review of both "
     "clinical and theory areas gives you the best chance of passing.",
     "Your weakest section was Prosthodontics (clinical): 14 of 50 correct (28%)."},
    /* 8: a clinical gap over several sections */
    {"Oral Surgery (C) 10/20/20; Paediatric Dentistry (C) 11/20/20; Pharmacology (T) 22/30/30; "
     "Dental Materials (T) 23/30/30",
     6600, 5250, 7500, 0, 6600, 2, 1,
     "Your clinical score of 52.5% is below the pass mark of 60% while your theory score of 75% "
     "meets it: the gap is in applying your knowledge to clinical cases.",
     "Your weakest section was Oral Surgery (clinical): 10 of 20 correct (50%)."},
    /* 9: a theory gap */
    {"Restorative Dentistry (C) 42/60/60; Oral Pathology (T) 20/40/40",
     6200, 7000, 5000, 0, 6200, 3, 2,
     "Your theory score of 50% is below the pass mark of 60% while your clinical score of 70% "
     "meets it: the gap is in the theory behind your clinical work.",
     "Your weakest section was Oral Pathology (theory): 20 of 40 correct (50%)."},
    /* 10: clinical exactly at the pass mark meets it */
    {"Endodontics (C) 30/50/50; Pharmacology (T) 25/50/50",
     5500, 6000, 5000, 0, 5500, 3, 2,
     "Your theory score of 50% is below the pass mark of 60% while your clinical score of 60% "
     "meets it: the gap is in the theory behind your clinical work.",
     "Your weakest section was Pharmacology (theory): 25 of 50 correct (50%)."},
    /* 11: both below the pass mark, overall above 45 */
    {"Periodontics (C) 11/20/20; Microbiology (T) 10/20/20",
     5250, 5500, 5000, 0, 5250, 4, 4,
     "Both your clinical score of 55% and your theory score of 50% are below the pass mark of "
     "60%: the plan reviews both areas in turn.",
     "Your weakest section was Microbiology (theory): 10 of 20 correct (50%)."},
    /* 12: no clinical sections, theory below the pass mark */
    {"Physiology (T) 27/50/50",
     5400, U, 5400, 0, 5400, 6, 2,
     "Your report has theory sections only, and your theory score of 54% is below the pass "
     "mark of 60%.",
     "Your weakest section was Physiology (theory): 27 of 50 correct (54%)."},
    /* 13: above the pass mark everywhere: the catch-all */
    {"Orthodontics (C) 40/50/50; Radiology (T) 30/40/40",
     7777, 8000, 7500, 0, 7777, 7, 3,
     "You scored 77.7% overall and met the pass mark of 60% in every area: the plan sharpens "
     "your pace and exam technique so you keep that margin on exam day.",
     "Your weakest section was Radiology (theory): 30 of 40 correct (75%)."},
    /* 14: clinical sections only, above the pass mark, a few unanswered */
    {"Oral Medicine (C) 45/48/50",
     9000, 9000, U, 400, 9375, 7, 3,
     "You scored 90% overall and met the pass mark of 60% in every area: the plan sharpens "
     "your pace and exam technique so you keep that margin on exam day.",
     "Your weakest section was Oral Medicine (clinical): 45 of 50 correct (90%)."},
    /* 15: nothing answered: accuracy is undefined, so the time rule cannot match */
    {"Endodontics (C) 0/0/50; Pharmacology (T) 0/0/50",
     0, 0, 0, 10000, U, 1, 4,
     "Your overall score of 0% is well below the pass mark of 60%: a full review of both "
     "clinical and theory areas gives you the best chance of passing.",
     "Your weakest section was Endodontics (clinical): 0 of 50 correct (0%)."},
};

#define NEXAMPLES (sizeof(examples) / sizeof(examples[0]))

START_TEST(test_worked_examples)
{
    struct cluster_rules *r = real_rules();
    const struct example *e = &examples[_i];
    struct json_object *rep = report_of(e->report);
    struct cluster_result res;
    char err[256];

    ck_assert_int_eq(cluster_pass_mark(r), 60);
    ck_assert_msg(cluster_assess(r, rep, &res, err, sizeof(err)) == 0, "%s: %s", e->report,
                  err);
    ck_assert_int_eq(res.m.overall_bp, e->overall);
    ck_assert_int_eq(res.m.clinical_bp, e->clinical);
    ck_assert_int_eq(res.m.theory_bp, e->theory);
    ck_assert_int_eq(res.m.unanswered_bp, e->unanswered);
    ck_assert_int_eq(res.m.accuracy_bp, e->accuracy);
    ck_assert_msg(res.rule == e->rule && res.cluster == e->cluster,
                  "example %d: rule %d cluster %d, expected rule %d cluster %d", _i + 1,
                  res.rule, res.cluster, e->rule, e->cluster);
    ck_assert_str_eq(res.reasons[0], e->reason);
    ck_assert_str_eq(res.reasons[1], e->weakest);
    ck_assert_str_eq(res.name, cluster_name(r, e->cluster));
    ck_assert_str_eq(res.description, cluster_description(r, e->cluster));
    ck_assert_str_eq(res.plan_id, cluster_plan_id(r, e->cluster));
    ck_assert_int_eq(res.pass_mark, 60);
    json_object_put(rep);
    cluster_rules_free(r);
}
END_TEST

START_TEST(test_examples_cover_every_cluster_and_rule)
{
    struct cluster_rules *r = real_rules();
    int clusters[CLUSTER_COUNT + 1] = { 0 }, rules[64] = { 0 };
    size_t i;

    for (i = 0; i < NEXAMPLES; i++) {
        clusters[examples[i].cluster]++;
        rules[examples[i].rule]++;
    }
    for (i = 1; i <= CLUSTER_COUNT; i++)
        ck_assert_msg(clusters[i] > 0, "no worked example for cluster %zu", i);
    for (i = 0; i < cluster_rule_count(r); i++)
        ck_assert_msg(rules[i] > 0, "no worked example for rules[%zu]", i);
    ck_assert_uint_ge(NEXAMPLES, 12);
    cluster_rules_free(r);
}
END_TEST

START_TEST(test_result_json)
{
    struct cluster_rules *r = real_rules();
    struct json_object *rep = report_of(examples[1].report), *j, *m, *w, *reasons;
    struct cluster_result res;
    char err[256];

    ck_assert_int_eq(cluster_assess(r, rep, &res, err, sizeof(err)), 0);
    j = cluster_result_json(&res);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(j, "cluster")), 3);
    ck_assert_str_eq(unit_json_str(j, "planId"), "cluster-3");
    ck_assert_str_eq(unit_json_str(j, "name"), "Time Management");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(j, "rule")), 0);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(j, "passMark")), 60);
    m = json_object_object_get(j, "metrics");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(m, "overallBp")), 5200);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(m, "accuracyBp")), 6117);
    ck_assert(json_object_object_get_ex(m, "theoryBp", &w));
    ck_assert_ptr_null(w);                  /* undefined: null */
    w = json_object_object_get(j, "weakestSection");
    ck_assert_str_eq(unit_json_str(w, "name"), "Endodontics");
    ck_assert_str_eq(unit_json_str(w, "category"), "clinical");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(w, "scoreBp")), 5200);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(
        json_object_object_get(j, "questions"), "answered")), 85);
    reasons = json_object_object_get(j, "reasons");
    ck_assert_uint_eq(json_object_array_length(reasons), 2);
    ck_assert_str_eq(unit_json_str(json_object_array_get_idx(reasons, 0), "text"),
                     examples[1].reason);
    json_object_put(j);
    json_object_put(rep);
    cluster_rules_free(r);
}
END_TEST

START_TEST(test_format_pct)
{
    static const struct {
        int bp;
        const char *text;
    } t[] = {
        {0, "0%"}, {5250, "52.5%"}, {6000, "60%"}, {5999, "59.9%"}, {6009, "60%"},
        {6010, "60.1%"}, {10000, "100%"}, {7777, "77.7%"}, {U, "n/a"},
    };
    char out[16];
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        cluster_format_pct(t[i].bp, out, sizeof(out));
        ck_assert_str_eq(out, t[i].text);
    }
}
END_TEST

/* Rounding down keeps a displayed metric on the side of the threshold it is really on. */
START_TEST(test_exact_integer_comparison)
{
    struct cluster_rules *r = real_rules();
    struct json_object *rep;
    struct cluster_result res;
    char err[256];

    /* 599/1000 clinical = 59.9%, theory 100%: below the pass mark, shown as 59.9% */
    rep = report_of("Endodontics (C) 599/1000/1000; Radiology (T) 10/10/10");
    ck_assert_int_eq(cluster_assess(r, rep, &res, err, sizeof(err)), 0);
    ck_assert_int_eq(res.cluster, 1);
    ck_assert_int_eq(res.m.clinical_bp, 5990);
    json_object_put(rep);
    /* 2/3 theory = 66.66..%: shown as 66.6%, at or above 60 */
    rep = report_of("Endodontics (C) 30/30/30; Physiology (T) 2/3/3");
    ck_assert_int_eq(cluster_assess(r, rep, &res, err, sizeof(err)), 0);
    ck_assert_int_eq(res.cluster, 3);
    ck_assert_int_eq(res.m.theory_bp, 6666);
    json_object_put(rep);
    /* 149/1000 unanswered (14.9%), accurate: not the time rule */
    rep = report_of("Endodontics (C) 851/851/1000");
    ck_assert_int_eq(cluster_assess(r, rep, &res, err, sizeof(err)), 0);
    ck_assert_int_eq(res.m.unanswered_bp, 1490);
    ck_assert_int_eq(res.rule, 7);
    json_object_put(rep);
    cluster_rules_free(r);
}
END_TEST

START_TEST(test_invalid_reports)
{
    static const struct {
        const char *json;
        const char *err;
    } bad[] = {
        {"{}", "sections: must be a list"},
        {"[]", "sections: must have 1 to 30 entries"},
        {"[1]", "sections[0]: must be an object"},
        {"[{'category':'clinical','correct':1,'answered':1,'total':1}]",
         "sections[0].name: is required"},
        {"[{'name':'','category':'clinical','correct':1,'answered':1,'total':1}]",
         "sections[0].name: must not be blank"},
        {"[{'name':'A\\nB','category':'clinical','correct':1,'answered':1,'total':1}]",
         "sections[0].name: must be UTF-8 text without control characters"},
        {"[{'name':'A\\ud800','category':'clinical','correct':1,'answered':1,'total':1}]",
         "sections[0].name: must be UTF-8 text without control characters"},
        {"[{'name':'A','category':'clinical','correct':1,'answered':1,'total':1,'x':1}]",
         "sections[0].x: is not a known field"},
        {"[{'name':7,'category':'clinical','correct':1,'answered':1,'total':1}]",
         "sections[0].name: must be a string"},
        {"[{'name':'A','category':'practical','correct':1,'answered':1,'total':1}]",
         "sections[0].category: must be \"clinical\" or \"theory\""},
        {"[{'name':'A','correct':1,'answered':1,'total':1}]",
         "sections[0].category: is required"},
        {"[{'name':'A','category':'theory','correct':-1,'answered':1,'total':1}]",
         "sections[0].correct: must be from 0 to 1000"},
        {"[{'name':'A','category':'theory','correct':1,'answered':1,'total':0}]",
         "sections[0].total: must be from 1 to 1000"},
        {"[{'name':'A','category':'theory','correct':1,'answered':1,'total':1001}]",
         "sections[0].total: must be from 1 to 1000"},
        {"[{'name':'A','category':'theory','correct':1,'answered':-1,'total':1}]",
         "sections[0].answered: must be from 0 to 1000"},
        {"[{'name':'A','category':'theory','correct':'5','answered':5,'total':5}]",
         "sections[0].correct: must be a whole number"},
        {"[{'name':'A','category':'theory','correct':5,'answered':5.0,'total':5}]",
         "sections[0].answered: must be a whole number"},
        {"[{'name':'A','category':'theory','correct':5,'answered':5,'total':true}]",
         "sections[0].total: must be a whole number"},
        {"[{'name':'A','category':'theory','correct':5,'answered':5}]",
         "sections[0].total: is required"},
        {"[{'name':'A','category':'theory','correct':5,'answered':5,'total':null}]",
         "sections[0].total: is required"},
        {"[{'name':'A','category':'theory','correct':1,'answered':6,'total':5}]",
         "sections[0].answered: must not exceed total"},
        {"[{'name':'A','category':'clinical','correct':1,'answered':1,'total':5},"
         "{'name':'B','category':'theory','correct':1,'answered':1,'total':5},"
         "{'name':'C','category':'theory','correct':4,'answered':3,'total':5}]",
         "sections[2].correct: must not exceed answered"},
        {"[{'name':'A','category':'theory','correct':99999999999999999999,'answered':1,"
         "'total':1}]", "sections[0].correct: must be from 0 to 1000"},
    };
    struct cluster_rules *r = real_rules();
    struct json_object *j, *o;
    struct cluster_result res;
    char err[256], name[128];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_of(bad[i].json);
        ck_assert_msg(cluster_assess(r, j, &res, err, sizeof(err)) == -1, "accepted %s",
                      bad[i].json);
        ck_assert_str_eq(err, bad[i].err);
        ck_assert_int_eq(res.cluster, 0);
        json_object_put(j);
    }
    /* 31 sections, and a name of 101 bytes */
    j = json_object_new_array();
    for (i = 0; i < CLUSTER_MAX_SECTIONS + 1; i++)
        json_object_array_add(j, json_of("{'name':'A','category':'theory','correct':1,"
                                         "'answered':1,'total':1}"));
    ck_assert_int_eq(cluster_assess(r, j, &res, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "sections: must have 1 to 30 entries");
    json_object_array_del_idx(j, 0, 1);
    ck_assert_int_eq(cluster_assess(r, j, &res, err, sizeof(err)), 0);
    memset(name, 'x', sizeof(name));
    name[CLUSTER_NAME_MAX + 1] = '\0';
    o = json_object_array_get_idx(j, 29);
    json_object_object_add(o, "name", json_object_new_string(name));
    ck_assert_int_eq(cluster_assess(r, j, &res, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "sections[29].name: is too long (at most 100 bytes)");
    name[CLUSTER_NAME_MAX] = '\0';
    json_object_object_add(o, "name", json_object_new_string(name));
    ck_assert_int_eq(cluster_assess(r, j, &res, err, sizeof(err)), 0);
    json_object_put(j);
    ck_assert_int_eq(cluster_assess(r, NULL, &res, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "sections: must be a list");
    cluster_rules_free(r);
}
END_TEST

/* --- the loader ------------------------------------------------------------------------ */

/* A cluster entry with a roadmap of four single weeks. */
static const char *const good_clusters[CLUSTER_COUNT] = {
    "{'id':1,'name':'One','planId':'cluster-1','description':'D1.','roadmap':["
    "{'week':'1','focus':'F','activities':'A'},{'week':'2','focus':'F','activities':'A'},"
    "{'week':'3','focus':'F','activities':'A'},{'week':'4-6','focus':'F','activities':'A'}]}",
    "{'id':2,'name':'Two','planId':'cluster-2','description':'D2.','roadmap':["
    "{'week':'1','focus':'F','activities':'A'},{'week':'2','focus':'F','activities':'A'},"
    "{'week':'3','focus':'F','activities':'A'},{'week':'4','focus':'F','activities':'A'}]}",
    "{'id':3,'name':'Three','planId':'cluster-3','description':'D3.','roadmap':["
    "{'week':'1','focus':'F','activities':'A'},{'week':'2','focus':'F','activities':'A'},"
    "{'week':'3','focus':'F','activities':'A'},{'week':'4','focus':'F','activities':'A'}]}",
    "{'id':4,'name':'Four','planId':'cluster-4','description':'D4.','roadmap':["
    "{'week':'1','focus':'F','activities':'A'},{'week':'2','focus':'F','activities':'A'},"
    "{'week':'3','focus':'F','activities':'A'},{'week':'4','focus':'F','activities':'A'}]}",
};

#define CATCH_ALL "{'cluster':4,'when':{},'reason':'Anything else: {overall}.'}"

/*
 * A rules document: top is the members before "clusters" (e.g. "'passMark':60,"), c1..c4
 * the clusters (NULL: the good one), rules the list.  The caller frees it.
 */
static char *
doc(const char *top, const char *c1, const char *c2, const char *c3, const char *c4,
    const char *rules)
{
    size_t n = strlen(top) + strlen(rules) + 8192;
    char *s = malloc(n), *p;

    ck_assert_ptr_nonnull(s);
    snprintf(s, n, "{%s'clusters':[%s,%s,%s,%s],'rules':%s}", top,
             c1 ? c1 : good_clusters[0], c2 ? c2 : good_clusters[1],
             c3 ? c3 : good_clusters[2], c4 ? c4 : good_clusters[3], rules);
    for (p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static void
expect_refused(char *text, const char *why)
{
    struct cluster_rules *r;
    char err[512];

    r = cluster_rules_parse(text, err, sizeof(err));
    ck_assert_msg(!r, "accepted %s", text);
    ck_assert_msg(strncmp(err, why, strlen(why)) == 0, "refused with \"%s\", expected \"%s\"",
                  err, why);
    free(text);
}

START_TEST(test_loader_accepts_minimal)
{
    char *text = doc("'x-note':'comments are x- keys','passMark':50,", NULL, NULL, NULL, NULL,
                     "[{'x-why':'w','cluster':1,'when':{'theoryMinPct':0},"
                     "'reason':'Theory {theory}.'}," CATCH_ALL "]");
    struct json_object *rep = report_of("A (T) 1/2/4"), *map;
    struct cluster_result res;
    struct cluster_rules *r;
    char err[512];

    r = cluster_rules_parse(text, err, sizeof(err));
    ck_assert_msg(r != 0, "%s", err);
    ck_assert_int_eq(cluster_pass_mark(r), 50);
    ck_assert_uint_eq(cluster_rule_count(r), 2);
    ck_assert_ptr_null(cluster_name(r, 0));
    ck_assert_ptr_null(cluster_name(r, 5));
    ck_assert_ptr_null(cluster_roadmap_json(r, 5));
    /* theoryMinPct 0 holds exactly when there are theory sections */
    ck_assert_int_eq(cluster_assess(r, rep, &res, err, sizeof(err)), 0);
    ck_assert_int_eq(res.cluster, 1);
    ck_assert_str_eq(res.reasons[0], "Theory 25%.");
    json_object_put(rep);
    rep = report_of("A (C) 1/2/4");
    ck_assert_int_eq(cluster_assess(r, rep, &res, err, sizeof(err)), 0);
    ck_assert_int_eq(res.cluster, 4);
    ck_assert_int_eq(res.rule, 1);
    ck_assert_str_eq(res.reasons[0], "Anything else: 25%.");
    json_object_put(rep);
    map = cluster_roadmap_json(r, 1);
    ck_assert_uint_eq(json_object_array_length(map), 4);
    ck_assert_str_eq(unit_json_str(json_object_array_get_idx(map, 3), "week"), "4-6");
    json_object_put(map);
    cluster_rules_free(r);
    free(text);
}
END_TEST

START_TEST(test_loader_refuses_bad_json)
{
    expect_refused(strdup(""), "not valid JSON at line 1, column 1: unexpected end of input");
    expect_refused(strdup("{\"passMark\": 60,\n  \"clusters\": [}"),
                   "not valid JSON at line 2, column 16");
    expect_refused(doc("'passMark':60,", NULL, NULL, NULL, NULL, "[" CATCH_ALL "]} x"),
                   "not valid JSON at line 1, column ");
    expect_refused(strdup("[]"), "the rules must be a JSON object");
}
END_TEST

START_TEST(test_loader_refuses_each_mistake)
{
    static const struct {
        const char *top, *c1, *c3, *rules, *why;
    } t[] = {
        /* the rules */
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'overallMinPct':50},'reason':'r'}]",
         "rules[0].when: the last rule must be a catch-all ({})"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{},'reason':'r'}," CATCH_ALL "]",
         "rules[0].when: only the last rule may be a catch-all"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'clinicalMaxPc':60},'reason':'r'}," CATCH_ALL "]",
         "rules[0].when.clinicalMaxPc: unknown condition"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'overallMaxPct':101},'reason':'r'}," CATCH_ALL "]",
         "rules[0].when.overallMaxPct: 101 is not in 0..100"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'overallMinPct':-1},'reason':'r'}," CATCH_ALL "]",
         "rules[0].when.overallMinPct: -1 is not in 0..100"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'overallMinPct':'60'},'reason':'r'}," CATCH_ALL "]",
         "rules[0].when.overallMinPct: must be a whole number 0..100 or \"passMark\""},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'overallMinPct':60.5},'reason':'r'}," CATCH_ALL "]",
         "rules[0].when.overallMinPct: must be a whole number"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'overallMaxPct':0},'reason':'r'}," CATCH_ALL "]",
         "rules[0].when.overallMaxPct: below 0% can never hold"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'theoryMinPct':'passMark','theoryMaxPct':50},'reason':'r'},"
         CATCH_ALL "]", "rules[0].when: theoryMinPct 60 and theoryMaxPct 50 can never both"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':5,'when':{},'reason':'r'}]", "rules[0].cluster: 5 is not in 1..4"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':'1','when':{},'reason':'r'}]", "rules[0].cluster: must be a whole number"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'reason':'r'}]", "rules[0].when: an object of conditions is required"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{}}]", "rules[0].reason: is required"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{},'reason':'r','then':2}]", "rules[0]: unknown key \"then\""},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{},'reason':'Score {overal}.'}]",
         "rules[0].reason: unknown placeholder at \"{overal}.\""},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{},'reason':'Score {clinical}.'}]",
         "rules[0].reason: {clinical} needs a condition on clinical (clinicalMinPct or "
         "clinicalMaxPct)"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{'overallMinPct':1},'reason':'{accuracy}'}," CATCH_ALL "]",
         "rules[0].reason: {accuracy} needs a condition on accuracy"},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{},'reason':'a } b'}]", "rules[0].reason: \"}\" without \"{\""},
        {"'passMark':60,", NULL, NULL,
         "[{'cluster':1,'when':{},'reason':'line\\nbreak'}]",
         "rules[0].reason: must not contain control characters"},
        {"'passMark':60,", NULL, NULL, "[]", "rules: has 0 rules, not 1 to 32"},
        {"'passMark':60,", NULL, NULL, "{}", "rules: a list of 1 to 32 rules is required"},
        /* the top level */
        {"", NULL, NULL, "[" CATCH_ALL "]", "passMark: is required"},
        {"'passMark':0,", NULL, NULL, "[" CATCH_ALL "]", "passMark: 0 is not in 1..100"},
        {"'passMark':101,", NULL, NULL, "[" CATCH_ALL "]", "passMark: 101 is not in 1..100"},
        {"'passMark':60,'passmark':60,", NULL, NULL, "[" CATCH_ALL "]",
         "rules file: unknown key \"passmark\""},
        /* the clusters */
        {"'passMark':60,", NULL,
         "{'id':2,'name':'Two','planId':'cluster-2','description':'D','roadmap':[]}",
         "[" CATCH_ALL "]", "clusters[2].id: cluster 2 appears twice"},
        {"'passMark':60,", NULL,
         "{'id':0,'name':'Two','planId':'cluster-2','description':'D','roadmap':[]}",
         "[" CATCH_ALL "]", "clusters[2].id: 0 is not in 1..4"},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-3','description':'D',"
         "'roadmap':[]}", NULL, "[" CATCH_ALL "]",
         "clusters[0].planId: must be \"cluster-1\" for cluster 1"},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-1','roadmap':[]}", NULL,
         "[" CATCH_ALL "]", "clusters[0].description: is required"},
        {"'passMark':60,", "{'id':1,'name':' ','planId':'cluster-1','description':'D',"
         "'roadmap':[]}", NULL, "[" CATCH_ALL "]", "clusters[0].name: must not be blank"},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-1','description':'D',"
         "'price':1,'roadmap':[]}", NULL, "[" CATCH_ALL "]",
         "clusters[0]: unknown key \"price\""},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-1','description':'D',"
         "'roadmap':[{'week':'1','focus':'F','activities':'A'},"
         "{'week':'2','focus':'F','activities':'A'},{'week':'3','focus':'F','activities':'A'}]}",
         NULL, "[" CATCH_ALL "]", "clusters[0].roadmap: has 3 entries, not 4 to 8"},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-1','description':'D',"
         "'roadmap':[{'week':'1','focus':'F','activities':'A'},"
         "{'week':'3','focus':'F','activities':'A'},{'week':'4','focus':'F','activities':'A'},"
         "{'week':'5','focus':'F','activities':'A'}]}", NULL, "[" CATCH_ALL "]",
         "clusters[0].roadmap[1].week: \"3\" must start at week 2"},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-1','description':'D',"
         "'roadmap':[{'week':'1-2','focus':'F','activities':'A'},"
         "{'week':'Week 3','focus':'F','activities':'A'},"
         "{'week':'4','focus':'F','activities':'A'},{'week':'5','focus':'F','activities':'A'}]}",
         NULL, "[" CATCH_ALL "]",
         "clusters[0].roadmap[1].week: \"Week 3\" is not a week"},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-1','description':'D',"
         "'roadmap':[{'week':'2-1','focus':'F','activities':'A'},"
         "{'week':'3','focus':'F','activities':'A'},"
         "{'week':'4','focus':'F','activities':'A'},{'week':'5','focus':'F','activities':'A'}]}",
         NULL, "[" CATCH_ALL "]", "clusters[0].roadmap[0].week: \"2-1\" is not a week"},
        {"'passMark':60,", "{'id':1,'name':'One','planId':'cluster-1','description':'D',"
         "'roadmap':[{'week':'1','focus':'F'},"
         "{'week':'2','focus':'F','activities':'A'},"
         "{'week':'3','focus':'F','activities':'A'},{'week':'4','focus':'F','activities':'A'}]}",
         NULL, "[" CATCH_ALL "]", "clusters[0].roadmap[0].activities: is required"},
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        expect_refused(doc(t[i].top, t[i].c1, NULL, t[i].c3, NULL, t[i].rules), t[i].why);
    }
}
END_TEST

START_TEST(test_loader_file_errors)
{
    struct cluster_rules *r;
    char err[512], path[] = "/tmp/test_cluster_XXXXXX";
    const char *text = "{\"passMark\": 60}";
    int fd;

    r = cluster_rules_load("/nonexistent/clusters.json", err, sizeof(err));
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err, "/nonexistent/clusters.json: cannot open");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    r = cluster_rules_load(path, err, sizeof(err));
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err, ": clusters: a list of exactly 4 clusters is required") != 0,
                  "%s", err);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s", err);
    unlink(path);
}
END_TEST

/* The rules file and the catalogue agree: plan ids, names, roadmaps within the access. */
START_TEST(test_rules_match_catalogue)
{
    struct cluster_rules *r = real_rules();
    struct json_object *cat, *plans, *p, *map;
    char path[PATH_LEN], want[160];
    const char *week, *dash;
    long months, last;
    size_t i, n;
    int id, found;

    src_path("sql/seed/catalogue.json", path);
    cat = json_object_from_file(path);
    ck_assert_msg(cat != 0, "cannot read %s", path);
    ck_assert(json_object_object_get_ex(cat, "items", &plans));
    for (id = 1; id <= CLUSTER_COUNT; id++) {
        n = json_object_array_length(plans);
        for (i = 0, found = 0; i < n && !found; i++) {
            p = json_object_array_get_idx(plans, i);
            found = unit_json_str(p, "planId") &&
                    strcmp(unit_json_str(p, "planId"), cluster_plan_id(r, id)) == 0;
        }
        ck_assert_msg(found, "%s is not in the catalogue", cluster_plan_id(r, id));
        snprintf(want, sizeof(want), "Cluster %d - %s", id, cluster_name(r, id));
        ck_assert_str_eq(unit_json_str(p, "name"), want);
        ck_assert_str_eq(unit_json_str(p, "campaignId"), "personalized-plan");
        months = (long)json_object_get_int64(json_object_object_get(p, "durationMonths"));
        map = cluster_roadmap_json(r, id);
        week = unit_json_str(json_object_array_get_idx(map, json_object_array_length(map) - 1),
                             "week");
        dash = strchr(week, '-');
        ck_assert_int_eq(str_to_long(dash ? dash + 1 : week, 1, 104, &last), 0);
        ck_assert_msg(last <= months * 52 / 12 && last > months * 52 / 12 - 4,
                      "cluster %d: the roadmap ends in week %ld, the plan lasts %ld months", id,
                      last, months);
        json_object_put(map);
    }
    json_object_put(cat);
    cluster_rules_free(r);
}
END_TEST

/* --- random reports -------------------------------------------------------------------- */

static uint64_t
next_rand(uint64_t *s)
{
    /* xorshift64*: the same sequence on every libc */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static long
below(uint64_t *s, long n)
{
    return (long)(next_rand(s) % (uint64_t)n);
}

/* The documented algorithm, written out with the report's sums (pm: the pass mark). */
static int
oracle(const struct cluster_metrics *m, int pm)
{
    int has_c = m->clinical_total > 0, has_t = m->theory_total > 0;
    int c_below = has_c && m->clinical_correct * 100 < (long)pm * m->clinical_total;
    int t_below = has_t && m->theory_correct * 100 < (long)pm * m->theory_total;

    if ((m->total - m->answered) * 100 >= 15 * m->total && m->answered > 0 &&
        m->correct * 100 >= (long)pm * m->answered)
        return 3;
    if (m->correct * 100 < 45 * m->total)
        return 4;
    if (has_c && has_t) {
        if (c_below && t_below)
            return 4;
        if (c_below)
            return 1;
        if (t_below)
            return 2;
        return 3;
    }
    if (c_below)
        return 1;
    if (t_below)
        return 2;
    return 3;
}

START_TEST(test_random_reports)
{
    struct cluster_rules *r = real_rules();
    struct cluster_result a, b;
    struct json_object *rep, *o, *ja, *jb;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int seen[CLUSTER_COUNT + 1] = { 0 }, iter, mix;
    long n, i, total, answered, correct, max;
    char err[256], name[24];

    for (iter = 0; iter < 10000; iter++) {
        rep = json_object_new_array();
        n = 1 + (below(&seed, 4) == 0 ? below(&seed, CLUSTER_MAX_SECTIONS) : below(&seed, 6));
        mix = (int)below(&seed, 3);     /* 0: both categories, 1: clinical only, 2: theory */
        max = below(&seed, 3) == 0 ? CLUSTER_MAX_QUESTIONS : 20;   /* small: many ties */
        for (i = 0; i < n; i++) {
            total = 1 + below(&seed, max);
            answered = below(&seed, 2) ? total : below(&seed, total + 1);
            correct = below(&seed, answered + 1);
            snprintf(name, sizeof(name), "S%ld", i);
            o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(name));
            json_object_object_add(o, "category", json_object_new_string(
                mix == 1 || (mix == 0 && below(&seed, 2)) ? "clinical" : "theory"));
            json_object_object_add(o, "correct", json_object_new_int64(correct));
            json_object_object_add(o, "answered", json_object_new_int64(answered));
            json_object_object_add(o, "total", json_object_new_int64(total));
            json_object_array_add(rep, o);
        }
        ck_assert_msg(cluster_assess(r, rep, &a, err, sizeof(err)) == 0, "%s: %s",
                      json_object_to_json_string(rep), err);
        ck_assert_int_eq(cluster_assess(r, rep, &b, err, sizeof(err)), 0);
        ck_assert_msg(a.cluster >= 1 && a.cluster <= CLUSTER_COUNT, "cluster %d", a.cluster);
        ck_assert_msg(a.cluster == oracle(&a.m, 60), "%s: cluster %d (rule %d), expected %d",
                      json_object_to_json_string(rep), a.cluster, a.rule, oracle(&a.m, 60));
        ck_assert_uint_lt((size_t)a.rule, cluster_rule_count(r));
        ck_assert(a.m.overall_bp >= 0 && a.m.overall_bp <= 10000);
        ck_assert(a.weakest >= 0 && a.weakest < n);
        ck_assert_msg(!strchr(a.reasons[0], '{') && a.reasons[0][0], "%s", a.reasons[0]);
        ck_assert_msg(!strstr(a.reasons[0], "n/a"), "%s", a.reasons[0]);
        /* deterministic: the same report gives the same answer, to the byte */
        ja = cluster_result_json(&a);
        jb = cluster_result_json(&b);
        ck_assert_str_eq(json_object_to_json_string(ja), json_object_to_json_string(jb));
        ck_assert_int_eq(a.cluster, b.cluster);
        ck_assert_str_eq(a.reasons[1], b.reasons[1]);
        seen[a.cluster]++;
        json_object_put(ja);
        json_object_put(jb);
        json_object_put(rep);
    }
    for (iter = 1; iter <= CLUSTER_COUNT; iter++)
        ck_assert_msg(seen[iter] > 100, "cluster %d seen %d times", iter, seen[iter]);
    cluster_rules_free(r);
}
END_TEST

static Suite *
cluster_suite(void)
{
    Suite *s = suite_create("cluster");
    TCase *tc = tcase_create("rules");

    tcase_add_loop_test(tc, test_worked_examples, 0, (int)NEXAMPLES);
    tcase_add_test(tc, test_examples_cover_every_cluster_and_rule);
    tcase_add_test(tc, test_result_json);
    tcase_add_test(tc, test_format_pct);
    tcase_add_test(tc, test_exact_integer_comparison);
    tcase_add_test(tc, test_invalid_reports);
    tcase_add_test(tc, test_loader_accepts_minimal);
    tcase_add_test(tc, test_loader_refuses_bad_json);
    tcase_add_test(tc, test_loader_refuses_each_mistake);
    tcase_add_test(tc, test_loader_file_errors);
    tcase_add_test(tc, test_rules_match_catalogue);
    tcase_add_test(tc, test_random_reports);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cluster_suite)
