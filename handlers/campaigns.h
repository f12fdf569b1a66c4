/*
 * The one registry of campaigns: what the universal checkout, its verification, the webhook
 * and the operator's tool need to know of each, in one table (handlers/campaigns.c), as
 * curl keeps one struct Curl_handler per scheme.  Adding a campaign is adding a row.
 */
#ifndef PH_CAMPAIGNS_H
#define PH_CAMPAIGNS_H

#include <stddef.h>

#include <json-c/json.h>

struct request;
struct cfg;
struct campaign;

/* What our record says of one Checkout Session of it (checkout/verify). */
struct campaign_view {
    const char *status;            /* the record's (or the team share's) status */
    long long amount;              /* cents we priced for this session; -1 unknown */
    const char *currency;
    const char *session;           /* the session the record names, or NULL */
};

struct campaign_kind {
    const char *id;                /* metadata.campaignId, and checkout/create's campaignId */
    const char *key_name;          /* the record's key; the session's metadata names it too */
    const char *id_prefix;         /* the record ids' prefix ("team_") */
    size_t table;                  /* offsetof(struct cfg, tbl_...) */
    /* The campaign's create flow, also run by POST /v1/checkout/create (handlers.h). */
    int (*checkout)(struct request *req, struct json_object *metadata);
    /* The record's side of session meta (reads only; pointers into rec). */
    void (*view)(struct json_object *rec, struct json_object *meta, struct campaign_view *out);
    const struct campaign *fulfil; /* what Stripe's events do to the record (fulfil.h) */
};

extern const struct campaign_kind campaign_kinds[];
extern const size_t campaign_kinds_count;

/* The campaign named id, or NULL. */
const struct campaign_kind *campaign_find(const char *id);

/* The table of kind in cfg. */
const char *campaign_table(const struct campaign_kind *kind, const struct cfg *cfg);

#endif
