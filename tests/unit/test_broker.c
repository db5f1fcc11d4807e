/*
 * test_broker: the master's outbound connections.  Real sockets on
 * loopback, real c-ares answering from /etc/hosts, the real policy.  An
 * event loop here calls broker_process() the way the master does, and
 * every completion must come from there, never from broker_connect().
 *
 * Tests that need a private network namespace (a hosts file of our own, a
 * DNS server that never answers, an extra address on lo) run only when
 * tests/ctl/broker_netns.sh starts this binary inside `unshare -n -m` with
 * RAMPART_TEST_NETNS=1; elsewhere they are skipped.  Nothing here sends a
 * packet beyond loopback.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker.h"
#include "log.h"
#include "policy.h"

#define ANY_PORT	"port 1-65535"
#define CAP		4096	/* the broker's limit on outstanding requests */

struct done {
	int			calls;
	uint64_t		id;
	uint64_t		at;	/* ms, when the callback ran */
	struct broker_result	res;
};

struct fx {
	const struct policy	*cur;	/* what the broker reads */
	struct policy		*pols[8];
	size_t			npols;
	struct broker		*b;
};

static int in_connect;	/* set around broker_connect() */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL) {
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
	}
}

static int
netns_mode(void)
{
	const char *e = getenv("RAMPART_TEST_NETNS");

	return e != NULL && strcmp(e, "1") == 0 && geteuid() == 0;
}

static void
on_done(void *ctx, uint64_t id, const struct broker_result *res)
{
	struct done *d = ctx;

	if (in_connect) {
		fail_msg("callback ran inside broker_connect()");
	}
	d->calls++;
	d->id = id;
	d->at = now_ms();
	d->res = *res;
}

static void
diag_print(void *ctx, const char *msg)
{
	(void)ctx;
	print_error("policy: %s\n", msg);
}

static const char *
alice_key(void)
{
	static char key[1024];
	const char *dir = getenv("RAMPART_TESTDATA");
	char path[512];
	FILE *f;

	if (key[0] != '\0')
		return key;
	snprintf(path, sizeof(path), "%s/keys/alice.pub",
	    dir != NULL ? dir : "tests/data");
	if ((f = fopen(path, "r")) == NULL) {
		fail_msg("%s: %s", path, strerror(errno));
	}
	if (fgets(key, sizeof(key), f) == NULL) {
		fail_msg("%s: empty", path);
	}
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	return key;
}

/*
 * Load a policy: top-level lines, then user alice (with her key) and her
 * rules, and make it the one the broker reads.
 */
static const struct policy *
pol(struct fx *f, const char *top, const char *fmt, ...)
{
	char rules[2048], buf[4096];
	struct policy *p = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(rules, sizeof(rules), fmt, ap);
	va_end(ap);
	n = snprintf(buf, sizeof(buf), "%suser alice\n\tkey %s\n%s", top,
	    alice_key(), rules);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	if (policy_load_buf("test", buf, (size_t)n, POLICY_F_NO_FILES,
	    diag_print, NULL, &p) != 0) {
		fail_msg("cannot load policy:\n%s", buf);
	}
	assert_true(f->npols < sizeof(f->pols) / sizeof(f->pols[0]));
	f->pols[f->npols++] = p;
	f->cur = p;
	return p;
}

