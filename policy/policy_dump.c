/*
 * policy_dump: the loaded policy printed back in the policy language,
 * normalised: lower case, networks in canonical form, keys-file contents
 * expanded into key lines, every default made explicit, and each item's
 * origin as a comment.  The output parses to the same policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"
#include "textfile.h"

/* Longest origin comment; a longer one is cut with "...". */
#define ORIGIN_MAX	256

void
policy_rule_str(const struct rule *r, char *buf, size_t len)
{
	char ports[CONV_PORTS_MAX * 12], net[ADDR_STRLEN];
	size_t i, o;

	o = (size_t)snprintf(buf, len, "%s",
	    r->action == RULE_DENY ? "deny" : "allow");
	for (i = 0; i < r->ndests && o < len; i++) {
		if (r->dests[i].is_name)
			o += (size_t)snprintf(buf + o, len - o, " %s",
			    r->dests[i].pattern);
		else {
			addr_net_ntop(&r->dests[i].net, net, sizeof(net));
			o += (size_t)snprintf(buf + o, len - o, " %s", net);
		}
	}
	conv_ports_str(r->ports, r->nports, ports, sizeof(ports));
	if (o < len)
		snprintf(buf + o, len - o, " port %s", ports);
}

/*
 * indent, item and, as a comment, where it came from.  The origin is
 * escaped (a file name may hold any byte) and cut so that the line stays
 * within what the parser reads back; it is only a note.
 */
static void
dump_line(FILE *f, const char *indent, const char *item, const char *origin)
{
	char safe[ORIGIN_MAX];
	size_t used = strlen(indent) + strlen(item) + 3, room;

	room = used < TEXTFILE_LINE_MAX ? TEXTFILE_LINE_MAX - used + 1 : 0;
	if (room > sizeof(safe))
		room = sizeof(safe);
	if (room < 8) {
		fprintf(f, "%s%s\n", indent, item);
		return;
	}
	diag_safe(origin, strlen(origin), safe, room);
	fprintf(f, "%s%s\t# %s\n", indent, item, safe);
}

/*
 * A list written as "HEAD word... TAIL", split over several such lines
 * where one would be longer than the parser reads (normalising can make
 * a line longer: "10.0.0.1" becomes "10.0.0.1/32").  Nothing changes:
 * from and member lines add to one set, and rules with the same action
 * and ports that share out the destinations decide the same.
 */
struct wrap {
	FILE		*f;
	const char	*indent, *head, *tail, *origin;	/* origin may be NULL */
	char		 line[TEXTFILE_LINE_MAX + 1];
	size_t		 len;				/* 0: none started */
};

static void
wrap_start(struct wrap *w, FILE *f, const char *indent, const char *head,
    const char *tail, const char *origin)
{
	w->f = f;
	w->indent = indent;
	w->head = head;
	w->tail = tail;
	w->origin = origin;
	w->len = 0;
}

static void
wrap_flush(struct wrap *w)
{
	if (w->len == 0)
		return;
	snprintf(w->line + w->len, sizeof(w->line) - w->len, "%s", w->tail);
	if (w->origin != NULL)
		dump_line(w->f, w->indent, w->line, w->origin);
	else
		fprintf(w->f, "%s%s\n", w->indent, w->line);
	w->len = 0;
}

static void
wrap_word(struct wrap *w, const char *word)
{
	if (w->len > 0 && strlen(w->indent) + w->len + 1 + strlen(word) +
	    strlen(w->tail) > TEXTFILE_LINE_MAX)
		wrap_flush(w);
	if (w->len == 0)
		w->len = (size_t)snprintf(w->line, sizeof(w->line), "%s",
		    w->head);
	w->len += (size_t)snprintf(w->line + w->len, sizeof(w->line) - w->len,
	    " %s", word);
	if (w->len >= sizeof(w->line))
		w->len = sizeof(w->line) - 1;
}

static void
dump_rules(const struct policy *pol, FILE *f, enum rule_scope scope,
    size_t owner, const char *indent)
{
	char ports[CONV_PORTS_MAX * 12], tail[CONV_PORTS_MAX * 12 + 8];
	char origin[ORIGIN_MAX], net[ADDR_STRLEN];
	const struct rule *r;
	struct wrap w;
	size_t i, j;

	for (i = 0; i < pol->nrules; i++) {
		r = &pol->rules[i];
		if (r->scope != scope || (scope != SCOPE_GLOBAL &&
		    r->owner != owner))
			continue;
		conv_ports_str(r->ports, r->nports, ports, sizeof(ports));
		snprintf(tail, sizeof(tail), " port %s", ports);
		snprintf(origin, sizeof(origin), "%s:%lu", pol->file, r->line);
		wrap_start(&w, f, indent, r->action == RULE_DENY ? "deny" :
		    "allow", tail, origin);
		for (j = 0; j < r->ndests; j++) {
			if (r->dests[j].is_name) {
				wrap_word(&w, r->dests[j].pattern);
				continue;
			}
			addr_net_ntop(&r->dests[j].net, net, sizeof(net));
			wrap_word(&w, net);
		}
		wrap_flush(&w);
	}
}

