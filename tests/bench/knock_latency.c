/*
 * knock_latency: knock-to-open latency of rampart-knockd, for "make bench".
 *
 *	knock_latency -A ADDRFILE [-sx] [-g NETNS] [-P DOORPORT] [-T TABLE]
 *	    [-d MS] [-w MS] [-c PORT] HOST KNOCKPORT
 *
 * The knocks are real ones, made by rampart-knock: this program first
 * binds a UDP socket on 127.0.0.1 (port PORT, default 0: any), prints
 * "ready PORT" on stdout and collects one datagram per line of ADDRFILE,
 * in order; the caller runs "rampart-knock -p PORT -a ADDR 127.0.0.1" once
 * per address, in the same order, each address a new one, so that every
 * knock adds a new element to the set.  Collecting first keeps the cost of
 * starting a client out of the measure: what is timed is only knockd and
 * nftables.  Once it has them all it prints "collected N"; with -s it then
 * waits for a line on standard input before it sends any (so that the
 * caller can start a flood first).
 *
 * Then, for each knock: take the time, send the datagram unchanged to
 * HOST:KNOCKPORT (knockd), and ask nftables through libnftables, as fast
 * as it answers, "get element inet TABLE knock4 { ADDR . DOORPORT }"
 * (knock6 for an IPv6 address) until the element is there or MS
 * milliseconds (-w, default 1000) have passed.  The latency is the time
 * from just before sendto() to the end of the first query that finds the
 * element: an upper bound, by at most one query, whose mean cost is
 * printed too.  A query costs more the more elements the set holds (the
 * library reads them all), so with -x each element is deleted once it has
 * been seen and timed: the set stays as small as on a quiet bastion.  -d waits MS milliseconds between knocks
 * (default 0).  With -g, the nftables queries run in the network namespace
 * NETNS (a path such as /run/netns/NAME): the program enters it after its
 * UDP sockets are made, so it can be started in the client's namespace
 * and watch the set in the gateway's.
 *
 * One line per knock on stdout, "knock I ADDR US" (microseconds) or
 * "knock I ADDR lost", then
 *
 *	opened K of N p50 US p99 US max US query US
 *
 * Exit status 0 if every knock opened its door, 1 if not, 2 on usage.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#define KNOCK_SIZE	238	/* docs/PROTOCOL.knock section 4 */
#define MAX_KNOCKS	10000
#define COLLECT_SECS	120	/* for all the knocks to arrive */

struct knock {
	char		addr[INET6_ADDRSTRLEN];
	int		v6;
	uint8_t		pkt[KNOCK_SIZE];
	int64_t		us;		/* -1: lost */
};

struct run {
	struct knock	*k;
	size_t		 n;
	const char	*table;
	unsigned int	 door;
	int		 wait_ms, gap_ms;
	int		 delete;	/* -x */
	struct nft_ctx	*nft;
	uint64_t	 queries;
	int64_t		 query_us;	/* total time spent in queries */
};

static void
usage(void)
{
	fprintf(stderr, "usage: knock_latency -A ADDRFILE [-sx] [-g NETNS] "
	    "[-P DOORPORT] [-T TABLE] [-d MS] [-w MS] [-c PORT] "
	    "HOST KNOCKPORT\n");
	exit(2);
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long
number(const char *s, const char *what, long lo, long hi)
{
	char *ep;
	long v;

	errno = 0;
	v = strtol(s, &ep, 10);
	if (*s == '\0' || *ep != '\0' || errno != 0 || v < lo || v > hi) {
		fprintf(stderr, "knock_latency: bad %s \"%s\" (%ld to %ld)\n",
		    what, s, lo, hi);
		exit(2);
	}
	return v;
}

/* One address per line; each must be an IPv4 or IPv6 literal. */
static int
read_addrs(const char *path, struct run *r)
{
	char line[128], *nl;
	uint8_t tmp[16];
	size_t lineno = 0;
	FILE *f;
	int ret = -1;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "knock_latency: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if ((r->k = calloc(MAX_KNOCKS, sizeof(*r->k))) == NULL)
		goto out;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (r->n == MAX_KNOCKS || strlen(line) >= INET6_ADDRSTRLEN) {
			fprintf(stderr, "knock_latency: %s:%zu: too many "
			    "addresses or too long a line\n", path, lineno);
			goto out;
		}
		if (inet_pton(AF_INET, line, tmp) == 1)
			r->k[r->n].v6 = 0;
		else if (inet_pton(AF_INET6, line, tmp) == 1)
			r->k[r->n].v6 = 1;
		else {
			fprintf(stderr, "knock_latency: %s:%zu: \"%s\" is not "
			    "an IP address\n", path, lineno, line);
			goto out;
		}
		strcpy(r->k[r->n++].addr, line);
	}
	if (r->n == 0) {
		fprintf(stderr, "knock_latency: %s: no addresses\n", path);
		goto out;
	}
	ret = 0;
 out:
	fclose(f);
	return ret;
}

