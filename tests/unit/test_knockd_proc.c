/*
 * test_knockd_proc: knockd's per-datagram pipeline (PROTOCOL.knock section
 * 8) with real datagrams built by spa.h, a real policy loaded from text and
 * a recording door.  Every one of the 20 drop reasons of section 11 comes
 * from a crafted datagram and is counted; an accepted knock opens the door
 * exactly once, for the right address; the audit records (accepted,
 * rejected with their rate limit, drop summaries) are read back from the
 * file.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "knockd_conf.h"
#include "knockd_proc.h"
#include "log.h"
#include "policy.h"
#include "spa.h"

#define T0	1767225600ULL		/* 2026-01-01T00:00:00Z, a bucket edge */
#define NOW	(T0 + 20)
#define MS	5000000ULL		/* some monotonic milliseconds */

struct ukey {
	uint8_t	pk[32];
	uint8_t	sk[64];
	uint8_t	id[32];
};

/* The audit files live here; teardown empties it even after a failure. */
static char tmpdir[] = "/tmp/test_knockd_proc.XXXXXX";

struct door_rec {
	int		calls;
	int		fail;
	struct addr	a;
	unsigned int	port, seconds;
};

struct bind_rec {
	int			calls;
	int			fail;
	struct knock_bind_msg	m;
};

struct fx {
	struct knockd_conf	 c;
	struct spa_server_key	 keys[2];
	struct policy		*pol;
	struct audit		*audit;
	struct knockd_proc	*p;
	struct door_rec		 door;
	struct bind_rec		 bind;
	char			 path[sizeof(tmpdir) + 16];
};

/* What a knock is made of; knock_default() fills the usual. */
struct spec {
	const char		*user;
	const struct ukey	*signer;
	const uint8_t		*key_id;	/* NULL: the signer's */
	int			 addr_type;
	const char		*addr;
	unsigned int		 port;
	uint64_t		 ts;
	uint8_t			 version, flags;
	const struct spa_server_key *server;
	int			 pad_byte;	/* a non-zero byte after user */
	uint8_t			 nonce[16];	/* out */
};

static struct ukey alice, bob, carol, erin_login, erin_knock, stranger;

static void
ukey_make(struct ukey *k, uint8_t seed0)
{
	uint8_t seed[32];
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(seed0 + i);
	assert_int_equal(crypto_sign_seed_keypair(k->pk, k->sk, seed), 0);
	spa_key_id(k->pk, k->id);
}

/* "ssh-ed25519 BASE64" of k. */
static void
ukey_line(const struct ukey *k, char *buf, size_t len)
{
	uint8_t blob[SPA_ED25519_BLOB_SIZE];
	char b64[128];

	spa_key_blob(k->pk, blob);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(buf, len, "ssh-ed25519 %s", b64);
}

static void
print_diag(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "diag: %s\n", msg);
}

static struct policy *
make_policy(void)
{
	char a[128], b[128], c[128], el[128], ek[128], text[2048];
	struct policy *pol = NULL;

	ukey_line(&alice, a, sizeof(a));
	ukey_line(&bob, b, sizeof(b));
	ukey_line(&carol, c, sizeof(c));
	ukey_line(&erin_login, el, sizeof(el));
	ukey_line(&erin_knock, ek, sizeof(ek));
	snprintf(text, sizeof(text),
	    "user alice\n\tkey %s alice@t\n"
	    "user bob\n\tkey %s\n\tfrom 198.51.100.0/24\n"
	    "user carol\n\tkey %s\n\texpires 2020-01-01\n"
	    "user erin\n\tkey %s\n\tknock-key %s erin-job\n",
	    a, b, c, el, ek);
	assert_int_equal(policy_load_buf("p.conf", text, strlen(text),
	    POLICY_F_NO_FILES, print_diag, NULL, &pol), 0);
	return pol;
}

static int
door_cb(void *ctx, const struct addr *a, unsigned int port,
    unsigned int seconds, char *err, size_t errlen)
{
	struct door_rec *d = ctx;

	d->calls++;
	d->a = *a;
	d->port = port;
	d->seconds = seconds;
	if (d->fail) {
		snprintf(err, errlen, "set knock4 does not exist");
		return -1;
	}
	return 0;
}

static int
bind_cb(void *ctx, const struct knock_bind_msg *m, char *err, size_t errlen)
{
	struct bind_rec *b = ctx;

	b->calls++;
	b->m = *m;
	if (b->fail) {
		snprintf(err, errlen, "Resource temporarily unavailable");
		return -1;
	}
	return 0;
}

