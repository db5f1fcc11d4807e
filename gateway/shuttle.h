/*
 * shuttle: an sshuttle server inside the session child, in C.
 *
 * A session channel whose exec request is sshuttle's bootstrap command
 * (shuttle_exec.h) becomes an sshuttle session: the Python the client
 * streams is swallowed unread (shuttle_boot.h), then the gateway speaks
 * sshuttle's mux itself (docs/PROTOCOL.sshuttle).  Every TCP_CONNECT goes
 * to the master as an IPC_CONNECT (via sshuttle) exactly like a
 * direct-tcpip open, and every DNS_REQ as an IPC_DNS_REQ; both answers
 * arrive asynchronously, so one slow connect never stalls the others.
 *
 * The module owns nothing outside its channel: session.c calls
 * shuttle_service() after every ssh_event_dopoll() and hands it the IPC
 * answers that belong to it; session_chan.c calls shuttle_start() from the
 * exec request and shuttle_free() when the channel goes.
 */
#ifndef RAMPART_SHUTTLE_H
#define RAMPART_SHUTTLE_H

#include <stddef.h>

struct sess;
struct chan;
struct shuttle;
struct ipc_msg;

/*
 * The exec request on session channel c asked for command[0..len).  If it
 * is sshuttle's, tell the master, switch c to sshuttle mode and return 0
 * (the caller answers success).  Otherwise return -1 with a reason in
 * why[0..whylen) for the audit record: the caller refuses the request.
 */
int	shuttle_start(struct sess *s, struct chan *c, const char *command,
	    size_t len, char *why, size_t whylen);

/*
 * When shuttle_service() must run even if nothing happens (CLOCK_MONOTONIC
 * seconds, sess_now()): the bootstrap's time limit, the end's flush
 * limit, now while a batch of client bytes waits; far away otherwise.
 */
long long shuttle_deadline(const struct shuttle *sh);

/* Move bytes, open and close sub-channels; outside ssh_event_dopoll. */
void	shuttle_service(struct sess *s, struct chan *c);

/*
 * An IPC_CONNECT_ANS or IPC_DNS_ANS from the master.  Returns 1 if it
 * belongs to an sshuttle sub-channel of this session (the fd, if any, is
 * then taken), 0 if not (the caller still owns m and fd).  Safe inside
 * ssh_event_dopoll: it only records the answer and queues frames.
 */
int	shuttle_ipc_answer(struct sess *s, const struct ipc_msg *m, int fd);

/* Close every sub-channel (each reported to the master) and free. */
void	shuttle_free(struct sess *s, struct chan *c);

#endif /* RAMPART_SHUTTLE_H */
