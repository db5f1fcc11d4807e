/*
 * test_master_shuttle: the master's side of an sshuttle session, driven
 * the way monitor.c drives it -- a child (a real process, since the master
 * kills misbehaving children with SIGKILL) on the far end of a real
 * SOCK_SEQPACKET socketpair, the real policy, broker and audit file.
 *
 * Nothing here sends a DNS packet: every query is one the master refuses
 * (policy, rate limit, a query too short to be one), which is exactly the
 * part of the relay that is the master's own; the relay itself is tested
 * in test_broker (private namespace).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "ipc.h"
#include "master_int.h"

struct fx {
	struct master	 m;
	struct child	 c;
	int		 far;		/* the child's end */
	char		 dir[64];
	char		 path[128];	/* the audit file */
};

static const char *
key_line(void)
{
	static char key[1024];
	const char *dir = getenv("RAMPART_TESTDATA");
	char path[512];
	FILE *f;

	if (key[0] != '\0')
		return key;
	snprintf(path, sizeof(path), "%s/keys/alice.pub",
	    dir != NULL ? dir : "tests/data");
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	if (fgets(key, sizeof(key), f) == NULL)
		fail_msg("%s: empty", path);
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	return key;
}

static void
on_diag(void *ctx, const char *msg)
{
	(void)ctx;
	print_error("policy: %s\n", msg);
}

/* Load "user alice" with the given block lines; top lines before it. */
static void
set_policy(struct fx *f, const char *top, const char *block)
{
	char buf[65536];
	int n;

	n = snprintf(buf, sizeof(buf), "%suser alice\n\tkey %s\n%s", top,
	    key_line(), block);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	policy_free(f->m.pol);
	f->m.pol = NULL;
	if (policy_load_buf("t.conf", buf, (size_t)n, POLICY_F_NO_FILES,
	    on_diag, NULL, &f->m.pol) != 0)
		fail_msg("policy:\n%s", buf);
}

