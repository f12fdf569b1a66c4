/*
 * The assessment of a score report against the cluster rules (cluster.h): the sections read
 * and checked, the metrics, the first rule that holds, and the answer.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "cluster_int.h"
#include "strparse.h"

/* --- assessment ------------------------------------------------------------------------ */

/* num / den of metric m; den 0 when it is undefined. */
static void
metric_parts(const struct cluster_metrics *s, enum metric m, long *num, long *den)
{
    switch (m) {
    case M_UNANSWERED:
        *num = s->total - s->answered;
        *den = s->total;
        break;
    case M_ACCURACY:
        *num = s->correct;
        *den = s->answered;
        break;
    case M_OVERALL:
        *num = s->correct;
        *den = s->total;
        break;
    case M_CLINICAL:
        *num = s->clinical_correct;
        *den = s->clinical_total;
        break;
    case M_THEORY:
    default:
        *num = s->theory_correct;
        *den = s->theory_total;
        break;
    }
}

/* num / den in basis points, rounded down; CLUSTER_UNDEFINED when den is 0. */
static int
bp_of(long num, long den)
{
    return den > 0 ? (int)((long long)num * 10000 / den) : CLUSTER_UNDEFINED;
}

static int
metric_bp(const struct cluster_metrics *s, enum metric m)
{
    long num, den;

    metric_parts(s, m, &num, &den);
    return bp_of(num, den);
}

/* Exact: num / den >= pct / 100 is num * 100 >= pct * den. */
static int
cond_holds(const struct cluster_metrics *s, const struct cond *c)
{
    long num, den;
    long long lhs, rhs;

    metric_parts(s, c->metric, &num, &den);
    if (den <= 0)
        return 0;
    lhs = (long long)num * 100;
    rhs = (long long)c->pct * den;
    return c->min ? lhs >= rhs : lhs < rhs;
}

static int
section_int(struct json_object *s, size_t i, const char *k, long lo, long hi, long *out,
            char *err, size_t errlen)
{
    struct json_object *v;
    long long n;

    if (!json_object_object_get_ex(s, k, &v) || json_object_is_type(v, json_type_null))
        return cluster_fail(err, errlen, "sections[%zu].%s: is required", i, k);
    if (!json_object_is_type(v, json_type_int))
        return cluster_fail(err, errlen, "sections[%zu].%s: must be a whole number", i, k);
    n = json_object_get_int64(v);
    if (n < lo || n > hi)
        return cluster_fail(err, errlen, "sections[%zu].%s: must be from %ld to %ld", i, k, lo, hi);
    *out = (long)n;
    return 0;
}

static int
read_section(struct json_object *s, size_t i, struct cluster_section *out, char *err,
             size_t errlen)
{
    struct json_object *v;
    const char *str;
    size_t n;

    memset(out, 0, sizeof(*out));
    static const char *const keys[] = {"name", "category", "total", "answered", "correct",
                                       NULL};

    if (!json_object_is_type(s, json_type_object))
        return cluster_fail(err, errlen, "sections[%zu]: must be an object", i);
    json_object_object_foreach(s, k, kv) {
        size_t j;

        (void)kv;
        for (j = 0; keys[j] && strcmp(keys[j], k) != 0; j++)
            ;
        if (keys[j])
            continue;
        if (strlen(k) > 40 || !str_text_ok(k, strlen(k), 0))
            return cluster_fail(err, errlen,
                                "sections[%zu]: has a member whose name is not a short "
                                "UTF-8 text", i);
        return cluster_fail(err, errlen, "sections[%zu].%s: is not a known field", i, k);
    }
    if (!json_object_object_get_ex(s, "name", &v) || json_object_is_type(v, json_type_null))
        return cluster_fail(err, errlen, "sections[%zu].name: is required", i);
    if (!json_object_is_type(v, json_type_string))
        return cluster_fail(err, errlen, "sections[%zu].name: must be a string", i);
    str = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (n > CLUSTER_NAME_MAX)
        return cluster_fail(err, errlen, "sections[%zu].name: is too long (at most %d bytes)", i,
                            CLUSTER_NAME_MAX);
    if (strspn(str, " ") == n)
        return cluster_fail(err, errlen, "sections[%zu].name: must not be blank", i);
    if (!str_text_ok(str, n, 0))
        return cluster_fail(err, errlen, "sections[%zu].name: must be UTF-8 text without control "
                            "characters", i);
    memcpy(out->name, str, n + 1);
    if (!json_object_object_get_ex(s, "category", &v) || json_object_is_type(v, json_type_null))
        return cluster_fail(err, errlen, "sections[%zu].category: is required", i);
    str = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    if (strcmp(str, "clinical") == 0)
        out->clinical = 1;
    else if (strcmp(str, "theory") != 0)
        return cluster_fail(err, errlen,
                            "sections[%zu].category: must be \"clinical\" or \"theory\"",
                            i);
    if (section_int(s, i, "total", 1, CLUSTER_MAX_QUESTIONS, &out->total, err, errlen) != 0 ||
        section_int(s, i, "answered", 0, CLUSTER_MAX_QUESTIONS, &out->answered, err,
                    errlen) != 0 ||
        section_int(s, i, "correct", 0, CLUSTER_MAX_QUESTIONS, &out->correct, err,
                    errlen) != 0)
        return -1;
    if (out->answered > out->total)
        return cluster_fail(err, errlen, "sections[%zu].answered: must not exceed total", i);
    if (out->correct > out->answered)
        return cluster_fail(err, errlen, "sections[%zu].correct: must not exceed answered", i);
    out->score_bp = bp_of(out->correct, out->total);
    return 0;
}

