/*
 * totp_state: the durable replay and lockout state (TotpState).
 *
 * A header and fixed-size records (docs/totp.md, "The state file").  A
 * record is only ever rewritten in place -- one pwrite, then fdatasync --
 * and room for new users is reserved ahead of need (posix_fallocate, then
 * zeros written over it), so recording a login never needs a new disk
 * block: a full disk neither locks users out nor lets a replay through.
 *
 * The process keeps every record in memory as well.  Memory decides; the
 * file remembers across restarts.  A record that cannot be written stays
 * "dirty" and is retried on every later call.  Before a decision the
 * record is re-read under a byte-range lock, so that rampartctl can reset
 * a user while the gateway runs.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "totp_int.h"

#define REC_SIZE	128
#define REC_CHUNK	64		/* records reserved at a time */
#define REC_MAX		100000		/* users, as in a policy */
#define STATE_MAGIC	"RAMPTOTP"
#define STATE_VERSION	1

/* Byte offsets in the header and in a record (little-endian). */
#define H_VERSION	8
#define H_RECSIZE	12
#define H_CREATED	16
#define R_USER		0
#define R_LAST		32
#define R_LOCKED	40
#define R_FLOOR		48
#define R_SCRATCHID	56
#define R_UPDATED	64
#define R_FAILURES	72
#define R_SCRATCH	76
#define R_FLAGS		80
#define R_SUM		112
#define SUM_LEN		16

/* Waiting for another process's byte-range lock: 50 x 2 ms at most. */
#define LOCK_TRIES	50

enum { SLOT_FREE = 0, SLOT_USED, SLOT_BAD };
enum { REC_EMPTY, REC_GOOD, REC_BAD_NAMED, REC_BAD };

struct totp_state {
	int		 fd;
	char		*path;
	struct totp_rec	*recs;
	size_t		 nrecs, caprecs;
	unsigned char	*slots;		/* SLOT_* per record, [0]: header */
	size_t		 nslots;	/* 0: no header on disk yet */
	size_t		 capslots;
	time_t		 floor;		/* when a corrupt record was found */
	size_t		 ndirty;
};

/* ---- encoding ---- */

