/*
 * Study-plan clusters: loading the rules (every value checked, unknown keys refused so a
 * typo cannot pass silently; keys starting "x-" are comments) and reading them (cluster.h).
 * The assessment of a score report is lib/cluster_assess.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "cluster_int.h"
#include "errors.h"
#include "mem.h"
#include "strparse.h"

const char *const cluster_metric_names[M_COUNT] = {
    "unanswered", "accuracy", "overall", "clinical", "theory",
};

int
cluster_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Refuse a member of o not in keys[] (NULL-terminated); "x-..." members are comments. */
static int
only_keys(struct json_object *o, const char *where, const char *const *keys, char *err,
          size_t errlen)
{
    size_t i;
    int found;

    json_object_object_foreach(o, k, v) {
        (void)v;
        if (strncmp(k, "x-", 2) == 0)
            continue;
        for (i = 0, found = 0; keys[i] && !found; i++)
            found = strcmp(keys[i], k) == 0;
        if (!found)
            return cluster_fail(err, errlen, "%s: unknown key \"%s\"", where, k);
    }
    return 0;
}

/* 1 if s holds a control character (CR, LF, tab...): text must stay on one line. */
static int
has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    }
    return 0;
}

/* A string member of o of 1..max bytes, one line, not blank, copied into *out. */
static int
get_text(struct json_object *o, const char *k, const char *where, size_t max, char **out,
         char *err, size_t errlen)
{
    struct json_object *v;
    const char *s;
    size_t n;

    if (!json_object_object_get_ex(o, k, &v))
        return cluster_fail(err, errlen, "%s.%s: is required", where, k);
    if (!json_object_is_type(v, json_type_string))
        return cluster_fail(err, errlen, "%s.%s: must be a string", where, k);
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (n > max)
        return cluster_fail(err, errlen, "%s.%s: is longer than %zu bytes", where, k, max);
    if (strspn(s, " ") == n)
        return cluster_fail(err, errlen, "%s.%s: must not be blank", where, k);
    if (strlen(s) != n || has_control(s))
        return cluster_fail(err, errlen, "%s.%s: must not contain control characters", where, k);
    *out = xstrdup(s);
    return 0;
}

/* An integer member of o in [lo, hi]. */
static int
get_int(struct json_object *o, const char *k, const char *where, int lo, int hi, int *out,
        char *err, size_t errlen)
{
    struct json_object *v;
    long long n;

    if (!json_object_object_get_ex(o, k, &v))
        return cluster_fail(err, errlen, "%s%s%s: is required", where, *where ? "." : "", k);
    if (!json_object_is_type(v, json_type_int))
        return cluster_fail(err, errlen,
                            "%s%s%s: must be a whole number", where, *where ? "." : "", k);
    n = json_object_get_int64(v);
    if (n < lo || n > hi)
        return cluster_fail(err, errlen,
                            "%s%s%s: %lld is not in %d..%d", where, *where ? "." : "", k,
                            n, lo, hi);
    *out = (int)n;
    return 0;
}

/* "3" or "3-5" into first and last, 1 <= first <= last <= MAX_WEEK; -1 if malformed. */
static int
parse_weeks(const char *s, long *first, long *last)
{
    const char *dash = strchr(s, '-');
    char a[8], b[8];
    size_t n = dash ? (size_t)(dash - s) : strlen(s);

    if (n == 0 || n >= sizeof(a) || (dash && strlen(dash + 1) >= sizeof(b)))
        return -1;
    memcpy(a, s, n);
    a[n] = '\0';
    snprintf(b, sizeof(b), "%s", dash ? dash + 1 : a);
    /* str_to_long takes a sign; weeks are plain digits. */
    if (a[0] < '0' || a[0] > '9' || b[0] < '0' || b[0] > '9')
        return -1;
    if (str_to_long(a, 1, MAX_WEEK, first) != 0 || str_to_long(b, 1, MAX_WEEK, last) != 0)
        return -1;
    return *first <= *last ? 0 : -1;
}

