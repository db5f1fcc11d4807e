/*
 * master_shuttle: the master's side of an sshuttle session -- the routes
 * and DNS permission a session starts with, and the DNS relay.
 *
 * The child has recognised sshuttle's exec string and serves the mux
 * itself; it asks the master only what needs the policy or the network.
 * Nothing here blocks and nothing a child sends can end the master: every
 * DNS query is checked against the policy, a per-child token bucket and a
 * per-child bound on outstanding queries, then handed to the broker
 * (c-ares, the bastion's own resolvers).  Each refusal is audited, at a
 * bounded rate per child; relayed queries are only counted, for the
 * session's connection-close record.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "master_int.h"

#define DNS_RATE		20	/* queries per second per child */
#define DNS_BURST		40
/*
 * Outstanding queries per child.  An answer is up to 4.4 KB, some 8 KB
 * of the master's socket buffer (212992 bytes by default, 26 such
 * datagrams); 16 leave room for everything else the child is owed.
 */
#define DNS_OUTSTANDING		16
#define DNS_AUDIT_RATE		5	/* refusal records per second */
#define DNS_AUDIT_BURST		20
#define ROUTE_LINE_MAX		24	/* "2,255.255.255.255,32\n" and NUL */

static const char *const shuttle_forms[] = {
	"sh", "python", "cmd", "powershell",
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
tbucket_take(struct tbucket *tb, uint64_t now_ms, unsigned int rate,
    unsigned int burst)
{
	uint64_t cap = (uint64_t)burst * 1000;

	if (tb->last_ms == 0) {
		tb->milli = cap;	/* a new bucket starts full */
		tb->last_ms = now_ms;
	} else if (now_ms > tb->last_ms) {
		/* rate tokens a second = rate thousandths a millisecond */
		tb->milli += (now_ms - tb->last_ms) * rate;
		if (tb->milli > cap)
			tb->milli = cap;
		tb->last_ms = now_ms;
	}
	if (tb->milli < 1000)
		return 0;
	tb->milli -= 1000;
	return 1;
}

/* Order: widest first, then by address, for "the most general that fit". */
static int
route_cmp_wide(const void *a, const void *b)
{
	const struct addr_net *x = a, *y = b;
	int c;

	if (x->bits != y->bits)
		return x->bits < y->bits ? -1 : 1;
	c = memcmp(x->base.a, y->base.a, 4);
	return c < 0 ? -1 : c > 0;
}

/* One ROUTES line into line (ROUTE_LINE_MAX bytes); its length. */
static size_t
route_line(const struct addr_net *n, char *line)
{
	char net[ADDR_STRLEN];

	addr_ntop(&n->base, net, sizeof(net));
	return (size_t)snprintf(line, ROUTE_LINE_MAX, "2,%s,%u\n", net,
	    n->bits);
}

/*
 * The ROUTES payload for the user into buf: "2,A.B.C.D,BITS\n" lines, in
 * address order.  If they do not all fit, the widest that fit, never a
 * partial line.  Returns how many lines were written; *total gets how
 * many there were.
 */
static size_t
routes_text(struct master *m, const char *user, char *buf, size_t len,
    size_t *total)
{
	const struct addr *self;
	struct addr_net *r = NULL;
	char line[ROUTE_LINE_MAX];
	size_t i, n = 0, nself, o = 0, used = 0, l;

	buf[0] = '\0';
	*total = 0;
	self = broker_self(m->broker, &nself);
	if (policy_user_routes(m->pol, user, self, nself, &r, &n) != 0) {
		error("routes for %s: cannot be computed", user);
		return 0;
	}
	*total = n;
	for (i = 0; i < n; i++)
		o += route_line(&r[i], line);
	if (o >= len)
		qsort(r, n, sizeof(*r), route_cmp_wide);
	o = 0;
	for (i = 0; i < n; i++) {
		l = route_line(&r[i], line);
		if (o + l >= len)
			break;
		memcpy(buf + o, line, l + 1);
		o += l;
		used++;
	}
	free(r);
	if (used < n)
		logit("routes for %s: %zu prefixes do not fit in one ROUTES "
		    "(%zu bytes); sending the %zu widest", user, n, len - 1,
		    used);
	return used;
}

void
master_shuttle_start(struct master *m, struct child *c,
    const struct ipc_shuttle_start *a)
{
	const struct policy_user *u;
	struct audit_rec r;
	struct ipc_msg ans;
	size_t i, nroutes = 0, total = 0;

	for (i = 0; i < sizeof(shuttle_forms) / sizeof(shuttle_forms[0]); i++)
		if (strcmp(a->form, shuttle_forms[i]) == 0)
			break;
	if (i == sizeof(shuttle_forms) / sizeof(shuttle_forms[0])) {
		/* The child's recogniser has no other forms. */
		master_kill_child(m, c, "sshuttle start with an unknown form");
		return;
	}
	c->shuttles++;
	memset(&ans, 0, sizeof(ans));
	ans.type = IPC_SHUTTLE_ANS;
	u = policy_user_find(m->pol, c->user);
	if (u != NULL) {
		/* A reload may have removed the user: no routes, no DNS. */
		ans.u.shuttle_ans.dns_allowed = policy_user_dns_allowed(u);
		nroutes = routes_text(m, c->user, ans.u.shuttle_ans.routes,
		    sizeof(ans.u.shuttle_ans.routes), &total);
	}
	monitor_audit_begin(m, c, &r, "sshuttle-start", "success");
	audit_str(&r, "rampart.sshuttle.form", a->form);
	audit_uint(&r, "rampart.sshuttle.verbosity", a->verbosity);
	audit_uint(&r, "rampart.sshuttle.routes", nroutes);
	if (nroutes < total)
		audit_uint(&r, "rampart.sshuttle.routes_left_out",
		    total - nroutes);
	audit_str(&r, "rampart.sshuttle.dns",
	    ans.u.shuttle_ans.dns_allowed ? "allow" : "deny");
	if (u == NULL)
		audit_str(&r, "event.reason", "user no longer in the policy");
	monitor_audit_write(m, &r);
	monitor_answer(m, c, &ans, -1);
}

static void
dns_answer(struct master *m, struct child *c, uint32_t chan, int ok,
    const uint8_t *ans, size_t len, const char *reason)
{
	struct ipc_msg a;

	memset(&a, 0, sizeof(a));
	a.type = IPC_DNS_ANS;
	a.u.dns_ans.chan = chan;
	a.u.dns_ans.ok = ok != 0;
	if (ok && len <= sizeof(a.u.dns_ans.answer)) {
		memcpy(a.u.dns_ans.answer, ans, len);
		a.u.dns_ans.answerlen = len;
	} else {
		a.u.dns_ans.ok = 0;
		snprintf(a.u.dns_ans.reason, sizeof(a.u.dns_ans.reason),
		    "%s", ok ? "resolver: answer too long" : reason);
	}
	monitor_answer(m, c, &a, -1);
}

/* Refuse a query: answer, count, and audit unless over the record rate. */
static void
dns_refuse(struct master *m, struct child *c, uint32_t chan,
    const char *reason)
{
	struct audit_rec r;

	c->dns_refused++;
	dns_answer(m, c, chan, 0, NULL, 0, reason);
	if (!tbucket_take(&c->dns_audit, mono_ms(), DNS_AUDIT_RATE,
	    DNS_AUDIT_BURST)) {
		c->dns_unrecorded++;
		return;
	}
	monitor_audit_begin(m, c, &r, "sshuttle-dns", "failure");
	audit_uint(&r, "rampart.channel.id", chan);
	audit_str(&r, "event.reason", reason);
	if (c->dns_unrecorded > 0) {
		audit_uint(&r, "rampart.dns.refusals_not_recorded",
		    c->dns_unrecorded);
		c->dns_unrecorded = 0;
	}
	monitor_audit_write(m, &r);
}

static void
dns_forget(struct child *c, struct mdns *q)
{
	struct mdns **pp;

	for (pp = &c->dns; *pp != NULL && *pp != q; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = q->next;
	c->ndns--;
	free(q);
}

static void
dns_done(void *ctx, uint64_t id, int ok, const uint8_t *ans, size_t len,
    const char *reason)
{
	struct mdns *q = ctx;
	struct child *c = q->c;
	uint32_t chan = q->chan;

	(void)id;
	dns_forget(c, q);
	if (ok)
		c->dns_relayed++;
	else
		c->dns_failed++;
	dns_answer(c->m, c, chan, ok, ans, len, reason);
}

void
master_shuttle_dns(struct master *m, struct child *c,
    const struct ipc_dns_req *a)
{
	const struct policy_user *u;
	struct mdns *q;
	char why[IPC_REASON_MAX + 1];

	u = policy_user_find(m->pol, c->user);
	if (u == NULL || !policy_user_dns_allowed(u)) {
		snprintf(why, sizeof(why), "dns not allowed for %s by policy",
		    c->user);
		dns_refuse(m, c, a->chan, why);
		return;
	}
	if (!tbucket_take(&c->dns_rate, mono_ms(), DNS_RATE, DNS_BURST)) {
		dns_refuse(m, c, a->chan, "dns rate limit");
		return;
	}
	if (c->ndns >= DNS_OUTSTANDING) {
		dns_refuse(m, c, a->chan, "dns: too many queries outstanding");
		return;
	}
	if (a->querylen < BROKER_DNS_HDR) {
		dns_refuse(m, c, a->chan, "resolver: bad query");
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		dns_refuse(m, c, a->chan, "gateway out of memory");
		return;
	}
	q->c = c;
	q->chan = a->chan;
	if (broker_dns(m->broker, a->query, a->querylen, dns_done, q,
	    &q->req) != 0) {
		free(q);
		dns_refuse(m, c, a->chan, "dns: gateway busy, try again");
		return;
	}
	q->next = c->dns;
	c->dns = q;
	c->ndns++;
}

void
master_shuttle_gone(struct master *m, struct child *c)
{
	struct mdns *q, *next;

	for (q = c->dns; q != NULL; q = next) {
		next = q->next;
		broker_dns_cancel(m->broker, q->req);
		free(q);
	}
	c->dns = NULL;
	c->ndns = 0;
}

void
master_shuttle_summary(const struct child *c, struct audit_rec *r)
{
	if (c->shuttles == 0 && c->dns_relayed == 0 && c->dns_refused == 0)
		return;
	audit_uint(r, "rampart.sshuttle.starts", c->shuttles);
	audit_uint(r, "rampart.dns.relayed", c->dns_relayed);
	audit_uint(r, "rampart.dns.failed", c->dns_failed);
	audit_uint(r, "rampart.dns.refused", c->dns_refused);
	if (c->dns_unrecorded > 0)
		audit_uint(r, "rampart.dns.refusals_not_recorded",
		    c->dns_unrecorded);
}
