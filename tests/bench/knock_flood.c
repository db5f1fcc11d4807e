/*
 * knock_flood: garbage UDP datagrams at knockd, for "make bench".
 *
 *	knock_flood [-m knock|random] [-r RATE] [-t SECONDS] [-b BATCH]
 *	    HOST PORT
 *
 * Sends datagrams of random bytes to HOST:PORT (an IPv4 or IPv6 literal)
 * from one thread, in sendmmsg batches of BATCH (default 64), for SECONDS
 * (default 5, fractions allowed) at RATE datagrams per second (default 0:
 * as fast as one core can), then prints one line on stdout:
 *
 *	sent N seconds S rate R errors E
 *
 * N is what the kernel accepted from sendmmsg, not what arrived: the
 * receiver's counters say that.  -m knock (the default) sends datagrams of
 * exactly the knock size, 238 bytes, which knockd cannot drop on size and
 * must hash (the tag) before it drops them: the costly garbage.  -m random
 * sends random sizes from 1 to 1200 bytes, most of which fail the size
 * check.  Every datagram differs from the ones before it (a counter in its
 * first 8 bytes, over a pool of random buffers), so no cache of seen bytes
 * could help the receiver.  The rate is paced per batch against the
 * monotonic clock, so the long-run rate is exact and bursts are one batch.
 * Pin it to a CPU with taskset.  SIGINT or SIGTERM stop it early; it still
 * prints its line.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KNOCK_SIZE	238	/* docs/PROTOCOL.knock section 4 */
#define RANDOM_MAX	1200	/* SPA_MAX: no knock version is larger */
#define POOL		256	/* random buffers, used in turn */
#define BATCH_MAX	1024

struct flood {
	int		 fd;
	int		 random_sizes;
	double		 rate;		/* datagrams per second, 0: no limit */
	double		 seconds;
	unsigned int	 batch;
	uint8_t		(*pool)[RANDOM_MAX];
	uint16_t	 len[POOL];
	uint64_t	 sent, errors;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: knock_flood [-m knock|random] [-r RATE] "
	    "[-t SECONDS] [-b BATCH] HOST PORT\n");
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
	    NULL) == EINTR && !stop)
		;
}

/* A UDP socket connected to host:port, v4 or v6; -1 on error. */
static int
open_target(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;
	char *ep;
	long p;
	int fd, sndbuf = 4 << 20;

	p = strtol(port, &ep, 10);
	if (*port == '\0' || *ep != '\0' || p < 1 || p > 65535) {
		fprintf(stderr, "knock_flood: bad port \"%s\"\n", port);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		sslen = sizeof(*sin6);
	} else {
		fprintf(stderr, "knock_flood: \"%s\" is not an IP address\n",
		    host);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		fprintf(stderr, "knock_flood: %s port %s: %s\n", host, port,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* Best effort: a larger send buffer only smooths the batches. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

/* Random contents and, with -m random, random lengths 1..RANDOM_MAX. */
static int
fill_pool(struct flood *f)
{
	size_t i, off, want = sizeof(*f->pool) * POOL;
	uint16_t r;
	ssize_t n;

	if ((f->pool = malloc(want)) == NULL) {
		fprintf(stderr, "knock_flood: out of memory\n");
		return -1;
	}
	for (off = 0; off < want; off += (size_t)n) {
		n = getrandom((uint8_t *)f->pool + off, want - off, 0);
		if (n <= 0) {
			fprintf(stderr, "knock_flood: getrandom: %s\n",
			    strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < POOL; i++) {
		/* The last two bytes of each buffer pick its length. */
		memcpy(&r, f->pool[i] + RANDOM_MAX - 2, sizeof(r));
		f->len[i] = f->random_sizes ?
		    (uint16_t)(1 + r % RANDOM_MAX) : KNOCK_SIZE;
	}
	return 0;
}

/* Send one batch; the counter makes every datagram unique. */
static void
send_batch(struct flood *f, struct mmsghdr *msg, struct iovec *iov,
    unsigned int n)
{
	unsigned int i, done = 0;
	uint64_t seq;
	size_t len;
	int r;

	for (i = 0; i < n; i++) {
		seq = f->sent + i;
		len = f->len[seq % POOL];
		/* 8 bytes at most: a 1-byte datagram gets a 1-byte counter. */
		memcpy(f->pool[seq % POOL], &seq, len < 8 ? len : 8);
		iov[i].iov_base = f->pool[seq % POOL];
		iov[i].iov_len = len;
		memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < n && !stop) {
		r = sendmmsg(f->fd, msg + done, n - done, 0);
		if (r > 0) {
			done += (unsigned int)r;
			continue;
		}
		/*
		 * ECONNREFUSED: an ICMP error from an earlier datagram
		 * (nobody listening for a moment); ENOBUFS: a full queue.
		 * Count it and go on: the flood is what is measured.
		 */
		f->errors++;
		if (errno != EINTR && errno != ECONNREFUSED &&
		    errno != ENOBUFS && errno != EAGAIN) {
			fprintf(stderr, "knock_flood: sendmmsg: %s\n",
			    strerror(errno));
			stop = 1;
		}
		/* The failed datagram is skipped, not retried forever. */
		done++;
	}
	f->sent += done;
}

static void
flood(struct flood *f)
{
	struct mmsghdr msg[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	double t0, end, due;

	t0 = now_s();
	end = t0 + f->seconds;
	while (!stop && now_s() < end) {
		send_batch(f, msg, iov, f->batch);
		if (f->rate > 0) {
			due = t0 + (double)f->sent / f->rate;
			if (due > end)
				due = end;
			sleep_until(due);
		}
	}
	f->seconds = now_s() - t0;
}

static double
number(const char *s, const char *what, double lo, double hi)
{
	char *ep;
	double v;

	errno = 0;
	v = strtod(s, &ep);
	if (*s == '\0' || *ep != '\0' || errno != 0 || v < lo || v > hi) {
		fprintf(stderr, "knock_flood: bad %s \"%s\" (%g to %g)\n",
		    what, s, lo, hi);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct flood f;
	struct sigaction sa;
	int ch;

	memset(&f, 0, sizeof(f));
	f.seconds = 5;
	f.batch = 64;
	while ((ch = getopt(argc, argv, "b:m:r:t:")) != -1) {
		switch (ch) {
		case 'b':
			f.batch = (unsigned int)number(optarg, "batch", 1,
			    BATCH_MAX);
			break;
		case 'm':
			if (strcmp(optarg, "knock") == 0)
				f.random_sizes = 0;
			else if (strcmp(optarg, "random") == 0)
				f.random_sizes = 1;
			else
				usage();
			break;
		case 'r':
			f.rate = number(optarg, "rate", 0, 1e8);
			break;
		case 't':
			f.seconds = number(optarg, "seconds", 0.001, 86400);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((f.fd = open_target(argv[optind], argv[optind + 1])) == -1 ||
	    fill_pool(&f) != 0)
		return 1;
	flood(&f);
	printf("sent %llu seconds %.3f rate %.0f errors %llu\n",
	    (unsigned long long)f.sent, f.seconds,
	    f.seconds > 0 ? (double)f.sent / f.seconds : 0.0,
	    (unsigned long long)f.errors);
	free(f.pool);
	close(f.fd);
	return 0;
}
