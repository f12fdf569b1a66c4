/*
 * The signed-in routes' checks, run by the dispatcher before the handler (fcgi/router.c):
 * R_AUTH verifies the request's Cognito token and sets req->user; R_SUBSCRIBED requires the
 * user's subscription to be active.
 */
#ifndef PH_AUTH_H
#define PH_AUTH_H

struct request;

/*
 * Authorization: Bearer <JWT> verified against the worker's user pool keys (lib/jwt.h).
 * APP_OK with req->user set; APP_EUNAUTHORIZED with a WWW-Authenticate header (RFC 6750:
 * error="invalid_token" for a token refused, none for a missing one) and the reason in
 * req->err; APP_EUNAVAILABLE when sign-in is not configured or the keys cannot be fetched.
 */
int auth_user(struct request *req);

/* The signed-in user's subscription is active or trialing: APP_OK, else APP_ESUBSCRIPTION. */
int auth_subscribed(struct request *req);

#endif
