/*
 * Study-plan clusters (docs/CAMPAIGNS.md, Personalised plans): a candidate's score report of
 * a past exam is assigned to one of four clusters, each a catalogue product (cluster-1 ..
 * cluster-4), by rules kept in data (sql/rules/clusters.json, CLUSTER_RULES_FILE).
 *
 * Pure: no I/O but the loader, no globals.  Integers only: a condition "metric >= p%" is
 * tested as numerator * 100 >= p * denominator on the report's sums, never in floating point.
 *
 * Metrics are percentages in basis points (1/100 of a percent: 5250 is 52.5%), rounded DOWN,
 * so a rounded metric is below a whole-number threshold exactly when the true value is; a
 * metric whose denominator is 0 is undefined (CLUSTER_UNDEFINED), and a condition on an
 * undefined metric is false.
 *
 *   overall     Σcorrect / Σtotal over every section
 *   clinical    Σcorrect / Σtotal over the clinical sections (undefined if there are none)
 *   theory      the same over the theory sections
 *   unanswered  Σ(total - answered) / Σtotal
 *   accuracy    Σcorrect / Σanswered (undefined if nothing was answered)
 *
 * The rules are an ordered list; the first whose every condition holds wins.  Conditions
 * are half-open: xMinPct p means x >= p, xMaxPct p means x < p, so a MaxPct and a MinPct
 * of the same p split the range with no gap and no overlap.  The loader refuses a file
 * whose last rule is not a catch-all (no conditions), so every valid report maps to
 * exactly one cluster.
 */
#ifndef PH_CLUSTER_H
#define PH_CLUSTER_H

#include <stddef.h>

#include <json-c/json.h>

#define CLUSTER_COUNT 4             /* ids 1..4, plan ids "cluster-1".."cluster-4" */
#define CLUSTER_MAX_SECTIONS 30     /* sections in a report: 1..30 */
#define CLUSTER_MAX_QUESTIONS 1000  /* a section's total: 1..1000 */
#define CLUSTER_NAME_MAX 100        /* bytes of a section's or a cluster's name */
#define CLUSTER_TEXT_MAX 400        /* bytes of a description or a reason template */
#define CLUSTER_REASON_MAX 512      /* bytes of a filled-in reason, with its NUL */
#define CLUSTER_UNDEFINED (-1)      /* a metric with nothing to divide by */

struct cluster_rules;

/*
 * Load and check a rules file: types, ranges, the four clusters (ids 1..4 once each, plan
 * ids, 4-8 roadmap entries covering consecutive weeks from week 1), every condition key known,
 * every reason's placeholders known and defined whenever the rule matches, a catch-all last.
 * NULL with a message naming the offending item in err, e.g.
 * "rules[2].when.clinicalMaxPc: unknown condition".
 */
struct cluster_rules *cluster_rules_load(const char *path, char *err, size_t errlen);
struct cluster_rules *cluster_rules_parse(const char *json, char *err, size_t errlen);
void cluster_rules_free(struct cluster_rules *r);

int cluster_pass_mark(const struct cluster_rules *r);
size_t cluster_rule_count(const struct cluster_rules *r);
/* The cluster's name ("Clinical Knowledge Gap"), plan id and one-sentence description;
 * NULL when id is not 1..4.  They live as long as r. */
const char *cluster_name(const struct cluster_rules *r, int id);
const char *cluster_plan_id(const struct cluster_rules *r, int id);
const char *cluster_description(const struct cluster_rules *r, int id);

struct cluster_metrics {
    long correct, answered, total;          /* sums over every section */
    long clinical_correct, clinical_total;  /* over the clinical sections */
    long theory_correct, theory_total;
    int overall_bp, clinical_bp, theory_bp, unanswered_bp, accuracy_bp;
};

struct cluster_section {
    char name[CLUSTER_NAME_MAX + 1];
    int clinical;                           /* 1: clinical, 0: theory */
    long correct, answered, total;
    int score_bp;                           /* correct / total */
};

struct cluster_result {
    int cluster;                            /* 1..4 */
    char name[CLUSTER_NAME_MAX + 1];
    char plan_id[16];
    char description[CLUSTER_TEXT_MAX + 1];
    int rule;                               /* index in the file's rules[] that matched */
    int pass_mark;
    struct cluster_metrics m;
    int weakest;                            /* index in sections[] of the lowest score
                                             * correct / total; a tie goes to the first */
    struct cluster_section weakest_section;
    char reasons[2][CLUSTER_REASON_MAX];    /* the rule's reason filled in; the weakest
                                             * section */
};

/*
 * Assess a score report: sections is the JSON array of
 * {"name": 1-100 bytes, "category": "clinical"|"theory", "correct", "answered", "total"}
 * with 0 <= correct <= answered <= total, 1 <= total <= 1000 (whole numbers; other members
 * are ignored).  0 with out filled in; -1 with a message naming the field in err, e.g.
 * "sections[2].correct: must not exceed answered", when the report is not valid.
 */
int cluster_assess(const struct cluster_rules *r, struct json_object *sections,
                   struct cluster_result *out, char *err, size_t errlen);

/*
 * The API's reply:
 * {"cluster", "planId", "name", "description", "rule", "passMark",
 *  "metrics": {"overallBp", "clinicalBp", "theoryBp", "unansweredBp", "accuracyBp"} (null
 *  when undefined), "questions": {"total", "answered", "correct"},
 *  "weakestSection": {"index", "name", "category", "correct", "answered", "total", "scoreBp"},
 *  "reasons": [{"text"}, {"text"}]}
 */
struct json_object *cluster_result_json(const struct cluster_result *res);

/* The roadmap of cluster id for the plan-activated email: [{"week": "1-2", "focus",
 * "activities"}, ...]; NULL when id is not 1..4.  The caller owns it. */
struct json_object *cluster_roadmap_json(const struct cluster_rules *r, int id);

/* bp as the reasons show it: one decimal rounded down, no ".0" ("52.5%", "60%"), or "n/a"
 * when undefined. */
void cluster_format_pct(int bp, char *out, size_t n);

#endif
