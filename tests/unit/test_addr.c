/*
 * test_addr: strict address parsing, CIDR networks and their matching.
 * What a policy author relies on: typos are refused rather than guessed,
 * and an IPv4-mapped IPv6 address is treated as the IPv4 address it is.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

/* Parse s as an address; fail the test if it is not one. */
static struct addr
A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) != 0) {
		fail_msg("addr_parse(\"%s\") failed", s);
	}
	return a;
}

static struct addr_net
N(const char *s)
{
	struct addr_net n;
	int r;

	if ((r = addr_parse_net(s, &n)) != 0) {
		fail_msg("addr_parse_net(\"%s\") = %d", s, r);
	}
	return n;
}

static void
assert_ntop(const struct addr *a, const char *want)
{
	char buf[ADDR_STRLEN];

	addr_ntop(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
assert_net_ntop(const struct addr_net *n, const char *want)
{
	char buf[ADDR_STRLEN];

	addr_net_ntop(n, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static int
in(const char *addr, const char *net)
{
	struct addr a = A(addr);
	struct addr_net n = N(net);

	return addr_in_net(&a, &n);
}

static int
within(const char *a, const char *b)
{
	struct addr_net na = N(a), nb = N(b);

	return addr_net_within(&na, &nb);
}

static void
test_parse_ipv4(void **state)
{
	static const uint8_t want[4] = { 192, 0, 2, 1 };
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(a.af, AF_INET);
	assert_memory_equal(a.a, want, 4);
	assert_ntop(&a, "192.0.2.1");
	a = A("0.0.0.0");
	assert_ntop(&a, "0.0.0.0");
	a = A("255.255.255.255");
	assert_ntop(&a, "255.255.255.255");
}

static void
test_parse_ipv6(void **state)
{
	static const uint8_t want[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	struct addr a;

	(void)state;
	assert_int_equal(addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_memory_equal(a.a, want, 16);
	assert_ntop(&a, "2001:db8::1");
	/* Upper case and uncompressed forms are the same address. */
	a = A("2001:DB8:0:0:0:0:0:1");
	assert_memory_equal(a.a, want, 16);
	a = A("::");
	assert_int_equal(a.af, AF_INET6);
	assert_ntop(&a, "::");
	a = A("::1");
	assert_ntop(&a, "::1");
}

static void
test_parse_strict(void **state)
{
	static const char *const bad[] = {
		"", "10.1", "10.0.1", "127.1", "010.0.0.1", "10.0.0.01",
		"1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "0x7f.0.0.1",
		"0x7f000001", "2130706433", " 10.0.0.1", "10.0.0.1 ",
		"10.0.0.1/32", "10.0.0.", ".10.0.0.1", "fe80::1%eth0",
		"fe80::1%1", "2001:db8::1::2", "2001:db8:::1", "::ffff:1.2.3",
		"[::1]", "1:2:3:4:5:6:7:8:9", "gggg::1", "localhost",
	};
	struct addr a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (addr_parse(bad[i], &a) != -1) {
			fail_msg("addr_parse accepted \"%s\"", bad[i]);
		}
	}
}

static void
test_parse_mapped(void **state)
{
	struct addr a, b;

	(void)state;
	b = A("10.0.0.5");
	a = A("::ffff:10.0.0.5");
	assert_int_equal(a.af, AF_INET);
	assert_ntop(&a, "10.0.0.5");
	assert_true(addr_eq(&a, &b));
	/* Hex spelling of the same mapped address. */
	a = A("::ffff:a00:5");
	assert_true(addr_eq(&a, &b));
	/* v4-compatible (::a.b.c.d) is a different, IPv6 address. */
	a = A("::10.0.0.5");
	assert_int_equal(a.af, AF_INET6);
	assert_false(addr_eq(&a, &b));
	/* So is the SIIT form ::ffff:0:a.b.c.d. */
	a = A("::ffff:0:10.0.0.5");
	assert_int_equal(a.af, AF_INET6);
}

static void
test_normalise_in_place(void **state)
{
	struct addr a, v4 = A("169.254.169.254");
	struct addr_net n = N("169.254.0.0/16");

	(void)state;
	/* A raw mapped address, as a resolver or accept() hands it over. */
	memset(&a, 0, sizeof(a));
	a.af = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:169.254.169.254", a.a),
	    1);
	assert_int_equal(a.af, AF_INET6);
	/* addr_in_net sees the IPv4 address without normalising first. */
	assert_true(addr_in_net(&a, &n));
	addr_normalise(&a);
	assert_int_equal(a.af, AF_INET);
	assert_true(addr_eq(&a, &v4));
	/* Normalising an IPv4 or plain IPv6 address changes nothing. */
	addr_normalise(&a);
	assert_true(addr_eq(&a, &v4));
	a = A("2001:db8::1");
	addr_normalise(&a);
	assert_int_equal(a.af, AF_INET6);
	assert_ntop(&a, "2001:db8::1");
}

static void
test_net_parse(void **state)
{
	struct addr_net n;

	(void)state;
	n = N("10.0.0.0/8");
	assert_int_equal(n.base.af, AF_INET);
	assert_int_equal(n.bits, 8);
	assert_net_ntop(&n, "10.0.0.0/8");
	n = N("2001:db8::/32");
	assert_int_equal(n.base.af, AF_INET6);
	assert_int_equal(n.bits, 32);
	assert_net_ntop(&n, "2001:db8::/32");
	/* A bare address is a host route. */
	n = N("192.0.2.7");
	assert_int_equal(n.bits, 32);
	assert_net_ntop(&n, "192.0.2.7/32");
	n = N("2001:db8::7");
	assert_int_equal(n.bits, 128);
	assert_net_ntop(&n, "2001:db8::7/128");
}

static void
test_net_bad_prefix(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/08", "10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0/8 ",
		"10.0.0.0/1000", "10.0.0.0/4294967304", "10.0.0.0/8/8",
		"2001:db8::/129", "::/200", "::/0x10",
	};
	struct addr_net n;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((r = addr_parse_net(bad[i], &n)) != -2) {
			fail_msg("addr_parse_net(\"%s\") = %d, want -2",
			    bad[i], r);
		}
	}
}

static void
test_net_host_bits(void **state)
{
	static const char *const bad[] = {
		"10.0.0.1/8", "11.0.0.0/7", "192.168.1.1/24", "1.0.0.0/0",
		"10.0.0.5/31", "2001:db8::1/32", "2001:db8::1/127",
		"::1/0", "fe80::1/10", "::ffff:10.0.0.1/104",
		"::ffff:10.0.0.0/95",
	};
	struct addr_net n;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((r = addr_parse_net(bad[i], &n)) != -3) {
			fail_msg("addr_parse_net(\"%s\") = %d, want -3",
			    bad[i], r);
		}
	}
}

static void
test_net_not_address(void **state)
{
	static const char *const bad[] = {
		"", "/8", "10.1/8", "010.0.0.0/8", "10.0.0.0.0/8",
		"example.com/24", "fe80::%eth0/64", "1.2.3.4.5/32",
		"0123456789012345678901234567890123456789"
		    "012345678901234567890123456789/8",
	};
	struct addr_net n;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((r = addr_parse_net(bad[i], &n)) != -1) {
			fail_msg("addr_parse_net(\"%s\") = %d, want -1",
			    bad[i], r);
		}
	}
}

