/*
 * log: the daemons' diagnostic log (not the audit trail: see audit/).
 *
 * Messages go to syslog, or to stderr in foreground debug mode (-d), and
 * carry the calling function's name.  Strings that came from the network
 * must pass through log_safe() first, so a hostile user name can neither
 * break a line nor inject a fake record.  fatal() exists only for
 * per-connection children; the master and knockd never call it on remote
 * input.
 */
#ifndef RAMPART_LOG_H
#define RAMPART_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_INFO,
	LOG_LVL_VERBOSE,
	LOG_LVL_DEBUG,
};

/*
 * ident: program name for syslog.  to_stderr: log to stderr instead of
 * syslog.  Opens syslog with LOG_NDELAY so that no socket is created later,
 * inside a sandbox.
 */
void	log_init(const char *ident, int to_stderr, enum log_level level);
void	log_set_level(enum log_level level);
/* Parse "error", "info", "verbose", "debug".  0 or -1. */
int	log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/*
 * Send every message to fn instead (a sandboxed child forwards its log to
 * the master over IPC: it may not open sockets, and syslog() reconnects on
 * error).  NULL restores the default.
 */
typedef void log_handler_fn(enum log_level level, const char *func,
	    const char *msg, void *ctx);
void	log_set_handler(log_handler_fn *fn, void *ctx);

void	log_msg(enum log_level level, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_fatal(const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* Escape an untrusted string for a log line (see diag_safe). */
const char *log_safe(const char *s, char *buf, size_t buflen);

#define error(...)	log_msg(LOG_LVL_ERROR, __func__, __VA_ARGS__)
#define logit(...)	log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define verbose(...)	log_msg(LOG_LVL_VERBOSE, __func__, __VA_ARGS__)
#define debug(...)	log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)
#define fatal(...)	log_fatal(__func__, __VA_ARGS__)

#endif /* RAMPART_LOG_H */
