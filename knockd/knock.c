/*
 * rampart-knock: send one knock (docs/PROTOCOL.knock section 9), and
 * with --then-connect wait for the door and relay stdin/stdout to it,
 * for "ProxyCommand rampart-knock --then-connect %h %p".
 * See rampart-knock(1).
 *
 * The knock is signed by ssh-agent (the default: the identity that will
 * log in) or with a knock key file, whose secret key is kept in locked
 * memory and wiped at exit.  Nothing is ever read back from knockd: the
 * only way to learn that the door opened is to connect.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "addr.h"
#include "conv.h"
#include "diag.h"
#include "knock_agent.h"
#include "knock_key.h"
#include "spa.h"
#include "textfile.h"

#define KNOCK_PORT_DEFAULT	62022
#define DOOR_PORT_DEFAULT	22
#define WAIT_DEFAULT		10	/* seconds, -w */
#define WAIT_MAX		3600
#define RETRY_MS		250	/* between connect attempts */
#define CONNECT_MS		1000	/* one connect attempt, at most */
#define REKNOCK_MS		3000	/* a fresh knock this often */
#define RELAY_BUF		65536
#define PATH_LEN		4096
#define AGENT_KEYS		64

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
enum { OPT_THEN_CONNECT = 256, OPT_HELP };

struct opts {
	int		 family;	/* AF_UNSPEC, AF_INET, AF_INET6 */
	int		 verbose;
	int		 then_connect;
	char		 serverkey[PATH_LEN];
	char		 user[SPA_USER_MAX + 2];
	char		 identity[PATH_LEN];
	unsigned long	 knockport;	/* 0: not given */
	unsigned long	 port;		/* 0: not given */
	unsigned long	 wait;
	const char	*address;
	const char	*host;
};

/* How the knock is signed. */
struct signer {
	int				 agent_fd;	/* -1: key file */
	uint8_t				 pk[SPA_PK_SIZE];
	struct knock_key_ed25519	*key;		/* locked memory */
};

/* Everything one knock needs. */
struct knock {
	const struct opts	*o;
	uint8_t			 server_pk[SPA_PK_SIZE];
	struct signer		 signer;
	struct addrinfo		*udp;
	uint8_t			 addr_type;
	struct addr		 addr;
	uint16_t		 port;
	int			 sent_af;	/* family the knock went by */
};

