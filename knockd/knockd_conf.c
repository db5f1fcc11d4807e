/*
 * knockd_conf: knockd.conf, rampart-knockd's own settings.
 *
 * The same rules as gateway.conf: one "Keyword value" per line, keywords in
 * any case, '#' comments, the line hygiene of textfile.h, every error as
 * "file:line: message" with parsing going on so one run shows every
 * mistake, and the caller's struct written only when there was no error at
 * all.  Most keywords are plain typed values, so the table names a type and
 * a field and one converter per type does the work; the few with a syntax
 * of their own have a handler.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conv.h"
#include "knockd_conf.h"
#include "log.h"
#include "textfile.h"

#define MAX_WORDS	8
#define USER_MAX	(sizeof(((struct knockd_conf *)0)->user) - 1)

#define DEF_LISTEN_PORT	62022
#define DEF_POLICY	"/etc/rampart/policy.conf"
#define DEF_AUDIT_LOG	"/var/log/rampart-knockd/audit.jsonl"
#define DEF_USER	"rampart-knockd"

#define DAY		86400UL
#define TABLE_MIN	16UL
#define TABLE_MAX	(1UL << 22)	/* 4 Mi entries: about 200 MiB */
#define RATE_MAX	1000000UL

enum kw_type {
	T_PATH,		/* an absolute path (size: of the field) */
	T_OPTPATH,	/* an absolute path, or "none" */
	T_DURATION,	/* conv_duration, in [min, max] seconds */
	T_ULONG,	/* conv_uint into an unsigned long */
	T_SIZE,		/* conv_uint into a size_t */
	T_NFTNAME,	/* an nftables identifier */
	T_USER,		/* a login name, not root */
	T_CHOICE,	/* one word of a list, into an int */
	T_OTHER,	/* its own handler */
};

struct knockd_parser {
	struct knockd_conf	 c;	/* the defaults, then the file */
	struct diag		 d;
	const char		*file;
	unsigned long		 line;
	unsigned long		 listen_line[KNOCKD_CONF_MAX_LISTEN];
	unsigned long		 key_line[KNOCKD_CONF_MAX_KEYS];
};

struct choice;

struct keyword {
	const char	*name;
	enum kw_type	 type;
	size_t		 off;		/* the field, for typed keywords */
	size_t		 size;		/* its size, for strings */
	unsigned long	 min, max;
	int		 maxargs;	/* at least one value, at most this */
	int		 repeat;	/* may appear on several lines */
	const struct choice *choices;	/* T_CHOICE */
	const char	*usage;
	int		(*fn)(struct knockd_parser *, const struct keyword *,
			    int, char **);
};

/* Every message names the file and the line being parsed. */
#define perr(p, ...)	diag_at(&(p)->d, (p)->file, (p)->line, __VA_ARGS__)

/* An untrusted word, made safe to quote in a message. */
static const char *
q(const char *s, char *buf, size_t len)
{
	return diag_safe(s, strlen(s), buf, len);
}

void
knockd_conf_defaults(struct knockd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->listen_port = DEF_LISTEN_PORT;
	snprintf(c->policy, sizeof(c->policy), "%s", DEF_POLICY);
	c->ports[0] = 22;
	c->nports = 1;
	c->address_mode = KNOCKD_MODE_BOTH;
	c->window = 30;
	c->open_time = 30;
	c->budget.open_rate = 4000;
	c->budget.returning_rate = 1000;
	c->budget.returning_time = 7 * DAY;
	c->budget.source_rate = 2;
	c->budget.source_burst = 10;
	c->budget.user_rate = 10;
	c->budget.user_burst = 10;
	c->budget.source_table = 65536;
	c->budget.returning_table = 65536;
	c->seen_cache = 262144;
	c->replay_cache = 65536;
	snprintf(c->user, sizeof(c->user), "%s", DEF_USER);
	snprintf(c->audit_log, sizeof(c->audit_log), "%s", DEF_AUDIT_LOG);
	c->metrics_interval = 15;
	snprintf(c->nft_table, sizeof(c->nft_table), "rampart");
	snprintf(c->nft_set4, sizeof(c->nft_set4), "knock4");
	snprintf(c->nft_set6, sizeof(c->nft_set6), "knock6");
	c->log_level = LOG_LVL_INFO;
}

/* ---- typed values ---- */

struct choice {
	const char	*name;
	int		 value;
};

