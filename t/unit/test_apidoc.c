/*
 * docs/API.md, README.md and the code agree: every route of the table and every error
 * slug is in the API document, and every setting is in the README's configuration table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../../fcgi/request.h"
#include "../../fcgi/routes.h"
#include "../../lib/cfg.h"
#include "../../lib/errors.h"
#include "unit.h"

static char *
slurp(const char *rel)
{
    const char *src = getenv("PH_SRCDIR");
    char path[4096];
    char *text;
    long n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
    f = fopen(path, "r");
    ck_assert_msg(f != 0, "cannot open %s (set PH_SRCDIR)", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

START_TEST(test_every_route_is_documented)
{
    char *doc = slurp("docs/API.md");
    char line[256], methods[96];
    size_t i;

    for (i = 0; i < routes_count; i++) {
        methods_to_string(routes[i].methods, methods, sizeof(methods));
        snprintf(line, sizeof(line), "| %s | %s |", methods, routes[i].pattern);
        ck_assert_msg(strstr(doc, line) != 0, "docs/API.md lacks the row '%s'", line);
    }
    free(doc);
}
END_TEST

START_TEST(test_every_error_code_is_documented)
{
    char *doc = slurp("docs/API.md");
    char row[128];
    int code;

    for (code = 0; code > -APP_ERR_COUNT; code--) {
        const struct app_error_info *e = app_error_info(code);

        if (code == APP_OK)
            continue;
        snprintf(row, sizeof(row), "| %s | %d |", e->slug, e->status);
        ck_assert_msg(strstr(doc, row) != 0, "docs/API.md lacks the row '%s'", row);
    }
    free(doc);
}
END_TEST

START_TEST(test_every_setting_is_in_the_readme)
{
    char *doc = slurp("README.md");
    char cell[128];
    const char *name;
    size_t i;

    for (i = 0; cfg_setting_name(i); i++) {
        name = cfg_setting_name(i);
        snprintf(cell, sizeof(cell), "| `%s` |", name);
        ck_assert_msg(strstr(doc, cell) != 0, "README.md lacks the setting %s", name);
    }
    free(doc);
}
END_TEST

static Suite *
apidoc_suite(void)
{
    Suite *s = suite_create("apidoc");
    TCase *tc = tcase_create("docs");

    tcase_add_test(tc, test_every_route_is_documented);
    tcase_add_test(tc, test_every_error_code_is_documented);
    tcase_add_test(tc, test_every_setting_is_in_the_readme);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(apidoc_suite)