static struct knock_key_ed25519 file_key;

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	fputs("rampart-knock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
usage(FILE *f, int code)
{
	fprintf(f, "usage: rampart-knock [-46v] [-S SERVERKEY] [-p KNOCKPORT] "
	    "[-P PORT] [-u USER]\n"
	    "                     [-i IDENTITY] [-a ADDRESS] HOST\n"
	    "       rampart-knock [-46v] [-S SERVERKEY] [-p KNOCKPORT] "
	    "[-u USER] [-i IDENTITY]\n"
	    "                     [-a ADDRESS] [-w SECONDS] --then-connect "
	    "HOST PORT\n");
	return code;
}

/* "~/x" -> "$HOME/x"; anything else is copied.  0 or -1. */
static int
expand_home(const char *in, char *out, size_t len)
{
	const char *home = getenv("HOME");
	int n;

	if (strncmp(in, "~/", 2) == 0 && home != NULL && *home != '\0')
		n = snprintf(out, len, "%s/%s", home, in + 2);
	else
		n = snprintf(out, len, "%s", in);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- options and the configuration file ---- */

static int
port_arg(const char *what, const char *s, unsigned long *out)
{
	char err[128];

	if (conv_uint(s, 1, 65535, out, err, sizeof(err)) != 0) {
		say("%s: %s (1 to 65535)", what, err);
		return -1;
	}
	return 0;
}

static int
copy_arg(const char *what, const char *s, char *dst, size_t len)
{
	if (strlen(s) >= len) {
		say("%s is too long", what);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* One "Keyword value" line; values given on the command line win. */
static int
config_keyword(struct opts *o, const char *kw, const char *val,
    const char *where)
{
	char what[PATH_LEN + 64];

	snprintf(what, sizeof(what), "%s: %s", where, kw);
	if (strcasecmp(kw, "ServerKey") == 0)
		return o->serverkey[0] != '\0' ? 0 :
		    copy_arg(what, val, o->serverkey, sizeof(o->serverkey));
	if (strcasecmp(kw, "User") == 0)
		return o->user[0] != '\0' ? 0 :
		    copy_arg(what, val, o->user, sizeof(o->user));
	if (strcasecmp(kw, "Identity") == 0)
		return o->identity[0] != '\0' ? 0 :
		    copy_arg(what, val, o->identity, sizeof(o->identity));
	if (strcasecmp(kw, "KnockPort") == 0)
		return o->knockport != 0 ? 0 :
		    port_arg(what, val, &o->knockport);
	say("%s: unknown keyword \"%s\" (ServerKey, User, Identity, "
	    "KnockPort)", where, kw);
	return -1;
}

static int
config_parse(struct opts *o, const char *path, const char *buf, size_t len)
{
	char words[TEXTFILE_LINE_MAX + 1], *av[3], err[256], where[PATH_LEN];
	const char *line;
	size_t off = 0, linelen;
	unsigned long lineno = 0;
	int n;

	while (textfile_next(buf, len, &off, &line, &linelen)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%lu", path, lineno);
		n = textfile_words(line, linelen, words, av, 3, 1, err,
		    sizeof(err));
		if (n == 0)
			continue;
		if (n != 2) {
			say("%s: %s", where, n == -1 ? err : "want \"Keyword "
			    "value\"");
			return -1;
		}
		if (config_keyword(o, av[0], av[1], where) != 0)
			return -1;
	}
	return 0;
}

/*
 * $RAMPART_KNOCK_CONFIG (which must exist), else
 * ~/.config/rampart/knock.conf (optional).
 */
static int
config_read(struct opts *o)
{
	const char *env = getenv("RAMPART_KNOCK_CONFIG");
	char path[PATH_LEN], err[256], *buf = NULL;
	size_t len;
	int r;

	if (env != NULL && *env != '\0')
		r = copy_arg("RAMPART_KNOCK_CONFIG", env, path, sizeof(path));
	else {
		r = expand_home("~/.config/rampart/knock.conf", path,
		    sizeof(path));
		if (r != 0 || path[0] == '~' || access(path, F_OK) != 0)
			return 0;
	}
	if (r != 0)
		return -1;
	if (textfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		say("%s: %s", path, err);
		return -1;
	}
	r = config_parse(o, path, buf, len);
	free(buf);
	return r;
}

static int
wait_arg(const char *s, unsigned long *out)
{
	char err[128];

	if (conv_duration(s, WAIT_MAX, out, err, sizeof(err)) != 0) {
		say("-w: %s", err);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "then-connect", no_argument, NULL, OPT_THEN_CONNECT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	int ch, want;

	while ((ch = getopt_long(argc, argv, "46vS:p:P:u:i:a:w:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '4':
			o->family = AF_INET;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'S':
			if (copy_arg("-S", optarg, o->serverkey,
			    sizeof(o->serverkey)) != 0)
				return EXIT_USAGE;
			break;
		case 'p':
			if (port_arg("-p", optarg, &o->knockport) != 0)
				return EXIT_USAGE;
			break;
		case 'P':
			if (port_arg("-P", optarg, &o->port) != 0)
				return EXIT_USAGE;
			break;
		case 'u':
			if (copy_arg("-u", optarg, o->user,
			    sizeof(o->user)) != 0)
				return EXIT_USAGE;
			break;
		case 'i':
			if (copy_arg("-i", optarg, o->identity,
			    sizeof(o->identity)) != 0)
				return EXIT_USAGE;
			break;
		case 'a':
			o->address = optarg;
			break;
		case 'w':
			if (wait_arg(optarg, &o->wait) != 0)
				return EXIT_USAGE;
			break;
		case OPT_THEN_CONNECT:
			o->then_connect = 1;
			break;
		case OPT_HELP:
			exit(usage(stdout, EXIT_OK));
		default:
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (o->wait != 0 && !o->then_connect) {
		say("-w only applies with --then-connect");
		return usage(stderr, EXIT_USAGE);
	}
	want = o->then_connect ? 2 : 1;
	if (argc - optind != want)
		return usage(stderr, EXIT_USAGE);
	o->host = argv[optind];
	if (o->then_connect && port_arg("PORT", argv[optind + 1], &o->port)
	    != 0)
		return EXIT_USAGE;
	return EXIT_OK;
}

/* ---- keys ---- */

/* -S / ServerKey: 44 characters of base64, or a file holding them. */
static int
server_key_load(const char *arg, uint8_t pk[SPA_PK_SIZE])
{
	char path[PATH_LEN], err[KNOCK_KEY_ERR_MAX], safe[80];
	char words[TEXTFILE_LINE_MAX + 1], *buf = NULL, *av[2];
	const char *line;
	size_t len, off = 0, linelen;
	int r = -1;

	if (*arg == '\0') {
		say("no server key: give -S KEY (or a file), or ServerKey in "
		    "~/.config/rampart/knock.conf");
		return -1;
	}
	if (knock_key_parse_pub(arg, strlen(arg), pk, err, sizeof(err)) == 0)
		return 0;
	if (expand_home(arg, path, sizeof(path)) != 0 ||
	    textfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		say("unknown server key \"%s\": neither 44 characters of "
		    "base64 nor a readable file (%s)",
		    diag_safe(arg, strlen(arg), safe, sizeof(safe)), err);
		return -1;
	}
	if (!textfile_next(buf, len, &off, &line, &linelen) ||
	    textfile_words(line, linelen, words, av, 1, 0, err,
	    sizeof(err)) != 1) {
		say("%s: garbled server key file (the first line must be the "
		    "44-character public key)", path);
		goto out;
	}
	if (knock_key_parse_pub(av[0], strlen(av[0]), pk, err,
	    sizeof(err)) != 0) {
		say("%s: garbled %s", path, err);
		goto out;
	}
	r = 0;
out:
	free(buf);
	return r;
}

/* The agent's key to use: want (from a .pub), or its first ed25519 key. */
static int
signer_agent(struct signer *s, const uint8_t *want, const char *pubpath)
{
	static uint8_t keys[AGENT_KEYS][32];
	char err[KNOCK_KEY_ERR_MAX];
	size_t n, i;

	if (knock_agent_connect(getenv("SSH_AUTH_SOCK"), &s->agent_fd, err,
	    sizeof(err)) != 0 ||
	    knock_agent_ed25519_keys(s->agent_fd, keys, AGENT_KEYS, &n, err,
	    sizeof(err)) != 0) {
		say("%s", err);
		return -1;
	}
	if (want == NULL) {
		memcpy(s->pk, keys[0], 32);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (memcmp(keys[i], want, 32) == 0) {
			memcpy(s->pk, want, 32);
			return 0;
		}
	}
	say("the key of %s is not in ssh-agent (add it with ssh-add)",
	    pubpath);
	return -1;
}

/* -i: a .pub names an agent key; anything else is a key file. */
static int
signer_open(struct signer *s, const char *identity)
{
	char path[PATH_LEN], err[KNOCK_KEY_ERR_MAX];
	uint8_t want[32];
	size_t len = strlen(identity);

	s->agent_fd = -1;
	s->key = NULL;
	if (len == 0)
		return signer_agent(s, NULL, NULL);
	if (expand_home(identity, path, sizeof(path)) != 0) {
		say("-i: path too long");
		return -1;
	}
	if (len > 4 && strcmp(identity + len - 4, ".pub") == 0) {
		if (knock_key_pub_read(path, want, err, sizeof(err)) != 0) {
			say("%s", err);
			return -1;
		}
		return signer_agent(s, want, path);
	}
	/* Locked so that the secret never reaches swap; best effort. */
	(void)sodium_mlock(&file_key, sizeof(file_key));
	if (knock_key_openssh_read(path, &file_key, err, sizeof(err)) != 0) {
		say("%s", err);
		return -1;
	}
	s->key = &file_key;
	memcpy(s->pk, file_key.pk, 32);
	return 0;
}

static int
signer_sign(const struct signer *s, const uint8_t *data, size_t len,
    uint8_t sig[SPA_SIG_SIZE])
{
	char err[KNOCK_KEY_ERR_MAX];

	if (s->key != NULL) {
		crypto_sign_detached(sig, NULL, data, len, s->key->sk);
		return 0;
	}
	if (knock_agent_sign(s->agent_fd, s->pk, data, len, sig, err,
	    sizeof(err)) != 0) {
		say("%s", err);
		return -1;
	}
	return 0;
}

static void
signer_close(struct signer *s)
{
	if (s->agent_fd != -1)
		close(s->agent_fd);
	s->agent_fd = -1;
	if (s->key != NULL)
		sodium_munlock(s->key, sizeof(*s->key));	/* and wipes */
	s->key = NULL;
}

/* ---- the knock ---- */

static int
resolve(const char *host, unsigned long port, int family, int socktype,
    struct addrinfo **res)
{
	struct addrinfo hints;
	char serv[8], safe[80];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	snprintf(serv, sizeof(serv), "%lu", port);
	if ((r = getaddrinfo(host, serv, &hints, res)) != 0) {
		say("host \"%s\" does not resolve: %s",
		    diag_safe(host, strlen(host), safe, sizeof(safe)),
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	return 0;
}

/* Send the datagram to the first address that takes it. */
static int
send_knock(struct knock *k, const uint8_t pkt[SPA_SIZE])
{
	struct addrinfo *ai;
	char where[NI_MAXHOST];
	int fd, e = 0;
	ssize_t n;

	for (ai = k->udp; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0))
		    == -1) {
			e = errno;
			continue;
		}
		n = sendto(fd, pkt, SPA_SIZE, 0, ai->ai_addr, ai->ai_addrlen);
		e = errno;
		close(fd);
		if (n == SPA_SIZE) {
			k->sent_af = ai->ai_family;
			if (k->o->verbose && getnameinfo(ai->ai_addr,
			    ai->ai_addrlen, where, sizeof(where), NULL, 0,
			    NI_NUMERICHOST) == 0)
				say("knock sent to %s port %lu", where,
				    k->o->knockport);
			return 0;
		}
	}
	say("cannot send the knock to %s: %s", k->o->host, strerror(e));
	return -1;
}

/* Build, sign, seal and send one fresh knock (section 9). */
static int
knock_once(struct knock *k)
{
	struct spa_inner in;
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE], sig[SPA_SIG_SIZE];
	uint8_t pkt[SPA_SIZE];
	int r = -1;

	memset(&in, 0, sizeof(in));
	in.version = SPA_VERSION;
	in.port = k->port;
	in.timestamp = (uint64_t)time(NULL);
	randombytes_buf(in.nonce, sizeof(in.nonce));
	in.addr_type = k->addr_type;
	in.addr = k->addr;
	memcpy(in.user, k->o->user, sizeof(in.user));
	spa_key_id(k->signer.pk, in.key_id);
	if (spa_encode_signed(&in, k->server_pk, inner, sd) != 0) {
		say("cannot build the knock (bad user, port or address)");
		goto out;
	}
	if (signer_sign(&k->signer, sd, sizeof(sd), sig) != 0)
		goto out;
	if (spa_seal(inner, sig, in.timestamp, k->server_pk, pkt) != 0) {
		say("libsodium failed to seal the knock");
		goto out;
	}
	r = send_knock(k, pkt);
out:
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&in, sizeof(in));
	return r;
}

/* -a: an explicit address; none: the packet's source (the default). */
static int
address_set(struct knock *k, const char *text)
{
	char safe[80];

	k->addr_type = SPA_ADDR_SOURCE;
	memset(&k->addr, 0, sizeof(k->addr));
	if (text == NULL)
		return 0;
	if (addr_parse(text, &k->addr) != 0) {
		say("-a: \"%s\" is not an IPv4 or IPv6 address",
		    diag_safe(text, strlen(text), safe, sizeof(safe)));
		return -1;
	}
	if (!spa_addr_usable(&k->addr)) {
		say("-a: %s cannot be opened (unspecified, loopback, "
		    "link-local, multicast or reserved)", text);
		return -1;
	}
	k->addr_type = k->addr.af == AF_INET ? SPA_ADDR_IPV4 : SPA_ADDR_IPV6;
	return 0;
}

/* ---- --then-connect ---- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One non-blocking connect, waiting at most ms.  The socket or -1. */
static int
connect_one(const struct addrinfo *ai, int ms)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, e;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol)) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, ms) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 &&
		    e == 0)
			return fd;
	}
	close(fd);
	return -1;
}

