/*
 * The team record, shared by the routes (handlers/teams.c), fulfilment (campaign/team.c) and the
 * expiry job (prodenthubctl expire-teams).  Rules: docs/CAMPAIGNS.md, Teams.
 *
 * status: pending → partially_paid → fully_paid, or → expired after payBy.
 * members[i].status: unpaid → paid → (refund_pending →) refunded.
 */
#ifndef PH_TEAM_H
#define PH_TEAM_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#define TEAM_MIN_MEMBERS 2
#define TEAM_MAX_MEMBERS 5
#define TEAM_CAMPAIGN "team-creation"

struct ctx;
struct app_error;

/* The team as a plain object (the caller puts it); APP_ENOTFOUND when there is none. */
int team_load(const struct ctx *c, const char *team_id, struct json_object **out,
              struct app_error *err);

/* members[i] of a team, or NULL. */
struct json_object *team_member(struct json_object *team, long long i);

/* Refund a payment in full (idempotent per PaymentIntent). */
int team_refund(const struct ctx *c, const char *pi, const char *why, struct app_error *err);

/* Expire a team found past its deadline (at c->now) and refund its paid shares (an expired
 * team: retry the refunds that failed).  1 expired now, 0 nothing to do, -1 failed. */
int team_expire(const struct ctx *c, struct json_object *team, struct app_error *err);

/* hex sha256 of a link token, as stored (tokens themselves are never stored). */
void team_token_hash(const char *token, char out[65]);

#endif
