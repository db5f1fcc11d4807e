/*
 * shuttle_exec: recognise the command an sshuttle client sends in its SSH
 * "exec" request, and nothing else.
 *
 * The client never asks for a shell: it sends a Python one-liner (wrapped
 * for /bin/sh, for an explicit interpreter, or for Windows shells) that
 * would read N bytes of assembler code from stdin.  Rampart never runs any
 * of it; it only needs to know that the string is sshuttle's and the two
 * numbers in it: the client's -v count V and the assembler length N that
 * the bootstrap swallower (shuttle_boot.h) must skip.
 *
 * Recognition is exact, not a search: the whole string must be one of the
 * forms below, byte for byte, with only V, N and the interpreter word
 * varying (docs/PROTOCOL.sshuttle section 1).  Forms accepted, for the
 * sshuttle 1.1.x one-liner ("1.1", sys.stdin = os.fdopen(0, "rb"); ...;
 * sys.exit(98);) and the v1.2.0+ one ("1.2", stdin = os.fdopen(0, 'rb')):
 *
 *   SHUTTLE_FORM_SH          /bin/sh -c 'P=python3; ... -c Q; exit 97'
 *                            with the one-liner POSIX-quoted once (1.1, 222
 *                            bytes at V=0, N=1704) or the 1.2 one-liner
 *                            quoted twice (310 bytes at V=0, N=1785).
 *   SHUTTLE_FORM_PYTHON      'PY' -c '1.1 one-liner'  (1.1 --python PY), or
 *                            "PY" -c "1.2 one-liner"  (1.2 --python PY).
 *   SHUTTLE_FORM_CMD         "python" -c "1.2 one-liner": what 1.2+
 *                            --remote-shell cmd sends.  It is byte for byte
 *                            what --python python sends, so that is
 *                            reported as "cmd" too; nothing can tell them
 *                            apart.
 *   SHUTTLE_FORM_POWERSHELL  PY -c <1.2 one-liner with ` before each
 *                            ' space ; ( ) ,> (--remote-shell powershell).
 *
 * One leading "-- " is tolerated (a client that forwards ssh's option
 * delimiter).  One-liners older than 1.1.0 (no "sys.exit(98);") and any
 * other string are not sshuttle.  PY is 1..SHUTTLE_EXEC_PY_MAX printable
 * ASCII bytes without the enclosing quote (without a space for
 * powershell); it is reported, never executed.
 */
#ifndef RAMPART_SHUTTLE_EXEC_H
#define RAMPART_SHUTTLE_EXEC_H

#include <stddef.h>

#define SHUTTLE_EXEC_MAX	4096	/* longer is not sshuttle */
#define SHUTTLE_EXEC_PY_MAX	255	/* interpreter word, bytes */
#define SHUTTLE_EXEC_V_MAX	9	/* verbosity */
#define SHUTTLE_EXEC_N_MIN	1	/* assembler length; real: ~1.7 KB */
#define SHUTTLE_EXEC_N_MAX	65536

/* Errors: 0 is success; these are negative.  shuttle_exec_strerror(). */
#define SHUTTLE_EXEC_ERR_NOTSHUTTLE	-1	/* not sshuttle's */
#define SHUTTLE_EXEC_ERR_TOOLONG	-2	/* > SHUTTLE_EXEC_MAX bytes */
#define SHUTTLE_EXEC_ERR_VERBOSITY	-3	/* sshuttle's, but V > 9 */
#define SHUTTLE_EXEC_ERR_LENGTH		-4	/* sshuttle's, N bad */
#define SHUTTLE_EXEC_ERR_ARG		-5	/* caller error (NULL) */

enum shuttle_form {
	SHUTTLE_FORM_SH = 0,
	SHUTTLE_FORM_PYTHON,
	SHUTTLE_FORM_CMD,
	SHUTTLE_FORM_POWERSHELL
};

struct shuttle_exec {
	enum shuttle_form form;
	unsigned int	verbosity;	/* V: 0..SHUTTLE_EXEC_V_MAX */
	size_t		assembler_len;	/* N: bytes to skip first */
	int		v12;		/* 1: v1.2.0+ one-liner */
	/* The interpreter word; "" for the sh form. */
	char		python[SHUTTLE_EXEC_PY_MAX + 1];
};

/*
 * Decide whether cmd[0..len) (the exec request's command, not
 * NUL-terminated; an embedded NUL makes it not sshuttle) is an sshuttle
 * server command.  Returns 0 and fills *out, or a negative error; *out is
 * unspecified on error.  Pure: no allocation, no global state.
 * ERR_VERBOSITY and ERR_LENGTH mean "it is sshuttle, but refused", so the
 * caller can tell the user why rather than "exec not allowed".
 */
int	shuttle_exec_parse(const char *cmd, size_t len,
	    struct shuttle_exec *out);

/* "sh", "python", "cmd", "powershell" (the IPC_SHUTTLE_START form field). */
const char *shuttle_exec_form_name(enum shuttle_form form);

/* A short text for an error code; never NULL. */
const char *shuttle_exec_strerror(int err);

#endif /* RAMPART_SHUTTLE_EXEC_H */
