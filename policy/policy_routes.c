/*
 * policy_routes: the IPv4 networks an sshuttle client should send through
 * the gateway for a user -- the address allow rules, minus everything
 * that is denied to the user on every port, minus the gateway's own
 * addresses -- as the smallest list of prefixes that covers exactly that
 * set.
 *
 * Every net that matters (allows, denies, the built-in list, its lifts,
 * the gateway's addresses) is a prefix, so the set is decided by a walk
 * down the binary tree of prefixes: a prefix that no such net lies
 * strictly inside is uniform (all in or all out), and its value follows
 * from the nets that contain it.  Only prefixes with a boundary inside
 * are split, so the walk visits at most 2 * 32 nodes per net.  Two full
 * halves make a full parent, which is what makes the list minimal: a
 * prefix is emitted only when its sibling is not full.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

enum rkind { K_ALLOW, K_DENY, K_BUILTIN, K_LIFT, K_SELF, K_NKINDS };

struct rnet {
	uint32_t	base;	/* host order, host bits zero */
	unsigned int	bits;
	enum rkind	kind;
};

/* How many nets of each kind contain the current prefix. */
struct rcount {
	size_t	n[K_NKINDS];
};

struct rwalk {
	struct rnet	*nets;
	size_t		 nnets;
	struct addr_net	*out;
	size_t		 nout;
	int		 failed;	/* out of memory */
};

enum rstate { R_EMPTY, R_FULL, R_MIXED };

static uint32_t
mask(unsigned int bits)
{
	return bits == 0 ? 0 : 0xffffffffU << (32 - bits);
}

static uint32_t
v4_get(const struct addr *a)
{
	return (uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 |
	    (uint32_t)a->a[2] << 8 | (uint32_t)a->a[3];
}

static int
add_net(struct rwalk *w, const struct addr_net *n, enum rkind kind)
{
	struct rnet *r;

	if (n->base.af != AF_INET || n->bits > 32)
		return 0;
	/* On failure the old array stays valid, for the caller to free. */
	if ((r = policy_grow(w->nets, &w->nnets, sizeof(*w->nets))) == NULL)
		return -1;
	w->nets = r;
	r = &w->nets[w->nnets - 1];
	r->base = v4_get(&n->base) & mask(n->bits);
	r->bits = n->bits;
	r->kind = kind;
	return 0;
}

/* 1 if the rule's ports are every port, 1..65535. */
static int
all_ports(const struct rule *r)
{
	unsigned long p = 1;
	size_t i;
	int moved;

	/* Ranges may come in any order and overlap: sweep until stuck. */
	do {
		moved = 0;
		for (i = 0; i < r->nports && p <= 65535; i++) {
			if (r->ports[i].lo <= p && r->ports[i].hi >= p) {
				p = (unsigned long)r->ports[i].hi + 1;
				moved = 1;
			}
		}
	} while (moved && p <= 65535);
	return p > 65535;
}

static int
collect(struct rwalk *w, const struct policy *pol,
    const struct policy_user *u, const struct addr *self, size_t nself)
{
	const struct rule *r;
	struct addr_net net;
	size_t i, j;

	for (i = 0; i < pol->nrules; i++) {
		r = &pol->rules[i];
		if (!policy_rule_applies(pol, u, r))
			continue;
		/*
		 * An allow on some ports is a route: the gateway decides each
		 * connection.  A deny on some ports leaves the others
		 * reachable, so only a deny of every port removes a net.
		 */
		if (r->action == RULE_DENY && !all_ports(r))
			continue;
		for (j = 0; j < r->ndests; j++) {
			if (!r->dests[j].is_name && add_net(w,
			    &r->dests[j].net, r->action == RULE_ALLOW ?
			    K_ALLOW : K_DENY) != 0)
				return -1;
		}
	}
	for (i = 0; i < policy_builtin_ndeny; i++) {
		if (addr_parse_net(policy_builtin_deny[i], &net) == 0 &&
		    add_net(w, &net, K_BUILTIN) != 0)
			return -1;
	}
	for (i = 0; i < pol->nlifts; i++) {
		if (add_net(w, &pol->lifts[i].net, K_LIFT) != 0)
			return -1;
	}
	for (i = 0; i < nself; i++) {
		net.base = self[i];
		addr_normalise(&net.base);
		net.bits = 32;
		if (add_net(w, &net, K_SELF) != 0)
			return -1;
	}
	return 0;
}

/* The value of a prefix no net lies strictly inside, from its containers. */
static int
uniform_in(const struct rcount *c)
{
	return c->n[K_ALLOW] > 0 && c->n[K_DENY] == 0 && c->n[K_SELF] == 0 &&
	    (c->n[K_BUILTIN] == 0 || c->n[K_LIFT] > 0);
}

static void
emit(struct rwalk *w, uint32_t base, unsigned int bits)
{
	struct addr_net *n;

	if (w->failed)
		return;
	if ((n = policy_grow(w->out, &w->nout, sizeof(*w->out))) == NULL) {
		w->failed = 1;
		return;
	}
	w->out = n;
	n = &w->out[w->nout - 1];
	n->base.af = AF_INET;
	n->base.a[0] = (uint8_t)(base >> 24);
	n->base.a[1] = (uint8_t)(base >> 16);
	n->base.a[2] = (uint8_t)(base >> 8);
	n->base.a[3] = (uint8_t)base;
	n->bits = bits;
}

/* Move the nets of v[0..n) inside prefix base/bits to the front. */
static size_t
partition(struct rnet *v, size_t n, uint32_t base, unsigned int bits)
{
	struct rnet t;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if ((v[i].base & mask(bits)) == base) {
			t = v[k];
			v[k++] = v[i];
			v[i] = t;
		}
	}
	return k;
}

