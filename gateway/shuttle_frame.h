/*
 * shuttle_frame: sshuttle's mux frames and the payloads Rampart reads or
 * writes (docs/PROTOCOL.sshuttle section 3).
 *
 *   offset 0  'S' 'S'
 *   offset 2  channel  u16 big-endian (0 = control)
 *   offset 4  command  u16 big-endian (SHUTTLE_CMD_*)
 *   offset 6  length   u16 big-endian (0..65535)
 *   offset 8  payload
 *
 * Three layers, all free of I/O and of session state:
 *   - shuttle_frame_peek(): pure; is there a whole frame at the start of
 *     this buffer?  For a caller that keeps its own input buffer (e.g. a
 *     libssh data callback that returns how many bytes it used).
 *   - struct shuttle_dec: an incremental decoder for arbitrary chunks.  It
 *     buffers at most one incomplete frame (SHUTTLE_FRAME_MAX bytes) and
 *     hands complete frames to the caller, pointing into the caller's
 *     chunk (no copy) whenever nothing is buffered.
 *   - encoders and strict parsers for the payloads.
 * The decoder checks framing only (magic, length).  Which commands are
 * valid on which channel is the session's business; shuttle_cmd_name()
 * names them for logs.
 */
#ifndef RAMPART_SHUTTLE_FRAME_H
#define RAMPART_SHUTTLE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* The server's first bytes: "\0\0SSHUTTLE0001", in one channel write. */
#define SHUTTLE_SYNC		"\0\0SSHUTTLE0001"
#define SHUTTLE_SYNC_LEN	14

#define SHUTTLE_HDR_LEN		8
#define SHUTTLE_PAYLOAD_MAX	65535
#define SHUTTLE_FRAME_MAX	(SHUTTLE_HDR_LEN + SHUTTLE_PAYLOAD_MAX)

#define SHUTTLE_CMD_EXIT		0x4200
#define SHUTTLE_CMD_PING		0x4201
#define SHUTTLE_CMD_PONG		0x4202
#define SHUTTLE_CMD_TCP_CONNECT		0x4203
#define SHUTTLE_CMD_TCP_STOP_SENDING	0x4204
#define SHUTTLE_CMD_TCP_EOF		0x4205
#define SHUTTLE_CMD_TCP_DATA		0x4206
#define SHUTTLE_CMD_ROUTES		0x4207
#define SHUTTLE_CMD_HOST_REQ		0x4208
#define SHUTTLE_CMD_HOST_LIST		0x4209
#define SHUTTLE_CMD_DNS_REQ		0x420a
#define SHUTTLE_CMD_DNS_RESPONSE	0x420b
#define SHUTTLE_CMD_UDP_OPEN		0x420c
#define SHUTTLE_CMD_UDP_DATA		0x420d
#define SHUTTLE_CMD_UDP_CLOSE		0x420e

/* Errors: 0 is success; these are negative.  shuttle_frame_strerror(). */
#define SHUTTLE_FRAME_ERR_MAGIC		-1	/* not starting "SS" */
#define SHUTTLE_FRAME_ERR_SYNTAX	-2	/* payload grammar */
#define SHUTTLE_FRAME_ERR_ADDR		-3	/* IP (for FAMILY) */
#define SHUTTLE_FRAME_ERR_PORT		-4	/* port not 1..65535 */
#define SHUTTLE_FRAME_ERR_SPACE		-5	/* output too small */
#define SHUTTLE_FRAME_ERR_RANGE		-6	/* a field > 65535 */
#define SHUTTLE_FRAME_ERR_ARG		-7	/* caller error */
#define SHUTTLE_FRAME_ERR_NOMEM		-8

/* One decoded frame.  payload is NULL when len is 0. */
struct shuttle_frame {
	uint16_t	 chan;
	uint16_t	 cmd;
	uint16_t	 len;
	const uint8_t	*payload;
};

/*
 * Pure look at buf[0..len): returns 1 if a whole frame starts there (*f
 * filled, payload pointing into buf; it occupies SHUTTLE_HDR_LEN + f->len
 * bytes), 0 if more bytes are needed (the bytes so far are a valid
 * prefix), SHUTTLE_FRAME_ERR_MAGIC if they can never be a frame.  The
 * magic is checked as soon as its first byte is there.
 */
int	shuttle_frame_peek(const void *buf, size_t len,
	    struct shuttle_frame *f);

