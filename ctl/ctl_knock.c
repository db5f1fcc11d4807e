/*
 * ctl_knock: "rampartctl knock keygen|pubkey" -- the key files of
 * knocking (docs/PROTOCOL.knock section 3).
 *
 * keygen writes a user's knock key (an unencrypted OpenSSH ed25519 key
 * and its .pub, so that ssh-keygen and ssh-add work on it) and prints the
 * "knock-key" policy line for it; with --server it writes knockd's X25519
 * secret key and prints the public key that clients configure.  Files are
 * written atomically and never replaced without --force.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"
#include "knock_key.h"
#include "spa.h"

enum { OPT_FORCE = 256, OPT_SERVER };

static const char *const usage_text =
    "usage: rampartctl knock keygen [--force] FILE\n"
    "       rampartctl knock keygen --server [--force] FILE\n"
    "       rampartctl knock pubkey FILE\n"
    "\n"
    "keygen           make a knock key for a user: FILE, an unencrypted\n"
    "                 OpenSSH ed25519 private key (mode 0600), and\n"
    "                 FILE.pub.  Prints the \"knock-key\" line to put on\n"
    "                 the user in the policy.  Use it with\n"
    "                 rampart-knock -i FILE.\n"
    "keygen --server  make knockd's X25519 key: FILE holds the secret key\n"
    "                 (one base64 line, mode 0600; knockd.conf ServerKey).\n"
    "                 Prints the 44-character public key that clients\n"
    "                 give to rampart-knock -S.\n"
    "pubkey           print the public key of the server key FILE.\n"
    "\n"
    "An existing file is replaced only with --force.\n";

static int
usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

/* Print the public key of the server secret key sk.  0 or -1. */
static int
print_server_pub(const char *path, const uint8_t sk[SPA_SK_SIZE])
{
	struct spa_server_key k;
	char pub[KNOCK_KEY_PUB_B64_LEN + 1];
	int r = -1;

	if (spa_server_key_set(&k, sk) != 0) {
		fprintf(stderr, "rampartctl: %s: not a usable X25519 key\n",
		    path);
		goto out;
	}
	knock_key_pub_b64(k.pk, pub, sizeof(pub));
	printf("%s\n", pub);
	r = 0;
out:
	sodium_memzero(&k, sizeof(k));
	return r;
}

static int
keygen_server(const char *path, int force)
{
	char err[KNOCK_KEY_ERR_MAX];
	uint8_t pk[SPA_PK_SIZE], sk[SPA_SK_SIZE];
	int rc = CTL_REFUSED;

	crypto_box_keypair(pk, sk);
	if (knock_key_server_write(path, sk, force, err, sizeof(err)) != 0)
		fprintf(stderr, "rampartctl: %s\n", err);
	else if (print_server_pub(path, sk) == 0)
		rc = CTL_OK;
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

static int
keygen_user(const char *path, int force)
{
	struct knock_key_ed25519 k;
	char err[KNOCK_KEY_ERR_MAX], line[KNOCK_KEY_LINE_MAX + 1];
	char host[256], comment[300];
	int rc = CTL_REFUSED;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(comment, sizeof(comment), "knock@%s", host);
	knock_key_ed25519_generate(&k, comment);
	if (knock_key_openssh_write(path, &k, force, err, sizeof(err)) != 0) {
		fprintf(stderr, "rampartctl: %s\n", err);
		goto out;
	}
	if (knock_key_pub_line(k.pk, k.comment, line, sizeof(line)) != 0) {
		fprintf(stderr, "rampartctl: %s: comment too long\n", path);
		goto out;
	}
	printf("knock-key %s\n", line);
	rc = CTL_OK;
out:
	knock_key_ed25519_clear(&k);
	return rc;
}

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "server", no_argument, NULL, OPT_SERVER },
		{ NULL, 0, NULL, 0 }
	};
	int ch, force = 0, server = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == OPT_FORCE)
			force = 1;
		else if (ch == OPT_SERVER)
			server = 1;
		else
			return usage(stderr, CTL_USAGE);
	}
	if (argc - optind != 1)
		return usage(stderr, CTL_USAGE);
	return server ? keygen_server(argv[optind], force) :
	    keygen_user(argv[optind], force);
}

static int
cmd_pubkey(int argc, char **argv)
{
	char err[KNOCK_KEY_ERR_MAX];
	uint8_t sk[SPA_SK_SIZE];
	int rc = CTL_REFUSED;

	if (argc != 2)
		return usage(stderr, CTL_USAGE);
	if (knock_key_server_read(argv[1], sk, err, sizeof(err)) != 0)
		fprintf(stderr, "rampartctl: %s\n", err);
	else if (print_server_pub(argv[1], sk) == 0)
		rc = CTL_OK;
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

int
ctl_knock(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, CTL_USAGE);
	if (ctl_help_wanted(argc, argv))
		return usage(stdout, CTL_OK);
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "pubkey") == 0)
		return cmd_pubkey(argc - 1, argv + 1);
	fprintf(stderr, "rampartctl: unknown knock command \"%s\"\n",
	    argv[1]);
	return usage(stderr, CTL_USAGE);
}
