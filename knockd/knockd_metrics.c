/*
 * knockd_metrics: the Prometheus textfile.  One buffer, one write, one
 * rename: the file node_exporter reads is always a whole one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "knockd_metrics.h"

#define METRICS_MAX	8192

struct out {
	char	*buf;
	size_t	 len, used;
	int	 full;
};

static void
put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->full)
		return;
	va_start(ap, fmt);
	r = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= o->len - o->used)
		o->full = 1;
	else
		o->used += (size_t)r;
}

#define C(f)	offsetof(struct knockd_counters, f)
#define DROPS	((size_t)-1)	/* the labelled series, in its place */

/* Every series, in the order of PROTOCOL.knock section 11. */
static const struct series {
	const char	*name;
	const char	*type;
	size_t		 off;		/* a uint64_t, or a size_t gauge */
	const char	*help;
} series[] = {
	{ "datagrams_total", "counter", C(datagrams), "Datagrams read." },
	{ "accepted_total", "counter", C(accepted),
	    "Knocks that opened a door." },
	{ "dropped_total", "counter", DROPS,
	    "Datagrams dropped, by reason (PROTOCOL.knock section 11)." },
	{ "seen_evictions_total", "counter", C(seen_evictions),
	    "Seen cache entries evicted because it was full." },
	{ "replay_evictions_total", "counter", C(replay_evictions),
	    "Replay cache nonces evicted because it was full." },
	{ "source_evictions_total", "counter", C(source_evictions),
	    "Source or returning table entries evicted because it was full." },
	{ "bind_errors_total", "counter", C(bind_errors),
	    "Binding messages the gateway's master was not sent." },
	{ "audit_suppressed_total", "counter", C(audit_suppressed),
	    "knock-rejected records left out by the rate limit." },
	{ "audit_errors_total", "counter", C(audit_errors),
	    "Audit records that could not be written." },
	{ "seen_cache_entries", "gauge", C(seen_size),
	    "Entries in the seen cache." },
	{ "replay_cache_entries", "gauge", C(replay_size),
	    "Nonces in the replay cache." },
};

static uint64_t
value(const struct knockd_counters *n, const struct series *m)
{
	const char *p = (const char *)n + m->off;

	if (m->off == C(seen_size) || m->off == C(replay_size))
		return *(const size_t *)(const void *)p;
	return *(const uint64_t *)(const void *)p;
}

size_t
knockd_metrics_format(const struct knockd_counters *n, int up, char *buf,
    size_t len)
{
	struct out o = { buf, len, 0, 0 };
	const struct series *m;
	size_t i;
	int r;

	if (len == 0)
		return 0;
	put(&o, "# HELP rampart_knockd_up 1 while rampart-knockd runs.\n"
	    "# TYPE rampart_knockd_up gauge\nrampart_knockd_up %d\n",
	    up ? 1 : 0);
	for (i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
		m = &series[i];
		put(&o, "# HELP rampart_knockd_%s %s\n"
		    "# TYPE rampart_knockd_%s %s\n", m->name, m->help, m->name,
		    m->type);
		if (m->off != DROPS) {
			put(&o, "rampart_knockd_%s %" PRIu64 "\n", m->name,
			    value(n, m));
			continue;
		}
		for (r = KNOCKD_DROP_SIZE; r < KNOCKD_NDROP; r++)
			put(&o, "rampart_knockd_%s{reason=\"%s\"} %" PRIu64
			    "\n", m->name, knockd_proc_reason(r),
			    n->dropped[r]);
	}
	return o.full ? 0 : o.used;
}

int
knockd_metrics_write(const char *path, const struct knockd_counters *n,
    int up, char *err, size_t errlen)
{
	char text[METRICS_MAX], tmp[PATH_MAX];
	size_t len;
	ssize_t w;
	int fd, r = -1;

	if ((len = knockd_metrics_format(n, up, text, sizeof(text))) == 0 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "%s: the metrics do not fit", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, 0644)) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	/* node_exporter reads it, whatever the service's umask. */
	(void)fchmod(fd, 0644);
	if ((w = write(fd, text, len)) != (ssize_t)len)
		snprintf(err, errlen, "%s: %s", tmp, w < 0 ? strerror(errno) :
		    "short write");
	else if (rename(tmp, path) != 0)
		snprintf(err, errlen, "rename to %s: %s", path,
		    strerror(errno));
	else
		r = 0;
	close(fd);
	if (r != 0)
		(void)unlink(tmp);
	return r;
}