static int
setup(void **state)
{
	struct fx *f;
	char err[256];

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->b = broker_new(&f->cur, err, sizeof(err));
	if (f->b == NULL) {
		fail_msg("broker_new: %s", err);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	size_t i;

	broker_free(f->b);
	for (i = 0; i < f->npols; i++)
		policy_free(f->pols[i]);
	free(f);
	return 0;
}

/* One turn of the master's loop: wait for the broker, then process. */
static void
turn(struct fx *f, int max_ms)
{
	struct pollfd pfd;
	int t = broker_timeout_ms(f->b);

	if (t < 0 || t > max_ms)
		t = max_ms;
	pfd.fd = broker_fd(f->b);
	pfd.events = POLLIN;
	if (poll(&pfd, 1, t) == -1 && errno != EINTR) {
		fail_msg("poll: %s", strerror(errno));
	}
	broker_process(f->b);
}

/* Run the loop until d completed or max_ms passed; 1 if completed. */
static int
run(struct fx *f, struct done *d, int max_ms)
{
	uint64_t end = now_ms() + (uint64_t)max_ms, now;

	while ((d == NULL || d->calls == 0) && (now = now_ms()) < end)
		turn(f, (int)(end - now));
	return d != NULL && d->calls > 0;
}

static uint64_t
start(struct fx *f, const char *host, unsigned int port,
    unsigned int timeout_ms, struct done *d)
{
	uint64_t id = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	in_connect = 1;
	rc = broker_connect(f->b, "alice", host, port, timeout_ms, on_done,
	    d, &id);
	in_connect = 0;
	assert_int_equal(rc, 0);
	assert_int_equal(d->calls, 0);
	return id;
}

/* Start, run to completion within max_ms, and check it came once. */
static void
request(struct fx *f, const char *host, unsigned int port,
    unsigned int timeout_ms, struct done *d)
{
	uint64_t id = start(f, host, port, timeout_ms, d);

	if (!run(f, d, (int)timeout_ms + 2000)) {
		fail_msg("request to %s:%u never completed", host, port);
	}
	assert_int_equal(d->calls, 1);
	assert_true(d->id == id);
	assert_int_equal(d->res.port, port);
}

static void
assert_refused(const struct done *d, const char *rule, const char *why)
{
	assert_int_equal(d->res.fd, -1);
	assert_int_equal(d->res.allowed, 0);
	if (rule != NULL)
		assert_string_equal(d->res.rule, rule);
	assert_contains(d->res.reason, why);
}

static void
assert_addr(const struct done *d, const char *want)
{
	char got[ADDR_STRLEN];

	assert_true(d->res.has_addr);
	addr_ntop(&d->res.addr, got, sizeof(got));
	assert_string_equal(got, want);
}

static int
sock_family(const char *addr)
{
	return strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
}

static socklen_t
sockaddr_of(const char *addr, unsigned int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (sock_family(addr) == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
	return sizeof(*sin6);
}

/*
 * A socket bound to addr:*port (0: any free port, stored back), listening
 * with the given backlog, or only bound if backlog < 0 (its port is then
 * closed).  -1 if the address is not available here (no IPv6).
 */
static int
bound(const char *addr, unsigned int *port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if ((fd = socket(sock_family(addr), SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sock_family(addr) == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	len = sockaddr_of(addr, *port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    (backlog >= 0 && listen(fd, backlog) == -1)) {
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static int
listener(const char *addr, unsigned int *port)
{
	return bound(addr, port, 16);
}

/* A port on addr that nobody listens on (kept bound so it stays so). */
static int
closed_port(const char *addr, unsigned int *port)
{
	*port = 0;
	return bound(addr, port, -1);
}

static int
fd_count(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
wait_fd(int fd, short ev)
{
	struct pollfd pfd = { .fd = fd, .events = ev };

	assert_int_equal(poll(&pfd, 1, 2000), 1);
}

/* fd is a non-blocking connected socket; lfd the listener it reached. */
static void
assert_connected(int fd, int lfd)
{
	char c = 0;
	int s, fl, v;
	socklen_t len = sizeof(v);

	assert_true(fd >= 0);
	fl = fcntl(fd, F_GETFL);
	assert_true(fl != -1 && (fl & O_NONBLOCK));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len),
	    0);
	assert_true(v);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &len),
	    0);
	assert_true(v);

	wait_fd(lfd, POLLIN);
	assert_true((s = accept(lfd, NULL, NULL)) >= 0);
	assert_int_equal(send(fd, "x", 1, MSG_NOSIGNAL), 1);
	wait_fd(s, POLLIN);
	assert_int_equal(recv(s, &c, 1, 0), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(send(s, "y", 1, MSG_NOSIGNAL), 1);
	wait_fd(fd, POLLIN);
	assert_int_equal(recv(fd, &c, 1, 0), 1);
	assert_int_equal(c, 'y');
	close(s);
}

static void
test_connect_literal(void **state, const char *addr, const char *lift)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port = 0;
	int lfd;

	if ((lfd = listener(addr, &port)) == -1) {
		skip();
	}
	pol(f, lift, "\tallow %s port %u\n", addr, port);
	request(f, addr, port, 2000, &d);
	assert_int_equal(d.res.allowed, 1);
	assert_addr(&d, addr);
	assert_string_equal(d.res.rule, "test:4");
	assert_contains(d.res.reason, "allowed by test:4");
	assert_connected(d.res.fd, lfd);
	close(d.res.fd);
	close(lfd);
}

static void
test_connect_v4(void **state)
{
	test_connect_literal(state, "127.0.0.1",
	    "lift-default-deny 127.0.0.1/32\n");
}

static void
test_connect_v6(void **state)
{
	test_connect_literal(state, "::1", "lift-default-deny ::1/128\n");
}

/* Refusals come from broker_process(), on its first turn, with reasons. */
static void
test_denied(void **state)
{
	struct fx *f = *state;
	struct pollfd pfd;
	struct done d;

	pol(f, "deny 10.9.0.0/16\n", "\tallow 10.0.0.0/8 port 22\n");

	start(f, "10.9.1.1", 22, 1000, &d);
	/* the eventfd: the broker's fd is readable at once */
	pfd.fd = broker_fd(f->b);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(broker_timeout_ms(f->b), 0);
	broker_process(f->b);
	assert_int_equal(d.calls, 1);
	assert_refused(&d, "test:1", "denied by test:1 (deny 10.9.0.0/16");
	assert_addr(&d, "10.9.1.1");

	request(f, "10.0.0.5", 2222, 1000, &d);
	assert_refused(&d, "", "no rule matches");
	assert_addr(&d, "10.0.0.5");

	request(f, "169.254.169.254", 22, 1000, &d);
	assert_refused(&d, "built-in", "built-in deny list (169.254.0.0/16)");

	request(f, "::ffff:169.254.169.254", 22, 1000, &d);
	assert_refused(&d, "built-in", "built-in deny list (169.254.0.0/16)");
	assert_addr(&d, "169.254.169.254");

	request(f, "127.0.0.1", 22, 1000, &d);
	assert_refused(&d, "built-in", "127.0.0.0/8");

	/* nothing is left behind */
	assert_int_equal(broker_timeout_ms(f->b), -1);
}

static void
test_refused_port(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port;
	char want[128];
	int cfd;

	assert_true((cfd = closed_port("127.0.0.1", &port)) >= 0);
	pol(f, "lift-default-deny 127.0.0.1/32\n",
	    "\tallow 127.0.0.1 " ANY_PORT "\n");
	request(f, "127.0.0.1", port, 2000, &d);
	assert_int_equal(d.res.fd, -1);
	assert_int_equal(d.res.allowed, 1);
	assert_string_equal(d.res.rule, "test:4");
	snprintf(want, sizeof(want), "connect to 127.0.0.1:%u failed: "
	    "Connection refused", port);
	assert_string_equal(d.res.reason, want);
	assert_addr(&d, "127.0.0.1");
	close(cfd);
}

/*
 * "localhost" through /etc/hosts (c-ares "fb").  Whatever it resolves to
 * here, a policy that allows only 127.0.0.1 must refuse it if ::1 is one
 * of its addresses.
 */
static void
assert_connected_local(const struct done *d, int l4, int l6)
{
	char got[ADDR_STRLEN];

	assert_int_equal(d->res.allowed, 1);
	assert_true(d->res.has_addr);
	addr_ntop(&d->res.addr, got, sizeof(got));
	if (strcmp(got, "127.0.0.1") == 0) {
		assert_connected(d->res.fd, l4);
	} else {
		assert_string_equal(got, "::1");
		assert_true(l6 >= 0);
		assert_connected(d->res.fd, l6);
	}
	close(d->res.fd);
}

static void
test_localhost(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port = 0;
	int l4, l6;

	assert_true((l4 = listener("127.0.0.1", &port)) >= 0);
	l6 = bound("::1", &port, 16);	/* same port, if IPv6 works */

	pol(f, "lift-default-deny 127.0.0.1/32\nlift-default-deny ::1/128\n",
	    "\tallow 127.0.0.1 ::1 port %u\n", port);
	request(f, "localhost", port, 3000, &d);
	assert_connected_local(&d, l4, l6);

	/* The spelling does not matter. */
	request(f, "LocalHost.", port, 3000, &d);
	assert_connected_local(&d, l4, l6);

	pol(f, "lift-default-deny 127.0.0.1/32\nlift-default-deny ::1/128\n",
	    "\tallow 127.0.0.1 port %u\n", port);
	request(f, "localhost", port, 3000, &d);
	if (d.res.allowed) {
		print_message("localhost is only 127.0.0.1 here\n");
		assert_addr(&d, "127.0.0.1");
		assert_connected(d.res.fd, l4);
		close(d.res.fd);
	} else {
		print_message("localhost includes ::1 here\n");
		assert_refused(&d, "", "localhost resolves to ::1, no rule");
		assert_addr(&d, "::1");
	}
	close(l4);
	if (l6 != -1)
		close(l6);
}

/* c-ares knows .onion is never in DNS: refused with no packet sent. */
static void
test_unresolvable(void **state)
{
	struct fx *f = *state;
	struct done d;

	pol(f, "", "\tallow *.onion port 22\n");
	request(f, "no-such-host.onion", 22, 2000, &d);
	assert_refused(&d, "", "no-such-host.onion did not resolve to any "
	    "address");
	assert_false(d.res.has_addr);
}

/* Refused without a lookup: all of them finish on the first turn. */
static void
test_hostile_names(void **state)
{
	static const char *bad[] = {
		"", "a\x01" "b", "10.1", "0x7f.1", "127.1", "010.0.0.1",
		"1.2.3.4.5", "[::1]", "fe80::1%lo", "a..b", ".", "..",
		"-a.example", "a b", "a\nb", "a\rb", "%s%s%n", "\xff\xfe",
		"caf\xc3\xa9.example", "a/b", "a\\b", "*.example",
		"localhost\x7f", "a_b.example\x01",
	};
	struct fx *f = *state;
	struct done d;
	char longname[301];
	size_t i;

	pol(f, "lift-default-deny 127.0.0.1/32\n", "\tallow * " ANY_PORT "\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(f, bad[i], 22, 1000, &d);
		broker_process(f->b);
		if (d.calls != 1) {
			fail_msg("\"%s\" did not finish at once", bad[i]);
		}
		assert_refused(&d, "", "invalid host name");
		assert_false(d.res.has_addr);
	}

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	start(f, longname, 22, 1000, &d);
	broker_process(f->b);
	assert_int_equal(d.calls, 1);
	assert_refused(&d, "", "invalid host name");

	/* labels of 63, a name of 254 with its dot: still only a name */
	memset(longname, 'a', 300);
	for (i = 63; i < 300; i += 64)
		longname[i] = '.';
	longname[254] = '\0';
	start(f, longname, 22, 1000, &d);
	broker_process(f->b);
	assert_int_equal(d.calls, 1);
	assert_refused(&d, "", "invalid host name");

	/* an over-long user is nobody, not a cut-down somebody */
	memset(&d, 0, sizeof(d));
	assert_int_equal(broker_connect(f->b,
	    "alice-and-a-name-that-is-far-too-long-to-be-real", "127.0.0.1",
	    22, 1000, on_done, &d, &(uint64_t){ 0 }), 0);
	broker_process(f->b);
	assert_int_equal(d.calls, 1);
	assert_refused(&d, "", "unknown user");

	request(f, "127.0.0.1", 0, 1000, &d);
	assert_refused(&d, "", "port 0 is not valid");
	request(f, "127.0.0.1", 70000, 1000, &d);
	assert_refused(&d, "", "port 70000 is not valid");
}

/*
 * Random bytes, each string carrying at least one byte no host name can
 * have (so nothing is ever looked up): never a crash, always refused.
 */
static void
test_random_names(void **state)
{
	struct fx *f = *state;
	struct done d;
	char host[301];
	size_t i, len, k;
	unsigned int seed = 12345;

	pol(f, "", "\tallow * " ANY_PORT "\n");
	for (i = 0; i < 3000; i++) {
		len = 1 + (size_t)rand_r(&seed) % 300;
		for (k = 0; k < len; k++)
			host[k] = (char)(1 + rand_r(&seed) % 255);
		host[rand_r(&seed) % len] = (char)(1 + rand_r(&seed) % 31);
		host[len] = '\0';
		start(f, host, 1 + (unsigned int)i, 1000, &d);
		broker_process(f->b);
		assert_int_equal(d.calls, 1);
		assert_refused(&d, "", "invalid host name");
	}
}

/* A non-loopback address of this machine, or 0 if there is none. */
static int
own_address(char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	struct addr a;
	int found = 0;

	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		assert_int_equal(addr_from_sockaddr(i->ifa_addr,
		    sizeof(struct sockaddr_in), &a), 0);
		if (a.a[0] == 127 || (a.a[0] == 169 && a.a[1] == 254))
			continue;
		addr_ntop(&a, buf, len);
		found = 1;
	}
	freeifaddrs(ifa);
	return found;
}

/* Refused before any connect: no packet leaves. */
static void
test_self(void **state)
{
	struct fx *f = *state;
	struct done d;
	char self[ADDR_STRLEN], want[128];

	pol(f, "lift-default-deny 0.0.0.0/32\nlift-default-deny ::/128\n",
	    "\tallow 0.0.0.0 :: port 22\n");
	request(f, "0.0.0.0", 22, 1000, &d);
	assert_refused(&d, "built-in", "0.0.0.0 is an address of the "
	    "gateway itself");
	request(f, "::", 22, 1000, &d);
	assert_refused(&d, "built-in", ":: is an address of the gateway "
	    "itself");

	if (!own_address(self, sizeof(self))) {
		print_message("no non-loopback IPv4 address: part skipped\n");
		return;
	}
	assert_int_equal(broker_refresh_self(f->b), 0);
	pol(f, "", "\tallow %s port 22\n", self);
	request(f, self, 22, 1000, &d);
	snprintf(want, sizeof(want), "%s is an address of the gateway itself",
	    self);
	assert_refused(&d, "built-in", want);
	assert_addr(&d, self);
}

/*
 * A listener with backlog 0 and one unaccepted connection drops further
 * SYNs, so a connect to it stays pending: a deterministic timeout.
 */
static int
full_listener(unsigned int *port, int *filler)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd;

	*port = 0;
	assert_true((lfd = bound("127.0.0.1", port, 0)) >= 0);
	assert_true((*filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) >= 0);
	len = sockaddr_of("127.0.0.1", *port, &ss);
	assert_int_equal(connect(*filler, (struct sockaddr *)&ss, len), 0);
	return lfd;
}

static void
test_connect_timeout(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port;
	int lfd, filler;
	uint64_t t0, took;
	char want[128];

	lfd = full_listener(&port, &filler);
	pol(f, "lift-default-deny 127.0.0.1/32\n",
	    "\tallow 127.0.0.1 " ANY_PORT "\n");
	t0 = now_ms();
	request(f, "127.0.0.1", port, 300, &d);
	took = d.at - t0;
	print_message("connect timeout of 300 ms took %llu ms\n",
	    (unsigned long long)took);
	assert_true(took >= 290 && took < 1000);
	assert_int_equal(d.res.fd, -1);
	assert_int_equal(d.res.allowed, 1);
	snprintf(want, sizeof(want), "connect to 127.0.0.1:%u timed out",
	    port);
	assert_string_equal(d.res.reason, want);
	close(filler);
	close(lfd);
}

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct done d1, d2, d3;
	unsigned int port;
	int lfd, filler, n0, n1;
	uint64_t id;

	lfd = full_listener(&port, &filler);
	pol(f, "lift-default-deny 127.0.0.1/32\n",
	    "\tallow 127.0.0.1 " ANY_PORT "\n");

	/* queued, not yet decided */
	id = start(f, "127.0.0.1", port, 300, &d1);
	broker_cancel(f->b, id);

	/* connecting: its socket must go */
	n0 = fd_count();
	id = start(f, "127.0.0.1", port, 300, &d2);
	run(f, NULL, 50);
	assert_int_equal(d2.calls, 0);
	assert_int_equal(fd_count(), n0 + 1);
	broker_cancel(f->b, id);
	n1 = fd_count();
	assert_int_equal(n1, n0);
	broker_cancel(f->b, id);		/* twice is harmless */
	broker_cancel(f->b, 987654321);		/* unknown too */

	/* a refusal, cancelled before its turn */
	id = start(f, "10.1.1.1", 22, 300, &d3);
	broker_cancel(f->b, id);

	run(f, NULL, 500);
	assert_int_equal(d1.calls, 0);
	assert_int_equal(d2.calls, 0);
	assert_int_equal(d3.calls, 0);
	assert_int_equal(broker_timeout_ms(f->b), -1);
	close(filler);
	close(lfd);
}

/* Decisions use the policy in force when they are made. */
static void
test_policy_swap(void **state)
{
	struct fx *f = *state;
	const struct policy *deny, *allow;
	struct done d;
	unsigned int port = 0;
	int lfd;

	assert_true((lfd = listener("127.0.0.1", &port)) >= 0);
	deny = pol(f, "lift-default-deny 127.0.0.1/32\n", "");
	allow = pol(f, "lift-default-deny 127.0.0.1/32\n",
	    "\tallow 127.0.0.1 port %u\n", port);

	f->cur = deny;
	start(f, "127.0.0.1", port, 2000, &d);
	f->cur = allow;		/* SIGHUP before the decision */
	assert_true(run(f, &d, 2000));
	assert_int_equal(d.res.allowed, 1);
	assert_connected(d.res.fd, lfd);
	close(d.res.fd);

	start(f, "localhost", port, 2000, &d);
	f->cur = deny;
	assert_true(run(f, &d, 2000));
	assert_refused(&d, "", "no rule matches");
	close(lfd);
}

struct many {
	int	calls;
	int	refused;
};

static void
on_many(void *ctx, uint64_t id, const struct broker_result *res)
{
	struct many *m = ctx;

	(void)id;
	m->calls++;
	m->refused += res->fd == -1 && !res->allowed;
}

static void
test_cap(void **state)
{
	struct fx *f = *state;
	struct many m = { 0, 0 };
	uint64_t id, first = 0;
	int i;

	pol(f, "", "\tallow 10.0.0.0/8 port 22\n");
	for (i = 0; i < CAP; i++) {
		assert_int_equal(broker_connect(f->b, "alice", "10.0.0.5",
		    2222, 5000, on_many, &m, &id), 0);
		if (i == 0)
			first = id;
	}
	assert_int_equal(broker_connect(f->b, "alice", "10.0.0.5", 2222,
	    5000, on_many, &m, &id), -1);
	broker_cancel(f->b, first);
	assert_int_equal(broker_connect(f->b, "alice", "10.0.0.5", 2222,
	    5000, on_many, &m, &id), 0);
	assert_int_equal(m.calls, 0);
	while (m.calls < CAP) {
		i = m.calls;
		turn(f, 1000);
		assert_true(m.calls > i);
	}
	assert_int_equal(m.calls, CAP);
	assert_int_equal(m.refused, CAP);
	assert_int_equal(broker_timeout_ms(f->b), -1);
}

/* Callbacks may start and cancel requests; no reentrancy, no loss. */
struct chain {
	struct fx	*f;
	uint64_t	victim;
	struct done	*next;
	int		calls;
};

static void
on_chain(void *ctx, uint64_t id, const struct broker_result *res)
{
	struct chain *c = ctx;
	uint64_t nid;

	(void)id;
	(void)res;
	c->calls++;
	broker_cancel(c->f->b, c->victim);
	memset(c->next, 0, sizeof(*c->next));
	assert_int_equal(broker_connect(c->f->b, "alice", "10.2.2.2", 22,
	    1000, on_done, c->next, &nid), 0);
	assert_int_equal(c->next->calls, 0);
}

static void
test_callback_reentry(void **state)
{
	struct fx *f = *state;
	struct chain c;
	struct done victim, next;
	uint64_t id;

	pol(f, "", "");
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.next = &next;
	assert_int_equal(broker_connect(f->b, "alice", "10.1.1.1", 22, 1000,
	    on_chain, &c, &id), 0);
	c.victim = start(f, "10.1.1.2", 22, 1000, &victim);
	broker_process(f->b);
	assert_int_equal(c.calls, 1);
	assert_int_equal(victim.calls, 0);
	assert_int_equal(next.calls, 0);	/* queued for the next turn */
	assert_int_equal(broker_timeout_ms(f->b), 0);
	assert_true(run(f, &next, 1000));
	assert_refused(&next, "", "no rule matches");
	assert_int_equal(victim.calls, 0);
}

/* broker_free with work outstanding: no callback, nothing leaked. */
static void
test_free_outstanding(void **state)
{
	struct fx *f = *state;
	struct done d1, d2, d3;
	unsigned int port;
	int lfd, filler;

	lfd = full_listener(&port, &filler);
	pol(f, "lift-default-deny 127.0.0.1/32\n",
	    "\tallow 127.0.0.1 " ANY_PORT "\n");
	start(f, "127.0.0.1", port, 5000, &d1);
	run(f, NULL, 20);			/* now connecting */
	start(f, "127.0.0.1", port, 5000, &d2);	/* queued */
	start(f, "localhost", port, 5000, &d3);	/* answered from /etc/hosts */
	broker_free(f->b);
	f->b = NULL;
	assert_int_equal(d1.calls + d2.calls + d3.calls, 0);
	close(filler);
	close(lfd);
}

/* How long a literal and an /etc/hosts name take, connect included. */
static void
test_timing(void **state)
{
	static const char *hosts[] = { "127.0.0.1", "localhost" };
	struct fx *f = *state;
	struct done d;
	struct timespec t0, t1;
	unsigned int port = 0;
	double us;
	int lfd, s, i, k;

	assert_true((lfd = listener("127.0.0.1", &port)) >= 0);
	pol(f, "lift-default-deny 127.0.0.1/32\nlift-default-deny ::1/128\n",
	    "\tallow 127.0.0.1 ::1 port %u\n", port);
	for (k = 0; k < 2; k++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < 200; i++) {
			request(f, hosts[k], port, 2000, &d);
			assert_true(d.res.fd >= 0);
			close(d.res.fd);
			assert_true((s = accept(lfd, NULL, NULL)) >= 0);
			close(s);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		    (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / 200;
		print_message("%-10s %.1f us per request (resolve, decide, "
		    "connect)\n", hosts[k], us);
	}
	close(lfd);
}

/* ---- Only in a private namespace (tests/ctl/broker_netns.sh) ---- */

#define NEED_NETNS() do {						\
	if (!netns_mode()) {						\
		skip();							\
	}								\
} while (0)

static int
black_hole(void)
{
	struct sockaddr_storage ss;
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss,
	    sockaddr_of("127.0.0.1", 53, &ss)), 0);
	return fd;
}