/* A pipeline with knockd.conf text (ServerKey added), started at start. */
static struct fx *
fx_new(const char *conf, uint64_t start)
{
	static const char key_line[] = "ServerKey /k\n";
	char text[1024], err[256];
	uint8_t sk[32];
	struct fx *f;
	size_t i;
	int fd;

	assert_non_null(f = calloc(1, sizeof(*f)));
	snprintf(text, sizeof(text), "%s%s", key_line, conf);
	assert_int_equal(knockd_conf_load_buf("k.conf", text, strlen(text),
	    &f->c, print_diag, NULL), 0);
	for (i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)(0x20 + i);
	assert_int_equal(spa_server_key_set(&f->keys[0], sk), 0);
	for (i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)(0x90 + i);
	assert_int_equal(spa_server_key_set(&f->keys[1], sk), 0);
	f->pol = make_policy();
	snprintf(f->path, sizeof(f->path), "%s/audit.XXXXXX", tmpdir);
	assert_true((fd = mkstemp(f->path)) >= 0);
	close(fd);
	assert_non_null(f->audit = audit_open(f->path, "rampart-knockd", 0,
	    err, sizeof(err)));
	assert_non_null(f->p = knockd_proc_new(&f->c, f->keys, 2, start, MS,
	    f->audit));
	knockd_proc_set_policy(f->p, f->pol);
	knockd_proc_set_door(f->p, door_cb, &f->door);
	knockd_proc_set_bind(f->p, bind_cb, &f->bind);
	return f;
}

static void
fx_free(struct fx *f)
{
	knockd_proc_free(f->p);
	audit_close(f->audit);
	policy_free(f->pol);
	unlink(f->path);
	free(f);
}

static void
knock_default(struct spec *s, const struct fx *f)
{
	memset(s, 0, sizeof(*s));
	s->user = "alice";
	s->signer = &alice;
	s->addr_type = SPA_ADDR_SOURCE;
	s->port = 22;
	s->ts = NOW;
	s->version = SPA_VERSION;
	s->server = &f->keys[0];
}

/* The default knock, by user with key k. */
static void
knock_as(struct spec *s, const struct fx *f, const char *user,
    const struct ukey *k)
{
	knock_default(s, f);
	s->user = user;
	s->signer = k;
}

/* The datagram s describes; its nonce goes to s->nonce. */
static void
knock_build(struct spec *s, uint8_t out[SPA_SIZE])
{
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE], sig[64];
	struct spa_inner in;

	memset(&in, 0, sizeof(in));
	in.version = s->version;
	in.flags = s->flags;
	in.port = (uint16_t)s->port;
	in.timestamp = s->ts;
	randombytes_buf(in.nonce, sizeof(in.nonce));
	memcpy(s->nonce, in.nonce, sizeof(s->nonce));
	in.addr_type = (uint8_t)s->addr_type;
	if (s->addr != NULL)
		assert_int_equal(addr_parse(s->addr, &in.addr), 0);
	snprintf(in.user, sizeof(in.user), "%s", s->user);
	memcpy(in.key_id, s->key_id != NULL ? s->key_id : s->signer->id, 32);
	assert_int_equal(spa_encode_signed(&in, s->server->pk, inner, sd), 0);
	if (s->pad_byte)
		inner[46 + strlen(s->user)] = 'x';
	crypto_sign_detached(sig, NULL, sd, sizeof(sd), s->signer->sk);
	assert_int_equal(spa_seal(inner, sig, s->ts, s->server->pk, out), 0);
}

/* The tag of the sealed part for bucket b, as section 6.1 computes it. */
static void
retag(uint8_t pkt[SPA_SIZE], const struct spa_server_key *k, uint64_t b)
{
	uint8_t msg[8 + SPA_SEALED_SIZE];
	int i;

	for (i = 0; i < 8; i++)
		msg[i] = (uint8_t)(b >> (56 - 8 * i));
	memcpy(msg + 8, pkt + SPA_TAG_SIZE, SPA_SEALED_SIZE);
	crypto_generichash(pkt, SPA_TAG_SIZE, msg, sizeof(msg), k->tag_key,
	    sizeof(k->tag_key));
}

static struct addr
ip(const char *s)
{
	struct addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static int
feed(struct fx *f, const uint8_t *pkt, size_t len, const char *src,
    uint64_t now, uint64_t ms)
{
	struct addr a = ip(src);

	return knockd_proc_datagram(f->p, pkt, len, 0, &a, 40000, now, ms);
}

/* A fresh default knock from src at NOW; the reason it got. */
static int
knock_from(struct fx *f, struct spec *s, const char *src)
{
	uint8_t pkt[SPA_SIZE];

	knock_build(s, pkt);
	return feed(f, pkt, sizeof(pkt), src, NOW, MS);
}

static uint64_t
dropped(struct fx *f, int r)
{
	struct knockd_counters n;

	knockd_proc_counters(f->p, &n);
	return r == KNOCKD_ACCEPTED ? n.accepted : n.dropped[r];
}

/* The audit file's lines containing needle; the last one in *last. */
static int
audit_count(const struct fx *f, const char *needle, char *last,
    size_t lastlen)
{
	char line[8192];
	FILE *fp;
	int n = 0;

	assert_non_null(fp = fopen(f->path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, needle) == NULL)
			continue;
		n++;
		if (last != NULL)
			snprintf(last, lastlen, "%s", line);
	}
	fclose(fp);
	return n;
}

