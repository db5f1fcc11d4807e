/*
 * test_policy_sshuttle: what the policy tells an sshuttle session -- the
 * "dns allow|deny" setting (user over groups over top level, a group's deny
 * over another group's allow, default deny) and policy_user_routes(), the
 * minimal prefix list of a user's routable IPv4 space.
 *
 * The routes are checked three ways: against hand-computed lists, for
 * minimality (sorted, disjoint, no two siblings: then every prefix is a
 * maximal one), and against policy_decide() itself on random policies,
 * address by address, at the net boundaries and at random addresses.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy.h"

#define KEY	"key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICgiuonoJXRft8z1xwuR" \
	"uFf/WFhzd+R3NkUOIHmgmKUs a@example"

#define NOW	((time_t)1700000000)

static void
on_msg(void *ctx, const char *msg)
{
	(void)ctx;
	print_error("  message: %s\n", msg);
}

static struct policy *
load(const char *text)
{
	struct policy *pol = NULL;

	if (policy_load_buf("s.conf", text, strlen(text), 0, on_msg, NULL,
	    &pol) != 0)
		fail_msg("policy did not load:\n%s", text);
	return pol;
}

/* Collects the loader's messages, to check an error is said. */
struct msgs {
	char	text[2048];
};

static void
collect_msg(void *ctx, const char *msg)
{
	struct msgs *m = ctx;
	size_t o = strlen(m->text);

	snprintf(m->text + o, sizeof(m->text) - o, "%s\n", msg);
}

static void
load_bad(const char *text, const char *want)
{
	struct policy *pol = NULL;
	struct msgs m;

	memset(&m, 0, sizeof(m));
	if (policy_load_buf("s.conf", text, strlen(text), 0, collect_msg, &m,
	    &pol) == 0) {
		policy_free(pol);
		fail_msg("policy loaded:\n%s", text);
	}
	assert_null(pol);
	if (strstr(m.text, want) == NULL)
		fail_msg("no \"%s\" in:\n%s", want, m.text);
}

static int
dns_of(const struct policy *pol, const char *user)
{
	const struct policy_user *u = policy_user_find(pol, user);

	assert_non_null(u);
	return policy_user_dns_allowed(u);
}

static void
test_dns(void **state)
{
	struct policy *pol;

	(void)state;
	/* Nothing said: no DNS. */
	pol = load("user a\n\t" KEY "\n");
	assert_int_equal(dns_of(pol, "a"), 0);
	policy_free(pol);

	pol = load(
	    "dns allow\n"
	    "group open\n\tdns allow\n"
	    "group shut\n\tdns deny\n"
	    "group quiet\n\tallow 10.0.0.0/8 port any\n"
	    "user top\n\t" KEY "\n"
	    "user quiet\n\t" KEY "\n\tmember quiet\n"
	    "user shut\n\t" KEY "\n\tmember shut quiet\n"
	    "user both\n\t" KEY "\n\tmember open shut\n"
	    "user both2\n\t" KEY "\n\tmember shut open\n"
	    "user mine\n\t" KEY "\n\tmember shut\n\tDNS Allow\n"
	    "user no\n\t" KEY "\n\tmember open\n\tdns deny\n");
	assert_int_equal(dns_of(pol, "top"), 1);	/* top level */
	assert_int_equal(dns_of(pol, "quiet"), 1);	/* group silent */
	assert_int_equal(dns_of(pol, "shut"), 0);	/* group over top */
	assert_int_equal(dns_of(pol, "both"), 0);	/* deny wins */
	assert_int_equal(dns_of(pol, "both2"), 0);
	assert_int_equal(dns_of(pol, "mine"), 1);	/* user over group */
	assert_int_equal(dns_of(pol, "no"), 0);
	policy_free(pol);

	pol = load("dns deny\ngroup g\n\tdns allow\n"
	    "user a\n\t" KEY "\n\tmember g\n"
	    "user b\n\t" KEY "\n");
	assert_int_equal(dns_of(pol, "a"), 1);
	assert_int_equal(dns_of(pol, "b"), 0);
	policy_free(pol);

	load_bad("dns allow\ndns allow\n", "dns given twice");
	load_bad("user a\n\t" KEY "\n\tdns deny\n\tdns allow\n",
	    "dns given twice");
	load_bad("dns maybe\n", "dns must be 'allow' or 'deny'");
	load_bad("dns\n", "usage: dns allow|deny");
	load_bad("dns allow deny\n", "usage: dns allow|deny");
}

