/*
 * config: gateway.conf, the gateway's own settings.
 *
 * sshd_config style: one "Keyword value" per line, keywords in any case,
 * '#' starts a comment at the start of a line or of a word.  A keyword
 * table maps each keyword to one small handler built on the shared typed
 * converters (conv.h).  Every line goes through the same hygiene checks as
 * policy files, every error is reported as "file:line: message" and parsing
 * goes on, so one run shows every mistake.  The file is parsed into a
 * private copy over the defaults, and the caller's struct is written only
 * when there was no error at all: a reload never applies half a file.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "conv.h"
#include "log.h"
#include "textfile.h"

#define MAX_WORDS		16
#define NAME_MAX_LEN		(sizeof(((struct config *)0)->user) - 1)

#define DEF_LISTEN_PORT		22
#define DEF_HOSTKEY		"/etc/rampart/ssh_host_ed25519_key"
#define DEF_POLICY		"/etc/rampart/policy.conf"
#define DEF_TOTP_SECRETS	"/etc/rampart/totp.secrets"
#define DEF_TOTP_STATE		"/var/lib/rampart/totp.state"
#define DEF_AUDIT_LOG		"/var/log/rampart/audit.jsonl"
#define DEF_USER		"rampart"

#define LOGIN_GRACE_MAX		(10 * 60)
#define CONNECT_TIMEOUT_MAX	(5 * 60)
#define MAX_AUTH_TRIES_MAX	20
#define STARTUPS_MAX		100000
#define PENALTY_MAX		86400		/* one offence: up to 1d */
#define PENALTY_CAP_MAX		(7 * 86400)	/* max: up to 7d */
#define PENALTY_TABLE_MAX	1000000

enum kw_id {
	KW_LISTEN, KW_PORT, KW_HOSTKEY, KW_POLICY, KW_TOTP, KW_AUDIT,
	KW_USER, KW_GRACE, KW_TRIES, KW_STARTUPS, KW_CONNECT, KW_PENALTIES,
	KW_EXEMPT, KW_LOGLEVEL, KW_PERSRC, KW_TOTPSTATE, KW_TOTPWINDOW,
	KW_KNOCKSOCK, KW_KNOCKDUSER, KW_COUNT
};

struct config_parser {
	struct config	 c;		/* the defaults, then the file */
	struct diag	 d;
	const char	*file;
	unsigned long	 line;
	unsigned long	 seen[KW_COUNT];	/* first line of each keyword */
	unsigned long	 listen_line[CONFIG_MAX_LISTEN];
	unsigned long	 hostkey_line[CONFIG_MAX_HOSTKEYS];
};

struct keyword {
	const char	*name;
	enum kw_id	 id;
	int		 maxargs;	/* at least one value, at most this */
	int		 repeat;	/* may appear on several lines */
	size_t		 off;		/* field, for the generic handlers */
	unsigned long	 min, max;
	const char	*usage;
	int		(*fn)(struct config_parser *, const struct keyword *,
			    int, char **);
};

static void
perr(struct config_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
perr(struct config_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vat(&p->d, p->file, p->line, fmt, ap);
	va_end(ap);
}

/* An untrusted word made safe to quote in a message. */
static const char *
safe(const char *s, char *buf, size_t len)
{
	return diag_safe(s, strlen(s), buf, len);
}

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->nlisten = 0;
	c->port = DEF_LISTEN_PORT;
	snprintf(c->hostkeys[0], sizeof(c->hostkeys[0]), "%s", DEF_HOSTKEY);
	c->nhostkeys = 1;
	snprintf(c->policy, sizeof(c->policy), "%s", DEF_POLICY);
	snprintf(c->totp_secrets, sizeof(c->totp_secrets), "%s",
	    DEF_TOTP_SECRETS);
	snprintf(c->totp_state, sizeof(c->totp_state), "%s", DEF_TOTP_STATE);
	c->totp_window = 1;
	snprintf(c->audit_log, sizeof(c->audit_log), "%s", DEF_AUDIT_LOG);
	snprintf(c->user, sizeof(c->user), "%s", DEF_USER);
	c->login_grace = 30;
	c->max_auth_tries = 3;
	c->startups_begin = 30;
	c->startups_rate = 30;
	c->startups_full = 100;
	c->per_source_startups = 10;
	c->connect_timeout = 10;
	c->penalty_authfail = 5;
	c->penalty_noauth = 2;
	c->penalty_error = 10;
	c->penalty_max = 600;
	c->penalty_table = 8192;
	c->nexempt = 0;
	c->log_level = LOG_LVL_INFO;
}