static void
put64(uint8_t *p, uint64_t v)
{
	size_t i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	size_t i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* BLAKE2b-128 of the record's first 112 bytes and its slot number. */
static void
rec_sum(const uint8_t *b, long slot, uint8_t out[SUM_LEN])
{
	crypto_generichash_state gs;
	uint8_t sl[8];

	put64(sl, (uint64_t)slot);
	crypto_generichash_init(&gs, NULL, 0, SUM_LEN);
	crypto_generichash_update(&gs, b, R_SUM);
	crypto_generichash_update(&gs, sl, sizeof(sl));
	crypto_generichash_final(&gs, out, SUM_LEN);
}

static void
rec_encode(const struct totp_rec *r, uint8_t b[REC_SIZE])
{
	memset(b, 0, REC_SIZE);
	memcpy(b + R_USER, r->user, strlen(r->user));
	put64(b + R_LAST, r->last_step);
	put64(b + R_LOCKED, (uint64_t)r->locked_until);
	put64(b + R_FLOOR, (uint64_t)r->floor_time);
	put64(b + R_SCRATCHID, r->scratch_id);
	put64(b + R_UPDATED, (uint64_t)r->updated);
	put32(b + R_FAILURES, r->failures);
	put32(b + R_SCRATCH, r->scratch_used);
	put32(b + R_FLAGS, r->flags);
	rec_sum(b, r->slot, b + R_SUM);
}

/* REC_*: empty (all zero), good, or corrupt with or without a name. */
static int
rec_decode(const uint8_t *b, long slot, struct totp_rec *r)
{
	uint8_t sum[SUM_LEN];
	size_t i, n;
	int named;

	for (i = 0; i < REC_SIZE && b[i] == 0; i++)
		;
	if (i == REC_SIZE)
		return REC_EMPTY;
	memset(r, 0, sizeof(*r));
	r->slot = -1;
	n = strnlen((const char *)b + R_USER, TOTP_USER_MAX);
	memcpy(r->user, b + R_USER, n);
	for (i = n; i < TOTP_USER_MAX && b[R_USER + i] == 0; i++)
		;
	named = i == TOTP_USER_MAX && totp_valid_user(r->user);
	rec_sum(b, slot, sum);
	if (!named || sodium_memcmp(sum, b + R_SUM, SUM_LEN) != 0)
		return named ? REC_BAD_NAMED : REC_BAD;
	r->last_step = get64(b + R_LAST);
	r->locked_until = (int64_t)get64(b + R_LOCKED);
	r->floor_time = (int64_t)get64(b + R_FLOOR);
	r->scratch_id = get64(b + R_SCRATCHID);
	r->updated = (int64_t)get64(b + R_UPDATED);
	r->failures = get32(b + R_FAILURES);
	r->scratch_used = get32(b + R_SCRATCH);
	r->flags = get32(b + R_FLAGS);
	r->slot = slot;
	return REC_GOOD;
}

/* ---- I/O ---- */

/* Bytes read before EOF, or -1. */
static ssize_t
pread_some(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pwrite(fd, (const char *)buf + done, n - done,
		    off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/*
 * An open-file-description lock on one record (or the header, which
 * guards allocation).  Never wait long: past LOCK_TRIES go on without
 * it, since a stuck rampartctl must not stop logins.  1 if held.
 */
static int
range_lock(int fd, long slot)
{
	struct timespec ts = { 0, 2000000 };
	struct flock fl;
	int i;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)slot * REC_SIZE;
	fl.l_len = REC_SIZE;
	for (i = 0; i < LOCK_TRIES; i++) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return 1;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
range_unlock(int fd, long slot)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)slot * REC_SIZE;
	fl.l_len = REC_SIZE;
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}

/* ---- the tables ---- */

static struct totp_rec *
rec_find(struct totp_state *st, const char *user)
{
	size_t i;

	for (i = 0; i < st->nrecs; i++) {
		if (strcmp(st->recs[i].user, user) == 0)
			return &st->recs[i];
	}
	return NULL;
}

/* May move every record: callers hold no other record pointer. */
static struct totp_rec *
rec_add(struct totp_state *st, const char *user)
{
	struct totp_rec *nr, *r;
	size_t ncap;

	if (st->nrecs >= REC_MAX)
		return NULL;
	if (st->nrecs == st->caprecs) {
		ncap = st->caprecs == 0 ? 64 : st->caprecs * 2;
		if ((nr = realloc(st->recs, ncap * sizeof(*nr))) == NULL)
			return NULL;
		st->recs = nr;
		st->caprecs = ncap;
	}
	r = &st->recs[st->nrecs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->user, sizeof(r->user), "%s", user);
	r->slot = -1;
	return r;
}

static int
slots_grow(struct totp_state *st, size_t n)
{
	unsigned char *ns;
	size_t ncap;

	if (n <= st->capslots)
		return 0;
	for (ncap = st->capslots ? st->capslots : 128; ncap < n; ncap *= 2)
		;
	if ((ns = realloc(st->slots, ncap)) == NULL)
		return -1;
	memset(ns + st->capslots, SLOT_FREE, ncap - st->capslots);
	st->slots = ns;
	st->capslots = ncap;
	return 0;
}

static void
mark_dirty(struct totp_state *st, struct totp_rec *r)
{
	if (!r->dirty) {
		r->dirty = 1;
		st->ndirty++;
	}
}

static void
mark_clean(struct totp_state *st, struct totp_rec *r)
{
	if (r->dirty) {
		r->dirty = 0;
		st->ndirty--;
	}
}

/*
 * A record found corrupt (or twice) at time now: its last step is
 * unknown, so every step up to now's (plus the window) counts as used
 * and every scratch code of the current set as spent; see docs/totp.md.
 */
static void
distrust(struct totp_state *st, struct totp_rec *r, time_t now)
{
	if (r->floor_time < now)
		r->floor_time = now;
	r->flags |= TOTP_REC_SCRATCH_VOID;
	mark_dirty(st, r);
}

/* Fold a copy found on disk into r: the stricter of each. */
static void
merge(struct totp_rec *r, const struct totp_rec *d)
{
	if (d->last_step > r->last_step)
		r->last_step = d->last_step;
	if (d->locked_until > r->locked_until)
		r->locked_until = d->locked_until;
	if (d->floor_time > r->floor_time)
		r->floor_time = d->floor_time;
	if (d->failures > r->failures)
		r->failures = d->failures;
	if (d->scratch_id == r->scratch_id)
		r->scratch_used |= d->scratch_used;
	else
		r->flags |= TOTP_REC_SCRATCH_VOID;
	r->flags |= d->flags;
}

/* ---- the file ---- */

static int
check_file(struct totp_state *st, char *err, size_t errlen)
{
	struct passwd *pw;
	struct stat sb;
	uid_t euid = geteuid();

	if (fstat(st->fd, &sb) != 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", st->path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1) {
		snprintf(err, errlen, "%s: is not a regular file with a single "
		    "link", st->path);
		return -1;
	}
	/* Root may open the gateway user's file (rampartctl totp reset). */
	if (euid != 0 && sb.st_uid != euid && sb.st_uid != 0) {
		pw = getpwuid(euid);
		snprintf(err, errlen, "%s: owned by uid %lu, not by root or "
		    "%s; run: chown %s %s", st->path, (unsigned long)sb.st_uid,
		    pw ? pw->pw_name : "this user", pw ? pw->pw_name : "USER",
		    st->path);
		return -1;
	}
	if (sb.st_mode & 022) {
		snprintf(err, errlen, "%s: writable by group or others (mode "
		    "%04o); run: chmod 0600 %s", st->path,
		    (unsigned int)(sb.st_mode & 07777), st->path);
		return -1;
	}
	return 0;
}

static void
fsync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static int
write_header(struct totp_state *st)
{
	uint8_t h[REC_SIZE];

	memset(h, 0, sizeof(h));
	memcpy(h, STATE_MAGIC, 8);
	put32(h + H_VERSION, STATE_VERSION);
	put32(h + H_RECSIZE, REC_SIZE);
	put64(h + H_CREATED, (uint64_t)time(NULL));
	if (pwrite_all(st->fd, h, sizeof(h), 0) != 0 ||
	    fdatasync(st->fd) != 0)
		return -1;
	fsync_dir(st->path);
	return 0;
}

/*
 * Check the header, or write it if the file is new (or was cut short
 * while being created).  If it cannot be written the state lives in
 * memory (nslots stays 0) and later calls try again.
 */
static int
read_header(struct totp_state *st, off_t *sizep, char *err, size_t errlen)
{
	uint8_t h[REC_SIZE];
	struct stat sb;
	ssize_t n;
	size_t i;

	if (fstat(st->fd, &sb) != 0 ||
	    (n = pread_some(st->fd, h, sizeof(h), 0)) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", st->path,
		    strerror(errno));
		return -1;
	}
	*sizep = sb.st_size;
	if (n < REC_SIZE) {
		for (i = 0; i < (size_t)n && (h[i] == 0 ||
		    (i < 8 && h[i] == (uint8_t)STATE_MAGIC[i])); i++)
			;
		if (i < (size_t)n)
			goto bad;
		if (slots_grow(st, 1) != 0 || write_header(st) != 0)
			return 0;
		*sizep = REC_SIZE;
	} else if (memcmp(h, STATE_MAGIC, 8) != 0)
		goto bad;
	else if (get32(h + H_VERSION) != STATE_VERSION) {
		snprintf(err, errlen, "%s: state file version %u; this build "
		    "reads version %d", st->path, get32(h + H_VERSION),
		    STATE_VERSION);
		return -1;
	} else if (get32(h + H_RECSIZE) != REC_SIZE) {
		snprintf(err, errlen, "%s: record size %u, expected %d",
		    st->path, get32(h + H_RECSIZE), REC_SIZE);
		return -1;
	}
	if (slots_grow(st, 1) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->slots[0] = SLOT_USED;
	if (st->nslots == 0)
		st->nslots = 1;
	return 0;
 bad:
	snprintf(err, errlen, "%s: not a Rampart TOTP state file (no "
	    "\"%s\" header); move it away to start afresh", st->path,
	    STATE_MAGIC);
	return -1;
}

/* Take in slots the file has beyond what we know; the old count. */
static size_t
take_size(struct totp_state *st, off_t size)
{
	size_t old = st->nslots, n;

	n = (size_t)((size + REC_SIZE - 1) / REC_SIZE);
	if (n > REC_MAX + 1)
		n = REC_MAX + 1;
	if (n > old && slots_grow(st, n) == 0) {
		memset(st->slots + old, SLOT_FREE, n - old);
		st->nslots = n;
	}
	return old;
}

static void
classify(struct totp_state *st, long slot, const uint8_t *b, int partial,
    time_t now)
{
	struct totp_rec d, *r;
	int kind;

	kind = rec_decode(b, slot, &d);
	if (partial) {
		/* Only a crash mid-extension leaves a cut record: unusable. */
		st->slots[slot] = SLOT_BAD;
		if (kind != REC_EMPTY)
			st->floor = now;
		return;
	}
	switch (kind) {
	case REC_EMPTY:
		st->slots[slot] = SLOT_FREE;
		return;
	case REC_GOOD:
	case REC_BAD_NAMED:
		if (kind == REC_BAD_NAMED)
			st->floor = now;
		if ((r = rec_find(st, d.user)) != NULL) {
			st->slots[slot] = SLOT_BAD;	/* a second copy */
			distrust(st, r, now);
			return;
		}
		st->slots[slot] = SLOT_USED;
		if ((r = rec_add(st, d.user)) == NULL)
			return;
		if (kind == REC_GOOD)
			*r = d;
		r->slot = slot;
		if (kind == REC_BAD_NAMED)
			distrust(st, r, now);
		return;
	default:
		/* No name to give it to: every new user gets the floor. */
		st->slots[slot] = SLOT_BAD;
		st->floor = now;
		return;
	}
}

/* Read and classify slots [from, nslots) of a file of size bytes. */
static int
scan(struct totp_state *st, size_t from, off_t size, time_t now)
{
	uint8_t buf[REC_CHUNK * REC_SIZE];
	size_t base, k, j;
	off_t end;

	for (base = from; base < st->nslots; base += k) {
		k = st->nslots - base < REC_CHUNK ? st->nslots - base :
		    REC_CHUNK;
		memset(buf, 0, sizeof(buf));
		if (pread_some(st->fd, buf, k * REC_SIZE,
		    (off_t)base * REC_SIZE) < 0)
			return -1;
		for (j = 0; j < k; j++) {
			end = (off_t)(base + j + 1) * REC_SIZE;
			classify(st, (long)(base + j), buf + j * REC_SIZE,
			    end > size, now);
		}
	}
	return 0;
}

static int
has_free(const struct totp_state *st)
{
	size_t i;

	for (i = 1; i < st->nslots; i++) {
		if (st->slots[i] == SLOT_FREE)
			return 1;
	}
	return 0;
}

/*
 * Room for REC_CHUNK more records.  posix_fallocate gets the blocks, and
 * writing zeros over them turns them into plain written blocks, so the
 * first real write into one needs no extent conversion (ext4, XFS) --
 * nor any block at all.  -1 with errno (ENOSPC) if the disk is full.
 */
static int
reserve(struct totp_state *st)
{
	static const uint8_t zero[REC_CHUNK * REC_SIZE];
	off_t off;
	int r;

	if (st->nslots == 0 || st->nslots - 1 + REC_CHUNK > REC_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (slots_grow(st, st->nslots + REC_CHUNK) != 0)
		return -1;
	off = (off_t)st->nslots * REC_SIZE;
	if ((r = posix_fallocate(st->fd, off, sizeof(zero))) != 0) {
		errno = r;
		return -1;
	}
	if (pwrite_all(st->fd, zero, sizeof(zero), off) != 0 ||
	    fdatasync(st->fd) != 0)
		return -1;
	memset(st->slots + st->nslots, SLOT_FREE, REC_CHUNK);
	st->nslots += REC_CHUNK;
	return 0;
}

/* Slot i for r if it is still empty on disk.  1 if r got it. */
static int
claim(struct totp_state *st, long i, struct totp_rec *r)
{
	uint8_t b[REC_SIZE];
	struct totp_rec d, *o;

	if (pread_some(st->fd, b, sizeof(b), (off_t)i * REC_SIZE) !=
	    REC_SIZE) {
		st->slots[i] = SLOT_BAD;
		return 0;
	}
	switch (rec_decode(b, i, &d)) {
	case REC_EMPTY:
		st->slots[i] = SLOT_USED;
		r->slot = i;
		return 1;
	case REC_GOOD:
		/* Another process wrote here since we looked. */
		st->slots[i] = SLOT_USED;
		o = strcmp(d.user, r->user) == 0 ? r : rec_find(st, d.user);
		if (o != NULL && o->slot < 0) {
			merge(o, &d);
			o->slot = i;
		}
		return o == r;
	default:
		st->slots[i] = SLOT_BAD;
		return 0;
	}
}

/* A slot for r, reserving more room if none is left.  0 or -1. */
static int
alloc_slot(struct totp_state *st, struct totp_rec *r)
{
	struct stat sb;
	off_t size;
	size_t i;
	int held, rc = -1;
	char err[256];

	held = range_lock(st->fd, 0);
	if (st->nslots == 0 && (read_header(st, &size, err,
	    sizeof(err)) != 0 || st->nslots == 0))
		goto out;
	if (fstat(st->fd, &sb) == 0)
		(void)take_size(st, sb.st_size);
	for (i = 1; r->slot < 0; i++) {
		if (i >= st->nslots) {
			if (reserve(st) != 0)
				goto out;
			i = 0;
			continue;
		}
		if (st->slots[i] == SLOT_FREE)
			(void)claim(st, (long)i, r);
	}
	if (!has_free(st))
		(void)reserve(st);	/* ahead of need; may fail */
	rc = 0;
 out:
	if (held)
		range_unlock(st->fd, 0);
	return rc;
}

static int
write_rec(struct totp_state *st, struct totp_rec *r)
{
	uint8_t b[REC_SIZE];

	if (r->slot < 0) {
		if (alloc_slot(st, r) != 0)
			return 0;
		if (!r->locked)
			r->locked = range_lock(st->fd, r->slot);
	}
	rec_encode(r, b);
	if (pwrite_all(st->fd, b, sizeof(b), (off_t)r->slot * REC_SIZE) != 0 ||
	    fdatasync(st->fd) != 0)
		return 0;
	mark_clean(st, r);
	return 1;
}

/* Adopt the file's copy of r unless memory is ahead of it. */
static void
refresh(struct totp_state *st, struct totp_rec *r)
{
	uint8_t b[REC_SIZE];
	struct totp_rec d;

	if (r->dirty)
		return;
	if (pread_some(st->fd, b, sizeof(b), (off_t)r->slot * REC_SIZE) !=
	    REC_SIZE || rec_decode(b, r->slot, &d) != REC_GOOD ||
	    strcmp(d.user, r->user) != 0) {
		mark_dirty(st, r);	/* keep ours; rewrite it */
		return;
	}
	d.slot = r->slot;
	d.locked = r->locked;
	*r = d;
}

/* Look again at every slot we saw empty, and at any the file gained. */
static void
rescan_free(struct totp_state *st)
{
	uint8_t b[REC_SIZE];
	struct stat sb;
	size_t i;
	int held;

	held = range_lock(st->fd, 0);
	if (fstat(st->fd, &sb) == 0) {
		(void)take_size(st, sb.st_size);
		for (i = 1; i < st->nslots; i++) {
			if (st->slots[i] != SLOT_FREE)
				continue;
			memset(b, 0, sizeof(b));
			if (pread_some(st->fd, b, sizeof(b),
			    (off_t)i * REC_SIZE) < 0)
				continue;
			classify(st, (long)i, b,
			    (off_t)(i + 1) * REC_SIZE > sb.st_size, time(NULL));
		}
	}
	if (held)
		range_unlock(st->fd, 0);
}

static void
state_free(struct totp_state *st)
{
	if (st->fd >= 0)
		close(st->fd);
	free(st->recs);
	free(st->slots);
	free(st->path);
	free(st);
}

/* ---- the interface ---- */

int
totp_state_open(const char *path, char *err, size_t errlen,
    struct totp_state **out)
{
	struct totp_state *st;
	off_t size;
	int held, r;

	*out = NULL;
	if (path == NULL || totp_lib_init() != 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		free(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (st->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link; name the file itself" :
		    strerror(errno));
		state_free(st);
		return -1;
	}
	if (check_file(st, err, errlen) != 0) {
		state_free(st);
		return -1;
	}
	held = range_lock(st->fd, 0);
	r = read_header(st, &size, err, errlen);
	if (r == 0 && size > (off_t)(REC_MAX + 1) * REC_SIZE) {
		snprintf(err, errlen, "%s: more than %d records", path,
		    REC_MAX);
		r = -1;
	}
	if (r == 0 && st->nslots > 0) {
		(void)take_size(st, size);
		if ((r = scan(st, 1, size, time(NULL))) != 0)
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
		else if (!has_free(st))
			(void)reserve(st);
	}
	if (held)
		range_unlock(st->fd, 0);
	if (r != 0) {
		state_free(st);
		return -1;
	}
	totp_state_flush(st);	/* repair what we distrust */
	*out = st;
	return 0;
}

void
totp_state_close(struct totp_state *st)
{
	if (st == NULL)
		return;
	if (st->fd >= 0)
		totp_state_flush(st);
	state_free(st);
}

struct totp_rec *
totp_state_get(struct totp_state *st, const char *user, char *err,
    size_t errlen)
{
	struct totp_rec *r;

	if (st == NULL || !totp_valid_user(user)) {
		snprintf(err, errlen, "invalid user name");
		return NULL;
	}
	if ((r = rec_find(st, user)) == NULL) {
		if ((r = rec_add(st, user)) == NULL) {
			snprintf(err, errlen, "no room for another user (%d "
			    "at most)", REC_MAX);
			return NULL;
		}
		/* It may be the owner of a record we could not read. */
		r->floor_time = st->floor;
	}
	if (r->slot > 0) {
		r->locked = range_lock(st->fd, r->slot);
		refresh(st, r);
	}
	return r;
}

void
totp_state_release(struct totp_state *st, struct totp_rec *r)
{
	if (r->locked)
		range_unlock(st->fd, r->slot);
	r->locked = 0;
}

int
totp_state_put(struct totp_state *st, struct totp_rec *r, time_t now)
{
	int ok;

	r->updated = now;
	mark_dirty(st, r);
	ok = write_rec(st, r);
	totp_state_release(st, r);
	return ok;
}

void
totp_state_flush(struct totp_state *st)
{
	struct totp_rec *r;
	size_t i;
	int noroom = 0;

	for (i = 0; i < st->nrecs && st->ndirty > 0; i++) {
		r = &st->recs[i];
		if (!r->dirty || (r->slot < 0 && noroom))
			continue;
		if (r->slot > 0)
			r->locked = range_lock(st->fd, r->slot);
		if (!write_rec(st, r) && r->slot < 0)
			noroom = 1;	/* the disk is still full */
		totp_state_release(st, r);
	}
}

int
totp_state_reset(struct totp_state *st, const char *user)
{
	struct totp_rec *r;

	if (st == NULL || !totp_valid_user(user))
		return -1;
	if ((r = rec_find(st, user)) == NULL && st->nslots > 0) {
		/* The gateway may have added it since we opened the file. */
		rescan_free(st);
		r = rec_find(st, user);
	}
	if (r == NULL)
		return 0;	/* nothing to forget */
	if (r->slot > 0) {
		r->locked = range_lock(st->fd, r->slot);
		refresh(st, r);
	}
	/* The scratch bits stay: a used scratch code must not come back. */
	r->last_step = 0;
	r->failures = 0;
	r->locked_until = 0;
	return totp_state_put(st, r, time(NULL)) ? 0 : -1;
}
