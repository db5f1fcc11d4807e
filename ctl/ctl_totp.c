/*
 * ctl_totp: "rampartctl totp enroll|verify|reset|import".
 *
 * Every change to the secrets file is a read-modify-write of the whole
 * file through totp_secrets_write() (a rename), so the gateway sees the
 * old file or the new one and loads the new one on SIGHUP.  An input with
 * any error changes nothing.
 *
 * verify never changes anything: it asks the library which time step a
 * code belongs to rather than calling totp_verify(), and answers the
 * replay question by running the gateway's own totp_verify() on a private
 * copy of the state file, which is then thrown away.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <qrencode.h>
#include <sodium.h>

#include "conv.h"
#include "ctl.h"
#include "diag.h"
#include "textfile.h"
#include "totp.h"

#define ENROLL_SECRET_LEN	20	/* 160 bits, as RFC 4226 advises */
#define ENROLL_SCRATCH		10
#define ISSUER_MAX		64
#define URI_MAX			1024
#define QR_QUIET		4	/* modules of light margin, ISO 18004 */
#define WINDOW_MAX		10	/* as TotpWindow in gateway.conf */

/* Options without a short form. */
enum { OPT_FORCE = 256, OPT_PAM_OATH, OPT_GA };

static const struct option long_opts[] = {
	{ "force",		  no_argument,		NULL, OPT_FORCE },
	{ "pam-oath",		  required_argument,	NULL, OPT_PAM_OATH },
	{ "google-authenticator", no_argument,		NULL, OPT_GA },
	{ NULL,			  0,			NULL, 0 }
};

static const char *const enroll_usage =
    "usage: rampartctl totp enroll [-f FILE] [-i ISSUER] [-a ALG] [-d DIGITS]\n"
    "           [-p PERIOD] [--force] USER\n"
    "\n"
    "Make a new 160-bit secret and 10 scratch codes for USER, store them in\n"
    "FILE, and print the otpauth:// URI, a QR code to scan and the scratch\n"
    "codes (shown only this once).  An existing entry is replaced only with\n"
    "--force.\n"
    "  -a ALG     sha1 (default), sha256 or sha512\n"
    "  -d DIGITS  6 (default), 7 or 8\n"
    "  -i ISSUER  the name the authenticator app shows (default Rampart)\n"
    "  -p PERIOD  seconds per code, 15 to 300 (default 30)\n";

static const char *const verify_usage =
    "usage: rampartctl totp verify [-f FILE] [-s STATEFILE] [-w WINDOW]\n"
    "           USER CODE\n"
    "\n"
    "Say whether CODE is valid for USER now, and for which time step (clock\n"
    "skew), or whether it is one of USER's scratch codes.  Nothing is used\n"
    "up.  With -s, also say whether the gateway would refuse it as a\n"
    "replay or because the user is locked out (the state file is only\n"
    "read).  WINDOW is the steps searched either side of now (default 1,\n"
    "as the gateway's TotpWindow).  Exit 0 if the code is valid (and, with\n"
    "-s, the gateway would accept it), 1 if not.\n";

static const char *const reset_usage =
    "usage: rampartctl totp reset [-f FILE] [-s STATEFILE] USER\n"
    "\n"
    "Remove USER's secret and scratch codes from FILE, and with -s their\n"
    "replay and lockout state from STATEFILE.  Exit 1 if USER had no secret.\n";

static const char *const import_usage =
    "usage: rampartctl totp import [-f FILE] [--force] --pam-oath USERSFILE\n"
    "           [USER...]\n"
    "       rampartctl totp import [-f FILE] [--force] --google-authenticator\n"
    "           USER GAFILE\n"
    "\n"
    "--pam-oath             import the time-based (HOTP/T...) lines of a\n"
    "                       pam_oath usersfile, or only those of the USERs\n"
    "                       named.\n"
    "--google-authenticator import USER's ~/.google_authenticator file: the\n"
    "                       secret, the step size and the scratch codes.\n"
    "                       Options that are not carried over are listed.\n"
    "Existing entries are replaced only with --force.  Any error in the\n"
    "input imports nothing.\n";

static const char *const common_usage =
    "\n"
    "FILE defaults to " CTL_DEFAULT_TOTP_SECRETS ".  The gateway loads it\n"
    "at start and on SIGHUP.\n";

static int
usage(const char *text, FILE *f, int code)
{
	fputs(text, f);
	fputs(common_usage, f);
	return code;
}

/* The message for a user name that conv_name_ok() refused, into buf. */
static const char *
bad_user_msg(const char *s, char *buf, size_t len)
{
	char safe[80];

	snprintf(buf, len, "\"%s\" is not a valid user name (lower case "
	    "letters, digits, '_', '-', '.'; starting with a letter or '_'; "
	    "at most %d characters)", diag_safe(s, strlen(s), safe,
	    sizeof(safe)), TOTP_USER_MAX);
	return buf;
}

static int
check_user_arg(const char *s)
{
	char msg[256];

	if (conv_name_ok(s, TOTP_USER_MAX))
		return 0;
	fprintf(stderr, "rampartctl: %s\n", bad_user_msg(s, msg, sizeof(msg)));
	return -1;
}

