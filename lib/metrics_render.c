/*
 * The text exposition format 0.0.4 of every family (metrics.h), summed over the slots in use.
 * Values of a label that repeat (two routes with one pattern, a learnt value added twice by
 * workers racing) are summed under the first, so no series is printed twice.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "mem.h"
#include "metrics.h"

/* The value of label l at index i, or NULL when that index is unused. */
static const char *
label_value(const struct metrics_label *l, size_t i, char *tmp, size_t tmplen)
{
    switch (l->kind) {
    case MK_LIST:
        return l->values[i];
    case MK_ROUTE:
        return metrics_route_label(i);
    case MK_CODE:
        if (i >= metrics_codes_count)
            return "other";
        snprintf(tmp, tmplen, "%d", metrics_codes[i]);
        return tmp;
    case MK_TABLE:
        return metrics_table_value(l->table, i);
    }
    return NULL;
}

/* For each index of label l, the first index with the same value (or SIZE_MAX: unused). */
static void
canon(const struct metrics_label *l, size_t n, size_t *out)
{
    char a[16], b[16];
    size_t i, k;

    for (i = 0; i < n; i++) {
        const char *v = label_value(l, i, a, sizeof(a));

        out[i] = v ? i : SIZE_MAX;
        if (!v || l->kind == MK_LIST || l->kind == MK_CODE)
            continue;
        for (k = 0; k < i; k++) {
            const char *w = label_value(l, k, b, sizeof(b));

            if (w && strcmp(v, w) == 0) {
                out[i] = k;
                break;
            }
        }
    }
}

/* name="value" with the format's escapes (backslash, double quote, newline). */
static int
put_label(struct buf *out, const char *name, const char *value)
{
    int rc = buf_printf(out, "%s=\"", name);
    const char *p;

    for (p = value; *p && rc == APP_OK; p++) {
        if (*p == '\\' || *p == '"')
            rc = buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            rc = buf_puts(out, "\\n");
        else
            rc = buf_append(out, p, 1);
    }
    return rc == APP_OK ? buf_puts(out, "\"") : rc;
}

/* "{a="x",b="y"" without the closing brace (the caller may add le=). */
static int
put_labels(struct buf *out, const struct metrics_def *d, const size_t *idx)
{
    char tmp[16];
    size_t n;
    int rc = buf_puts(out, "{");

    for (n = 0; n < d->nlabels && rc == APP_OK; n++) {
        if (n > 0)
            rc = buf_puts(out, ",");
        if (rc == APP_OK)
            rc = put_label(out, d->labels[n].name,
                           label_value(&d->labels[n], idx[n], tmp, sizeof(tmp)));
    }
    return rc;
}

static int
put_series(struct buf *out, const struct metrics_def *d, const size_t *idx, const uint64_t *t)
{
    uint64_t cum = 0, count;
    size_t k;
    int rc = APP_OK;

    if (d->type == MT_TYPE_COUNTER) {
        if (d->nlabels == 0)
            return buf_printf(out, "%s_total %llu\n", d->name, (unsigned long long)t[0]);
        rc = buf_printf(out, "%s_total", d->name);
        if (rc == APP_OK)
            rc = put_labels(out, d, idx);
        return rc == APP_OK ? buf_printf(out, "} %llu\n", (unsigned long long)t[0]) : rc;
    }
    for (k = 0; k < d->nbounds; k++)
        cum += t[k];
    count = t[d->nbounds] > cum ? t[d->nbounds] : cum;    /* a bucket read mid-update */
    cum = 0;
    for (k = 0; k <= d->nbounds && rc == APP_OK; k++) {
        cum = k < d->nbounds ? cum + t[k] : count;
        rc = buf_printf(out, "%s_bucket", d->name);
        if (rc == APP_OK)
            rc = put_labels(out, d, idx);
        if (rc == APP_OK && d->nlabels > 0)
            rc = buf_puts(out, ",");
        if (rc == APP_OK && k < d->nbounds)
            rc = buf_printf(out, "le=\"%g\"} %llu\n", d->bounds[k], (unsigned long long)cum);
        else if (rc == APP_OK)
            rc = buf_printf(out, "le=\"+Inf\"} %llu\n", (unsigned long long)count);
    }
    if (rc == APP_OK)
        rc = buf_printf(out, "%s_sum", d->name);
    if (rc == APP_OK && d->nlabels > 0) {
        rc = put_labels(out, d, idx);
        if (rc == APP_OK)
            rc = buf_puts(out, "}");
    }
    if (rc == APP_OK)
        rc = buf_printf(out, " %.6f\n%s_count", (double)t[d->nbounds + 1] / d->scale, d->name);
    if (rc == APP_OK && d->nlabels > 0) {
        rc = put_labels(out, d, idx);
        if (rc == APP_OK)
            rc = buf_puts(out, "}");
    }
    return rc == APP_OK ? buf_printf(out, " %llu\n", (unsigned long long)count) : rc;
}

