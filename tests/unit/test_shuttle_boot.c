/*
 * Unit tests for shuttle_boot: a bootstrap laid out like the ones sshuttle
 * 1.1.1 and 1.3.2 send (N bytes of assembler, the six module records with
 * their real sizes and binary bodies full of '\n', the terminator, then
 * mux bytes), fed whole, byte by byte and in uneven chunks; every limit at
 * and just past its bound; and an exhaustive single-edit mutation of the
 * record lines checked against a separate line-oriented reference parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shuttle_boot.h"

#define MUX_TAIL	"SS\0\0\x42\x01\0\7chicken"
#define MUX_TAIL_LEN	15

struct boot_buf {
	uint8_t	*p;
	size_t	 len, cap;
};

static void
put(struct boot_buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		assert_non_null(b->p = realloc(b->p, b->cap));
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* A body of n bytes that looks like zlib output: binary, with '\n's. */
static void
put_body(struct boot_buf *b, size_t n, unsigned int salt)
{
	uint8_t c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (uint8_t)((i * 131u + salt * 17u + (i >> 3)) & 0xff);
		put(b, &c, 1);
	}
}

static void
put_record(struct boot_buf *b, const char *name, size_t n, unsigned int salt)
{
	char line[64];

	put(b, name, strlen(name));
	snprintf(line, sizeof(line), "\n%zu\n", n);
	put(b, line, strlen(line));
	put_body(b, n, salt);
}

/* The 1.1.1 bootstrap's shape (notes section 2); returns its length. */
static size_t
make_bootstrap(struct boot_buf *b, size_t n)
{
	static const struct {
		const char	*name;
		size_t		 len;
	} mods[] = {
		{ "sshuttle", 88 }, { "sshuttle.cmdline_options", 91 },
		{ "sshuttle.helpers", 2850 }, { "sshuttle.ssnet", 5810 },
		{ "sshuttle.hostwatch", 2518 }, { "sshuttle.server", 3786 },
	};
	size_t i, blen;

	memset(b, 0, sizeof(*b));
	put(b, "import sys\nimport zlib\n", 23);
	put_body(b, n - 23, 99);
	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		put_record(b, mods[i].name, mods[i].len, (unsigned int)i);
	put(b, "\n", 1);
	blen = b->len;
	put(b, MUX_TAIL, MUX_TAIL_LEN);
	return blen;
}

/* Feed p[0..len) in chunks of the sizes in sizes[] (cycled). */
static int
feed_chunks(struct shuttle_boot *sb, const uint8_t *p, size_t len,
    const size_t *sizes, size_t nsizes, size_t *consumed)
{
	size_t off = 0, k = 0, n, used;
	int r = 0;

	while (off < len) {
		n = sizes[k++ % nsizes];
		if (n > len - off)
			n = len - off;
		r = shuttle_boot_feed(sb, p + off, n, &used);
		assert_true(used <= n);
		off += used;
		if (r != 0)
			break;
		assert_int_equal(used, n);
	}
	*consumed = off;
	return r;
}

static void
test_whole_and_chunked(void **state)
{
	static const size_t one[] = { 1 };
	static const size_t uneven[] = { 7, 1, 4096, 3, 250, 2, 65536, 13 };
	struct shuttle_boot *sb;
	struct boot_buf b;
	size_t blen, used;

	(void)state;
	blen = make_bootstrap(&b, 1704);
	assert_true(blen > 16000 && blen < 17500);

	assert_non_null(sb = shuttle_boot_new(1704));
	assert_int_equal(shuttle_boot_feed(sb, b.p, b.len, &used), 1);
	assert_int_equal(used, blen);
	assert_memory_equal(b.p + used, MUX_TAIL, MUX_TAIL_LEN);
	assert_int_equal(shuttle_boot_total(sb), blen);
	assert_int_equal(shuttle_boot_records(sb), 6);
	/* Complete is sticky and takes nothing more. */
	assert_int_equal(shuttle_boot_feed(sb, b.p + used, 5, &used), 1);
	assert_int_equal(used, 0);
	shuttle_boot_free(sb);

	assert_non_null(sb = shuttle_boot_new(1704));
	assert_int_equal(feed_chunks(sb, b.p, b.len, one, 1, &used), 1);
	assert_int_equal(used, blen);
	shuttle_boot_free(sb);

	assert_non_null(sb = shuttle_boot_new(1704));
	assert_int_equal(feed_chunks(sb, b.p, b.len, uneven, 8, &used), 1);
	assert_int_equal(used, blen);
	shuttle_boot_free(sb);

	/* N decides where records start: one byte off is an error. */
	assert_non_null(sb = shuttle_boot_new(1703));
	assert_true(shuttle_boot_feed(sb, b.p, b.len, &used) < 0);
	shuttle_boot_free(sb);
	assert_non_null(sb = shuttle_boot_new(1705));
	assert_true(shuttle_boot_feed(sb, b.p, b.len, &used) < 0);
	shuttle_boot_free(sb);
	free(b.p);
}