static void
dump_limits(FILE *f, const struct policy_limits *l, const char *indent)
{
	char idle[32], life[32];

	conv_duration_str(l->idle_timeout, idle, sizeof(idle));
	conv_duration_str(l->max_session_time, life, sizeof(life));
	fprintf(f, "%smax-connections %lu\n%smax-channels %lu\n"
	    "%sidle-timeout %s\n%smax-session-time %s\n",
	    indent, l->max_connections, indent, l->max_channels,
	    indent, idle, indent, life);
}

static void
dump_user(const struct policy *pol, const struct policy_user *u, FILE *f)
{
	char net[ADDR_STRLEN], item[64], origin[ORIGIN_MAX], *line;
	struct wrap w;
	size_t i;

	snprintf(item, sizeof(item), "user %s", u->name);
	snprintf(origin, sizeof(origin), "%s:%lu", pol->file, u->line);
	fprintf(f, "\n");
	dump_line(f, "", item, origin);
	for (i = 0; i < u->nkeys; i++) {
		if ((line = pubkey_to_line(&u->keys[i].key)) == NULL)
			continue;
		dump_line(f, u->keys[i].knock_only ? "\tknock-key " :
		    "\tkey ", line, u->keys[i].where);
		free(line);
	}
	wrap_start(&w, f, "\t", "member", "", NULL);
	for (i = 0; i < u->ngroups; i++)
		wrap_word(&w, pol->groups[u->groups[i]].name);
	wrap_flush(&w);
	fprintf(f, "\ttotp %s\n", u->totp_none ? "none" : "required");
	fprintf(f, "\tknock %s\n", u->knock_required ? "required" :
	    "optional");
	fprintf(f, "\tdns %s\n", u->dns_allowed ? "allow" : "deny");
	wrap_start(&w, f, "\t", "from", "", NULL);
	for (i = 0; i < u->nfrom; i++) {
		addr_net_ntop(&u->from[i], net, sizeof(net));
		wrap_word(&w, net);
	}
	wrap_flush(&w);
	if (u->expires_line != 0)
		fprintf(f, "\texpires %s\n", u->expires_text);
	dump_limits(f, &u->eff, "\t");
	dump_rules(pol, f, SCOPE_USER, (size_t)(u - pol->users), "\t");
}

void
policy_dump(const struct policy *pol, FILE *f)
{
	char net[ADDR_STRLEN], item[64], origin[ORIGIN_MAX];
	size_t i;

	fprintf(f, "# effective policy from %s\n", diag_safe(pol->file,
	    strlen(pol->file), origin, sizeof(origin)));
	fprintf(f, "# built-in deny list (always applied unless lifted):\n");
	for (i = 0; i < policy_builtin_ndeny; i++)
		fprintf(f, "#\tdeny %s port any\n", policy_builtin_deny[i]);
	for (i = 0; i < pol->nlifts; i++) {
		addr_net_ntop(&pol->lifts[i].net, net, sizeof(net));
		snprintf(item, sizeof(item), "lift-default-deny %s", net);
		snprintf(origin, sizeof(origin), "%s:%lu: WARNING: makes "
		    "built-in denied addresses reachable", pol->file,
		    pol->lifts[i].line);
		dump_line(f, "", item, origin);
	}
	if (pol->knock != KNOCK_UNSET)
		fprintf(f, "knock %s\n", pol->knock == KNOCK_REQUIRED ?
		    "required" : "optional");
	if (pol->dns != DNS_UNSET)
		fprintf(f, "dns %s\n", pol->dns == DNS_ALLOW ? "allow" :
		    "deny");
	dump_rules(pol, f, SCOPE_GLOBAL, 0, "");
	for (i = 0; i < pol->ngroups; i++) {
		snprintf(item, sizeof(item), "group %s", pol->groups[i].name);
		snprintf(origin, sizeof(origin), "%s:%lu", pol->file,
		    pol->groups[i].line);
		fprintf(f, "\n");
		dump_line(f, "", item, origin);
		if (pol->groups[i].dns != DNS_UNSET)
			fprintf(f, "\tdns %s\n", pol->groups[i].dns ==
			    DNS_ALLOW ? "allow" : "deny");
		dump_rules(pol, f, SCOPE_GROUP, i, "\t");
	}
	for (i = 0; i < pol->nusers; i++)
		dump_user(pol, &pol->users[i], f);
}

void
policy_user_rules_text(const struct policy *pol, const char *user,
    char *buf, size_t len)
{
	const struct policy_user *u = policy_user_find(pol, user);
	char text[1024];
	size_t i, o = 0, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (u == NULL)
		return;
	for (i = 0; i < pol->nrules; i++) {
		if (!policy_rule_applies(pol, u, &pol->rules[i]))
			continue;
		policy_rule_str(&pol->rules[i], text, sizeof(text));
		n = strlen(text) + 3;
		if (o + n + 5 > len) {
			snprintf(buf + o, len - o, "  ...\n");
			return;
		}
		o += (size_t)snprintf(buf + o, len - o, "  %s\n", text);
	}
}
