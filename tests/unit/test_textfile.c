/*
 * test_textfile: bounded file reads, line splitting, and the per-line
 * hygiene every parser relies on (no NUL, no control bytes, valid UTF-8,
 * bounded length).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "textfile.h"

static void
check_ok(const char *line, size_t len)
{
	char err[256];
	const char *r;

	if ((r = textfile_check_line(line, len, err, sizeof(err))) != NULL) {
		fail_msg("line refused: %s", r);
	}
}

static void
check_bad(const char *line, size_t len, const char *want)
{
	char err[256] = "";
	const char *r;

	if ((r = textfile_check_line(line, len, err, sizeof(err))) == NULL) {
		fail_msg("line accepted, wanted \"%s\"", want);
	}
	assert_ptr_equal(r, err);
	assert_string_equal(err, want);
}

#define OK(s)		check_ok((s), sizeof(s) - 1)
#define BAD(s, w)	check_bad((s), sizeof(s) - 1, (w))

static void
test_check_plain(void **state)
{
	(void)state;
	OK("");
	OK("user alice");
	OK("\tallow 10.0.0.0/8 port 22\t# tab is fine");
	OK("~!@#$%^&*()_+`-=[]{}|\\;':\",./<>?");
}

static void
test_check_length(void **state)
{
	char *buf;

	(void)state;
	assert_non_null(buf = malloc(TEXTFILE_LINE_MAX + 1));
	memset(buf, 'a', TEXTFILE_LINE_MAX + 1);
	check_ok(buf, TEXTFILE_LINE_MAX);
	check_bad(buf, TEXTFILE_LINE_MAX + 1,
	    "line is longer than 4096 bytes");
	free(buf);
}

static void
test_check_nul_and_controls(void **state)
{
	(void)state;
	BAD("ab\0cd", "NUL byte at column 3");
	BAD("\0", "NUL byte at column 1");
	BAD("a\x01", "control character 0x01 at column 2");
	BAD("a\x1b[31m", "control character 0x1b at column 2");
	BAD("abc\r", "control character 0x0d at column 4");
	BAD("a\nb", "control character 0x0a at column 2");
	BAD("a\x0b", "control character 0x0b at column 2");
	BAD("a\x7f", "control character 0x7f at column 2");
	BAD("\x1f", "control character 0x1f at column 1");
}

static void
test_check_utf8_valid(void **state)
{
	(void)state;
	OK("caf\xc3\xa9");			/* U+00E9 */
	OK("\xc2\xa0");				/* U+00A0, lowest 2-byte */
	OK("\xdf\xbf");				/* U+07FF */
	OK("\xe0\xa0\x80");			/* U+0800, lowest 3-byte */
	OK("\xe2\x82\xac");			/* U+20AC euro */
	OK("\xed\x9f\xbf");			/* U+D7FF, below surrogates */
	OK("\xee\x80\x80");			/* U+E000, above them */
	OK("\xef\xbf\xbf");			/* U+FFFF */
	OK("\xf0\x90\x80\x80");			/* U+10000 */
	OK("\xf0\x9f\x94\x91");			/* U+1F511 key */
	OK("\xf4\x8f\xbf\xbf");			/* U+10FFFF, the last */
}

static void
test_check_utf8_invalid(void **state)
{
	(void)state;
	/* Bytes that never start a sequence. */
	BAD("a\xff", "invalid UTF-8 at column 2");
	/* C1 controls are control characters, however they are encoded. */
	BAD("a\xc2\x85" "b", "invalid UTF-8 at column 2");
	BAD("\xc2\x9b[31m", "invalid UTF-8 at column 1");
	BAD("a\xfe", "invalid UTF-8 at column 2");
	BAD("\x80", "invalid UTF-8 at column 1");
	BAD("\xbf", "invalid UTF-8 at column 1");
	/* Overlong encodings of '/' and of NUL. */
	BAD("x\xc0\xaf", "invalid UTF-8 at column 2");
	BAD("\xc1\xbf", "invalid UTF-8 at column 1");
	BAD("\xc0\x80", "invalid UTF-8 at column 1");
	BAD("\xe0\x80\xaf", "invalid UTF-8 at column 1");
	BAD("\xe0\x9f\xbf", "invalid UTF-8 at column 1");
	BAD("\xf0\x80\x80\xaf", "invalid UTF-8 at column 1");
	BAD("\xf0\x8f\xbf\xbf", "invalid UTF-8 at column 1");
	/* UTF-16 surrogates. */
	BAD("ab\xed\xa0\x80", "invalid UTF-8 at column 3");
	BAD("\xed\xbf\xbf", "invalid UTF-8 at column 1");
	/* Beyond U+10FFFF. */
	BAD("\xf4\x90\x80\x80", "invalid UTF-8 at column 1");
	BAD("\xf5\x80\x80\x80", "invalid UTF-8 at column 1");
	/* Truncated and interrupted sequences. */
	BAD("ab\xe2\x82", "invalid UTF-8 at column 3");
	BAD("\xe2\x82x", "invalid UTF-8 at column 1");
	BAD("\xc3", "invalid UTF-8 at column 1");
	BAD("\xf0\x9f\x94", "invalid UTF-8 at column 1");
	/* The column counts bytes, after valid multi-byte characters. */
	BAD("\xc3\xa9\xc3\xa9\xff", "invalid UTF-8 at column 5");
}

