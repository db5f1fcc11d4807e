/*
 * shuttle_boot: swallow sshuttle's stdin bootstrap (see shuttle_boot.h).
 *
 * A byte-driven state machine that keeps counters, never data: the
 * assembler and the module bodies are skipped in bulk, only the short
 * NAME and LEN lines are looked at byte by byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shuttle_boot.h"
#include "shuttle_exec.h"

enum boot_state {
	BOOT_ASM,	/* skipping the assembler's N bytes */
	BOOT_NAME,	/* in a NAME line (or the terminator) */
	BOOT_LEN,	/* in a LEN line */
	BOOT_BODY,	/* skipping LEN bytes of module data */
	BOOT_DONE
};

struct shuttle_boot {
	enum boot_state	state;
	int		err;		/* sticky; 0 while fine */
	size_t		total;		/* bytes swallowed */
	uint64_t	skip;		/* left in BOOT_ASM or BOOT_BODY */
	unsigned int	records;	/* NAME lines seen */
	size_t		linelen;	/* bytes in the current line */
	int		first_ok;	/* "sshuttle" so far */
	uint64_t	len;		/* LEN being read */
};

static const char first_name[] = "sshuttle";

struct shuttle_boot *
shuttle_boot_new(size_t assembler_len)
{
	struct shuttle_boot *b;

	if (assembler_len < SHUTTLE_EXEC_N_MIN ||
	    assembler_len > SHUTTLE_EXEC_N_MAX)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->state = BOOT_ASM;
	b->skip = assembler_len;
	return b;
}

void
shuttle_boot_free(struct shuttle_boot *b)
{
	free(b);
}

static int
name_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* One byte of a NAME line.  0 to go on, 1 when complete, or an error. */
static int
boot_name(struct shuttle_boot *b, uint8_t c)
{
	if (c == '\n') {
		if (b->linelen == 0)	/* the empty terminator line */
			return b->records == 0 ? SHUTTLE_BOOT_ERR_EMPTY : 1;
		if (b->records == 1 && (!b->first_ok ||
		    b->linelen != sizeof(first_name) - 1))
			return SHUTTLE_BOOT_ERR_FIRST;
		b->state = BOOT_LEN;
		b->linelen = 0;
		b->len = 0;
		return 0;
	}
	if (!name_char(c))
		return SHUTTLE_BOOT_ERR_NAME;
	if (b->linelen == 0) {
		/* A record starts: count it before reading any more of it. */
		if (b->records == SHUTTLE_BOOT_RECORDS)
			return SHUTTLE_BOOT_ERR_RECORDS;
		b->records++;
		b->first_ok = 1;
	}
	if (b->linelen == SHUTTLE_BOOT_NAME_MAX)
		return SHUTTLE_BOOT_ERR_NAME;
	if (b->records == 1 && (b->linelen >= sizeof(first_name) - 1 ||
	    first_name[b->linelen] != (char)c))
		b->first_ok = 0;
	b->linelen++;
	return 0;
}

/* One byte of a LEN line.  0 to go on, or an error. */
static int
boot_len(struct shuttle_boot *b, uint8_t c)
{
	if (c == '\n') {
		if (b->linelen == 0)
			return SHUTTLE_BOOT_ERR_LEN;
		/* This '\n', the body and a terminator byte must fit. */
		if (b->len + 2 > (uint64_t)(SHUTTLE_BOOT_MAX - b->total))
			return SHUTTLE_BOOT_ERR_TOOBIG;
		b->skip = b->len;
		b->state = b->skip > 0 ? BOOT_BODY : BOOT_NAME;
		b->linelen = 0;
		return 0;
	}
	if (c < '0' || c > '9' || b->linelen == SHUTTLE_BOOT_LEN_DIGITS ||
	    (b->linelen == 1 && b->len == 0))	/* leading zero */
		return SHUTTLE_BOOT_ERR_LEN;
	b->len = b->len * 10 + (uint64_t)(c - '0');
	b->linelen++;
	return 0;
}

/* Skip up to b->skip bytes in bulk; returns how many were taken. */
static size_t
boot_skip(struct shuttle_boot *b, size_t avail)
{
	size_t n = avail;

	if ((uint64_t)n > b->skip)
		n = (size_t)b->skip;
	b->skip -= n;
	if (b->skip == 0)
		b->state = BOOT_NAME;
	return n;
}

int
shuttle_boot_feed(struct shuttle_boot *b, const void *buf, size_t len,
    size_t *used)
{
	const uint8_t *p = buf;
	size_t i = 0, n;
	int r = 0;

	if (used == NULL)
		return SHUTTLE_BOOT_ERR_ARG;
	*used = 0;
	if (b == NULL || (p == NULL && len > 0))
		return SHUTTLE_BOOT_ERR_ARG;
	if (b->err != 0)
		return b->err;
	if (b->state == BOOT_DONE)
		return 1;
	while (i < len && r == 0) {
		if (b->total == SHUTTLE_BOOT_MAX) {
			r = SHUTTLE_BOOT_ERR_TOOBIG;
			break;
		}
		switch (b->state) {
		case BOOT_ASM:
		case BOOT_BODY:
			n = boot_skip(b, len - i);
			i += n;
			b->total += n;
			continue;
		case BOOT_NAME:
			r = boot_name(b, p[i]);
			break;
		case BOOT_LEN:
			r = boot_len(b, p[i]);
			break;
		case BOOT_DONE:
			break;
		}
		if (r >= 0) {	/* the byte belongs to the bootstrap */
			i++;
			b->total++;
		}
	}
	*used = i;
	if (r < 0)
		b->err = r;
	else if (r == 1)
		b->state = BOOT_DONE;
	return r;
}

size_t
shuttle_boot_total(const struct shuttle_boot *b)
{
	return b == NULL ? 0 : b->total;
}

unsigned int
shuttle_boot_records(const struct shuttle_boot *b)
{
	return b == NULL ? 0 : b->records;
}

const char *
shuttle_boot_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case SHUTTLE_BOOT_ERR_TOOBIG:
		return "bootstrap too large";
	case SHUTTLE_BOOT_ERR_RECORDS:
		return "too many bootstrap module records";
	case SHUTTLE_BOOT_ERR_NAME:
		return "bad bootstrap module name";
	case SHUTTLE_BOOT_ERR_FIRST:
		return "first bootstrap module is not \"sshuttle\"";
	case SHUTTLE_BOOT_ERR_LEN:
		return "bad bootstrap module length";
	case SHUTTLE_BOOT_ERR_EMPTY:
		return "bootstrap has no module records";
	case SHUTTLE_BOOT_ERR_ARG:
		return "invalid argument";
	case SHUTTLE_BOOT_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
