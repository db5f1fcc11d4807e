/*
 * audit: the audit trail, one JSON object per line with Elastic Common
 * Schema field names (docs/audit.md), written by exactly one process (the
 * gateway's master; knockd has its own file).
 *
 * A record is built in a fixed-size buffer, field by field; every string
 * value is escaped so that no user-controlled text can end the line, break
 * out of its string or add a field.  audit_write() appends the whole line
 * with one write() to an O_APPEND file and copies it to syslog.  A failed
 * write is reported to the caller, which must then refuse new sessions
 * (fail closed).
 */
#ifndef RAMPART_AUDIT_H
#define RAMPART_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AUDIT_REC_MAX	8192
#define AUDIT_ECS_VERSION "8.11.0"

struct audit;

struct audit_rec {
	char	buf[AUDIT_REC_MAX];
	size_t	len;
	int	overflow;	/* a field did not fit: the record is cut */
};

/*
 * Open (create, mode 0640) path for appending.  service names the writer
 * ("rampart-gateway"), used for service.name and the syslog ident.
 * Returns NULL with a reason in err.
 */
struct audit *audit_open(const char *path, const char *service,
	    int to_syslog, char *err, size_t errlen);
void	audit_close(struct audit *a);

/*
 * Start a record: @timestamp (now, or *when), ecs.version, event.kind,
 * event.action, event.outcome ("success", "failure", "unknown"),
 * service.name.  Then add fields; keys are dotted ECS names.
 */
void	audit_begin(struct audit *a, struct audit_rec *r, const char *action,
	    const char *outcome, const struct timespec *when);
void	audit_str(struct audit_rec *r, const char *key, const char *val);
/* Bytes that may be anything (a client's version string). */
void	audit_bytes(struct audit_rec *r, const char *key, const void *val,
	    size_t len);
void	audit_int(struct audit_rec *r, const char *key, int64_t val);
void	audit_uint(struct audit_rec *r, const char *key, uint64_t val);

/*
 * Close the object and append it.  Returns 0, or -1 with errno if the line
 * could not be written whole (disk full, permissions).
 */
int	audit_write(struct audit *a, struct audit_rec *r);

#endif /* RAMPART_AUDIT_H */