/* dual.test is 127.0.0.1 then ::1 in the namespace's hosts file. */
static void
test_ns_next_address(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port;
	int l6, c4;
	char want[128];

	NEED_NETNS();
	assert_true((c4 = closed_port("127.0.0.1", &port)) >= 0);
	assert_true((l6 = bound("::1", &port, 16)) >= 0);
	pol(f, "lift-default-deny 127.0.0.1/32\nlift-default-deny ::1/128\n",
	    "\tallow 127.0.0.1 ::1 port %u\n", port);
	request(f, "dual.test", port, 2000, &d);
	assert_int_equal(d.res.allowed, 1);
	assert_addr(&d, "::1");
	assert_connected(d.res.fd, l6);
	close(d.res.fd);
	close(l6);

	/* neither answers: the last failure is the one reported */
	request(f, "dual.test", port, 2000, &d);
	assert_int_equal(d.res.fd, -1);
	assert_int_equal(d.res.allowed, 1);
	snprintf(want, sizeof(want), "connect to [::1]:%u failed: "
	    "Connection refused", port);
	assert_string_equal(d.res.reason, want);
	assert_addr(&d, "::1");

	/* every address must be allowed */
	pol(f, "lift-default-deny 127.0.0.1/32\nlift-default-deny ::1/128\n",
	    "\tallow 127.0.0.1 port %u\n", port);
	request(f, "dual.test", port, 2000, &d);
	assert_refused(&d, "", "dual.test resolves to ::1, no rule matches");
	assert_addr(&d, "::1");
	close(c4);
}