/* A UDP socket bound to 127.0.0.1:port; prints "ready PORT". */
static int
open_collector(unsigned int port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, rcvbuf = 8 << 20;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		fprintf(stderr, "knock_latency: collector on 127.0.0.1:%u: "
		    "%s\n", port, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	printf("ready %u\n", ntohs(sin.sin_port));
	fflush(stdout);
	return fd;
}

/* Collect one KNOCK_SIZE datagram per address, in order. */
static int
collect(int fd, struct run *r)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t end = now_us() + (int64_t)COLLECT_SECS * 1000000;
	uint8_t buf[KNOCK_SIZE + 1];
	size_t i = 0;
	ssize_t len;

	while (i < r->n) {
		if (poll(&pfd, 1, (int)((end - now_us()) / 1000)) <= 0) {
			fprintf(stderr, "knock_latency: only %zu of %zu knocks "
			    "arrived within %d s\n", i, r->n, COLLECT_SECS);
			return -1;
		}
		if ((len = recv(fd, buf, sizeof(buf), 0)) == -1) {
			fprintf(stderr, "knock_latency: recv: %s\n",
			    strerror(errno));
			return -1;
		}
		if (len != KNOCK_SIZE) {
			fprintf(stderr, "knock_latency: a %zd-byte datagram "
			    "is not a knock\n", len);
			return -1;
		}
		memcpy(r->k[i++].pkt, buf, KNOCK_SIZE);
	}
	printf("collected %zu\n", r->n);
	fflush(stdout);
	return 0;
}

/* -s: wait for the caller's go (any line, or end of input). */
static void
wait_go(void)
{
	char line[64];

	if (fgets(line, sizeof(line), stdin) == NULL)
		return;		/* end of input is a go too */
}

