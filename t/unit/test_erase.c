#include "config.h"

#include <check.h>
#include <string.h>

#include <json-c/json.h>

#include "../../lib/erase.h"
#include "unit.h"

#define MAIL "Ann.Lee@Example.com"

START_TEST(test_who)
{
    static const struct {
        const char *email;
        int rc;
    } cases[] = {
        {MAIL, 0}, {"a@b", 0}, {"", -1}, {NULL, -1}, {"no-at.example.com", -1},
        {"sp ace@example.com", -1},
    };
    struct erase_who w, w2;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(erase_who_init(&w, cases[i].email) == cases[i].rc, "case %zu", i);
    ck_assert_int_eq(erase_who_init(&w, MAIL), 0);
    ck_assert_str_eq(w.email, "ann.lee@example.com");
    ck_assert_uint_eq(strlen(w.hash), 64);
    ck_assert(strncmp(w.token, "erased-", 7) == 0 && strstr(w.token, "@invalid"));
    ck_assert(!strstr(w.token, "ann"));
    /* Stable whatever the case. */
    ck_assert_int_eq(erase_who_init(&w2, "ann.lee@example.COM"), 0);
    ck_assert_str_eq(w.token, w2.token);
}
END_TEST

START_TEST(test_items)
{
    static const struct {
        const char *item;
        int matches, changed;
        const char *absent[3];      /* (lower-cased) text no longer in the result */
        const char *present[3];     /* text still in it */
    } cases[] = {
        /* A purchase: address and names go, the money and the Stripe ids stay. */
        {"{\"purchaseId\":{\"S\":\"pur_1\"},\"email\":{\"S\":\"ann.lee@example.com\"},"
         "\"name\":{\"S\":\"Ann Lee\"},\"finalAmountCents\":{\"N\":\"15920\"},"
         "\"stripeSessionId\":{\"S\":\"cs_test_Ann1\"}}", 1, 1,
         {"ann.lee@", "ann lee", NULL}, {"\"15920\"", "cs_test_Ann1", "@invalid"}},
        /* Any case; the statement removed, names of things kept. */
        {"{\"scholarshipId\":{\"S\":\"s1\"},\"email\":{\"S\":\"ANN.LEE@example.com\"},"
         "\"firstName\":{\"S\":\"Ann\"},\"statement\":{\"S\":\"I am Ann.\"},"
         "\"planName\":{\"S\":\"Scholarship\"}}", 1, 1,
         {"statement", "\"ann\"", NULL}, {"Scholarship", "erased", NULL}},
        /* A team: only the share that holds the address loses its name; the leader's stay. */
        {"{\"teamId\":{\"S\":\"t1\"},\"leaderEmail\":{\"S\":\"bob@example.com\"},"
         "\"leaderFirstName\":{\"S\":\"Bob\"},\"members\":{\"L\":[{\"M\":{\"email\":"
         "{\"S\":\"ann.lee@example.com\"},\"name\":{\"S\":\"Ann Lee\"}}},{\"M\":{\"email\":"
         "{\"S\":\"bob@example.com\"},\"name\":{\"S\":\"Bob Ray\"}}}]}}", 1, 1,
         {"ann", NULL, NULL}, {"Bob Ray", "bob@example.com", "\"Bob\""}},
        /* The address inside a key, and the hash of a guard. */
        {"{\"outboxId\":{\"S\":\"p#tpl#ann.lee@example.com\"}}", 1, 1, {"ann.lee", NULL, NULL},
         {"p#tpl#erased-", NULL, NULL}},
        /* The name is replaced elsewhere in the item only as a whole word. */
        {"{\"email\":{\"S\":\"ann.lee@example.com\"},\"toName\":{\"S\":\"Ann\"},"
         "\"subject\":{\"S\":\"Hello Ann, your plan\"},\"ref\":{\"S\":\"pi_Annx\"}}", 1, 1,
         {"hello ann", NULL, NULL}, {"Hello erased, your plan", "pi_Annx", NULL}},
        /* Someone else: untouched. */
        {"{\"email\":{\"S\":\"bob@example.com\"},\"name\":{\"S\":\"Ann Lee\"}}", 0, 0,
         {NULL, NULL, NULL}, {"Ann Lee", NULL, NULL}},
        /* Already erased: nothing more. */
        {"{\"email\":{\"S\":\"erased-0@invalid\"},\"name\":{\"S\":\"erased\"}}", 0, 0,
         {NULL, NULL, NULL}, {NULL, NULL, NULL}},
    };
    struct erase_who w;
    size_t i, j;

    ck_assert_int_eq(erase_who_init(&w, MAIL), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *in = json_tokener_parse(cases[i].item), *out;
        char low[2048];
        const char *text;
        int changed = -1;

        ck_assert_msg(in, "case %zu parses", i);
        ck_assert_msg(erase_matches(&w, in) == cases[i].matches, "case %zu matches", i);
        out = erase_anonymise(&w, in, &changed);
        ck_assert_msg(changed == cases[i].changed, "case %zu changed", i);
        text = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
        for (j = 0; text[j] && j + 1 < sizeof(low); j++)
            low[j] = (char)((text[j] >= 'A' && text[j] <= 'Z') ? text[j] + 32 : text[j]);
        low[j] = '\0';
        for (j = 0; j < 3; j++) {
            ck_assert_msg(!cases[i].absent[j] || !strstr(low, cases[i].absent[j]),
                          "case %zu: %s still in %s", i, cases[i].absent[j], text);
            ck_assert_msg(!cases[i].present[j] || strstr(text, cases[i].present[j]),
                          "case %zu: %s not in %s", i, cases[i].present[j], text);
        }
        ck_assert_msg(!erase_matches(&w, out), "case %zu: still matches", i);
        json_object_put(in);
        json_object_put(out);
    }
}
END_TEST

START_TEST(test_hash_of_a_guard)
{
    struct erase_who w;
    char item[256];
    struct json_object *in, *out;
    int changed;

    ck_assert_int_eq(erase_who_init(&w, MAIL), 0);
    snprintf(item, sizeof(item), "{\"registrationId\":{\"S\":\"GUARD#exam-1#%s\"}}", w.hash);
    in = json_tokener_parse(item);
    ck_assert_int_eq(erase_matches(&w, in), 1);
    out = erase_anonymise(&w, in, &changed);
    ck_assert_int_eq(changed, 1);
    ck_assert(!strstr(json_object_to_json_string(out), w.hash));
    json_object_put(in);
    json_object_put(out);
}
END_TEST

static Suite *
erase_suite(void)
{
    Suite *s = suite_create("erase");
    TCase *tc = tcase_create("erase");

    tcase_add_test(tc, test_who);
    tcase_add_test(tc, test_items);
    tcase_add_test(tc, test_hash_of_a_guard);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(erase_suite)