/* Feed "asm" (n bytes of 'a') then text; the result and *used. */
static int
feed_text(size_t n, const char *text, size_t tlen, size_t *used)
{
	struct shuttle_boot *sb;
	struct boot_buf b;
	int r;

	memset(&b, 0, sizeof(b));
	put_body(&b, n, 1);
	put(&b, text, tlen);
	assert_non_null(sb = shuttle_boot_new(n));
	r = shuttle_boot_feed(sb, b.p, b.len, used);
	shuttle_boot_free(sb);
	free(b.p);
	return r;
}

static void
expect_text(const char *text, int want)
{
	size_t used;

	assert_int_equal(feed_text(10, text, strlen(text), &used), want);
}

static void
test_lines(void **state)
{
	char name[300], text[400];

	(void)state;
	expect_text("sshuttle\n3\nabc\n", 1);
	expect_text("sshuttle\n0\n\n", 1);
	expect_text("sshuttle\n3\nabcx_Y.9\n1\n\n\n", 1);
	expect_text("sshuttle\n3\nab", 0);
	expect_text("sshuttl", 0);
	expect_text("\n", SHUTTLE_BOOT_ERR_EMPTY);
	expect_text("sshuttlex\n1\na\n", SHUTTLE_BOOT_ERR_FIRST);
	expect_text("sshuttl\n1\na\n", SHUTTLE_BOOT_ERR_FIRST);
	expect_text("os\n1\na\n", SHUTTLE_BOOT_ERR_FIRST);
	expect_text(" sshuttle\n1\na\n", SHUTTLE_BOOT_ERR_NAME);
	expect_text("sshuttle \n1\na\n", SHUTTLE_BOOT_ERR_NAME);
	expect_text("sshuttle\r\n1\na\n", SHUTTLE_BOOT_ERR_NAME);
	expect_text("sshuttle\n1\nafoo-bar\n", SHUTTLE_BOOT_ERR_NAME);
	expect_text("sshuttle\n1\na\r\n", SHUTTLE_BOOT_ERR_NAME);
	expect_text("sshuttle\n\na\n", SHUTTLE_BOOT_ERR_LEN);
	expect_text("sshuttle\n01\na\n", SHUTTLE_BOOT_ERR_LEN);
	expect_text("sshuttle\n-1\na\n", SHUTTLE_BOOT_ERR_LEN);
	expect_text("sshuttle\n+1\na\n", SHUTTLE_BOOT_ERR_LEN);
	expect_text("sshuttle\n1 \na\n", SHUTTLE_BOOT_ERR_LEN);
	expect_text("sshuttle\n12345678901\n", SHUTTLE_BOOT_ERR_LEN);
	/* Ten digits parse, but cannot fit: refused at the newline. */
	expect_text("sshuttle\n9999999999\n", SHUTTLE_BOOT_ERR_TOOBIG);
	expect_text("sshuttle\n1048576\n", SHUTTLE_BOOT_ERR_TOOBIG);
	/* Names: 256 bytes is the limit. */
	memset(name, 'n', 256);
	name[256] = '\0';
	snprintf(text, sizeof(text), "sshuttle\n0\n%s\n0\n\n", name);
	expect_text(text, 1);
	snprintf(text, sizeof(text), "sshuttle\n0\n%sn\n0\n\n", name);
	expect_text(text, SHUTTLE_BOOT_ERR_NAME);
}

