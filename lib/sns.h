/*
 * Amazon SNS messages delivered to an HTTPS subscription, verified as AWS documents it
 * ("Verifying the signatures of Amazon SNS messages"):
 *
 * - the string to sign is "Name\nvalue\n" for a fixed list of fields in byte order of the
 *   names: Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type for a
 *   Notification; Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for a
 *   SubscriptionConfirmation or UnsubscribeConfirmation;
 * - SignatureVersion "1" is SHA1withRSA, "2" SHA256withRSA, over that string, the Signature
 *   base64 in the message;
 * - the certificate comes from SigningCertURL, which must be https:// on an allowed host
 *   (by default sns.<region>.amazonaws.com, the region taken from the TopicArn; http:// only
 *   for a loopback host named in the list, so tests can use a stand-in);
 * - the TopicArn must be one the operator configured.
 *
 * Certificates are cached in the process (each FastCGI worker has its own), at most
 * SNS_CERT_SLOTS of them, each for SNS_CERT_KEEP_S; their validity dates are checked at
 * every use.  Nothing is fetched from a host that is not allowed.
 */
#ifndef PH_SNS_H
#define PH_SNS_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/x509.h>

#include "buf.h"
#include "errors.h"

#define SNS_CERT_SLOTS 8
#define SNS_CERT_KEEP_S 86400
#define SNS_CERT_MAX (16 * 1024)       /* the certificate document's ceiling */
#define SNS_FETCH_TIMEOUT_MS 5000

enum sns_type { SNS_NOTIFICATION = 1, SNS_SUBSCRIBE, SNS_UNSUBSCRIBE };

/* A message's members, borrowed from the parsed body (valid while it lives). */
struct sns_msg {
    enum sns_type type;
    const char *type_name, *message_id, *topic_arn, *subject, *message, *timestamp;
    const char *token, *subscribe_url, *signing_cert_url, *signature;
    int version;                       /* 1 or 2 */
};

/* Fetch url into out (its ceiling set by the caller): 0 or a code.  Tests pass their own. */
typedef int (*sns_fetch_fn)(struct buf *out, const char *url, void *ud, struct app_error *err);

/* What the operator allows: topics and hosts are comma-separated lists. */
struct sns_policy {
    const char *topics;                /* TopicArns accepted; empty accepts none */
    const char *hosts;                 /* host[:port] of SigningCertURL / SubscribeURL; empty:
                                        * sns.<region>.amazonaws.com(.cn) of the TopicArn */
    sns_fetch_fn fetch;                /* NULL: sns_fetch_curl */
    void *fetch_ud;
};

/*
 * Read the members of a parsed body into out: APP_OK, or APP_EBADREQUEST (reason
 * "malformed" or "unknown_type") when a member the type needs is missing or not a string.
 */
int sns_parse(struct sns_msg *out, struct json_object *body, struct app_error *err);

/* The string to sign for m, into out: APP_OK, or APP_ENOMEM past out's ceiling. */
int sns_string_to_sign(const struct sns_msg *m, struct buf *out, struct app_error *err);

/* 1 when arn is one of the comma-separated list's entries, exactly. */
int sns_topic_allowed(const char *list, const char *arn);

/* 1 when url may be fetched for a message of topic_arn under hosts (see sns_policy). */
int sns_url_allowed(const char *hosts, const char *topic_arn, const char *url);

/* The settings SES_EVENTS_TOPIC_ARN and SNS_ALLOWED_HOSTS well formed: 0, or -1 and why. */
int sns_settings_check(const char *topics, const char *hosts, char *err, size_t errlen);

/*
 * Check m's signature with cert (its dates against now; an RSA key): APP_OK, or
 * APP_EFORBIDDEN with reason "bad_signature" or "bad_certificate".
 */
int sns_check_signature(const struct sns_msg *m, X509 *cert, time_t now, struct app_error *err);

/*
 * Everything: the topic, the certificate's URL, the certificate (cached, or fetched), the
 * signature.  APP_OK; APP_EFORBIDDEN (reasons "topic_not_allowed", "host_not_allowed",
 * "bad_certificate", "bad_signature"); APP_EUNAVAILABLE when the certificate cannot be had.
 */
int sns_verify(const struct sns_msg *m, const struct sns_policy *p, time_t now,
               struct app_error *err);

/* GET url (SubscribeURL) once it is allowed for m's topic: APP_OK on a 200. */
int sns_confirm(const struct sns_msg *m, const struct sns_policy *p, struct app_error *err);

/* GET url with libcurl (lib/http.h), no redirects, SNS_FETCH_TIMEOUT_MS, 200 required. */
int sns_fetch_curl(struct buf *out, const char *url, void *ud, struct app_error *err);

/* Empty the certificate cache (tests). */
void sns_cache_clear(void);

#endif
