/*
 * POST /v1/ses/events: SES bounces and complaints, delivered by the SNS topic the SES
 * configuration set publishes to (infra/terraform/modules/ses).
 *
 * 1. The body is an SNS message (JSON sent as text/plain).  Its signature is checked before
 *    anything in it is acted on (lib/sns.h): the topic must be one of SES_EVENTS_TOPIC_ARN,
 *    the certificate must come from an allowed SNS host, and verify the signature.  A forged
 *    or unverifiable message is refused (403; 400 when it is not an SNS message at all) and
 *    changes nothing.
 * 2. SubscriptionConfirmation: SubscribeURL (also on an allowed host) is fetched, which
 *    confirms the subscription.  UnsubscribeConfirmation: logged.
 * 3. Notification: the SES event goes to the suppression list (lib/suppress.h): permanent
 *    bounces and complaints suppress their recipients; transient bounces do not.  The same
 *    notification twice changes nothing more (its MessageId).  A genuine message that is no
 *    SES event is acknowledged and ignored, so SNS does not retry it.
 */
#include "config.h"

#include <string.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/sns.h"
#include "../lib/suppress.h"
#include "handlers.h"

static struct json_object *
answer(const struct sns_msg *m)
{
    struct json_object *d = json_object_new_object();

    json_object_object_add(d, "received", json_object_new_boolean(1));
    json_object_object_add(d, "type", json_object_new_string(m->type_name));
    return d;
}

static int
notification(struct request *req, const struct sns_msg *m)
{
    struct ses_outcome o;
    struct json_object *d;
    int rc;

    rc = suppress_ses_event(req->worker->ddb, req->cfg, m->message, m->message_id,
                            req->ctx.now, &o, &req->err);
    d = answer(m);
    if (rc == APP_EBADREQUEST) {
        req_log(req, LL_WARN, "ses events: message %s ignored: %s", m->message_id, req->err.msg);
        app_error_clear(&req->err);
        json_object_object_add(d, "ignored", json_object_new_boolean(1));
        return reply_json(req, 200, d);
    }
    if (rc != APP_OK) {
        json_object_put(d);
        return rc;                     /* 5xx: SNS delivers it again */
    }
    if (o.event)
        json_object_object_add(d, "event", json_object_new_string(o.event));
    if (o.bounce_type)
        json_object_object_add(d, "bounceType", json_object_new_string(o.bounce_type));
    json_object_object_add(d, "suppressed", json_object_new_int(o.suppressed));
    json_object_object_add(d, "duplicates", json_object_new_int(o.duplicates));
    json_object_object_add(d, "ignored", json_object_new_boolean(o.suppressed + o.duplicates
                                                                 == 0));
    return reply_json(req, 200, d);
}

int
ses_events(struct request *req)
{
    struct json_object *body = json_tokener_parse(req->body ? req->body : "");
    const char *hdr = req_env(req, "HTTP_X_AMZ_SNS_MESSAGE_TYPE");
    struct sns_policy pol;
    struct sns_msg m;
    struct json_object *d;
    int rc;

    if (body)
        arena_cleanup(req->arena, json_put_cb, body);
    rc = sns_parse(&m, body, &req->err);
    if (rc != APP_OK)
        goto refused;
    if (hdr && strcmp(hdr, m.type_name) != 0) {
        rc = app_error_reason(&req->err, APP_EBADREQUEST, "malformed",
                              "x-amz-sns-message-type is not the message's Type");
        goto refused;
    }
    memset(&pol, 0, sizeof(pol));
    pol.topics = req->cfg->ses_events_topic_arn;
    pol.hosts = req->cfg->sns_allowed_hosts;
    rc = sns_verify(&m, &pol, req->ctx.now, &req->err);
    if (rc != APP_OK)
        goto refused;
    switch (m.type) {
    case SNS_NOTIFICATION:
        return notification(req, &m);
    case SNS_SUBSCRIBE:
        rc = sns_confirm(&m, &pol, &req->err);
        if (rc != APP_OK) {
            req_log(req, LL_ERROR, "ses events: cannot confirm the subscription to %s: %s",
                    m.topic_arn, req->err.msg);
            return rc == APP_EFORBIDDEN ? rc : APP_EUNAVAILABLE;
        }
        req_log(req, LL_INFO, "ses events: subscription to %s confirmed", m.topic_arn);
        d = answer(&m);
        json_object_object_add(d, "confirmed", json_object_new_boolean(1));
        return reply_json(req, 200, d);
    case SNS_UNSUBSCRIBE:
        req_log(req, LL_WARN, "ses events: unsubscribed from %s (not confirmed back)",
                m.topic_arn);
        return reply_json(req, 200, answer(&m));
    }
    return app_error_set(&req->err, APP_EINTERNAL, "unknown SNS type %d", (int)m.type);
refused:
    req_log(req, LL_WARN, "ses events refused: %s", req->err.msg);
    return rc;
}