static const struct choice yes_no[] = {
	{ "yes", 1 }, { "no", 0 }, { NULL, 0 }
};
static const struct choice modes[] = {
	{ "source", KNOCKD_MODE_SOURCE }, { "explicit", KNOCKD_MODE_EXPLICIT },
	{ "both", KNOCKD_MODE_BOTH }, { NULL, 0 }
};
static const struct choice levels[] = {
	{ "error", LOG_LVL_ERROR }, { "info", LOG_LVL_INFO },
	{ "verbose", LOG_LVL_VERBOSE }, { "debug", LOG_LVL_DEBUG },
	{ NULL, 0 }
};

#define NFT_FIRST	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define NFT_CHARS	NFT_FIRST "0123456789_"

/* What is wrong with a text value of kw's type, or NULL if nothing. */
static const char *
text_problem(const struct keyword *kw, const char *s, char *why, size_t len)
{
	size_t n = strlen(s);

	switch (kw->type) {
	case T_PATH:
	case T_OPTPATH:
		if (s[0] != '/')
			return "is not an absolute path";
		if (n < kw->size)
			return NULL;
		snprintf(why, len, "is longer than %zu bytes", kw->size - 1);
		return why;
	case T_NFTNAME:
		/* What nft accepts unquoted. */
		if (n > 0 && n < kw->size && strchr(NFT_FIRST, s[0]) != NULL &&
		    strspn(s, NFT_CHARS) == n)
			return NULL;
		snprintf(why, len, "is not an nftables name (a letter, then "
		    "letters, digits or '_'; at most %zu characters)",
		    kw->size - 1);
		return why;
	case T_USER:
		if (strcmp(s, "root") == 0)
			return "is refused: knockd parses network bytes and "
			    "keeps only CAP_NET_ADMIN, never root";
		if (conv_name_ok(s, kw->size - 1))
			return NULL;
		snprintf(why, len, "is not a valid user name (lower case "
		    "letters, digits, '_', '-', '.'; starting with a letter "
		    "or '_'; at most %zu characters)", kw->size - 1);
		return why;
	default:
		return NULL;
	}
}

/* "source, explicit or both" */
static void
choice_list(const struct choice *ch, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; ch[i].name != NULL; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    i == 0 ? "" : ch[i + 1].name == NULL ? " or " : ", ",
		    ch[i].name);
}

static int
set_choice(const struct keyword *kw, const char *s, int *out, char *why,
    size_t len)
{
	char list[128];
	size_t i;

	for (i = 0; kw->choices[i].name != NULL; i++) {
		if (strcasecmp(kw->choices[i].name, s) == 0) {
			*out = kw->choices[i].value;
			return 0;
		}
	}
	choice_list(kw->choices, list, sizeof(list));
	snprintf(why, len, "is not %s", list);
	return -1;
}

/*
 * conv_duration over its whole range, then the keyword's range said in
 * both directions ("0s" is out of range, not garbage).
 */
