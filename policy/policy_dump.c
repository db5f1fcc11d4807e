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

static void
dump_rules(const struct policy *pol, FILE *f, enum rule_scope scope,
    size_t owner, const char *indent)
{
	char text[8192];
	const struct rule *r;
	size_t i;

	for (i = 0; i < pol->nrules; i++) {
		r = &pol->rules[i];
		if (r->scope != scope || (scope != SCOPE_GLOBAL &&
		    r->owner != owner))
			continue;
		policy_rule_str(r, text, sizeof(text));
		fprintf(f, "%s%s\t# %s:%lu\n", indent, text, pol->file,
		    r->line);
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
	char net[ADDR_STRLEN], *line;
	size_t i;

	fprintf(f, "\nuser %s\t# %s:%lu\n", u->name, pol->file, u->line);
	for (i = 0; i < u->nkeys; i++) {
		if ((line = pubkey_to_line(&u->keys[i].key)) == NULL)
			continue;
		fprintf(f, "\tkey %s\t# %s\n", line, u->keys[i].where);
		free(line);
	}
	if (u->ngroups > 0) {
		fprintf(f, "\tmember");
		for (i = 0; i < u->ngroups; i++)
			fprintf(f, " %s", pol->groups[u->groups[i]].name);
		fprintf(f, "\n");
	}
	fprintf(f, "\ttotp %s\n", u->totp_none ? "none" : "required");
	if (u->nfrom > 0) {
		fprintf(f, "\tfrom");
		for (i = 0; i < u->nfrom; i++) {
			addr_net_ntop(&u->from[i], net, sizeof(net));
			fprintf(f, " %s", net);
		}
		fprintf(f, "\n");
	}
	if (u->expires_line != 0)
		fprintf(f, "\texpires %s\n", u->expires_text);
	dump_limits(f, &u->eff, "\t");
	dump_rules(pol, f, SCOPE_USER, (size_t)(u - pol->users), "\t");
}

void
policy_dump(const struct policy *pol, FILE *f)
{
	char net[ADDR_STRLEN];
	size_t i;

	fprintf(f, "# effective policy from %s\n", pol->file);
	fprintf(f, "# built-in deny list (always applied unless lifted):\n");
	for (i = 0; i < policy_builtin_ndeny; i++)
		fprintf(f, "#\tdeny %s port any\n", policy_builtin_deny[i]);
	for (i = 0; i < pol->nlifts; i++) {
		addr_net_ntop(&pol->lifts[i].net, net, sizeof(net));
		fprintf(f, "lift-default-deny %s\t# %s:%lu: WARNING: makes "
		    "built-in denied addresses reachable\n", net, pol->file,
		    pol->lifts[i].line);
	}
	dump_rules(pol, f, SCOPE_GLOBAL, 0, "");
	for (i = 0; i < pol->ngroups; i++) {
		fprintf(f, "\ngroup %s\t# %s:%lu\n", pol->groups[i].name,
		    pol->file, pol->groups[i].line);
		dump_rules(pol, f, SCOPE_GROUP, i, "\t");
	}
	for (i = 0; i < pol->nusers; i++)
		dump_user(pol, &pol->users[i], f);
}

static int
user_has_rule(const struct policy *pol, const struct policy_user *u,
    const struct rule *r)
{
	size_t i;

	if (r->scope == SCOPE_GLOBAL)
		return 1;
	if (r->scope == SCOPE_USER)
		return &pol->users[r->owner] == u;
	for (i = 0; i < u->ngroups; i++) {
		if (u->groups[i] == r->owner)
			return 1;
	}
	return 0;
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
		if (!user_has_rule(pol, u, &pol->rules[i]))
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