/* The effective setting is in the dump, and the dump loads to the same. */
static void
test_dns_dump(void **state)
{
	struct policy *pol, *pol2;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	pol = load("dns allow\ngroup g\n\tdns deny\n"
	    "user a\n\t" KEY "\n\tmember g\n"
	    "user b\n\t" KEY "\n");
	assert_non_null(f = open_memstream(&text, &len));
	policy_dump(pol, f);
	fclose(f);
	if (strstr(text, "\ndns allow\n") == NULL ||
	    strstr(text, "\n\tdns deny\n") == NULL ||
	    strstr(text, "user b") == NULL)
		fail_msg("dump:\n%s", text);
	pol2 = load(text);
	assert_int_equal(dns_of(pol2, "a"), 0);
	assert_int_equal(dns_of(pol2, "b"), 1);
	free(text);
	policy_free(pol);
	policy_free(pol2);
}

/* Routes as "a.b.c.d/n,..." for comparison. */
static void
routes_str(const struct addr_net *r, size_t n, char *buf, size_t len)
{
	char net[ADDR_STRLEN];
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		addr_net_ntop(&r[i], net, sizeof(net));
		o += (size_t)snprintf(buf + o, len - o, "%s%s",
		    i > 0 ? "," : "", net);
		assert_true(o < len);
	}
}