/*
 * In source mode the door opens for the address the knock came from, so
 * only addresses of the knock's family can get through it.
 */
static int
connect_any(const struct knock *k, const struct addrinfo *tcp, int ms)
{
	const struct addrinfo *ai;
	int fd;

	for (ai = tcp; ai != NULL; ai = ai->ai_next) {
		if (k->addr_type == SPA_ADDR_SOURCE &&
		    ai->ai_family != k->sent_af)
			continue;
		if ((fd = connect_one(ai, ms)) != -1)
			return fd;
	}
	return -1;
}

/*
 * Try to connect every RETRY_MS, knock again every REKNOCK_MS, give up
 * after -w seconds.  The connected socket or -1.
 */
static int
wait_for_door(struct knock *k, const struct addrinfo *tcp)
{
	long long start = now_ms(), deadline, last = start, t, left;
	int fd;

	deadline = start + (long long)k->o->wait * 1000;
	for (;;) {
		t = now_ms();
		left = deadline - t;
		fd = connect_any(k, tcp, (int)(left < CONNECT_MS ? (left > 0 ?
		    left : 1) : CONNECT_MS));
		if (fd != -1)
			return fd;
		if (now_ms() >= deadline)
			break;
		if (now_ms() - last >= REKNOCK_MS) {
			if (knock_once(k) != 0)
				return -1;
			last = now_ms();
		}
		left = t + RETRY_MS - now_ms();
		if (left > deadline - now_ms())
			left = deadline - now_ms();
		if (left > 0)
			poll(NULL, 0, (int)left);
	}
	say("port %lu on %s never opened (waited %lu s)", k->o->port,
	    k->o->host, k->o->wait);
	return -1;
}