/* ---- converters ---- */

/* One port number, 1-65535 (no lists, ranges or "any"). */
static int
parse_port(const char *s, unsigned int *out, char *err, size_t errlen)
{
	struct port_range r[CONV_PORTS_MAX];
	char tmp[80];
	size_t n;

	if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s)) {
		snprintf(err, errlen, "\"%s\" is not a port number",
		    safe(s, tmp, sizeof(tmp)));
		return -1;
	}
	if (conv_ports(s, r, &n, err, errlen) != 0)
		return -1;
	*out = r[0].lo;
	return 0;
}

/* Only a zero (or zero-like garbage) duration: "0", "0s", "0m0s". */
static int
zero_duration(const char *s)
{
	return s[0] == '0' && strspn(s, "0smhd") == strlen(s);
}

/*
 * conv_duration, with the range stated in the keyword's own unit (conv
 * states it in days, which reads "1s to 0d" for limits under a day).
 */
static int
parse_duration(struct config_parser *p, const char *what, const char *s,
    unsigned long max, unsigned long *out)
{
	char err[DIAG_MSG_MAX], err2[DIAG_MSG_MAX], lim[32], tmp[80];
	unsigned long v;

	if (conv_duration(s, max, out, err, sizeof(err)) == 0)
		return 0;
	if (conv_duration(s, (unsigned long)-1, &v, err2,
	    sizeof(err2)) == 0 || zero_duration(s)) {
		conv_duration_str(max, lim, sizeof(lim));
		perr(p, "%s: duration \"%s\" is out of range (1s to %s)", what,
		    safe(s, tmp, sizeof(tmp)), lim);
	} else
		perr(p, "%s: %s", what, err);
	return -1;
}

static int
parse_path(struct config_parser *p, const char *what, const char *s,
    char *out, size_t len)
{
	char tmp[80];

	if (s[0] != '/') {
		perr(p, "%s: path must be absolute: \"%s\"", what,
		    safe(s, tmp, sizeof(tmp)));
		return -1;
	}
	if (strlen(s) >= len) {
		perr(p, "%s: path is longer than %zu bytes", what, len - 1);
		return -1;
	}
	snprintf(out, len, "%s", s);
	return 0;
}

static int
valid_name(const char *s)
{
	return conv_name_ok(s, NAME_MAX_LEN);
}

/* ---- handlers ---- */

/* "ADDR", "IPV4:PORT", "[ADDR]" or "[ADDR]:PORT", like sshd. */
static int
split_listen(const char *s, char *host, size_t hostlen, const char **port)
{
	const char *end, *colon;
	size_t n;

	*port = NULL;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			*port = end + 2;
		else if (end[1] != '\0')
			return -1;
		s++;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - s);
		*port = colon + 1;
	} else
		n = strlen(s);	/* IPv4, or IPv6 without a port */
	if (n >= hostlen)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

static int
kw_listen(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	struct config_listen l;
	char host[ADDR_STRLEN], err[DIAG_MSG_MAX], tmp[80];
	const char *port;

	(void)ac;
	memset(&l, 0, sizeof(l));
	if (split_listen(av[1], host, sizeof(host), &port) != 0 ||
	    addr_parse(host, &l.addr) != 0) {
		perr(p, "%s: \"%s\" is not a numeric IP address, ADDR:PORT or "
		    "[ADDR]:PORT (host names are not resolved)", kw->name,
		    safe(av[1], tmp, sizeof(tmp)));
		return -1;
	}
	if (port != NULL && parse_port(port, &l.port, err, sizeof(err)) != 0) {
		perr(p, "%s: %s", kw->name, err);
		return -1;
	}
	if (p->c.nlisten >= CONFIG_MAX_LISTEN) {
		perr(p, "%s: more than %d addresses", kw->name,
		    CONFIG_MAX_LISTEN);
		return -1;
	}
	p->listen_line[p->c.nlisten] = p->line;
	p->c.listen[p->c.nlisten++] = l;
	return 0;
}