static void
assert_has(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void
assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("\"%s\" contains \"%s\"", hay, needle);
}

/* ---- accepted ---- */

static void
test_accept_source(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct addr want = ip("198.51.100.4");
	struct spec s;
	char line[8192], hex[33], fp[64];

	(void)state;
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	assert_int_equal(f->door.calls, 1);
	assert_true(addr_eq(&f->door.a, &want));
	assert_int_equal(f->door.port, 22);
	assert_int_equal(f->door.seconds, 30);
	/* The master hears who opened what, until when, with which knock. */
	assert_int_equal(f->bind.calls, 1);
	assert_string_equal(f->bind.m.user, "alice");
	assert_int_equal(f->bind.m.until, NOW + 30);
	assert_int_equal(f->bind.m.port, 22);
	assert_memory_equal(f->bind.m.key_id, alice.id, 32);
	assert_memory_equal(f->bind.m.knock_id, s.nonce, 16);
	assert_int_equal(dropped(f, KNOCKD_ACCEPTED), 1);
	/* Audited with every field of section 11. */
	assert_int_equal(audit_count(f, "\"knock-accepted\"", line,
	    sizeof(line)), 1);
	sodium_bin2hex(hex, sizeof(hex), s.nonce, 16);
	knockd_proc_fingerprint(alice.id, fp, sizeof(fp));
	assert_has(line, "\"event.outcome\":\"success\"");
	assert_has(line, "\"source.ip\":\"198.51.100.4\"");
	assert_has(line, "\"source.port\":40000");
	assert_has(line, "\"user.name\":\"alice\"");
	assert_has(line, "\"rampart.knock.address\":\"198.51.100.4\"");
	assert_has(line, "\"rampart.knock.mode\":\"source\"");
	assert_has(line, "\"destination.port\":22");
	assert_has(line, "\"rampart.knock.until\":1767225650");
	assert_has(line, fp);
	assert_has(line, hex);
	fx_free(f);
}

static void
test_fingerprint(void **state)
{
	uint8_t seed[32], pk[32], sk[64], id[32];
	char fp[64];
	size_t i;

	(void)state;
	/* The example of PROTOCOL.knock section 13. */
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	spa_key_id(pk, id);
	knockd_proc_fingerprint(id, fp, sizeof(fp));
	assert_string_equal(fp,
	    "SHA256:lbmsoA0yIEcEiVDRnMWuzm+nV+3ZEEpVIURqFoeSspg");
}

static void
test_accept_explicit(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct addr want;
	struct spec s;
	char line[8192];

	(void)state;
	/* Explicit IPv4, knocked from elsewhere. */
	knock_default(&s, f);
	s.addr_type = SPA_ADDR_IPV4;
	s.addr = "203.0.113.7";
	assert_int_equal(knock_from(f, &s, "192.0.2.50"), KNOCKD_ACCEPTED);
	want = ip("203.0.113.7");
	assert_int_equal(f->door.calls, 1);
	assert_true(addr_eq(&f->door.a, &want));
	assert_true(addr_eq(&f->bind.m.addr, &want));
	assert_int_equal(audit_count(f, "\"rampart.knock.mode\":\"explicit\"",
	    line, sizeof(line)), 1);
	assert_has(line, "\"rampart.knock.address\":\"203.0.113.7\"");
	assert_has(line, "\"source.ip\":\"192.0.2.50\"");
	/* Explicit IPv6 from an IPv4 source: a dual-stack client. */
	knock_default(&s, f);
	s.addr_type = SPA_ADDR_IPV6;
	s.addr = "2001:db8::7";
	assert_int_equal(knock_from(f, &s, "192.0.2.50"), KNOCKD_ACCEPTED);
	want = ip("2001:db8::7");
	assert_int_equal(f->door.calls, 2);
	assert_int_equal(f->door.a.af, AF_INET6);
	assert_true(addr_eq(&f->door.a, &want));
	/* A knock-key may knock (and only knock: that is the gateway's). */
	knock_as(&s, f, "erin", &erin_knock);
	assert_int_equal(knock_from(f, &s, "192.0.2.51"), KNOCKD_ACCEPTED);
	assert_int_equal(dropped(f, KNOCKD_ACCEPTED), 3);
	fx_free(f);
}

/* An IPv4-mapped source on a dual-stack socket is its IPv4 address. */
static void
test_mapped_source(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	uint8_t pkt[SPA_SIZE];
	struct addr src, want = ip("198.51.100.9");
	struct spec s;

	(void)state;
	memset(&src, 0, sizeof(src));
	src.af = AF_INET6;
	src.a[10] = src.a[11] = 0xff;
	memcpy(src.a + 12, want.a, 4);
	knock_default(&s, f);
	knock_build(&s, pkt);
	assert_int_equal(knockd_proc_datagram(f->p, pkt, sizeof(pkt), 0, &src,
	    1, NOW, MS), KNOCKD_ACCEPTED);
	assert_int_equal(f->door.a.af, AF_INET);
	assert_true(addr_eq(&f->door.a, &want));
	fx_free(f);
}