/* One direction of the relay. */
struct pipe_dir {
	int	in, out;
	int	eof;		/* in has ended */
	int	done;		/* and everything is written */
	size_t	off, len;
	uint8_t	buf[RELAY_BUF];
};

/* The write side of d ends: half-close a socket, close anything else. */
static void
dir_finish(struct pipe_dir *d)
{
	d->done = 1;
	if (shutdown(d->out, SHUT_WR) != 0 && errno == ENOTSOCK)
		close(d->out);
}

static void
dir_step(struct pipe_dir *d, short revents_in, short revents_out)
{
	ssize_t n;

	if (d->len == 0 && (revents_in & (POLLIN | POLLHUP | POLLERR))) {
		n = read(d->in, d->buf, sizeof(d->buf));
		if (n > 0) {
			d->off = 0;
			d->len = (size_t)n;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			d->eof = 1;
	}
	if (d->len > 0 && (revents_out & (POLLOUT | POLLERR | POLLHUP))) {
		n = write(d->out, d->buf + d->off, d->len);
		if (n > 0) {
			d->off += (size_t)n;
			d->len -= (size_t)n;
		} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			d->len = 0;	/* the reader went away */
			d->eof = 1;
		}
	}
	if (d->eof && d->len == 0 && !d->done)
		dir_finish(d);
}

