/*
 * Scholarship rules: loading (every value checked, unknown keys refused so a typo cannot pass
 * silently) and the calculation (see scholarship.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "log.h"
#include "mem.h"
#include "scholarship.h"

#define MAX_COUNTRIES 300
#define MAX_STUDY_STEPS 8
#define MAX_FILE (256 * 1024)

enum group { G_HIGH, G_UPPER, G_LOWER, G_LOW, G_COUNT };

static const char *const group_names[G_COUNT] = { "high", "upper-middle", "lower-middle", "low" };

struct scholarship_rules {
    char *plan_id;
    int pass_mark, max_pct, min_award, step;
    int income[G_COUNT];
    struct {
        char code[3];
        enum group g;
    } countries[MAX_COUNTRIES];
    size_t ncountries;
    int hardship;
    int near_from, near_points;
    int repeat_min, repeat_points;
    struct {
        int min_hours, points;
    } study[MAX_STUDY_STEPS];
    size_t nstudy;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) PH_PRINTF(3, 4);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* An integer member of o in [lo, hi]. */
static int
get_int(struct json_object *o, const char *k, int lo, int hi, int *out, char *err,
        size_t errlen)
{
    struct json_object *v;
    long long n;

    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return fail(err, errlen, "%s: a whole number is required", k);
    n = json_object_get_int64(v);
    if (n < lo || n > hi)
        return fail(err, errlen, "%s: %lld is not in %d..%d", k, n, lo, hi);
    *out = (int)n;
    return 0;
}

static int
only_keys(struct json_object *o, const char *what, const char *const *keys, char *err,
          size_t errlen)
{
    size_t i;
    int found;

    json_object_object_foreach(o, k, v) {
        (void)v;
        if (strncmp(k, "x-", 2) == 0)
            continue;              /* comments */
        for (i = 0, found = 0; keys[i] && !found; i++)
            found = strcmp(keys[i], k) == 0;
        if (!found)
            return fail(err, errlen, "%s: unknown key \"%s\"", what, k);
    }
    return 0;
}

static int
group_of(const char *s)
{
    int i;

    for (i = 0; i < G_COUNT; i++)
        if (s && strcmp(s, group_names[i]) == 0)
            return i;
    return -1;
}

/* Prefix the message already in err with where it happened. */
static int
within(char *err, size_t errlen, const char *where)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "%s", err[0] ? err : "required");
    return fail(err, errlen, "%s: %s", where, msg);
}

