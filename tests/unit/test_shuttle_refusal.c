/*
 * test_shuttle_refusal: the REFUSED answer the sshuttle server makes up
 * for a DNS query it does not relay (shuttle_chan.c shc_refusal).  The
 * client hands it to the application as the resolver's answer, so it must
 * carry the query's id and question, QR=1 and RCODE=5 -- and no query,
 * however mangled, may make it read or write out of bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shuttle_int.h"

/* www.example.test A IN, RD, id 0x1234; optionally an EDNS OPT record. */
static size_t
query(uint8_t *q, int edns)
{
	static const uint8_t hdr[] = {
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
	};
	static const uint8_t qname[] = "\3www\7example\4test";
	static const uint8_t opt[] = {
		0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00,
	};
	size_t n = 0;

	memcpy(q, hdr, sizeof(hdr));
	n += sizeof(hdr);
	memcpy(q + n, qname, sizeof(qname));	/* with the root's 0 */
	n += sizeof(qname);
	memcpy(q + n, "\0\1\0\1", 4);		/* A, IN */
	n += 4;
	if (edns) {
		q[11] = 1;
		memcpy(q + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

static void
check_header(const uint8_t *a, const uint8_t *q, unsigned int qd)
{
	assert_int_equal(a[0], q[0]);
	assert_int_equal(a[1], q[1]);
	assert_int_equal(a[2] & 0x80, 0x80);		/* QR */
	assert_int_equal(a[2] & 0x79, q[2] & 0x79);	/* opcode, RD */
	assert_int_equal(a[2] & 0x06, 0);		/* not AA, not TC */
	assert_int_equal(a[3] & 0x0f, 5);		/* REFUSED */
	assert_int_equal(a[4], 0);
	assert_int_equal(a[5], qd);
	assert_memory_equal(a + 6, "\0\0\0\0\0\0", 6);	/* no records */
}

static void
test_plain(void **state)
{
	uint8_t q[128], a[128];
	size_t qlen, n;

	(void)state;
	qlen = query(q, 0);
	assert_int_equal(shc_refusal(q, qlen, a, sizeof(a), &n), 0);
	assert_int_equal(n, qlen);
	check_header(a, q, 1);
	assert_memory_equal(a + 12, q + 12, qlen - 12);
}

static void
test_edns_dropped(void **state)
{
	uint8_t q[128], a[128];
	size_t qlen, n;

	(void)state;
	qlen = query(q, 1);
	assert_int_equal(shc_refusal(q, qlen, a, sizeof(a), &n), 0);
	assert_int_equal(n, query(q, 0));	/* question only */
	check_header(a, q, 1);
}

static void
test_no_question(void **state)
{
	uint8_t q[128], a[128];
	size_t qlen, n;

	(void)state;
	/* No question, two questions, a compressed name, a cut name. */
	qlen = query(q, 0);
	q[5] = 0;
	assert_int_equal(shc_refusal(q, qlen, a, sizeof(a), &n), 0);
	assert_int_equal(n, 12);
	check_header(a, q, 0);
	q[5] = 2;
	assert_int_equal(shc_refusal(q, qlen, a, sizeof(a), &n), 0);
	assert_int_equal(n, 12);
	qlen = query(q, 0);
	q[12] = 0xc0;
	assert_int_equal(shc_refusal(q, qlen, a, sizeof(a), &n), 0);
	assert_int_equal(n, 12);
	qlen = query(q, 0);
	assert_int_equal(shc_refusal(q, qlen - 5, a, sizeof(a), &n), 0);
	assert_int_equal(n, 12);
	/* A name that fits the query but not the answer buffer. */
	assert_int_equal(shc_refusal(q, qlen, a, 20, &n), 0);
	assert_int_equal(n, 12);
}

static void
test_short(void **state)
{
	uint8_t q[128], a[128];
	size_t qlen, n;

	(void)state;
	qlen = query(q, 0);
	assert_int_equal(shc_refusal(q, 11, a, sizeof(a), &n), -1);
	assert_int_equal(shc_refusal(q, qlen, a, 11, &n), -1);
	assert_int_equal(shc_refusal(q, 12, a, sizeof(a), &n), 0);
	assert_int_equal(n, 12);
}

/*
 * Deterministic mutations: every byte of the query set to a few values,
 * and every truncation.  The answer always parses as a header with at
 * most the query's question, and fits exactly where it said.
 */
static void
test_mutations(void **state)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x3f, 0x40, 0xc0, 0xff };
	uint8_t q[128], m[128], *a;
	size_t qlen, i, v, n, cut;

	(void)state;
	qlen = query(q, 1);
	for (i = 0; i < qlen; i++) {
		for (v = 0; v < sizeof(vals); v++) {
			memcpy(m, q, qlen);
			m[i] = vals[v];
			for (cut = 0; cut <= qlen; cut++) {
				/* Exactly sized heap copies: ASan sees any
				 * read or write past them. */
				uint8_t *in = malloc(cut ? cut : 1);

				assert_non_null(in);
				memcpy(in, m, cut);
				a = malloc(cut);
				if (shc_refusal(in, cut, a, cut, &n) == 0) {
					assert_true(cut >= 12);
					assert_true(n >= 12 && n <= cut);
					assert_int_equal(a[3] & 0x0f, 5);
					assert_true(a[5] <= 1);
					assert_int_equal(n == 12, a[5] == 0);
				} else
					assert_true(cut < 12);
				free(a);
				free(in);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_edns_dropped),
		cmocka_unit_test(test_no_question),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
