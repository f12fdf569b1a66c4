#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../../lib/ddbjson.h"
#include "unit.h"

/*
 * Plain JSON <-> DynamoDB attribute values (lib/ddbjson.c).  Values are compared as their
 * compact JSON text, which also checks a number's exact text ("12.50" stays "12.50").
 */

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* text parsed as JSON, failing the test if it is not (the JSON null is NULL, and allowed). */
static struct json_object *
parse(const char *text)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o;

    ck_assert_ptr_nonnull(tok);
    o = json_tokener_parse_ex(tok, text, -1);  /* -1: up to and with the NUL */
    ck_assert_msg(json_tokener_get_error(tok) == json_tokener_success, "not JSON: %s", text);
    json_tokener_free(tok);
    return o;
}

/* The compact JSON text of o ("null" for NULL); valid while o is. */
static const char *
text_of(struct json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_FLAGS);
}

/* ddb_marshal of the plain value plain_text must be the attribute value want. */
static void
expect_marshal(const char *plain_text, const char *want)
{
    struct json_object *plain = parse(plain_text);
    struct json_object *av = ddb_marshal(plain);

    ck_assert_ptr_nonnull(av);
    ck_assert_str_eq(text_of(av), want);
    json_object_put(av);
    json_object_put(plain);
}

/* ddb_unmarshal of the attribute value av_text must succeed with the plain value want. */
static void
expect_unmarshal(const char *av_text, const char *want)
{
    struct json_object *av = parse(av_text);
    struct json_object *out = NULL;

    ck_assert_msg(ddb_unmarshal(av, &out) == 0, "ddb_unmarshal(%s) failed", av_text);
    ck_assert_str_eq(text_of(out), want);
    json_object_put(out);
    json_object_put(av);
}

/* ddb_unmarshal of av_text must fail with *out NULL (and leak nothing: see the ASan build). */
static void
expect_unmarshal_fails(const char *av_text)
{
    struct json_object *av = parse(av_text);
    struct json_object *out = NULL;

    ck_assert_msg(ddb_unmarshal(av, &out) == -1, "ddb_unmarshal(%s) accepted", av_text);
    ck_assert_ptr_null(out);
    json_object_put(av);
}

/* The plain value of av_text, which must unmarshal (the caller puts it). */
static struct json_object *
unmarshal_ok(const char *av_text)
{
    struct json_object *av = parse(av_text);
    struct json_object *out = NULL;

    ck_assert_msg(ddb_unmarshal(av, &out) == 0, "ddb_unmarshal(%s) failed", av_text);
    json_object_put(av);
    return out;
}

/* --- marshal ---------------------------------------------------------------------------- */

