/*
 * An RFC 5545 iCalendar file for one mock-exam sitting, attached to emails so the exam lands
 * in the candidate's calendar.  Sent as "text/calendar; method=PUBLISH; charset=UTF-8"
 * (RFC 6047: the MIME method parameter must match METHOD below).
 *
 * The output, every line ending in CRLF:
 *
 *   BEGIN:VCALENDAR
 *   VERSION:2.0
 *   PRODID:<ICS_PRODID>
 *   CALSCALE:GREGORIAN
 *   METHOD:PUBLISH
 *   BEGIN:VEVENT
 *   UID:<uid>
 *   DTSTAMP:<stamp>                    all times UTC, "YYYYMMDDTHHMMSSZ"
 *   DTSTART:<start>
 *   DTEND:<start + duration>
 *   SUMMARY:<summary>
 *   DESCRIPTION:<description>          when description is not NULL
 *   URL:<location_url>                 when location_url is not NULL
 *   ORGANIZER;CN="<name>":mailto:<email>   when organizer_email is not NULL (CN if a name)
 *   STATUS:CONFIRMED
 *   TRANSP:OPAQUE
 *   BEGIN:VALARM
 *   ACTION:DISPLAY
 *   DESCRIPTION:<summary>
 *   TRIGGER:-PT1H                      one hour before the start
 *   END:VALARM
 *   END:VEVENT
 *   END:VCALENDAR
 *
 * TEXT values (UID, SUMMARY, DESCRIPTION) are escaped: backslash, semicolon and comma get a
 * backslash, a newline becomes "\n", CR and the other control characters but TAB are dropped.
 * Content lines are folded at 75 octets (CRLF plus one space, which counts on the next line),
 * never inside a UTF-8 sequence nor inside a "\x" escape.
 */
#ifndef PH_ICS_H
#define PH_ICS_H

#include <time.h>

struct app_error;
struct buf;

#define ICS_PRODID "-//ProDentHub//prodenthub//EN"

struct ics_event {
    const char *uid;             /* e.g. "reg_…@prodenthub.com.au": stable across resends */
    time_t start;
    long duration_minutes;       /* 1..1440 */
    time_t stamp;                /* when this file was made (DTSTAMP) */
    const char *summary;
    const char *description;     /* may be NULL */
    const char *location_url;    /* URL property, may be NULL */
    const char *organizer_name;  /* may be NULL; needs organizer_email */
    /*
     * ORGANIZER's value is a calendar address (a mailto: URI), so a name alone cannot make
     * one.  May be NULL: no ORGANIZER then.  Best a monitored address; some clients send
     * replies to it.
     */
    const char *organizer_email;
};

/*
 * Append the calendar for e to out.  0; APP_EVALIDATION when a field is unusable (uid, summary
 * missing or empty; uid with a control character; text that is not UTF-8; a location_url with
 * a control character, a space, a non-ASCII byte or no scheme; an organizer name with a
 * control character or a double quote, a name without an email, an email not "local@domain"
 * in printable ASCII; duration outside 1..1440; a time outside the years 1970..9999);
 * APP_ETOOLARGE past out's ceiling.  On error out is left as it was and err says why.
 */
int ics_event(struct buf *out, const struct ics_event *e, struct app_error *err);

#endif