static void
test_next(void **state)
{
	const char *buf = "one\ntwo\r\n\nthree\r\r\nlast";
	const char *line;
	size_t off = 0, len;

	(void)state;
	assert_int_equal(textfile_next(buf, strlen(buf), &off, &line, &len),
	    1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "one", 3);
	assert_int_equal(textfile_next(buf, strlen(buf), &off, &line, &len),
	    1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "two", 3);
	assert_int_equal(textfile_next(buf, strlen(buf), &off, &line, &len),
	    1);
	assert_int_equal(len, 0);
	/* Only one trailing CR is removed; the other is the line's. */
	assert_int_equal(textfile_next(buf, strlen(buf), &off, &line, &len),
	    1);
	assert_int_equal(len, 6);
	assert_memory_equal(line, "three\r", 6);
	assert_int_equal(textfile_next(buf, strlen(buf), &off, &line, &len),
	    1);
	assert_int_equal(len, 4);
	assert_memory_equal(line, "last", 4);
	assert_int_equal(textfile_next(buf, strlen(buf), &off, &line, &len),
	    0);
	/* A final newline does not make an extra empty line. */
	off = 0;
	assert_int_equal(textfile_next("a\n", 2, &off, &line, &len), 1);
	assert_int_equal(textfile_next("a\n", 2, &off, &line, &len), 0);
	off = 0;
	assert_int_equal(textfile_next("", 0, &off, &line, &len), 0);
	/* Embedded NULs are data, handed on for check_line to refuse. */
	off = 0;
	assert_int_equal(textfile_next("a\0b\nc", 5, &off, &line, &len), 1);
	assert_int_equal(len, 3);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >=
	    0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void
test_read(void **state)
{
	char dir[] = "/tmp/rampart-textfile-XXXXXX", path[128], err[256];
	char *buf;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	write_file(path, "hello\0world\n", 12);
	assert_int_equal(textfile_read(path, &buf, &len, err, sizeof(err)),
	    0);
	assert_int_equal(len, 12);
	assert_memory_equal(buf, "hello\0world\n", 12);
	assert_int_equal(buf[12], '\0');
	free(buf);
	write_file(path, "", 0);
	assert_int_equal(textfile_read(path, &buf, &len, err, sizeof(err)),
	    0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	/* Just over the cap: refused without reading it. */
	assert_int_equal(truncate(path, TEXTFILE_SIZE_MAX + 1), 0);
	assert_int_equal(textfile_read(path, &buf, &len, err, sizeof(err)),
	    -1);
	assert_null(buf);
	assert_string_equal(err, "is larger than 16 MiB");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(textfile_read(path, &buf, &len, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "cannot open: No such file or directory");
	assert_int_equal(textfile_read(dir, &buf, &len, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "is not a regular file");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* A FIFO with no writer must not block the loader. */
	assert_int_equal(textfile_read(path, &buf, &len, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "is not a regular file");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(textfile_read("/dev/null", &buf, &len, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "is not a regular file");
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_plain),
		cmocka_unit_test(test_check_length),
		cmocka_unit_test(test_check_nul_and_controls),
		cmocka_unit_test(test_check_utf8_valid),
		cmocka_unit_test(test_check_utf8_invalid),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
