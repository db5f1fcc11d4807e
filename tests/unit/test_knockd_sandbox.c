/*
 * test_knockd_sandbox: the loop's seccomp filter, loaded in a forked child
 * (a filter cannot be unloaded).  What knockd needs works; sending or
 * writing on a descriptor at KNOCKD_SANDBOX_UDP_FD or above is refused, so
 * knockd cannot reply; sockets other than netlink are refused with EPERM;
 * exec and ptrace kill the process.
 */
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "knockd_sandbox.h"
#include "log.h"

/* Run fn in a child under the filter; its wait status. */
static int
sandboxed(int (*fn)(void))
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		if (knockd_sandbox_load() != 0)
			_exit(100);
		_exit(fn());
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* A UDP socket moved up like knockd.c moves them, aimed at loopback. */
static int
udp_high(struct sockaddr_in *to)
{
	int fd, hi;

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons(9);
	to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return -1;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, KNOCKD_SANDBOX_UDP_FD);
	close(fd);
	return hi;
}

/* Exit codes name the first check that went wrong. */
static int
child_allowed_and_refused(void)
{
	struct sockaddr_in to;
	int sv[2], fd, nl;
	char c = 'x';

	if ((fd = udp_high(&to)) < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0,
	    sv) != 0)
		return 1;
	if (knockd_sandbox_load() != 0)
		return 2;
	/* Below the line: sends and writes work (syslog, the master). */
	if (send(sv[0], &c, 1, 0) != 1 || write(sv[0], &c, 1) != 1 ||
	    read(sv[1], &c, 1) != 1)
		return 3;
	/* The UDP socket: nothing goes out, whatever the call. */
	if (sendto(fd, &c, 1, 0, (struct sockaddr *)&to, sizeof(to)) != -1 ||
	    errno != EPERM)
		return 4;
	if (write(fd, &c, 1) != -1 || errno != EPERM)
		return 5;
	/* New sockets: netlink only. */
	if (socket(AF_INET, SOCK_DGRAM, 0) != -1 || errno != EPERM)
		return 6;
	if (socket(AF_UNIX, SOCK_DGRAM, 0) != -1 || errno != EPERM)
		return 7;
	if ((nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_NETFILTER)) < 0)
		return 8;
	close(nl);
	/* An unforeseen call fails; it does not kill. */
	if (connect(sv[0], (struct sockaddr *)&to, sizeof(to)) != -1 ||
	    errno != EPERM)
		return 9;
	return 0;
}

static int
child_exec(void)
{
	char *argv[] = { "/bin/true", NULL };

	execv(argv[0], argv);
	return 1;
}

static int
child_ptrace(void)
{
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 1;
}

static int
child_setuid(void)
{
	/* Reaching the return means the call came back: wrong. */
	return setuid(getuid()) == 0 ? 1 : 2;
}

static void
test_allowed_and_refused(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	/* Load inside the child itself, after its sockets exist. */
	if ((pid = fork()) == 0)
		_exit(child_allowed_and_refused());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("child: status %#x (exit %d)", st, WEXITSTATUS(st));
}

static void
test_killed(void **state)
{
	int st;

	(void)state;
	st = sandboxed(child_exec);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = sandboxed(child_ptrace);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = sandboxed(child_setuid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_and_refused),
		cmocka_unit_test(test_killed),
	};

	log_init("test_knockd_sandbox", 1, LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
