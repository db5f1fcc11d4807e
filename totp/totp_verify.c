/*
 * totp_verify: the second-factor verdict.  In this order: the lock, then
 * the code (TOTP, then scratch), then replay, then the outcome -- in
 * memory first, so a replay is refused even when the disk is full, then
 * in place on disk.  The rules are in docs/totp.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "totp_int.h"

static const char *const result_names[] = {
	[TOTP_OK] = "ok",
	[TOTP_OK_SCRATCH] = "ok-scratch",
	[TOTP_BAD] = "bad",
	[TOTP_REPLAY] = "replay",
	[TOTP_LOCKED] = "locked",
	[TOTP_NO_SECRET] = "no-secret",
	[TOTP_ERROR] = "error",
};

const char *
totp_result_name(enum totp_result r)
{
	if ((unsigned int)r >= sizeof(result_names) / sizeof(result_names[0]))
		return "unknown";
	return result_names[r];
}

/* LOCK_BASE seconds at LOCK_AFTER failures, doubling, at most LOCK_MAX. */
static long long
lock_seconds(uint32_t failures)
{
	long long t = TOTP_LOCK_BASE;
	uint32_t i;

	for (i = TOTP_LOCK_AFTER; i < failures && t < TOTP_LOCK_MAX; i++)
		t *= 2;
	return t > TOTP_LOCK_MAX ? TOTP_LOCK_MAX : t;
}

static void
count_failure(struct totp_rec *r, time_t now, const char *what,
    struct totp_verdict *v)
{
	long long t;

	if (r->failures < UINT32_MAX)
		r->failures++;
	if (r->failures < TOTP_LOCK_AFTER) {
		snprintf(v->reason, sizeof(v->reason), "%s (%" PRIu32
		    " failure%s in a row)", what, r->failures,
		    r->failures == 1 ? "" : "s");
		return;
	}
	t = lock_seconds(r->failures);
	r->locked_until = now + (time_t)t;
	v->locked_until = r->locked_until;
	snprintf(v->reason, sizeof(v->reason), "%s (%" PRIu32 " failures in "
	    "a row); locked for %llds", what, r->failures, t);
}

/*
 * What the record asks to be done once the entry is known: a floor left
 * by a corrupt record (docs/totp.md), scratch codes voided, or a new
 * scratch set whose codes are all unused.
 */
static void
apply_pending(struct totp_rec *r, const struct totp_entry *e,
    unsigned int window)
{
	uint64_t id = totp_scratch_id(e), floor_step;

	if (r->floor_time > 0) {
		floor_step = (uint64_t)r->floor_time / e->period + window;
		if (r->last_step < floor_step)
			r->last_step = floor_step;
		r->floor_time = 0;
	}
	if (r->flags & TOTP_REC_SCRATCH_VOID) {
		r->scratch_id = id;
		r->scratch_used = UINT32_MAX;
		r->flags &= ~(uint32_t)TOTP_REC_SCRATCH_VOID;
	} else if (r->scratch_id != id) {
		r->scratch_id = id;
		r->scratch_used = 0;
	}
}

static unsigned int
scratch_left(const struct totp_rec *r, const struct totp_entry *e)
{
	unsigned int i, n = 0;

	for (i = 0; i < e->nscratch; i++) {
		if (!(r->scratch_used & (1u << i)))
			n++;
	}
	return n;
}

static void
decide(struct totp_rec *r, const struct totp_entry *e, const char *code,
    time_t now, unsigned int window, struct totp_verdict *v)
{
	uint64_t step;
	int i;

	if (totp_code_step(e, code, now, window, &step) == 0) {
		if (step <= r->last_step) {
			v->result = TOTP_REPLAY;
			if (step == r->last_step)
				snprintf(v->reason, sizeof(v->reason), "code "
				    "reused (step %" PRIu64 " already used)",
				    step);
			else
				snprintf(v->reason, sizeof(v->reason), "code "
				    "reused (step %" PRIu64 " is before step %"
				    PRIu64 ", already used)", step,
				    r->last_step);
			return;
		}
		r->last_step = step;
		r->failures = 0;
		r->locked_until = 0;
		v->result = TOTP_OK;
		v->step = step;
		snprintf(v->reason, sizeof(v->reason), "code accepted (step %"
		    PRIu64 ")", step);
		return;
	}
	if ((i = totp_scratch_match(e, code)) >= 0) {
		if (r->scratch_used & (1u << i)) {
			v->result = TOTP_REPLAY;
			snprintf(v->reason, sizeof(v->reason), "scratch code "
			    "%d already used", i + 1);
			return;
		}
		r->scratch_used |= 1u << i;
		r->failures = 0;
		r->locked_until = 0;
		v->result = TOTP_OK_SCRATCH;
		snprintf(v->reason, sizeof(v->reason), "scratch code %d used "
		    "(%u left)", i + 1, scratch_left(r, e));
		return;
	}
	v->result = TOTP_BAD;
	count_failure(r, now, "wrong code", v);
}

void
totp_verify(struct totp_state *st, const struct totp_entry *e,
    const char *user, const char *code, time_t now, unsigned int window,
    struct totp_verdict *v)
{
	struct totp_rec *r;
	char err[128];

	memset(v, 0, sizeof(*v));
	v->result = TOTP_ERROR;
	if (window > TOTP_WINDOW_LIMIT) {
		snprintf(v->reason, sizeof(v->reason), "window %u is wider "
		    "than %d steps", window, TOTP_WINDOW_LIMIT);
		return;
	}
	if (st == NULL || (r = totp_state_get(st, user, err,
	    sizeof(err))) == NULL) {
		snprintf(v->reason, sizeof(v->reason), "state unusable: %s",
		    st == NULL ? "not open" : err);
		return;
	}
	if (r->locked_until > now) {
		v->result = TOTP_LOCKED;
		v->locked_until = r->locked_until;
		v->persisted = !r->dirty;
		snprintf(v->reason, sizeof(v->reason), "locked for %llds after "
		    "%" PRIu32 " failed codes", (long long)(r->locked_until -
		    now), r->failures);
		totp_state_release(st, r);
	} else {
		if (e == NULL) {
			v->result = TOTP_NO_SECRET;
			count_failure(r, now, "no TOTP secret for this user",
			    v);
		} else {
			apply_pending(r, e, window);
			decide(r, e, code == NULL ? "" : code, now, window, v);
		}
		v->persisted = totp_state_put(st, r, now);
	}
	totp_state_flush(st);
}
