/*
 * rampart-gateway: start-up as root -- configuration, policy, host keys,
 * listening sockets -- then the drop to the service user and the master
 * loop.  See rampart-gateway(8).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <liboath/oath.h>
#include <sodium.h>

#include "config.h"
#include "hostkey.h"
#include "log.h"
#include "master.h"
#include "policy.h"
#include "privdrop.h"
#include "totp.h"

/* The algorithm set of DESIGN.md section 3 (libssh-server.md 4). */
#define KEX_ALGS	"curve25519-sha256,curve25519-sha256@libssh.org"
#define CIPHERS		"chacha20-poly1305@openssh.com," \
			"aes256-gcm@openssh.com,aes128-gcm@openssh.com"
#define MACS		"hmac-sha2-256-etm@openssh.com," \
			"hmac-sha2-512-etm@openssh.com"
#define PUBKEY_ALGS	"ssh-ed25519,sk-ssh-ed25519@openssh.com," \
			"ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
			"ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com," \
			"rsa-sha2-512,rsa-sha2-256"
#define BANNER		"Rampart"

static void
usage(void)
{
	fprintf(stderr, "usage: rampart-gateway [-dtT] [-f config_file]\n");
	exit(2);
}

static void
print_diag(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static int
set_algorithms(ssh_bind b)
{
	int no = 0, rsa_min = 3072, quiet = SSH_LOG_NOLOG;

	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE, KEX_ALGS) <
	    0 || ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S,
	    CIPHERS) < 0 || ssh_bind_options_set(b,
	    SSH_BIND_OPTIONS_CIPHERS_S_C, CIPHERS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_C_S, MACS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HMAC_S_C, MACS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES,
	    PUBKEY_ALGS) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_RSA_MIN_SIZE, &rsa_min) <
	    0 || ssh_bind_options_set(b, SSH_BIND_OPTIONS_BANNER, BANNER) < 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_LOG_VERBOSITY, &quiet) <
	    0) {
		error("cannot set SSH options: %s", ssh_get_error(b));
		return -1;
	}
	return 0;
}

static int
listen_one(const struct addr *a, unsigned int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char s[ADDR_STRLEN];
	socklen_t len;
	int fd, on = 1;

	memset(&ss, 0, sizeof(ss));
	if (a->af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a->a, 4);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a->a, 16);
		len = sizeof(*sin6);
	}
	addr_ntop(a, s, sizeof(s));
	if ((fd = socket(a->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (a->af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &on, sizeof(on)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, 128) != 0) {
		error("cannot listen on [%s]:%u: %s", s, port,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	logit("listening on [%s]:%u", s, port);
	return fd;
}

static int
open_listeners(const struct config *c, struct master_setup *ms)
{
	struct addr any4, any6;
	size_t i;
	int fd;

	if (c->nlisten == 0) {
		addr_parse("0.0.0.0", &any4);
		addr_parse("::", &any6);
		if ((fd = listen_one(&any4, c->port)) < 0)
			return -1;
		ms->listeners[ms->nlisteners++] = fd;
		/* A host without IPv6 still serves IPv4. */
		if ((fd = listen_one(&any6, c->port)) >= 0)
			ms->listeners[ms->nlisteners++] = fd;
		return 0;
	}
	for (i = 0; i < c->nlisten; i++) {
		fd = listen_one(&c->listen[i].addr, c->listen[i].port ?
		    c->listen[i].port : c->port);
		if (fd < 0)
			return -1;
		ms->listeners[ms->nlisteners++] = fd;
	}
	return 0;
}

/* Directories the service user writes to (audit log, TOTP state). */
static int
prepare_dir(const char *path, uid_t uid, gid_t gid)
{
	char buf[PATH_MAX], *dir;
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		error("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0) {
		error("cannot stat %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Only when needed, so a unit without CAP_CHOWN can still start. */
	if (geteuid() == 0 && (st.st_uid != uid || st.st_gid != gid) &&
	    chown(dir, uid, gid) != 0) {
		error("cannot chown %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The TOTP secrets: refused if anyone but root and the service user could
 * read them.  No file means no TOTP user can log in yet, which is said.
 */
static int
load_secrets(struct master_setup *ms)
{
	const char *p = ms->conf.totp_secrets;

	if (access(p, F_OK) != 0 && errno == ENOENT) {
		logit("no TOTP secrets file %s: accounts with 'totp required' "
		    "cannot log in until one is enrolled (rampartctl totp "
		    "enroll)", p);
		return 0;
	}
	return totp_secrets_load(p, 1, ms->uid, ms->gid, print_diag, NULL,
	    &ms->secrets);
}

static int
load_all(const char *path, struct master_setup *ms, int check_only)
{
	config_defaults(&ms->conf);
	if (config_load(path, &ms->conf, print_diag, NULL) != 0)
		return -1;
	if (policy_load_file(ms->conf.policy, 0, print_diag, NULL, &ms->pol)
	    != 0)
		return -1;
	ms->uid = getuid();
	ms->gid = getgid();
	if (geteuid() == 0 && privdrop_lookup(ms->conf.user, &ms->uid,
	    &ms->gid) != 0)
		return -1;
	if (master_knock_lookup(ms) != 0)
		return -1;
	if (load_secrets(ms) != 0)
		return -1;
	if (check_only)
		return 0;
	log_set_level((enum log_level)ms->conf.log_level);
	if ((ms->bind = ssh_bind_new()) == NULL ||
	    set_algorithms(ms->bind) != 0 ||
	    hostkey_load(ms->bind, &ms->conf) != 0)
		return -1;
	return 0;
}

static int
become_service_user(struct master_setup *ms)
{
	if (prepare_dir(ms->conf.audit_log, ms->uid, ms->gid) != 0 ||
	    prepare_dir(ms->conf.totp_state, ms->uid, ms->gid) != 0)
		return -1;
	return privdrop_drop(ms->uid, ms->gid);
}

int
main(int argc, char **argv)
{
	struct master_setup ms;
	const char *path = CONFIG_DEFAULT_PATH;
	int ch, debug = 0, test = 0, dump = 0;

	memset(&ms, 0, sizeof(ms));
	while ((ch = getopt(argc, argv, "dtTf:X")) != -1) {
		switch (ch) {
		case 'd': debug = 1; break;
		case 't': test = 1; break;
		case 'T': dump = 1; break;
		case 'f': path = optarg; break;
#ifdef RAMPART_TEST_HOOKS
		case 'X': ms.test_hooks = 1; break;
#endif
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("rampart-gateway", debug || test || dump, LOG_LVL_INFO);
	if (sodium_init() < 0 || ssh_init() != SSH_OK || oath_init() !=
	    OATH_OK) {
		fprintf(stderr, "rampart-gateway: cannot initialise crypto\n");
		return 1;
	}
	ms.conf_path = path;
	if (load_all(path, &ms, test || dump) != 0) {
		fprintf(stderr, "rampart-gateway: %s: not started\n", path);
		return 1;
	}
	if (dump || test) {
		if (dump)
			config_dump(&ms.conf, stdout);
		else
			printf("%s: OK\n", path);
		policy_free(ms.pol);
		totp_secrets_free(ms.secrets);
		return ferror(stdout) ? 1 : 0;
	}
	ms.foreground = debug;
	/* A size limit must fail an audit write, not kill the master. */
	signal(SIGXFSZ, SIG_IGN);
	if (open_listeners(&ms.conf, &ms) != 0 || master_knock_socket(&ms) !=
	    0 || become_service_user(&ms) != 0)
		return 1;
	return master_run(&ms);
}