/* The per-attempt share of the timeout lets the second address answer. */
static void
test_ns_timeout_shared(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port;
	int l4, filler, l6;
	uint64_t t0;

	NEED_NETNS();
	l4 = full_listener(&port, &filler);
	if ((l6 = bound("::1", &port, 16)) == -1) {
		skip();
	}
	pol(f, "lift-default-deny 127.0.0.1/32\nlift-default-deny ::1/128\n",
	    "\tallow 127.0.0.1 ::1 port %u\n", port);
	t0 = now_ms();
	request(f, "dual.test", port, 1000, &d);
	print_message("127.0.0.1 black-holed, ::1 answered after %llu ms\n",
	    (unsigned long long)(d.at - t0));
	assert_true(d.at - t0 >= 490 && d.at - t0 < 1000);
	assert_addr(&d, "::1");
	assert_connected(d.res.fd, l6);
	close(d.res.fd);
	close(l6);
	close(filler);
	close(l4);
}

static void
test_ns_many_and_dups(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port = 0;
	int lfd;

	NEED_NETNS();
	assert_true((lfd = listener("127.0.0.1", &port)) >= 0);
	pol(f, "lift-default-deny 127.0.0.1/32\n",
	    "\tallow 10.0.0.0/8 127.0.0.1 " ANY_PORT "\n");
	/* 33 different addresses */
	request(f, "many.test", port, 2000, &d);
	assert_refused(&d, "", "many.test resolved to too many addresses");
	/* 32 is fine (refused only by the policy's list) */
	request(f, "thirtytwo.test", 22, 2000, &d);
	assert_int_equal(d.res.allowed, 1);
	/* 40 copies of one address are one address */
	request(f, "dup.test", port, 2000, &d);
	assert_int_equal(d.res.allowed, 1);
	assert_addr(&d, "127.0.0.1");
	assert_connected(d.res.fd, lfd);
	close(d.res.fd);
	close(lfd);
}