static void
test_net_mapped(void **state)
{
	struct addr_net n;

	(void)state;
	n = N("::ffff:10.0.0.0/104");
	assert_int_equal(n.base.af, AF_INET);
	assert_int_equal(n.bits, 8);
	assert_net_ntop(&n, "10.0.0.0/8");
	n = N("::ffff:10.0.0.5");
	assert_int_equal(n.base.af, AF_INET);
	assert_int_equal(n.bits, 32);
	assert_net_ntop(&n, "10.0.0.5/32");
	n = N("::ffff:0.0.0.0/96");
	assert_int_equal(n.base.af, AF_INET);
	assert_int_equal(n.bits, 0);
	/*
	 * Shorter than /96 it is an IPv6 network and stays one; mapped
	 * addresses count as IPv4, so it does not hold them.
	 */
	n = N("::fffe:0:0/95");
	assert_int_equal(n.base.af, AF_INET6);
	assert_int_equal(n.bits, 95);
	assert_true(in("::fffe:1:2", "::fffe:0:0/95"));
	assert_false(in("::ffff:1.2.3.4", "::fffe:0:0/95"));
	/* The mapped address of a host inside is inside. */
	assert_true(in("::ffff:10.0.0.5", "10.0.0.0/8"));
	assert_true(in("10.0.0.5", "::ffff:10.0.0.0/104"));
	assert_false(in("::ffff:11.0.0.5", "10.0.0.0/8"));
}