/* The rule's reason with each placeholder replaced by its value ("52.5%"). */
static void
fill_reason(const char *tmpl, const struct cluster_metrics *s, int pass_mark, char *out,
            size_t n)
{
    struct buf b;
    char v[16];
    const char *p;
    size_t len;
    int m;

    buf_init_fixed(&b, out, n);
    for (p = tmpl; *p; p++) {
        m = *p == '{' ? cluster_placeholder_at(p, &len) : -1;
        if (m < 0) {
            buf_append(&b, p, 1);
            continue;
        }
        if (m == M_COUNT)
            cluster_format_pct(pass_mark * 100, v, sizeof(v));
        else
            cluster_format_pct(metric_bp(s, (enum metric)m), v, sizeof(v));
        buf_puts(&b, v);
        p += len - 1;
    }
}

int
cluster_assess(const struct cluster_rules *r, struct json_object *sections,
               struct cluster_result *out, char *err, size_t errlen)
{
    struct cluster_metrics *s = &out->m;
    struct cluster_section sec;
    const struct cluster *cl;
    const struct rule *ru = NULL;
    size_t i, j, n;
    char pct[16];

    memset(out, 0, sizeof(*out));
    err[0] = '\0';
    if (!json_object_is_type(sections, json_type_array))
        return cluster_fail(err, errlen, "sections: must be a list");
    n = json_object_array_length(sections);
    if (n < 1 || n > CLUSTER_MAX_SECTIONS)
        return cluster_fail(err, errlen,
                            "sections: must have 1 to %d entries", CLUSTER_MAX_SECTIONS);
    for (i = 0; i < n; i++) {
        if (read_section(json_object_array_get_idx(sections, i), i, &sec, err, errlen) != 0) {
            memset(out, 0, sizeof(*out));
            return -1;
        }
        s->correct += sec.correct;
        s->answered += sec.answered;
        s->total += sec.total;
        if (sec.clinical) {
            s->clinical_correct += sec.correct;
            s->clinical_total += sec.total;
        } else {
            s->theory_correct += sec.correct;
            s->theory_total += sec.total;
        }
        /* Lowest correct / total, compared exactly; a tie keeps the first. */
        if (i == 0 || sec.correct * out->weakest_section.total <
                      out->weakest_section.correct * sec.total) {
            out->weakest = (int)i;
            out->weakest_section = sec;
        }
    }
    s->overall_bp = metric_bp(s, M_OVERALL);
    s->clinical_bp = metric_bp(s, M_CLINICAL);
    s->theory_bp = metric_bp(s, M_THEORY);
    s->unanswered_bp = metric_bp(s, M_UNANSWERED);
    s->accuracy_bp = metric_bp(s, M_ACCURACY);

