/*
 * The creation side of the one-record engine (record.c): a scholarship or a personalized
 * plan is one record, written once and paid through its own pay link (paylink.h).  What the
 * two share is here, told apart by their registry rows (campaign.h): the record's table,
 * key, payable status and campaign id.
 */
#ifndef PH_CAMPAIGN_RECORD_H
#define PH_CAMPAIGN_RECORD_H

#include <json-c/json.h>

#include "campaign.h"
#include "paylink.h"

/* A record's pay link, with room for the strings it points to. */
struct record_link {
    struct paylink pl;
    char ok[512], cancel[512];
    char name[300];                /* the product's name, when the campaign makes one */
    char meta[32];                 /* a value of meta_vals[1], when the campaign has one */
};

/* What creating a record leaves the caller to answer with. */
struct record_made {
    char id[40];                   /* the record's key */
    char pay_url[512];             /* its pay link: <API base>/<path>/<id>/pay */
    char view_url[512];            /* its owner's view: <API base>/<path>/<id>?token=<token> */
    char view_hash[65];            /* the token's hash, all the record keeps of it */
    struct paylink_out session;    /* id "" when Stripe made none now */
};

/* out's id, pay link and owner's view with a new token (path: the campaign's resource in
 * the API, "scholarships"). */
void record_made_init(struct record_made *out, const struct ctx *c, const char *path,
                      const char *id);

/*
 * What of rec (plain) the holder of token sees, as a new object (the caller puts it): the
 * fields public_fields (NULL-ended) for anyone with the id, which travels in URLs; also
 * owner_fields when token is the record's own (viewUrl's, compared in constant time).
 * "viewer" says which ("owner" or "public"), and so does *owner.
 */
struct json_object *record_view_json(struct json_object *rec, const char *token,
                                     const char *const *public_fields,
                                     const char *const *owner_fields, int *owner);

/* A new record of k as a plain object (the caller puts it): its key, campaign, person (last
 * NULL: none), its view token's hash and k->payable_status, created and updated at now
 * (ISO). */
struct json_object *record_new(const struct campaign *k, const struct record_made *made,
                               const char *email, const char *first, const char *last,
                               const char *now);

/*
 * The pay link of rec, a record of k (plain, held by the caller while out is used), as far
 * as one-record campaigns share it: its key as client_reference_id and metadata, priceCents
 * in AUD to its email, back to <frontend>/<page>/<id>.  The campaign sets the product.
 * APP_ECONFLICT with paid_msg (the client's message) when rec is not payable any more.
 */
int record_paylink(const struct campaign *k, const struct ctx *c, struct json_object *rec,
                   const char *page, const char *paid_msg, struct record_link *out,
                   struct app_error *err);

/* A campaign's pay link of its record rec (record_paylink and the product). */
typedef int (*record_link_fn)(const struct ctx *c, struct json_object *rec,
                              struct record_link *out, struct app_error *err);

/*
 * A new record of k: rec (plain, holding k->key_name; taken) put unless its key exists, in
 * one transaction with also (a transaction element, taken; NULL: none), then its Checkout
 * Session opened through the pay link link_fn makes of it, with the caller's metadata (or
 * NULL).  The record stands whatever Stripe says: without a session now (logged)
 * made->session.id is "" and the pay link makes one when opened.  APP_ECONDITION (err
 * clear) when the key exists already.
 */
int record_create(const struct campaign *k, const struct ctx *c, struct json_object *rec,
                  record_link_fn link_fn, struct json_object *metadata, struct json_object *also,
                  struct record_made *made, struct app_error *err);

#endif
