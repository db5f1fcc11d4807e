/*
 * log: syslog or stderr, with the function name and a level filter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "log.h"

static int log_stderr = 1;
static enum log_level log_level = LOG_LVL_INFO;
static const char *log_ident = "rampart";
static log_handler_fn *log_handler;
static void *log_handler_ctx;

static const char *const level_names[] = {
	"error", "info", "verbose", "debug",
};

void
log_init(const char *ident, int to_stderr, enum log_level level)
{
	log_ident = ident;
	log_stderr = to_stderr;
	log_level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
log_set_handler(log_handler_fn *fn, void *ctx)
{
	log_handler = fn;
	log_handler_ctx = ctx;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return (size_t)level < sizeof(level_names) / sizeof(level_names[0]) ?
	    level_names[level] : "?";
}

static void
log_vmsg(enum log_level level, const char *func, const char *fmt,
    va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_INFO, LOG_INFO, LOG_DEBUG };
	char msg[1024];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_handler != NULL)
		log_handler(level, func, msg, log_handler_ctx);
	else if (log_stderr) {
		/* One write per line: children share the terminal. */
		dprintf(STDERR_FILENO, "%s[%ld]: %s: %s\n", log_ident,
		    (long)getpid(), func, msg);
	} else
		syslog(prio[level], "%s: %s", func, msg);
}

void
log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, func, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, func, fmt, ap);
	va_end(ap);
	_exit(255);
}

const char *
log_safe(const char *s, char *buf, size_t buflen)
{
	if (s == NULL)
		s = "(null)";
	return diag_safe(s, strlen(s), buf, buflen);
}
