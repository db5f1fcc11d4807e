/*
 * conv: typed converters for configuration values (counts, durations,
 * dates, port lists), shared by the policy parser and gateway.conf.
 * Each returns 0 on success, or -1 with a reason in err that a user can act
 * on ("port range 90-80 is reversed").
 */
#ifndef RAMPART_CONV_H
#define RAMPART_CONV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CONV_PORTS_MAX	64	/* ranges in one port list */

struct port_range {
	uint16_t	lo, hi;
};

/*
 * 1 if s is a login name as Rampart accepts them everywhere (policy users
 * and groups, the gateway's User, TOTP users): lower case [a-z0-9_.-],
 * starting with a letter or '_', 1..max characters.
 */
int	conv_name_ok(const char *s, size_t max);

/* Decimal integer in [min, max]; no sign, no leading zeros. */
int	conv_uint(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out, char *err, size_t errlen);

/* "90", "30s", "15m", "8h", "2d", "1h30m": seconds in [1, max]. */
int	conv_duration(const char *s, unsigned long max, unsigned long *out,
	    char *err, size_t errlen);

/* Seconds back to the shortest such text, e.g. 5400 -> "1h30m". */
void	conv_duration_str(unsigned long secs, char *buf, size_t len);

/*
 * "YYYY-MM-DD" (the end of that day, UTC: an account that expires
 * 2027-06-30 still works on that day) or "YYYY-MM-DDTHH:MM:SSZ".
 * *out is the first second at which the date has passed.
 */
int	conv_date(const char *s, time_t *out, char *err, size_t errlen);

/* "22", "22,443,8000-8999", "any".  Fills up to CONV_PORTS_MAX ranges. */
int	conv_ports(const char *s, struct port_range *out, size_t *n,
	    char *err, size_t errlen);

/* 1 if port lies in one of the ranges. */
int	conv_ports_match(const struct port_range *r, size_t n,
	    unsigned int port);

/* Ranges back to "22,443,8000-8999" or "any". */
void	conv_ports_str(const struct port_range *r, size_t n, char *buf,
	    size_t len);

#endif /* RAMPART_CONV_H */