/* During a key rotation a knock sealed to the old key still works. */
static void
test_old_server_key(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct spec s;

	(void)state;
	knock_default(&s, f);
	s.server = &f->keys[1];
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	fx_free(f);
}

/* A failed message to the master is counted; the door stays open. */
static void
test_bind_failure(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct knockd_counters n;
	struct spec s;

	(void)state;
	f->bind.fail = 1;
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	assert_int_equal(f->door.calls, 1);
	knockd_proc_counters(f->p, &n);
	assert_int_equal(n.bind_errors, 1);
	/* Without BindSocket nobody is told, and nothing fails. */
	knockd_proc_set_bind(f->p, NULL, NULL);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.5"), KNOCKD_ACCEPTED);
	assert_int_equal(f->bind.calls, 1);
	knockd_proc_counters(f->p, &n);
	assert_int_equal(n.bind_errors, 1);
	fx_free(f);
}

/* ---- every drop reason ---- */

static void
test_outer_drops(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	uint8_t pkt[SPA_SIZE + 1], good[SPA_SIZE];
	struct addr a = ip("198.51.100.4");
	struct spec s;

	(void)state;
	knock_default(&s, f);
	knock_build(&s, good);
	memcpy(pkt, good, SPA_SIZE);
	pkt[SPA_SIZE] = 0;
	/* size: one byte short, one byte long, truncated by the kernel. */
	assert_int_equal(feed(f, pkt, SPA_SIZE - 1, "198.51.100.4", NOW, MS),
	    KNOCKD_DROP_SIZE);
	assert_int_equal(feed(f, pkt, SPA_SIZE + 1, "198.51.100.4", NOW, MS),
	    KNOCKD_DROP_SIZE);
	assert_int_equal(knockd_proc_datagram(f->p, pkt, SPA_SIZE, 1, &a, 1,
	    NOW, MS), KNOCKD_DROP_SIZE);
	assert_int_equal(feed(f, pkt, 0, "198.51.100.4", NOW, MS),
	    KNOCKD_DROP_SIZE);
	/* tag: a flipped bit anywhere, garbage, the wrong bucket. */
	pkt[100] ^= 1;
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW, MS),
	    KNOCKD_DROP_TAG);
	randombytes_buf(pkt, SPA_SIZE);
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW, MS),
	    KNOCKD_DROP_TAG);
	assert_int_equal(f->door.calls, 0);
	/* duplicate: the same bytes again, even from elsewhere. */
	assert_int_equal(feed(f, good, SPA_SIZE, "198.51.100.4", NOW, MS),
	    KNOCKD_ACCEPTED);
	assert_int_equal(feed(f, good, SPA_SIZE, "192.0.2.1", NOW, MS),
	    KNOCKD_DROP_DUPLICATE);
	assert_int_equal(f->door.calls, 1);
	/* 94 s after the timestamp its bucket has left the window. */
	knock_default(&s, f);
	knock_build(&s, good);
	assert_int_equal(feed(f, good, SPA_SIZE, "198.51.100.4", T0 + 94,
	    MS), KNOCKD_DROP_TAG);
	assert_int_equal(dropped(f, KNOCKD_DROP_SIZE), 4);
	assert_int_equal(dropped(f, KNOCKD_DROP_TAG), 3);
	assert_int_equal(dropped(f, KNOCKD_DROP_DUPLICATE), 1);
	/* Steps 1-4 are never audited one by one. */
	assert_int_equal(audit_count(f, "knock-rejected", NULL, 0), 0);
	fx_free(f);
}

static void
test_budget_drops(void **state)
{
	struct fx *f;
	struct spec s;

	(void)state;
	/* G holds 1: the second new source finds it empty. */
	f = fx_new("OpenRate 1\nReturningRate 1\n", T0 - 100);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.1"), KNOCKD_ACCEPTED);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.2"),
	    KNOCKD_DROP_OPEN_BUDGET);
	/* A returning source still gets through, on R. */
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.1"), KNOCKD_ACCEPTED);
	assert_int_equal(dropped(f, KNOCKD_DROP_OPEN_BUDGET), 1);
	fx_free(f);

	/* S(x) holds 1; G (2) at half still lends one; then nothing. */
	f = fx_new("OpenRate 2\nSourceRate 1\nSourceBurst 1\n", T0 - 100);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.1"), KNOCKD_ACCEPTED);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.1"), KNOCKD_ACCEPTED);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.1"),
	    KNOCKD_DROP_SOURCE_BUDGET);
	assert_int_equal(dropped(f, KNOCKD_DROP_SOURCE_BUDGET), 1);
	assert_int_equal(f->door.calls, 2);
	fx_free(f);
}

