/*
 * master_int: the master's state, shared by master.c (processes, signals,
 * reload) and monitor.c (answering children).
 */
#ifndef RAMPART_MASTER_INT_H
#define RAMPART_MASTER_INT_H

#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "audit.h"
#include "broker.h"
#include "ipc.h"
#include "knock_bind.h"
#include "master.h"
#include "srclimit.h"
#include "totp.h"

enum evkind { EV_LISTENER, EV_SIGNAL, EV_BROKER, EV_CHILD, EV_KNOCK };

struct evsrc {
	enum evkind	 kind;
	int		 fd;
	void		*p;
};

/* A forwarded channel as the master knows it, for the audit record. */
struct mchan {
	struct mchan	*next;
	struct child	*c;
	uint32_t	 id;
	int		 pending;	/* broker request outstanding */
	uint64_t	 req;		/* broker request id */
	char		 host[IPC_HOST_MAX + 1];
	unsigned int	 port;
	char		 ip[ADDR_STRLEN];	/* connected address */
	uint32_t	 via;		/* enum ipc_via: the channel type */
};

/* A DNS query relayed for an sshuttle session, until it is answered. */
struct mdns {
	struct mdns	*next;
	struct child	*c;
	uint32_t	 chan;		/* the child's sshuttle channel */
	uint64_t	 req;		/* broker DNS request id */
};

/* A token bucket: tokens in thousandths, refilled by the millisecond. */
struct tbucket {
	uint64_t	 milli;
	uint64_t	 last_ms;	/* monotonic; 0: never used, full */
};

struct child {
	struct child	*next;
	struct master	*m;
	struct evsrc	 ev;
	pid_t		 pid;
	int		 ipc;
	enum ipc_phase	 phase;
	struct addr	 peer;
	unsigned int	 peer_port;
	char		 peer_str[ADDR_STRLEN];
	char		 user[IPC_USER_MAX + 1];	/* once a key is accepted */
	char		 session_id[17];
	char		 client_version[IPC_VERSION_MAX + 1];
	int		 got_client_info;
	unsigned long	 auth_failures;
	time_t		 started;		/* monotonic */
	struct timespec	 started_real;
	struct mchan	*chans;		/* list */
	size_t		 nchans;
	int		 knocked;	/* knock_id holds the binding used */
	uint8_t		 knock_id[16];
	int		 killed;		/* we killed it: say why */
	char		 kill_reason[64];
	/* sshuttle (master_shuttle.c) */
	unsigned int	 shuttles;	/* IPC_SHUTTLE_START seen */
	struct mdns	*dns;		/* outstanding DNS queries */
	size_t		 ndns;
	struct tbucket	 dns_rate;	/* queries */
	struct tbucket	 dns_audit;	/* refusal records */
	uint64_t	 dns_relayed;	/* answered by the resolver */
	uint64_t	 dns_failed;	/* the resolver failed */
	uint64_t	 dns_refused;	/* refused by the gateway */
	uint64_t	 dns_unrecorded;	/* refusals not audited */
};

struct master {
	struct master_setup	*ms;
	struct config		 conf;
	struct policy		*pol;
	struct broker		*broker;
	struct srclimit		*src;
	struct audit		*audit;
	int			 audit_failed;	/* refuse new sessions */
	struct totp_secrets	*secrets;
	struct totp_state	*tstate;	/* NULL: TOTP cannot be checked */
	int			 epfd;
	struct evsrc		 sig_ev, broker_ev;
	struct evsrc		 lst_ev[CONFIG_MAX_LISTEN * 2];
	struct child		*children;
	size_t			 nchildren;
	struct child		*dead;		/* reaped, freed after the batch */
	int			 stopping;
	struct evsrc		 knock_ev;	/* KnockBindSocket */
	struct knock_bind_table	*knock;		/* NULL: no socket */
	time_t			 knock_expired;	/* last sweep, monotonic */
};

/* master.c */
time_t	master_now(void);
void	master_kill_child(struct master *m, struct child *c,
	    const char *why);
/* Penalise the child's source (enum srclimit_offence) and audit it. */
void	master_penalise(struct master *m, struct child *c, int offence,
	    const char *why);

/* The clock the second factor is checked against (test builds can shift
 * it, so lockouts can be tested without waiting). */
time_t	master_totp_now(void);

/* monitor.c */
void	monitor_read(struct master *m, struct child *c);
/* Send a message to the child; a child that cannot take it is killed. */
void	monitor_answer(struct master *m, struct child *c,
	    const struct ipc_msg *msg, int fd);
void	monitor_child_gone(struct master *m, struct child *c);
/* Start an audit record with the session's common fields. */
void	monitor_audit_begin(struct master *m, struct child *c,
	    struct audit_rec *r, const char *action, const char *outcome);
void	monitor_audit_write(struct master *m, struct audit_rec *r);

/* master_shuttle.c */
void	master_shuttle_start(struct master *m, struct child *c,
	    const struct ipc_shuttle_start *a);
void	master_shuttle_dns(struct master *m, struct child *c,
	    const struct ipc_dns_req *a);
/* The child is gone: forget its outstanding DNS queries. */
void	master_shuttle_gone(struct master *m, struct child *c);
/* The DNS counts for the session's connection-close record. */
void	master_shuttle_summary(const struct child *c, struct audit_rec *r);
/* 1 if the bucket had a token (taken), at rate per second up to burst. */
int	tbucket_take(struct tbucket *tb, uint64_t now_ms, unsigned int rate,
	    unsigned int burst);

/* master_knock.c */
int	master_knock_start(struct master *m);
void	master_knock_stop(struct master *m);
void	master_knock_read(struct master *m);
void	master_knock_check_policy(struct master *m);
const char *master_knock_refusal(struct master *m, struct child *c,
	    const struct policy_user *u, char *buf, size_t len);

#endif /* RAMPART_MASTER_INT_H */
