/*
 * session: the per-connection child.  It speaks SSH to one client through
 * libssh inside a seccomp sandbox and asks the master for everything that
 * needs trust: whether a key belongs to a user, whether a code is right,
 * and a connected socket for every forward.  It holds no secret but the
 * host key libssh needs for key exchange, and it can reach nothing the
 * master does not hand it.
 */
#ifndef RAMPART_SESSION_H
#define RAMPART_SESSION_H

#include <libssh/libssh.h>
#include <libssh/server.h>

/* Why a child ended, as its exit status (the master audits it). */
enum session_exit {
	SESSION_EXIT_OK = 0,		/* client disconnected */
	SESSION_EXIT_SETUP = 1,		/* could not start */
	SESSION_EXIT_IDLE = 2,		/* idle timeout */
	SESSION_EXIT_LIFETIME = 3,	/* absolute session lifetime */
	SESSION_EXIT_AUTH = 4,		/* too many failed attempts */
	SESSION_EXIT_PROTOCOL = 5,	/* key exchange or protocol error */
	SESSION_EXIT_MASTER = 6,	/* the master went away */
	SESSION_EXIT_STOPPED = 7,	/* the gateway is stopping (SIGTERM) */
};

struct session_args {
	ssh_bind	 bind;		/* host keys and algorithms */
	int		 client_fd;	/* the accepted TCP connection */
	int		 ipc_fd;	/* SOCK_SEQPACKET to the master */
	unsigned long	 login_grace;	/* seconds */
	unsigned long	 max_auth_tries;
	unsigned long	 connect_timeout;	/* seconds */
	int		 test_hooks;	/* only in test builds */
};

/* Run the session; never returns. */
void	session_main(const struct session_args *a)
	    __attribute__((noreturn));

#endif /* RAMPART_SESSION_H */
