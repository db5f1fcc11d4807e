/*
 * test_knockd_metrics: knockd's Prometheus textfile -- every counter of
 * PROTOCOL.knock section 11 with its value, one series per drop reason,
 * HELP and TYPE before each family, and the file replaced whole.
 */
#include <sys/stat.h>

#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "knockd_metrics.h"

static void
counters(struct knockd_counters *n)
{
	int r;

	memset(n, 0, sizeof(*n));
	n->datagrams = 1000001;
	n->accepted = 7;
	for (r = 1; r < KNOCKD_NDROP; r++)
		n->dropped[r] = 100 + (uint64_t)r;
	n->seen_evictions = 11;
	n->replay_evictions = 12;
	n->source_evictions = 13;
	n->bind_errors = 14;
	n->audit_suppressed = 15;
	n->audit_errors = 16;
	n->seen_size = 17;
	n->replay_size = 18;
}

static void
has_line(const char *text, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
test_values(void **state)
{
	struct knockd_counters n;
	char text[8192], line[128];
	int r;

	(void)state;
	counters(&n);
	assert_true(knockd_metrics_format(&n, 1, text, sizeof(text)) > 0);
	assert_true(strncmp(text, "# HELP rampart_knockd_up ", 25) == 0);
	has_line(text, "rampart_knockd_up 1");
	has_line(text, "rampart_knockd_datagrams_total 1000001");
	has_line(text, "rampart_knockd_accepted_total 7");
	for (r = 1; r < KNOCKD_NDROP; r++) {
		snprintf(line, sizeof(line), "rampart_knockd_dropped_total"
		    "{reason=\"%s\"} %d", knockd_proc_reason(r), 100 + r);
		has_line(text, line);
	}
	has_line(text, "rampart_knockd_seen_evictions_total 11");
	has_line(text, "rampart_knockd_replay_evictions_total 12");
	has_line(text, "rampart_knockd_source_evictions_total 13");
	has_line(text, "rampart_knockd_bind_errors_total 14");
	has_line(text, "rampart_knockd_audit_suppressed_total 15");
	has_line(text, "rampart_knockd_audit_errors_total 16");
	has_line(text, "rampart_knockd_seen_cache_entries 17");
	has_line(text, "rampart_knockd_replay_cache_entries 18");
	has_line(text, "# TYPE rampart_knockd_dropped_total counter");
	has_line(text, "# TYPE rampart_knockd_seen_cache_entries gauge");
	assert_true(knockd_metrics_format(&n, 0, text, sizeof(text)) > 0);
	has_line(text, "rampart_knockd_up 0");
}

/* The text exposition format, line by line: families declared first. */
static void
test_syntax(void **state)
{
	struct knockd_counters n;
	char text[8192], family[128], *line, *save = NULL;
	regex_t sample, comment;
	regmatch_t m[2];
	size_t samples = 0;

	(void)state;
	counters(&n);
	assert_true(knockd_metrics_format(&n, 1, text, sizeof(text)) > 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(regcomp(&sample, "^(rampart_knockd_[a-z_]+)"
	    "(\\{reason=\"[a-z_]+\"\\})? [0-9]+$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&comment, "^# (HELP|TYPE) "
	    "(rampart_knockd_[a-z_]+) .+$", REG_EXTENDED), 0);
	family[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			if (regexec(&comment, line, 0, NULL, 0) != 0)
				fail_msg("bad comment line \"%s\"", line);
			continue;
		}
		if (regexec(&sample, line, 2, m, 0) != 0)
			fail_msg("bad sample line \"%s\"", line);
		snprintf(family, sizeof(family), "%.*s",
		    (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
		samples++;
	}
	/* up, 11 families, the dropped one with 20 series. */
	assert_int_equal(samples, 1 + 10 + 20);
	assert_string_equal(family, "rampart_knockd_replay_cache_entries");
	regfree(&sample);
	regfree(&comment);
}

static void
test_small_buffer(void **state)
{
	struct knockd_counters n;
	char text[100];

	(void)state;
	counters(&n);
	assert_int_equal(knockd_metrics_format(&n, 1, text, sizeof(text)), 0);
	assert_int_equal(knockd_metrics_format(&n, 1, text, 0), 0);
}

static void
test_write(void **state)
{
	char dir[] = "/tmp/test_knockd_metrics.XXXXXX", path[128], tmp[160];
	char want[8192], got[8192], err[256];
	struct knockd_counters n;
	struct stat st;
	size_t len;
	FILE *f;

	(void)state;
	counters(&n);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/knockd.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(knockd_metrics_write(path, &n, 1, err, sizeof(err)),
	    0);
	/* Replaced whole: a second write, a new value, no .tmp left. */
	n.accepted = 8;
	assert_int_equal(knockd_metrics_write(path, &n, 1, err, sizeof(err)),
	    0);
	assert_int_equal(stat(tmp, &st), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	len = knockd_metrics_format(&n, 1, want, sizeof(want));
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(got, 1, sizeof(got), f), len);
	fclose(f);
	assert_memory_equal(got, want, len);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	/* A directory that is not there: the error names the file. */
	assert_int_equal(knockd_metrics_write(path, &n, 1, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", tmp);
	assert_string_equal(err, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
