/*
 * master: the monitor and broker process (DESIGN.md section 2).  It owns
 * the listening sockets, the policy, the audit log and every outbound
 * connection; it forks one session child per connection and answers the
 * child's typed requests.  It never parses SSH bytes and never blocks.
 */
#ifndef RAMPART_MASTER_H
#define RAMPART_MASTER_H

#include <sys/types.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "config.h"
#include "policy.h"

struct totp_secrets;

struct master_setup {
	const char	*conf_path;
	struct config	 conf;
	struct policy	*pol;		/* taken over by the master */
	struct totp_secrets *secrets;	/* NULL: no TotpSecrets file */
	uid_t		 uid;		/* the service user */
	gid_t		 gid;
	ssh_bind	 bind;		/* host keys and algorithms */
	int		 listeners[CONFIG_MAX_LISTEN * 2];
	size_t		 nlisteners;
	int		 test_hooks;
	int		 foreground;
	int		 no_sandbox;	/* test builds only: for strace/gdb */
	int		 knock_fd;	/* KnockBindSocket, or -1 */
	uid_t		 knockd_uid;	/* KnockdUser */
	gid_t		 knockd_gid;
};

/*
 * Knock bindings (master_knock.c), at start-up as root: look KnockdUser
 * up, then bind KnockBindSocket (0660, KnockdUser's group).  Both set
 * knock_fd to -1 when there is nothing to do.  0 or -1 (logged).
 */
int	master_knock_lookup(struct master_setup *ms);
int	master_knock_socket(struct master_setup *ms);

/* Run until SIGTERM.  Returns the process exit code. */
int	master_run(struct master_setup *ms);

#endif /* RAMPART_MASTER_H */
