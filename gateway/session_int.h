/*
 * session_int: the child's state, shared by session.c (setup, auth, main
 * loop), session_chan.c (channel requests) and pump.c (moving bytes).
 */
#ifndef RAMPART_SESSION_INT_H
#define RAMPART_SESSION_INT_H

#include <stdint.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "ipc.h"
#include "session.h"

#define PUMP_BUF	(256 * 1024)	/* per direction, per channel */

enum chan_kind { CHAN_DIRECT, CHAN_SESSION };

struct shuttle;

struct chan {
	struct chan	*next;
	struct sess	*sess;
	uint32_t	 id;
	enum chan_kind	 kind;
	ssh_channel	 ch;
	struct ssh_channel_callbacks_struct cb;
	int		 fd;		/* destination socket, or -1 */
	short		 armed;		/* events registered in the event */
	/* channel -> destination: bytes taken from libssh, not yet sent */
	uint8_t		*spill;
	size_t		 spill_off, spill_len, spill_cap;
	uint64_t	 topup_mark;	/* c->up at the last window top-up */
	size_t		 unconsumed;	/* still inside libssh's buffer */
	/* destination -> channel: bytes read, not yet written */
	uint8_t		*tx;
	size_t		 tx_off, tx_len;
	int		 ch_eof;	/* client sent EOF or CLOSE */
	int		 ch_closed;	/* client sent CLOSE */
	int		 fd_eof;	/* destination closed its side */
	int		 eof_sent;	/* we sent EOF to the client */
	int		 shut_wr;	/* we shut down the destination */
	int		 dead;		/* free after the current dopoll */
	int		 shell;		/* shell asked: print text, exit 1 */
	size_t		 shell_off;	/* how much of the text is written */
	struct shuttle	*shuttle;	/* sshuttle mode (shuttle.h) */
	uint64_t	 up, down;	/* bytes client->dest, dest->client */
	struct timespec	 t0;
};

struct sess {
	ssh_session	 ssh;
	ssh_event	 ev;
	int		 ipc;
	const struct session_args *args;
	struct ssh_server_callbacks_struct scb;
	/* authentication */
	int		 authed;
	int		 key_ok;		/* first factor done */
	int		 prompted;		/* kbd-interactive asked */
	char		 user[IPC_USER_MAX + 1];
	unsigned long	 failures;
	/* limits from the master once authenticated */
	uint32_t	 max_channels;
	uint32_t	 idle_timeout;
	uint32_t	 max_session_time;
	char		 shell_text[IPC_TEXT_MAX + 1];
	/* channels */
	struct chan	*chans;
	size_t		 nchans;
	size_t		 nsub;		/* sshuttle TCP channels at the master */
	uint32_t	 next_id;	/* channel and sub-channel ids */
	time_t		 started, last_active;	/* CLOCK_MONOTONIC s */
	int		 exit_code;		/* enum session_exit, or -1 */
};

/* session.c */
time_t	sess_now(void);
/*
 * Send m and wait for the answer of type want (blocking).  sshuttle
 * answers that arrive meanwhile go to the shuttle code.  0 or -1.
 */
int	sess_ipc_call(struct sess *s, const struct ipc_msg *m, uint32_t want,
	    struct ipc_msg *ans, int *fd, int timeout_ms);
void	sess_ipc_send(struct sess *s, const struct ipc_msg *m);

/* session_chan.c */
void	chan_install_handlers(struct sess *s);
int	chan_message(struct sess *s, ssh_message msg);
void	chan_free(struct sess *s, struct chan *c);
/* IPC_CHANNEL_CLOSE: the master writes the record with these counts. */
void	chan_report_close(struct sess *s, uint32_t id, uint64_t up,
	    uint64_t down, const struct timespec *t0);

/* pump.c */
int	pump_start(struct sess *s, struct chan *c, int fd);
void	pump_service(struct sess *s, struct chan *c);
int	pump_data_cb(ssh_session session, ssh_channel channel, void *data,
	    uint32_t len, int is_stderr, void *userdata);
void	pump_eof_cb(ssh_session session, ssh_channel channel, void *userdata);
void	pump_close_cb(ssh_session session, ssh_channel channel,
	    void *userdata);

#endif /* RAMPART_SESSION_INT_H */
