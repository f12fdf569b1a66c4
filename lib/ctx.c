#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "ctx.h"

time_t
ctx_clock(const struct cfg *cfg)
{
    return time(NULL) + (cfg ? (time_t)cfg->clock_offset_s : 0);
}

void
ctx_vlog(const struct ctx *c, int level, const char *fmt, va_list ap)
{
    char msg[1024], fields[512];
    const char *id = c && c->request_id ? c->request_id : "-";
    const char *route = c && c->route ? c->route : "-";
    struct buf f;

    if (level < log_level_min)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    buf_init_fixed(&f, fields, sizeof(fields));
    buf_puts(&f, ",\"request_id\":\"");
    buf_json_escape(&f, id, strlen(id));
    if (c && c->method) {
        buf_puts(&f, "\",\"method\":\"");
        buf_json_escape(&f, c->method, strlen(c->method));
    }
    buf_puts(&f, "\",\"route\":\"");
    buf_json_escape(&f, route, strlen(route));
    buf_puts(&f, "\"");
    log_fields(level, f.data, "%s", msg);
    buf_free(&f);
}

void
ctx_log(const struct ctx *c, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctx_vlog(c, level, fmt, ap);
    va_end(ap);
}
