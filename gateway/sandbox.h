/*
 * sandbox: seccomp filters for the gateway's two kinds of process.
 *
 * The session child parses every untrusted SSH byte, so its filter is an
 * allow-list with the default action "kill the process", loaded before key
 * exchange: no open, exec, fork, socket or connect -- only I/O on the fds
 * it already has (the client connection, the IPC socket, and destination
 * sockets the master passes to it), memory without PROT_EXEC, time and
 * randomness.  File lookups libc may try are answered EACCES so they fail
 * gracefully rather than kill.
 *
 * The master parses nothing from the network but IPC records, and must not
 * die on an unforeseen library path (that would take the whole bastion
 * down), so its allow-list answers unknown calls with EPERM, while the
 * calls that would turn a compromise into control of the host -- exec,
 * ptrace, mounts, namespaces, module loading, bpf -- kill it.
 *
 * Filters are inherited across fork and stack: a child runs under both.
 */
#ifndef RAMPART_SANDBOX_H
#define RAMPART_SANDBOX_H

/* Load the session child's filter.  0, or -1 (the child must then exit). */
int	sandbox_child(void);

/* Load the master's filter after privileges are dropped.  0 or -1. */
int	sandbox_master(void);

#endif /* RAMPART_SANDBOX_H */
