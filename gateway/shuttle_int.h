/*
 * shuttle_int: state of one sshuttle session, shared by shuttle.c (the
 * session: bootstrap, mux input, control frames, output, flow control,
 * ending) and shuttle_chan.c (the sub-channels: TCP to a destination
 * socket, DNS through the master).
 *
 * Buffers, all bounded:
 *   rx   client bytes taken out of libssh, not yet parsed (SH_RX_CAP);
 *        while rx is full the rest stays in libssh and the SSH window
 *        stops the client.
 *   up   per TCP sub-channel, client -> destination bytes the socket did
 *        not take yet (or that arrived before the connect finished).
 *        Over SH_UP_CAP no more client frames are parsed at all;
 *        over SH_UP_LOW the PONG to the client's "rttest" is held back,
 *        which makes the client itself stop queueing data.
 *   out  frames for the client not yet accepted by ssh_channel_write
 *        (rekey, window).  Destinations are read only while it is below
 *        SH_OUT_SOFT; control frames may go past it, bounded by the
 *        parser stopping too.
 */
#ifndef RAMPART_SHUTTLE_INT_H
#define RAMPART_SHUTTLE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ipc.h"
#include "session_int.h"
#include "shuttle.h"
#include "shuttle_boot.h"
#include "shuttle_frame.h"

#define SH_RX_CAP	(256 * 1024)
#define SH_UP_CAP	(256 * 1024)
#define SH_UP_LOW	(64 * 1024)
#define SH_OUT_SOFT	(256 * 1024)
#define SH_READ_MAX	SHUTTLE_PAYLOAD_MAX	/* one destination read */
#define SH_BULK		(64 * 1024)	/* sent by then: batch its sends */
#define SH_SEND_BATCH	(32 * 1024)	/* below SH_UP_LOW */
#define SH_DEFER_TURNS	8		/* loop turns a batch may wait */
#define SH_DNS_PENDING	16		/* = the master's limit (PROTOCOL.ipc) */
#define SH_BOOT_SECS	30		/* whole bootstrap */
#define SH_END_SECS	5		/* to flush what is queued at the end */
#define SH_STDERR_LINES	64		/* refusal notes per session */
#define SH_LATENCY_MIN	32768		/* sshuttle's latency_buffer_size */
#define SH_CHANNELS	65536		/* sshuttle channel numbers */

enum sh_state {
	SH_BOOT,	/* swallowing the bootstrap */
	SH_MUX,		/* serving frames */
	SH_ENDING,	/* flushing, then exit-status, EOF, CLOSE */
	SH_DONE,	/* the channel is being freed */
};

enum shc_kind { SHC_TCP, SHC_DNS };

/* One sshuttle channel: a TCP connection or a DNS query. */
struct shchan {
	struct shchan	*next;
	struct shuttle	*sh;
	enum shc_kind	 kind;
	uint16_t	 no;		/* the client's channel number */
	int		 attached;	/* sh->byno[no] points here */
	uint32_t	 id;		/* session-wide id (IPC) */
	int		 pending;	/* IPC question without an answer */
	int		 opened;	/* the master holds it open: report */
	int		 fd;		/* destination, or -1 */
	short		 armed;		/* events registered */
	int		 readable;	/* POLLIN seen, not read yet */
	/* the two flags of docs/PROTOCOL.sshuttle 3.5 */
	int		 rd;		/* the client sends no more data */
	int		 wr;		/* we send no more data */
	int		 client_eof;	/* shut the destination when drained */
	int		 shut_wr;	/* done */
	int		 fd_eof;	/* the destination closed or failed */
	int		 over_low, over_cap;	/* counted in sh */
	unsigned int	 defers;	/* turns its batch has waited */
	int		 wblocked;	/* the socket took less: wait POLLOUT */
	uint8_t		*up;
	size_t		 up_off, up_len, up_cap;
	uint64_t	 bytes_up, bytes_down;
	struct timespec	 t0;
	char		 dst[IPC_ADDR_MAX + 8];	/* "ip:port", for notes */
};

struct shuttle {
	struct sess	*s;
	struct chan	*c;
	enum sh_state	 state;
	int		 exit_status;
	struct shuttle_boot *boot;
	time_t		 boot_deadline;
	time_t		 end_deadline;	/* SH_ENDING: give up flushing */
	uint32_t	 dns_allowed;
	char		 routes[IPC_TEXT_MAX + 1];
	/* input */
	uint8_t		*rx;
	size_t		 rx_off, rx_len;
	size_t		 unconsumed;	/* still in libssh's buffer */
	int		 fresh;		/* client data in this loop turn */
	int		 deferred;	/* a batch waits: next turn at once */
	/* output */
	uint8_t		*out;
	size_t		 out_off, out_len, out_cap;
	/* latency control, both ways (PROTOCOL.sshuttle 3.9) */
	size_t		 fullness;	/* bytes queued since the last PONG */
	int		 too_full;	/* our "rttest" is out */
	int		 pong_held;	/* the client's rttest, unanswered */
	uint16_t	 held_chan;
	size_t		 held_len;
	uint8_t		 held[64];
	/* sub-channels */
	struct shchan	**byno;		/* SH_CHANNELS slots */
	struct shchan	*subs;		/* all, attached or not */
	struct shchan	*rr;		/* next to read (round robin) */
	size_t		 ndns;
	size_t		 nover_low, nover_cap;
	int		 udp_noted;
	unsigned int	 notes;		/* stderr lines written */
	/* stderr text not yet written */
	char		 err[512];
	size_t		 err_off, err_len;
};

/* shuttle.c */
int	sh_put(struct shuttle *sh, unsigned int chan, unsigned int cmd,
	    const void *payload, size_t len);
void	sh_note(struct shuttle *sh, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	sh_fail(struct shuttle *sh, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	sh_out_room(struct shuttle *sh, size_t need);
int	sh_can_read(struct shuttle *sh);

/* shuttle_chan.c */
int	shc_tcp_connect(struct shuttle *sh, uint16_t no, const uint8_t *p,
	    size_t len);
void	shc_tcp_data(struct shuttle *sh, uint16_t no, const uint8_t *p,
	    size_t len);
void	shc_tcp_eof(struct shuttle *sh, uint16_t no);
void	shc_tcp_stop(struct shuttle *sh, uint16_t no);
int	shc_dns_req(struct shuttle *sh, uint16_t no, const uint8_t *p,
	    size_t len);
int	shc_answer(struct shuttle *sh, const struct ipc_msg *m, int fd);
void	shc_service(struct shuttle *sh);
void	shc_arm(struct shuttle *sh);
void	shc_abort_all(struct shuttle *sh);
void	shc_free_all(struct shuttle *sh);
int	shc_orphan_answer(struct sess *s, const struct ipc_msg *m, int fd);
int	shc_refusal(const uint8_t *q, size_t qlen, uint8_t *out, size_t outlen,
	    size_t *written);

#endif /* RAMPART_SHUTTLE_INT_H */
