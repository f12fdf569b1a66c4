/*
 * The one error vocabulary of prodenthub.
 *
 * Codes are negative so lib/ functions can return "0 or -APP_E..." as one int.  Codes are
 * appended, never renumbered or reused: logs and dashboards keep meaning across versions.
 * Each code has one row in app_errors[] (errors.c): HTTP status, public slug, message.
 */
#ifndef PH_ERRORS_H
#define PH_ERRORS_H

#include <stdarg.h>

enum app_err {
    APP_OK = 0,
    APP_EBADREQUEST = -1,     /* 400 malformed request (not the body's fields) */
    APP_EVALIDATION = -2,     /* 400 fields failed validation; details per field */
    APP_EBADJSON = -3,        /* 400 body is not JSON; details say where it broke */
    APP_EUNAUTHORIZED = -4,   /* 401 */
    APP_EFORBIDDEN = -5,      /* 403 */
    APP_ENOTFOUND = -6,       /* 404 */
    APP_EMETHOD = -7,         /* 405 with Allow */
    APP_ECONFLICT = -8,       /* 409 */
    APP_ETOOLARGE = -9,       /* 413 body over the route's ceiling */
    APP_EMEDIATYPE = -10,     /* 415 */
    APP_EUNPROCESSABLE = -11, /* 422 well-formed but not acceptable */
    APP_ERATELIMIT = -12,     /* 429 */
    APP_EINTERNAL = -13,      /* 500 our fault; details never leave the server */
    APP_ENOTIMPL = -14,       /* 501 route declared, not built yet */
    APP_EUPSTREAM = -15,      /* 502 a dependency answered badly */
    APP_EUNAVAILABLE = -16,   /* 503 a dependency is down */
    APP_ETIMEOUT = -17,       /* 504 a dependency did not answer in time */
    APP_ENOMEM = -18,         /* 500 a bounded buffer or allocation failed */
    APP_EORIGIN = -19,        /* 403 CORS origin not allowed */
    APP_ECONDITION = -20,     /* 409 a conditional write lost (limit reached, state moved) */
    APP_ECONFIG = -21,        /* 500 configuration unusable */
    APP_ESUBSCRIPTION = -22,  /* 403 the route needs an active subscription (SaaS) */
    APP_EQUOTA = -23,         /* 429 a user's quota is spent until its reset */
};

#define APP_ERR_COUNT 24      /* one past the most negative code, as an index */

struct app_error_info {
    int status;               /* HTTP status */
    const char *slug;         /* machine code, e.g. "VALIDATION_ERROR" */
    const char *message;      /* generic public message */
};

/* The row for code; an unknown code is a bug and maps to APP_EINTERNAL's row. */
const struct app_error_info *app_error_info(int code);

/* 4xx: the caller's fault; 5xx: ours (logged at error level). */
int app_error_is_client(int code);

/*
 * A per-request error slot: lib/ functions set a detail message once (the first setter wins,
 * so a lower layer's message is never overwritten) and return the code unchanged.
 */
struct app_error {
    int code;
    char msg[256];
    const char *reason;       /* a reason slug the client can act on (static), or NULL */
    char field[64];           /* the request field at fault, or "" */
};

int app_error_set(struct app_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void app_error_clear(struct app_error *e);
/* Put what fmt says in front of the error already set (its code unchanged): e->code. */
int app_error_prefix(struct app_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * A refusal a client must be able to tell apart, set by the layer that decides it (a
 * campaign, below HTTP): the dispatcher answers it with details {"reason": reason}, or for
 * app_error_field (APP_EVALIDATION) {"fields": {field: message}}.
 */
int app_error_reason(struct app_error *e, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int app_error_field(struct app_error *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
