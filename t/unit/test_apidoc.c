/*
 * docs/API.md, docs/openapi.yaml, README.md and the code agree: every route of the table and
 * every error slug is in the API document; the OpenAPI file has exactly the routes (method
 * and path, both ways) and exactly the error slugs; every setting is in the README's
 * configuration table.
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

/* --- docs/openapi.yaml, read line by line ------------------------------------------------
 * The file keeps a regular layout (see its head): inside "paths:", a path is a line
 * "  /v1/...:" and an operation a line "    get:"; the ErrorCode enum is one "        - SLUG"
 * per line.  No YAML library: a layout change fails here, loudly. */

#define OP_MAX 128
#define OP_LEN 160

/* Lower-case method names in the bit order of fcgi/request.h (M_GET = 1 << 0, ...). */
static const char *const op_methods[] = {"get", "head", "post", "put", "delete", "patch",
                                         "options"};

/* The next line of *p (without its newline) into line; 0 at the end. */
static int
next_line(const char **p, char *line, size_t n)
{
    const char *nl;
    size_t len;

    if (!**p)
        return 0;
    nl = strchr(*p, '\n');
    len = nl ? (size_t)(nl - *p) : strlen(*p);
    snprintf(line, n, "%.*s", (int)len, *p);
    *p += nl ? len + 1 : len;
    return 1;
}

/* "METHOD /path" of every operation under paths:; the count. */
static size_t
openapi_operations(const char *yaml, char ops[][OP_LEN])
{
    const char *p = strstr(yaml, "\npaths:\n");
    char line[512], path[256] = "";
    size_t nops = 0, i, len;

    ck_assert_msg(p != 0, "docs/openapi.yaml has no top-level paths:");
    p += strlen("\npaths:\n");
    while (next_line(&p, line, sizeof(line))) {
        len = strlen(line);
        if (len > 0 && line[0] != ' ' && line[0] != '#')
            break;                                  /* the next top-level key */
        if (strncmp(line, "  /", 3) == 0) {
            ck_assert_msg(line[len - 1] == ':', "openapi.yaml: a path line without ':': %s",
                          line);
            snprintf(path, sizeof(path), "%.*s", (int)(len - 3), line + 2);
            continue;
        }
        if (strncmp(line, "    ", 4) != 0 || line[4] == ' ')
            continue;
        for (i = 0; i < sizeof(op_methods) / sizeof(op_methods[0]); i++) {
            size_t m = strlen(op_methods[i]);

            if (strncmp(line + 4, op_methods[i], m) == 0 && line[4 + m] == ':') {
                ck_assert_msg(path[0] != '\0', "openapi.yaml: %s before any path", line);
                ck_assert_int_lt(nops, OP_MAX);
                snprintf(ops[nops++], OP_LEN, "%s %s", op_methods[i], path);
            }
        }
    }
    return nops;
}

START_TEST(test_openapi_has_exactly_the_routes)
{
    static char ops[OP_MAX][OP_LEN];
    char *yaml = slurp("docs/openapi.yaml");
    char want[OP_LEN];
    size_t nops = openapi_operations(yaml, ops), i, j, b;
    int found;

    ck_assert_msg(nops > 0, "docs/openapi.yaml: no operations under paths:");
    /* Every route's every method is an operation of the file... */
    for (i = 0; i < routes_count; i++) {
        for (b = 0; b < sizeof(op_methods) / sizeof(op_methods[0]); b++) {
            if (!(routes[i].methods & (1u << b)))
                continue;
            snprintf(want, sizeof(want), "%s %s", op_methods[b], routes[i].pattern);
            for (j = 0, found = 0; j < nops && !found; j++)
                found = strcmp(ops[j], want) == 0;
            ck_assert_msg(found, "docs/openapi.yaml lacks the route '%s'", want);
        }
    }
    /* ...and every operation of the file is a route. */
    for (j = 0; j < nops; j++) {
        for (i = 0, found = 0; i < routes_count && !found; i++) {
            for (b = 0; b < sizeof(op_methods) / sizeof(op_methods[0]) && !found; b++) {
                if (!(routes[i].methods & (1u << b)))
                    continue;
                snprintf(want, sizeof(want), "%s %s", op_methods[b], routes[i].pattern);
                found = strcmp(ops[j], want) == 0;
            }
        }
        ck_assert_msg(found, "docs/openapi.yaml has '%s', which is no route of fcgi/routes.c",
                      ops[j]);
    }
    free(yaml);
}
END_TEST

/* The "        - SLUG" lines of the ErrorCode enum, as one string "|A|B|...|". */
static void
openapi_error_codes(const char *yaml, char *out, size_t n)
{
    const char *p = strstr(yaml, "\n    ErrorCode:\n");
    char line[256];
    size_t len = 0;
    int in_enum = 0;

    ck_assert_msg(p != 0, "docs/openapi.yaml has no components.schemas.ErrorCode");
    p += strlen("\n    ErrorCode:\n");
    snprintf(out, n, "|");
    len = 1;
    while (next_line(&p, line, sizeof(line))) {
        if (strncmp(line, "      ", 6) != 0)
            break;                                  /* the next schema */
        if (strcmp(line, "      enum:") == 0) {
            in_enum = 1;
            continue;
        }
        if (in_enum && strncmp(line, "        - ", 10) == 0) {
            int w = snprintf(out + len, n - len, "%s|", line + 10);

            ck_assert(w > 0 && (size_t)w < n - len);
            len += (size_t)w;
        } else if (in_enum) {
            in_enum = 0;
        }
    }
}

START_TEST(test_openapi_error_codes_are_the_table)
{
    char *yaml = slurp("docs/openapi.yaml");
    char codes[2048], ours[2048] = "|", cell[96];
    const char *p, *bar;
    int code;

    openapi_error_codes(yaml, codes, sizeof(codes));
    for (code = -1; code > -APP_ERR_COUNT; code--) {
        const char *slug = app_error_info(code)->slug;

        snprintf(cell, sizeof(cell), "|%s|", slug);
        ck_assert_msg(strstr(codes, cell) != 0,
                      "docs/openapi.yaml: ErrorCode lacks %s (lib/errors.c)", slug);
        if (!strstr(ours, cell)) {
            ck_assert_uint_lt(strlen(ours) + strlen(slug) + 2, sizeof(ours));
            snprintf(ours + strlen(ours), sizeof(ours) - strlen(ours), "%s|", slug);
        }
    }
    for (p = codes + 1; *p; p = bar + 1) {
        bar = strchr(p, '|');
        snprintf(cell, sizeof(cell), "|%.*s|", (int)(bar - p), p);
        ck_assert_msg(strstr(ours, cell) != 0,
                      "docs/openapi.yaml: ErrorCode has %s, which lib/errors.c does not", cell);
    }
    free(yaml);
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
    tcase_add_test(tc, test_openapi_has_exactly_the_routes);
    tcase_add_test(tc, test_openapi_error_codes_are_the_table);
    tcase_add_test(tc, test_every_setting_is_in_the_readme);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(apidoc_suite)
