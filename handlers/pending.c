/*
 * Routes of the published API whose resource is not built yet.  They are in the route
 * table so the API's shape, method checks and body validation hold from day one; each
 * answers 501 NOT_IMPLEMENTED until its handler module lands.
 */
#include "config.h"

#include "../fcgi/request.h"
#include "../fcgi/routes.h"
#include "handlers.h"

int
not_implemented(struct request *req)
{
    return app_error_set(&req->err, APP_ENOTIMPL, "%s is not available yet", req->route->name);
}