static int
set_duration(struct knockd_parser *p, const struct keyword *kw,
    const char *s, unsigned long *out)
{
	char err[DIAG_MSG_MAX], lo[32], hi[32], tmp[80];
	unsigned long v = 0;
	int zero = s[0] == '0' && strspn(s, "0smhd") == strlen(s);

	if (!zero && conv_duration(s, (unsigned long)-1, &v, err,
	    sizeof(err)) != 0) {
		perr(p, "%s: %s", kw->name, err);
		return -1;
	}
	if (zero || v < kw->min || v > kw->max) {
		conv_duration_str(kw->min, lo, sizeof(lo));
		conv_duration_str(kw->max, hi, sizeof(hi));
		perr(p, "%s: duration \"%s\" is out of range (%s to %s)",
		    kw->name, q(s, tmp, sizeof(tmp)), lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int
set_number(struct knockd_parser *p, const struct keyword *kw, const char *s,
    char *field)
{
	char err[DIAG_MSG_MAX];
	unsigned long v;

	if (conv_uint(s, kw->min, kw->max, &v, err, sizeof(err)) != 0) {
		perr(p, "%s: %s", kw->name, err);
		return -1;
	}
	if (kw->type == T_SIZE)
		*(size_t *)(void *)field = v;
	else
		*(unsigned long *)(void *)field = v;
	return 0;
}

/* One typed value into the field the keyword names. */
static int
set_typed(struct knockd_parser *p, const struct keyword *kw, const char *s)
{
	char why[DIAG_MSG_MAX], tmp[80], *field = (char *)&p->c + kw->off;
	const char *bad = NULL;

	switch (kw->type) {
	case T_DURATION:
		return set_duration(p, kw, s, (unsigned long *)(void *)field);
	case T_ULONG:
	case T_SIZE:
		return set_number(p, kw, s, field);
	case T_CHOICE:
		if (set_choice(kw, s, (int *)(void *)field, why,
		    sizeof(why)) != 0)
			bad = why;
		break;
	case T_OPTPATH:
		if (strcasecmp(s, "none") == 0) {
			field[0] = '\0';
			return 0;
		}
		/* FALLTHROUGH */
	default:
		if ((bad = text_problem(kw, s, why, sizeof(why))) == NULL)
			snprintf(field, kw->size, "%s", s);
		break;
	}
	if (bad == NULL)
		return 0;
	perr(p, "%s: \"%s\" %s", kw->name, q(s, tmp, sizeof(tmp)), bad);
	return -1;
}

/* ---- keywords with a syntax of their own ---- */

static int
kw_listen(struct knockd_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	struct addr a;
	char tmp[80];
	size_t i;

	(void)ac;
	if (addr_parse(av[1], &a) != 0) {
		perr(p, "%s: \"%s\" is not a numeric IP address (the port is "
		    "ListenPort; host names are not resolved)", kw->name,
		    q(av[1], tmp, sizeof(tmp)));
		return -1;
	}
	for (i = 0; i < p->c.nlisten; i++) {
		if (addr_eq(&p->c.listen[i], &a)) {
			perr(p, "%s %s given twice (first at line %lu)",
			    kw->name, q(av[1], tmp, sizeof(tmp)),
			    p->listen_line[i]);
			return -1;
		}
	}
	if (p->c.nlisten >= KNOCKD_CONF_MAX_LISTEN) {
		perr(p, "%s: more than %d addresses", kw->name,
		    KNOCKD_CONF_MAX_LISTEN);
		return -1;
	}
	p->listen_line[p->c.nlisten] = p->line;
	p->c.listen[p->c.nlisten++] = a;
	return 0;
}

/* One port number, 1-65535, digits only. */
static int
port_number(struct knockd_parser *p, const char *what, const char *s,
    unsigned int *out)
{
	char err[DIAG_MSG_MAX], tmp[80];
	unsigned long v;

	if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s)) {
		perr(p, "%s: \"%s\" is not a port number", what,
		    q(s, tmp, sizeof(tmp)));
		return -1;
	}
	if (conv_uint(s, 1, 65535, &v, err, sizeof(err)) != 0) {
		perr(p, "%s: port %s", what, err);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

static int
kw_listenport(struct knockd_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	(void)ac;
	return port_number(p, kw->name, av[1], &p->c.listen_port);
}

/* "22" or "22,2222": single ports, each once (no ranges: doors are few). */
static int
kw_ports(struct knockd_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	unsigned int port[KNOCK_NFT_MAX_PORTS];
	size_t n = 0, i;
	char *s, *end;

	(void)ac;
	for (s = av[1];; s = end + 1) {
		if ((end = strchr(s, ',')) != NULL)
			*end = '\0';
		if (n >= KNOCK_NFT_MAX_PORTS) {
			perr(p, "%s: more than %d ports", kw->name,
			    KNOCK_NFT_MAX_PORTS);
			return -1;
		}
		if (port_number(p, kw->name, s, &port[n]) != 0)
			return -1;
		for (i = 0; i < n; i++) {
			if (port[i] == port[n]) {
				perr(p, "%s: port %u listed twice", kw->name,
				    port[n]);
				return -1;
			}
		}
		n++;
		if (end == NULL)
			break;
	}
	memcpy(p->c.ports, port, n * sizeof(port[0]));
	p->c.nports = n;
	return 0;
}

/* One or two files, on one line or two; the first named is the newest. */
static int
kw_serverkey(struct knockd_parser *p, const struct keyword *kw, int ac,
    char **av)
{
	struct knockd_conf *c = &p->c;
	char tmp[80], why[DIAG_MSG_MAX];
	const char *bad;
	size_t i;
	int j;

	for (j = 1; j < ac; j++) {
		for (i = 0; i < c->nserver_keys; i++) {
			if (strcmp(c->server_keys[i], av[j]) == 0) {
				perr(p, "%s %s given twice (first at line "
				    "%lu)", kw->name, q(av[j], tmp,
				    sizeof(tmp)), p->key_line[i]);
				return -1;
			}
		}
		if (c->nserver_keys >= KNOCKD_CONF_MAX_KEYS) {
			perr(p, "%s: more than %d keys (the new one and the "
			    "old one)", kw->name, KNOCKD_CONF_MAX_KEYS);
			return -1;
		}
		if ((bad = text_problem(kw, av[j], why, sizeof(why))) != NULL) {
			perr(p, "%s: \"%s\" %s", kw->name, q(av[j], tmp,
			    sizeof(tmp)), bad);
			return -1;
		}
		snprintf(c->server_keys[c->nserver_keys], PATH_MAX, "%s",
		    av[j]);
		p->key_line[c->nserver_keys++] = p->line;
	}
	return 0;
}

#define F(f)	offsetof(struct knockd_conf, f), \
		sizeof(((struct knockd_conf *)0)->f)
#define B(f)	offsetof(struct knockd_conf, budget.f), 0
#define NOF	0, 0

static const struct keyword keywords[] = {
	{ "ListenAddress", T_OTHER, NOF, 0, 0, 1, 1, NULL,
	    "ListenAddress ADDR", kw_listen },
	{ "ListenPort", T_OTHER, NOF, 0, 0, 1, 0, NULL, "ListenPort N",
	    kw_listenport },
	{ "ServerKey", T_PATH, 0, PATH_MAX, 0, 0, KNOCKD_CONF_MAX_KEYS, 1,
	    NULL, "ServerKey /PATH [/OLDPATH]", kw_serverkey },
	{ "Policy", T_PATH, F(policy), 0, 0, 1, 0, NULL, "Policy /PATH",
	    NULL },
	{ "Ports", T_OTHER, NOF, 0, 0, 1, 0, NULL, "Ports PORT[,PORT...]",
	    kw_ports },
	{ "AddressMode", T_CHOICE, F(address_mode), 0, 0, 1, 0, modes,
	    "AddressMode source|explicit|both", NULL },
	{ "KnockWindow", T_DURATION, F(window), 5, 120, 1, 0, NULL,
	    "KnockWindow DURATION", NULL },
	{ "OpenTime", T_DURATION, F(open_time), 1, 3600, 1, 0, NULL,
	    "OpenTime DURATION", NULL },
	{ "OpenRate", T_ULONG, B(open_rate), 1, RATE_MAX, 1, 0, NULL,
	    "OpenRate N", NULL },
	{ "ReturningRate", T_ULONG, B(returning_rate), 1, RATE_MAX, 1, 0,
	    NULL, "ReturningRate N", NULL },
	{ "ReturningTime", T_DURATION, B(returning_time), 60, 90 * DAY, 1, 0,
	    NULL, "ReturningTime DURATION", NULL },
	{ "SourceRate", T_ULONG, B(source_rate), 1, RATE_MAX, 1, 0, NULL,
	    "SourceRate N", NULL },
	{ "SourceBurst", T_ULONG, B(source_burst), 1, RATE_MAX, 1, 0, NULL,
	    "SourceBurst N", NULL },
	{ "UserRate", T_ULONG, B(user_rate), 1, 600, 1, 0, NULL,
	    "UserRate N", NULL },
	{ "UserBurst", T_ULONG, B(user_burst), 1, 1000, 1, 0, NULL,
	    "UserBurst N", NULL },
	{ "SeenCacheSize", T_SIZE, F(seen_cache), TABLE_MIN, TABLE_MAX, 1, 0,
	    NULL, "SeenCacheSize N", NULL },
	{ "ReplayCacheSize", T_SIZE, F(replay_cache), TABLE_MIN, TABLE_MAX, 1,
	    0, NULL, "ReplayCacheSize N", NULL },
	{ "SourceTableSize", T_SIZE, B(source_table), TABLE_MIN, TABLE_MAX, 1,
	    0, NULL, "SourceTableSize N", NULL },
	{ "ReturningTableSize", T_SIZE, B(returning_table), TABLE_MIN,
	    TABLE_MAX, 1, 0, NULL, "ReturningTableSize N", NULL },
	{ "BindSocket", T_OPTPATH, F(bind_socket), 0, 0, 1, 0, NULL,
	    "BindSocket /PATH | none", NULL },
	{ "User", T_USER, F(user), 0, 0, 1, 0, NULL, "User NAME", NULL },
	{ "AuditLog", T_PATH, F(audit_log), 0, 0, 1, 0, NULL,
	    "AuditLog /PATH", NULL },
	{ "MetricsFile", T_OPTPATH, F(metrics_file), 0, 0, 1, 0, NULL,
	    "MetricsFile /PATH | none", NULL },
	{ "MetricsInterval", T_DURATION, F(metrics_interval), 1, 3600, 1, 0,
	    NULL, "MetricsInterval DURATION", NULL },
	{ "NftTable", T_NFTNAME, F(nft_table), 0, 0, 1, 0, NULL,
	    "NftTable NAME", NULL },
	{ "NftSet4", T_NFTNAME, F(nft_set4), 0, 0, 1, 0, NULL, "NftSet4 NAME",
	    NULL },
	{ "NftSet6", T_NFTNAME, F(nft_set6), 0, 0, 1, 0, NULL, "NftSet6 NAME",
	    NULL },
	{ "NftCreate", T_CHOICE, F(nft_create), 0, 0, 1, 0, yes_no,
	    "NftCreate yes|no", NULL },
	{ "LogLevel", T_CHOICE, F(log_level), 0, 0, 1, 0, levels,
	    "LogLevel error|info|verbose|debug", NULL },
};

#undef F
#undef B
#undef NOF

#define NKEYWORDS	(sizeof(keywords) / sizeof(keywords[0]))

/* ---- lines ---- */

static const struct keyword *
find_keyword(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYWORDS; i++) {
		if (strcasecmp(keywords[i].name, name) == 0)
			return &keywords[i];
	}
	return NULL;
}

static void
keyword_line(struct knockd_parser *p, unsigned long *seen, int ac, char **av)
{
	const struct keyword *kw;
	char tmp[80];
	size_t i;

	if ((kw = find_keyword(av[0])) == NULL) {
		perr(p, "unknown keyword \"%s\"%s", q(av[0], tmp, sizeof(tmp)),
		    strchr(av[0], '=') != NULL ?
		    " (write \"Keyword value\", without '=')" : "");
		return;
	}
	i = (size_t)(kw - keywords);
	if (ac < 2 || ac - 1 > kw->maxargs) {
		perr(p, "%s: %s; usage: %s", kw->name, ac < 2 ?
		    "missing value" : "too many values", kw->usage);
		return;
	}
	if (seen[i] != 0 && !kw->repeat) {
		perr(p, "%s given twice (first at line %lu)", kw->name,
		    seen[i]);
		return;
	}
	if (seen[i] == 0)
		seen[i] = p->line;
	if (kw->fn != NULL)
		(void)kw->fn(p, kw, ac, av);
	else
		(void)set_typed(p, kw, av[1]);
}

/* ---- whole-file checks ---- */

static void
check_whole(struct knockd_parser *p, const unsigned long *seen)
{
	const struct knockd_conf *c = &p->c;
	size_t set6_kw = (size_t)(find_keyword("NftSet6") - keywords);

	if (c->nserver_keys == 0)
		diag_at(&p->d, p->file, 0, "ServerKey is missing (the file "
		    "\"rampartctl knock keygen --server\" writes)");
	if (strcmp(c->nft_set4, c->nft_set6) == 0)
		diag_at(&p->d, p->file, seen[set6_kw], "NftSet6: \"%s\" is "
		    "also NftSet4 (IPv4 and IPv6 need a set each)",
		    c->nft_set6);
}

int
knockd_conf_load_buf(const char *name, const char *buf, size_t len,
    struct knockd_conf *c, diag_fn *fn, void *ctx)
{
	struct knockd_parser *p;
	char words[TEXTFILE_LINE_MAX + 1], err[DIAG_MSG_MAX], *av[MAX_WORDS];
	unsigned long seen[NKEYWORDS];
	const char *line;
	size_t off = 0, linelen;
	int ac, r = -1;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		if (fn != NULL)
			fn(ctx, "out of memory");
		return -1;
	}
	memset(seen, 0, sizeof(seen));
	knockd_conf_defaults(&p->c);
	p->d.fn = fn;
	p->d.ctx = ctx;
	p->file = name;
	while (textfile_next(buf, len, &off, &line, &linelen)) {
		p->line++;
		ac = textfile_words(line, linelen, words, av, MAX_WORDS, 1,
		    err, sizeof(err));
		if (ac == -1)
			perr(p, "%s", err);
		else if (ac == -2)
			perr(p, "more than %d words on one line", MAX_WORDS);
		else if (ac > 0)
			keyword_line(p, seen, ac, av);
	}
	check_whole(p, seen);
	if (p->d.count == 0) {
		*c = p->c;
		r = 0;
	}
	free(p);
	return r;
}

int
knockd_conf_load(const char *path, struct knockd_conf *c, diag_fn *fn,
    void *ctx)
{
	struct diag d = { fn, ctx, 0 };
	char err[DIAG_MSG_MAX], *buf = NULL;
	size_t len = 0;
	int r = -1;

	if (textfile_read(path, &buf, &len, err, sizeof(err)) == 0)
		r = knockd_conf_load_buf(path, buf, len, c, fn, ctx);
	else
		diag_at(&d, path, 0, "%s", err);
	free(buf);
	return r;
}

void
knockd_conf_nft(const struct knockd_conf *c, struct knock_nft_conf *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->table, sizeof(n->table), "%s", c->nft_table);
	snprintf(n->set4, sizeof(n->set4), "%s", c->nft_set4);
	snprintf(n->set6, sizeof(n->set6), "%s", c->nft_set6);
	n->nports = c->nports < KNOCK_NFT_MAX_PORTS ? c->nports :
	    KNOCK_NFT_MAX_PORTS;
	memcpy(n->ports, c->ports, n->nports * sizeof(n->ports[0]));
	n->create = c->nft_create;
}