/* resolv.conf says 127.0.0.1: first nobody there, then a black hole. */
static void
test_ns_dns(void **state)
{
	struct fx *f = *state;
	struct done d, c;
	uint64_t t0, id;
	int hole;

	NEED_NETNS();
	pol(f, "", "\tallow *.test " ANY_PORT "\n");

	request(f, "nobody-answers.test", 22, 2000, &d);
	assert_refused(&d, "", "cannot resolve nobody-answers.test");

	hole = black_hole();
	t0 = now_ms();
	request(f, "no-such-host.invalid", 22, 500, &d);
	print_message("lookup timeout of 500 ms took %llu ms\n",
	    (unsigned long long)(d.at - t0));
	assert_true(d.at - t0 >= 490 && d.at - t0 < 1000);
	assert_refused(&d, "", "no-such-host.invalid: name lookup timed out");

	/* cancelled while c-ares still has it */
	id = start(f, "slow.test", 22, 500, &c);
	run(f, NULL, 100);
	broker_cancel(f->b, id);
	run(f, NULL, 600);
	assert_int_equal(c.calls, 0);
	/* teardown frees the broker with both lookups still outstanding */
	close(hole);
}

/* The QNAME of a DNS query, dotted, or "" if it is malformed. */
static void
query_name(const unsigned char *q, size_t len, char *out, size_t outlen)
{
	size_t off = 12, o = 0, l;

	out[0] = '\0';
	while (off < len && (l = q[off++]) != 0) {
		if (l > 63 || off + l > len || o + l + 2 > outlen) {
			out[0] = '\0';
			return;
		}
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, q + off, l);
		o += l;
		off += l;
		out[o] = '\0';
	}
}

