/*
 * rampart-knockd: start-up with privilege -- configuration, server keys,
 * policy, the UDP sockets, the audit file, the nftables context -- then
 * the drop to User with only CAP_NET_ADMIN, the seccomp filter and the
 * loop.  See rampart-knockd(8) and docs/PROTOCOL.knock.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "knock_key.h"
#include "knockd_conf.h"
#include "knockd_loop.h"
#include "knockd_sandbox.h"
#include "log.h"
#include "privdrop.h"
#include "spa.h"

#define RCVBUF_BYTES	(8 << 20)	/* a burst of garbage waits here */

struct start {
	struct knockd_loop_setup	 s;
	uid_t				 uid;
	gid_t				 gid;
};

static void
usage(void)
{
	fprintf(stderr, "usage: rampart-knockd [-dtT] [-f config_file]\n");
	exit(2);
}

static void
print_diag(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

/* The server keys, newest first, into locked memory; the files' bytes go. */
static int
load_keys(struct start *st)
{
	struct knockd_loop_setup *s = &st->s;
	char err[KNOCK_KEY_ERR_MAX];
	uint8_t sk[SPA_SK_SIZE];
	size_t i;
	int r = 0;

	s->nkeys = s->conf.nserver_keys;
	if ((s->keys = sodium_malloc(s->nkeys * sizeof(*s->keys))) == NULL) {
		fprintf(stderr, "rampart-knockd: out of memory\n");
		return -1;
	}
	for (i = 0; i < s->nkeys && r == 0; i++) {
		if (knock_key_server_read(s->conf.server_keys[i], sk, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "ServerKey %s\n", err);
			r = -1;
		} else if (spa_server_key_set(&s->keys[i], sk) != 0) {
			fprintf(stderr, "ServerKey %s: not a usable X25519 "
			    "key\n", s->conf.server_keys[i]);
			r = -1;
		}
	}
	sodium_memzero(sk, sizeof(sk));
	return r;
}

/* Configuration, keys, policy and User: what -t checks. */
static int
load_all(const char *path, struct start *st)
{
	struct knockd_loop_setup *s = &st->s;

	knockd_conf_defaults(&s->conf);
	if (knockd_conf_load(path, &s->conf, print_diag, NULL) != 0 ||
	    load_keys(st) != 0 ||
	    policy_load_file(s->conf.policy, 0, print_diag, NULL, &s->pol) !=
	    0)
		return -1;
	st->uid = getuid();
	st->gid = getgid();
	if (geteuid() == 0 && privdrop_lookup(s->conf.user, &st->uid,
	    &st->gid) != 0)
		return -1;
	return 0;
}

/* One UDP socket, moved up to the descriptors the sandbox never sends on. */
static int
udp_socket(const struct addr *a, unsigned int port)
{
	struct sockaddr_storage ss;
	char host[ADDR_STRLEN];
	socklen_t len = 0;
	int fd = -1, hi = -1, on = 1, size = RCVBUF_BYTES;

	addr_ntop(a, host, sizeof(host));
	if (addr_to_sockaddr(a, port, &ss, &len) != 0 ||
	    (fd = socket(a->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0 || (a->af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    (hi = fcntl(fd, F_DUPFD_CLOEXEC, KNOCKD_SANDBOX_UDP_FD)) < 0) {
		error("cannot listen on UDP [%s]:%u: %s", host, port,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	/* FORCE passes net.core.rmem_max, with CAP_NET_ADMIN. */
	if (setsockopt(hi, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) != 0 && setsockopt(hi, SOL_SOCKET, SO_RCVBUF,
	    &size, sizeof(size)) != 0)
		error("UDP [%s]:%u: no larger receive buffer: %s", host, port,
		    strerror(errno));
	logit("listening for knocks on UDP [%s]:%u", host, port);
	return hi;
}

static int
open_sockets(struct knockd_loop_setup *s)
{
	struct addr any[2];
	const struct addr *list = s->conf.listen;
	size_t i, n = s->conf.nlisten;
	int fd;

	if (n == 0) {
		addr_parse("0.0.0.0", &any[0]);
		addr_parse("::", &any[1]);
		list = any;
		n = 2;
	}
	for (i = 0; i < n; i++) {
		fd = udp_socket(&list[i], s->conf.listen_port);
		/* Without a ListenAddress, a host with no IPv6 still works. */
		if (fd < 0 && (s->conf.nlisten > 0 || i == 0))
			return -1;
		if (fd >= 0)
			s->socks[s->nsocks++] = fd;
	}
	return 0;
}

/* The master's socket: an unconnected datagram socket, sent to by path. */
static int
open_bind_socket(struct knockd_loop_setup *s)
{
	s->bind_fd = -1;
	if (s->conf.bind_socket[0] == '\0')
		return 0;
	memset(&s->bind_addr, 0, sizeof(s->bind_addr));
	s->bind_addr.sun_family = AF_UNIX;
	snprintf(s->bind_addr.sun_path, sizeof(s->bind_addr.sun_path), "%s",
	    s->conf.bind_socket);
	s->bind_len = (socklen_t)sizeof(s->bind_addr);
	if ((s->bind_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0) {
		error("BindSocket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The audit file, opened once for appending (the sandbox opens no more). */
static int
open_audit(struct knockd_loop_setup *s, int foreground)
{
	char dir[PATH_MAX], err[512];

	snprintf(dir, sizeof(dir), "%s", s->conf.audit_log);
	if (mkdir(dirname(dir), 0750) != 0 && errno != EEXIST) {
		error("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((s->audit = audit_open(s->conf.audit_log, "rampart-knockd",
	    !foreground, err, sizeof(err))) == NULL) {
		error("audit log: %s", err);
		return -1;
	}
	return 0;
}

static int
open_door(struct knockd_loop_setup *s)
{
	struct knock_nft_conf nc;
	char err[512];

	knockd_conf_nft(&s->conf, &nc);
	if ((s->nft = knock_nft_open(&nc, err, sizeof(err))) == NULL) {
		error("nftables: %s", err);
		return -1;
	}
	return 0;
}

static int
check_or_dump(const char *path, struct start *st, int dump)
{
	if (dump)
		knockd_conf_dump(&st->s.conf, stdout);
	else
		printf("%s: OK\n", path);
	policy_free(st->s.pol);
	sodium_free(st->s.keys);
	return ferror(stdout) ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct start st;
	const char *path = KNOCKD_CONF_DEFAULT_PATH;
	int ch, debug = 0, test = 0, dump = 0;

	memset(&st, 0, sizeof(st));
	while ((ch = getopt(argc, argv, "dtTf:")) != -1) {
		switch (ch) {
		case 'd': debug = 1; break;
		case 't': test = 1; break;
		case 'T': dump = 1; break;
		case 'f': path = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("rampart-knockd", debug || test || dump, LOG_LVL_INFO);
	if (spa_init() != 0) {
		fprintf(stderr, "rampart-knockd: cannot initialise libsodium\n");
		return 1;
	}
	st.s.conf_path = path;
	if (load_all(path, &st) != 0) {
		fprintf(stderr, "rampart-knockd: %s: not started\n", path);
		return 1;
	}
	if (test || dump)
		return check_or_dump(path, &st, dump);
	log_set_level((enum log_level)st.s.conf.log_level);
	/* A size limit must fail an audit write, not kill knockd. */
	signal(SIGXFSZ, SIG_IGN);
	st.s.start = (uint64_t)time(NULL);
	if (open_sockets(&st.s) != 0 || open_bind_socket(&st.s) != 0 ||
	    open_audit(&st.s, debug) != 0 || open_door(&st.s) != 0 ||
	    knockd_sandbox_drop(st.uid, st.gid) != 0) {
		error("not started");
		return 1;
	}
	return knockd_loop_run(&st.s);
}