static int
kw_port(struct config_parser *p, const struct keyword *kw, int ac, char **av)
{
	char err[DIAG_MSG_MAX];

	(void)ac;
	if (parse_port(av[1], &p->c.port, err, sizeof(err)) != 0) {
		perr(p, "%s: %s", kw->name, err);
		return -1;
	}
	return 0;
}

static int
kw_hostkey(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	struct config *c = &p->c;
	char path[PATH_MAX], tmp[80];
	size_t i;

	(void)ac;
	/* The first HostKey line replaces the default. */
	if (p->seen[KW_HOSTKEY] == p->line)
		c->nhostkeys = 0;
	if (parse_path(p, kw->name, av[1], path, sizeof(path)) != 0)
		return -1;
	for (i = 0; i < c->nhostkeys; i++) {
		if (strcmp(c->hostkeys[i], path) == 0) {
			perr(p, "%s %s given twice (first at line %lu)",
			    kw->name, safe(path, tmp, sizeof(tmp)),
			    p->hostkey_line[i]);
			return -1;
		}
	}
	if (c->nhostkeys >= CONFIG_MAX_HOSTKEYS) {
		perr(p, "%s: more than %d host keys", kw->name,
		    CONFIG_MAX_HOSTKEYS);
		return -1;
	}
	p->hostkey_line[c->nhostkeys] = p->line;
	snprintf(c->hostkeys[c->nhostkeys++], PATH_MAX, "%s", path);
	return 0;
}

static int
kw_path(struct config_parser *p, const struct keyword *kw, int ac, char **av)
{
	(void)ac;
	return parse_path(p, kw->name, av[1], (char *)&p->c + kw->off,
	    PATH_MAX);
}

static int
check_user_name(struct config_parser *p, const struct keyword *kw,
    const char *s)
{
	char tmp[80];

	if (valid_name(s))
		return 0;
	perr(p, "%s: \"%s\" is not a valid user name (lower case letters, "
	    "digits, '_', '-', '.'; starting with a letter or '_'; at most "
	    "%zu characters)", kw->name, safe(s, tmp, sizeof(tmp)),
	    NAME_MAX_LEN);
	return -1;
}

static int
kw_user(struct config_parser *p, const struct keyword *kw, int ac, char **av)
{
	(void)ac;
	if (check_user_name(p, kw, av[1]) != 0)
		return -1;
	if (strcmp(av[1], "root") == 0) {
		perr(p, "%s: the gateway must not run as root (the point of "
		    "%s is to drop privileges)", kw->name, kw->name);
		return -1;
	}
	snprintf(p->c.user, sizeof(p->c.user), "%s", av[1]);
	return 0;
}

/*
 * KnockBindSocket /PATH | none.  The path must fit a unix socket address
 * (sun_path), which is much shorter than PATH_MAX.
 */
static int
kw_knock_socket(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	char *dst = p->c.knock_bind_socket;
	size_t len = sizeof(p->c.knock_bind_socket);

	(void)ac;
	if (strcasecmp(av[1], "none") == 0) {
		dst[0] = '\0';
		return 0;
	}
	return parse_path(p, kw->name, av[1], dst, len);
}

/* KnockdUser NAME | none: whose datagrams the master believes. */
static int
kw_knockd_user(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	(void)ac;
	if (strcasecmp(av[1], "none") == 0) {
		p->c.knockd_user[0] = '\0';
		return 0;
	}
	if (check_user_name(p, kw, av[1]) != 0)
		return -1;
	snprintf(p->c.knockd_user, sizeof(p->c.knockd_user), "%s", av[1]);
	return 0;
}