/* Relay stdin -> sock and sock -> stdout until both sides have closed. */
static int
relay(int sock)
{
	static struct pipe_dir up, down;
	struct pollfd p[4];
	int i;

	up.in = STDIN_FILENO;
	up.out = sock;
	down.in = sock;
	down.out = STDOUT_FILENO;
	while (!up.done || !down.done) {
		struct pipe_dir *d[2] = { &up, &down };

		for (i = 0; i < 2; i++) {
			p[2 * i].fd = d[i]->done || d[i]->eof || d[i]->len ?
			    -1 : d[i]->in;
			p[2 * i].events = POLLIN;
			p[2 * i + 1].fd = d[i]->len ? d[i]->out : -1;
			p[2 * i + 1].events = POLLOUT;
			p[2 * i].revents = p[2 * i + 1].revents = 0;
		}
		if (poll(p, 4, -1) < 0 && errno != EINTR) {
			say("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		dir_step(&up, p[0].revents, p[1].revents);
		dir_step(&down, p[2].revents, p[3].revents);
	}
	close(sock);
	return EXIT_OK;
}

/* ---- main ---- */

static int
setup(struct knock *k, struct opts *o)
{
	const char *u;

	if (o->user[0] == '\0' && (u = getenv("USER")) != NULL &&
	    copy_arg("$USER", u, o->user, sizeof(o->user)) != 0)
		return -1;
	if (!spa_user_ok(o->user, strlen(o->user))) {
		say("user name \"%s\" is not valid (1 to 32 of a-z 0-9 _ - ., "
		    "starting with a letter or _); give -u USER", o->user);
		return -1;
	}
	if (o->knockport == 0)
		o->knockport = KNOCK_PORT_DEFAULT;
	if (o->port == 0)
		o->port = DOOR_PORT_DEFAULT;
	if (o->wait == 0)
		o->wait = WAIT_DEFAULT;
	k->o = o;
	k->port = (uint16_t)o->port;
	if (address_set(k, o->address) != 0 ||
	    server_key_load(o->serverkey, k->server_pk) != 0)
		return -1;
	if (resolve(o->host, o->knockport, o->family, SOCK_DGRAM, &k->udp)
	    != 0)
		return -1;
	return signer_open(&k->signer, o->identity);
}

int
main(int argc, char **argv)
{
	static struct opts o;
	static struct knock k;
	struct addrinfo *tcp = NULL;
	int r, fd;

	signal(SIGPIPE, SIG_IGN);
	k.signer.agent_fd = -1;
	if (spa_init() != 0) {
		say("libsodium failed to initialise");
		return EXIT_FAIL;
	}
	if ((r = parse_args(argc, argv, &o)) != EXIT_OK)
		return r;
	r = EXIT_FAIL;
	if (config_read(&o) != 0 || setup(&k, &o) != 0)
		goto out;
	if (o.then_connect && resolve(o.host, o.port, o.family, SOCK_STREAM,
	    &tcp) != 0)
		goto out;
	if (knock_once(&k) != 0)
		goto out;
	if (!o.then_connect) {
		r = EXIT_OK;
		goto out;
	}
	if ((fd = wait_for_door(&k, tcp)) == -1)
		goto out;
	if (o.verbose)
		say("port %lu on %s is open", o.port, o.host);
	signer_close(&k.signer);	/* no more knocks: wipe the key now */
	r = relay(fd);
out:
	signer_close(&k.signer);
	if (k.udp != NULL)
		freeaddrinfo(k.udp);
	if (tcp != NULL)
		freeaddrinfo(tcp);
	return r;
}
