/*
 * Pay links for routes: the campaign layer's pay link (campaign/paylink.h) answered over HTTP.
 */
#ifndef PH_HANDLERS_PAYLINK_H
#define PH_HANDLERS_PAYLINK_H

#include "../campaign/paylink.h"

struct request;

/* 303 to the session's page with {"sessionId","checkoutUrl"}. */
int paylink_redirect(struct request *req, const struct paylink_out *out);

/* The record's open session (made now if needed), as paylink_redirect; or an error code. */
int paylink_reply(struct request *req, const struct paylink *pl);

#endif