static void
test_records_limit(void **state)
{
	char text[1024];
	size_t o, i, used;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "sshuttle\n0\n");
	for (i = 1; i < SHUTTLE_BOOT_RECORDS; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "m%zu\n1\nx",
		    i);
	memcpy(text + o, "\n", 2);
	assert_int_equal(feed_text(1, text, o + 1, &used), 1);
	memcpy(text + o, "m\n", 3);
	assert_int_equal(feed_text(1, text, o + 2, &used),
	    SHUTTLE_BOOT_ERR_RECORDS);
	/* It fails on the record's first byte: used stops right there. */
	assert_int_equal(used, 1 + o);
}

static void
test_size_limit(void **state)
{
	struct shuttle_boot *sb;
	struct boot_buf b;
	char line[64];
	size_t body, used;

	(void)state;
	/* 100 + "sshuttle\nLEN\n" + LEN + "\n" == exactly SHUTTLE_BOOT_MAX */
	body = SHUTTLE_BOOT_MAX - 100 - 9 - 8 - 1;
	memset(&b, 0, sizeof(b));
	put_body(&b, 100, 3);
	snprintf(line, sizeof(line), "sshuttle\n%zu\n", body);
	assert_int_equal(strlen(line), 9 + 8);
	put(&b, line, strlen(line));
	put_body(&b, body, 4);
	put(&b, "\n", 1);
	assert_int_equal(b.len, SHUTTLE_BOOT_MAX);
	assert_non_null(sb = shuttle_boot_new(100));
	assert_int_equal(shuttle_boot_feed(sb, b.p, b.len, &used), 1);
	assert_int_equal(used, SHUTTLE_BOOT_MAX);
	shuttle_boot_free(sb);

	/* One more body byte: refused at the LEN line, before the body. */
	b.len = 100;
	snprintf(line, sizeof(line), "sshuttle\n%zu\n", body + 1);
	put(&b, line, strlen(line));
	assert_non_null(sb = shuttle_boot_new(100));
	assert_int_equal(shuttle_boot_feed(sb, b.p, b.len, &used),
	    SHUTTLE_BOOT_ERR_TOOBIG);
	/* Errors are sticky. */
	assert_int_equal(shuttle_boot_feed(sb, "\n", 1, &used),
	    SHUTTLE_BOOT_ERR_TOOBIG);
	assert_int_equal(used, 0);
	shuttle_boot_free(sb);

	/* Many small records that add up to too much. */
	b.len = 100;
	put(&b, "sshuttle\n600000\n", 16);
	put_body(&b, 600000, 5);
	put(&b, "m\n500000\n", 9);
	assert_non_null(sb = shuttle_boot_new(100));
	assert_int_equal(shuttle_boot_feed(sb, b.p, b.len, &used),
	    SHUTTLE_BOOT_ERR_TOOBIG);
	shuttle_boot_free(sb);
	free(b.p);
}

static void
test_args(void **state)
{
	struct shuttle_boot *sb;
	size_t used;
	int e;

	(void)state;
	assert_null(shuttle_boot_new(0));
	assert_null(shuttle_boot_new(65537));
	assert_non_null(sb = shuttle_boot_new(65536));
	assert_int_equal(shuttle_boot_feed(sb, NULL, 0, &used), 0);
	assert_int_equal(shuttle_boot_feed(sb, NULL, 1, &used),
	    SHUTTLE_BOOT_ERR_ARG);
	assert_int_equal(shuttle_boot_feed(sb, "x", 1, NULL),
	    SHUTTLE_BOOT_ERR_ARG);
	assert_int_equal(shuttle_boot_feed(NULL, "x", 1, &used),
	    SHUTTLE_BOOT_ERR_ARG);
	shuttle_boot_free(sb);
	shuttle_boot_free(NULL);
	for (e = SHUTTLE_BOOT_ERR_NOMEM; e < 0; e++)
		assert_string_not_equal(shuttle_boot_strerror(e),
		    "unknown error");
	assert_string_equal(shuttle_boot_strerror(-100), "unknown error");
}

/* --- mutation against a reference parser ------------------------------ */

static int
ref_name_char(uint8_t c)
{
	return strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.", c) != NULL && c != '\0';
}

