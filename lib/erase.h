/*
 * Erasure of one person's data from an item (prodenthubctl forget, docs/DATA.md
 * "Retention and erasure"): pure functions on items in DynamoDB's attribute-value JSON.
 *
 * Who: an email address (compared without regard to case) and the SHA-256 of its lower-case
 * form (the mock exams' guard items carry it).  The address is replaced by a token,
 * "erased-<16 hex of SHA-256("prodenthub-erased:" address)>@invalid": stable (a second run,
 * and every table, give the same token, so the records of one person still belong together)
 * and not the address.
 *
 * In every map (the item itself, a team member's share...) that holds the address in one of
 * its strings, a person's name (a member named "name" or ending in "Name", but for the names
 * of things: planName, productName...) becomes "erased" and free text the person wrote
 * ("statement") is removed; the names so found are then replaced by "erased" wherever they
 * occur in the item's strings, and the address by the token.  Amounts, dates, statuses and
 * Stripe ids are left as they were.
 */
#ifndef PH_ERASE_H
#define PH_ERASE_H

#include <json-c/json.h>

#define ERASE_EMAIL_MAX 254

struct erase_who {
    char email[ERASE_EMAIL_MAX + 1];    /* lower case */
    char hash[65];                      /* hex SHA-256 of email */
    char token[64];                     /* what replaces it */
};

/* 0, or -1 when email is not an address (no '@', empty, too long, spaces). */
int erase_who_init(struct erase_who *w, const char *email);

/* Whether a string of the item (keys included, at any depth) holds the address or its hash. */
int erase_matches(const struct erase_who *w, struct json_object *item);

/* The item anonymised (a new object, the caller's); *changed set when it differs. */
struct json_object *erase_anonymise(const struct erase_who *w, struct json_object *item,
                                    int *changed);

#endif