static void
test_in_net_v4(void **state)
{
	(void)state;
	assert_true(in("10.0.0.0", "10.0.0.0/8"));
	assert_true(in("10.255.255.255", "10.0.0.0/8"));
	assert_false(in("11.0.0.0", "10.0.0.0/8"));
	assert_false(in("9.255.255.255", "10.0.0.0/8"));
	/* An odd prefix length. */
	assert_true(in("10.0.16.0", "10.0.16.0/20"));
	assert_true(in("10.0.31.255", "10.0.16.0/20"));
	assert_false(in("10.0.32.0", "10.0.16.0/20"));
	assert_false(in("10.0.15.255", "10.0.16.0/20"));
	/* /1 splits the space in half. */
	assert_true(in("128.0.0.0", "128.0.0.0/1"));
	assert_true(in("255.255.255.255", "128.0.0.0/1"));
	assert_false(in("127.255.255.255", "128.0.0.0/1"));
}

static void
test_in_net_v6(void **state)
{
	(void)state;
	assert_true(in("2001:db8::1", "2001:db8::/32"));
	assert_true(in("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
	    "2001:db8::/32"));
	assert_false(in("2001:db9::", "2001:db8::/32"));
	assert_true(in("fe80::1", "fe80::/10"));
	assert_true(in("febf:ffff::1", "fe80::/10"));
	assert_false(in("fec0::1", "fe80::/10"));
	assert_false(in("fe7f:ffff::1", "fe80::/10"));
	/* Families never cross. */
	assert_false(in("10.0.0.1", "::/0"));
	assert_false(in("::ffff:10.0.0.1", "::/0"));
	assert_false(in("::1", "0.0.0.0/0"));
}

static void
test_in_net_edges(void **state)
{
	(void)state;
	/* /0 holds every address of its family. */
	assert_true(in("0.0.0.0", "0.0.0.0/0"));
	assert_true(in("1.2.3.4", "0.0.0.0/0"));
	assert_true(in("255.255.255.255", "0.0.0.0/0"));
	assert_true(in("::", "::/0"));
	assert_true(in("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"));
	/* /32 and /128 hold exactly one. */
	assert_true(in("10.0.0.5", "10.0.0.5/32"));
	assert_false(in("10.0.0.4", "10.0.0.5/32"));
	assert_false(in("10.0.0.6", "10.0.0.5/32"));
	assert_true(in("2001:db8::5", "2001:db8::5/128"));
	assert_false(in("2001:db8::4", "2001:db8::5/128"));
	assert_false(in("2001:db8::6", "2001:db8::5/128"));
	assert_true(in("255.255.255.255", "255.255.255.255/32"));
	/* /31 holds two. */
	assert_true(in("10.0.0.4", "10.0.0.4/31"));
	assert_true(in("10.0.0.5", "10.0.0.4/31"));
	assert_false(in("10.0.0.6", "10.0.0.4/31"));
}