/*
 * The layout read line by line over the whole input, as notes section 2
 * describes it: 1 complete (*used = its length), 0 incomplete so far,
 * -1 invalid.
 */
static int
ref_boot(const uint8_t *p, size_t len, size_t n, size_t *used)
{
	size_t pos = n, e, rec = 0;
	uint64_t l;

	if (len < n)
		return 0;
	for (;;) {
		for (e = pos; e < len && p[e] != '\n'; e++)
			if (!ref_name_char(p[e]) || e - pos >= 256 ||
			    rec == 32)
				return -1;
		if (e == len)
			return 0;
		if (e == pos) {
			*used = e + 1;
			return rec > 0 && e + 1 <= SHUTTLE_BOOT_MAX ? 1 : -1;
		}
		if (rec++ == 0 && (e - pos != 8 ||
		    memcmp(p + pos, "sshuttle", 8) != 0))
			return -1;
		pos = e + 1;
		for (e = pos, l = 0; e < len && p[e] != '\n'; e++) {
			if (p[e] < '0' || p[e] > '9' || e - pos >= 10 ||
			    (e > pos && p[pos] == '0'))
				return -1;
			l = l * 10 + (uint64_t)(p[e] - '0');
		}
		if (e == len)
			return 0;
		if (e == pos || e + 1 + l + 1 > SHUTTLE_BOOT_MAX)
			return -1;
		pos = e + 1 + (size_t)l;
		if (pos > len)
			return 0;
	}
}

static int
classify(int r)
{
	return r < 0 ? -1 : r;
}

static const uint8_t edits[] = "0123456789\n\r .s_-\0\xff";

static void
check_mutant(const uint8_t *p, size_t len, unsigned int *count)
{
	static const size_t sizes[] = { 1, 3, 1500, 64, 4096, 333, 17, 2 };
	struct shuttle_boot *sb;
	size_t used, rused = 0, cused;
	int r, rr;

	rr = ref_boot(p, len, 1704, &rused);
	assert_non_null(sb = shuttle_boot_new(1704));
	r = shuttle_boot_feed(sb, p, len, &used);
	shuttle_boot_free(sb);
	assert_int_equal(classify(r), rr);
	if (rr == 1)
		assert_int_equal(used, rused);
	/* Chunking never changes the outcome. */
	assert_non_null(sb = shuttle_boot_new(1704));
	assert_int_equal(classify(feed_chunks(sb, p, len, sizes + *count % 4,
	    4, &cused)), rr);
	shuttle_boot_free(sb);
	if (rr == 1)
		assert_int_equal(cused, rused);
	(*count)++;
}

static void
test_mutate(void **state)
{
	struct boot_buf b;
	uint8_t *m;
	size_t blen, pos, k;
	unsigned int count = 0;

	(void)state;
	blen = make_bootstrap(&b, 1704);
	assert_int_equal(ref_boot(b.p, b.len, 1704, &pos), 1);
	assert_int_equal(pos, blen);
	assert_non_null(m = malloc(b.len + 1));
	/* Every byte of every record line and the terminator, edited. */
	for (pos = 1704; pos < blen; pos++) {
		if (pos > 1704 && b.p[pos - 1] != '\n' &&
		    memchr(b.p + pos - (pos > 30 ? 30 : pos), '\n',
		    pos > 30 ? 30 : pos) == NULL)
			continue;	/* deep inside a body: only skipped */
		for (k = 0; k < sizeof(edits) - 1; k++) {
			memcpy(m, b.p, b.len);
			m[pos] = edits[k];
			check_mutant(m, b.len, &count);
			memcpy(m, b.p, pos);
			m[pos] = edits[k];
			memcpy(m + pos + 1, b.p + pos, b.len - pos);
			check_mutant(m, b.len + 1, &count);
		}
		memcpy(m, b.p, pos);
		memcpy(m + pos, b.p + pos + 1, b.len - pos - 1);
		check_mutant(m, b.len - 1, &count);
		check_mutant(b.p, pos, &count);
	}
	print_message("%u mutants checked\n", count);
	assert_true(count > 1000);
	free(m);
	free(b.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_and_chunked),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_records_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_mutate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
