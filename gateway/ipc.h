/*
 * ipc: the typed messages between a session child and the master.
 *
 * Transport: one SOCK_SEQPACKET socketpair per child; one datagram is one
 * message of at most IPC_MSG_MAX bytes; an fd may ride along (SCM_RIGHTS)
 * on IPC_CONNECT_ANS only.  Encoding: a u32 type, then the fields of that
 * type in order -- u32/u64 big-endian, strings and blobs as a u32 length
 * and bytes -- and nothing after them.  Strings never contain NUL and have
 * a per-field maximum.  The wire format is in docs/PROTOCOL.ipc.
 *
 * The master trusts nothing a child sends: every message is decoded by
 * the functions here (never cast from bytes), and ipc_allowed() says
 * whether its type may arrive in the child's current phase.  A message that
 * fails either check ends that child.
 */
#ifndef RAMPART_IPC_H
#define RAMPART_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MSG_MAX		8192
#define IPC_USER_MAX		64	/* longer names are refused as such */
#define IPC_HOST_MAX		255
#define IPC_REASON_MAX		256
#define IPC_TEXT_MAX		4096	/* log lines, shell text */
#define IPC_KEY_MAX		4096
#define IPC_CODE_MAX		16
#define IPC_VERSION_MAX		255	/* client version string */
#define IPC_WHAT_MAX		32
#define IPC_ADDR_MAX		64
#define IPC_DNS_MAX		4096	/* one DNS message, query or answer */

enum ipc_type {
	/* child -> master */
	IPC_LOG = 1,		/* any phase */
	IPC_CLIENT_INFO,	/* PREAUTH, at most once */
	IPC_AUTH_PUBKEY,	/* PREAUTH */
	IPC_AUTH_TOTP,		/* TOTP */
	IPC_AUTH_FAILED,	/* PREAUTH, TOTP */
	IPC_CONNECT,		/* AUTHED */
	IPC_CHANNEL_CLOSE,	/* AUTHED */
	IPC_REFUSED,		/* AUTHED */
	/* master -> child */
	IPC_AUTH_ANS,		/* answers AUTH_PUBKEY and AUTH_TOTP */
	IPC_CONNECT_ANS,	/* answers CONNECT; carries the fd if ok */
	/* child -> master (sshuttle; numbered after the older types) */
	IPC_SHUTTLE_START,	/* AUTHED */
	IPC_DNS_REQ,		/* AUTHED */
	/* master -> child */
	IPC_SHUTTLE_ANS,	/* answers SHUTTLE_START */
	IPC_DNS_ANS,		/* answers DNS_REQ */
	IPC_TYPE_MAX
};

/* The master's view of a child; a child cannot move it, only the master. */
enum ipc_phase {
	IPC_PHASE_PREAUTH = 0,	/* no key accepted yet */
	IPC_PHASE_TOTP,		/* key accepted, code outstanding */
	IPC_PHASE_AUTHED,	/* both factors (or key-only account) done */
};

/* What asked for a connection (IPC_CONNECT.via). */
enum ipc_via {
	IPC_VIA_DIRECT_TCPIP = 0,	/* an SSH direct-tcpip channel */
	IPC_VIA_SSHUTTLE = 1,		/* an sshuttle session's TCP_CONNECT */
};

enum ipc_auth_result {
	IPC_AUTH_DENY = 0,
	IPC_AUTH_OK = 1,	/* fully authenticated */
	IPC_AUTH_PARTIAL = 2,	/* key accepted; TOTP code needed next */
	IPC_AUTH_PROBE_OK = 3,	/* key would be accepted (no signature yet) */
};

struct ipc_log {
	uint32_t	level;		/* enum log_level */
	char		text[IPC_TEXT_MAX + 1];
};

struct ipc_client_info {
	char		version[IPC_VERSION_MAX + 1];
};

struct ipc_auth_pubkey {
	char		user[IPC_USER_MAX + 1];
	uint32_t	probe;		/* 1: no signature yet (PK_OK query) */
	uint8_t		key[IPC_KEY_MAX];	/* public key wire blob */
	size_t		keylen;
};

struct ipc_auth_totp {
	char		user[IPC_USER_MAX + 1];
	char		code[IPC_CODE_MAX + 1];
};

struct ipc_auth_failed {
	char		user[IPC_USER_MAX + 1];
	char		method[IPC_WHAT_MAX + 1];
	char		reason[IPC_REASON_MAX + 1];
};

struct ipc_connect {
	uint32_t	chan;		/* child's channel id */
	char		host[IPC_HOST_MAX + 1];
	uint32_t	port;		/* 1..65535, checked by decoder */
	char		orig_host[IPC_HOST_MAX + 1];	/* "" for sshuttle */
	uint32_t	orig_port;	/* 0..65535; 0 for sshuttle */
	uint32_t	via;		/* enum ipc_via */
};