/*
 * resolv.conf in the namespace says "search corp.test", and the policy
 * decides on the name as asked: so "bare" must be asked as "bare", never
 * as "bare.corp.test".
 */
static void
test_ns_no_search(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned char q[512];
	char name[300];
	ssize_t n;
	int hole, seen = 0;

	NEED_NETNS();
	pol(f, "", "\tallow bare " ANY_PORT "\n");
	hole = black_hole();
	request(f, "bare", 22, 300, &d);
	assert_refused(&d, "", "bare: name lookup timed out");
	while ((n = recv(hole, q, sizeof(q), MSG_DONTWAIT)) > 0) {
		query_name(q, (size_t)n, name, sizeof(name));
		print_message("query for \"%s\"\n", name);
		if (strcmp(name, "bare") != 0) {
			fail_msg("asked for \"%s\"", name);
		}
		seen++;
	}
	assert_true(seen >= 2);		/* A and AAAA */
	close(hole);
}

/*
 * Requests that timed out while c-ares still looks them up keep counting
 * against the limit until c-ares lets go of them.
 */
static void
test_ns_orphans(void **state)
{
	struct fx *f = *state;
	struct many m = { 0, 0 };
	uint64_t id, t0;
	int hole, i, rc;

	NEED_NETNS();
	pol(f, "", "\tallow *.test " ANY_PORT "\n");
	hole = black_hole();
	for (i = 0; i < CAP; i++) {
		assert_int_equal(broker_connect(f->b, "alice", "slow.test",
		    22, 100, on_many, &m, &id), 0);
	}
	t0 = now_ms();
	while (m.calls < CAP && now_ms() - t0 < 5000)
		turn(f, 1000);
	assert_int_equal(m.calls, CAP);
	assert_int_equal(m.refused, CAP);
	assert_int_equal(broker_connect(f->b, "alice", "10.0.0.5", 22, 100,
	    on_many, &m, &id), -1);
	t0 = now_ms();
	while ((rc = broker_connect(f->b, "alice", "10.0.0.5", 22, 100,
	    on_many, &m, &id)) == -1 && now_ms() - t0 < 15000)
		turn(f, 200);
	assert_int_equal(rc, 0);
	print_message("%d orphaned lookups let go after %llu ms\n", CAP,
	    (unsigned long long)(now_ms() - t0));
	close(hole);
}

