/*
 * knockd_sandbox: the privilege drop and the loop's seccomp filter.
 *
 * The system call sets were measured with strace on Debian 12 (glibc
 * 2.36, libnftables 1.0.6, libsodium 1.0.18) over a start, accepted and
 * rejected knocks, a SIGHUP reload, metrics files and a stop with
 * NftCreate yes; see rampart-knockd(8) for why each group is there.  The
 * lists are names, resolved for the running architecture, so a call this
 * architecture lacks is simply skipped.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "knockd_sandbox.h"
#include "log.h"

/*
 * Allowed as they are.  The loop: epoll, the signalfd and timerfd reads,
 * recvmmsg on the UDP sockets, the clocks.  Memory and libc housekeeping.
 * Files: the policy on SIGHUP (open, stat, read, close), the metrics file
 * (open, write, rename), the audit file (write, already open).  Netlink
 * for libnftables: its socket's bind, options and recvmsg.
 */
static const char allowed[] =
    "read readv pread64 close lseek recvmmsg recvmsg recvfrom "
    "select pselect6 poll ppoll "
    "epoll_wait epoll_pwait epoll_pwait2 epoll_ctl "
    "timerfd_settime timerfd_gettime "
    "clock_gettime clock_getres gettimeofday time nanosleep "
    "clock_nanosleep "
    "brk munmap mremap madvise mlock munlock futex getrandom "
    "rt_sigprocmask rt_sigreturn rt_sigaction sigaltstack "
    "restart_syscall exit exit_group "
    "getpid gettid getuid geteuid getgid getegid getppid "
    "open openat stat lstat fstat newfstatat statx access faccessat "
    "faccessat2 readlink readlinkat getdents64 fcntl fchmod "
    "rename renameat renameat2 unlink unlinkat "
    "bind getsockname getsockopt setsockopt uname";

/* Writes and sends: only below the UDP sockets' descriptors. */
static const char low_fd_only[] = "write writev sendto sendmsg sendmmsg";

/* Turning a compromised knockd into control of the host: kill. */
static const char fatal[] =
    "execve execveat ptrace process_vm_readv process_vm_writev "
    "mount umount2 pivot_root chroot setns unshare "
    "init_module finit_module delete_module kexec_load kexec_file_load "
    "bpf perf_event_open userfaultfd keyctl add_key request_key "
    "io_uring_setup personality "
    "setuid setgid setresuid setresgid setreuid setregid setgroups "
    "capset";

/*
 * Add one rule per name in list: with argument comparisons if ncmp > 0.
 * Names this architecture does not have are skipped.
 */
static int
add_list(scmp_filter_ctx ctx, uint32_t action, const char *list,
    unsigned int ncmp, const struct scmp_arg_cmp *cmp)
{
	char name[32];
	const char *p = list;
	size_t n;
	int nr, r;

	while (*p != '\0') {
		n = strcspn(p, " ");
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			nr = seccomp_syscall_resolve_name(name);
			if (nr != __NR_SCMP_ERROR && (r = seccomp_rule_add_array(
			    ctx, action, nr, ncmp, cmp)) != 0) {
				error("seccomp rule for %s: %s", name,
				    strerror(-r));
				return -1;
			}
		}
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

static int
add_rules(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp low = SCMP_A0(SCMP_CMP_LT, KNOCKD_SANDBOX_UDP_FD);
	struct scmp_arg_cmp netlink = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK);
	struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC,
	    0);

	if (add_list(ctx, SCMP_ACT_ALLOW, allowed, 0, NULL) != 0 ||
	    add_list(ctx, SCMP_ACT_ALLOW, low_fd_only, 1, &low) != 0 ||
	    add_list(ctx, SCMP_ACT_KILL_PROCESS, fatal, 0, NULL) != 0 ||
	    /* libnftables may reopen its netlink socket; nothing else. */
	    add_list(ctx, SCMP_ACT_ALLOW, "socket", 1, &netlink) != 0 ||
	    /* Memory, but never new code. */
	    add_list(ctx, SCMP_ACT_ALLOW, "mmap mprotect", 1, &noexec) != 0)
		return -1;
	return 0;
}

int
knockd_sandbox_load(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r = -1;

	if (ctx == NULL)
		error("seccomp_init failed");
	else if (add_rules(ctx) == 0 && (r = seccomp_load(ctx)) != 0) {
		error("seccomp_load: %s", strerror(-r));
		r = -1;
	}
	seccomp_release(ctx);
	return r;
}

/* Exactly CAP_NET_ADMIN effective and permitted, and root out of reach. */
static int
check_drop(uid_t uid)
{
	if (capng_get_caps_process() != 0) {
		error("cannot read the process's capabilities");
		return -1;
	}
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN) ||
	    !capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN)) {
		error("CAP_NET_ADMIN was lost in the drop; knockd cannot open "
		    "doors without it");
		return -1;
	}
	capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
	    CAP_NET_ADMIN);
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
		error("capabilities other than CAP_NET_ADMIN survived the "
		    "drop");
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		error("could regain root after the drop");
		return -1;
	}
	return 0;
}

int
knockd_sandbox_drop(uid_t uid, gid_t gid)
{
	int r;

	capng_clear(CAPNG_SELECT_ALL);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_BOUNDING_SET, CAP_NET_ADMIN);
	if (geteuid() == 0) {
		r = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP |
		    CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
		if (r != 0) {
			error("capng_change_id(%u, %u) failed: %d",
			    (unsigned int)uid, (unsigned int)gid, r);
			return -1;
		}
	} else {
		/* Not root: uid is ours; the bounding set needs CAP_SETPCAP. */
		uid = geteuid();
		if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
			error("cannot keep only CAP_NET_ADMIN (start knockd "
			    "as root, or as User with CAP_NET_ADMIN)");
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return check_drop(uid);
}
