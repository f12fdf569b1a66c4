/*
 * A Bedrock Runtime stub for the unit tests (after stub.h's servers): each request gets the
 * next reply of its script, an error's type in the x-amzn-ErrorType header as Bedrock sends
 * it, optionally after a delay; a request past the script gets a 500.  Requests are recorded
 * and collected by stub_stop (stub.h).  stub_bedrock_start points
 * AWS_ENDPOINT_URL_BEDROCK_RUNTIME at it (plus prefix, "" for none): start it before the
 * configuration is loaded.
 */
#ifndef PH_UNIT_STUB_BEDROCK_H
#define PH_UNIT_STUB_BEDROCK_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub.h"

struct stub_bedrock_reply {
    int status;
    const char *type;           /* x-amzn-ErrorType, or NULL for none */
    long delay_ms;              /* before answering */
    const char *body;           /* NULL: {} */
};

/* A Converse answer with text t and usage in/out/total. */
#define STUB_CONVERSE(t, in, out, total) \
    "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"" t "\"}]}}," \
    "\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":" #in ",\"outputTokens\":" #out \
    ",\"totalTokens\":" #total "},\"metrics\":{\"latencyMs\":42}}"

static inline void
stub_bedrock_serve(int lfd, int wfd, const struct stub_bedrock_reply *script, size_t nscript)
{
    static char req[262144], out[65536];
    char tag[32], type[160];
    size_t next = 0;

    signal(SIGPIPE, SIG_IGN);   /* a client that timed out has gone */
    alarm(30);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        for (;;) {
            const struct stub_bedrock_reply *r = next < nscript ? &script[next] : NULL;
            long len = stub_read_request(fd, req, sizeof(req));
            int n;

            if (len < 0)
                break;
            n = snprintf(tag, sizeof(tag), "%ld\n", len);
            unit_write_all(wfd, tag, (size_t)n);
            unit_write_all(wfd, req, (size_t)len);
            next++;
            if (r && r->delay_ms > 0)
                usleep((useconds_t)r->delay_ms * 1000);
            type[0] = '\0';
            if (!r || r->type)
                snprintf(type, sizeof(type), "x-amzn-ErrorType: %s\r\n",
                         r ? r->type : "InternalServerException");
            n = snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                         "%sContent-Length: %zu\r\n\r\n%s", r ? r->status : 500, type,
                         strlen(r && r->body ? r->body : "{}"), r && r->body ? r->body : "{}");
            if (n > 0 && (size_t)n < sizeof(out) && write(fd, out, (size_t)n) < 0)
                break;
        }
        close(fd);
    }
}

static inline void
stub_bedrock_start(struct stub *s, const struct stub_bedrock_reply *script, size_t nscript,
                   const char *prefix)
{
    char url[128];
    int fd, w;

    if (stub_fork(s, &fd, &w)) {
        stub_bedrock_serve(fd, w, script, nscript);
        _exit(0);
    }
    snprintf(url, sizeof(url), "%s%s", s->base, prefix);
    setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url, 1);
}

#endif