static void
test_net_within(void **state)
{
	(void)state;
	assert_true(within("10.1.0.0/16", "10.0.0.0/8"));
	assert_true(within("10.0.0.0/8", "10.0.0.0/8"));
	assert_true(within("10.1.2.3", "10.0.0.0/8"));
	assert_false(within("10.0.0.0/8", "10.1.0.0/16"));
	assert_false(within("11.0.0.0/8", "10.0.0.0/8"));
	assert_false(within("10.0.0.0/7", "10.0.0.0/8"));
	assert_true(within("10.0.0.0/8", "0.0.0.0/0"));
	assert_true(within("169.254.169.254", "169.254.0.0/16"));
	assert_false(within("169.254.0.0/15", "169.254.0.0/16"));
	assert_true(within("::ffff:127.0.0.1", "127.0.0.0/8"));
	assert_true(within("fd00:ec2::254", "fd00:ec2::254/128"));
	assert_false(within("fd00:ec2::/32", "fd00:ec2::254/128"));
	assert_true(within("fe80::1:0/112", "fe80::/10"));
	/* Families never cross, not even for /0. */
	assert_false(within("10.0.0.0/8", "::/0"));
	assert_false(within("::/0", "0.0.0.0/0"));
	assert_false(within("::ffff:10.0.0.0/104", "::/0"));
}

static void
test_eq(void **state)
{
	struct addr a = A("10.0.0.1"), b = A("10.0.0.1"), c = A("10.0.0.2");
	struct addr d = A("::a00:1");

	(void)state;
	assert_true(addr_eq(&a, &b));
	assert_false(addr_eq(&a, &c));
	/* Same 4 low bytes, different family. */
	assert_false(addr_eq(&a, &d));
}

static void
test_ntop_unknown_family(void **state)
{
	struct addr a;
	char buf[ADDR_STRLEN], tiny[4];

	(void)state;
	memset(&a, 0, sizeof(a));
	addr_ntop(&a, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	/* Too small a buffer still gives a terminated string. */
	a = A("2001:db8::1");
	memset(tiny, 'x', sizeof(tiny));
	addr_ntop(&a, tiny, sizeof(tiny));
	assert_non_null(memchr(tiny, '\0', sizeof(tiny)));
}

static void
test_from_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	struct addr a;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(22);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr), 1);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin,
	    sizeof(sin), &a), 0);
	assert_int_equal(a.af, AF_INET);
	assert_ntop(&a, "192.0.2.9");
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin,
	    sizeof(sin) - 1, &a), -1);

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr),
	    1);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin6,
	    sizeof(sin6), &a), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_ntop(&a, "2001:db8::9");
	/* A peer on a dual-stack socket arrives mapped. */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.9",
	    &sin6.sin6_addr), 1);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin6,
	    sizeof(sin6), &a), 0);
	assert_int_equal(a.af, AF_INET);
	assert_ntop(&a, "192.0.2.9");
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sin6,
	    sizeof(sin), &a), -1);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&sun,
	    sizeof(sun), &a), -1);
}

/* addr_to_sockaddr, and back again through addr_from_sockaddr. */
static void
test_to_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct addr a, b;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(addr_parse("192.0.2.9", &a), 0);
	assert_int_equal(addr_to_sockaddr(&a, 62022, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 62022);
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, len, &b),
	    0);
	assert_true(addr_eq(&a, &b));
	assert_int_equal(addr_parse("2001:db8::9", &a), 0);
	assert_int_equal(addr_to_sockaddr(&a, 0, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, len, &b),
	    0);
	assert_true(addr_eq(&a, &b));
	assert_int_equal(addr_to_sockaddr(&a, 65536, &ss, &len), -1);
	a.af = AF_UNIX;
	assert_int_equal(addr_to_sockaddr(&a, 22, &ss, &len), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_sockaddr),
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_strict),
		cmocka_unit_test(test_parse_mapped),
		cmocka_unit_test(test_normalise_in_place),
		cmocka_unit_test(test_net_parse),
		cmocka_unit_test(test_net_bad_prefix),
		cmocka_unit_test(test_net_host_bits),
		cmocka_unit_test(test_net_not_address),
		cmocka_unit_test(test_net_mapped),
		cmocka_unit_test(test_in_net_v4),
		cmocka_unit_test(test_in_net_v6),
		cmocka_unit_test(test_in_net_edges),
		cmocka_unit_test(test_net_within),
		cmocka_unit_test(test_eq),
		cmocka_unit_test(test_ntop_unknown_family),
		cmocka_unit_test(test_from_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
