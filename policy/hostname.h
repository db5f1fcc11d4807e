/*
 * hostname: DNS names as policy sees them.
 *
 * A requested name is normalised once (lower case, one trailing dot
 * removed, strict label syntax) so that "DB.internal." and "db.internal"
 * can never be told apart by a rule.  Strings that look numeric but are not
 * strict IP literals ("10.1", "0x7f.1") are refused: resolvers would turn
 * them into addresses that no name rule was written for.
 */
#ifndef RAMPART_HOSTNAME_H
#define RAMPART_HOSTNAME_H

#include <stddef.h>

#define HOSTNAME_MAX	253	/* RFC 1035, without the trailing dot */

/*
 * Normalise name into out (HOSTNAME_MAX + 1 bytes).  Returns 0, or -1 with
 * a reason in err.
 */
int	hostname_normalise(const char *name, char *out, size_t outlen,
	    char *err, size_t errlen);

/*
 * Check and lower-case a rule pattern ("*.db.internal", "db-*.x").  '*'
 * matches any run of characters, dots included.  Returns 0 or -1 + err.
 */
int	hostname_pattern(const char *pat, char *out, size_t outlen, char *err,
	    size_t errlen);

/* 1 if the normalised name matches the normalised pattern. */
int	hostname_match(const char *pat, const char *name);

#endif /* RAMPART_HOSTNAME_H */