    for (i = 0; i < r->nrules && !ru; i++) {
        for (j = 0; j < r->rules[i].nconds; j++)
            if (!cond_holds(s, &r->rules[i].conds[j]))
                break;
        if (j == r->rules[i].nconds) {
            ru = &r->rules[i];
            out->rule = (int)i;
        }
    }
    /* The loader insists on a catch-all last, so a rule always matches. */
    if (!ru)
        abort();
    out->cluster = ru->cluster;
    out->pass_mark = r->pass_mark;
    cl = &r->clusters[ru->cluster - 1];
    snprintf(out->name, sizeof(out->name), "%s", cl->name);
    snprintf(out->plan_id, sizeof(out->plan_id), "%s", cl->plan_id);
    snprintf(out->description, sizeof(out->description), "%s", cl->description);
    fill_reason(ru->reason, s, r->pass_mark, out->reasons[0], sizeof(out->reasons[0]));
    cluster_format_pct(out->weakest_section.score_bp, pct, sizeof(pct));
    snprintf(out->reasons[1], sizeof(out->reasons[1]), "Your weakest section was %s (%s): "
             "%ld of %ld correct (%s).", out->weakest_section.name,
             out->weakest_section.clinical ? "clinical" : "theory",
             out->weakest_section.correct, out->weakest_section.total, pct);
    return 0;
}

static struct json_object *
bp_json(int bp)
{
    return bp < 0 ? NULL : json_object_new_int(bp);
}

struct json_object *
cluster_result_json(const struct cluster_result *res)
{
    struct json_object *o = json_object_new_object(), *x, *l;
    const struct cluster_section *w = &res->weakest_section;
    size_t i;

    json_object_object_add(o, "cluster", json_object_new_int(res->cluster));
    json_object_object_add(o, "planId", json_object_new_string(res->plan_id));
    json_object_object_add(o, "name", json_object_new_string(res->name));
    json_object_object_add(o, "description", json_object_new_string(res->description));
    json_object_object_add(o, "rule", json_object_new_int(res->rule));
    json_object_object_add(o, "passMark", json_object_new_int(res->pass_mark));
    x = json_object_new_object();
    json_object_object_add(x, "overallBp", bp_json(res->m.overall_bp));
    json_object_object_add(x, "clinicalBp", bp_json(res->m.clinical_bp));
    json_object_object_add(x, "theoryBp", bp_json(res->m.theory_bp));
    json_object_object_add(x, "unansweredBp", bp_json(res->m.unanswered_bp));
    json_object_object_add(x, "accuracyBp", bp_json(res->m.accuracy_bp));
    json_object_object_add(o, "metrics", x);
    x = json_object_new_object();
    json_object_object_add(x, "total", json_object_new_int64(res->m.total));
    json_object_object_add(x, "answered", json_object_new_int64(res->m.answered));
    json_object_object_add(x, "correct", json_object_new_int64(res->m.correct));
    json_object_object_add(o, "questions", x);
    x = json_object_new_object();
    json_object_object_add(x, "index", json_object_new_int(res->weakest));
    json_object_object_add(x, "name", json_object_new_string(w->name));
    json_object_object_add(x, "category",
                           json_object_new_string(w->clinical ? "clinical" : "theory"));
    json_object_object_add(x, "correct", json_object_new_int64(w->correct));
    json_object_object_add(x, "answered", json_object_new_int64(w->answered));
    json_object_object_add(x, "total", json_object_new_int64(w->total));
    json_object_object_add(x, "scoreBp", json_object_new_int(w->score_bp));
    json_object_object_add(o, "weakestSection", x);
    l = json_object_new_array();
    for (i = 0; i < 2; i++) {
        x = json_object_new_object();
        json_object_object_add(x, "text", json_object_new_string(res->reasons[i]));
        json_object_array_add(l, x);
    }
    json_object_object_add(o, "reasons", l);
    return o;
}

struct json_object *
cluster_roadmap_json(const struct cluster_rules *r, int id)
{
    const struct cluster *cl;
    struct json_object *l, *x;
    size_t i;

    if (id < 1 || id > CLUSTER_COUNT)
        return NULL;
    cl = &r->clusters[id - 1];
    l = json_object_new_array();
    for (i = 0; i < cl->nroadmap; i++) {
        x = json_object_new_object();
        json_object_object_add(x, "week", json_object_new_string(cl->roadmap[i].week));
        json_object_object_add(x, "focus", json_object_new_string(cl->roadmap[i].focus));
        json_object_object_add(x, "activities",
                               json_object_new_string(cl->roadmap[i].activities));
        json_object_array_add(l, x);
    }
    return l;
}
