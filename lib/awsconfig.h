/*
 * The AWS shared files (~/.aws/credentials and ~/.aws/config), read the way the SDKs read
 * them: INI sections, "[name]" in the credentials file, "[profile name]" (or "[default]") in
 * the config file; keys and values trimmed; '#' and ';' start comments.
 */
#ifndef PH_AWSCONFIG_H
#define PH_AWSCONFIG_H

#include <stddef.h>

/* Copy the value of key in section into out.  0 if found, -1 otherwise (no file, no key). */
int awsconfig_lookup(const char *path, const char *section, const char *key, char *out,
                     size_t outlen);

/* The paths the SDKs use: $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, and
 * $AWS_CONFIG_FILE or ~/.aws/config. */
void awsconfig_paths(char *creds_path, size_t clen, char *config_path, size_t cfglen);

/* The profile: $AWS_PROFILE, else "default". */
const char *awsconfig_profile(void);

/* Look key up for profile in the config file ("[profile p]", or "[default]"). */
int awsconfig_profile_value(const char *key, char *out, size_t outlen);

#endif