/* Valid tag, but the sealed part was changed: the seal does not open. */
static void
test_seal(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	uint8_t pkt[SPA_SIZE];
	struct spec s;
	char line[8192];

	(void)state;
	knock_default(&s, f);
	knock_build(&s, pkt);
	pkt[120] ^= 0x80;
	retag(pkt, &f->keys[0], NOW / SPA_BUCKET);
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW, MS),
	    KNOCKD_DROP_SEAL);
	assert_int_equal(audit_count(f, "knock-rejected", line, sizeof(line)),
	    1);
	assert_has(line, "\"event.reason\":\"seal: ");
	assert_lacks(line, "alice");
	/* Sealed to a key knockd does not have, tagged with one it has. */
	knock_default(&s, f);
	{
		struct spa_server_key other;
		uint8_t sk[32];

		memset(sk, 0x55, sizeof(sk));
		assert_int_equal(spa_server_key_set(&other, sk), 0);
		s.server = &other;
		knock_build(&s, pkt);
	}
	retag(pkt, &f->keys[0], NOW / SPA_BUCKET);
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW, MS),
	    KNOCKD_DROP_SEAL);
	assert_int_equal(dropped(f, KNOCKD_DROP_SEAL), 2);
	fx_free(f);
}

static void
test_decode_drops(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct spec s;
	char line[8192];

	(void)state;
	knock_default(&s, f);
	s.version = 2;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_VERSION);
	knock_default(&s, f);
	s.flags = 0x80;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_FLAGS);
	knock_default(&s, f);
	s.pad_byte = 1;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_MALFORMED);
	assert_int_equal(audit_count(f, "\"event.reason\":\"malformed: ", line,
	    sizeof(line)), 1);
	/* A timestamp whose bucket is not the one the tag matched. */
	knock_default(&s, f);
	{
		uint8_t pkt[SPA_SIZE];

		s.ts = NOW;
		knock_build(&s, pkt);
		retag(pkt, &f->keys[0], NOW / SPA_BUCKET - 1);
		assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW,
		    MS), KNOCKD_DROP_MALFORMED);
	}
	assert_int_equal(dropped(f, KNOCKD_DROP_VERSION), 1);
	assert_int_equal(dropped(f, KNOCKD_DROP_FLAGS), 1);
	assert_int_equal(dropped(f, KNOCKD_DROP_MALFORMED), 2);
	assert_int_equal(f->door.calls, 0);
	fx_free(f);
}

/* Before the signature verified, the name is only claimed. */
static void
test_key_and_signature(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct spec s;
	char line[8192];

	(void)state;
	/* A key the policy does not know, for a real user. */
	knock_default(&s, f);
	s.signer = &stranger;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_UNKNOWN_KEY);
	assert_int_equal(audit_count(f, "unknown_key: ", line, sizeof(line)),
	    1);
	assert_has(line, "\"rampart.knock.claimed_user\":\"alice\"");
	assert_lacks(line, "user.name");
	/* A user the policy does not have. */
	knock_default(&s, f);
	s.user = "mallory";
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_UNKNOWN_KEY);
	/* Bob's key for alice: a real key, not hers. */
	knock_default(&s, f);
	s.signer = &bob;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_UNKNOWN_KEY);
	/* Alice's key_id, someone else's signature. */
	knock_default(&s, f);
	s.signer = &stranger;
	s.key_id = alice.id;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_SIGNATURE);
	assert_int_equal(audit_count(f, "signature: ", line, sizeof(line)),
	    1);
	assert_has(line, "\"rampart.knock.claimed_user\":\"alice\"");
	assert_lacks(line, "user.name");
	/* No policy at all: every knock is unknown. */
	knockd_proc_set_policy(f->p, NULL);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_UNKNOWN_KEY);
	assert_int_equal(dropped(f, KNOCKD_DROP_UNKNOWN_KEY), 4);
	assert_int_equal(dropped(f, KNOCKD_DROP_SIGNATURE), 1);
	assert_int_equal(f->door.calls, 0);
	fx_free(f);
}

static void
test_stale(void **state)
{
	struct fx *f = fx_new("", NOW - 5);
	struct spec s;
	char line[8192];

	(void)state;
	/* 31 s old and 31 s ahead: the tag matches, the window does not. */
	knock_default(&s, f);
	s.ts = NOW - 31;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_STALE);
	assert_int_equal(audit_count(f, "stale: ", line, sizeof(line)), 1);
	assert_has(line, "\"rampart.knock.skew\":-31");
	/* Authenticated by now: the name is the user's. */
	assert_has(line, "\"user.name\":\"alice\"");
	assert_lacks(line, "claimed_user");
	knock_default(&s, f);
	s.ts = NOW + 31;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_STALE);
	assert_int_equal(audit_count(f, "stale: ", line, sizeof(line)), 2);
	assert_has(line, "\"rampart.knock.skew\":31");
	/* At the window's edges: fresh. */
	knock_default(&s, f);
	s.ts = NOW + 30;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	/* In the window, but made before knockd started. */
	knock_default(&s, f);
	s.ts = NOW - 10;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_STALE);
	assert_int_equal(audit_count(f, "before knockd started", NULL, 0), 1);
	assert_int_equal(dropped(f, KNOCKD_DROP_STALE), 3);
	fx_free(f);
}

