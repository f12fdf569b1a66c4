/*
 * Sending one finished MIME message: over SMTP (libcurl; STARTTLS as configured, SES's SMTP
 * interface included) or through the SES v2 API (SendEmail with raw content, SigV4), as
 * EMAIL_TRANSPORT says.  One mailer per process keeps its connection between messages.
 *
 * Errors: APP_EUNAVAILABLE / APP_ETIMEOUT / APP_EUPSTREAM are worth retrying later;
 * APP_EUNPROCESSABLE means the message itself was refused (a 5xx reply to the recipient or
 * the content) and retrying will not help.
 */
#ifndef PH_MAILER_H
#define PH_MAILER_H

#include <stddef.h>

#include "errors.h"

struct cfg;
struct creds_provider;
struct mailer;

struct mailer *mailer_new(const struct cfg *cfg, struct creds_provider *creds);
void mailer_free(struct mailer *m);

int mailer_send(struct mailer *m, const char *from, const char *to, const char *msg,
                size_t len, struct app_error *err);

#endif
