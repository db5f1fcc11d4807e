/*
 * shuttle_exec: recognise sshuttle's exec string (see shuttle_exec.h).
 *
 * Every accepted form is a template below; a string is sshuttle's only if
 * it matches one template completely.  Matching templates instead of
 * searching for the one-liner keeps "anything else is not sshuttle"
 * literally true: no prefix or suffix can ride along with a match.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shuttle_exec.h"

/* Placeholders; none of these bytes may appear in a real exec string. */
#define T_V	'\001'	/* verbosity digits */
#define T_N	'\002'	/* assembler length digits */
#define T_PY	'\003'	/* interpreter word, to the next literal */

#define ONELINER_11 \
	"import sys, os; verbosity=\001; sys.stdin = os.fdopen(0, \"rb\"); " \
	"exec(compile(sys.stdin.read(\002), \"assembler.py\", \"exec\")); " \
	"sys.exit(98);"
#define ONELINER_12 \
	"import sys, os; verbosity=\001; stdin = os.fdopen(0, 'rb'); " \
	"exec(compile(stdin.read(\002), 'assembler.py', 'exec')); " \
	"sys.exit(98);"

/*
 * The /bin/sh wrapper is shlex.quote("... -c " + shlex.quote(ONELINER) +
 * "; exit 97").  shlex.quote turns ' into '"'"', so a ' of the one-liner
 * ends up quoted twice (SQ2) and the inner quotes once (SQ1).
 */
#define SQ1	"'\"'\"'"
#define SQ2	"'\"'\"'\"'\"'\"'\"'\"'\"'"
#define SH_HEAD	"/bin/sh -c 'P=python3; $P -V 2>/dev/null || " \
	"P=python; exec \"$P\" -c " SQ1
#define SH_TAIL	SQ1 "; exit 97'"

static const struct form_tmpl {
	const char	*t;
	enum shuttle_form form;
	int		 v12;
} forms[] = {
	{ SH_HEAD ONELINER_11 SH_TAIL, SHUTTLE_FORM_SH, 0 },
	{ SH_HEAD "import sys, os; verbosity=\001; stdin = os.fdopen(0, "
	    SQ2 "rb" SQ2 "); exec(compile(stdin.read(\002), "
	    SQ2 "assembler.py" SQ2 ", " SQ2 "exec" SQ2 ")); sys.exit(98);"
	    SH_TAIL, SHUTTLE_FORM_SH, 1 },
	{ "'\003' -c '" ONELINER_11 "'", SHUTTLE_FORM_PYTHON, 0 },
	{ "\"\003\" -c \"" ONELINER_12 "\"", SHUTTLE_FORM_PYTHON, 1 },
	/* PowerShell: a backtick before each ' space ; ( ) and ,. */
	{ "\003 -c import` sys`,` os`;` verbosity=\001`;` stdin` =` "
	    "os.fdopen`(0`,` `'rb`'`)`;` exec`(compile`(stdin.read`(\002`)`,` "
	    "`'assembler.py`'`,` `'exec`'`)`)`;` sys.exit`(98`)`;",
	    SHUTTLE_FORM_POWERSHELL, 1 },
};

/*
 * Decimal digits at s[*i..len) as Python's str(int) writes them: no sign,
 * no leading zero.  The value saturates (a huge V or N is then out of
 * range, not a wrap-around).  0, or -1 if there are no digits or a
 * leading zero.
 */
static int
match_uint(const char *s, size_t len, size_t *i, uint64_t *v)
{
	size_t start = *i;

	*v = 0;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (*v < UINT64_MAX / 100)
			*v = *v * 10 + (uint64_t)(s[*i] - '0');
		(*i)++;
	}
	if (*i == start || (s[start] == '0' && *i - start > 1))
		return -1;
	return 0;
}

/*
 * The interpreter word: printable ASCII up to the byte that follows the
 * placeholder in the template (its closing quote, or the space before
 * "-c").  It is only reported, so it only has to be bounded and printable.
 */