/* ---- dump ---- */

/* The keywords with a handler of their own, in their own syntax. */
static void
dump_other(const struct knockd_conf *c, const struct keyword *kw,
    const char *name, FILE *f)
{
	char host[ADDR_STRLEN];
	size_t i;

	if (kw->fn == kw_listen) {
		if (c->nlisten == 0)
			fprintf(f, "%s 0.0.0.0\n%s ::\n", name, name);
		for (i = 0; i < c->nlisten && i < KNOCKD_CONF_MAX_LISTEN; i++) {
			addr_ntop(&c->listen[i], host, sizeof(host));
			fprintf(f, "%s %s\n", name, host);
		}
	} else if (kw->fn == kw_listenport)
		fprintf(f, "%s %u\n", name, c->listen_port);
	else if (kw->fn == kw_serverkey) {
		for (i = 0; i < c->nserver_keys && i < KNOCKD_CONF_MAX_KEYS;
		    i++)
			fprintf(f, "%s %.*s\n", name, PATH_MAX,
			    c->server_keys[i]);
	} else if (kw->fn == kw_ports) {
		fprintf(f, "%s ", name);
		for (i = 0; i < c->nports && i < KNOCK_NFT_MAX_PORTS; i++)
			fprintf(f, "%s%u", i > 0 ? "," : "", c->ports[i]);
		fprintf(f, "\n");
	}
}

