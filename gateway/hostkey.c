/*
 * hostkey: loading (and on first start, generating) the host keys.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostkey.h"
#include "log.h"
#include "pubkey.h"

#define DEFAULT_HOSTKEY	"/etc/rampart/ssh_host_ed25519_key"

static int
generate(const char *path)
{
	ssh_key key = NULL;
	mode_t old;
	int r = -1;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
		error("cannot generate an Ed25519 host key");
		return -1;
	}
	old = umask(077);
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path) !=
	    SSH_OK)
		error("cannot write host key %s", path);
	else
		r = 0;
	umask(old);
	ssh_key_free(key);
	return r;
}

/* The key's public half through our own parser: type and RSA size. */
static int
check_key(ssh_key key, const char *path, char *fp, size_t fplen, int *rsa)
{
	struct pubkey pk;
	char *b64 = NULL, err[256];
	const char *type;
	int r = -1;

	type = ssh_key_type_to_char(ssh_key_type(key));
	if (type == NULL || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	if (pubkey_parse(type, b64, strlen(b64), &pk, err, sizeof(err)) != 0)
		error("host key %s: %s", path, err);
	else if (strcmp(pk.type, "ssh-ed25519") != 0 &&
	    strcmp(pk.type, "ssh-rsa") != 0)
		error("host key %s: type %s is not offered (use Ed25519, or "
		    "RSA of 3072 bits or more)", path, pk.type);
	else {
		*rsa = strcmp(pk.type, "ssh-rsa") == 0;
		pubkey_fingerprint(&pk, fp, fplen);
		r = 0;
	}
	pubkey_clear(&pk);
	ssh_string_free_char(b64);
	return r;
}

static int
load_one(ssh_bind bind, const char *path, int *have_rsa)
{
	char fp[PUBKEY_FP_LEN];
	ssh_key key = NULL;
	int rsa = 0;

	if (access(path, F_OK) != 0 && errno == ENOENT &&
	    strcmp(path, DEFAULT_HOSTKEY) == 0) {
		if (generate(path) != 0)
			return -1;
		logit("generated a new Ed25519 host key %s", path);
	}
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) !=
	    SSH_OK) {
		error("cannot load host key %s", path);
		return -1;
	}
	if (check_key(key, path, fp, sizeof(fp), &rsa) != 0 ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) !=
	    SSH_OK) {
		ssh_key_free(key);
		return -1;
	}
	/* The bind now owns key. */
	*have_rsa |= rsa;
	logit("host key %s: %s", path, fp);
	return 0;
}

int
hostkey_load(ssh_bind bind, const struct config *c)
{
	const char *algs;
	size_t i;
	int rsa = 0;

	for (i = 0; i < c->nhostkeys; i++) {
		if (load_one(bind, c->hostkeys[i], &rsa) != 0)
			return -1;
	}
	algs = rsa ? "ssh-ed25519,rsa-sha2-512,rsa-sha2-256" : "ssh-ed25519";
	if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
	    algs) != SSH_OK) {
		error("cannot set host key algorithms: %s",
		    ssh_get_error(bind));
		return -1;
	}
	return 0;
}