static int
parse_cluster(struct cluster_rules *r, struct json_object *c, size_t i, int *seen, char *err,
              size_t errlen)
{
    static const char *const keys[] = {
        "id", "name", "planId", "description", "roadmap", NULL,
    };
    static const char *const week_keys[] = { "week", "focus", "activities", NULL };
    struct json_object *v, *w;
    struct cluster *cl;
    char where[64], wwhere[96], plan[16];
    long first, last, next = 1;
    size_t j, n;
    int id;

    snprintf(where, sizeof(where), "clusters[%zu]", i);
    if (!json_object_is_type(c, json_type_object))
        return cluster_fail(err, errlen, "%s: must be an object", where);
    if (only_keys(c, where, keys, err, errlen) != 0 ||
        get_int(c, "id", where, 1, CLUSTER_COUNT, &id, err, errlen) != 0)
        return -1;
    if (seen[id - 1])
        return cluster_fail(err, errlen, "%s.id: cluster %d appears twice", where, id);
    seen[id - 1] = 1;
    cl = &r->clusters[id - 1];
    snprintf(plan, sizeof(plan), "cluster-%d", id);
    if (get_text(c, "name", where, CLUSTER_NAME_MAX, &cl->name, err, errlen) != 0 ||
        get_text(c, "planId", where, sizeof(plan), &cl->plan_id, err, errlen) != 0 ||
        get_text(c, "description", where, CLUSTER_TEXT_MAX, &cl->description, err,
                 errlen) != 0)
        return -1;
    if (strcmp(cl->plan_id, plan) != 0)
        return cluster_fail(err, errlen,
                            "%s.planId: must be \"%s\" for cluster %d", where, plan, id);
    if (!json_object_object_get_ex(c, "roadmap", &v) ||
        !json_object_is_type(v, json_type_array))
        return cluster_fail(err, errlen, "%s.roadmap: a list of %d to %d weeks is required", where,
                            ROADMAP_MIN, ROADMAP_MAX);
    n = json_object_array_length(v);
    if (n < ROADMAP_MIN || n > ROADMAP_MAX)
        return cluster_fail(err, errlen, "%s.roadmap: has %zu entries, not %d to %d", where, n,
                            ROADMAP_MIN, ROADMAP_MAX);
    for (j = 0; j < n; j++) {
        snprintf(wwhere, sizeof(wwhere), "%s.roadmap[%zu]", where, j);
        w = json_object_array_get_idx(v, j);
        if (!json_object_is_type(w, json_type_object))
            return cluster_fail(err, errlen, "%s: must be an object", wwhere);
        if (only_keys(w, wwhere, week_keys, err, errlen) != 0 ||
            get_text(w, "week", wwhere, 7, &cl->roadmap[j].week, err, errlen) != 0 ||
            get_text(w, "focus", wwhere, FOCUS_MAX, &cl->roadmap[j].focus, err, errlen) != 0 ||
            get_text(w, "activities", wwhere, ACTIVITIES_MAX, &cl->roadmap[j].activities, err,
                     errlen) != 0) {
            cl->nroadmap = j + 1;
            return -1;
        }
        cl->nroadmap = j + 1;
        if (parse_weeks(cl->roadmap[j].week, &first, &last) != 0)
            return cluster_fail(err, errlen, "%s.week: \"%s\" is not a week (\"3\") or a range of "
                                "weeks (\"3-5\")", wwhere, cl->roadmap[j].week);
        if (first != next)
            return cluster_fail(err, errlen, "%s.week: \"%s\" must start at week %ld (the weeks "
                                "follow on from each other)", wwhere, cl->roadmap[j].week, next);
        next = last + 1;
    }
    return 0;
}