/* The clock steps back: knockd's does not, so stale stays stale. */
static void
test_clock_never_back(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	uint8_t pkt[SPA_SIZE];
	struct spec s;

	(void)state;
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	/* A knock for NOW, read while the system clock says an hour ago. */
	knock_default(&s, f);
	knock_build(&s, pkt);
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW - 3600,
	    MS), KNOCKD_ACCEPTED);
	/* One made an hour ago is refused, as at NOW. */
	knock_default(&s, f);
	s.ts = NOW - 3600;
	knock_build(&s, pkt);
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW - 3600,
	    MS), KNOCKD_DROP_TAG);
	fx_free(f);
}

static void
test_replay(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	uint8_t inner[SPA_INNER_SIZE], sd[SPA_SIGNED_SIZE], sig[64];
	uint8_t a[SPA_SIZE], b[SPA_SIZE];
	struct spa_inner in;

	(void)state;
	/* The same signed knock sealed twice: new bytes, the same nonce. */
	memset(&in, 0, sizeof(in));
	in.version = SPA_VERSION;
	in.port = 22;
	in.timestamp = NOW;
	randombytes_buf(in.nonce, sizeof(in.nonce));
	snprintf(in.user, sizeof(in.user), "alice");
	memcpy(in.key_id, alice.id, 32);
	assert_int_equal(spa_encode_signed(&in, f->keys[0].pk, inner, sd), 0);
	crypto_sign_detached(sig, NULL, sd, sizeof(sd), alice.sk);
	assert_int_equal(spa_seal(inner, sig, NOW, f->keys[0].pk, a), 0);
	assert_int_equal(spa_seal(inner, sig, NOW, f->keys[0].pk, b), 0);
	assert_memory_not_equal(a, b, SPA_SIZE);
	assert_int_equal(feed(f, a, SPA_SIZE, "198.51.100.4", NOW, MS),
	    KNOCKD_ACCEPTED);
	assert_int_equal(feed(f, b, SPA_SIZE, "203.0.113.66", NOW, MS),
	    KNOCKD_DROP_REPLAY);
	assert_int_equal(f->door.calls, 1);
	assert_int_equal(dropped(f, KNOCKD_DROP_REPLAY), 1);
	assert_int_equal(audit_count(f, "replay: ", NULL, 0), 1);
	fx_free(f);
}

static void
test_user_budget(void **state)
{
	struct fx *f = fx_new("UserRate 1\nUserBurst 2\n", T0 - 100);
	struct spec s;

	(void)state;
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.5"), KNOCKD_ACCEPTED);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.6"),
	    KNOCKD_DROP_USER_BUDGET);
	/* Another user has a budget of their own. */
	knock_as(&s, f, "erin", &erin_login);
	assert_int_equal(knock_from(f, &s, "198.51.100.6"), KNOCKD_ACCEPTED);
	/* A reload gives every user a fresh budget. */
	knockd_proc_set_policy(f->p, f->pol);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.7"), KNOCKD_ACCEPTED);
	assert_int_equal(dropped(f, KNOCKD_DROP_USER_BUDGET), 1);
	fx_free(f);
}

static void
test_policy_drops(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct spec s;

	(void)state;
	knock_as(&s, f, "carol", &carol);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_EXPIRED);
	knock_default(&s, f);
	s.port = 2222;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_DROP_PORT);
	assert_int_equal(audit_count(f, "port 2222 is not a door", NULL, 0),
	    1);
	/* A source that could never connect: loopback. */
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "127.0.0.1"), KNOCKD_DROP_ADDRESS);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "fe80::1"), KNOCKD_DROP_ADDRESS);
	/* Bob may come only from 198.51.100.0/24, in either mode. */
	knock_as(&s, f, "bob", &bob);
	assert_int_equal(knock_from(f, &s, "203.0.113.9"), KNOCKD_DROP_FROM);
	knock_as(&s, f, "bob", &bob);
	s.addr_type = SPA_ADDR_IPV4;
	s.addr = "203.0.113.9";
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_DROP_FROM);
	knock_as(&s, f, "bob", &bob);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	assert_int_equal(dropped(f, KNOCKD_DROP_EXPIRED), 1);
	assert_int_equal(dropped(f, KNOCKD_DROP_PORT), 1);
	assert_int_equal(dropped(f, KNOCKD_DROP_ADDRESS), 2);
	assert_int_equal(dropped(f, KNOCKD_DROP_FROM), 2);
	assert_int_equal(f->door.calls, 1);
	fx_free(f);
}

