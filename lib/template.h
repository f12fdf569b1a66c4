/*
 * Email templates: one file per email (lib/templates/NAME.tmpl) with a subject line, a plain
 * text part and an HTML part, filled from a JSON object of variables.  The syntax is a small
 * subset of mustache, documented in docs/EMAIL.md:
 *
 *   {{name}}                 the variable; HTML-escaped in the html part
 *   {{#name}}...{{/name}}    once per element of an array (element fields first), or once
 *                            when name is a non-empty string, true or non-zero
 *   {{^name}}...{{/name}}    when name is missing, empty, false, zero or an empty array
 *
 * A template that breaks these rules is refused when loaded, not half-rendered.
 */
#ifndef PH_TEMPLATE_H
#define PH_TEMPLATE_H

#include <stddef.h>

#include <json-c/json.h>

#include "buf.h"
#include "errors.h"

struct tmpl {
    char *name;
    char *subject;
    char *text;
    char *html;
};

/* Read dir/name.tmpl and check its syntax.  name must be [a-z0-9-]. */
int tmpl_load(const char *dir, const char *name, struct tmpl *t, struct app_error *err);
/* Parse a template from memory (src need not be NUL-terminated). */
int tmpl_parse(const char *name, const char *src, size_t n, struct tmpl *t,
               struct app_error *err);
void tmpl_free(struct tmpl *t);

enum tmpl_mode { TMPL_TEXT, TMPL_HTML, TMPL_HEADER };

/* Render one part into out (appended).  TMPL_HEADER drops CR and LF from substitutions. */
int tmpl_render(const char *src, struct json_object *vars, enum tmpl_mode mode,
                struct buf *out, struct app_error *err);

#endif
