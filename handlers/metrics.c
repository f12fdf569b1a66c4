/*
 * GET /metrics, on the metrics listener only (R_METRICS): every counter of the pool in
 * Prometheus's text format (lib/metrics.h), and the email outbox's backlog.
 *
 * The outbox is drained by another process (prodenthubctl send-mail), so its backlog is read
 * where it is, in DynamoDB (outbox_backlog, lib/outbox_backlog.c), at most every
 * OUTBOX_EVERY_S seconds per worker.  Rows given up on are not counted: the mailer logs
 * those.
 */
#include "config.h"

#include <time.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/metrics.h"
#include "../lib/outbox.h"
#include "handlers.h"

#define OUTBOX_EVERY_S 15

/* The worker's last reading, kept between its requests (like its connections). */
static struct {
    time_t at;
    int ok;
    struct outbox_backlog b;
} outbox;

static void
outbox_read(struct request *req)
{
    struct ddb *d = req->worker ? req->worker->ddb : NULL;
    time_t now = time(NULL);

    if (!d || (outbox.at && now - outbox.at < OUTBOX_EVERY_S))
        return;
    outbox.at = now;
    outbox.ok = outbox_backlog(d, req->cfg, &outbox.b, &req->err) == APP_OK;
    if (!outbox.ok)
        req_log(req, LL_WARN, "metrics: cannot count the outbox: %s", req->err.msg);
    app_error_clear(&req->err);
}

int
metrics_get(struct request *req)
{
    struct buf *out = &req->resp_body;
    int rc;

    outbox_read(req);
    buf_reset(out);
    rc = metrics_render(out);
    if (rc == APP_OK && outbox.ok) {
        rc = metrics_render_gauge(out, "prodenthub_outbox_backlog", "Emails in the outbox "
                                  "not yet sent (pending, or being sent).",
                                  (double)(outbox.b.pending + outbox.b.sending));
        if (rc == APP_OK)
            rc = metrics_render_gauge(out, "prodenthub_outbox_retrying", "Emails of the "
                                      "backlog whose last attempt failed.",
                                      (double)outbox.b.retrying);
        if (rc == APP_OK)
            rc = metrics_render_gauge(out, "prodenthub_outbox_age_seconds", "Age of this "
                                      "reading of the outbox.", (double)(time(NULL) - outbox.at));
    }
    if (rc != APP_OK) {
        buf_reset(out);
        return app_error_set(&req->err, APP_EINTERNAL, "metrics: the text is over %zu bytes",
                             out->max);
    }
    req->resp_type = "text/plain; version=0.0.4; charset=utf-8";
    req->status = 200;
    return APP_OK;
}
