/*
 * knockd_metrics: knockd's counters (docs/PROTOCOL.knock section 11) in
 * the Prometheus text format, for node_exporter's textfile collector:
 * written whole to FILE.tmp, then renamed over FILE, so a scrape never
 * sees half a file.  Labels come from a fixed set (the drop reasons), never
 * from users or addresses.
 */
#ifndef RAMPART_KNOCKD_METRICS_H
#define RAMPART_KNOCKD_METRICS_H

#include <stddef.h>

#include "knockd_proc.h"

/* The text for n into buf; its length, or 0 if buf is too small. */
size_t	knockd_metrics_format(const struct knockd_counters *n, int up,
	    char *buf, size_t len);

/* Write path atomically.  0, or -1 with a reason in err. */
int	knockd_metrics_write(const char *path, const struct knockd_counters *n,
	    int up, char *err, size_t errlen);

#endif /* RAMPART_KNOCKD_METRICS_H */
