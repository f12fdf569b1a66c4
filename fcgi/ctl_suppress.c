/*
 * prodenthubctl suppression EMAIL [--remove] (ctl.h): whether the outbox refuses to mail an
 * address because SES reported it bounced or complained (lib/suppress.h), and taking it off
 * the list once the person has fixed their mailbox.  The list holds hashes only: the address
 * given is hashed as the list does.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/suppress.h"
#include "ctl.h"

int
ctl_suppression(struct ctl *c, int argc, char **argv)
{
    const char *addr = argv[1];
    int remove = argc > 2 && strcmp(argv[2], "--remove") == 0;
    struct json_object *row = NULL, *events = NULL;
    struct app_error e;
    char h[SUPPRESS_HASH_LEN + 1];
    int rc;

    if ((argc > 2 && !remove) || argc > 3 || suppress_hash(addr, h) != 0) {
        fprintf(stderr, "prodenthubctl: suppression takes an email address [--remove]\n");
        return 2;
    }
    app_error_clear(&e);
    rc = suppress_get(c->ddb, &c->cfg, addr, &row, &e);
    if (rc != APP_OK) {
        fprintf(stderr, "prodenthubctl: suppression: %s\n", e.msg);
        return 1;
    }
    if (!row) {
        printf("%s\tnot suppressed\n", h);
        return 0;
    }
    json_object_object_get_ex(row, "events", &events);
    printf("%s\tsuppressed\t%s\t%s\tsince %s\t%s event(s)\n", h,
           json_str(row, "reason") ? json_str(row, "reason") : "-",
           json_str(row, "detail") ? json_str(row, "detail") : "-",
           json_str(row, "suppressedAt") ? json_str(row, "suppressedAt") : "-",
           events ? json_object_get_string(events) : "-");
    json_object_put(row);
    if (!remove)
        return 0;
    rc = suppress_remove(c->ddb, &c->cfg, addr, &e);
    if (rc != APP_OK) {
        fprintf(stderr, "prodenthubctl: suppression: %s\n", e.msg);
        return 1;
    }
    printf("%s\tremoved: the outbox mails it again\n", h);
    return 0;
}
