/*
 * Plain JSON ↔ DynamoDB attribute values.
 *
 *   plain            attribute value
 *   "text"           {"S":"text"}
 *   12 / 12.50       {"N":"12"} / {"N":"12.50"}   the number's own text: no precision lost
 *   true             {"BOOL":true}
 *   null             {"NULL":true}
 *   [...]            {"L":[...]}
 *   {...}            {"M":{...}}
 *
 * Sets have no plain form: ddb_unmarshal turns SS, NS and BS into arrays, and a set is
 * written by building {"SS":[...]} directly (ddb_av_string_set).  N values that fit in
 * int64 come back as integers; others as doubles that keep their original text.
 */
#ifndef PH_DDBJSON_H
#define PH_DDBJSON_H

#include <json-c/json.h>

/* New attribute value for a plain value (NULL → {"NULL":true}); the caller owns it. */
struct json_object *ddb_marshal(struct json_object *plain);
/* {"name": av, ...} for a plain object: an item or a key. */
struct json_object *ddb_marshal_item(struct json_object *plain_object);

/* The plain value of an attribute value into *out (NULL for {"NULL":true}, which is json-c's
 * null); 0, or -1 if av is malformed. */
int ddb_unmarshal(struct json_object *av, struct json_object **out);
/* A plain object for an item ({"name": av, ...}); NULL if malformed. */
struct json_object *ddb_unmarshal_item(struct json_object *item);

/* A key of one string attribute: {name: {"S": value}}. */
struct json_object *ddb_key_s(const char *name, const char *value);

/* The string member k of a plain object o; NULL when o is NULL, k is absent or not a string. */
const char *json_str(struct json_object *o, const char *k);

/* The integer member k of a plain object o; 0 when o is NULL or k is absent. */
long long json_int(struct json_object *o, const char *k);
/* o[k] = the string v ("" for NULL). */
void json_add_str(struct json_object *o, const char *k, const char *v);
/* json_object_put as a cleanup callback (arena_cleanup). */
void json_put_cb(void *o);

/* Small builders: {"S":s}, {"N":"n"}, {"SS":[...]} from a plain array of strings. */
struct json_object *ddb_av_s(const char *s);
struct json_object *ddb_av_n(long long n);
struct json_object *ddb_av_string_set(struct json_object *plain_array);

#endif
