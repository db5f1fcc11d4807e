/*
 * knockd_loop: rampart-knockd after the privilege drop -- one epoll loop
 * over the UDP sockets (recvmmsg batches), a signalfd (SIGHUP reloads the
 * policy, SIGTERM and SIGINT stop) and a timerfd (metrics, drop
 * summaries).  It never sends anything to the network.
 */
#ifndef RAMPART_KNOCKD_LOOP_H
#define RAMPART_KNOCKD_LOOP_H

#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "knock_nft.h"
#include "knockd_conf.h"
#include "policy.h"
#include "spa.h"

#define KNOCKD_LOOP_MAX_SOCKS	KNOCKD_CONF_MAX_LISTEN

/* What knockd.c opened as root; the loop owns all of it from then on. */
struct knockd_loop_setup {
	struct knockd_conf	 conf;
	const char		*conf_path;
	int			 socks[KNOCKD_LOOP_MAX_SOCKS];	/* UDP */
	size_t			 nsocks;
	struct spa_server_key	*keys;		/* sodium_malloc'ed */
	size_t			 nkeys;
	struct policy		*pol;
	struct knock_nft	*nft;
	struct audit		*audit;
	int			 bind_fd;	/* AF_UNIX datagram, or -1 */
	struct sockaddr_un	 bind_addr;	/* BindSocket */
	socklen_t		 bind_len;
	uint64_t		 start;		/* realtime seconds at start */
};

/*
 * Run until SIGTERM or SIGINT; frees everything in s.  0 after a clean
 * stop, 1 if the loop could not start.
 */
int	knockd_loop_run(struct knockd_loop_setup *s);

#endif /* RAMPART_KNOCKD_LOOP_H */
