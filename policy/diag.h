/*
 * diag: error reporting for the policy and key parsers.
 *
 * Parsers never print.  They hand each message, already prefixed with
 * "file:line: ", to a callback, and count them; a caller decides where the
 * text goes (stderr for rampartctl, the log for the gateway, nothing for a
 * fuzzer).  A file with any error is rejected whole.
 */
#ifndef RAMPART_DIAG_H
#define RAMPART_DIAG_H

#include <stdarg.h>
#include <stddef.h>

/* Longest single message handed to a callback, including NUL. */
#define DIAG_MSG_MAX	512

typedef void diag_fn(void *ctx, const char *msg);

struct diag {
	diag_fn		*fn;	/* may be NULL: count only */
	void		*ctx;
	unsigned int	 count;	/* errors reported so far */
};

/* Report "file:line: message".  line 0 omits the line number. */
void	diag_at(struct diag *d, const char *file, unsigned long line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The same with a va_list, for parsers' own printf-like reporters. */
void	diag_vat(struct diag *d, const char *file, unsigned long line,
	    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/*
 * Copy an untrusted string into buf for use inside a message: printable
 * ASCII is kept, anything else becomes \xNN, and long input is cut with
 * "...".  Messages can therefore never carry control bytes or break lines.
 */
const char *diag_safe(const char *s, size_t len, char *buf, size_t buflen);

#endif /* RAMPART_DIAG_H */
