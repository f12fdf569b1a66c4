/*
 * The payments table (PaymentIntent → record, refunds, disputes) and access grants, as
 * transaction elements (payments.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "ddb.h"
#include "ddbjson.h"
#include "fmt.h"
#include "outbox.h"
#include "payments.h"
#include "retention.h"
#include "txn.h"

int
payment_get(struct ddb *ddb, const struct cfg *cfg, const char *pi, struct payment_row *p,
            struct app_error *err)
{
    struct json_object *v;
    int rc;

    memset(p, 0, sizeof(*p));
    if (!pi || !*pi)
        return APP_OK;
    rc = ddb_read(ddb, cfg->tbl_payments, ddb_key_s("paymentIntentId", pi), &p->row, err);
    if (rc != APP_OK || !p->row)
        return rc;
    p->campaign = json_str(p->row, "campaignId");
    p->record = json_str(p->row, "recordId");
    p->dispute = json_str(p->row, "disputeId");
    if (json_object_object_get_ex(p->row, "amountRefundedCents", &v))
        p->refunded = json_object_get_int64(v);
    if (json_object_object_get_ex(p->row, "refundedFull", &v))
        p->refunded_full = json_object_get_boolean(v);
    if (json_object_object_get_ex(p->row, "extraPayment", &v))
        p->extra = json_object_get_boolean(v);
    return APP_OK;
}

void
payment_free(struct payment_row *p)
{
    if (p->row)
        json_object_put(p->row);
    memset(p, 0, sizeof(*p));
}

struct json_object *
payment_link_txn(const struct cfg *cfg, const char *pi, const struct payment_row *early,
                 const char *campaign, const char *record, const char *email,
                 long long amount, const char *currency, const char *now)
{
    struct json_object *v = json_object_new_object(), *item;

    if (early && early->row) {
        json_object_object_add(v, ":c", ddb_av_s(campaign));
        json_object_object_add(v, ":r", ddb_av_s(record));
        json_object_object_add(v, ":e", ddb_av_s(email));
        json_object_object_add(v, ":a", ddb_av_n(amount));
        json_object_object_add(v, ":cur", ddb_av_s(currency ? currency : ""));
        json_object_object_add(v, ":now", ddb_av_s(now));
        json_object_object_add(v, ":ttl", ddb_av_n(retention_records_ttl_iso(cfg, now)));
        return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                          "SET campaignId = :c, recordId = :r, email = :e, amountCents = :a, "
                          "currency = :cur, paidAt = :now, updatedAt = :now, #ttl = :ttl",
                          "attribute_not_exists(recordId)", v);
    }
    json_object_put(v);
    item = json_object_new_object();
    json_object_object_add(item, "paymentIntentId", ddb_av_s(pi));
    json_object_object_add(item, "campaignId", ddb_av_s(campaign));
    json_object_object_add(item, "recordId", ddb_av_s(record));
    json_object_object_add(item, "email", ddb_av_s(email));
    json_object_object_add(item, "amountCents", ddb_av_n(amount));
    json_object_object_add(item, "currency", ddb_av_s(currency ? currency : ""));
    json_object_object_add(item, "paidAt", ddb_av_s(now));
    json_object_object_add(item, "updatedAt", ddb_av_s(now));
    json_object_object_add(item, "ttl", ddb_av_n(retention_records_ttl_iso(cfg, now)));
    return txn_put(cfg->tbl_payments, item, "attribute_not_exists(paymentIntentId)");
}

struct json_object *
payment_refund_txn(const struct cfg *cfg, const char *pi, long long refunded, int full,
                   const char *now)
{
    struct json_object *v = json_object_new_object(), *b = json_object_new_object();

    json_object_object_add(v, ":r", ddb_av_n(refunded));
    json_object_object_add(b, "BOOL", json_object_new_boolean(full));
    json_object_object_add(v, ":full", b);
    json_object_object_add(v, ":now", ddb_av_s(now));
    return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                      "SET amountRefundedCents = :r, refundedFull = :full, updatedAt = :now",
                      "attribute_not_exists(amountRefundedCents) OR amountRefundedCents < :r",
                      v);
}

struct json_object *
payment_dispute_txn(const struct cfg *cfg, const char *pi, const char *dispute,
                    const char *reason, const char *now)
{
    struct json_object *v = json_object_new_object();

    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":why", ddb_av_s(reason ? reason : ""));
    json_object_object_add(v, ":now", ddb_av_s(now));
    return txn_update(cfg->tbl_payments, ddb_key_s("paymentIntentId", pi),
                      "SET disputeId = :d, disputeReason = :why, updatedAt = :now",
                      "attribute_not_exists(disputeId)", v);
}

struct json_object *
grant_put_txn(const struct cfg *cfg, const char *email, const char *grant, const char *product,
              const char *from, const char *until, const char *source)
{
    struct json_object *g = json_object_new_object();

    json_object_object_add(g, "email", ddb_av_s(email));
    json_object_object_add(g, "grantId", ddb_av_s(grant));
    json_object_object_add(g, "productId", ddb_av_s(product));
    json_object_object_add(g, "validFrom", ddb_av_s(from));
    json_object_object_add(g, "validUntil", ddb_av_s(until));
    json_object_object_add(g, "source", ddb_av_s(source));
    json_object_object_add(g, "status", ddb_av_s("active"));
    json_object_object_add(g, "ttl", ddb_av_n(retention_records_ttl_iso(cfg, from)));
    return txn_put(cfg->tbl_access_grants, g, NULL);
}

struct json_object *
grant_revoke_txn(const struct cfg *cfg, const char *email, const char *grant,
                 const char *reason, const char *now)
{
    struct json_object *k = json_object_new_object(), *v = json_object_new_object();

    json_object_object_add(k, "email", ddb_av_s(email));
    json_object_object_add(k, "grantId", ddb_av_s(grant));
    json_object_object_add(v, ":revoked", ddb_av_s("revoked"));
    json_object_object_add(v, ":why", ddb_av_s(reason));
    json_object_object_add(v, ":now", ddb_av_s(now));
    return txn_update(cfg->tbl_access_grants, k,
                      "SET #st = :revoked, revokedAt = :now, revokeReason = :why",
                      "attribute_exists(grantId)", v);
}

struct json_object *
dispute_alert_txn(const struct cfg *cfg, const char *record_type, const char *record,
                  const struct payment_row *p, const char *dispute, const char *reason,
                  time_t now)
{
    struct json_object *vars, *v, *w;
    char amount[48] = "", cause[160], url[160];

    if (!*cfg->ops_email)
        return NULL;
    if (json_object_object_get_ex(p->row, "amountCents", &v))
        fmt_money(json_object_get_int64(v), json_str(p->row, "currency"), amount,
                  sizeof(amount));
    snprintf(url, sizeof(url), "https://dashboard.stripe.com/disputes/%s", dispute);
    vars = json_object_new_object();
    json_object_object_add(vars, "recordType", json_object_new_string(record_type));
    json_object_object_add(vars, "recordId", json_object_new_string(record));
    json_object_object_add(vars, "amount", json_object_new_string(amount));
    json_object_object_add(vars, "reason", json_object_new_string(reason ? reason : ""));
    json_object_object_add(vars, "paymentIntentId",
                           json_object_new_string(json_str(p->row, "paymentIntentId")));
    json_object_object_add(vars, "chargeId", json_object_new_string(""));
    json_object_object_add(vars, "disputeId", json_object_new_string(dispute));
    json_object_object_add(vars, "dashboardUrl", json_object_new_string(url));
    snprintf(cause, sizeof(cause), "%s#disputed", dispute);
    w = outbox_txn_mail(cfg, cause, "dispute-alert", cfg->ops_email, NULL, vars, now);
    return w;
}
