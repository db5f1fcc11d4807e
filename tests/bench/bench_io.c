/*
 * bench_io: the traffic ends of the benchmark (tests/bench/bench.py).
 *
 *	bench_io serve ADDR PORT	bulk server, one forked child per
 *					connection
 *	bench_io up HOST PORT BYTES	send BYTES to a bulk server
 *	bench_io down HOST PORT BYTES	receive BYTES from a bulk server
 *	bench_io hold ADDR PORT		banner-and-hold server for many idle
 *					sessions (ssh -W held open)
 *	bench_io reply ADDR PORT	request-reply server: reads a request
 *					line, writes a 128-byte reply, closes
 *					(one process, no fork)
 *	bench_io conns HOST PORT N	N sequential connections to a reply
 *					server, each connect + request + reply
 *					to EOF + close; prints the
 *					microseconds of each, one a line, or
 *					"fail" (shuttle_bench.py's
 *					new-connection time)
 *
 * Bulk protocol: the client sends a 16-byte request ("RPB1", 'U' or 'D',
 * three zero bytes, the byte count as a big-endian uint64); the server
 * answers one byte 'R' when it is ready.  For 'U' the client then sends
 * the bytes and the server answers 'A' once it has read them all; for 'D'
 * the server sends the bytes.  The clock starts when 'R' arrives, so the
 * time of a forwarded channel's open (measured on its own) is not part
 * of a throughput figure, and stops at 'A' or at the last byte.  The
 * client prints "BYTES SECONDS MIB_PER_S".
 *
 * A new connection is timed from just before connect() to the reply's
 * EOF: through sshuttle that is the client's accept of the redirected
 * connection, TCP_CONNECT, the server's connect to the target, request
 * and reply as TCP_DATA and the server's TCP_EOF.  The reply server
 * closes first, as an HTTP/1.0 server does, so the time wait falls on the
 * target's side; it serves one connection at a time on purpose: the
 * client is sequential, and a fork per connection would add the same cost
 * to every path measured and hide the difference between them.
 *
 * Both bulk ends move 1 MiB per system call from a buffer filled once with
 * pseudo-random bytes, so they cost far less CPU than the SSH processes
 * they feed (bench.py checks this by measuring plain TCP over the same
 * path).
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		(1024 * 1024)
#define REQ_LEN		16
#define HOLD_EVENTS	256
#define HOLD_BANNER	"rampart-bench hold\n"
#define RR_REQUEST	"GET /bench_io\n"
#define RR_REPLY_LEN	128
#define RR_MAX_CONNS	1000000
#define RR_TIMEOUT_SECS	10

static uint8_t buf[CHUNK];

static void
usage(void)
{
	fprintf(stderr, "usage: bench_io serve|hold|reply ADDR PORT\n"
	    "       bench_io up|down HOST PORT BYTES\n"
	    "       bench_io conns HOST PORT N\n");
	exit(2);
}

static void
fill(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_addr(const char *host, const char *port, struct sockaddr_in *sin)
{
	char *end;
	long p;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	p = strtol(port, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535 ||
	    inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		fprintf(stderr, "bench_io: bad address %s:%s\n", host, port);
		return -1;
	}
	sin->sin_port = htons((uint16_t)p);
	return 0;
}

/* Read exactly len bytes (buf may be NULL: discard).  0, or -1. */
static int
read_full(int fd, void *dst, uint64_t len)
{
	ssize_t n;
	size_t want;

	while (len > 0) {
		want = len < CHUNK ? (size_t)len : CHUNK;
		n = read(fd, dst != NULL ? dst : buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len -= (uint64_t)n;
		if (dst != NULL)
			dst = (uint8_t *)dst + n;
	}
	return 0;
}

/* Write len bytes, from src or (src NULL) from the random buffer. */
static int
write_full(int fd, const void *src, uint64_t len)
{
	const uint8_t *p;
	ssize_t n;
	size_t want;

	while (len > 0) {
		want = len < CHUNK ? (size_t)len : CHUNK;
		p = src != NULL ? src : buf;
		n = write(fd, p, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len -= (uint64_t)n;
		if (src != NULL)
			src = (const uint8_t *)src + n;
	}
	return 0;
}

static int
listen_on(const char *addr, const char *port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if (parse_addr(addr, port, &sin) != 0)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 4096) != 0) {
		perror("bench_io: listen");
		return -1;
	}
	return fd;
}

