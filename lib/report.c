#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddbjson.h"
#include "report.h"

/* The campaigns, in the order printed. */
static const char *const campaigns[] = {
    "discount-purchase", "team-creation", "scholarship-application", "personalized-plan",
    "mock-exam",
};

static int
date_ok(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    size_t i, n = strlen(s);

    if (n != 0 && n != 10 && n != 20)
        return 0;
    for (i = 0; i < n; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return 0;
    }
    return 1;
}

int
report_init(struct report *r, const char *since, const char *until)
{
    memset(r, 0, sizeof(*r));
    if (!date_ok(since ? since : "") || !date_ok(until ? until : ""))
        return -1;
    snprintf(r->since, sizeof(r->since), "%s", since ? since : "");
    snprintf(r->until, sizeof(r->until), "%s", until ? until : "");
    r->counts = json_object_new_object();
    return 0;
}

void
report_free(struct report *r)
{
    if (r->counts)
        json_object_put(r->counts);
    r->counts = NULL;
}

static int
in_period(const struct report *r, const char *t)
{
    if (!t || !*t)
        return 0;
    if (*r->since && strcmp(t, r->since) < 0)
        return 0;
    if (*r->until && strcmp(t, r->until) >= 0)
        return 0;
    return 1;
}

static void
add(struct report *r, const char *section, const char *key, const char *key2,
    const char *metric, long long n)
{
    char k[512];
    struct json_object *v;

    snprintf(k, sizeof(k), "%s\t%s\t%s\t%s", section, key ? key : "", key2 ? key2 : "",
             metric);
    if (json_object_object_get_ex(r->counts, k, &v))
        n += json_object_get_int64(v);
    json_object_object_add(r->counts, k, json_object_new_int64(n));
}

long long
report_get(const struct report *r, const char *section, const char *key, const char *key2,
           const char *metric)
{
    char k[512];
    struct json_object *v;

    snprintf(k, sizeof(k), "%s\t%s\t%s\t%s", section, key, key2, metric);
    return json_object_object_get_ex(r->counts, k, &v) ? json_object_get_int64(v) : 0;
}

static int
is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static void
checkout(struct report *r, const char *campaign, struct json_object *it, const char *paid_key)
{
    if (!in_period(r, json_str(it, "createdAt")))
        return;
    add(r, "checkouts", campaign, "", "opened", 1);
    if (json_str(it, paid_key))
        add(r, "checkouts", campaign, "", "paid", 1);
}

void
report_add(struct report *r, enum report_source src, struct json_object *it)
{
    const char *id;

    if (!it)
        return;
    if (in_period(r, json_str(it, "paymentFailedAt")))
        add(r, "payments", "declined", "", "count", 1);
    switch (src) {
    case REPORT_PURCHASES:
        checkout(r, "discount-purchase", it, "paidAt");
        break;
    case REPORT_TEAMS:
        checkout(r, "team-creation", it, "activatedAt");
        break;
    case REPORT_PLANS:
        checkout(r, "personalized-plan", it, "paidAt");
        break;
    case REPORT_SCHOLARSHIPS:
        checkout(r, "scholarship-application", it, "paidAt");
        if (in_period(r, json_str(it, "createdAt")) && json_str(it, "email")) {
            char pct[16];

            snprintf(pct, sizeof(pct), "%lld", json_int(it, "percent"));
            add(r, "scholarships", pct, "", "applied", 1);
            add(r, "scholarships", "", "", "percentSum", json_int(it, "percent"));
            add(r, "scholarships", "", "", "applied", 1);
            if (json_str(it, "paidAt"))
                add(r, "scholarships", pct, "", "paid", 1);
        }
        break;
    case REPORT_MOCK:
        id = json_str(it, "registrationId");
        if (!id || strncmp(id, "GUARD#", 6) == 0 || !json_str(it, "mockExamId") ||
            !in_period(r, json_str(it, "createdAt")))
            break;
        if (is(json_str(it, "tier"), "premium"))
            checkout(r, "mock-exam", it, "paidAt");
        add(r, "mock-registrations", json_str(it, "mockExamId"), json_str(it, "tier"),
            is(json_str(it, "status"), "confirmed") ? "confirmed" : "unconfirmed", 1);
        break;
    case REPORT_PAYMENTS:
        if (!in_period(r, json_str(it, "paidAt")) || !json_str(it, "campaignId"))
            break;
        add(r, "payments", "succeeded", json_str(it, "campaignId"), "count", 1);
        add(r, "payments", "succeeded", json_str(it, "campaignId"), "cents",
            json_int(it, "amountCents"));
        add(r, "payments", "succeeded", json_str(it, "campaignId"), "refundedCents",
            json_int(it, "amountRefundedCents"));
        break;
    case REPORT_COUPON_USAGE:
        if (!json_str(it, "purchaseId") || !json_str(it, "couponCode") ||
            !in_period(r, json_str(it, "createdAt")))
            break;
        add(r, "coupons", json_str(it, "couponCode"), "",
            json_str(it, "status") ? json_str(it, "status") : "unknown", 1);
        break;
    }
}

