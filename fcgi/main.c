/*
 * prodenthub-fcgi: the FastCGI worker pool behind nginx.
 *
 *   prodenthub-fcgi [-c FILE] [-t] [-p]
 *
 * Configuration comes from FILE (default SYSCONFDIR/prodenthub/prodenthub.conf, optional),
 * then the environment, which wins.  -t checks it and exits (like nginx -t); -p prints it
 * with secrets hidden.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../lib/cfg.h"
#include "../lib/log.h"
#include "../lib/ssm.h"
#include "master.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: prodenthub-fcgi [-c FILE] [-t] [-p]\n"
            "  -c FILE  configuration file (default %s/prodenthub/prodenthub.conf if present)\n"
            "  -t       check the configuration and exit\n"
            "  -p       print the effective configuration (secrets hidden) and exit\n"
            "  -V       print the version and exit\n",
            SYSCONFDIR);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 't'},
        {"print-config", no_argument, NULL, 'p'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = getenv("PRODENTHUB_CONFIG");
    int required = path && *path, check = 0, print = 0, opt;
    struct cfg cfg;
    char err[512];

    for (;;) {
        opt = getopt_long(argc, argv, "c:tpVh", longopts, NULL);
        if (opt == -1)
            break;
        switch (opt) {
        case 'c':
            path = optarg;
            required = 1;
            break;
        case 't':
            check = 1;
            break;
        case 'p':
            print = 1;
            break;
        case 'V':
            printf("prodenthub-fcgi %s\n", PACKAGE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!required)
        path = SYSCONFDIR "/prodenthub/prodenthub.conf";

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        fatalx("curl_global_init failed");
    if (cfg_load(&cfg, path, required, err, sizeof(err)) != 0) {
        fprintf(stderr, "prodenthub-fcgi: configuration error: %s\n", err);
        return 1;
    }
    /* Secrets named by NAME_SSM, read before any worker forks: they inherit the values. */
    if (ssm_resolve_cfg(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "prodenthub-fcgi: configuration error: %s\n", err);
        cfg_free(&cfg);
        return 1;
    }
    if (cfg_load_rules(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "prodenthub-fcgi: rules error: %s\n", err);
        cfg_free(&cfg);
        return 1;
    }
    if (print)
        cfg_dump(&cfg, STDOUT_FILENO);
    if (check || print) {
        if (check)
            fprintf(stderr, "prodenthub-fcgi: configuration OK\n");
        cfg_free(&cfg);
        return 0;
    }
    log_level_min = log_level_parse(cfg.log_level);
    opt = master_run(&cfg, path, required);
    cfg_free(&cfg);
    curl_global_cleanup();
    return opt;
}
