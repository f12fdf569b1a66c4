/*
 * An email as RFC 5322 / MIME bytes, ready for SMTP or SES's raw send: a multipart/alternative
 * of a text and an HTML part (UTF-8, base64), wrapped in multipart/mixed when there are
 * attachments (e.g. an .ics invitation).  Header values are RFC 2047 encoded when not plain
 * ASCII; addresses with characters that could break a header are refused.
 */
#ifndef PH_MIME_H
#define PH_MIME_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "errors.h"

struct mail_attachment {
    const char *filename;          /* [A-Za-z0-9._-] */
    const char *content_type;      /* e.g. "text/calendar; method=REQUEST; charset=UTF-8" */
    const char *data;
    size_t len;
};

struct mail {
    const char *from_addr;
    const char *from_name;         /* NULL: none */
    const char *to_addr;
    const char *to_name;           /* NULL: none */
    const char *subject;
    const char *text;
    const char *html;
    const char *message_id;        /* the part before '@', [A-Za-z0-9._-] */
    const char *domain;            /* for Message-ID; NULL: the sender's domain */
    time_t date;
    const struct mail_attachment *att;
    size_t natt;
};

/* 1 if s is an address we can put in a header and an SMTP envelope. */
int mail_addr_ok(const char *s);

int mime_build(const struct mail *m, struct buf *out, struct app_error *err);

#endif