START_TEST(test_marshal_string)
{
    expect_marshal("\"hello\"", "{\"S\":\"hello\"}");
    expect_marshal("\"\"", "{\"S\":\"\"}");
    expect_marshal("\"Z\\u00fcrich \\u2013 \\u65e5\\u672c \\u2713\"",
                   "{\"S\":\"Z\xc3\xbcrich \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93\"}");
    expect_marshal("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "{\"S\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
    expect_marshal("\"a\\\"b\\\\c\\nd\"", "{\"S\":\"a\\\"b\\\\c\\nd\"}");
    /* A string that looks like a number stays a string. */
    expect_marshal("\"12\"", "{\"S\":\"12\"}");
}
END_TEST

START_TEST(test_marshal_numbers)
{
    struct json_object *n, *av;

    expect_marshal("12", "{\"N\":\"12\"}");
    expect_marshal("0", "{\"N\":\"0\"}");
    expect_marshal("-7", "{\"N\":\"-7\"}");
    expect_marshal("9223372036854775807", "{\"N\":\"9223372036854775807\"}");
    expect_marshal("-9223372036854775808", "{\"N\":\"-9223372036854775808\"}");
    /* Doubles parsed from text keep their text: no trailing zero dropped, no 0.1000...1. */
    expect_marshal("12.50", "{\"N\":\"12.50\"}");
    expect_marshal("0.1", "{\"N\":\"0.1\"}");
    expect_marshal("-0.001", "{\"N\":\"-0.001\"}");
    expect_marshal("49.95", "{\"N\":\"49.95\"}");
    /* A number built in code. */
    n = json_object_new_int64(-42);
    av = ddb_marshal(n);
    ck_assert_str_eq(text_of(av), "{\"N\":\"-42\"}");
    json_object_put(av);
    json_object_put(n);
}
END_TEST

START_TEST(test_marshal_bool_null)
{
    expect_marshal("true", "{\"BOOL\":true}");
    expect_marshal("false", "{\"BOOL\":false}");
    expect_marshal("null", "{\"NULL\":true}");
}
END_TEST

START_TEST(test_marshal_array)
{
    expect_marshal("[]", "{\"L\":[]}");
    expect_marshal("[1,\"a\",true,null,12.50,[2],{\"k\":\"v\"}]",
                   "{\"L\":[{\"N\":\"1\"},{\"S\":\"a\"},{\"BOOL\":true},{\"NULL\":true},"
                   "{\"N\":\"12.50\"},{\"L\":[{\"N\":\"2\"}]},{\"M\":{\"k\":{\"S\":\"v\"}}}]}");
}
END_TEST

START_TEST(test_marshal_object)
{
    expect_marshal("{}", "{\"M\":{}}");
    expect_marshal("{\"a\":{\"b\":{\"c\":1.5,\"d\":[null]}},\"e\":false}",
                   "{\"M\":{\"a\":{\"M\":{\"b\":{\"M\":{\"c\":{\"N\":\"1.5\"},"
                   "\"d\":{\"L\":[{\"NULL\":true}]}}}}},\"e\":{\"BOOL\":false}}}");
}
END_TEST

START_TEST(test_marshal_item)
{
    const char *text = "{\"code\":\"SAVE10\",\"pct\":10,\"price\":12.50,\"active\":true,"
                       "\"note\":null,\"tags\":[\"a\",\"b\"],\"meta\":{\"n\":-1}}";
    struct json_object *plain = parse(text);
    struct json_object *item = ddb_marshal_item(plain);

    ck_assert_str_eq(text_of(item),
                     "{\"code\":{\"S\":\"SAVE10\"},\"pct\":{\"N\":\"10\"},"
                     "\"price\":{\"N\":\"12.50\"},\"active\":{\"BOOL\":true},"
                     "\"note\":{\"NULL\":true},\"tags\":{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"}]},"
                     "\"meta\":{\"M\":{\"n\":{\"N\":\"-1\"}}}}");
    /* The plain object is left as it was, and the item shares nothing with it. */
    json_object_put(plain);
    ck_assert_str_eq(text_of(item),
                     "{\"code\":{\"S\":\"SAVE10\"},\"pct\":{\"N\":\"10\"},"
                     "\"price\":{\"N\":\"12.50\"},\"active\":{\"BOOL\":true},"
                     "\"note\":{\"NULL\":true},\"tags\":{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"}]},"
                     "\"meta\":{\"M\":{\"n\":{\"N\":\"-1\"}}}}");
    json_object_put(item);

    plain = parse("{}");
    item = ddb_marshal_item(plain);
    ck_assert_str_eq(text_of(item), "{}");
    json_object_put(item);
    json_object_put(plain);
}
END_TEST

/* --- unmarshal -------------------------------------------------------------------------- */

START_TEST(test_unmarshal_s)
{
    struct json_object *o;

    expect_unmarshal("{\"S\":\"hello\"}", "\"hello\"");
    expect_unmarshal("{\"S\":\"\"}", "\"\"");
    o = unmarshal_ok("{\"S\":\"Z\\u00fcrich \\u65e5\\u672c \\u2713\"}");
    ck_assert(json_object_is_type(o, json_type_string));
    ck_assert_str_eq(json_object_get_string(o),
                     "Z\xc3\xbcrich \xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93");
    json_object_put(o);
    /* Binary comes back as its base64 text. */
    expect_unmarshal("{\"B\":\"aGVsbG8=\"}", "\"aGVsbG8=\"");
}
END_TEST