static void
self_list(const char *list, struct addr *self, size_t *n)
{
	char buf[256], *tok, *s, *save = NULL;

	*n = 0;
	if (list == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (s = buf; (tok = strtok_r(s, ",", &save)) != NULL; s = NULL) {
		assert_int_equal(addr_parse(tok, &self[*n]), 0);
		(*n)++;
	}
}

static void
want_routes(const char *text, const char *user, const char *self,
    const char *want)
{
	struct addr selfs[8];
	struct addr_net *r;
	struct policy *pol;
	char got[8192];
	size_t n, nself;

	pol = load(text);
	self_list(self, selfs, &nself);
	assert_int_equal(policy_user_routes(pol, user, selfs, nself, &r, &n),
	    0);
	routes_str(r, n, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("routes of %s:\n got  %s\n want %s\npolicy:\n%s",
		    user, got, want, text);
	assert_true(n > 0 || r == NULL);
	free(r);
	policy_free(pol);
}

static void
test_routes_fixed(void **state)
{
	struct addr_net *r;
	struct policy *pol;
	size_t n;

	(void)state;
	/* The example of the team notes: 29 prefixes, computed by hand. */
	want_routes("user a\n\t" KEY "\n\tallow 10.0.0.0/8 port any\n"
	    "\tdeny 10.1.0.0/16\n", "a", "10.77.2.1",
	    "10.0.0.0/16,10.2.0.0/15,10.4.0.0/14,10.8.0.0/13,10.16.0.0/12,"
	    "10.32.0.0/11,10.64.0.0/13,10.72.0.0/14,10.76.0.0/16,"
	    "10.77.0.0/23,10.77.2.0/32,10.77.2.2/31,10.77.2.4/30,"
	    "10.77.2.8/29,10.77.2.16/28,10.77.2.32/27,10.77.2.64/26,"
	    "10.77.2.128/25,10.77.3.0/24,10.77.4.0/22,10.77.8.0/21,"
	    "10.77.16.0/20,10.77.32.0/19,10.77.64.0/18,10.77.128.0/17,"
	    "10.78.0.0/15,10.80.0.0/12,10.96.0.0/11,10.128.0.0/9");
	/* Nothing allowed by address: empty. Names and IPv6 are no routes. */
	want_routes("user a\n\t" KEY "\n\tallow *.example port any\n"
	    "\tallow 2001:db8::/32 port 22\n", "a", NULL, "");
	/* Ports: an allow on one port routes; a deny on one port does not
	 * take the net away, a deny of every port does. */
	want_routes("user a\n\t" KEY "\n\tallow 192.0.2.0/24 port 22\n"
	    "\tdeny 192.0.2.0/25 port 22\n\tdeny 192.0.2.128/26 port 1-100,"
	    "50-65535\n", "a", NULL, "192.0.2.0/25,192.0.2.192/26");
	/* Adjacent allows merge; duplicates are harmless. */
	want_routes("allow 10.0.0.0/9 port any\nuser a\n\t" KEY "\n"
	    "\tallow 10.128.0.0/9 10.128.0.0/10 port 22\n", "a", NULL,
	    "10.0.0.0/8");
	/* Everything: minus the built-in list and the gateway. */
	want_routes("user a\n\t" KEY "\n\tallow 0.0.0.0/0 port any\n", "a",
	    "192.0.2.1",
	    "1.0.0.0/8,2.0.0.0/7,4.0.0.0/6,8.0.0.0/5,16.0.0.0/4,32.0.0.0/3,"
	    "64.0.0.0/3,96.0.0.0/4,112.0.0.0/5,120.0.0.0/6,124.0.0.0/7,"
	    "126.0.0.0/8,128.0.0.0/3,160.0.0.0/5,168.0.0.0/8,169.0.0.0/9,"
	    "169.128.0.0/10,169.192.0.0/11,169.224.0.0/12,169.240.0.0/13,"
	    "169.248.0.0/14,169.252.0.0/15,169.255.0.0/16,170.0.0.0/7,"
	    "172.0.0.0/6,176.0.0.0/4,192.0.0.0/23,192.0.2.0/32,"
	    "192.0.2.2/31,192.0.2.4/30,192.0.2.8/29,192.0.2.16/28,"
	    "192.0.2.32/27,192.0.2.64/26,192.0.2.128/25,192.0.3.0/24,"
	    "192.0.4.0/22,192.0.8.0/21,192.0.16.0/20,192.0.32.0/19,"
	    "192.0.64.0/18,192.0.128.0/17,192.1.0.0/16,192.2.0.0/15,"
	    "192.4.0.0/14,192.8.0.0/13,192.16.0.0/12,192.32.0.0/11,"
	    "192.64.0.0/10,192.128.0.0/9,193.0.0.0/8,194.0.0.0/7,"
	    "196.0.0.0/6,200.0.0.0/5,208.0.0.0/4,224.0.0.0/3");
	/* A lift gives back part of the built-in list, a deny takes it. */
	want_routes("lift-default-deny 127.0.0.0/8\n"
	    "deny 127.0.0.0/9\n"
	    "user a\n\t" KEY "\n\tallow 127.0.0.0/8 169.254.0.0/16 port any\n",
	    "a", "127.200.0.1", "127.128.0.0/10,127.192.0.0/13,"
	    "127.200.0.0/32,127.200.0.2/31,127.200.0.4/30,127.200.0.8/29,"
	    "127.200.0.16/28,127.200.0.32/27,127.200.0.64/26,"
	    "127.200.0.128/25,127.200.1.0/24,127.200.2.0/23,127.200.4.0/22,"
	    "127.200.8.0/21,127.200.16.0/20,127.200.32.0/19,127.200.64.0/18,"
	    "127.200.128.0/17,127.201.0.0/16,127.202.0.0/15,127.204.0.0/14,"
	    "127.208.0.0/12,127.224.0.0/11");
	/* Group rules apply to members only; a group's deny too. */
	want_routes("group g\n\tallow 10.0.0.0/8 port any\n"
	    "\tdeny 10.0.0.0/9\n"
	    "group h\n\tdeny 10.128.0.0/9\n"
	    "user a\n\t" KEY "\n\tmember g\n"
	    "user b\n\t" KEY "\n\tmember g h\n"
	    "user c\n\t" KEY "\n\tallow 10.0.0.0/8 port any\n",
	    "a", NULL, "10.128.0.0/9");
	want_routes("group g\n\tallow 10.0.0.0/8 port any\n"
	    "\tdeny 10.0.0.0/9\n"
	    "group h\n\tdeny 10.128.0.0/9\n"
	    "user a\n\t" KEY "\n\tmember g\n"
	    "user b\n\t" KEY "\n\tmember g h\n", "b", NULL, "");
	/* A single host. */
	want_routes("user a\n\t" KEY "\n\tallow 203.0.113.9 port 443\n", "a",
	    "203.0.113.8", "203.0.113.9/32");
	/* The gateway's address as IPv6-mapped is the same address. */
	want_routes("user a\n\t" KEY "\n\tallow 203.0.113.8/31 port 443\n",
	    "a", "::ffff:203.0.113.8", "203.0.113.9/32");

	pol = load("user a\n\t" KEY "\n\tallow 10.0.0.0/8 port any\n");
	r = (struct addr_net *)&n;
	assert_int_equal(policy_user_routes(pol, "nobody", NULL, 0, &r, &n),
	    -1);
	assert_null(r);
	assert_int_equal(n, 0);
	policy_free(pol);
}

/* Deterministic xorshift, so a failure can be replayed. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t
mask(unsigned int bits)
{
	return bits == 0 ? 0 : 0xffffffffU << (32 - bits);
}

static void
v4_str(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
	    (v >> 8) & 255, v & 255);
}

static uint32_t
v4_of(const struct addr *a)
{
	return (uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 |
	    (uint32_t)a->a[2] << 8 | a->a[3];
}

#define MAXNETS	64

struct rpol {
	char		text[16384];
	size_t		len;
	uint32_t	pts[MAXNETS * 2];	/* boundaries to sample */
	size_t		npts;
};

/* A random net, mostly inside 10.0.0.0/8 so that they overlap. */
static void
rnet(struct rpol *p, char *buf, size_t len)
{
	char a[16];
	unsigned int bits;
	uint32_t base;

	switch (rnd() % 8) {
	case 0:
		bits = rnd() % 9;	/* wide: meets the built-in list */
		base = rnd();
		break;
	case 1:
		bits = 24 + rnd() % 9;
		base = 0x0a000000 | (rnd() & 0x00ffffff);
		break;
	default:
		bits = 8 + rnd() % 17;
		base = 0x0a000000 | (rnd() & 0x00ffffff);
		break;
	}
	base &= mask(bits);
	v4_str(base, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, bits);
	if (p->npts + 2 <= MAXNETS * 2) {
		p->pts[p->npts++] = base;
		p->pts[p->npts++] = base | ~mask(bits);
	}
}

static void
rp_add(struct rpol *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rp_add(struct rpol *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p->len += (size_t)vsnprintf(p->text + p->len, sizeof(p->text) - p->len,
	    fmt, ap);
	va_end(ap);
	assert_true(p->len < sizeof(p->text));
}

/* A rule line; every allow on every port, denies on every port or 22. */
static void
rrule(struct rpol *p, const char *indent)
{
	char net[32], net2[32];

	rnet(p, net, sizeof(net));
	rnet(p, net2, sizeof(net2));
	switch (rnd() % 6) {
	case 0:
	case 1:
	case 2:
		rp_add(p, "%sallow %s %s port any\n", indent, net, net2);
		break;
	case 3:
		rp_add(p, "%sdeny %s\n", indent, net);
		break;
	case 4:
		rp_add(p, "%sdeny %s *.x.example port any\n", indent, net);
		break;
	default:
		/* Leaves port 1 open, so the net stays a route. */
		rp_add(p, "%sdeny %s port 22\n", indent, net);
		break;
	}
}

static void
rpolicy(struct rpol *p)
{
	size_t i, n;

	memset(p, 0, sizeof(*p));
	if (rnd() % 3 == 0)
		rp_add(p, "lift-default-deny 127.%u.0.0/16\n", rnd() % 256);
	if (rnd() % 4 == 0)
		rp_add(p, "lift-default-deny 169.254.169.254\n");
	for (n = rnd() % 3, i = 0; i < n; i++)
		rrule(p, "");
	rp_add(p, "group g\n");
	for (n = rnd() % 4, i = 0; i < n; i++)
		rrule(p, "\t");
	rp_add(p, "group h\n");
	for (n = rnd() % 3, i = 0; i < n; i++)
		rrule(p, "\t");
	rp_add(p, "user a\n\t" KEY "\n\tmember g h\n");
	for (n = rnd() % 5, i = 0; i < n; i++)
		rrule(p, "\t");
	/* Someone else's rules must not count. */
	rp_add(p, "user b\n\t" KEY "\n\tallow 10.0.0.0/8 port any\n"
	    "\tdeny 11.0.0.0/8\n");
}

/* Sorted, disjoint, no host bits, no two siblings: minimal. */
static void
check_minimal(const struct addr_net *r, size_t n)
{
	uint32_t b, pb, end, pend = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].base.af, AF_INET);
		assert_true(r[i].bits <= 32);
		b = v4_of(&r[i].base);
		assert_int_equal(b & ~mask(r[i].bits), 0);
		end = b | ~mask(r[i].bits);
		if (i == 0) {
			pend = end;
			continue;
		}
		pb = v4_of(&r[i - 1].base);
		if (b <= pend)
			fail_msg("route %zu overlaps the one before", i);
		if (r[i].bits == r[i - 1].bits && r[i].bits > 0 &&
		    (pb ^ b) == (uint32_t)1 << (32 - r[i].bits))
			fail_msg("routes %zu and %zu are siblings", i - 1, i);
		pend = end;
	}
}