static int
kw_duration(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	(void)ac;
	return parse_duration(p, kw->name, av[1], kw->max,
	    (unsigned long *)(void *)((char *)&p->c + kw->off));
}

static int
kw_count(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	char err[DIAG_MSG_MAX];

	(void)ac;
	if (conv_uint(av[1], kw->min, kw->max,
	    (unsigned long *)(void *)((char *)&p->c + kw->off), err,
	    sizeof(err)) != 0) {
		perr(p, "%s: %s", kw->name, err);
		return -1;
	}
	return 0;
}

static int
kw_startups(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	static const char *const what[] = { "start", "rate", "full" };
	const unsigned long max[] = { STARTUPS_MAX, 100, STARTUPS_MAX };
	char buf[64], err[DIAG_MSG_MAX], tmp[80], *f[3], *s;
	unsigned long v[3];
	int i, n = 0;

	(void)ac;
	if (strlen(av[1]) >= sizeof(buf))
		goto syntax;
	snprintf(buf, sizeof(buf), "%s", av[1]);
	for (s = buf; n < 3; n++) {
		f[n] = s;
		if ((s = strchr(s, ':')) == NULL) {
			n++;
			break;
		}
		*s++ = '\0';
	}
	if (s != NULL || n == 2)
		goto syntax;
	for (i = 0; i < n; i++) {
		if (conv_uint(f[i], 1, max[i], &v[i], err, sizeof(err)) != 0) {
			perr(p, "%s: %s: %s", kw->name, n == 1 ? "limit" :
			    what[i], err);
			return -1;
		}
	}
	if (n == 1) {
		/* Like sshd: N alone is N:100:N, a hard limit. */
		v[2] = v[0];
		v[1] = 100;
	}
	if (v[0] > v[2]) {
		perr(p, "%s: start %lu is more than full %lu", kw->name, v[0],
		    v[2]);
		return -1;
	}
	p->c.startups_begin = v[0];
	p->c.startups_rate = v[1];
	p->c.startups_full = v[2];
	return 0;
 syntax:
	perr(p, "%s: \"%s\" is not START:RATE:FULL (e.g. 10:30:100) or a "
	    "single number", kw->name, safe(av[1], tmp, sizeof(tmp)));
	return -1;
}

static const struct penalty_opt {
	const char	*name;
	size_t		 off;
	unsigned long	 max;
	int		 duration;
} penalty_opts[] = {
	{ "authfail", offsetof(struct config, penalty_authfail), PENALTY_MAX,
	    1 },
	{ "noauth", offsetof(struct config, penalty_noauth), PENALTY_MAX, 1 },
	{ "error", offsetof(struct config, penalty_error), PENALTY_MAX, 1 },
	{ "max", offsetof(struct config, penalty_max), PENALTY_CAP_MAX, 1 },
	{ "table", offsetof(struct config, penalty_table), PENALTY_TABLE_MAX,
	    0 },
};
#define NPENALTY_OPTS	(sizeof(penalty_opts) / sizeof(penalty_opts[0]))

static int
penalty_opt(struct config_parser *p, const struct keyword *kw, char *arg,
    int *given)
{
	const struct penalty_opt *o;
	char err[DIAG_MSG_MAX], what[64], tmp[80], *val;
	unsigned long *dst;
	size_t i;

	if ((val = strchr(arg, ':')) != NULL)
		*val++ = '\0';
	for (i = 0; i < NPENALTY_OPTS; i++) {
		if (strcasecmp(arg, penalty_opts[i].name) == 0)
			break;
	}
	if (i == NPENALTY_OPTS) {
		perr(p, "%s: unknown option \"%s\" (use authfail:, noauth:, "
		    "error:, max: with a duration, or table:N)", kw->name,
		    safe(arg, tmp, sizeof(tmp)));
		return -1;
	}
	o = &penalty_opts[i];
	if (val == NULL) {
		perr(p, "%s: %s needs a value, as in %s:%s", kw->name,
		    o->name, o->name, o->duration ? "30s" : "8192");
		return -1;
	}
	if (given[i]) {
		perr(p, "%s: %s given twice", kw->name, o->name);
		return -1;
	}
	given[i] = 1;
	dst = (unsigned long *)(void *)((char *)&p->c + o->off);
	snprintf(what, sizeof(what), "%s %s", kw->name, o->name);
	if (o->duration)
		return parse_duration(p, what, val, o->max, dst);
	if (conv_uint(val, 1, o->max, dst, err, sizeof(err)) != 0) {
		perr(p, "%s: %s", what, err);
		return -1;
	}
	return 0;
}