/* The next connection on lfd, with Nagle off: its fd, or -1. */
static int
accept_conn(int lfd)
{
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		if (errno != EINTR && errno != ECONNABORTED) {
			perror("bench_io: accept");
			return -1;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* One bulk connection, in its own process. */
static int
serve_one(int fd)
{
	uint8_t req[REQ_LEN], c;
	uint64_t len = 0;
	int i;

	if (read_full(fd, req, sizeof(req)) != 0 ||
	    memcmp(req, "RPB1", 4) != 0)
		return 1;
	for (i = 8; i < REQ_LEN; i++)
		len = (len << 8) | req[i];
	c = 'R';
	if (write_full(fd, &c, 1) != 0)
		return 1;
	if (req[4] == 'U') {
		c = 'A';
		if (read_full(fd, NULL, len) != 0 ||
		    write_full(fd, &c, 1) != 0)
			return 1;
	} else if (req[4] == 'D') {
		if (write_full(fd, NULL, len) != 0)
			return 1;
		shutdown(fd, SHUT_WR);
		if (read(fd, &c, 1) < 0)	/* the client has it all */
			return 1;
	} else
		return 1;
	return 0;
}

static int
cmd_serve(const char *addr, const char *port)
{
	int lfd, fd;

	if ((lfd = listen_on(addr, port)) < 0)
		return 1;
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if ((fd = accept_conn(lfd)) < 0)
			return 1;
		switch (fork()) {
		case -1:
			perror("bench_io: fork");
			break;
		case 0:
			close(lfd);
			_exit(serve_one(fd));
		default:
			break;
		}
		close(fd);
	}
}

/* The client side of one bulk transfer. */
static int
cmd_bulk(int up, const char *host, const char *port, const char *bytes)
{
	struct sockaddr_in sin;
	uint8_t req[REQ_LEN] = "RPB1", c;
	unsigned long long len;
	double t0, t1;
	char *end;
	int fd, i, one = 1;

	errno = 0;
	len = strtoull(bytes, &end, 10);
	if (*end != '\0' || errno != 0 || len == 0 ||
	    parse_addr(host, port, &sin) != 0)
		usage();
	req[4] = up ? 'U' : 'D';
	for (i = 0; i < 8; i++)
		req[REQ_LEN - 1 - i] = (uint8_t)(len >> (8 * i));
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("bench_io: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (write_full(fd, req, sizeof(req)) != 0 ||
	    read_full(fd, &c, 1) != 0 || c != 'R') {
		fprintf(stderr, "bench_io: no answer from %s:%s\n", host, port);
		return 1;
	}
	t0 = now();
	if (up) {
		if (write_full(fd, NULL, len) != 0 ||
		    read_full(fd, &c, 1) != 0 || c != 'A') {
			fprintf(stderr, "bench_io: upload cut short\n");
			return 1;
		}
	} else if (read_full(fd, NULL, len) != 0) {
		fprintf(stderr, "bench_io: download cut short\n");
		return 1;
	}
	t1 = now();
	close(fd);
	printf("%llu %.6f %.2f\n", len, t1 - t0,
	    (double)len / (1024.0 * 1024.0) / (t1 - t0));
	return 0;
}

static void
hold_accept(int ep, int lfd)
{
	struct epoll_event ev;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (write(fd, HOLD_BANNER, sizeof(HOLD_BANNER) - 1) < 0) {
			close(fd);
			continue;
		}
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			close(fd);
	}
}

/* Accept everything, greet, and keep each connection until its EOF. */
static int
cmd_hold(const char *addr, const char *port)
{
	struct epoll_event evs[HOLD_EVENTS], ev;
	struct rlimit rl;
	ssize_t r;
	int ep, lfd, n, i, fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((lfd = listen_on(addr, port)) < 0 ||
	    fcntl(lfd, F_SETFL, O_NONBLOCK) != 0 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return 1;
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0)
		return 1;
	for (;;) {
		if ((n = epoll_wait(ep, evs, HOLD_EVENTS, -1)) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				hold_accept(ep, lfd);
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r == 0 || (r < 0 && errno != EAGAIN &&
			    errno != EINTR)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
			}
		}
	}
}

/* Bound every blocking call on fd (connect included), so nothing hangs. */
static void
set_timeouts(int fd)
{
	struct timeval tv = { RR_TIMEOUT_SECS, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Read until a newline, at most cap bytes: 0, or -1. */
static int
read_line(int fd, char *dst, size_t cap)
{
	size_t have = 0;
	ssize_t n;

	while (have < cap) {
		n = read(fd, dst + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (memchr(dst + have, '\n', (size_t)n) != NULL)
			return 0;
		have += (size_t)n;
	}
	return -1;
}

static int
cmd_reply(const char *addr, const char *port)
{
	char req[256];
	int lfd, fd;

	if ((lfd = listen_on(addr, port)) < 0)
		return 1;
	memset(buf, 'r', RR_REPLY_LEN - 1);
	buf[RR_REPLY_LEN - 1] = '\n';
	for (;;) {
		if ((fd = accept_conn(lfd)) < 0)
			return 1;
		set_timeouts(fd);
		/* A client that sends no request gets nothing: it failed. */
		if (read_line(fd, req, sizeof(req)) == 0)
			(void)write_full(fd, NULL, RR_REPLY_LEN);
		close(fd);
	}
}

/* One timed request-reply connection: microseconds, or -1. */
static int64_t
one_conn(const struct sockaddr_in *sin)
{
	struct timespec ts;
	int64_t t0, got = 0;
	ssize_t n;
	int fd, one = 1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(fd);
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    write_full(fd, RR_REQUEST, strlen(RR_REQUEST)) != 0) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
	}
	close(fd);
	/* Only the whole reply, then EOF, counts. */
	if (n < 0 || got != RR_REPLY_LEN)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0;
}

static int
cmd_conns(const char *host, const char *port, const char *count)
{
	struct sockaddr_in sin;
	char *end;
	long n, i;
	int64_t us;

	n = strtol(count, &end, 10);
	if (*count == '\0' || *end != '\0' || n < 1 || n > RR_MAX_CONNS ||
	    parse_addr(host, port, &sin) != 0)
		usage();
	for (i = 0; i < n; i++) {
		if ((us = one_conn(&sin)) < 0)
			printf("fail\n");
		else
			printf("%lld\n", (long long)us);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc < 4)
		usage();
	fill();
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "serve") == 0 && argc == 4)
		return cmd_serve(argv[2], argv[3]);
	if (strcmp(argv[1], "hold") == 0 && argc == 4)
		return cmd_hold(argv[2], argv[3]);
	if (strcmp(argv[1], "reply") == 0 && argc == 4)
		return cmd_reply(argv[2], argv[3]);
	if (strcmp(argv[1], "conns") == 0 && argc == 5)
		return cmd_conns(argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "up") == 0 && argc == 5)
		return cmd_bulk(1, argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "down") == 0 && argc == 5)
		return cmd_bulk(0, argv[2], argv[3], argv[4]);
	usage();
	return 2;
}
