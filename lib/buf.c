#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "mem.h"

void
buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->fixed = 0;
}

void
buf_init_fixed(struct buf *b, char *storage, size_t size)
{
    b->data = storage;
    b->len = 0;
    b->cap = size;
    b->max = size - 1;
    b->fixed = 1;
    storage[0] = '\0';
}

void
buf_free(struct buf *b)
{
    if (b->fixed) {
        buf_reset(b);
        return;
    }
    free(b->data);
    buf_init(b, b->max);
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int
buf_reserve(struct buf *b, size_t n)
{
    size_t need, cap;

    if (n > b->max || b->len > b->max - n)
        return APP_ETOOLARGE;
    need = b->len + n + 1;
    if (need <= b->cap)
        return APP_OK;
    if (b->fixed)
        return APP_ETOOLARGE;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    return APP_OK;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc != APP_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return APP_OK;
}

int
buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return APP_EINTERNAL;
    rc = buf_reserve(b, (size_t)n);
    if (rc != APP_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return APP_OK;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

size_t
buf_write_cb(char *p, size_t size, size_t n, void *ud)
{
    if (buf_append(ud, p, size * n) != APP_OK)
        return 0;
    return size * n;
}

int
buf_json_escape(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0;
    int rc = APP_OK;

    for (i = 0; i < n && rc == APP_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = buf_append(b, s + start, i - start);
        start = i + 1;
        if (rc != APP_OK)
            break;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; rc = buf_append(b, esc, 2); break;
        case '\\': esc[1] = '\\'; rc = buf_append(b, esc, 2); break;
        case '\n': esc[1] = 'n'; rc = buf_append(b, esc, 2); break;
        case '\r': esc[1] = 'r'; rc = buf_append(b, esc, 2); break;
        case '\t': esc[1] = 't'; rc = buf_append(b, esc, 2); break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            rc = buf_append(b, esc, 6);
        }
    }
    if (rc == APP_OK)
        rc = buf_append(b, s + start, n - start);
    return rc;
}

int
buf_read_file(struct buf *b, const char *path)
{
    FILE *f = fopen(path, "r");
    size_t start = b->len, got;
    char chunk[8192];
    int rc = APP_OK;

    if (!f)
        return APP_ENOTFOUND;
    while (rc == APP_OK) {
        got = fread(chunk, 1, sizeof(chunk), f);
        if (got == 0)
            break;
        rc = buf_append(b, chunk, got);
    }
    if (rc == APP_OK && ferror(f))
        rc = APP_EINTERNAL;
    fclose(f);
    if (rc == APP_OK && b->data && memchr(b->data + start, '\0', b->len - start))
        rc = APP_EINTERNAL;        /* text files only */
    return rc;
}

int
buf_read_text(struct buf *b, const char *path, char *err, size_t errlen)
{
    int rc = buf_read_file(b, path);

    if (rc == APP_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", path, rc == APP_ENOTFOUND ? "cannot open" :
             rc == APP_ETOOLARGE ? "too large" : "cannot read it, or it holds a NUL byte");
    return -1;
}