static int
parse(struct scholarship_rules *r, struct json_object *j, char *err, size_t errlen)
{
    static const char *const top[] = {
        "planId", "passMark", "maxPercent", "minAwardPercent", "stepPercent", "incomePoints",
        "countries", "hardshipPoints", "nearPass", "repeatCandidate", "studyHours", NULL,
    };
    static const char *const near[] = { "fromScore", "points", NULL };
    static const char *const repeat[] = { "minAttempts", "points", NULL };
    static const char *const study[] = { "minHours", "points", NULL };
    struct json_object *v, *o;
    const char *s;
    size_t i, n;
    int g;

    if (!json_object_is_type(j, json_type_object))
        return fail(err, errlen, "the rules must be a JSON object");
    if (only_keys(j, "rules", top, err, errlen) != 0)
        return -1;
    if (!json_object_object_get_ex(j, "planId", &v) || !json_object_is_type(v, json_type_string)
        || json_object_get_string_len(v) == 0)
        return fail(err, errlen, "planId: the catalogue plan is required");
    r->plan_id = xstrdup(json_object_get_string(v));
    if (get_int(j, "passMark", 1, 100, &r->pass_mark, err, errlen) ||
        get_int(j, "maxPercent", 0, 100, &r->max_pct, err, errlen) ||
        get_int(j, "minAwardPercent", 0, 100, &r->min_award, err, errlen) ||
        get_int(j, "stepPercent", 1, 100, &r->step, err, errlen) ||
        get_int(j, "hardshipPoints", 0, 100, &r->hardship, err, errlen))
        return -1;
    if (r->min_award > r->max_pct)
        return fail(err, errlen, "minAwardPercent is above maxPercent");
    if (!json_object_object_get_ex(j, "incomePoints", &o) ||
        !json_object_is_type(o, json_type_object))
        return fail(err, errlen, "incomePoints: an object of the four groups is required");
    for (g = 0; g < G_COUNT; g++)
        if (get_int(o, group_names[g], 0, 100, &r->income[g], err, errlen) != 0)
            return within(err, errlen, "incomePoints");
    if (json_object_object_length(o) != G_COUNT)
        return fail(err, errlen, "incomePoints: exactly high, upper-middle, lower-middle, low");
    if (!json_object_object_get_ex(j, "countries", &o) ||
        !json_object_is_type(o, json_type_object))
        return fail(err, errlen, "countries: an object of code: group is required");
    json_object_object_foreach(o, code, gv) {
        s = json_object_is_type(gv, json_type_string) ? json_object_get_string(gv) : NULL;
        g = group_of(s);
        if (strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' ||
            code[1] > 'Z')
            return fail(err, errlen, "countries: \"%s\" is not an ISO 3166-1 alpha-2 code",
                        code);
        if (g < 0)
            return fail(err, errlen, "countries.%s: unknown income group", code);
        if (r->ncountries == MAX_COUNTRIES)
            return fail(err, errlen, "countries: more than %d", MAX_COUNTRIES);
        memcpy(r->countries[r->ncountries].code, code, 3);
        r->countries[r->ncountries++].g = (enum group)g;
    }
    if (!json_object_object_get_ex(j, "nearPass", &o) || only_keys(o, "nearPass", near, err,
                                                                   errlen) != 0 ||
        get_int(o, "fromScore", 0, 100, &r->near_from, err, errlen) ||
        get_int(o, "points", 0, 100, &r->near_points, err, errlen))
        return within(err, errlen, "nearPass");
    if (!json_object_object_get_ex(j, "repeatCandidate", &o) ||
        only_keys(o, "repeatCandidate", repeat, err, errlen) != 0 ||
        get_int(o, "minAttempts", 1, 20, &r->repeat_min, err, errlen) ||
        get_int(o, "points", 0, 100, &r->repeat_points, err, errlen))
        return within(err, errlen, "repeatCandidate");
    if (!json_object_object_get_ex(j, "studyHours", &o) ||
        !json_object_is_type(o, json_type_array) ||
        json_object_array_length(o) > MAX_STUDY_STEPS)
        return fail(err, errlen, "studyHours: a list of at most %d steps", MAX_STUDY_STEPS);
    n = json_object_array_length(o);
    for (i = 0; i < n; i++) {
        v = json_object_array_get_idx(o, i);
        if (!json_object_is_type(v, json_type_object) ||
            only_keys(v, "studyHours[]", study, err, errlen) != 0 ||
            get_int(v, "minHours", 0, 100, &r->study[i].min_hours, err, errlen) ||
            get_int(v, "points", 0, 100, &r->study[i].points, err, errlen))
            return within(err, errlen, "studyHours[]");
        if (i && r->study[i].min_hours >= r->study[i - 1].min_hours)
            return fail(err, errlen, "studyHours: steps must go from most hours to least");
    }
    r->nstudy = n;
    return 0;
}

struct scholarship_rules *
scholarship_rules_parse(const char *json, char *err, size_t errlen)
{
    struct scholarship_rules *r = xcalloc(1, sizeof(*r));
    struct json_object *j = json_tokener_parse(json);

    err[0] = '\0';
    if (!j) {
        fail(err, errlen, "not valid JSON");
        free(r);
        return NULL;
    }
    if (parse(r, j, err, errlen) != 0) {
        json_object_put(j);
        scholarship_rules_free(r);
        return NULL;
    }
    json_object_put(j);
    return r;
}

struct scholarship_rules *
scholarship_rules_load(const char *path, char *err, size_t errlen)
{
    struct scholarship_rules *r = NULL;
    char msg[256];
    struct buf b;

    buf_init(&b, MAX_FILE);
    if (buf_read_text(&b, path, err, errlen) == 0) {
        r = scholarship_rules_parse(b.data ? b.data : "", msg, sizeof(msg));
        if (!r)
            fail(err, errlen, "%s: %s", path, msg);
    }
    buf_free(&b);
    return r;
}

void
scholarship_rules_free(struct scholarship_rules *r)
{
    if (!r)
        return;
    free(r->plan_id);
    free(r);
}