START_TEST(test_unmarshal_n)
{
    struct json_object *o;

    o = unmarshal_ok("{\"N\":\"42\"}");
    ck_assert(json_object_is_type(o, json_type_int));
    ck_assert_int_eq(json_object_get_int64(o), 42);
    json_object_put(o);

    o = unmarshal_ok("{\"N\":\"-9223372036854775808\"}");
    ck_assert(json_object_is_type(o, json_type_int));
    ck_assert(json_object_get_int64(o) == LLONG_MIN);
    json_object_put(o);

    o = unmarshal_ok("{\"N\":\"9223372036854775807\"}");
    ck_assert(json_object_is_type(o, json_type_int));
    ck_assert(json_object_get_int64(o) == LLONG_MAX);
    json_object_put(o);

    /* Past int64: a double that keeps its text exactly. */
    o = unmarshal_ok("{\"N\":\"12345678901234567890123.5\"}");
    ck_assert(json_object_is_type(o, json_type_double));
    ck_assert_str_eq(json_object_get_string(o), "12345678901234567890123.5");
    ck_assert_str_eq(text_of(o), "12345678901234567890123.5");
    ck_assert(json_object_get_double(o) > 1.2e22 && json_object_get_double(o) < 1.3e22);
    json_object_put(o);

    o = unmarshal_ok("{\"N\":\"9223372036854775808\"}");
    ck_assert(json_object_is_type(o, json_type_double));
    ck_assert_str_eq(text_of(o), "9223372036854775808");
    json_object_put(o);

    o = unmarshal_ok("{\"N\":\"-0.001\"}");
    ck_assert(json_object_is_type(o, json_type_double));
    ck_assert_str_eq(text_of(o), "-0.001");
    ck_assert(json_object_get_double(o) == -0.001);
    json_object_put(o);

    o = unmarshal_ok("{\"N\":\"12.50\"}");
    ck_assert(json_object_is_type(o, json_type_double));
    ck_assert_str_eq(text_of(o), "12.50");
    ck_assert(json_object_get_double(o) == 12.5);
    json_object_put(o);
}
END_TEST

START_TEST(test_unmarshal_bool_null)
{
    struct json_object *av, *out, *sentinel;

    expect_unmarshal("{\"BOOL\":true}", "true");
    expect_unmarshal("{\"BOOL\":false}", "false");

    /* NULL: success, and *out is json-c's null (a NULL pointer), even if it held something. */
    av = parse("{\"NULL\":true}");
    sentinel = json_object_new_int(1);
    out = sentinel;
    ck_assert_int_eq(ddb_unmarshal(av, &out), 0);
    ck_assert_ptr_null(out);
    json_object_put(sentinel);
    json_object_put(av);
}
END_TEST

START_TEST(test_unmarshal_sets)
{
    struct json_object *o;

    expect_unmarshal("{\"SS\":[\"a\",\"b\",\"c\"]}", "[\"a\",\"b\",\"c\"]");
    expect_unmarshal("{\"SS\":[]}", "[]");
    expect_unmarshal("{\"BS\":[\"aGVsbG8=\",\"d29ybGQ=\"]}", "[\"aGVsbG8=\",\"d29ybGQ=\"]");

    o = unmarshal_ok("{\"NS\":[\"1\",\"2.50\",\"-3\",\"12345678901234567890123.5\"]}");
    ck_assert_str_eq(text_of(o), "[1,2.50,-3,12345678901234567890123.5]");
    ck_assert(json_object_is_type(json_object_array_get_idx(o, 0), json_type_int));
    ck_assert(json_object_is_type(json_object_array_get_idx(o, 1), json_type_double));
    ck_assert(json_object_is_type(json_object_array_get_idx(o, 2), json_type_int));
    ck_assert(json_object_is_type(json_object_array_get_idx(o, 3), json_type_double));
    json_object_put(o);
}
END_TEST

