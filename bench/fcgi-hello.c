/*
 * The smallest useful FastCGI responder: a fixed JSON body, no parsing, no logging.  The
 * benchmark serves it behind the same plain-HTTP nginx as prodenthub-fcgi, with as many
 * workers, to measure the ceiling (nginx + FastCGI) that our own handlers can approach but
 * not pass.
 *
 *   fcgi-hello ADDRESS [WORKERS]     e.g. fcgi-hello 127.0.0.1:9100 2
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

#define BODY "{\"success\":true,\"data\":{\"status\":\"ok\"}}"

/* libfcgi's printf knows no %zu, and a constant response needs no formatting at all. */
static const char response[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 39\r\n\r\n" BODY;

static void
serve(int fd)
{
    FCGX_Request r;

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    FCGX_InitRequest(&r, fd, 0);
    while (FCGX_Accept_r(&r) >= 0) {
        FCGX_PutStr(response, (int)sizeof(response) - 1, r.out);
        FCGX_Finish_r(&r);
    }
    _exit(0);
}

int
main(int argc, char **argv)
{
    int fd, i, n = argc > 2 ? atoi(argv[2]) : 2; /* checksrc: ok, bench tool argument */

    _Static_assert(sizeof(BODY) - 1 == 39, "Content-Length must match the body");
    if (argc < 2 || n < 1 || n > 64) {
        fprintf(stderr, "usage: fcgi-hello ADDRESS [WORKERS]\n");
        return 2;
    }
    FCGX_Init();
    fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0) {
        perror("FCGX_OpenSocket");
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (fork() == 0)
            serve(fd);
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