/* The condition key k ("clinicalMaxPct") into *c; -1 if there is no such condition. */
static int
cond_of(const char *k, struct cond *c)
{
    char name[32];
    int m;

    for (m = 0; m < M_COUNT; m++) {
        snprintf(name, sizeof(name), "%sMinPct", cluster_metric_names[m]);
        if (strcmp(k, name) == 0) {
            c->metric = (enum metric)m;
            c->min = 1;
            return 0;
        }
        snprintf(name, sizeof(name), "%sMaxPct", cluster_metric_names[m]);
        if (strcmp(k, name) == 0) {
            c->metric = (enum metric)m;
            c->min = 0;
            return 0;
        }
    }
    return -1;
}

int
cluster_placeholder_at(const char *p, size_t *len)
{
    size_t n;
    int m;

    for (m = 0; m < M_COUNT; m++) {
        n = strlen(cluster_metric_names[m]);
        if (p[0] == '{' && strncmp(p + 1, cluster_metric_names[m], n) == 0 && p[n + 1] == '}') {
            *len = n + 2;
            return m;
        }
    }
    if (strncmp(p, "{passMark}", 10) == 0) {
        *len = 10;
        return M_COUNT;
    }
    return -1;
}

/*
 * Every "{...}" in the reason is a placeholder whose metric is defined whenever the rule
 * matches: overall and unanswered always are (every section has questions); accuracy,
 * clinical and theory only when the rule has a condition on them (a condition on an
 * undefined metric is false).
 */
static int
check_reason(const struct rule *ru, const char *where, char *err, size_t errlen)
{
    const char *p;
    size_t len, j;
    int m, cond;

    for (p = ru->reason; *p; p++) {
        if (*p == '}')
            return cluster_fail(err, errlen, "%s.reason: \"}\" without \"{\"", where);
        if (*p != '{')
            continue;
        m = cluster_placeholder_at(p, &len);
        if (m < 0)
            return cluster_fail(err, errlen, "%s.reason: unknown placeholder at \"%.20s\" (known: "
                                "{overall} {clinical} {theory} {unanswered} {accuracy} {passMark})",
                                where, p);
        if (m == M_ACCURACY || m == M_CLINICAL || m == M_THEORY) {
            for (j = 0, cond = 0; j < ru->nconds; j++)
                cond |= ru->conds[j].metric == (enum metric)m;
            if (!cond)
                return cluster_fail(err, errlen,
                                    "%s.reason: {%s} needs a condition on %s (%sMinPct "
                                    "or %sMaxPct): without one it may be undefined", where,
                                    cluster_metric_names[m], cluster_metric_names[m],
                                    cluster_metric_names[m],
                                    cluster_metric_names[m]);
        }
        p += len - 1;
    }
    return 0;
}

