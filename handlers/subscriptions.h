#ifndef PH_SUBSCRIPTIONS_H
#define PH_SUBSCRIPTIONS_H

#include <time.h>

#include <json-c/json.h>

struct request;

/* customer.subscription.created/updated/deleted; created is the event's own time. */
int subscription_event(struct request *req, const char *type, struct json_object *sub,
                       long long created, time_t now);
/* checkout.session.completed in subscription mode: links the user to the subscription. */
int subscription_checkout(struct request *req, struct json_object *session, time_t now);

#endif
