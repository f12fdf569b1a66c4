/*
 * The team record, shared by the routes (handlers/teams.c), its creation
 * (campaign/team_create.c), its pay links (campaign/team_pay.c), its invitations
 * (campaign/team_invite.c), fulfilment (campaign/team.c) and the expiry job
 * (prodenthubctl expire-teams).  Rules: docs/CAMPAIGNS.md, Teams.
 *
 * status: pending → partially_paid → fully_paid, or → expired after payBy.
 * members[i].status: unpaid → paid → (refund_pending →) refunded.
 */
#ifndef PH_TEAM_H
#define PH_TEAM_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "paylink.h"

#define TEAM_MIN_MEMBERS 2
#define TEAM_MAX_MEMBERS 5
#define TEAM_CAMPAIGN "team-creation"
#define TEAM_URL_MAX 512

struct ctx;
struct app_error;
struct pay_event;

/* --- creation (team_create.c) ----------------------------------------------------------- */

/* One person asked for: a name and an email (lower-cased). */
struct team_person {
    const char *name;
    const char *email;
};

/* A team as its leader asks for it, the fields checked one by one (borrowed). */
struct team_input {
    const char *first, *last, *email, *country;    /* the leader */
    const char *plan_id;           /* a team plan, or the plan it is the team plan of
                                    * ("full-6months"); NULL: the default team plan */
    const struct team_person *members;              /* the leader among them or not */
    size_t n;
    struct json_object *metadata;  /* the caller's own, for the leader's session; or NULL */
};

struct team_share {
    const char *name;              /* into record */
    const char *email;
    long long share_cents;
    char pay_url[TEAM_URL_MAX];    /* the member's own link (with its token) */
};

struct team_created {
    char id[40];
    char team_url[TEAM_URL_MAX];   /* the leader's view (with the leader's token) */
    const char *plan_id, *plan_name;               /* into record */
    long long total_cents;
    char pay_by[32];
    size_t n;
    struct team_share members[TEAM_MAX_MEMBERS];   /* the leader first */
    struct paylink_out session;    /* the leader's Checkout Session; id "" when none yet */
    struct json_object *record;    /* the team as written (plain); team_created_free puts it */
};

/*
 * Create the team in: 2-5 members with distinct emails, the leader first (moved there, or
 * added when not listed), each owing a share of the team plan's catalogue price (the shares
 * add up to it exactly).  Only the team is written: nobody is emailed before the leader's
 * share is paid (team_invite).  Refusals are field errors (members, members[i].email,
 * planId).  Then the leader's Checkout Session: when Stripe fails, the team stands without it
 * (out->session.id is "", the leader's pay link makes one when opened).
 */
int team_create(const struct ctx *c, const struct team_input *in, struct team_created *out,
                struct app_error *err);
/* Release out (after team_create, whatever it returned; a failed one left nothing). */
void team_created_free(struct team_created *out);

/* --- pay links and views (team_pay.c) --------------------------------------------------- */

/* The team team_id for its page (the caller puts *out); *leader 1 when token is the
 * leader's.  APP_ENOTFOUND "no such team". */
int team_view(const struct ctx *c, const char *team_id, const char *token,
              struct json_object **out, int *leader, struct app_error *err);

/* Member index's own Checkout Session of their share, made now unless one is open: 404 no
 * such team or member, 403 when token is not that member's, 409 when the team takes no more
 * payments, the share is paid, or (reason LEADER_UNPAID) the leader's share is not paid
 * yet: the leader pays first. */
int team_member_pay(const struct ctx *c, const char *team_id, long index, const char *token,
                    struct paylink_out *out, struct app_error *err);

/* The Checkout Session of share index of team (plain), with the caller's metadata (or NULL). */
int team_share_session(const struct ctx *c, struct json_object *team, long index,
                       struct json_object *metadata, struct paylink_out *out,
                       struct app_error *err);

/* --- links and invitations (team_invite.c) ---------------------------------------------- */

/* Member index's pay link, and the team page (with the leader's token, or public when token
 * is NULL). */
void team_pay_url(const struct ctx *c, const char *team_id, size_t index, const char *token,
                  char out[TEAM_URL_MAX]);
void team_view_url(const struct ctx *c, const char *team_id, const char *token,
                   char out[TEAM_URL_MAX]);

/* Keep the links' tokens on record (plain, its teamId set) for the invitations: sealed
 * with OUTBOX_KEY, the team id as associated data ("linksSealed"), or in clear without a
 * key ("links"; production requires the key). */
int team_links_keep(const struct ctx *c, struct json_object *record, const char *leader_token,
                    const char (*tokens)[40], size_t n, struct app_error *err);

/*
 * The email a share's payment sends, as transaction elements added to items for the
 * transaction that records the payment (team as read): when the share is the leader's
 * (index 0), the leader's confirmation and an invitation with a pay link to every member
 * whose share is unpaid, under a cause of this payment; nothing for another share, or when
 * every other share is paid (the team activates and says so).  The number added.
 */
size_t team_invite(const struct ctx *c, struct json_object *team, long index,
                   const struct pay_event *pe, struct json_object *items);

/* --- the record and fulfilment (team.c) ------------------------------------------------- */

/* The team as a plain object (the caller puts it); APP_ENOTFOUND when there is none. */
int team_load(const struct ctx *c, const char *team_id, struct json_object **out,
              struct app_error *err);

/* members[i] of a team, or NULL. */
struct json_object *team_member(struct json_object *team, long long i);

/* Expire a team found past its deadline (at c->now) and refund its paid shares (an expired
 * team: retry the refunds that failed).  1 expired now, 0 nothing to do, -1 failed. */
int team_expire(const struct ctx *c, struct json_object *team, struct app_error *err);

#endif