/* ---- the secrets file ---- */

/*
 * Load the secrets file, or start an empty set when it does not exist and
 * may be created (*existed says which).  Its mode is checked as the
 * gateway checks it, except that rampartctl does not know the gateway's
 * User: the file's own owner and group are taken as given, so what is
 * refused is a file that others may read or its group may write.
 */
static int
secrets_open(const char *path, int may_create, struct totp_secrets **out,
    int *existed)
{
	struct stat st;

	*out = NULL;
	*existed = 0;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || !may_create) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return -1;
		}
		if ((*out = totp_secrets_new()) == NULL) {
			fprintf(stderr, "rampartctl: out of memory\n");
			return -1;
		}
		return 0;
	}
	if (totp_secrets_load(path, 1, st.st_uid, st.st_gid, ctl_print_err, NULL,
	    out) != 0) {
		fprintf(stderr, "%s: TOTP secrets not loaded; nothing "
		    "changed\n", path);
		return -1;
	}
	*existed = 1;
	return 0;
}

static int
secrets_save(const struct totp_secrets *s, const char *path)
{
	char err[256];

	if (totp_secrets_write(s, path, err, sizeof(err)) != 0) {
		/* err names the file. */
		fprintf(stderr, "%s; nothing changed\n", err);
		return -1;
	}
	return 0;
}

/* An entry of user exists and --force was not given: say so. */
static int
refuse_existing(const struct totp_secrets *s, const char *path,
    const char *user, int force)
{
	const struct totp_entry *old;

	if (force || (old = totp_secrets_find(s, user)) == NULL)
		return 0;
	fprintf(stderr, "%s:%lu: %s already has a TOTP secret (--force "
	    "replaces it)\n", path, old->line, user);
	return -1;
}

static void
reload_hint(const char *path, int created)
{
	if (created) {
		printf("\n%s is new: mode 0600, owned by you.  The gateway "
		    "re-reads it\nas its User on SIGHUP, so give that user's "
		    "group read access, e.g.\n  chgrp rampart %s && "
		    "chmod 0640 %s\n", path, path, path);
	}
	printf("\nSend SIGHUP to rampart-gateway to load the change:\n"
	    "  systemctl reload rampart-gateway\n");
}

/* ---- enroll ---- */

/*
 * The QR code in the terminal, two modules per character cell with the
 * half blocks.  A block is a *light* module and a blank a dark one, so on
 * a dark terminal, the usual case, it reads dark-on-light as a scanner
 * wants it; on a tty the colours are also set (light glyphs on a black
 * background), which makes it right on light terminals too.
 */
static int
qr_dark(const QRcode *qr, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

static void
qr_print(FILE *f, const QRcode *qr, int colour)
{
	/* [top dark][bottom dark] */
	static const char *const cell[2][2] = {
		{ "\xe2\x96\x88", "\xe2\x96\x80" },	/* full, upper half */
		{ "\xe2\x96\x84", " " },		/* lower half, blank */
	};
	int n = qr->width + 2 * QR_QUIET, x, y;

	for (y = 0; y < n; y += 2) {
		if (colour)
			fputs("\033[97;40m", f);
		for (x = 0; x < n; x++)
			fputs(cell[qr_dark(qr, x, y)][qr_dark(qr, x, y + 1)],
			    f);
		if (colour)
			fputs("\033[0m", f);
		fputc('\n', f);
	}
}

static void
qr_free(QRcode *qr)
{
	if (qr == NULL)
		return;
	/* The modules spell out the secret. */
	sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
}

/* What enroll holds that must not outlive it: guarded, wiped on free. */
struct enrolment {
	struct totp_entry	e;
	char			codes[ENROLL_SCRATCH][TOTP_SCRATCH_LEN + 1];
	char			uri[URI_MAX];
};

static void
enroll_print(const struct enrolment *en, const QRcode *qr, const char *path,
    int created)
{
	size_t i;

	printf("TOTP secret for %s written to %s (%s, %u digits, %u s).\n\n",
	    en->e.user, path, totp_alg_name(en->e.alg), en->e.digits,
	    en->e.period);
	printf("Scan this QR code with the authenticator app:\n\n");
	qr_print(stdout, qr, isatty(STDOUT_FILENO));
	printf("\nor enter this URI:\n  %s\n\n", en->uri);
	printf("Scratch codes, each good for one login instead of a code.\n"
	    "WARNING: they are shown only now and stored only as hashes;\n"
	    "give them to %s to keep somewhere safe:\n", en->e.user);
	for (i = 0; i < ENROLL_SCRATCH; i++)
		printf("  %s%s", en->codes[i], i % 2 == 1 ? "\n" : "");
	if (ENROLL_SCRATCH % 2 == 1)
		printf("\n");
	reload_hint(path, created);
}

static int
parse_issuer(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > ISSUER_MAX)
		goto bad;
	for (i = 0; i < len; i++) {
		/* ':' separates issuer and account in the URI's label. */
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ':')
			goto bad;
	}
	return 0;
 bad:
	fprintf(stderr, "rampartctl: -i: the issuer must be 1 to %d "
	    "characters, without ':' or control characters\n", ISSUER_MAX);
	return -1;
}