/* The incremental decoder; it owns one SHUTTLE_FRAME_MAX buffer. */
struct shuttle_dec;

struct shuttle_dec *shuttle_dec_new(void);	/* NULL if out of memory */
void	shuttle_dec_free(struct shuttle_dec *d);	/* NULL is fine */

/*
 * Take the next frame, using bytes buffered by earlier calls first, then
 * buf[0..len).  *used gets how many bytes of buf were consumed.
 *   1  a frame is complete, in *f.  The caller handles it and calls again
 *      with buf + *used, len - *used (possibly 0) for the next one.
 *      f->payload points into buf when the whole frame was in buf and
 *      nothing was buffered (no copy); otherwise into the decoder's
 *      buffer.  Either way it is valid until the next call on d (and, if
 *      in buf, while buf is).
 *   0  all of buf was consumed (*used == len) and is buffered as the start
 *      of a frame; feed more.
 *  <0  SHUTTLE_FRAME_ERR_MAGIC: the stream is broken.  Sticky: every later
 *      call returns it with *used = 0.
 * A caller that must stop reading (flow control) may simply stop calling
 * after any frame: the unconsumed rest of buf is its to keep.
 */
int	shuttle_dec_next(struct shuttle_dec *d, const void *buf, size_t len,
	    size_t *used, struct shuttle_frame *f);

/* Bytes of an incomplete frame held in the decoder (0..FRAME_MAX-1). */
size_t	shuttle_dec_pending(const struct shuttle_dec *d);

/*
 * Write the 8-byte header for a frame into out[0..outlen).  chan and cmd
 * must be <= 0xffff, len <= SHUTTLE_PAYLOAD_MAX (else ERR_RANGE, never a
 * silent truncation); outlen >= SHUTTLE_HDR_LEN (else ERR_SPACE).
 */
int	shuttle_frame_put_hdr(uint8_t *out, size_t outlen, unsigned int chan,
	    unsigned int cmd, size_t len);

/*
 * TCP_CONNECT payload "FAMILY,IP,PORT", the whole payload and nothing
 * else.  FAMILY is 1..5 decimal digits (<= 65535, no sign, no leading
 * zero): 2 means IPv4, any other value IPv6 (the client's AF_INET6 number
 * differs by OS).  IP must pass inet_pton for that family (no zone, no
 * "10.1").  PORT is decimal 1..65535, no leading zero.  An IPv4-mapped
 * IPv6 address is normalised to IPv4 (addr.h).  0 and *dst, *port; or
 * ERR_SYNTAX, ERR_ADDR, ERR_PORT.
 */
int	shuttle_parse_tcp_connect(const uint8_t *p, size_t len,
	    struct addr *dst, unsigned int *port);

/*
 * UDP_DATA payload "IP,PORT,DATA": split at the first two commas, DATA
 * is the rest (may be empty, may hold commas).  IP is IPv4 or IPv6 text
 * (inet_pton), PORT as above.  *data points into p.
 */
int	shuttle_parse_udp_data(const uint8_t *p, size_t len,
	    struct addr *dst, unsigned int *port, const uint8_t **data,
	    size_t *datalen);

/*
 * UDP_OPEN payload "FAMILY" (as TCP_CONNECT's): *af AF_INET for 2,
 * AF_INET6 otherwise.  0 or ERR_SYNTAX.
 */
int	shuttle_parse_udp_open(const uint8_t *p, size_t len, int *af);

/*
 * Write the ROUTES payload for nets[0..n): one "2,A.B.C.D,BITS\n" line per
 * IPv4 network, in order; IPv6 networks are skipped (sshuttle's ROUTES is
 * IPv4 only, and a client would add a family-10 line even with IPv6 off).
 * Writes into out[0..outlen) (no NUL added); at most SHUTTLE_PAYLOAD_MAX
 * bytes are ever used.  0 and *written; ERR_SPACE if the lines do not all
 * fit (nothing useful in out then: never a partial list); ERR_ARG for a
 * network with bits > 32 or host bits set.
 */
int	shuttle_routes_write(const struct addr_net *nets, size_t n,
	    char *out, size_t outlen, size_t *written);

/* "TCP_DATA" etc.; "unknown" for any other value.  Never NULL. */
const char *shuttle_cmd_name(unsigned int cmd);

/* A short text for an error code; never NULL. */
const char *shuttle_frame_strerror(int err);

#endif /* RAMPART_SHUTTLE_FRAME_H */
