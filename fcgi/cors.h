/*
 * CORS from configuration: CORS_ALLOWED_ORIGINS is a comma-separated list of exact origins
 * (scheme://host[:port]).  "*" allows any origin outside production; cfg refuses it there.
 */
#ifndef PH_CORS_H
#define PH_CORS_H

struct request;

/* 1 if origin is on the allow list. */
int cors_origin_allowed(const char *list, const char *origin);
/* Answer an OPTIONS request: a preflight from an allowed origin gets 204 and the CORS
 * headers; one from another origin gets 403; a plain OPTIONS gets 204 with Allow. */
int cors_preflight(struct request *req, const char *allow);
/* Add the CORS response headers to an actual request from an allowed origin. */
void cors_actual(struct request *req);

#endif