struct ipc_channel_close {
	uint32_t	chan;
	uint64_t	bytes_up;	/* client -> destination */
	uint64_t	bytes_down;	/* destination -> client */
	uint64_t	duration_ms;
};

struct ipc_refused {
	char		what[IPC_WHAT_MAX + 1];		/* "shell", "pty" */
	char		detail[IPC_REASON_MAX + 1];
};

struct ipc_shuttle_start {
	uint32_t	verbosity;	/* the client's -v count, as it said */
	uint32_t	assembler_len;	/* N: its bootstrap assembler's bytes */
	char		form[IPC_WHAT_MAX + 1];	/* "sh", "python", "cmd", ... */
};

struct ipc_dns_req {
	uint32_t	chan;		/* the sshuttle channel of the query */
	uint8_t		query[IPC_DNS_MAX];	/* 1..IPC_DNS_MAX bytes */
	size_t		querylen;
};

struct ipc_auth_ans {
	uint32_t	result;		/* enum ipc_auth_result */
	char		reason[IPC_REASON_MAX + 1];
	/* Meaningful only with IPC_AUTH_OK: */
	uint32_t	max_channels;
	uint32_t	idle_timeout;		/* seconds */
	uint32_t	max_session_time;	/* seconds */
	char		shell_text[IPC_TEXT_MAX + 1];	/* for 'shell' */
};

struct ipc_connect_ans {
	uint32_t	chan;
	uint32_t	ok;		/* 1: an fd is attached */
	char		reason[IPC_REASON_MAX + 1];	/* why not, if !ok */
	char		addr[IPC_ADDR_MAX + 1];	/* connected address, if ok */
	uint32_t	port;
};

struct ipc_shuttle_ans {
	uint32_t	dns_allowed;	/* 0..1 */
	char		routes[IPC_TEXT_MAX + 1];	/* ROUTES payload */
};

struct ipc_dns_ans {
	uint32_t	chan;
	uint32_t	ok;		/* 0..1 */
	uint8_t		answer[IPC_DNS_MAX];	/* 0..IPC_DNS_MAX bytes */
	size_t		answerlen;
	char		reason[IPC_REASON_MAX + 1];	/* why not, if !ok */
};

struct ipc_msg {
	uint32_t	type;		/* enum ipc_type */
	union {
		struct ipc_log			log;
		struct ipc_client_info		client_info;
		struct ipc_auth_pubkey		auth_pubkey;
		struct ipc_auth_totp		auth_totp;
		struct ipc_auth_failed		auth_failed;
		struct ipc_connect		connect;
		struct ipc_channel_close	channel_close;
		struct ipc_refused		refused;
		struct ipc_auth_ans		auth_ans;
		struct ipc_connect_ans		connect_ans;
		struct ipc_shuttle_start	shuttle_start;
		struct ipc_dns_req		dns_req;
		struct ipc_shuttle_ans		shuttle_ans;
		struct ipc_dns_ans		dns_ans;
	} u;
};

/*
 * Encode m into buf (IPC_MSG_MAX bytes).  Strings longer than their field
 * maximum are an error, never silently cut.  Returns the length, or -1.
 */
int	ipc_encode(const struct ipc_msg *m, uint8_t *buf, size_t buflen);

/*
 * Decode one whole message.  Returns 0, or -1 for anything malformed:
 * unknown type, short or trailing bytes, over-long or NUL-containing
 * strings, out-of-range ports or enum values.
 */
int	ipc_decode(const uint8_t *buf, size_t len, struct ipc_msg *m);

/*
 * 1 if a message of this type may come from a child in this phase.  No
 * state: "at most once" (IPC_CLIENT_INFO) is the caller's to track.
 */
int	ipc_allowed(enum ipc_phase phase, uint32_t type);

/* Name of a type for logs ("connect"), "unknown" if out of range. */
const char *ipc_type_name(uint32_t type);

/*
 * Send one message, with fd attached if fd >= 0; the caller keeps fd and
 * closes it.  Blocking semantics of the socket apply (the child's socket
 * is blocking, the master's is not).  Returns 0, or -1 with errno set
 * (EMSGSIZE if it cannot be encoded; EINVAL unless an fd is given for,
 * and only for, IPC_CONNECT_ANS with ok = 1).
 */
int	ipc_send(int sock, const struct ipc_msg *m, int fd);

/*
 * Receive and decode one message.  *fd is set to a received descriptor
 * (close-on-exec) or -1.  A truncated datagram, more than one fd, or an
 * fd on a type that must not carry one is an error (any received fds are
 * closed).  Returns 1 for a message, 0 on orderly EOF (or an empty
 * datagram, which SOCK_SEQPACKET cannot tell from it), -1 on error (errno
 * EAGAIN when a non-blocking socket has nothing; EBADMSG if malformed).
 */
int	ipc_recv(int sock, struct ipc_msg *m, int *fd);

#endif /* RAMPART_IPC_H */