static int
kw_penalties(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	int given[NPENALTY_OPTS] = { 0 }, i, r = 0;

	for (i = 1; i < ac; i++) {
		if (strcasecmp(av[i], "off") == 0 ||
		    strcasecmp(av[i], "no") == 0) {
			perr(p, "%s cannot be turned off: a bastion always "
			    "penalises sources that fail (exempt trusted "
			    "networks with PerSourcePenaltyExemptList)",
			    kw->name);
			return -1;
		}
		if (penalty_opt(p, kw, av[i], given) != 0)
			r = -1;
	}
	return r;
}

static int
kw_exempt(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	struct addr_net net;
	char *s, *end, tmp[80];
	const char *why;

	(void)ac;
	if (strcasecmp(av[1], "none") == 0)
		return 0;
	for (s = av[1];; s = end + 1) {
		if ((end = strchr(s, ',')) != NULL)
			*end = '\0';
		switch (addr_parse_net(s, &net)) {
		case 0:
			why = NULL;
			break;
		case -2:
			why = "has a prefix length out of range (0-32 for "
			    "IPv4, 0-128 for IPv6)";
			break;
		case -3:
			why = "has host bits set (write the network address, "
			    "e.g. 10.0.0.0/8 for 10.0.0.1/8)";
			break;
		default:
			why = "is not an IP address or CIDR";
			break;
		}
		if (why != NULL) {
			perr(p, "%s: \"%s\" %s", kw->name,
			    safe(s, tmp, sizeof(tmp)), why);
			return -1;
		}
		if (p->c.nexempt >= CONFIG_MAX_EXEMPT) {
			perr(p, "%s: more than %d networks", kw->name,
			    CONFIG_MAX_EXEMPT);
			return -1;
		}
		p->c.exempt[p->c.nexempt++] = net;
		if (end == NULL)
			return 0;
	}
}

static int
kw_loglevel(struct config_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	enum log_level lv;
	char tmp[80];

	(void)ac;
	if (log_level_parse(av[1], &lv) != 0) {
		perr(p, "%s: \"%s\" is not a log level (error, info, verbose, "
		    "debug)", kw->name, safe(av[1], tmp, sizeof(tmp)));
		return -1;
	}
	p->c.log_level = (int)lv;
	return 0;
}

#define F(f)	offsetof(struct config, f)

