#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsconfig.h"
#include "strparse.h"

int
awsconfig_lookup(const char *path, const char *section, const char *key, char *out,
                 size_t outlen)
{
    char line[4096];
    int in_section = 0, found = -1;
    FILE *f = fopen(path, "r");

    if (!f)
        return -1;
    while (found != 0 && fgets(line, sizeof(line), f)) {
        char *s = str_trim(line), *eq;

        if (*s == '#' || *s == ';' || *s == '\0')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');

            if (!end)
                continue;
            *end = '\0';
            in_section = strcmp(str_trim(s + 1), section) == 0;
            continue;
        }
        if (!in_section)
            continue;
        eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (strcmp(str_trim(s), key) != 0)
            continue;
        snprintf(out, outlen, "%s", str_trim(eq + 1));
        found = 0;
    }
    fclose(f);
    return found;
}

void
awsconfig_paths(char *creds_path, size_t clen, char *config_path, size_t cfglen)
{
    const char *home = getenv("HOME");
    const char *c = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *k = getenv("AWS_CONFIG_FILE");

    if (!home)
        home = "/nonexistent";
    if (c && *c)
        snprintf(creds_path, clen, "%s", c);
    else
        snprintf(creds_path, clen, "%s/.aws/credentials", home);
    if (k && *k)
        snprintf(config_path, cfglen, "%s", k);
    else
        snprintf(config_path, cfglen, "%s/.aws/config", home);
}

const char *
awsconfig_profile(void)
{
    const char *p = getenv("AWS_PROFILE");

    return p && *p ? p : "default";
}

int
awsconfig_profile_value(const char *key, char *out, size_t outlen)
{
    char creds[1024], conf[1024], section[256];
    const char *profile = awsconfig_profile();

    awsconfig_paths(creds, sizeof(creds), conf, sizeof(conf));
    if (strcmp(profile, "default") == 0)
        snprintf(section, sizeof(section), "default");
    else
        snprintf(section, sizeof(section), "profile %s", profile);
    return awsconfig_lookup(conf, section, key, out, outlen);
}
