/*
 * knock_nft: the door, through libnftables in this process.
 *
 * Every command is text this file builds from checked values only: names
 * made of [A-Za-z0-9_], numbers, and addresses printed by addr_ntop.
 * Nothing from the network or the configuration reaches the nft parser
 * unchecked, and nothing runs a shell or another program.
 *
 * Renewing a door is one transaction of three commands:
 *
 *	add element ... { A . P }
 *	delete element ... { A . P }
 *	add element ... { A . P timeout Ns }
 *
 * The first add makes sure the element exists (an add of an existing
 * element is not an error), so the delete cannot fail, and the last add
 * puts it back with a fresh timeout.  A plain "add element" with the same
 * timeout leaves the old expiry alone (checked on Linux 6.x with nftables
 * 1.0.6), and a transaction is applied whole or not at all, so the set
 * never holds two elements or none for an address that was open.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "knock_nft.h"

/* A door stays open at most a day; OpenTime is checked by knockd.conf. */
#define DOOR_MAX_SECONDS	86400
/* One renewal: three commands with two sets of names and an address. */
#define CMD_MAX			1024
#define RULESET_MAX		2048

struct knock_nft {
	struct nft_ctx		*ctx;
	struct knock_nft_conf	 conf;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A table or set name nft reads as one identifier, and nothing else. */
static int
name_ok(const char *s)
{
	size_t n = strnlen(s, KNOCK_NFT_NAME_MAX);

	if (n == 0 || n == KNOCK_NFT_NAME_MAX)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static int
conf_ok(const struct knock_nft_conf *c, char *err, size_t errlen)
{
	const char *bad = NULL;
	size_t i;

	if (!name_ok(c->table))
		bad = "table";
	else if (!name_ok(c->set4))
		bad = "IPv4 set";
	else if (!name_ok(c->set6))
		bad = "IPv6 set";
	if (bad != NULL) {
		seterr(err, errlen, "nftables %s name must be 1 to %d of "
		    "A-Z, a-z, 0-9 and _", bad, KNOCK_NFT_NAME_MAX - 1);
		return -1;
	}
	if (strcmp(c->set4, c->set6) == 0) {
		seterr(err, errlen, "the IPv4 and IPv6 sets need different "
		    "names (both are %s)", c->set4);
		return -1;
	}
	if (c->nports == 0 || c->nports > KNOCK_NFT_MAX_PORTS) {
		seterr(err, errlen, "1 to %d door ports are needed, not %zu",
		    KNOCK_NFT_MAX_PORTS, c->nports);
		return -1;
	}
	for (i = 0; i < c->nports; i++) {
		if (c->ports[i] == 0 || c->ports[i] > 65535) {
			seterr(err, errlen, "door port %u is not 1..65535",
			    c->ports[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * The first line of nft's error output, which names the problem (the
 * lines after it repeat our command and point at it).
 */
static void
nft_reason(struct knock_nft *n, char *err, size_t errlen, const char *what)
{
	const char *e = nft_ctx_get_error_buffer(n->ctx);
	size_t len;

	if (e == NULL)
		e = "";
	while (*e == '\n')
		e++;
	len = strcspn(e, "\n");
	if (len == 0)
		seterr(err, errlen, "%s failed", what);
	else
		seterr(err, errlen, "%s: %.*s", what, (int)len, e);
}

/* Run cmd; on failure -1 with nft's reason, prefixed with what. */
static int
nft_run(struct knock_nft *n, const char *cmd, const char *what, char *err,
    size_t errlen)
{
	/* Reading a buffer empties it: start with nothing left over. */
	(void)nft_ctx_get_output_buffer(n->ctx);
	(void)nft_ctx_get_error_buffer(n->ctx);
	if (nft_run_cmd_from_buffer(n->ctx, cmd) != 0) {
		nft_reason(n, err, errlen, what);
		return -1;
	}
	return 0;
}

int
knock_nft_ruleset(const struct knock_nft_conf *c, char *buf, size_t len)
{
	char ports[KNOCK_NFT_MAX_PORTS * 7];
	size_t i, o = 0;
	int r;

	if (conf_ok(c, NULL, 0) != 0)
		return -1;
	for (i = 0; i < c->nports; i++)
		o += (size_t)snprintf(ports + o, sizeof(ports) - o, "%s%u",
		    i > 0 ? ", " : "", c->ports[i]);
	r = snprintf(buf, len,
	    "table inet %s {\n"
	    "\tset %s {\n"
	    "\t\ttype ipv4_addr . inet_service\n"
	    "\t\tflags timeout\n"
	    "\t}\n"
	    "\tset %s {\n"
	    "\t\ttype ipv6_addr . inet_service\n"
	    "\t\tflags timeout\n"
	    "\t}\n"
	    "\tchain input {\n"
	    "\t\ttype filter hook input priority 0; policy accept;\n"
	    "\t\tct state established,related accept\n"
	    "\t\tmeta l4proto tcp ip saddr . tcp dport @%s accept\n"
	    "\t\tmeta l4proto tcp ip6 saddr . tcp dport @%s accept\n"
	    "\t\ttcp dport { %s } drop\n"
	    "\t}\n"
	    "}\n", c->table, c->set4, c->set6, c->set4, c->set6, ports);
	if (r < 0 || (size_t)r >= len)
		return -1;
	return 0;
}

/*
 * Replace "inet <table>" whole: declaring the table first makes the delete
 * succeed when it did not exist, and the batch is one transaction, so
 * there is never a moment without the drop rule once it was loaded.
 */
static int
create_table(struct knock_nft *n, char *err, size_t errlen)
{
	char cmd[RULESET_MAX + 2 * KNOCK_NFT_NAME_MAX + 64];
	char rules[RULESET_MAX], what[KNOCK_NFT_NAME_MAX + 32];
	int r;

	if (knock_nft_ruleset(&n->conf, rules, sizeof(rules)) != 0) {
		seterr(err, errlen, "the ruleset does not fit");
		return -1;
	}
	r = snprintf(cmd, sizeof(cmd), "table inet %s\n"
	    "delete table inet %s\n%s", n->conf.table, n->conf.table, rules);
	if (r < 0 || (size_t)r >= sizeof(cmd)) {
		seterr(err, errlen, "the ruleset does not fit");
		return -1;
	}
	snprintf(what, sizeof(what), "creating table inet %s", n->conf.table);
	return nft_run(n, cmd, what, err, errlen);
}

/* 1 if "table inet <table>" is a line of nft's table list. */
static int
table_exists(struct knock_nft *n, char *err, size_t errlen)
{
	const char *out, *p;
	char want[KNOCK_NFT_NAME_MAX + 16];
	size_t wl;

	if (nft_run(n, "list tables inet", "listing nftables tables", err,
	    errlen) != 0)
		return -1;
	if ((out = nft_ctx_get_output_buffer(n->ctx)) == NULL)
		out = "";
	wl = (size_t)snprintf(want, sizeof(want), "table inet %s",
	    n->conf.table);
	for (p = out; (p = strstr(p, want)) != NULL; p += wl) {
		if ((p == out || p[-1] == '\n') &&
		    (p[wl] == '\n' || p[wl] == '\0'))
			return 1;
	}
	return 0;
}

/* The set must exist, hold (address . port) pairs and allow timeouts. */
static int
check_set(struct knock_nft *n, const char *set, const char *type,
    char *err, size_t errlen)
{
	char cmd[2 * KNOCK_NFT_NAME_MAX + 32];
	char what[2 * KNOCK_NFT_NAME_MAX + 64];
	const char *out;

	snprintf(cmd, sizeof(cmd), "list set inet %s %s", n->conf.table, set);
	snprintf(what, sizeof(what), "set %s is missing from table inet %s",
	    set, n->conf.table);
	if (nft_run(n, cmd, what, err, errlen) != 0)
		return -1;
	if ((out = nft_ctx_get_output_buffer(n->ctx)) == NULL)
		out = "";
	if (strstr(out, type) == NULL || strstr(out, "flags timeout") ==
	    NULL) {
		seterr(err, errlen, "set %s in table inet %s is not "
		    "\"%s\" with \"flags timeout\"", set, n->conf.table, type);
		return -1;
	}
	return 0;
}

static int
check_table(struct knock_nft *n, char *err, size_t errlen)
{
	int r;

	if ((r = table_exists(n, err, errlen)) < 0)
		return -1;
	if (r == 0) {
		seterr(err, errlen, "table inet %s does not exist (load "
		    "rampart.nft, or set NftCreate yes)", n->conf.table);
		return -1;
	}
	if (check_set(n, n->conf.set4, "type ipv4_addr . inet_service", err,
	    errlen) != 0 ||
	    check_set(n, n->conf.set6, "type ipv6_addr . inet_service", err,
	    errlen) != 0)
		return -1;
	return 0;
}

struct knock_nft *
knock_nft_open(const struct knock_nft_conf *c, char *err, size_t errlen)
{
	struct knock_nft *n = NULL;
	int ok = 0;

	if (conf_ok(c, err, errlen) != 0)
		return NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	n->conf = *c;
	if ((n->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL ||
	    nft_ctx_buffer_output(n->ctx) != 0 ||
	    nft_ctx_buffer_error(n->ctx) != 0) {
		seterr(err, errlen, "cannot make a libnftables context");
		goto out;
	}
	if (c->create ? create_table(n, err, errlen) :
	    check_table(n, err, errlen))
		goto out;
	ok = 1;
 out:
	if (!ok) {
		if (n->ctx != NULL)
			nft_ctx_free(n->ctx);
		free(n);
		n = NULL;
	}
	return n;
}

int
knock_nft_open_door(struct knock_nft *n, const struct addr *a,
    unsigned int port, unsigned int seconds, char *err, size_t errlen)
{
	char cmd[CMD_MAX], elem[ADDR_STRLEN + 16], what[ADDR_STRLEN + 32];
	char text[ADDR_STRLEN];
	struct addr na = *a;
	const char *set;
	int r;

	addr_normalise(&na);
	if (na.af != AF_INET && na.af != AF_INET6) {
		seterr(err, errlen, "address family %d is neither IPv4 nor "
		    "IPv6", na.af);
		return -1;
	}
	if (port == 0 || port > 65535 || seconds == 0 ||
	    seconds > DOOR_MAX_SECONDS) {
		seterr(err, errlen, "port %u or timeout %us out of range "
		    "(1..65535, 1..%u)", port, seconds, DOOR_MAX_SECONDS);
		return -1;
	}
	set = na.af == AF_INET ? n->conf.set4 : n->conf.set6;
	addr_ntop(&na, text, sizeof(text));
	snprintf(elem, sizeof(elem), "%s . %u", text, port);
	r = snprintf(cmd, sizeof(cmd),
	    "add element inet %s %s { %s }\n"
	    "delete element inet %s %s { %s }\n"
	    "add element inet %s %s { %s timeout %us }\n",
	    n->conf.table, set, elem, n->conf.table, set, elem,
	    n->conf.table, set, elem, seconds);
	if (r < 0 || (size_t)r >= sizeof(cmd)) {
		seterr(err, errlen, "nftables command too long");
		return -1;
	}
	snprintf(what, sizeof(what), "opening %s port %u", text, port);
	return nft_run(n, cmd, what, err, errlen);
}

void
knock_nft_close(struct knock_nft *n, int remove_table)
{
	char cmd[KNOCK_NFT_NAME_MAX + 32];

	if (n == NULL)
		return;
	if (remove_table && n->conf.create) {
		snprintf(cmd, sizeof(cmd), "delete table inet %s",
		    n->conf.table);
		/* Best effort at exit: the table may already be gone. */
		(void)nft_run_cmd_from_buffer(n->ctx, cmd);
	}
	nft_ctx_free(n->ctx);
	free(n);
}