static int
parse_rule(struct cluster_rules *r, struct json_object *o, size_t i, size_t n, char *err,
           size_t errlen)
{
    static const char *const keys[] = { "cluster", "when", "reason", NULL };
    struct rule *ru = &r->rules[i];
    struct json_object *when;
    struct cond c;
    char where[32];
    size_t a, b;
    long long pct;
    int bound;

    snprintf(where, sizeof(where), "rules[%zu]", i);
    if (!json_object_is_type(o, json_type_object))
        return cluster_fail(err, errlen, "%s: must be an object", where);
    if (only_keys(o, where, keys, err, errlen) != 0 ||
        get_int(o, "cluster", where, 1, CLUSTER_COUNT, &ru->cluster, err, errlen) != 0)
        return -1;
    if (!json_object_object_get_ex(o, "when", &when) ||
        !json_object_is_type(when, json_type_object))
        return cluster_fail(err, errlen, "%s.when: an object of conditions is required ({} for the "
                            "catch-all)", where);
    json_object_object_foreach(when, k, v) {
        if (strncmp(k, "x-", 2) == 0)
            continue;
        if (cond_of(k, &c) != 0)
            return cluster_fail(err, errlen, "%s.when.%s: unknown condition (known: a metric, "
                                "overall clinical theory unanswered accuracy, then MinPct or "
                                "MaxPct)", where, k);
        if (json_object_is_type(v, json_type_string) &&
            strcmp(json_object_get_string(v), "passMark") == 0) {
            c.pct = r->pass_mark;
        } else if (json_object_is_type(v, json_type_int)) {
            pct = json_object_get_int64(v);
            if (pct < 0 || pct > 100)
                return cluster_fail(err, errlen,
                                    "%s.when.%s: %lld is not in 0..100", where, k, pct);
            c.pct = (int)pct;
        } else {
            return cluster_fail(err, errlen, "%s.when.%s: must be a whole number 0..100 or "
                                "\"passMark\"", where, k);
        }
        if (!c.min && c.pct == 0)
            return cluster_fail(err, errlen, "%s.when.%s: below 0%% can never hold", where, k);
        ru->conds[ru->nconds++] = c;
    }
    /* A MinPct at or above the MaxPct of the same metric: the rule could never match. */
    for (a = 0; a < ru->nconds; a++) {
        for (b = 0; b < ru->nconds; b++) {
            bound = ru->conds[a].metric == ru->conds[b].metric && ru->conds[a].min &&
                    !ru->conds[b].min;
            if (bound && ru->conds[a].pct >= ru->conds[b].pct)
                return cluster_fail(err, errlen, "%s.when: %sMinPct %d and %sMaxPct %d can never "
                                    "both hold", where, cluster_metric_names[ru->conds[a].metric],
                                    ru->conds[a].pct, cluster_metric_names[ru->conds[b].metric],
                                    ru->conds[b].pct);
        }
    }
    if (i + 1 < n && ru->nconds == 0)
        return cluster_fail(err, errlen, "%s.when: only the last rule may be a catch-all ({}): the "
                            "rules after it could never match", where);
    if (i + 1 == n && ru->nconds != 0)
        return cluster_fail(err, errlen,
                            "%s.when: the last rule must be a catch-all ({}), so every "
                            "report maps to exactly one cluster", where);
    if (get_text(o, "reason", where, CLUSTER_TEXT_MAX, &ru->reason, err, errlen) != 0)
        return -1;
    return check_reason(ru, where, err, errlen);
}

