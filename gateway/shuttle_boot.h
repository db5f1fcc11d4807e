/*
 * shuttle_boot: swallow the bootstrap an sshuttle client streams on stdin
 * right after its exec request, without running or keeping any of it.
 *
 * Layout (docs/PROTOCOL.sshuttle section 2): exactly N bytes of assembler
 * code (N from the exec string, shuttle_exec.h), then module records
 * NAME "\n" LEN "\n" followed by LEN bytes (zlib data), then a terminator
 * line that is exactly "\n".  The mux frames start right after it.
 *
 * The swallower is incremental: feed it whatever chunks arrive, of any
 * size down to one byte; it keeps no data, only a few counters, so memory
 * is constant.  Limits, each an error when broken:
 *   - whole bootstrap (N + records + terminator) <= SHUTTLE_BOOT_MAX bytes;
 *   - at most SHUTTLE_BOOT_RECORDS records;
 *   - NAME: 1..SHUTTLE_BOOT_NAME_MAX bytes of [A-Za-z0-9_.], nothing else
 *     on the line (no spaces, no "\r");
 *   - LEN: 1..SHUTTLE_BOOT_LEN_DIGITS decimal digits, no sign, no leading
 *     zero (0 itself is allowed);
 *   - the first NAME must be "sshuttle" (a second check, after the exec
 *     string, that this really is sshuttle's bootstrap);
 *   - at least one record before the terminator.
 * A LEN that would overrun SHUTTLE_BOOT_MAX fails at once, not after the
 * bytes arrive.  The time limit on the whole bootstrap is the caller's.
 */
#ifndef RAMPART_SHUTTLE_BOOT_H
#define RAMPART_SHUTTLE_BOOT_H

#include <stddef.h>

#define SHUTTLE_BOOT_MAX	(1024 * 1024)	/* whole bootstrap */
#define SHUTTLE_BOOT_RECORDS	32
#define SHUTTLE_BOOT_NAME_MAX	256
#define SHUTTLE_BOOT_LEN_DIGITS	10

/* Errors: 0 is success; these are negative.  shuttle_boot_strerror(). */
#define SHUTTLE_BOOT_ERR_TOOBIG		-1	/* over BOOT_MAX */
#define SHUTTLE_BOOT_ERR_RECORDS	-2	/* over BOOT_RECORDS */
#define SHUTTLE_BOOT_ERR_NAME		-3	/* bad NAME line */
#define SHUTTLE_BOOT_ERR_FIRST		-4	/* not "sshuttle" */
#define SHUTTLE_BOOT_ERR_LEN		-5	/* bad LEN line */
#define SHUTTLE_BOOT_ERR_EMPTY		-6	/* no record at all */
#define SHUTTLE_BOOT_ERR_ARG		-7	/* caller error */
#define SHUTTLE_BOOT_ERR_NOMEM		-8

struct shuttle_boot;

/*
 * A swallower for a bootstrap whose assembler is assembler_len bytes
 * (SHUTTLE_EXEC_N_MIN..SHUTTLE_EXEC_N_MAX).  NULL if out of memory or
 * assembler_len is out of range.
 */
struct shuttle_boot *shuttle_boot_new(size_t assembler_len);
void	shuttle_boot_free(struct shuttle_boot *b);	/* NULL is fine */

/*
 * Feed buf[0..len).  *used gets how many bytes of buf belong to the
 * bootstrap; the rest (buf + *used) is mux data the caller must keep.
 * Returns 0 when all of buf was swallowed and more is needed (*used ==
 * len), 1 when the terminator was consumed (the bootstrap is complete;
 * *used <= len), or a negative error (*used is then how far it got).
 * Errors are sticky: once failed, or once complete, every later call
 * returns the same result with *used = 0.  len 0 is allowed.
 */
int	shuttle_boot_feed(struct shuttle_boot *b, const void *buf,
	    size_t len, size_t *used);

/* Progress, for logs and the audit record: bytes and records so far. */
size_t	shuttle_boot_total(const struct shuttle_boot *b);
unsigned int shuttle_boot_records(const struct shuttle_boot *b);

/* A short text for an error code; never NULL. */
const char *shuttle_boot_strerror(int err);

#endif /* RAMPART_SHUTTLE_BOOT_H */