START_TEST(test_unmarshal_m_l)
{
    expect_unmarshal("{\"M\":{}}", "{}");
    expect_unmarshal("{\"L\":[]}", "[]");
    expect_unmarshal("{\"M\":{\"a\":{\"S\":\"x\"},\"n\":{\"N\":\"1\"},\"z\":{\"NULL\":true}}}",
                     "{\"a\":\"x\",\"n\":1,\"z\":null}");
    expect_unmarshal("{\"L\":[{\"S\":\"x\"},{\"NULL\":true},{\"N\":\"2\"},{\"BOOL\":false}]}",
                     "[\"x\",null,2,false]");
}
END_TEST

START_TEST(test_unmarshal_nested)
{
    expect_unmarshal("{\"M\":{\"a\":{\"L\":[{\"M\":{\"b\":{\"L\":[{\"N\":\"1.25\"},"
                     "{\"SS\":[\"s\"]},{\"M\":{\"c\":{\"BOOL\":true}}}]}}}]},"
                     "\"d\":{\"M\":{\"e\":{\"M\":{}}}}}}",
                     "{\"a\":[{\"b\":[1.25,[\"s\"],{\"c\":true}]}],\"d\":{\"e\":{}}}");
}
END_TEST

START_TEST(test_unmarshal_malformed)
{
    struct json_object *out = NULL;

    /* Not an object. */
    expect_unmarshal_fails("\"S\"");
    expect_unmarshal_fails("[{\"S\":\"x\"}]");
    expect_unmarshal_fails("12");
    ck_assert_int_eq(ddb_unmarshal(NULL, &out), -1);
    ck_assert_ptr_null(out);
    /* Not exactly one key. */
    expect_unmarshal_fails("{}");
    expect_unmarshal_fails("{\"S\":\"a\",\"N\":\"1\"}");
    /* Unknown or misspelt type tag. */
    expect_unmarshal_fails("{\"X\":\"1\"}");
    expect_unmarshal_fails("{\"s\":\"1\"}");
    /* A malformed element deep inside: the partly built value is freed. */
    expect_unmarshal_fails("{\"L\":[{\"S\":\"ok\"},{\"N\":\"1\"},{\"Q\":1}]}");
    expect_unmarshal_fails("{\"L\":[{\"S\":\"ok\"},{\"S\":\"a\",\"S2\":\"b\"}]}");
    expect_unmarshal_fails("{\"M\":{\"a\":{\"S\":\"ok\"},\"b\":{\"Q\":1}}}");
    expect_unmarshal_fails("{\"M\":{\"a\":{\"L\":[{\"M\":{\"b\":{\"L\":[7]}}}]}}}");
    expect_unmarshal_fails("{\"M\":\"not an object\"}");
}
END_TEST

/*
 * Fixed (lib/ddbjson.c, number() and ddb_unmarshal()): an N whose text was not a number was
 * accepted and serialised as invalid JSON; wrongly typed payloads ({"S":null}, {"L":"x"},
 * {"SS":[null]}) crashed the worker.
 */
START_TEST(test_unmarshal_wrong_payload)
{
    expect_unmarshal_fails("{\"N\":\"abc\"}");
    expect_unmarshal_fails("{\"N\":\"\"}");
    expect_unmarshal_fails("{\"N\":\"12.5abc\"}");
    expect_unmarshal_fails("{\"N\":\"nan\"}");
    expect_unmarshal_fails("{\"S\":null}");
    expect_unmarshal_fails("{\"N\":null}");
    expect_unmarshal_fails("{\"L\":\"x\"}");
    expect_unmarshal_fails("{\"SS\":\"x\"}");
    expect_unmarshal_fails("{\"SS\":[null]}");
    expect_unmarshal_fails("{\"NS\":[null]}");
}
END_TEST