static void
test_address_mode(void **state)
{
	struct fx *f = fx_new("AddressMode explicit\nPorts 22,2222\n",
	    T0 - 100);
	struct spec s;

	(void)state;
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_ADDRESS_MODE);
	knock_default(&s, f);
	s.addr_type = SPA_ADDR_IPV4;
	s.addr = "198.51.100.4";
	s.port = 2222;
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	assert_int_equal(f->door.port, 2222);
	fx_free(f);
	f = fx_new("AddressMode source\n", T0 - 100);
	knock_default(&s, f);
	s.addr_type = SPA_ADDR_IPV4;
	s.addr = "198.51.100.4";
	assert_int_equal(knock_from(f, &s, "198.51.100.4"),
	    KNOCKD_DROP_ADDRESS_MODE);
	assert_int_equal(dropped(f, KNOCKD_DROP_ADDRESS_MODE), 1);
	fx_free(f);
}

static void
test_door_failure(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct spec s;
	char line[8192];

	(void)state;
	f->door.fail = 1;
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_DROP_DOOR);
	assert_int_equal(f->door.calls, 1);
	assert_int_equal(f->bind.calls, 0);
	assert_int_equal(audit_count(f, "knock-rejected", line, sizeof(line)),
	    1);
	assert_has(line, "door: nftables: set knock4 does not exist");
	assert_int_equal(audit_count(f, "knock-accepted", NULL, 0), 0);
	assert_int_equal(dropped(f, KNOCKD_DROP_DOOR), 1);
	assert_int_equal(dropped(f, KNOCKD_ACCEPTED), 0);
	fx_free(f);
}

/* Every reason has its name, in the order of section 11. */
static void
test_reason_names(void **state)
{
	static const char *const want[] = { "accepted", "size", "tag",
	    "duplicate", "open_budget", "source_budget", "seal", "version",
	    "flags", "malformed", "unknown_key", "signature", "stale",
	    "replay", "user_budget", "expired", "port", "address_mode",
	    "address", "from", "door" };
	int i;

	(void)state;
	assert_int_equal(KNOCKD_NDROP, 21);
	for (i = 0; i < KNOCKD_NDROP; i++)
		assert_string_equal(knockd_proc_reason(i), want[i]);
	assert_string_equal(knockd_proc_reason(21), "unknown");
	assert_string_equal(knockd_proc_reason(-1), "unknown");
}

/* ---- audit volume ---- */

static void
test_rejected_rate_limit(void **state)
{
	struct fx *f = fx_new("SourceBurst 100\nSourceRate 100\nUserBurst 100\n",
	    T0 - 100);
	struct knockd_counters n;
	uint8_t pkt[SPA_SIZE];
	struct spec s;
	char line[8192];
	int i;

	(void)state;
	/* 15 rejections within one second: 10 records. */
	for (i = 0; i < 15; i++) {
		knock_default(&s, f);
		s.port = 2222;
		knock_build(&s, pkt);
		assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW,
		    MS + (uint64_t)i), KNOCKD_DROP_PORT);
	}
	assert_int_equal(audit_count(f, "knock-rejected", NULL, 0), 10);
	assert_int_equal(audit_count(f, "rejections_not_recorded", NULL, 0),
	    0);
	knockd_proc_counters(f->p, &n);
	assert_int_equal(n.audit_suppressed, 5);
	assert_int_equal(n.dropped[KNOCKD_DROP_PORT], 15);
	/* The next second's first record says how many were left out. */
	knock_default(&s, f);
	s.port = 2222;
	knock_build(&s, pkt);
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW,
	    MS + 1000), KNOCKD_DROP_PORT);
	assert_int_equal(audit_count(f, "knock-rejected", line, sizeof(line)),
	    11);
	assert_has(line, "\"rampart.rejections_not_recorded\":5");
	knock_default(&s, f);
	s.port = 2222;
	knock_build(&s, pkt);
	assert_int_equal(feed(f, pkt, SPA_SIZE, "198.51.100.4", NOW,
	    MS + 1001), KNOCKD_DROP_PORT);
	assert_int_equal(audit_count(f, "rejections_not_recorded", NULL, 0),
	    1);
	/* Accepted knocks are never left out. */
	for (i = 0; i < 12; i++) {
		knock_default(&s, f);
		s.user = i % 2 ? "alice" : "erin";
		s.signer = i % 2 ? &alice : &erin_login;
		if (i >= 10) {
			s.user = "bob";
			s.signer = &bob;
		}
		(void)knock_from(f, &s, "198.51.100.4");
	}
	assert_int_equal(audit_count(f, "knock-accepted", NULL, 0), 12);
	fx_free(f);
}