static const struct keyword keywords[] = {
	{ "ListenAddress", KW_LISTEN, 1, 1, 0, 0, 0,
	    "ListenAddress ADDR | IPV4:PORT | [ADDR]:PORT", kw_listen },
	{ "Port", KW_PORT, 1, 0, 0, 0, 0, "Port N", kw_port },
	{ "HostKey", KW_HOSTKEY, 1, 1, 0, 0, 0, "HostKey /PATH", kw_hostkey },
	{ "Policy", KW_POLICY, 1, 0, F(policy), 0, 0, "Policy /PATH",
	    kw_path },
	{ "TotpSecrets", KW_TOTP, 1, 0, F(totp_secrets), 0, 0,
	    "TotpSecrets /PATH", kw_path },
	{ "TotpState", KW_TOTPSTATE, 1, 0, F(totp_state), 0, 0,
	    "TotpState /PATH", kw_path },
	{ "TotpWindow", KW_TOTPWINDOW, 1, 0, F(totp_window), 0, 10,
	    "TotpWindow STEPS", kw_count },
	{ "AuditLog", KW_AUDIT, 1, 0, F(audit_log), 0, 0, "AuditLog /PATH",
	    kw_path },
	{ "User", KW_USER, 1, 0, 0, 0, 0, "User NAME", kw_user },
	{ "LoginGraceTime", KW_GRACE, 1, 0, F(login_grace), 1,
	    LOGIN_GRACE_MAX, "LoginGraceTime DURATION", kw_duration },
	{ "MaxAuthTries", KW_TRIES, 1, 0, F(max_auth_tries), 1,
	    MAX_AUTH_TRIES_MAX, "MaxAuthTries N", kw_count },
	{ "MaxStartups", KW_STARTUPS, 1, 0, 0, 0, 0,
	    "MaxStartups START:RATE:FULL | N", kw_startups },
	{ "ConnectTimeout", KW_CONNECT, 1, 0, F(connect_timeout), 1,
	    CONNECT_TIMEOUT_MAX, "ConnectTimeout DURATION", kw_duration },
	{ "PerSourcePenalties", KW_PENALTIES, (int)NPENALTY_OPTS, 0, 0, 0, 0,
	    "PerSourcePenalties [authfail:D] [noauth:D] [error:D] [max:D] "
	    "[table:N]", kw_penalties },
	{ "PerSourcePenaltyExemptList", KW_EXEMPT, 1, 0, 0, 0, 0,
	    "PerSourcePenaltyExemptList CIDR[,CIDR...] | none", kw_exempt },
	{ "LogLevel", KW_LOGLEVEL, 1, 0, 0, 0, 0,
	    "LogLevel error|info|verbose|debug", kw_loglevel },
	{ "PerSourceMaxStartups", KW_PERSRC, 1, 0, F(per_source_startups), 1,
	    100000, "PerSourceMaxStartups N", kw_count },
	{ "KnockBindSocket", KW_KNOCKSOCK, 1, 0, 0, 0, 0,
	    "KnockBindSocket /PATH | none", kw_knock_socket },
	{ "KnockdUser", KW_KNOCKDUSER, 1, 0, 0, 0, 0,
	    "KnockdUser NAME | none", kw_knockd_user },
};

#undef F

/* ---- lines ---- */

static void
dispatch(struct config_parser *p, int ac, char **av)
{
	const struct keyword *kw = NULL;
	char tmp[80];
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strcasecmp(keywords[i].name, av[0]) == 0)
			kw = &keywords[i];
	}
	if (kw == NULL) {
		perr(p, "unknown keyword \"%s\"%s", safe(av[0], tmp,
		    sizeof(tmp)), strchr(av[0], '=') != NULL ?
		    " (write \"Keyword value\", without '=')" : "");
		return;
	}
	if (ac < 2) {
		perr(p, "%s: missing value; usage: %s", kw->name, kw->usage);
		return;
	}
	if (ac - 1 > kw->maxargs) {
		perr(p, "%s: too many values; usage: %s", kw->name,
		    kw->usage);
		return;
	}
	if (p->seen[kw->id] != 0 && !kw->repeat) {
		perr(p, "%s given twice (first at line %lu)", kw->name,
		    p->seen[kw->id]);
		return;
	}
	if (p->seen[kw->id] == 0)
		p->seen[kw->id] = p->line;
	kw->fn(p, kw, ac, av);
}

static void
parse_line(struct config_parser *p, const char *line, size_t len)
{
	char buf[TEXTFILE_LINE_MAX + 1], err[DIAG_MSG_MAX];
	char *av[MAX_WORDS];
	int ac;

	p->line++;
	ac = textfile_words(line, len, buf, av, MAX_WORDS, 1, err,
	    sizeof(err));
	if (ac == -1 || ac == -2) {
		if (ac == -1)
			perr(p, "%s", err);
		else
			perr(p, "more than %d words on one line", MAX_WORDS);
		return;
	}
	if (ac > 0)
		dispatch(p, ac, av);
}

/* ---- whole-file checks ---- */