/*
 * Fixed (lib/ddbjson.c, ddb_unmarshal, "S"): the string was copied up to an embedded NUL,
 * while ddb_marshal copies with its length: "a\u0000b" came back as "a".
 */
START_TEST(test_unmarshal_embedded_nul)
{
    struct json_object *o = unmarshal_ok("{\"S\":\"a\\u0000b\"}");

    ck_assert_int_eq(json_object_get_string_len(o), 3);
    ck_assert(memcmp(json_object_get_string(o), "a\0b", 3) == 0);
    json_object_put(o);
}
END_TEST

START_TEST(test_unmarshal_item)
{
    struct json_object *item, *plain;

    item = parse("{\"id\":{\"S\":\"x\"},\"n\":{\"N\":\"3\"},\"gone\":{\"NULL\":true}}");
    plain = ddb_unmarshal_item(item);
    ck_assert_ptr_nonnull(plain);
    ck_assert_str_eq(text_of(plain), "{\"id\":\"x\",\"n\":3,\"gone\":null}");
    json_object_put(plain);
    json_object_put(item);

    item = parse("{}");
    plain = ddb_unmarshal_item(item);
    ck_assert_ptr_nonnull(plain);
    ck_assert_str_eq(text_of(plain), "{}");
    json_object_put(plain);
    json_object_put(item);

    /* Not an object, or a malformed member: NULL, and nothing leaks. */
    ck_assert_ptr_null(ddb_unmarshal_item(NULL));
    item = parse("[{\"S\":\"x\"}]");
    ck_assert_ptr_null(ddb_unmarshal_item(item));
    json_object_put(item);
    item = parse("{\"id\":{\"S\":\"x\"},\"tags\":{\"L\":[{\"S\":\"a\"},{}]}}");
    ck_assert_ptr_null(ddb_unmarshal_item(item));
    json_object_put(item);
}
END_TEST

START_TEST(test_round_trip_coupon)
{
    const char *text =
        "{\"code\":\"SPRING25\",\"pk\":\"COUPON#SPRING25\",\"discountType\":\"percentage\","
        "\"discountValue\":25,\"maxUses\":100,\"usedCount\":0,\"minPurchase\":49.95,"
        "\"amountOffCents\":-1,\"rate\":0.1,\"active\":true,\"singleUse\":false,"
        "\"expiresAt\":\"2026-12-31T23:59:59Z\",\"description\":\"Spring sale \\u2013 25% off\","
        "\"eligibleProducts\":[\"team\",\"scholarship\",\"cluster1\"],\"createdBy\":null,"
        "\"metadata\":{\"campaign\":\"spring\",\"tier\":{\"level\":2,\"ratio\":0.75},"
        "\"history\":[{\"at\":1764000000,\"by\":\"admin\"},[1,2.50],null]}}";
    struct json_object *plain = parse(text);
    struct json_object *item = ddb_marshal_item(plain);
    struct json_object *back = ddb_unmarshal_item(item);
    struct json_object *again;

    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(json_object_object_length(back), json_object_object_length(plain));
    json_object_object_foreach(plain, k, v) {
        struct json_object *w = NULL;

        ck_assert_msg(json_object_object_get_ex(back, k, &w), "member %s lost", k);
        ck_assert_msg(json_object_equal(v, w), "member %s: %s became %s", k,
                      json_object_to_json_string(v), json_object_to_json_string(w));
    }
    /* Numbers kept their text, so the whole item reads back identically. */
    ck_assert_str_eq(text_of(back), text_of(plain));
    again = ddb_marshal_item(back);
    ck_assert_str_eq(text_of(again), text_of(item));
    json_object_put(again);
    json_object_put(back);
    json_object_put(item);
    json_object_put(plain);
}
END_TEST

/* --- builders --------------------------------------------------------------------------- */