/* A UDP socket connected to knockd. */
static int
open_knockd(const char *host, unsigned int port)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	struct sockaddr *sa;
	socklen_t len;
	int fd;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&sin;
		len = sizeof(sin);
	} else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&sin6;
		len = sizeof(sin6);
	} else {
		fprintf(stderr, "knock_latency: \"%s\" is not an IP "
		    "address\n", host);
		return -1;
	}
	if ((fd = socket(sa->sa_family, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, sa, len) == -1) {
		fprintf(stderr, "knock_latency: %s port %u: %s\n", host, port,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Enter the network namespace at path (nftables is per namespace). */
static int
enter_netns(const char *path)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "knock_latency: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	if (r == -1) {
		fprintf(stderr, "knock_latency: setns %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* "get" or "delete" the element of k; 0 if nftables says it did. */
static int
element(struct run *r, const char *verb, const struct knock *k)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "%s element inet %s %s { %s . %u }",
	    verb, r->table, k->v6 ? "knock6" : "knock4", k->addr, r->door);
	return nft_run_cmd_from_buffer(r->nft, cmd) == 0 ? 0 : -1;
}

/* 1 if the element of k is in the set, 0 if not. */
static int
present(struct run *r, const struct knock *k)
{
	int64_t t0 = now_us();
	int ok;

	ok = element(r, "get", k) == 0;
	r->queries++;
	r->query_us += now_us() - t0;
	return ok;
}

/* Send each knock and time it until its element shows. */
static void
measure(struct run *r, int fd)
{
	struct timespec gap;
	int64_t t0;
	size_t i;

	gap.tv_sec = r->gap_ms / 1000;
	gap.tv_nsec = (long)(r->gap_ms % 1000) * 1000000;
	for (i = 0; i < r->n; i++) {
		struct knock *k = &r->k[i];

		k->us = -1;
		if (present(r, k)) {
			fprintf(stderr, "knock_latency: %s is already in the "
			    "set: not a new element\n", k->addr);
		} else {
			t0 = now_us();
			if (send(fd, k->pkt, KNOCK_SIZE, 0) != KNOCK_SIZE)
				fprintf(stderr, "knock_latency: send: %s\n",
				    strerror(errno));
			/*
			 * Timed to the end of the query that finds it: an
			 * upper bound, by at most one query.
			 */
			do {
				if (present(r, k)) {
					k->us = now_us() - t0;
					break;
				}
			} while (now_us() - t0 < (int64_t)r->wait_ms * 1000);
		}
		if (k->us >= 0 && r->delete && element(r, "delete", k) != 0)
			fprintf(stderr, "knock_latency: cannot delete %s\n",
			    k->addr);
		if (k->us >= 0)
			printf("knock %zu %s %lld\n", i, k->addr,
			    (long long)k->us);
		else
			printf("knock %zu %s lost\n", i, k->addr);
		fflush(stdout);
		if (r->gap_ms > 0)
			nanosleep(&gap, NULL);
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The summary line; 0 if every knock opened its door. */
static int
summary(const struct run *r)
{
	int64_t *v;
	size_t i, n = 0;

	if ((v = calloc(r->n, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < r->n; i++)
		if (r->k[i].us >= 0)
			v[n++] = r->k[i].us;
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("opened %zu of %zu p50 %lld p99 %lld max %lld query %lld\n",
	    n, r->n, n ? (long long)v[(n - 1) / 2] : -1LL,
	    n ? (long long)v[(n * 99 + 99) / 100 - 1] : -1LL,
	    n ? (long long)v[n - 1] : -1LL,
	    r->queries ? (long long)(r->query_us / (int64_t)r->queries) :
	    -1LL);
	free(v);
	return n == r->n ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct run r;
	const char *addrfile = NULL, *netns = NULL;
	unsigned int cport = 0;
	int ch, cfd = -1, kfd = -1, ret = 1, go = 0;

	memset(&r, 0, sizeof(r));
	r.table = "rampart";
	r.door = 22;
	r.wait_ms = 1000;
	while ((ch = getopt(argc, argv, "A:c:d:g:P:sT:w:x")) != -1) {
		switch (ch) {
		case 'A':
			addrfile = optarg;
			break;
		case 'c':
			cport = (unsigned int)number(optarg, "port", 0, 65535);
			break;
		case 'd':
			r.gap_ms = (int)number(optarg, "gap", 0, 60000);
			break;
		case 'g':
			netns = optarg;
			break;
		case 'P':
			r.door = (unsigned int)number(optarg, "port", 1, 65535);
			break;
		case 's':
			go = 1;
			break;
		case 'T':
			r.table = optarg;
			break;
		case 'w':
			r.wait_ms = (int)number(optarg, "wait", 1, 600000);
			break;
		case 'x':
			r.delete = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || addrfile == NULL)
		usage();
	if (read_addrs(addrfile, &r) != 0 ||
	    (kfd = open_knockd(argv[optind], (unsigned int)number(
	    argv[optind + 1], "port", 1, 65535))) == -1 ||
	    (cfd = open_collector(cport)) == -1 || collect(cfd, &r) != 0)
		goto out;
	if (netns != NULL && enter_netns(netns) != 0)
		goto out;
	if ((r.nft = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		fprintf(stderr, "knock_latency: nft_ctx_new failed\n");
		goto out;
	}
	/* Keep the answers (and "No such file") out of our output. */
	nft_ctx_buffer_output(r.nft);
	nft_ctx_buffer_error(r.nft);
	if (go)
		wait_go();
	measure(&r, kfd);
	ret = summary(&r) == 0 ? 0 : 1;
 out:
	if (r.nft != NULL)
		nft_ctx_free(r.nft);
	if (cfd != -1)
		close(cfd);
	if (kfd != -1)
		close(kfd);
	free(r.k);
	return ret;
}
