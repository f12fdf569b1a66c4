#include "config.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"

static const struct app_error_info app_errors[APP_ERR_COUNT] = {
    [0] = {200, "OK", "OK"},
    [1] = {400, "BAD_REQUEST", "The request is malformed"},
    [2] = {400, "VALIDATION_ERROR", "The request has invalid fields"},
    [3] = {400, "INVALID_JSON", "The request body is not valid JSON"},
    [4] = {401, "UNAUTHORIZED", "Authentication required"},
    [5] = {403, "FORBIDDEN", "Not allowed"},
    [6] = {404, "NOT_FOUND", "Not found"},
    [7] = {405, "METHOD_NOT_ALLOWED", "Method not allowed"},
    [8] = {409, "CONFLICT", "The request conflicts with the current state"},
    [9] = {413, "PAYLOAD_TOO_LARGE", "The request body is too large"},
    [10] = {415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported content type"},
    [11] = {422, "UNPROCESSABLE", "The request cannot be processed"},
    [12] = {429, "RATE_LIMITED", "Too many requests"},
    [13] = {500, "INTERNAL_ERROR", "Internal server error"},
    [14] = {501, "NOT_IMPLEMENTED", "This endpoint is not available yet"},
    [15] = {502, "UPSTREAM_ERROR", "A backing service answered with an error"},
    [16] = {503, "SERVICE_UNAVAILABLE", "A backing service is unavailable"},
    [17] = {504, "UPSTREAM_TIMEOUT", "A backing service did not answer in time"},
    [18] = {500, "INTERNAL_ERROR", "Internal server error"},
    [19] = {403, "ORIGIN_NOT_ALLOWED", "Origin not allowed"},
    [20] = {409, "CONDITION_FAILED", "The request lost a race with another change"},
    [21] = {500, "INTERNAL_ERROR", "Internal server error"},
    [22] = {403, "SUBSCRIPTION_REQUIRED", "Active subscription required"},
    [23] = {429, "QUOTA_EXCEEDED", "The quota for this period is spent"},
};

const struct app_error_info *
app_error_info(int code)
{
    if (code > 0 || code <= -APP_ERR_COUNT)
        code = APP_EINTERNAL;
    return &app_errors[-code];
}

int
app_error_is_client(int code)
{
    int status = app_error_info(code)->status;

    return status >= 400 && status < 500;
}

int
app_error_set(struct app_error *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (!e || e->code != APP_OK)
        return code;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

int
app_error_prefix(struct app_error *e, const char *fmt, ...)
{
    char was[sizeof(e->msg)];
    va_list ap;
    int n;

    memcpy(was, e->msg, sizeof(was));
    va_start(ap, fmt);
    n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof(e->msg))
        snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, "%s", was);
    return e->code;
}

void
app_error_clear(struct app_error *e)
{
    e->code = APP_OK;
    e->msg[0] = '\0';
    e->reason = NULL;
    e->field[0] = '\0';
}

int
app_error_reason(struct app_error *e, int code, const char *reason, const char *fmt, ...)
{
    va_list ap;

    if (!e || e->code != APP_OK)
        return code;
    e->code = code;
    e->reason = reason;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

int
app_error_field(struct app_error *e, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (!e || e->code != APP_OK)
        return APP_EVALIDATION;
    e->code = APP_EVALIDATION;
    snprintf(e->field, sizeof(e->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return APP_EVALIDATION;
}