START_TEST(test_av_s)
{
    struct json_object *o = ddb_av_s("COUPON#SAVE10");

    ck_assert_str_eq(text_of(o), "{\"S\":\"COUPON#SAVE10\"}");
    json_object_put(o);
    o = ddb_av_s("");
    ck_assert_str_eq(text_of(o), "{\"S\":\"\"}");
    json_object_put(o);
    o = ddb_av_s("\xe6\x97\xa5\xe6\x9c\xac");
    ck_assert_str_eq(text_of(o), "{\"S\":\"\xe6\x97\xa5\xe6\x9c\xac\"}");
    json_object_put(o);
}
END_TEST

START_TEST(test_av_n)
{
    struct json_object *o, *back = NULL;

    o = ddb_av_n(0);
    ck_assert_str_eq(text_of(o), "{\"N\":\"0\"}");
    json_object_put(o);
    o = ddb_av_n(-1);
    ck_assert_str_eq(text_of(o), "{\"N\":\"-1\"}");
    json_object_put(o);
    o = ddb_av_n(LLONG_MAX);
    ck_assert_str_eq(text_of(o), "{\"N\":\"9223372036854775807\"}");
    json_object_put(o);
    o = ddb_av_n(LLONG_MIN);
    ck_assert_str_eq(text_of(o), "{\"N\":\"-9223372036854775808\"}");
    /* And back. */
    ck_assert_int_eq(ddb_unmarshal(o, &back), 0);
    ck_assert(json_object_is_type(back, json_type_int));
    ck_assert(json_object_get_int64(back) == LLONG_MIN);
    json_object_put(back);
    json_object_put(o);
}
END_TEST

START_TEST(test_av_string_set)
{
    struct json_object *plain = parse("[\"team\",\"scholarship\",\"\\u2713\"]");
    struct json_object *o = ddb_av_string_set(plain), *back = NULL;

    ck_assert_str_eq(text_of(o), "{\"SS\":[\"team\",\"scholarship\",\"\xe2\x9c\x93\"]}");
    /* The input is not consumed. */
    ck_assert_str_eq(text_of(plain), "[\"team\",\"scholarship\",\"\xe2\x9c\x93\"]");
    ck_assert_int_eq(ddb_unmarshal(o, &back), 0);
    ck_assert(json_object_equal(back, plain));
    json_object_put(back);
    json_object_put(o);
    json_object_put(plain);

    plain = parse("[]");
    o = ddb_av_string_set(plain);
    ck_assert_str_eq(text_of(o), "{\"SS\":[]}");
    json_object_put(o);
    json_object_put(plain);
}
END_TEST

static Suite *
ddbjson_suite(void)
{
    Suite *s = suite_create("ddbjson");
    TCase *tc = tcase_create("marshal");

    tcase_add_test(tc, test_marshal_string);
    tcase_add_test(tc, test_marshal_numbers);
    tcase_add_test(tc, test_marshal_bool_null);
    tcase_add_test(tc, test_marshal_array);
    tcase_add_test(tc, test_marshal_object);
    tcase_add_test(tc, test_marshal_item);
    suite_add_tcase(s, tc);

    tc = tcase_create("unmarshal");
    tcase_add_test(tc, test_unmarshal_s);
    tcase_add_test(tc, test_unmarshal_n);
    tcase_add_test(tc, test_unmarshal_bool_null);
    tcase_add_test(tc, test_unmarshal_sets);
    tcase_add_test(tc, test_unmarshal_m_l);
    tcase_add_test(tc, test_unmarshal_nested);
    tcase_add_test(tc, test_unmarshal_malformed);
    tcase_add_test(tc, test_unmarshal_wrong_payload);
    tcase_add_test(tc, test_unmarshal_embedded_nul);
    tcase_add_test(tc, test_unmarshal_item);
    tcase_add_test(tc, test_round_trip_coupon);
    suite_add_tcase(s, tc);

    tc = tcase_create("builders");
    tcase_add_test(tc, test_av_s);
    tcase_add_test(tc, test_av_n);
    tcase_add_test(tc, test_av_string_set);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(ddbjson_suite)