const char *
scholarship_plan(const struct scholarship_rules *r)
{
    return r->plan_id;
}

static void reason(struct scholarship_result *out, const char *rule, int points, const char *fmt,
                   ...) PH_PRINTF(4, 5);

static void
reason(struct scholarship_result *out, const char *rule, int points, const char *fmt, ...)
{
    struct scholarship_reason *x;
    va_list ap;

    if (out->nreasons == SCHOLARSHIP_MAX_REASONS)
        return;
    x = &out->reasons[out->nreasons++];
    x->rule = rule;
    x->points = points;
    va_start(ap, fmt);
    vsnprintf(x->text, sizeof(x->text), fmt, ap);
    va_end(ap);
}

void
scholarship_calculate(const struct scholarship_rules *r, const struct scholarship_input *in,
                      long long full_cents, struct scholarship_result *out)
{
    enum group g = G_HIGH;
    size_t i;
    int p, capped;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < r->ncountries; i++)
        if (strcmp(r->countries[i].code, in->country) == 0)
            g = r->countries[i].g;
    out->income_group = group_names[g];
    reason(out, "income", r->income[g], "%s is a %s-income country: +%d%%", in->country,
           group_names[g], r->income[g]);
    out->points = r->income[g];
    if (in->hardship) {
        out->points += r->hardship;
        reason(out, "hardship", r->hardship, "financial hardship declared: +%d%%", r->hardship);
    }
    if (in->attempts >= 1 && in->last_score >= r->near_from && in->last_score < r->pass_mark) {
        out->points += r->near_points;
        reason(out, "nearPass", r->near_points, "last score %ld%% is within reach of the pass "
               "mark (%d%%): +%d%%", in->last_score, r->pass_mark, r->near_points);
    }
    if (in->attempts >= r->repeat_min) {
        out->points += r->repeat_points;
        reason(out, "repeat", r->repeat_points, "%ld previous attempts: +%d%%", in->attempts,
               r->repeat_points);
    }
    for (i = 0; i < r->nstudy; i++) {
        if (in->study_hours >= r->study[i].min_hours) {
            out->points += r->study[i].points;
            reason(out, "study", r->study[i].points, "%ld study hours a week (%d or more): "
                   "+%d%%", in->study_hours, r->study[i].min_hours, r->study[i].points);
            break;
        }
    }
    p = out->points;
    capped = p > r->max_pct ? r->max_pct : p;
    if (capped < p)
        reason(out, "cap", capped - p, "capped at %d%%", r->max_pct);
    p = capped - capped % r->step;
    if (p < capped)
        reason(out, "step", p - capped, "rounded down to a multiple of %d%%", r->step);
    if (p < r->min_award) {
        if (p > 0)
            reason(out, "minimum", -p, "below the smallest award (%d%%): no scholarship",
                   r->min_award);
        p = 0;
    }
    out->percent = p;
    out->full_cents = full_cents;
    out->price_cents = (full_cents * (100 - p) + 50) / 100;    /* half up to the cent */
    out->discount_cents = full_cents - out->price_cents;
}

struct json_object *
scholarship_result_json(const struct scholarship_result *res)
{
    struct json_object *o = json_object_new_object(), *l = json_object_new_array(), *x;
    size_t i;

    json_object_object_add(o, "percent", json_object_new_int(res->percent));
    json_object_object_add(o, "eligible", json_object_new_boolean(res->percent > 0));
    json_object_object_add(o, "points", json_object_new_int(res->points));
    json_object_object_add(o, "incomeGroup", json_object_new_string(res->income_group));
    json_object_object_add(o, "fullPriceCents", json_object_new_int64(res->full_cents));
    json_object_object_add(o, "discountCents", json_object_new_int64(res->discount_cents));
    json_object_object_add(o, "priceCents", json_object_new_int64(res->price_cents));
    json_object_object_add(o, "currency", json_object_new_string("AUD"));
    for (i = 0; i < res->nreasons; i++) {
        x = json_object_new_object();
        json_object_object_add(x, "rule", json_object_new_string(res->reasons[i].rule));
        json_object_object_add(x, "points", json_object_new_int(res->reasons[i].points));
        json_object_object_add(x, "text", json_object_new_string(res->reasons[i].text));
        json_object_array_add(l, x);
    }
    json_object_object_add(o, "reasons", l);
    return o;
}