/* ---- DNS relay (sshuttle's DNS_REQ) ---- */

struct dnsdone {
	int		calls;
	uint64_t	id;
	int		ok;
	uint8_t		ans[BROKER_DNS_MAX];
	size_t		len;
	char		reason[256];
};

static void
on_dns(void *ctx, uint64_t id, int ok, const uint8_t *ans, size_t len,
    const char *reason)
{
	struct dnsdone *d = ctx;

	if (in_connect) {
		fail_msg("DNS callback ran inside broker_dns()");
	}
	assert_true(len <= sizeof(d->ans));
	d->calls++;
	d->id = id;
	d->ok = ok;
	if (len > 0)
		memcpy(d->ans, ans, len);
	d->len = len;
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
}

/* A query for name, type A, with the client's id 0xabcd and RD set. */
static size_t
dns_query(const char *name, uint8_t *q, size_t max)
{
	static const uint8_t hdr[] = {
		0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	};
	size_t o = sizeof(hdr), l;
	const char *p = name, *dot;

	memcpy(q, hdr, sizeof(hdr));
	while (*p != '\0') {
		dot = strchr(p, '.');
		l = dot != NULL ? (size_t)(dot - p) : strlen(p);
		assert_true(l > 0 && l < 64 && o + l + 6 < max);
		q[o++] = (uint8_t)l;
		memcpy(q + o, p, l);
		o += l;
		p += l + (dot != NULL);
	}
	q[o++] = 0;
	q[o++] = 0;
	q[o++] = 1;	/* A */
	q[o++] = 0;
	q[o++] = 1;	/* IN */
	return o;
}

/*
 * Run the broker until d is answered, serving the resolver's side on the
 * UDP socket srv: each query gets the same question back with rcode and,
 * for rcode 0, one A record 192.0.2.77.  Returns the queries seen; *last
 * gets the last one.
 */
static int
dns_serve(struct fx *f, int srv, int rcode, struct dnsdone *d, int max_ms,
    uint8_t *last, size_t *lastlen)
{
	static const uint8_t rr[] = {
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77,
	};
	struct sockaddr_storage from;
	socklen_t flen;
	uint8_t b[600];
	uint64_t end = now_ms() + (uint64_t)max_ms;
	ssize_t n;
	int seen = 0;

	while ((d == NULL || d->calls == 0) && now_ms() < end) {
		turn(f, 20);
		flen = sizeof(from);
		while ((n = recvfrom(srv, b, sizeof(b) - sizeof(rr),
		    MSG_DONTWAIT, (struct sockaddr *)&from, &flen)) >= 12) {
			seen++;
			memcpy(last, b, (size_t)n);
			*lastlen = (size_t)n;
			b[2] |= 0x80;			/* QR */
			b[3] = (uint8_t)(0x80 | rcode);	/* RA, rcode */
			if (rcode == 0) {
				b[7] = 1;		/* ANCOUNT */
				memcpy(b + n, rr, sizeof(rr));
				n += (ssize_t)sizeof(rr);
			}
			assert_int_equal(sendto(srv, b, (size_t)n, 0,
			    (struct sockaddr *)&from, flen), n);
			flen = sizeof(from);
		}
	}
	return seen;
}

static uint64_t
dns_start(struct fx *f, const uint8_t *q, size_t len, struct dnsdone *d)
{
	uint64_t id = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	in_connect = 1;
	rc = broker_dns(f->b, q, len, on_dns, d, &id);
	in_connect = 0;
	assert_int_equal(rc, 0);
	assert_int_equal(d->calls, 0);
	return id;
}

/* What can be refused without a packet: lengths. */
static void
test_dns_lengths(void **state)
{
	struct fx *f = *state;
	static uint8_t q[BROKER_DNS_MAX + 1];
	struct dnsdone d;
	uint64_t id;

	memset(&d, 0, sizeof(d));
	assert_int_equal(broker_dns(f->b, q, 0, on_dns, &d, &id), -1);
	assert_int_equal(broker_dns(f->b, q, BROKER_DNS_HDR - 1, on_dns, &d,
	    &id), -1);
	assert_int_equal(broker_dns(f->b, q, BROKER_DNS_MAX + 1, on_dns, &d,
	    &id), -1);
	run(f, NULL, 50);
	assert_int_equal(d.calls, 0);
}

