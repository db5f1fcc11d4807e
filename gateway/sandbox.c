/*
 * sandbox: libseccomp allow-lists for the session child and the master.
 * Syscall sets were measured with strace on Debian 12 (glibc 2.36,
 * libssh 0.10.6 with OpenSSL 3) and follow OpenSSH's
 * sandbox-seccomp-filter.c where the two overlap.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"

/* Plain allow-list shared by both processes. */
static const int common_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(close), SCMP_SYS(shutdown), SCMP_SYS(brk),
	SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(futex), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(alarm), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(lseek), SCMP_SYS(sigaltstack),
};

/* Calls the child may not make but libc may try: fail, do not kill. */
static const int soft_denied[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(stat),
	SCMP_SYS(lstat), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
};

/* The master needs these in addition. */
static const int master_calls[] = {
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(accept4), SCMP_SYS(socket),
	SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(socketpair), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(fcntl),
	SCMP_SYS(ioctl), SCMP_SYS(clone), SCMP_SYS(wait4), SCMP_SYS(kill),
	SCMP_SYS(signalfd4), SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(rt_sigaction),
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(stat), SCMP_SYS(statx),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
	SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(ftruncate), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(getdents64), SCMP_SYS(uname),
	SCMP_SYS(sysinfo), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getppid),
	SCMP_SYS(prlimit64), SCMP_SYS(setrlimit), SCMP_SYS(prctl),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(dup),
	SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(pipe2), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(readlink), SCMP_SYS(umask), SCMP_SYS(setitimer),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(seccomp), SCMP_SYS(getcwd), SCMP_SYS(close_range),
};

/* Turning a compromised master into control of the host: kill. */
static const int master_fatal[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
	SCMP_SYS(chroot), SCMP_SYS(setns), SCMP_SYS(unshare),
	SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module), SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
	SCMP_SYS(userfaultfd), SCMP_SYS(keyctl), SCMP_SYS(add_key),
	SCMP_SYS(request_key), SCMP_SYS(io_uring_setup),
	SCMP_SYS(personality), SCMP_SYS(setuid), SCMP_SYS(setgid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setreuid),
	SCMP_SYS(setregid), SCMP_SYS(setgroups), SCMP_SYS(capset),
};

static int
add_all(scmp_filter_ctx ctx, uint32_t action, const int *calls, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		/* A call this architecture lacks resolves negative: skip. */
		if (calls[i] < 0)
			continue;
		if ((r = seccomp_rule_add(ctx, action, calls[i], 0)) != 0) {
			error("seccomp_rule_add %d: %s", calls[i],
			    strerror(-r));
			return -1;
		}
	}
	return 0;
}

/* mmap and mprotect only without PROT_EXEC: no new code, ever. */
static int
add_noexec_mem(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		return -1;
	return 0;
}

/* fcntl F_GETFL/F_SETFL/F_GETFD (libssh toggles O_NONBLOCK). */
static int
add_child_fd_ops(scmp_filter_ctx ctx)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_GETFL)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_SETFL)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_GETFD)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP),
	    SCMP_A2(SCMP_CMP_EQ, TCP_NODELAY)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	    SCMP_A2(SCMP_CMP_EQ, SO_ERROR)) != 0)
		return -1;
	return 0;
}

int
sandbox_child(void)
{
	scmp_filter_ctx ctx;
	int r = -1;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		error("seccomp_init failed");
		return -1;
	}
	if (add_all(ctx, SCMP_ACT_ALLOW, common_calls,
	    sizeof(common_calls) / sizeof(common_calls[0])) != 0 ||
	    add_all(ctx, SCMP_ACT_ERRNO(EACCES), soft_denied,
	    sizeof(soft_denied) / sizeof(soft_denied[0])) != 0 ||
	    add_noexec_mem(ctx) != 0 || add_child_fd_ops(ctx) != 0) {
		error("cannot build the session filter");
		goto out;
	}
	if ((r = seccomp_load(ctx)) != 0) {
		error("seccomp_load: %s", strerror(-r));
		r = -1;
	}
 out:
	seccomp_release(ctx);
	return r;
}

int
sandbox_master(void)
{
	scmp_filter_ctx ctx;
	int r = -1;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		error("seccomp_init failed");
		return -1;
	}
	if (add_all(ctx, SCMP_ACT_ALLOW, common_calls,
	    sizeof(common_calls) / sizeof(common_calls[0])) != 0 ||
	    add_all(ctx, SCMP_ACT_ALLOW, master_calls,
	    sizeof(master_calls) / sizeof(master_calls[0])) != 0 ||
	    add_all(ctx, SCMP_ACT_KILL_PROCESS, master_fatal,
	    sizeof(master_fatal) / sizeof(master_fatal[0])) != 0 ||
	    add_noexec_mem(ctx) != 0 ||
	    /* glibc falls back to clone when clone3 says ENOSYS. */
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0) != 0) {
		error("cannot build the master filter");
		goto out;
	}
	if ((r = seccomp_load(ctx)) != 0) {
		error("seccomp_load: %s", strerror(-r));
		r = -1;
	}
 out:
	seccomp_release(ctx);
	return r;
}
