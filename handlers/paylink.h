/*
 * Pay links for routes: the campaign layer's pay link (campaign/paylink.h) answered over HTTP.
 */
#ifndef PH_HANDLERS_PAYLINK_H
#define PH_HANDLERS_PAYLINK_H

#include "../campaign/paylink.h"

struct request;

/* The open session's id and url (in the request's arena), made now if needed. */
int paylink_open(struct request *req, const struct paylink *pl, const char **sid,
                 const char **url);

/* 303 to the session's page with {"sessionId","checkoutUrl"}; or an error code. */
int paylink_reply(struct request *req, const struct paylink *pl);

#endif
