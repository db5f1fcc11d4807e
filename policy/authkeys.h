/*
 * authkeys: OpenSSH authorized_keys files.
 *
 * Each line is "[OPTIONS] TYPE BASE64 [COMMENT]".  Options are checked, not
 * ignored: a bastion that silently dropped from=, command= or permitopen=
 * would grant more than the file's author meant.  Only options that turn
 * off things Rampart never offers are accepted (no-pty, no-x11-forwarding,
 * no-agent-forwarding, no-user-rc); any other option is an error that names
 * it and says which policy keyword to use instead.
 */
#ifndef RAMPART_AUTHKEYS_H
#define RAMPART_AUTHKEYS_H

#include <stddef.h>

#include "diag.h"
#include "pubkey.h"

/* Called for every valid key; return 0 to go on, -1 to stop (no memory). */
typedef int authkeys_fn(void *ctx, const struct pubkey *k,
	    unsigned long line);

/*
 * Parse one key line (no newline).  With allow_options, an options field
 * may come first.  Returns 1 and fills *out for a key, 0 for a blank or
 * comment line, -1 with a reason in err.
 */
int	authkeys_parse_line(const char *line, size_t len, int allow_options,
	    struct pubkey *out, char *err, size_t errlen);

/*
 * Parse a whole authorized_keys buffer named file.  Every bad line is
 * reported through d as "file:line: reason".  Returns the number of keys
 * handed to cb, or -1 if any line was bad or cb failed.
 */
int	authkeys_parse(const char *file, const char *buf, size_t len,
	    struct diag *d, authkeys_fn *cb, void *ctx);

/* Read path (a regular file, at most 16 MiB) and parse it. */
int	authkeys_load(const char *path, struct diag *d, authkeys_fn *cb,
	    void *ctx);

#endif /* RAMPART_AUTHKEYS_H */