static void
test_summary(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	uint8_t junk[SPA_SIZE];
	char line[8192];
	int i;

	(void)state;
	/* Nothing dropped: no summary. */
	knockd_proc_tick(f->p, MS);
	assert_int_equal(audit_count(f, "knock-drop-summary", NULL, 0), 0);
	for (i = 0; i < 3; i++)
		(void)feed(f, junk, 10, "198.51.100.4", NOW, MS);
	for (i = 0; i < 5; i++) {
		randombytes_buf(junk, sizeof(junk));
		(void)feed(f, junk, SPA_SIZE, "198.51.100.4", NOW, MS);
	}
	knockd_proc_tick(f->p, MS);
	assert_int_equal(audit_count(f, "knock-drop-summary", line,
	    sizeof(line)), 1);
	assert_has(line, "\"rampart.drops.size\":3");
	assert_has(line, "\"rampart.drops.tag\":5");
	assert_has(line, "\"rampart.drops.duplicate\":0");
	assert_has(line, "\"rampart.drops.open_budget\":0");
	assert_has(line, "\"rampart.drops.source_budget\":0");
	/* More drops, but a minute has not passed: nothing yet. */
	(void)feed(f, junk, 1, "198.51.100.4", NOW, MS + 1000);
	knockd_proc_tick(f->p, MS + 59999);
	assert_int_equal(audit_count(f, "knock-drop-summary", NULL, 0), 1);
	knockd_proc_tick(f->p, MS + 60000);
	assert_int_equal(audit_count(f, "knock-drop-summary", line,
	    sizeof(line)), 2);
	assert_has(line, "\"rampart.drops.size\":1");
	assert_has(line, "\"rampart.drops.tag\":0");
	/* No new drops: no new summary, however long it waits. */
	knockd_proc_tick(f->p, MS + 600000);
	assert_int_equal(audit_count(f, "knock-drop-summary", NULL, 0), 2);
	fx_free(f);
}

/*
 * An audit log that cannot grow (here: RLIMIT_FSIZE, as a full disk
 * would) loses records, counted, and knocks are still decided.
 */
static void
test_audit_failure(void **state)
{
	struct fx *f = fx_new("", T0 - 100);
	struct knockd_counters n;
	struct rlimit old, lim;
	struct stat st;
	struct spec s;
	int i;

	(void)state;
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	for (i = 0; i < 3; i++) {
		knock_default(&s, f);
		s.port = 2222;
		assert_int_equal(knock_from(f, &s, "198.51.100.4"),
		    KNOCKD_DROP_PORT);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	knockd_proc_counters(f->p, &n);
	assert_int_equal(n.audit_errors, 4);
	assert_int_equal(n.accepted, 2);
	assert_int_equal(f->door.calls, 2);
	assert_int_equal(audit_count(f, "knock-", NULL, 0), 1);
	/* Space again: records are written again. */
	knock_default(&s, f);
	assert_int_equal(knock_from(f, &s, "198.51.100.4"), KNOCKD_ACCEPTED);
	assert_int_equal(audit_count(f, "knock-accepted", NULL, 0), 2);
	fx_free(f);
}

static void
test_counters_and_caches(void **state)
{
	struct fx *f = fx_new("SeenCacheSize 16\nReplayCacheSize 16\n"
	    "UserBurst 100\nUserRate 600\nSourceBurst 100\n", T0 - 100);
	struct knockd_counters n;
	struct spec s;
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		knock_default(&s, f);
		assert_int_equal(knock_from(f, &s, "198.51.100.4"),
		    KNOCKD_ACCEPTED);
	}
	knockd_proc_counters(f->p, &n);
	assert_int_equal(n.datagrams, 20);
	assert_int_equal(n.accepted, 20);
	assert_int_equal(n.seen_size, 16);
	assert_int_equal(n.replay_size, 16);
	assert_int_equal(n.seen_evictions, 4);
	assert_int_equal(n.replay_evictions, 4);
	assert_int_equal(f->door.calls, 20);
	fx_free(f);
}

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	log_init("test_knockd_proc", 1, LOG_LVL_ERROR);
	ukey_make(&alice, 0);
	ukey_make(&bob, 0x40);
	ukey_make(&carol, 0x60);
	ukey_make(&erin_login, 0x80);
	ukey_make(&erin_knock, 0xa0);
	ukey_make(&stranger, 0xc0);
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char path[sizeof(tmpdir) + 300];
	struct dirent *e;
	DIR *d;

	(void)state;
	if ((d = opendir(tmpdir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_accept_source),
		cmocka_unit_test(test_accept_explicit),
		cmocka_unit_test(test_mapped_source),
		cmocka_unit_test(test_old_server_key),
		cmocka_unit_test(test_bind_failure),
		cmocka_unit_test(test_outer_drops),
		cmocka_unit_test(test_budget_drops),
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_decode_drops),
		cmocka_unit_test(test_key_and_signature),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_clock_never_back),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_user_budget),
		cmocka_unit_test(test_policy_drops),
		cmocka_unit_test(test_address_mode),
		cmocka_unit_test(test_door_failure),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_rejected_rate_limit),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_audit_failure),
		cmocka_unit_test(test_counters_and_caches),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