struct enroll_opts {
	const char	*file, *issuer, *user;
	enum totp_alg	 alg;
	unsigned long	 digits, period;
	int		 force;
};

static int
enroll_args(int argc, char **argv, struct enroll_opts *o)
{
	char err[128];
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:i:a:d:p:", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->file = optarg;
			break;
		case 'i':
			if (parse_issuer(optarg) != 0)
				return -1;
			o->issuer = optarg;
			break;
		case 'a':
			if (totp_alg_parse(optarg, &o->alg) != 0) {
				fprintf(stderr, "rampartctl: -a: unknown "
				    "algorithm (sha1, sha256, sha512)\n");
				return -1;
			}
			break;
		case 'd':
			if (conv_uint(optarg, 6, 8, &o->digits, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "rampartctl: -d: %s\n", err);
				return -1;
			}
			break;
		case 'p':
			if (conv_uint(optarg, 15, 300, &o->period, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "rampartctl: -p: %s\n", err);
				return -1;
			}
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		default:
			return usage(enroll_usage, stderr, -1);
		}
	}
	if (argc - optind != 1)
		return usage(enroll_usage, stderr, -1);
	o->user = argv[optind];
	return check_user_arg(o->user);
}

static int
cmd_enroll(int argc, char **argv)
{
	struct enroll_opts o = { CTL_DEFAULT_TOTP_SECRETS, "Rampart", NULL,
	    TOTP_SHA1, 6, 30, 0 };
	struct totp_secrets *s = NULL;
	struct enrolment *en = NULL;
	QRcode *qr = NULL;
	int existed, rc = CTL_REFUSED;

	if (enroll_args(argc, argv, &o) != 0)
		return CTL_USAGE;
	if (secrets_open(o.file, 1, &s, &existed) != 0)
		return CTL_REFUSED;
	if (refuse_existing(s, o.file, o.user, o.force) != 0)
		goto out;
	if ((en = sodium_malloc(sizeof(*en))) == NULL) {
		fprintf(stderr, "rampartctl: out of memory\n");
		goto out;
	}
	memset(en, 0, sizeof(*en));
	if (totp_entry_generate(&en->e, o.user, o.alg,
	    (unsigned int)o.digits, (unsigned int)o.period, ENROLL_SECRET_LEN,
	    en->codes, ENROLL_SCRATCH) != 0) {
		fprintf(stderr, "rampartctl: cannot make a secret for %s\n",
		    o.user);
		goto out;
	}
	/* Everything that can fail before the file is written. */
	if (totp_uri(&en->e, o.issuer, en->uri, sizeof(en->uri)) != 0) {
		fprintf(stderr, "rampartctl: cannot write the otpauth URI\n");
		goto out;
	}
	if ((qr = QRcode_encodeString(en->uri, 0, QR_ECLEVEL_M, QR_MODE_8,
	    1)) == NULL) {
		fprintf(stderr, "rampartctl: cannot make the QR code: %s\n",
		    strerror(errno));
		goto out;
	}
	if (totp_secrets_put(s, &en->e) != 0) {
		fprintf(stderr, "rampartctl: out of memory\n");
		goto out;
	}
	if (secrets_save(s, o.file) != 0)
		goto out;
	enroll_print(en, qr, o.file, !existed);
	rc = CTL_OK;
 out:
	qr_free(qr);
	if (en != NULL)
		sodium_free(en);
	totp_secrets_free(s);
	return rc;
}

/* ---- verify ---- */