/* 1 if v lies in one of the sorted, disjoint routes. */
static int
in_routes(const struct addr_net *r, size_t n, uint32_t v)
{
	size_t lo = 0, hi = n, mid;
	uint32_t b;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		b = v4_of(&r[mid].base);
		if (v < b)
			hi = mid;
		else if (v > (b | ~mask(r[mid].bits)))
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

static int
decided(const struct policy *pol, uint32_t v)
{
	struct policy_decision d;
	char host[16];

	v4_str(v, host, sizeof(host));
	assert_int_equal(policy_decide(pol, "a", host, NULL, 0, 1, NOW, &d),
	    0);
	return d.allowed;
}

static void
check_point(const struct policy *pol, const struct addr_net *r, size_t n,
    const uint32_t *self, size_t nself, uint32_t v, const char *text)
{
	int want = decided(pol, v);
	size_t i;
	char a[16];

	for (i = 0; i < nself; i++) {
		if (self[i] == v)
			want = 0;
	}
	if (in_routes(r, n, v) != want) {
		v4_str(v, a, sizeof(a));
		fail_msg("%s: %s the routes, but policy_decide says %s\n%s", a,
		    want ? "not in" : "in", want ? "allowed" : "denied", text);
	}
}

static void
test_routes_random(void **state)
{
	static struct rpol p;
	struct addr selfa[3];
	uint32_t self[3], v;
	struct addr_net *r;
	struct policy *pol;
	size_t round, n, i, j, nonempty = 0, checked = 0;
	char a[16];

	(void)state;
	for (round = 0; round < 300; round++) {
		rpolicy(&p);
		pol = load(p.text);
		for (i = 0; i < 3; i++) {
			/* Some self addresses inside the nets, some not. */
			self[i] = p.npts > 0 && rnd() % 2 ? p.pts[rnd() %
			    p.npts] + rnd() % 3 : rnd();
			v4_str(self[i], a, sizeof(a));
			assert_int_equal(addr_parse(a, &selfa[i]), 0);
		}
		assert_int_equal(policy_user_routes(pol, "a", selfa, 3, &r,
		    &n), 0);
		check_minimal(r, n);
		nonempty += n > 0;
		for (i = 0; i < p.npts; i++) {
			for (j = 0; j < 3; j++) {
				v = p.pts[i] + (uint32_t)j - 1;
				check_point(pol, r, n, self, 3, v, p.text);
				checked++;
			}
		}
		for (i = 0; i < 3; i++) {
			for (j = 0; j < 3; j++) {
				check_point(pol, r, n, self, 3,
				    self[i] + (uint32_t)j - 1, p.text);
				checked++;
			}
		}
		for (i = 0; i < 300; i++) {
			v = rnd();
			if (i % 2)
				v = 0x0a000000 | (v & 0x00ffffff);
			check_point(pol, r, n, self, 3, v, p.text);
			checked++;
		}
		/* Every route's ends, too. */
		for (i = 0; i < n; i++) {
			v = v4_of(&r[i].base);
			check_point(pol, r, n, self, 3, v, p.text);
			check_point(pol, r, n, self, 3, v | ~mask(r[i].bits),
			    p.text);
			checked += 2;
		}
		free(r);
		policy_free(pol);
	}
	/* The random policies must not be trivially empty. */
	assert_true(nonempty > 150);
	print_message("%zu policies, %zu with routes, %zu addresses checked\n",
	    round, nonempty, checked);
	assert_true(checked > 100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_dns_dump),
		cmocka_unit_test(test_routes_fixed),
		cmocka_unit_test(test_routes_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