static int
parse(struct cluster_rules *r, struct json_object *j, char *err, size_t errlen)
{
    static const char *const top[] = { "passMark", "clusters", "rules", NULL };
    struct json_object *v;
    int seen[CLUSTER_COUNT] = { 0 };
    size_t i, n;

    if (!json_object_is_type(j, json_type_object))
        return cluster_fail(err, errlen, "the rules must be a JSON object");
    if (only_keys(j, "rules file", top, err, errlen) != 0 ||
        get_int(j, "passMark", "", 1, 100, &r->pass_mark, err, errlen) != 0)
        return -1;
    if (!json_object_object_get_ex(j, "clusters", &v) ||
        !json_object_is_type(v, json_type_array) ||
        json_object_array_length(v) != CLUSTER_COUNT)
        return cluster_fail(err, errlen, "clusters: a list of exactly %d clusters is required",
                            CLUSTER_COUNT);
    for (i = 0; i < CLUSTER_COUNT; i++)
        if (parse_cluster(r, json_object_array_get_idx(v, i), i, seen, err, errlen) != 0)
            return -1;
    if (!json_object_object_get_ex(j, "rules", &v) || !json_object_is_type(v, json_type_array))
        return cluster_fail(err, errlen, "rules: a list of 1 to %d rules is required", MAX_RULES);
    n = json_object_array_length(v);
    if (n < 1 || n > MAX_RULES)
        return cluster_fail(err, errlen, "rules: has %zu rules, not 1 to %d", n, MAX_RULES);
    for (i = 0; i < n; i++) {
        r->nrules = i + 1;
        if (parse_rule(r, json_object_array_get_idx(v, i), i, n, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* The line and column (from 1) of byte off in s. */
static void
line_col(const char *s, size_t off, int *line, int *col)
{
    size_t i;

    *line = 1;
    *col = 1;
    for (i = 0; i < off && s[i]; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* One JSON value, nothing but white space after it; NULL with where it broke in err. */
static struct json_object *
parse_json(const char *text, char *err, size_t errlen)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *j;
    enum json_tokener_error jerr;
    size_t len = strlen(text), end;
    int line, col;

    if (!tok) {
        cluster_fail(err, errlen, "out of memory");
        return NULL;
    }
    /* len + 1 takes in the NUL: json-c then knows the input has ended. */
    j = json_tokener_parse_ex(tok, text, (int)len + 1);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_success) {
        end += strspn(text + (end < len ? end : len), " \t\r\n");
        if (end < len)
            jerr = json_tokener_error_parse_unexpected;
    }
    if (jerr == json_tokener_success)
        return j;
    if (j)
        json_object_put(j);
    line_col(text, end, &line, &col);
    cluster_fail(err, errlen, "not valid JSON at line %d, column %d: %s", line, col,
                 end >= len ? "unexpected end of input" : json_tokener_error_desc(jerr));
    return NULL;
}

struct cluster_rules *
cluster_rules_parse(const char *json, char *err, size_t errlen)
{
    struct cluster_rules *r;
    struct json_object *j;

    err[0] = '\0';
    j = parse_json(json, err, errlen);
    if (!j)
        return NULL;
    r = xcalloc(1, sizeof(*r));
    if (parse(r, j, err, errlen) != 0) {
        cluster_rules_free(r);
        r = NULL;
    }
    json_object_put(j);
    return r;
}

struct cluster_rules *
cluster_rules_load(const char *path, char *err, size_t errlen)
{
    struct cluster_rules *r = NULL;
    char msg[512];
    struct buf b;

    buf_init(&b, MAX_FILE);
    if (buf_read_text(&b, path, err, errlen) == 0) {
        r = cluster_rules_parse(b.data ? b.data : "", msg, sizeof(msg));
        if (!r)
            cluster_fail(err, errlen, "%s: %s", path, msg);
    }
    buf_free(&b);
    return r;
}

void
cluster_rules_free(struct cluster_rules *r)
{
    size_t i, j;

    if (!r)
        return;
    for (i = 0; i < CLUSTER_COUNT; i++) {
        free(r->clusters[i].name);
        free(r->clusters[i].plan_id);
        free(r->clusters[i].description);
        for (j = 0; j < r->clusters[i].nroadmap; j++) {
            free(r->clusters[i].roadmap[j].week);
            free(r->clusters[i].roadmap[j].focus);
            free(r->clusters[i].roadmap[j].activities);
        }
    }
    for (i = 0; i < r->nrules; i++)
        free(r->rules[i].reason);
    free(r);
}

int
cluster_pass_mark(const struct cluster_rules *r)
{
    return r->pass_mark;
}

size_t
cluster_rule_count(const struct cluster_rules *r)
{
    return r->nrules;
}

const char *
cluster_name(const struct cluster_rules *r, int id)
{
    return id >= 1 && id <= CLUSTER_COUNT ? r->clusters[id - 1].name : NULL;
}

const char *
cluster_plan_id(const struct cluster_rules *r, int id)
{
    return id >= 1 && id <= CLUSTER_COUNT ? r->clusters[id - 1].plan_id : NULL;
}

const char *
cluster_description(const struct cluster_rules *r, int id)
{
    return id >= 1 && id <= CLUSTER_COUNT ? r->clusters[id - 1].description : NULL;
}

void
cluster_format_pct(int bp, char *out, size_t n)
{
    if (bp < 0)
        snprintf(out, n, "n/a");
    else if (bp % 100 < 10)
        snprintf(out, n, "%d%%", bp / 100);
    else
        snprintf(out, n, "%d.%d%%", bp / 100, bp % 100 / 10);
}