static int
setup(void **state)
{
	struct fx *f;
	char err[256];
	int sv[2];

	assert_non_null(f = calloc(1, sizeof(*f)));
	snprintf(f->dir, sizeof(f->dir), "/tmp/rampart-msh-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
	assert_non_null(f->m.audit = audit_open(f->path, "rampart-gateway",
	    0, err, sizeof(err)));
	set_policy(f, "", "");
	assert_non_null(f->m.broker = broker_new(
	    (const struct policy *const *)&f->m.pol, err, sizeof(err)));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	f->c.m = &f->m;
	f->c.ipc = sv[0];
	f->far = sv[1];
	f->c.phase = IPC_PHASE_AUTHED;
	snprintf(f->c.user, sizeof(f->c.user), "alice");
	snprintf(f->c.session_id, sizeof(f->c.session_id),
	    "0123456789abcdef");
	snprintf(f->c.peer_str, sizeof(f->c.peer_str), "198.51.100.7");
	f->c.peer_port = 40000;
	/* A process to be killed instead of the test, should it come to it. */
	if ((f->c.pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	assert_true(f->c.pid > 0);
	f->m.children = &f->c;
	f->m.nchildren = 1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	master_shuttle_gone(&f->m, &f->c);
	kill(f->c.pid, SIGKILL);
	waitpid(f->c.pid, NULL, 0);
	close(f->c.ipc);
	close(f->far);
	broker_free(f->m.broker);
	policy_free(f->m.pol);
	audit_close(f->m.audit);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The next message for the child; fails if there is none. */
static void
child_recv(struct fx *f, struct ipc_msg *msg)
{
	int fd;

	if (ipc_recv(f->far, msg, &fd) != 1)
		fail_msg("no message for the child (%s)", strerror(errno));
	assert_int_equal(fd, -1);
}

static void
child_nothing(struct fx *f)
{
	struct ipc_msg msg;
	int fd;

	errno = 0;
	assert_int_equal(ipc_recv(f->far, &msg, &fd), -1);
	assert_int_equal(errno, EAGAIN);
}

/* The audit file's lines with "event.action":"<action>", counted. */
static size_t
audit_count(struct fx *f, const char *action, char *last, size_t lastlen)
{
	char line[8192], want[128];
	size_t n = 0;
	FILE *fp;

	snprintf(want, sizeof(want), "\"event.action\":\"%s\"", action);
	assert_non_null(fp = fopen(f->path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, want) == NULL)
			continue;
		n++;
		if (last != NULL)
			snprintf(last, lastlen, "%s", line);
	}
	fclose(fp);
	return n;
}

static void
assert_has(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("no %s in %s", needle, hay);
}

static void
start(struct fx *f, const char *form, struct ipc_msg *ans)
{
	struct ipc_shuttle_start a;

	memset(&a, 0, sizeof(a));
	a.verbosity = 2;
	a.assembler_len = 890;
	snprintf(a.form, sizeof(a.form), "%s", form);
	master_shuttle_start(&f->m, &f->c, &a);
	child_recv(f, ans);
	assert_int_equal(ans->type, IPC_SHUTTLE_ANS);
}

static void
test_start(void **state)
{
	struct fx *f = *state;
	struct ipc_msg ans;
	char rec[8192];

	set_policy(f, "dns allow\n", "\tallow 10.0.0.0/8 port 22\n"
	    "\tdeny 10.128.0.0/9\n\tallow db.example port 5432\n");
	start(f, "python", &ans);
	assert_int_equal(ans.u.shuttle_ans.dns_allowed, 1);
	assert_string_equal(ans.u.shuttle_ans.routes, "2,10.0.0.0,9\n");
	assert_int_equal(audit_count(f, "sshuttle-start", rec, sizeof(rec)),
	    1);
	assert_has(rec, "\"user.name\":\"alice\"");
	assert_has(rec, "\"source.ip\":\"198.51.100.7\"");
	assert_has(rec, "\"rampart.sshuttle.form\":\"python\"");
	assert_has(rec, "\"rampart.sshuttle.verbosity\":2");
	assert_has(rec, "\"rampart.sshuttle.routes\":1");
	assert_has(rec, "\"rampart.sshuttle.dns\":\"allow\"");
	assert_int_equal(f->c.shuttles, 1);

	/* Nothing routable and no DNS: both said, nothing else. */
	set_policy(f, "", "\tallow *.example port 22\n");
	start(f, "sh", &ans);
	assert_int_equal(ans.u.shuttle_ans.dns_allowed, 0);
	assert_string_equal(ans.u.shuttle_ans.routes, "");
	assert_int_equal(audit_count(f, "sshuttle-start", rec, sizeof(rec)),
	    2);
	assert_has(rec, "\"rampart.sshuttle.routes\":0");
	assert_has(rec, "\"rampart.sshuttle.dns\":\"deny\"");

	/* The user left the policy (a reload): an empty answer. */
	snprintf(f->c.user, sizeof(f->c.user), "mallory");
	start(f, "cmd", &ans);
	assert_string_equal(ans.u.shuttle_ans.routes, "");
	assert_int_equal(ans.u.shuttle_ans.dns_allowed, 0);
	assert_false(f->c.killed);
	child_nothing(f);
}

/* The gateway's own addresses are never routed. */
static void
test_start_self(void **state)
{
	struct fx *f = *state;
	const struct addr *self;
	struct ipc_msg ans;
	char a[ADDR_STRLEN], line[64];
	size_t i, n;

	self = broker_self(f->m.broker, &n);
	for (i = 0; i < n && self[i].af != AF_INET; i++)
		;
	if (i == n)
		skip();		/* no IPv4 address but loopback */
	addr_ntop(&self[i], a, sizeof(a));
	set_policy(f, "", "\tallow 0.0.0.0/0 port any\n");
	start(f, "sh", &ans);
	/* Its /32 neighbour is there, the address itself is not. */
	snprintf(line, sizeof(line), "2,%s,32\n", a);
	assert_null(strstr(ans.u.shuttle_ans.routes, line));
	assert_non_null(strstr(ans.u.shuttle_ans.routes, ",32\n"));
	print_message("self %s: %zu bytes of routes\n", a,
	    strlen(ans.u.shuttle_ans.routes));
}

/* Too many prefixes: whole lines, the widest first, and it is said. */
static void
test_start_too_many(void **state)
{
	struct fx *f = *state;
	static char block[65536];
	struct ipc_msg ans;
	char rec[8192], *p, *nl;
	unsigned int i, bits, prev = 0, lines = 0;
	size_t o = 0;

	/* 600 hosts, none adjacent, and one wide net. */
	for (i = 0; i < 600; i++)
		o += (size_t)snprintf(block + o, sizeof(block) - o,
		    "\tallow 10.%u.%u.1 port 22\n", i / 200, i % 200);
	snprintf(block + o, sizeof(block) - o, "\tallow 172.16.0.0/12 port "
	    "22\n");
	set_policy(f, "", block);
	start(f, "sh", &ans);
	p = ans.u.shuttle_ans.routes;
	assert_true(strlen(p) <= IPC_TEXT_MAX);
	assert_true(strncmp(p, "2,172.16.0.0,12\n", 16) == 0);
	for (; *p != '\0'; p = nl + 1) {
		assert_non_null(nl = strchr(p, '\n'));
		assert_int_equal(sscanf(strrchr(p, ',') + 1, "%u", &bits), 1);
		assert_true(bits >= prev);
		prev = bits;
		lines++;
	}
	assert_true(lines > 100 && lines < 601);
	assert_int_equal(audit_count(f, "sshuttle-start", rec, sizeof(rec)),
	    1);
	assert_has(rec, "\"rampart.sshuttle.routes_left_out\":");
	print_message("601 routes: %u sent in %zu bytes\n", lines,
	    strlen(ans.u.shuttle_ans.routes));
}

static void
test_start_bad_form(void **state)
{
	struct fx *f = *state;
	struct ipc_shuttle_start a;
	int status;

	memset(&a, 0, sizeof(a));
	snprintf(a.form, sizeof(a.form), "bash");
	master_shuttle_start(&f->m, &f->c, &a);
	assert_true(f->c.killed);
	assert_int_equal(waitpid(f->c.pid, &status, 0), f->c.pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(audit_count(f, "sshuttle-start", NULL, 0), 0);
	child_nothing(f);
}

static void
dns(struct fx *f, uint32_t chan, size_t len, struct ipc_msg *ans)
{
	struct ipc_dns_req q;

	memset(&q, 0, sizeof(q));
	q.chan = chan;
	q.querylen = len;
	memset(q.query, 0x41, len);
	master_shuttle_dns(&f->m, &f->c, &q);
	child_recv(f, ans);
	assert_int_equal(ans->type, IPC_DNS_ANS);
	assert_int_equal(ans->u.dns_ans.chan, chan);
}

static void
test_dns_policy(void **state)
{
	struct fx *f = *state;
	struct ipc_msg ans;
	char rec[8192];

	set_policy(f, "dns allow\n", "\tdns deny\n");
	dns(f, 7, 30, &ans);
	assert_int_equal(ans.u.dns_ans.ok, 0);
	assert_int_equal(ans.u.dns_ans.answerlen, 0);
	assert_string_equal(ans.u.dns_ans.reason,
	    "dns not allowed for alice by policy");
	assert_int_equal(audit_count(f, "sshuttle-dns", rec, sizeof(rec)), 1);
	assert_has(rec, "\"event.outcome\":\"failure\"");
	assert_has(rec, "\"rampart.channel.id\":7");
	assert_has(rec, "\"event.reason\":\"dns not allowed for alice by "
	    "policy\"");
	assert_int_equal(f->c.dns_refused, 1);
	assert_int_equal(f->c.ndns, 0);
	assert_false(f->c.killed);
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A burst of 40 passes the bucket (and is then refused as too short to be
 * a query, so nothing is sent); then the rate limit, give or take what
 * refilled (20 a second) while the test ran.  Refusal records stop after
 * their own burst of 20 and the rest is counted, then said in the next.
 */
static void
test_dns_rate(void **state)
{
	struct fx *f = *state;
	struct ipc_msg ans;
	char rec[8192], want[96];
	uint64_t t0, ms, unrec;
	uint32_t n = 0;
	size_t nrec;

	set_policy(f, "", "\tdns allow\n");
	t0 = ms_now();
	for (;;) {
		dns(f, n++, 11, &ans);
		assert_int_equal(ans.u.dns_ans.ok, 0);
		if (strcmp(ans.u.dns_ans.reason, "dns rate limit") == 0)
			break;
		assert_string_equal(ans.u.dns_ans.reason,
		    "resolver: bad query");
		assert_true(n < 1000);
	}
	ms = ms_now() - t0;
	print_message("rate limit after %u queries in %llu ms\n", n - 1,
	    (unsigned long long)ms);
	assert_true(n - 1 >= 40 && n - 1 <= 40 + ms * 20 / 1000 + 1);
	assert_int_equal(f->c.dns_refused, n);
	nrec = audit_count(f, "sshuttle-dns", NULL, 0);
	assert_true(nrec >= 20 && nrec <= 20 + ms * 5 / 1000 + 1);
	assert_int_equal(f->c.dns_unrecorded, n - nrec);
	unrec = f->c.dns_unrecorded;
	usleep(260 * 1000);
	dns(f, 5000, 11, &ans);
	assert_string_equal(ans.u.dns_ans.reason, "resolver: bad query");
	assert_int_equal(audit_count(f, "sshuttle-dns", rec, sizeof(rec)),
	    nrec + 1);
	snprintf(want, sizeof(want),
	    "\"rampart.dns.refusals_not_recorded\":%llu",
	    (unsigned long long)unrec);
	assert_has(rec, want);
	assert_int_equal(f->c.dns_unrecorded, 0);
	child_nothing(f);
}

static void
test_tbucket(void **state)
{
	struct tbucket tb;
	int i;

	(void)state;
	memset(&tb, 0, sizeof(tb));
	for (i = 0; i < 40; i++)
		assert_int_equal(tbucket_take(&tb, 1000, 20, 40), 1);
	assert_int_equal(tbucket_take(&tb, 1000, 20, 40), 0);
	assert_int_equal(tbucket_take(&tb, 1049, 20, 40), 0);
	assert_int_equal(tbucket_take(&tb, 1050, 20, 40), 1);	/* 1/20 s */
	assert_int_equal(tbucket_take(&tb, 1050, 20, 40), 0);
	/* The clock going back gives nothing and takes nothing. */
	assert_int_equal(tbucket_take(&tb, 500, 20, 40), 0);
	assert_int_equal(tbucket_take(&tb, 1100, 20, 40), 1);
	/* A long pause refills to the burst, no more. */
	for (i = 0; i < 40; i++)
		assert_int_equal(tbucket_take(&tb, 100000, 20, 40), 1);
	assert_int_equal(tbucket_take(&tb, 100000, 20, 40), 0);
}

/* The summary for connection-close, only for sessions that used it. */
static void
test_summary(void **state)
{
	struct fx *f = *state;
	struct audit_rec r;

	audit_begin(f->m.audit, &r, "connection-close", "success", NULL);
	master_shuttle_summary(&f->c, &r);
	r.buf[r.len] = '\0';
	assert_null(strstr(r.buf, "rampart.dns"));
	f->c.shuttles = 1;
	f->c.dns_relayed = 12;
	f->c.dns_refused = 3;
	f->c.dns_failed = 1;
	audit_begin(f->m.audit, &r, "connection-close", "success", NULL);
	master_shuttle_summary(&f->c, &r);
	r.buf[r.len] = '\0';
	assert_has(r.buf, "\"rampart.sshuttle.starts\":1");
	assert_has(r.buf, "\"rampart.dns.relayed\":12");
	assert_has(r.buf, "\"rampart.dns.failed\":1");
	assert_has(r.buf, "\"rampart.dns.refused\":3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_self, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_start_too_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_start_bad_form, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dns_policy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dns_rate, setup,
		    teardown),
		cmocka_unit_test(test_tbucket),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
