/*
 * delayline: a userspace delay line between two network namespaces, for
 * benchmarks over a long link on kernels without sch_netem.
 *
 *	delayline [-d MS] [-q PACKETS] NS_A IF_A NS_B IF_B
 *
 * Creates tun device IF_A in network namespace NS_A and IF_B in NS_B (by
 * their names under /run/netns, as "ip netns add" makes them), prints
 * "ready" on stdout, and then forwards every IP packet read from one
 * device to the other after holding it for MS milliseconds (default 25,
 * so a round trip over the line takes 50 ms).  The caller gives the
 * devices their addresses and routes once "ready" is printed; the devices
 * disappear when this process exits.
 *
 * Each direction is a FIFO of at most PACKETS packets (default 8192, of up
 * to PKT_MAX bytes each: run the devices with an MTU of at most 2000).  A
 * packet that arrives while its FIFO is full is dropped, as a router with
 * a full queue would (tail drop); 8192 packets of 1500 bytes are about
 * 12 MB, four times what 100 MiB/s keeps in flight in 25 ms, so a sender
 * limited by its own window never meets the bound.  There is no rate
 * limit, no loss and no reordering.  One thread polls both devices with a
 * timeout set to the earliest due packet (ppoll, nanoseconds, timer slack
 * 1 ns), so packets leave within tens of microseconds of their due time
 * on an idle machine.  On SIGINT or SIGTERM it prints what it forwarded
 * and dropped per direction on stderr and exits.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PKT_MAX		2048
#define READ_BATCH	64	/* packets per device per wakeup */

struct pkt {
	struct timespec	due;
	uint16_t	len;
	uint8_t		data[PKT_MAX];
};

/* One direction: packets read from in, written to out after the delay. */
struct line {
	const char	*name;
	int		in, out;
	struct pkt	*q;
	size_t		cap, head, n;
	uint64_t	pkts, bytes, drops, errors;
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
	fprintf(stderr,
	    "usage: delayline [-d MS] [-q PACKETS] NS_A IF_A NS_B IF_B\n");
	exit(2);
}

/* Create tun device ifname inside the named network namespace. */
static int
tun_in_ns(const char *ns, const char *ifname)
{
	struct ifreq ifr;
	char path[256];
	int nsfd, fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((nsfd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    setns(nsfd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "delayline: namespace %s: %s\n", ns,
		    strerror(errno));
		return -1;
	}
	close(nsfd);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "delayline: %s: name too long\n", ifname);
		return -1;
	}
	strncpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name) - 1);
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) <
	    0 || ioctl(fd, TUNSETIFF, &ifr) != 0) {
		fprintf(stderr, "delayline: tun %s in %s: %s\n", ifname, ns,
		    strerror(errno));
		return -1;
	}
	return fd;
}

static int
ts_le(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

static struct timespec
ts_add_ns(struct timespec t, long ns)
{
	t.tv_sec += ns / 1000000000L;
	t.tv_nsec += ns % 1000000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Read what is waiting on l->in and queue it, due at now + delay. */
static void
line_read(struct line *l, const struct timespec *now, long delay_ns)
{
	static uint8_t scratch[PKT_MAX];
	struct pkt *p;
	ssize_t n;
	int i;

	for (i = 0; i < READ_BATCH; i++) {
		p = l->n < l->cap ? &l->q[(l->head + l->n) % l->cap] : NULL;
		n = read(l->in, p != NULL ? p->data : scratch, PKT_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (p == NULL) {
			l->drops++;
			continue;
		}
		p->len = (uint16_t)n;
		p->due = ts_add_ns(*now, delay_ns);
		l->n++;
	}
}

/* Write every queued packet that is due. */
static void
line_write(struct line *l, const struct timespec *now)
{
	struct pkt *p;

	while (l->n > 0) {
		p = &l->q[l->head];
		if (!ts_le(&p->due, now))
			return;
		if (write(l->out, p->data, p->len) == (ssize_t)p->len) {
			l->pkts++;
			l->bytes += p->len;
		} else
			l->errors++;
		l->head = (l->head + 1) % l->cap;
		l->n--;
	}
}

/* Time from now until the earliest due packet; 0 if none is queued. */
static int
next_due(struct line *lines, int nl, const struct timespec *now,
    struct timespec *wait)
{
	const struct timespec *best = NULL, *d;
	long long ns;
	int i;

	for (i = 0; i < nl; i++) {
		if (lines[i].n == 0)
			continue;
		d = &lines[i].q[lines[i].head].due;
		if (best == NULL || !ts_le(best, d))
			best = d;
	}
	if (best == NULL)
		return 0;
	ns = (long long)(best->tv_sec - now->tv_sec) * 1000000000LL +
	    (best->tv_nsec - now->tv_nsec);
	if (ns < 0)
		ns = 0;
	wait->tv_sec = (time_t)(ns / 1000000000LL);
	wait->tv_nsec = (long)(ns % 1000000000LL);
	return 1;
}

static void
run(struct line *lines, long delay_ns, const sigset_t *waitmask)
{
	struct pollfd pfd[2];
	struct timespec now, wait;
	int i, timed;

	pfd[0].fd = lines[0].in;
	pfd[1].fd = lines[1].in;
	pfd[0].events = pfd[1].events = POLLIN;
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		timed = next_due(lines, 2, &now, &wait);
		if (ppoll(pfd, 2, timed ? &wait : NULL, waitmask) < 0 &&
		    errno != EINTR)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & POLLIN)
				line_read(&lines[i], &now, delay_ns);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (i = 0; i < 2; i++)
			line_write(&lines[i], &now);
	}
}

int
main(int argc, char **argv)
{
	struct line lines[2];
	struct sigaction sa;
	sigset_t block, waitmask;
	long delay_ms = 25, cap = 8192;
	int ch, fa, fb, i;

	while ((ch = getopt(argc, argv, "d:q:")) != -1) {
		switch (ch) {
		case 'd':
			delay_ms = strtol(optarg, NULL, 10);
			break;
		case 'q':
			cap = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 4 || delay_ms < 0 || delay_ms > 10000 || cap < 1 ||
	    cap > 1000000)
		usage();
	if ((fa = tun_in_ns(argv[0], argv[1])) < 0 ||
	    (fb = tun_in_ns(argv[2], argv[3])) < 0)
		return 1;
	memset(lines, 0, sizeof(lines));
	lines[0] = (struct line){ argv[1], fa, fb, NULL, (size_t)cap,
	    0, 0, 0, 0, 0, 0 };
	lines[1] = (struct line){ argv[3], fb, fa, NULL, (size_t)cap,
	    0, 0, 0, 0, 0, 0 };
	for (i = 0; i < 2; i++) {
		if ((lines[i].q = calloc((size_t)cap,
		    sizeof(struct pkt))) == NULL) {
			perror("delayline");
			return 1;
		}
	}
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	printf("ready\n");
	fflush(stdout);
	run(lines, delay_ms * 1000000L, &waitmask);
	for (i = 0; i < 2; i++) {
		fprintf(stderr, "delayline: from %s: %llu packets, %llu bytes,"
		    " %llu dropped (queue full), %llu write errors\n",
		    lines[i].name, (unsigned long long)lines[i].pkts,
		    (unsigned long long)lines[i].bytes,
		    (unsigned long long)lines[i].drops,
		    (unsigned long long)lines[i].errors);
	}
	return 0;
}