/*
 * The prefix base/bits: c counts the nets containing it, v[0..n) are the
 * nets strictly inside it.  Emits the parts of a mixed prefix.
 */
static enum rstate
walk(struct rwalk *w, uint32_t base, unsigned int bits, struct rcount c,
    struct rnet *v, size_t n)
{
	struct rcount cc[2];
	enum rstate st[2];
	struct rnet *sub, t;
	uint32_t cb[2];
	size_t k, ns, nl, in, i;

	if (n == 0)
		return uniform_in(&c) ? R_FULL : R_EMPTY;
	/* A net strictly inside has bits > this, so bits < 32 here. */
	cb[0] = base;
	cb[1] = base | (uint32_t)1 << (31 - bits);
	nl = partition(v, n, cb[0], bits + 1);
	for (k = 0; k < 2; k++) {
		sub = k == 0 ? v : v + nl;
		ns = k == 0 ? nl : n - nl;
		/*
		 * A net equal to the half contains it: count it and keep only
		 * the nets strictly inside at the front, for the next level.
		 */
		cc[k] = c;
		in = 0;
		for (i = 0; i < ns; i++) {
			if (sub[i].bits == bits + 1) {
				cc[k].n[sub[i].kind]++;
				continue;
			}
			t = sub[in];
			sub[in++] = sub[i];
			sub[i] = t;
		}
		st[k] = walk(w, cb[k], bits + 1, cc[k], sub, in);
	}
	if (st[0] == st[1] && st[0] != R_MIXED)
		return st[0];
	for (k = 0; k < 2; k++) {
		if (st[k] == R_FULL)
			emit(w, cb[k], bits + 1);
	}
	return R_MIXED;
}

static int
net_cmp(const void *a, const void *b)
{
	const struct addr_net *x = a, *y = b;
	uint32_t ux = v4_get(&x->base), uy = v4_get(&y->base);

	if (ux != uy)
		return ux < uy ? -1 : 1;
	return x->bits < y->bits ? -1 : x->bits > y->bits;
}

int
policy_user_routes(const struct policy *pol, const char *user,
    const struct addr *self, size_t nself, struct addr_net **out,
    size_t *nout)
{
	const struct policy_user *u;
	struct rwalk w;
	struct rcount c;
	size_t i, n;

	*out = NULL;
	*nout = 0;
	if ((u = policy_user_find(pol, user)) == NULL)
		return -1;
	memset(&w, 0, sizeof(w));
	memset(&c, 0, sizeof(c));
	if (collect(&w, pol, u, self, nself) != 0) {
		free(w.nets);
		return -1;
	}
	/* Nets of /0 contain the root; the rest lie inside it. */
	for (i = n = 0; i < w.nnets; i++) {
		if (w.nets[i].bits == 0)
			c.n[w.nets[i].kind]++;
		else
			w.nets[n++] = w.nets[i];
	}
	if (walk(&w, 0, 0, c, w.nets, n) == R_FULL)
		emit(&w, 0, 0);
	free(w.nets);
	if (w.failed) {
		free(w.out);
		return -1;
	}
	if (w.nout > 1)
		qsort(w.out, w.nout, sizeof(*w.out), net_cmp);
	*out = w.out;
	*nout = w.nout;
	return 0;
}