/* Two sockets on one address and port cannot both be bound. */
static void
check_listen(struct config_parser *p)
{
	const struct config_listen *a, *b;
	char host[ADDR_STRLEN];
	size_t i, j;
	unsigned int pa, pb;

	for (i = 1; i < p->c.nlisten; i++) {
		a = &p->c.listen[i];
		pa = a->port != 0 ? a->port : p->c.port;
		for (j = 0; j < i; j++) {
			b = &p->c.listen[j];
			pb = b->port != 0 ? b->port : p->c.port;
			if (pa != pb || !addr_eq(&a->addr, &b->addr))
				continue;
			addr_ntop(&a->addr, host, sizeof(host));
			diag_at(&p->d, p->file, p->listen_line[i],
			    "ListenAddress %s%s%s:%u given twice (first at "
			    "line %lu)", a->addr.af == AF_INET6 ? "[" : "",
			    host, a->addr.af == AF_INET6 ? "]" : "", pa,
			    p->listen_line[j]);
			break;
		}
	}
}

/* A base penalty above the cap would silently be the cap. */
static void
check_penalties(struct config_parser *p)
{
	char base[32], cap[32];
	size_t i;
	unsigned long v;

	for (i = 0; i < NPENALTY_OPTS; i++) {
		if (!penalty_opts[i].duration ||
		    penalty_opts[i].off == offsetof(struct config, penalty_max))
			continue;
		v = *(const unsigned long *)(const void *)((const char *)&p->c +
		    penalty_opts[i].off);
		if (v <= p->c.penalty_max)
			continue;
		conv_duration_str(v, base, sizeof(base));
		conv_duration_str(p->c.penalty_max, cap, sizeof(cap));
		diag_at(&p->d, p->file, p->seen[KW_PENALTIES],
		    "PerSourcePenalties: %s:%s is longer than max:%s",
		    penalty_opts[i].name, base, cap);
	}
}

/*
 * The socket and the user come together.  knockd must not run as the
 * gateway's User: the session processes run as User, and a binding must
 * come from knockd, not from a session.
 */
static void
check_knock(struct config_parser *p)
{
	const struct config *c = &p->c;

	if (c->knock_bind_socket[0] != '\0' && c->knockd_user[0] == '\0')
		diag_at(&p->d, p->file, p->seen[KW_KNOCKSOCK],
		    "KnockBindSocket needs KnockdUser: the user rampart-knockd "
		    "runs as, whose datagrams alone are accepted");
	if (c->knockd_user[0] != '\0' && c->knock_bind_socket[0] == '\0')
		diag_at(&p->d, p->file, p->seen[KW_KNOCKDUSER], "KnockdUser "
		    "without KnockBindSocket has no effect");
	if (c->knockd_user[0] != '\0' && strcmp(c->knockd_user, c->user) == 0)
		diag_at(&p->d, p->file, p->seen[KW_KNOCKDUSER], "KnockdUser "
		    "must not be the gateway's User %s: its session processes "
		    "run as that user, and only knockd may tell who knocked",
		    c->user);
}

int
config_load_buf(const char *name, const char *buf, size_t len,
    struct config *c, diag_fn *fn, void *ctx)
{
	struct config_parser *p;
	const char *line;
	size_t off = 0, linelen;
	int r = -1;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		if (fn != NULL)
			fn(ctx, "out of memory");
		return -1;
	}
	config_defaults(&p->c);
	p->d.fn = fn;
	p->d.ctx = ctx;
	p->file = name;
	while (textfile_next(buf, len, &off, &line, &linelen))
		parse_line(p, line, linelen);
	check_listen(p);
	check_penalties(p);
	check_knock(p);
	if (p->d.count == 0) {
		*c = p->c;
		r = 0;
	}
	free(p);
	return r;
}

int
config_load(const char *path, struct config *c, diag_fn *fn, void *ctx)
{
	struct diag d = { fn, ctx, 0 };
	char err[DIAG_MSG_MAX], *buf;
	size_t len;
	int r;

	if (textfile_read(path, &buf, &len, err, sizeof(err)) != 0) {
		diag_at(&d, path, 0, "%s", err);
		return -1;
	}
	r = config_load_buf(path, buf, len, c, fn, ctx);
	free(buf);
	return r;
}

/* ---- dump ---- */