/*
 * The query reaches the namespace's resolver (127.0.0.1:53) with c-ares'
 * id and otherwise as the client wrote it; the answer comes back with the
 * client's id, byte for byte otherwise.  NXDOMAIN is an answer too;
 * SERVFAIL, silence and a cancel are not.
 */
static void
test_ns_dns_relay(void **state)
{
	struct fx *f = *state;
	struct dnsdone d, c;
	uint8_t q[512], seen[600];
	size_t qlen, seenlen = 0;
	uint64_t id, t0;
	int srv, n;

	NEED_NETNS();
	srv = black_hole();
	qlen = dns_query("relay.test", q, sizeof(q));
	id = dns_start(f, q, qlen, &d);
	n = dns_serve(f, srv, 0, &d, 3000, seen, &seenlen);
	assert_int_equal(n, 1);
	assert_int_equal(d.calls, 1);
	assert_true(d.id == id);
	if (!d.ok)
		fail_msg("not relayed: %s", d.reason);
	assert_int_equal(seenlen, qlen);
	assert_memory_equal(seen + 2, q + 2, qlen - 2);
	assert_int_equal(d.len, qlen + 16);
	assert_int_equal(d.ans[0], 0xab);
	assert_int_equal(d.ans[1], 0xcd);
	assert_int_equal(d.ans[3] & 0x0f, 0);
	assert_memory_equal(d.ans + qlen + 12, "\xc0\x00\x02\x4d", 4);

	dns_start(f, q, qlen, &d);
	dns_serve(f, srv, 3, &d, 3000, seen, &seenlen);
	assert_int_equal(d.calls, 1);
	assert_true(d.ok);
	assert_int_equal(d.ans[3] & 0x0f, 3);	/* NXDOMAIN, relayed */
	assert_int_equal(d.ans[0], 0xab);

	dns_start(f, q, qlen, &d);
	dns_serve(f, srv, 2, &d, 8000, seen, &seenlen);
	assert_int_equal(d.calls, 1);
	assert_false(d.ok);
	assert_int_equal(d.len, 0);
	/* c-ares tries again, then gives up with its own words. */
	print_message("SERVFAIL: \"%s\"\n", d.reason);
	assert_true(strncmp(d.reason, "resolver: ", 10) == 0);

	/* Cancelled while c-ares has it: answered, but never reported. */
	id = dns_start(f, q, qlen, &c);
	broker_dns_cancel(f->b, id);
	assert_int_equal(dns_serve(f, srv, 0, NULL, 300, seen, &seenlen), 1);
	assert_int_equal(c.calls, 0);

	/* Nobody answers: c-ares' own timeouts (2 s, then 4 s) decide. */
	t0 = now_ms();
	dns_start(f, q, qlen, &d);
	run(f, NULL, 100);
	while (d.calls == 0 && now_ms() - t0 < 10000)
		turn(f, 500);
	print_message("DNS relay timeout after %llu ms\n",
	    (unsigned long long)(now_ms() - t0));
	assert_int_equal(d.calls, 1);
	assert_false(d.ok);
	assert_string_equal(d.reason, "resolver: timeout");
	/* teardown frees the broker with a cancelled query outstanding */
	dns_start(f, q, qlen, &c);
	broker_dns_cancel(f->b, dns_start(f, q, qlen, &d));
	close(srv);
}

static int
ip_cmd(const char *args)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip %s >/dev/null 2>&1", args);
	return system(cmd);
}

/* An address added to lo (not 127/8) is the gateway's own, once known. */
static void
test_ns_self(void **state)
{
	struct fx *f = *state;
	struct done d;
	unsigned int port = 0;
	int lfd;

	NEED_NETNS();
	assert_int_equal(ip_cmd("addr add 10.77.0.1/32 dev lo"), 0);
	assert_true((lfd = listener("10.77.0.1", &port)) >= 0);
	pol(f, "lift-default-deny 127.0.0.1/32\n",
	    "\tallow 10.77.0.0/16 127.0.0.1 port %u\n", port);

	/* the broker was made before the address existed */
	request(f, "10.77.0.1", port, 2000, &d);
	assert_int_equal(d.res.allowed, 1);
	assert_connected(d.res.fd, lfd);
	close(d.res.fd);

	assert_int_equal(broker_refresh_self(f->b), 0);
	request(f, "10.77.0.1", port, 2000, &d);
	assert_refused(&d, "built-in", "10.77.0.1 is an address of the "
	    "gateway itself");
	assert_addr(&d, "10.77.0.1");

	request(f, "self.test", port, 2000, &d);
	assert_refused(&d, "built-in", "self.test resolves to 10.77.0.1, "
	    "10.77.0.1 is an address of the gateway itself");

	close(lfd);
	assert_int_equal(ip_cmd("addr del 10.77.0.1/32 dev lo"), 0);
	assert_int_equal(broker_refresh_self(f->b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_v4, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_connect_v6, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_port, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_localhost, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unresolvable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_random_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_swap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_reentry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_outstanding, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ns_next_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ns_timeout_shared, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ns_many_and_dups, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ns_dns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ns_no_search, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ns_orphans, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ns_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_lengths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ns_dns_relay, setup,
		    teardown),
	};

	log_init("test_broker", 1, getenv("BROKER_DEBUG") != NULL ?
	    LOG_LVL_DEBUG : LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