static void
money(long long cents, char *out, size_t n)
{
    snprintf(out, n, "%s%lld.%02lld", cents < 0 ? "-" : "", llabs(cents) / 100,
             llabs(cents) % 100);
}

/* The distinct keys (key\tkey2) of a section, sorted. */
static struct json_object *
keys_of(const struct report *r, const char *section)
{
    struct json_object *seen = json_object_new_object(), *out = json_object_new_array();
    size_t n = strlen(section);

    json_object_object_foreach(r->counts, k, v) {
        char key[512], *metric;

        (void)v;
        if (strncmp(k, section, n) != 0 || k[n] != '\t')
            continue;
        snprintf(key, sizeof(key), "%s", k + n + 1);
        metric = strrchr(key, '\t');
        if (metric)
            *metric = '\0';
        if (!json_object_object_get_ex(seen, key, NULL)) {
            json_object_object_add(seen, key, NULL);
            json_object_array_add(out, json_object_new_string(key));
        }
    }
    json_object_put(seen);
    return out;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(json_object_get_string(*(struct json_object *const *)a),
                  json_object_get_string(*(struct json_object *const *)b));
}

/* One figure as a row: CSV, or the human form. */
static void
row(FILE *f, int csv, const char *section, const char *key, const char *key2,
    const char *metric, const char *value)
{
    if (csv)
        fprintf(f, "%s,%s,%s,%s,%s\n", section, key, key2, metric, value);
    else
        fprintf(f, "  %-26s %-14s %-16s %12s\n", key, key2, metric, value);
}

void
report_print(const struct report *r, FILE *f, int csv)
{
    static const char *const sections[] = { "payments", "coupons", "mock-registrations",
                                             "scholarships" };
    char v[48];
    size_t i, j;

    if (csv)
        fprintf(f, "section,key,key2,metric,value\n");
    else
        fprintf(f, "Period: %s .. %s\n\ncheckouts\n  %-26s %8s %8s %10s\n",
                *r->since ? r->since : "(start)", *r->until ? r->until : "(now)",
                "campaign", "opened", "paid", "conversion");
    for (i = 0; i < sizeof(campaigns) / sizeof(campaigns[0]); i++) {
        long long o = report_get(r, "checkouts", campaigns[i], "", "opened");
        long long p = report_get(r, "checkouts", campaigns[i], "", "paid");
        char conv[24];

        if (o > 0) {
            long long t = (p * 1000 + o / 2) / o;       /* tenths of a percent, rounded */

            snprintf(conv, sizeof(conv), "%lld.%lld%%", t / 10, t % 10);
        }
        else
            snprintf(conv, sizeof(conv), "-");
        if (csv) {
            fprintf(f, "checkouts,%s,,opened,%lld\ncheckouts,%s,,paid,%lld\n"
                    "checkouts,%s,,conversion,%s\n", campaigns[i], o, campaigns[i], p,
                    campaigns[i], conv);
        } else {
            fprintf(f, "  %-26s %8lld %8lld %10s\n", campaigns[i], o, p, conv);
        }
    }
    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        struct json_object *keys = keys_of(r, sections[i]);

        json_object_array_sort(keys, cmp_str);
        if (!csv)
            fprintf(f, "\n%s\n", sections[i]);
        for (j = 0; j < json_object_array_length(keys); j++) {
            char key[512], *key2;
            const char *prefix = sections[i];

            snprintf(key, sizeof(key), "%s", json_object_get_string(
                json_object_array_get_idx(keys, j)));
            key2 = strchr(key, '\t');
            if (key2)
                *key2++ = '\0';
            json_object_object_foreach(r->counts, k, cnt) {
                char want[600];
                const char *metric;

                snprintf(want, sizeof(want), "%s\t%s\t%s\t", prefix, key, key2 ? key2 : "");
                if (strncmp(k, want, strlen(want)) != 0 || strchr(k + strlen(want), '\t'))
                    continue;
                metric = k + strlen(want);
                if (strstr(metric, "ents") || strcmp(metric, "percentSum") == 0) {
                    if (strcmp(metric, "percentSum") == 0)
                        continue;
                    money(json_object_get_int64(cnt), v, sizeof(v));
                    row(f, csv, prefix, key, key2 ? key2 : "",
                        strcmp(metric, "cents") == 0 ? "amount" : "refunded", v);
                } else {
                    snprintf(v, sizeof(v), "%lld", (long long)json_object_get_int64(cnt));
                    row(f, csv, prefix, key, key2 ? key2 : "", metric, v);
                }
            }
        }
        json_object_put(keys);
    }
    j = (size_t)report_get(r, "scholarships", "", "", "applied");
    if (j > 0) {
        long long s = report_get(r, "scholarships", "", "", "percentSum");

        long long t = (s * 10 + (long long)j / 2) / (long long)j;   /* tenths, rounded */

        snprintf(v, sizeof(v), "%lld.%lld", t / 10, t % 10);
        row(f, csv, "scholarships", "", "", "averagePercent", v);
    }
}
