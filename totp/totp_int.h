/*
 * totp_int: what the files of totp/ share and nobody else needs: the
 * in-memory view of one user's state record, and the calls by which
 * totp_verify.c reads and writes it through totp_state.c.  Everyone
 * outside totp/ uses totp.h.
 */
#ifndef RAMPART_TOTP_INT_H
#define RAMPART_TOTP_INT_H

#include "totp.h"

/* Widest search either side of now's step (TotpWindow allows 0..10). */
#define TOTP_WINDOW_LIMIT	10

/* Set in a record: every scratch code of the current set counts as used. */
#define TOTP_REC_SCRATCH_VOID	0x1

/* One user's replay and lockout state (docs/totp.md, section 7). */
struct totp_rec {
	char		user[TOTP_USER_MAX + 1];
	uint64_t	last_step;	/* last accepted step, 0: none */
	int64_t		locked_until;	/* unix time, 0: not locked */
	int64_t		floor_time;	/* its step + window: used */
	uint64_t	scratch_id;	/* the set the bits are for */
	int64_t		updated;	/* when last written */
	uint32_t	failures;	/* wrong codes in a row */
	uint32_t	scratch_used;	/* bit i: code i+1 used */
	uint32_t	flags;		/* TOTP_REC_* */
	long		slot;		/* record in the file, or -1 */
	int		dirty;		/* memory is ahead of the file */
	int		locked;		/* we hold its range lock */
};

/* sodium_init() and oath_init(), once.  0 or -1. */
int	totp_lib_init(void);

/* Login-name rules of policy user names.  1 if valid. */
int	totp_valid_user(const char *s);

/* Entry fields within their documented ranges.  1 if so. */
int	totp_entry_valid(const struct totp_entry *e);

/* A fingerprint of e's scratch set (0 if it has none). */
uint64_t totp_scratch_id(const struct totp_entry *e);

/*
 * The record of user, created in memory if new, refreshed from the file
 * and locked against other writers (rampartctl) until totp_state_put()
 * or totp_state_release().  NULL with err if the state cannot take it.
 */
struct totp_rec *totp_state_get(struct totp_state *st, const char *user,
	    char *err, size_t errlen);
/* Write r in place (fdatasync), unlock it.  1 if it reached the disk. */
int	totp_state_put(struct totp_state *st, struct totp_rec *r, time_t now);
void	totp_state_release(struct totp_state *st, struct totp_rec *r);
/* Retry writing records that could not be written before. */
void	totp_state_flush(struct totp_state *st);

#endif /* RAMPART_TOTP_INT_H */