/* A code is 6 to 8 digits: TOTP_CODE_MAX, and a scratch code's length. */
static int
valid_code(const char *s)
{
	size_t i, len = strlen(s);

	if (len < 6 || len > TOTP_CODE_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

static void
describe_step(const struct totp_entry *e, uint64_t step, time_t now)
{
	int64_t d = (int64_t)step - (int64_t)((uint64_t)now / e->period);
	long skew = (long)d * (long)e->period;

	if (d == 0)
		printf("%s: valid for the current step\n", e->user);
	else if (d == -1)
		printf("%s: valid for the previous step (clock skew %lds)\n",
		    e->user, skew);
	else if (d == 1)
		printf("%s: valid for the next step (clock skew +%lds)\n",
		    e->user, skew);
	else if (d < 0)
		printf("%s: valid for %" PRId64 " steps back (clock skew "
		    "%lds)\n", e->user, -d, skew);
	else
		printf("%s: valid for %" PRId64 " steps ahead (clock skew "
		    "+%lds)\n", e->user, d, skew);
}

/* Remove dir and the files in it (a private temporary directory). */
static void
rm_tmpdir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	struct stat st;
	ssize_t n, w, off;
	int in = -1, out = -1, rc = -1;

	if ((in = open(from, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 ||
	    fstat(in, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		for (off = 0; off < n; off += w) {
			if ((w = write(out, buf + off, (size_t)(n - off))) < 0)
				goto out;
		}
	}
	rc = 0;
 out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rc = -1;
	return rc;
}

/* msg without a leading "path: ". */
static const char *
strip_path(const char *msg, const char *path)
{
	size_t n = strlen(path);

	if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
		return msg + n + 2;
	return msg;
}

static void
print_verdict(const char *path, const struct totp_verdict *v)
{
	char when[32];
	struct tm tm;

	switch (v->result) {
	case TOTP_OK:
	case TOTP_OK_SCRATCH:
		printf("%s: the gateway would accept it (not used before)\n",
		    path);
		break;
	case TOTP_LOCKED:
		if (localtime_r(&v->locked_until, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		    &tm) == 0)
			snprintf(when, sizeof(when), "?");
		printf("%s: the gateway would refuse it: locked out until "
		    "%s (%s)\n", path, when, v->reason);
		break;
	default:
		printf("%s: the gateway would refuse it: %s (%s)\n", path,
		    totp_result_name(v->result), v->reason);
		break;
	}
}

/*
 * What the gateway would answer, without touching its state: its own
 * totp_verify() on a private copy of the state file.  *accept is set to
 * whether it would accept the code.
 */
static int
state_check(const char *path, const struct totp_entry *e, const char *code,
    time_t now, unsigned int window, int *accept)
{
	char dir[PATH_MAX], copy[PATH_MAX], err[256];
	const char *tmp = getenv("TMPDIR");
	struct totp_state *st = NULL;
	struct totp_verdict v;
	int rc = -1;

	*accept = 0;
	snprintf(dir, sizeof(dir), "%s/rampartctl.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "rampartctl: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s/state", dir);
	if (copy_file(path, copy) != 0) {
		fprintf(stderr, "%s: cannot read: %s\n", path,
		    strerror(errno));
		goto out;
	}
	if (totp_state_open(copy, err, sizeof(err), &st) != 0) {
		/* err names the copy: name the file it came from. */
		fprintf(stderr, "%s: %s\n", path, strip_path(err, copy));
		goto out;
	}
	memset(&v, 0, sizeof(v));
	totp_verify(st, e, e->user, code, now, window, &v);
	if (v.result == TOTP_ERROR) {
		fprintf(stderr, "%s: %s\n", path, v.reason);
		goto out;
	}
	print_verdict(path, &v);
	*accept = v.result == TOTP_OK || v.result == TOTP_OK_SCRATCH;
	rc = 0;
 out:
	totp_state_close(st);
	rm_tmpdir(dir);
	return rc;
}

struct verify_opts {
	const char	*file, *state, *user, *code;
	unsigned long	 window;
};

static int
verify_args(int argc, char **argv, struct verify_opts *o)
{
	char err[128];
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:s:w:", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->file = optarg;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'w':
			if (conv_uint(optarg, 0, WINDOW_MAX, &o->window, err,
			    sizeof(err)) != 0) {
				fprintf(stderr, "rampartctl: -w: %s\n", err);
				return -1;
			}
			break;
		default:
			return usage(verify_usage, stderr, -1);
		}
	}
	if (argc - optind != 2)
		return usage(verify_usage, stderr, -1);
	o->user = argv[optind];
	o->code = argv[optind + 1];
	if (check_user_arg(o->user) != 0)
		return -1;
	if (!valid_code(o->code)) {
		fprintf(stderr, "rampartctl: a code is 6 to 8 digits\n");
		return -1;
	}
	return 0;
}

static int
cmd_verify(int argc, char **argv)
{
	struct verify_opts o = { CTL_DEFAULT_TOTP_SECRETS, NULL, NULL, NULL,
	    1 };
	struct totp_secrets *s = NULL;
	const struct totp_entry *e;
	time_t now;
	uint64_t step;
	int existed, i, valid = 0, accept = 1, rc = CTL_REFUSED;

	if (verify_args(argc, argv, &o) != 0)
		return CTL_USAGE;
	if (secrets_open(o.file, 0, &s, &existed) != 0)
		return CTL_REFUSED;
	if ((e = totp_secrets_find(s, o.user)) == NULL) {
		fprintf(stderr, "%s: %s has no TOTP secret\n", o.file, o.user);
		goto out;
	}
	now = time(NULL);
	if (totp_code_step(e, o.code, now, (unsigned int)o.window,
	    &step) == 0) {
		describe_step(e, step, now);
		valid = 1;
	} else if ((i = totp_scratch_match(e, o.code)) >= 0) {
		printf("%s: a valid scratch code (number %d of %zu)%s\n",
		    o.user, i + 1, e->nscratch, o.state == NULL ?
		    "; whether it is used up is in the state file (-s)" : "");
		valid = 1;
	} else {
		printf("%s: wrong code (not valid within %lu step%s of now, "
		    "nor a scratch code)\n", o.user, o.window,
		    o.window == 1 ? "" : "s");
	}
	if (o.state != NULL && state_check(o.state, e, o.code, now,
	    (unsigned int)o.window, &accept) != 0)
		goto out;
	if (valid && accept)
		rc = CTL_OK;
 out:
	totp_secrets_free(s);
	return rc;
}

/* ---- reset ---- */

static int
reset_state(const char *path, const char *user)
{
	struct totp_state *st = NULL;
	char err[256];
	int rc = -1;

	if (access(path, F_OK) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (totp_state_open(path, err, sizeof(err), &st) != 0) {
		fprintf(stderr, "%s\n", err);	/* err names the file */
		return -1;
	}
	if (totp_state_reset(st, user) != 0)
		fprintf(stderr, "%s: cannot reset the state of %s\n", path,
		    user);
	else {
		printf("%s: replay and lockout state of %s cleared\n", path,
		    user);
		rc = 0;
	}
	totp_state_close(st);
	return rc;
}

static int
cmd_reset(int argc, char **argv)
{
	const char *file = CTL_DEFAULT_TOTP_SECRETS, *state = NULL, *user;
	struct totp_secrets *s = NULL;
	int ch, existed, removed = 0, rc = CTL_REFUSED;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:s:", long_opts, NULL)) != -1) {
		if (ch == 'f')
			file = optarg;
		else if (ch == 's')
			state = optarg;
		else
			return usage(reset_usage, stderr, CTL_USAGE);
	}
	if (argc - optind != 1)
		return usage(reset_usage, stderr, CTL_USAGE);
	user = argv[optind];
	if (check_user_arg(user) != 0)
		return CTL_USAGE;
	if (secrets_open(file, 0, &s, &existed) != 0)
		return CTL_REFUSED;
	if (totp_secrets_remove(s, user) == 1) {
		if (secrets_save(s, file) != 0)
			goto out;
		printf("%s: TOTP secret of %s removed\n", file, user);
		removed = 1;
	} else
		fprintf(stderr, "%s: %s has no TOTP secret\n", file, user);
	/* A user with no secret may still have state: clear it anyway. */
	if (state != NULL && reset_state(state, user) != 0)
		goto out;
	if (removed) {
		reload_hint(file, 0);
		rc = CTL_OK;
	}
 out:
	totp_secrets_free(s);
	return rc;
}

/* ---- import ---- */

/* One input file being imported: its lines and what was taken from it. */
struct import {
	const char	*path;		/* the input file */
	unsigned long	 line;
	unsigned int	 errors;
	struct totp_secrets *s;		/* the secrets file's entries */
	const char	*spath;		/* the secrets file */
	int		 force;
	struct seen {
		char		 user[TOTP_USER_MAX + 1];
		unsigned long	 line;
		enum totp_alg	 alg;
		unsigned int	 digits, period;
		size_t		 nscratch;
	} *seen;			/* users imported so far */
	size_t		 nseen;
};

static void
import_err(struct import *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
import_err(struct import *im, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%lu: ", im->path, im->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	im->errors++;
}

/* Add e to the secrets unless it clashes; errors are counted in im. */
static int
import_put(struct import *im, const struct totp_entry *e)
{
	const struct totp_entry *old;
	struct seen *ns;
	size_t i;

	for (i = 0; i < im->nseen; i++) {
		if (strcmp(im->seen[i].user, e->user) == 0) {
			import_err(im, "%s already on line %lu", e->user,
			    im->seen[i].line);
			return -1;
		}
	}
	if (!im->force && (old = totp_secrets_find(im->s, e->user)) != NULL) {
		import_err(im, "%s already has a TOTP secret in %s:%lu "
		    "(--force replaces it)", e->user, im->spath, old->line);
		return -1;
	}
	if ((ns = reallocarray(im->seen, im->nseen + 1,
	    sizeof(*ns))) == NULL) {
		import_err(im, "out of memory");
		return -1;
	}
	im->seen = ns;
	if (totp_secrets_put(im->s, e) != 0) {
		import_err(im, "out of memory");
		return -1;
	}
	ns += im->nseen++;
	snprintf(ns->user, sizeof(ns->user), "%s", e->user);
	ns->line = im->line;
	ns->alg = e->alg;
	ns->digits = e->digits;
	ns->period = e->period;
	ns->nscratch = e->nscratch;
	return 0;
}

/* What was imported, once it is written. */
static void
import_report(const struct import *im)
{
	const struct seen *u;
	size_t i;

	for (i = 0; i < im->nseen; i++) {
		u = &im->seen[i];
		printf("%s: imported from %s:%lu (%s, %u digits, %u s", u->user,
		    im->path, u->line, totp_alg_name(u->alg), u->digits,
		    u->period);
		if (u->nscratch > 0)
			printf(", %zu scratch code%s", u->nscratch,
			    u->nscratch == 1 ? "" : "s");
		printf(")\n");
	}
	printf("%zu user%s written to %s\n", im->nseen,
	    im->nseen == 1 ? "" : "s", im->spath);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A secret in hex into e, with a message on error. */
static int
secret_from_hex(struct import *im, const char *s, struct totp_entry *e)
{
	size_t i, len = strlen(s);
	int hi, lo;

	if (len % 2 != 0) {
		import_err(im, "the secret is not hexadecimal (odd length)");
		return -1;
	}
	if (len / 2 < TOTP_SECRET_MIN || len / 2 > TOTP_SECRET_MAX) {
		import_err(im, "the secret is %zu bytes; %d to %d are needed",
		    len / 2, TOTP_SECRET_MIN, TOTP_SECRET_MAX);
		return -1;
	}
	for (i = 0; i < len / 2; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0) {
			import_err(im, "the secret is not hexadecimal");
			return -1;
		}
		e->secret[i] = (uint8_t)(hi << 4 | lo);
	}
	e->secretlen = len / 2;
	return 0;
}

/*
 * pam_oath's token type: "HOTP/T30", "HOTP/T60/8".  Only time-based
 * types can be imported; "HOTP" and "HOTP/E..." count events.
 */
static int
oath_type(struct import *im, const char *t, struct totp_entry *e)
{
	char safe[64], err[128];
	unsigned long period, digits = 6;
	char num[8];
	size_t n;

	diag_safe(t, strlen(t), safe, sizeof(safe));
	if (strcmp(t, "HOTP") == 0 || strncmp(t, "HOTP/E", 6) == 0) {
		import_err(im, "unsupported type %s (event-based HOTP; the "
		    "gateway takes time-based codes only)", safe);
		return -1;
	}
	if (strncmp(t, "HOTP/T", 6) != 0)
		goto bad;
	t += 6;
	if ((n = strcspn(t, "/")) == 0 || n >= sizeof(num))
		goto bad;
	memcpy(num, t, n);
	num[n] = '\0';
	if (conv_uint(num, 15, 300, &period, err, sizeof(err)) != 0)
		goto bad;
	t += n;
	if (*t == '/' && conv_uint(t + 1, 6, 8, &digits, err,
	    sizeof(err)) != 0)
		goto bad;
	e->period = (unsigned int)period;
	e->digits = (unsigned int)digits;
	return 0;
 bad:
	import_err(im, "unsupported type %s (HOTP/T<seconds>[/<digits>] "
	    "with 15 to 300 seconds and 6 to 8 digits)", safe);
	return -1;
}

static int
wanted(const char *user, char **users, int nusers, int *found)
{
	int i;

	if (nusers == 0)
		return 1;
	for (i = 0; i < nusers; i++) {
		if (strcmp(users[i], user) == 0) {
			found[i] = 1;
			return 1;
		}
	}
	return 0;
}

#define OATH_FIELDS	6	/* type user password secret counter time */

/* One line of a pam_oath usersfile, already split into fields. */
static void
oath_line(struct import *im, char **f, int nf, struct totp_entry *e)
{
	char msg[256];

	memset(e, 0, sizeof(*e));
	if (!conv_name_ok(f[1], TOTP_USER_MAX)) {
		import_err(im, "%s", bad_user_msg(f[1], msg, sizeof(msg)));
		return;
	}
	snprintf(e->user, sizeof(e->user), "%s", f[1]);
	if (oath_type(im, f[0], e) != 0)
		return;
	if (strcmp(f[2], "-") != 0 && strcmp(f[2], "+") != 0) {
		/* Never echo it: it is a password. */
		import_err(im, "%s has a password in the usersfile (a pam_oath "
		    "two-password setup): not imported; the gateway's first "
		    "factor is the SSH key, so make the field '-'", e->user);
		return;
	}
	if (secret_from_hex(im, f[3], e) != 0)
		return;
	e->alg = TOTP_SHA1;
	e->line = im->line;
	if (import_put(im, e) != 0)
		return;
	if (nf > 4)
		printf("%s:%lu: the counter and last-use fields are not "
		    "carried over (the gateway keeps its own replay state)\n",
		    im->path, im->line);
}

static void
import_pam_oath(struct import *im, const char *buf, size_t len,
    char **users, int nusers, int *found, struct totp_entry *e)
{
	char line[TEXTFILE_LINE_MAX + 1], err[128], *f[OATH_FIELDS + 1];
	char *sp, *tok;
	const char *p;
	size_t off = 0, plen;
	int nf;

	while (textfile_next(buf, len, &off, &p, &plen)) {
		im->line++;
		if (textfile_check_line(p, plen, err, sizeof(err)) != NULL) {
			import_err(im, "%s", err);
			continue;
		}
		memcpy(line, p, plen);
		line[plen] = '\0';
		nf = 0;
		for (tok = strtok_r(line, " \t", &sp); tok != NULL &&
		    nf <= OATH_FIELDS; tok = strtok_r(NULL, " \t", &sp))
			f[nf++] = tok;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (nf < 4 || nf > OATH_FIELDS)
			import_err(im, "expected TYPE USER PASSWORD SECRET "
			    "[COUNTER [TIME]], found %d field%s", nf,
			    nf == 1 ? "" : "s");
		else if (wanted(f[1], users, nusers, found))
			oath_line(im, f, nf, e);
	}
	sodium_memzero(line, sizeof(line));
}

/*
 * The options of a ~/.google_authenticator file.  The secret, TOTP_AUTH
 * and STEP_SIZE are carried over; HOTP_COUNTER (event-based) is refused;
 * the rest are reported as not carried over, never dropped silently.
 */
static void
ga_option(struct import *im, char *opt, struct totp_entry *e)
{
	char safe[64], err[128], *sp, *kw, *a1;
	unsigned long step;

	kw = strtok_r(opt, " \t", &sp);
	a1 = strtok_r(NULL, " \t", &sp);
	if (kw == NULL) {
		import_err(im, "empty option line");
		return;
	}
	if (strcmp(kw, "TOTP_AUTH") == 0)
		return;
	if (strcmp(kw, "HOTP_COUNTER") == 0) {
		import_err(im, "HOTP_COUNTER: event-based HOTP cannot be "
		    "imported (the gateway takes time-based codes only)");
	} else if (strcmp(kw, "STEP_SIZE") == 0) {
		if (a1 == NULL || conv_uint(a1, 15, 300, &step, err,
		    sizeof(err)) != 0)
			import_err(im, "STEP_SIZE: the gateway takes 15 to "
			    "300 seconds");
		else
			e->period = (unsigned int)step;
	} else if (strcmp(kw, "WINDOW_SIZE") == 0) {
		printf("%s:%lu: WINDOW_SIZE %s not carried over: the "
		    "gateway's window is global (TotpWindow in "
		    "gateway.conf)\n", im->path, im->line,
		    a1 != NULL ? diag_safe(a1, strlen(a1), safe,
		    sizeof(safe)) : "");
	} else if (strcmp(kw, "RATE_LIMIT") == 0) {
		printf("%s:%lu: RATE_LIMIT not carried over: the gateway "
		    "locks the second factor after %d failures in a row, "
		    "for %d s doubling up to %d s\n", im->path, im->line,
		    TOTP_LOCK_AFTER, TOTP_LOCK_BASE, TOTP_LOCK_MAX);
	} else if (strcmp(kw, "DISALLOW_REUSE") == 0) {
		printf("%s:%lu: DISALLOW_REUSE not carried over: the gateway "
		    "always refuses a code it has accepted before (its "
		    "record of used codes is not imported)\n", im->path,
		    im->line);
	} else {
		printf("%s:%lu: unknown option %s not carried over\n",
		    im->path, im->line, diag_safe(kw, strlen(kw), safe,
		    sizeof(safe)));
	}
}

/* The first line: the base32 secret. */
static int
ga_secret(struct import *im, const char *s, size_t len, struct totp_entry *e)
{
	char *bin = NULL;
	size_t binlen = 0;
	int rc = -1;

	if (len == 0 || s[0] == '"') {
		import_err(im, "the first line must be the base32 secret");
		return -1;
	}
	if (oath_base32_decode(s, len, &bin, &binlen) != OATH_OK)
		import_err(im, "the secret is not base32");
	else if (binlen < TOTP_SECRET_MIN || binlen > TOTP_SECRET_MAX)
		import_err(im, "the secret is %zu bytes; %d to %d are needed",
		    binlen, TOTP_SECRET_MIN, TOTP_SECRET_MAX);
	else {
		memcpy(e->secret, bin, binlen);
		e->secretlen = binlen;
		rc = 0;
	}
	if (bin != NULL) {
		sodium_memzero(bin, binlen);
		free(bin);
	}
	return rc;
}

/* A scratch code: 8 digits, as google-authenticator writes them. */
static int
ga_scratch(const char *s, size_t len)
{
	size_t i;

	if (len != TOTP_SCRATCH_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

struct ga_codes {
	char		 code[TOTP_SCRATCH_MAX][TOTP_SCRATCH_LEN + 1];
	const char	*ptr[TOTP_SCRATCH_MAX];
	size_t		 n;
};

static void
ga_lines(struct import *im, const char *buf, size_t len,
    struct totp_entry *e, struct ga_codes *c)
{
	char line[TEXTFILE_LINE_MAX + 1], err[128];
	const char *p;
	size_t off = 0, plen;

	while (textfile_next(buf, len, &off, &p, &plen)) {
		im->line++;
		if (textfile_check_line(p, plen, err, sizeof(err)) != NULL) {
			import_err(im, "%s", err);
			continue;
		}
		if (im->line == 1) {
			ga_secret(im, p, plen, e);
			continue;
		}
		memcpy(line, p, plen);
		line[plen] = '\0';
		if (line[0] == '"')
			ga_option(im, line + 1, e);
		else if (!ga_scratch(line, plen))
			import_err(im, "not a scratch code (8 digits) nor an "
			    "option line");
		else if (c->n == TOTP_SCRATCH_MAX)
			import_err(im, "more than %d scratch codes",
			    TOTP_SCRATCH_MAX);
		else {
			memcpy(c->code[c->n], line, TOTP_SCRATCH_LEN + 1);
			c->ptr[c->n] = c->code[c->n];
			c->n++;
		}
	}
	if (im->line == 0)
		import_err(im, "empty file: no secret");
	sodium_memzero(line, sizeof(line));
}

static void
import_ga(struct import *im, const char *buf, size_t len, const char *user,
    struct totp_entry *e)
{
	struct ga_codes *c;

	if ((c = sodium_malloc(sizeof(*c))) == NULL) {
		import_err(im, "out of memory");
		return;
	}
	memset(c, 0, sizeof(*c));
	memset(e, 0, sizeof(*e));
	snprintf(e->user, sizeof(e->user), "%s", user);
	/* google-authenticator's codes are always HMAC-SHA1, 6 digits. */
	e->alg = TOTP_SHA1;
	e->digits = 6;
	e->period = 30;
	e->line = 1;
	ga_lines(im, buf, len, e, c);
	if (im->errors > 0)
		goto out;
	if (c->n > 0 && totp_entry_set_scratch(e, c->ptr, c->n) != 0) {
		import_err(im, "cannot store the scratch codes");
		goto out;
	}
	im->line = 1;
	(void)import_put(im, e);
 out:
	sodium_free(c);
}

struct import_opts {
	const char	*file, *oath;
	int		 ga, force;
};

static int
import_args(int argc, char **argv, struct import_opts *o)
{
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->file = optarg;
			break;
		case OPT_FORCE:
			o->force = 1;
			break;
		case OPT_PAM_OATH:
			o->oath = optarg;
			break;
		case OPT_GA:
			o->ga = 1;
			break;
		default:
			return usage(import_usage, stderr, -1);
		}
	}
	if ((o->oath != NULL) == o->ga ||
	    (o->ga && argc - optind != 2))
		return usage(import_usage, stderr, -1);
	return 0;
}

/* The USERs named on the command line, or the one of -g. */
static int
check_users(char **users, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (check_user_arg(users[i]) != 0)
			return -1;
	}
	return 0;
}

static void
import_missing(struct import *im, char **users, int nusers, const int *found)
{
	int i;

	for (i = 0; i < nusers; i++) {
		if (!found[i]) {
			fprintf(stderr, "%s: no line for %s\n", im->path,
			    users[i]);
			im->errors++;
		}
	}
}

static int
import_run(struct import *im, const struct import_opts *o, char **args,
    int nargs, struct totp_entry *e)
{
	char err[256], *buf = NULL;
	size_t len = 0;
	int *found = NULL;

	if (textfile_read(im->path, &buf, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", im->path, err);
		return -1;
	}
	if (o->ga)
		import_ga(im, buf, len, args[0], e);
	else if ((found = calloc((size_t)nargs + 1, sizeof(*found))) == NULL) {
		fprintf(stderr, "rampartctl: out of memory\n");
		im->errors++;
	} else {
		import_pam_oath(im, buf, len, args, nargs, found, e);
		import_missing(im, args, nargs, found);
	}
	free(found);
	sodium_memzero(buf, len);
	free(buf);
	return im->errors > 0 ? -1 : 0;
}

static int
cmd_import(int argc, char **argv)
{
	struct import_opts o = { CTL_DEFAULT_TOTP_SECRETS, NULL, 0, 0 };
	struct import im;
	struct totp_entry *e = NULL;
	char **args;
	int nargs, existed, rc = CTL_REFUSED;

	if (import_args(argc, argv, &o) != 0)
		return CTL_USAGE;
	args = argv + optind;
	nargs = argc - optind;
	if (check_users(args, o.ga ? 1 : nargs) != 0)
		return CTL_USAGE;
	memset(&im, 0, sizeof(im));
	im.path = o.ga ? args[1] : o.oath;
	im.spath = o.file;
	im.force = o.force;
	if (secrets_open(o.file, 1, &im.s, &existed) != 0)
		return CTL_REFUSED;
	if ((e = sodium_malloc(sizeof(*e))) == NULL) {
		fprintf(stderr, "rampartctl: out of memory\n");
		goto out;
	}
	if (import_run(&im, &o, args, nargs, e) != 0) {
		fprintf(stderr, "%s: not imported; %s not changed\n", im.path,
		    o.file);
		goto out;
	}
	if (im.nseen == 0) {
		fprintf(stderr, "%s: no TOTP entries in it; %s not changed\n",
		    im.path, o.file);
		goto out;
	}
	if (secrets_save(im.s, o.file) != 0)
		goto out;
	import_report(&im);
	reload_hint(o.file, !existed);
	rc = CTL_OK;
 out:
	if (e != NULL)
		sodium_free(e);
	free(im.seen);
	totp_secrets_free(im.s);
	return rc;
}

/* ---- dispatch ---- */

static const struct totp_cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
} cmds[] = {
	{ "enroll",	cmd_enroll,	enroll_usage },
	{ "verify",	cmd_verify,	verify_usage },
	{ "reset",	cmd_reset,	reset_usage },
	{ "import",	cmd_import,	import_usage },
};

static int
family_usage(FILE *f, int code)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		fputs(cmds[i].usage, f);
		fputc('\n', f);
	}
	fputs("'rampartctl totp COMMAND --help' shows one command.\n", f);
	fputs(common_usage, f);
	return code;
}

int
ctl_totp(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return family_usage(stderr, CTL_USAGE);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (ctl_help_wanted(argc - 1, argv + 1))
			return usage(cmds[i].usage, stdout, CTL_OK);
		if (oath_init() != OATH_OK) {
			fprintf(stderr, "rampartctl: liboath failed to "
			    "initialise\n");
			return CTL_REFUSED;
		}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	if (ctl_help_wanted(argc, argv))
		return family_usage(stdout, CTL_OK);
	fprintf(stderr, "rampartctl: unknown totp command \"%s\"\n", argv[1]);
	return family_usage(stderr, CTL_USAGE);
}
