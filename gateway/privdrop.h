/*
 * privdrop: becoming the unprivileged service user for good.
 *
 * After the listening sockets are bound and the host keys, configuration
 * and policy are loaded, the master switches to the service user with
 * libcap-ng: real, effective and saved ids changed, supplementary groups
 * dropped, every capability and the bounding set cleared, and
 * no_new_privs set, so nothing it ever runs can regain privilege.
 */
#ifndef RAMPART_PRIVDROP_H
#define RAMPART_PRIVDROP_H

#include <sys/types.h>

/* Look the user up (before any sandbox).  0, or -1 if unknown. */
int	privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * Drop to uid/gid.  When not started as root there is nothing to drop:
 * only capabilities are cleared and no_new_privs set.  0 or -1.
 */
int	privdrop_drop(uid_t uid, gid_t gid);

#endif /* RAMPART_PRIVDROP_H */