static void
dump_listen(const struct config_listen *l, FILE *f)
{
	char host[ADDR_STRLEN];

	addr_ntop(&l->addr, host, sizeof(host));
	if (l->port == 0)
		fprintf(f, "listenaddress %s\n", host);
	else if (l->addr.af == AF_INET6)
		fprintf(f, "listenaddress [%s]:%u\n", host, l->port);
	else
		fprintf(f, "listenaddress %s:%u\n", host, l->port);
}

static void
dump_duration(const char *kw, unsigned long secs, FILE *f)
{
	char buf[32];

	conv_duration_str(secs, buf, sizeof(buf));
	fprintf(f, "%s %s\n", kw, buf);
}

static void
dump_penalties(const struct config *c, FILE *f)
{
	char buf[32];
	size_t i;
	unsigned long v;

	fprintf(f, "persourcepenalties");
	for (i = 0; i < NPENALTY_OPTS; i++) {
		v = *(const unsigned long *)(const void *)((const char *)c +
		    penalty_opts[i].off);
		if (penalty_opts[i].duration)
			conv_duration_str(v, buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%lu", v);
		fprintf(f, " %s:%s", penalty_opts[i].name, buf);
	}
	fprintf(f, "\n");
}

static void
dump_exempt(const struct config *c, FILE *f)
{
	char net[ADDR_STRLEN];
	size_t i, n = c->nexempt < CONFIG_MAX_EXEMPT ? c->nexempt :
	    CONFIG_MAX_EXEMPT;

	fprintf(f, "persourcepenaltyexemptlist ");
	if (n == 0)
		fprintf(f, "none");
	for (i = 0; i < n; i++) {
		addr_net_ntop(&c->exempt[i], net, sizeof(net));
		fprintf(f, "%s%s", i > 0 ? "," : "", net);
	}
	fprintf(f, "\n");
}

void
config_dump(const struct config *c, FILE *f)
{
	struct config_listen any;
	size_t i;

	if (c->nlisten == 0) {
		/* What an empty list means: every address, both families. */
		memset(&any, 0, sizeof(any));
		any.addr.af = AF_INET;
		dump_listen(&any, f);
		any.addr.af = AF_INET6;
		dump_listen(&any, f);
	}
	for (i = 0; i < c->nlisten && i < CONFIG_MAX_LISTEN; i++)
		dump_listen(&c->listen[i], f);
	fprintf(f, "port %u\n", c->port);
	for (i = 0; i < c->nhostkeys && i < CONFIG_MAX_HOSTKEYS; i++)
		fprintf(f, "hostkey %.*s\n", PATH_MAX, c->hostkeys[i]);
	fprintf(f, "policy %.*s\n", PATH_MAX, c->policy);
	fprintf(f, "totpsecrets %.*s\n", PATH_MAX, c->totp_secrets);
	fprintf(f, "totpstate %.*s\n", PATH_MAX, c->totp_state);
	fprintf(f, "totpwindow %lu\n", c->totp_window);
	fprintf(f, "auditlog %.*s\n", PATH_MAX, c->audit_log);
	fprintf(f, "user %.*s\n", (int)NAME_MAX_LEN, c->user);
	dump_duration("logingracetime", c->login_grace, f);
	fprintf(f, "maxauthtries %lu\n", c->max_auth_tries);
	fprintf(f, "maxstartups %lu:%lu:%lu\n", c->startups_begin,
	    c->startups_rate, c->startups_full);
	fprintf(f, "persourcemaxstartups %lu\n", c->per_source_startups);
	dump_duration("connecttimeout", c->connect_timeout, f);
	dump_penalties(c, f);
	dump_exempt(c, f);
	fprintf(f, "loglevel %s\n",
	    log_level_name((enum log_level)c->log_level));
	fprintf(f, "knockbindsocket %.*s\n", (int)sizeof(c->knock_bind_socket),
	    c->knock_bind_socket[0] != '\0' ? c->knock_bind_socket : "none");
	fprintf(f, "knockduser %.*s\n", (int)NAME_MAX_LEN,
	    c->knockd_user[0] != '\0' ? c->knockd_user : "none");
}