static int
render_family(struct buf *out, enum metrics_family f)
{
    const struct metrics_def *d = &metrics_defs[f];
    size_t n0 = d->nlabels > 0 ? metrics_label_size(&d->labels[0]) : 1;
    size_t n1 = d->nlabels > 1 ? metrics_label_size(&d->labels[1]) : 1;
    size_t per = d->type == MT_TYPE_HISTOGRAM ? d->nbounds + 2 : 1;
    size_t nw = metrics_words(f), c0[METRICS_ROUTES], c1[METRICS_ROUTES], i, j, k;
    uint64_t *t = xcalloc(nw, sizeof(uint64_t));
    int rc;

    for (k = 0; k < d->nlabels; k++)
        canon(&d->labels[k], k == 0 ? n0 : n1, k == 0 ? c0 : c1);
    if (d->nlabels < 1)
        c0[0] = 0;
    if (d->nlabels < 2)
        c1[0] = 0;
    /* Sum every slot, then fold each repeated value into its first. */
    for (i = 0; i < n0; i++) {
        for (j = 0; j < n1; j++) {
            size_t from = (i * n1 + j) * per, to;

            if (c0[i] == SIZE_MAX || c1[j] == SIZE_MAX)
                continue;
            to = (c0[i] * n1 + c1[j]) * per;
            for (k = 0; k < per; k++)
                t[to + k] += metrics_sum(f, from + k);
        }
    }
    rc = buf_printf(out, "# HELP %s%s %s\n# TYPE %s%s %s\n", d->name,
                    d->type == MT_TYPE_COUNTER ? "_total" : "", d->help, d->name,
                    d->type == MT_TYPE_COUNTER ? "_total" : "",
                    d->type == MT_TYPE_COUNTER ? "counter" : "histogram");
    for (i = 0; i < n0 && rc == APP_OK; i++) {
        for (j = 0; j < n1 && rc == APP_OK; j++) {
            size_t idx[2] = { i, j }, at = (i * n1 + j) * per;
            uint64_t seen = t[at + (d->type == MT_TYPE_HISTOGRAM ? d->nbounds : 0)];

            if (c0[i] != i || c1[j] != j)
                continue;
            if (seen == 0 && !d->zeros && d->nlabels > 0)
                continue;
            rc = put_series(out, d, idx, t + at);
        }
    }
    free(t);
    return rc;
}

int
metrics_render_gauge(struct buf *out, const char *name, const char *help, double v)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name,
                      v);
}

int
metrics_render(struct buf *out)
{
    size_t f;
    int rc;

    rc = buf_printf(out, "# HELP prodenthub_build_info The running build: its version.\n"
                    "# TYPE prodenthub_build_info gauge\n"
                    "prodenthub_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    if (rc != APP_OK || !metrics_active())
        return rc;
    rc = buf_printf(out, "# HELP prodenthub_worker_restarts_total Workers that died and were "
                    "replaced by the master.\n"
                    "# TYPE prodenthub_worker_restarts_total counter\n"
                    "prodenthub_worker_restarts_total %llu\n",
                    (unsigned long long)metrics_restarts());
    for (f = 0; f < MF_COUNT && rc == APP_OK; f++)
        rc = render_family(out, (enum metrics_family)f);
    return rc;
}
