/*
 * totp: the second factor (RFC 6238) -- the secrets file, the durable
 * per-user state that stops replays, and the one verification function the
 * gateway's master calls.  rampartctl uses the same code to enrol, import,
 * test and reset.  The file format is in docs/totp.md.
 *
 * Only the master and rampartctl link this: a session child never holds a
 * secret.  The replay check sits behind totp_verify() and struct
 * totp_state so that a fleet can later put a shared store (Redis SET NX
 * EX, DESIGN.md section 9) behind the same call.
 */
#ifndef RAMPART_TOTP_H
#define RAMPART_TOTP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "diag.h"

#define TOTP_USER_MAX		32	/* as policy user names */
#define TOTP_SECRET_MIN		10	/* 80 bits */
#define TOTP_SECRET_MAX		64
#define TOTP_SCRATCH_MAX	16
#define TOTP_SCRATCH_LEN	8	/* digits of a scratch code */
#define TOTP_SCRATCH_HASH	32
#define TOTP_CODE_MAX		8

enum totp_alg { TOTP_SHA1 = 0, TOTP_SHA256, TOTP_SHA512 };

struct totp_scratch {
	uint8_t		salt[16];
	uint8_t		hash[TOTP_SCRATCH_HASH];	/* keyed BLAKE2b */
};

struct totp_entry {
	char			user[TOTP_USER_MAX + 1];
	enum totp_alg		alg;
	unsigned int		digits;		/* 6, 7 or 8 */
	unsigned int		period;		/* seconds: 15..300, usually 30 */
	uint8_t			secret[TOTP_SECRET_MAX];
	size_t			secretlen;
	struct totp_scratch	scratch[TOTP_SCRATCH_MAX];
	size_t			nscratch;
	unsigned long		line;		/* in the file it came from */
};

struct totp_secrets;

/* ---- the secrets file ---- */

/*
 * Load a secrets file.  With check_owner, refuse a file that is not a
 * regular file owned by root or owner_uid, or that anyone but its owner
 * (and, if group_gid is its group, that group for reading) may read or
 * write: the message says what is wrong and the chmod/chown that fixes it.
 * Every bad line is reported as "file:line: message"; any error loads
 * nothing.  A missing file is an error too (callers that allow it check
 * first).  Returns 0 or -1.
 */
int	totp_secrets_load(const char *path, int check_owner, uid_t owner_uid,
	    gid_t group_gid, diag_fn *fn, void *ctx, struct totp_secrets **out);
/* Parse from a buffer (tests, fuzzer).  No permission checks. */
int	totp_secrets_load_buf(const char *name, const char *buf, size_t len,
	    diag_fn *fn, void *ctx, struct totp_secrets **out);
struct totp_secrets *totp_secrets_new(void);
void	totp_secrets_free(struct totp_secrets *s);

const struct totp_entry *totp_secrets_find(const struct totp_secrets *s,
	    const char *user);
size_t	totp_secrets_count(const struct totp_secrets *s);
/* Add, or replace the entry of the same user.  0 or -1 (no memory). */
int	totp_secrets_put(struct totp_secrets *s, const struct totp_entry *e);
/* 1 if the user had an entry and it is gone, 0 if there was none. */
int	totp_secrets_remove(struct totp_secrets *s, const char *user);
/*
 * Write atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory; mode 0600 (or the existing file's mode, owner and
 * group when it exists).  0, or -1 with err.
 */
int	totp_secrets_write(const struct totp_secrets *s, const char *path,
	    char *err, size_t errlen);

/* ---- codes ---- */

/*
 * A fresh entry: a random secret of secretlen bytes (20 = 160 bits),
 * and n scratch codes, written as 8-digit strings into codes (NUL
 * terminated) while only their salted hashes are kept in the entry.
 */
int	totp_entry_generate(struct totp_entry *e, const char *user,
	    enum totp_alg alg, unsigned int digits, unsigned int period,
	    size_t secretlen, char codes[][TOTP_SCRATCH_LEN + 1], size_t n);

/* Replace the scratch codes of e with these plain ones (import). */
int	totp_entry_set_scratch(struct totp_entry *e,
	    const char *const *codes, size_t n);

/*
 * Which time step code is valid for at now, searching now's step and
 * `window` steps either side (liboath).  0 and *step set, or -1.
 */
int	totp_code_step(const struct totp_entry *e, const char *code,
	    time_t now, unsigned int window, uint64_t *step);

/* The index of the scratch code that matches, or -1. */
int	totp_scratch_match(const struct totp_entry *e, const char *code);

/* "otpauth://totp/ISSUER:USER?secret=...&issuer=...&algorithm=..." */
int	totp_uri(const struct totp_entry *e, const char *issuer, char *buf,
	    size_t len);

/* Names for files and messages: "sha1", "sha256", "sha512". */
const char *totp_alg_name(enum totp_alg alg);
int	totp_alg_parse(const char *s, enum totp_alg *out);

/* ---- durable state and the verdict ---- */

struct totp_state;

/*
 * Open (creating if needed) the state file: fixed-size records written in
 * place, with room reserved ahead of need, so that recording a login
 * never needs a new disk block -- a full disk neither locks users out nor
 * lets a replay through.  0, or -1 with err.
 */
int	totp_state_open(const char *path, char *err, size_t errlen,
	    struct totp_state **out);
void	totp_state_close(struct totp_state *st);

/* Lockout: LOCK_AFTER failures in a row lock the factor for LOCK_BASE s,
 * doubling per further failure up to LOCK_MAX; a success resets. */
#define TOTP_LOCK_AFTER	3
#define TOTP_LOCK_BASE	30
#define TOTP_LOCK_MAX	900

enum totp_result {
	TOTP_OK = 0,		/* a fresh code */
	TOTP_OK_SCRATCH,	/* an unused scratch code, now used up */
	TOTP_BAD,		/* wrong code */
	TOTP_REPLAY,		/* its step is not after the last accepted */
	TOTP_LOCKED,		/* too many failures: try later */
	TOTP_NO_SECRET,		/* the user has no entry */
	TOTP_ERROR,		/* could not decide (state unusable) */
};

struct totp_verdict {
	enum totp_result	result;
	uint64_t		step;		/* accepted step (TOTP_OK) */
	time_t			locked_until;	/* TOTP_LOCKED, or a new lock */
	int			persisted;	/* the state reached the disk */
	char			reason[160];	/* for the audit record */
};

/*
 * The whole second-factor decision for user at now: lock, then the code
 * (TOTP, then scratch), then replay, then record the outcome -- in memory
 * first (so a replay is refused even if the disk is full), then in place
 * on disk (fdatasync).  e may be NULL (no secret): the attempt still
 * counts as a failure.
 */
void	totp_verify(struct totp_state *st, const struct totp_entry *e,
	    const char *user, const char *code, time_t now,
	    unsigned int window, struct totp_verdict *v);

/* Forget a user's state (rampartctl totp reset).  0 or -1. */
int	totp_state_reset(struct totp_state *st, const char *user);

const char *totp_result_name(enum totp_result r);

#endif /* RAMPART_TOTP_H */
