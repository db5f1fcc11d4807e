/*
 * knockd_sandbox: how rampart-knockd confines itself once its sockets,
 * keys, policy, audit file and nftables context are open.
 *
 * First the drop: to User (real, effective and saved ids, supplementary
 * groups dropped) keeping one capability, CAP_NET_ADMIN, which the door
 * needs to change nftables sets; every other capability and the rest of
 * the bounding set go, and no_new_privs is set.  Then a seccomp filter
 * for the loop, built like the gateway master's: an allow-list whose
 * default answer is EPERM (a library path nobody foresaw fails, knockd
 * does not die), while exec, ptrace, mounts, namespaces, module loading,
 * bpf and id changes kill it.  The UDP sockets sit at descriptors from
 * KNOCKD_SANDBOX_UDP_FD upwards, and every send and write below that
 * number only is allowed: knockd cannot reply to anything, by
 * construction (PROTOCOL.knock section 14.6).
 */
#ifndef RAMPART_KNOCKD_SANDBOX_H
#define RAMPART_KNOCKD_SANDBOX_H

#include <sys/types.h>

/* The UDP sockets are moved to this descriptor and above. */
#define KNOCKD_SANDBOX_UDP_FD	256

/*
 * Become uid/gid with only CAP_NET_ADMIN (started as root), or keep only
 * CAP_NET_ADMIN (started as User with it, e.g. systemd's
 * AmbientCapabilities).  Checks the result.  0, or -1 after logging why.
 */
int	knockd_sandbox_drop(uid_t uid, gid_t gid);

/* Load the loop's seccomp filter.  0, or -1 after logging why. */
int	knockd_sandbox_load(void);

#endif /* RAMPART_KNOCKD_SANDBOX_H */