static const char *
choice_name(const struct choice *ch, int value)
{
	for (; ch->name != NULL; ch++) {
		if (ch->value == value)
			return ch->name;
	}
	return "?";
}

static void
dump_keyword(const struct knockd_conf *c, const struct keyword *kw, FILE *f)
{
	const char *field = (const char *)c + kw->off;
	char name[32], buf[32];
	size_t i;

	for (i = 0; kw->name[i] != '\0' && i < sizeof(name) - 1; i++)
		name[i] = (char)(kw->name[i] | 0x20);
	name[i] = '\0';
	if (kw->fn != NULL) {
		dump_other(c, kw, name, f);
		return;
	}
	switch (kw->type) {
	case T_DURATION:
		conv_duration_str(*(const unsigned long *)(const void *)field,
		    buf, sizeof(buf));
		fprintf(f, "%s %s\n", name, buf);
		break;
	case T_ULONG:
		fprintf(f, "%s %lu\n", name,
		    *(const unsigned long *)(const void *)field);
		break;
	case T_SIZE:
		fprintf(f, "%s %zu\n", name,
		    *(const size_t *)(const void *)field);
		break;
	case T_CHOICE:
		fprintf(f, "%s %s\n", name, choice_name(kw->choices,
		    *(const int *)(const void *)field));
		break;
	default:
		fprintf(f, "%s %.*s\n", name, PATH_MAX,
		    field[0] != '\0' ? field : "none");
		break;
	}
}

void
knockd_conf_dump(const struct knockd_conf *c, FILE *f)
{
	size_t i;

	for (i = 0; i < NKEYWORDS; i++)
		dump_keyword(c, &keywords[i], f);
}