static int
match_word(const char *s, size_t len, size_t *i, char stop,
    struct shuttle_exec *out)
{
	size_t start = *i, n;

	while (*i < len && s[*i] != stop && s[*i] >= 0x20 && s[*i] < 0x7f)
		(*i)++;
	n = *i - start;
	if (n == 0 || n > SHUTTLE_EXEC_PY_MAX)
		return -1;
	memcpy(out->python, s + start, n);
	out->python[n] = '\0';
	return 0;
}

/* 0 if s[0..len) is exactly template t; V, N and PY go to *out. */
static int
match_form(const char *t, const char *s, size_t len, struct shuttle_exec *out)
{
	size_t i = 0;
	uint64_t v = 0, n = 0;

	out->python[0] = '\0';
	for (; *t != '\0'; t++) {
		if (*t == T_V) {
			if (match_uint(s, len, &i, &v) != 0)
				return -1;
		} else if (*t == T_N) {
			if (match_uint(s, len, &i, &n) != 0)
				return -1;
		} else if (*t == T_PY) {
			if (match_word(s, len, &i, t[1], out) != 0)
				return -1;
		} else if (i < len && s[i] == *t)
			i++;
		else
			return -1;
	}
	if (i != len)
		return -1;
	out->verbosity = v > SHUTTLE_EXEC_V_MAX + 1 ?
	    SHUTTLE_EXEC_V_MAX + 1 : (unsigned int)v;
	out->assembler_len = n > SHUTTLE_EXEC_N_MAX + 1 ?
	    SHUTTLE_EXEC_N_MAX + 1 : (size_t)n;
	return 0;
}

int
shuttle_exec_parse(const char *cmd, size_t len, struct shuttle_exec *out)
{
	size_t k;

	if (cmd == NULL || out == NULL)
		return SHUTTLE_EXEC_ERR_ARG;
	if (len > SHUTTLE_EXEC_MAX)
		return SHUTTLE_EXEC_ERR_TOOLONG;
	/* A client that passes ssh's "--" delimiter on to the server. */
	if (len >= 3 && memcmp(cmd, "-- ", 3) == 0) {
		cmd += 3;
		len -= 3;
	}
	for (k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		if (match_form(forms[k].t, cmd, len, out) != 0)
			continue;
		out->form = forms[k].form;
		out->v12 = forms[k].v12;
		/* --remote-shell cmd is "python" -c "...": see the header. */
		if (out->form == SHUTTLE_FORM_PYTHON && out->v12 &&
		    strcmp(out->python, "python") == 0)
			out->form = SHUTTLE_FORM_CMD;
		if (out->verbosity > SHUTTLE_EXEC_V_MAX)
			return SHUTTLE_EXEC_ERR_VERBOSITY;
		if (out->assembler_len < SHUTTLE_EXEC_N_MIN ||
		    out->assembler_len > SHUTTLE_EXEC_N_MAX)
			return SHUTTLE_EXEC_ERR_LENGTH;
		return 0;
	}
	return SHUTTLE_EXEC_ERR_NOTSHUTTLE;
}

const char *
shuttle_exec_form_name(enum shuttle_form form)
{
	switch (form) {
	case SHUTTLE_FORM_SH:
		return "sh";
	case SHUTTLE_FORM_PYTHON:
		return "python";
	case SHUTTLE_FORM_CMD:
		return "cmd";
	case SHUTTLE_FORM_POWERSHELL:
		return "powershell";
	}
	return "unknown";
}

const char *
shuttle_exec_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case SHUTTLE_EXEC_ERR_NOTSHUTTLE:
		return "not an sshuttle command";
	case SHUTTLE_EXEC_ERR_TOOLONG:
		return "command too long";
	case SHUTTLE_EXEC_ERR_VERBOSITY:
		return "sshuttle verbosity out of range";
	case SHUTTLE_EXEC_ERR_LENGTH:
		return "sshuttle assembler length out of range";
	case SHUTTLE_EXEC_ERR_ARG:
		return "invalid argument";
	}
	return "unknown error";
}
