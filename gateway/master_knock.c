/*
 * master_knock: the master's side of knocking (docs/PROTOCOL.knock section
 * 12).  rampart-knockd tells the master "user U opened address A until T"
 * over a unix datagram socket that the master binds at start, as root,
 * writable by knockd's group only.  The master believes a datagram only if
 * the kernel says it came from knockd's uid (SCM_CREDENTIALS), decodes it
 * as hostile anyway, and remembers the binding until T + LoginGraceTime.
 * A user with "knock required" then logs in only from an address bound to
 * that user.  Bad datagrams are dropped and logged, rate limited; they
 * never stop the master.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "knock_bind.h"
#include "log.h"
#include "master_int.h"

#define READ_BATCH	64	/* datagrams per wake-up, then epoll again */
#define BAD_LOG_PER_MIN	5	/* bad datagrams logged one by one */

int
master_knock_lookup(struct master_setup *ms)
{
	struct passwd *pw;

	ms->knock_fd = -1;
	if (ms->conf.knockd_user[0] == '\0')
		return 0;
	errno = 0;
	if ((pw = getpwnam(ms->conf.knockd_user)) == NULL) {
		error("KnockdUser \"%s\" does not exist%s%s",
		    ms->conf.knockd_user, errno ? ": " : "",
		    errno ? strerror(errno) : "");
		return -1;
	}
	ms->knockd_uid = pw->pw_uid;
	ms->knockd_gid = pw->pw_gid;
	return 0;
}

/* Make room for the socket: a stale socket goes, anything else stays. */
static int
clear_path(const char *path)
{
	char buf[PATH_MAX], *dir;
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		error("KnockBindSocket: cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		error("KnockBindSocket %s exists and is not a socket; not "
		    "removing it", path);
		return -1;
	}
	if (unlink(path) != 0) {
		error("KnockBindSocket: cannot remove the stale %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Bind with a umask that makes the socket 0660 from the first moment, then
 * give it to knockd's group.  SO_PASSCRED makes the kernel attach every
 * sender's credentials, whether the sender asks or not.
 */
int
master_knock_socket(struct master_setup *ms)
{
	const char *path = ms->conf.knock_bind_socket;
	struct sockaddr_un sa;
	mode_t old;
	int fd = -1, on = 1, r;

	ms->knock_fd = -1;
	if (path[0] == '\0')
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (clear_path(path) != 0 || (fd = socket(AF_UNIX, SOCK_DGRAM |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r != 0 || chmod(path, 0660) != 0 ||
	    chown(path, (uid_t)-1, ms->knockd_gid) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0)
		goto fail;
	ms->knock_fd = fd;
	logit("knock bindings from %s (uid %u) on %s", ms->conf.knockd_user,
	    (unsigned int)ms->knockd_uid, path);
	return 0;
 fail:
	error("KnockBindSocket %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Users who must knock, and nothing that could hear a knock: say so. */
void
master_knock_check_policy(struct master *m)
{
	size_t n = policy_knock_required_users(m->pol);

	if (n > 0 && m->knock_ev.fd < 0)
		error("WARNING: %zu user%s with 'knock required' but no "
		    "KnockBindSocket: they cannot log in until the gateway "
		    "hears about knocks (fail closed)", n, n == 1 ? "" : "s");
}

int
master_knock_start(struct master *m)
{
	struct epoll_event ev;

	m->knock_ev.kind = EV_KNOCK;
	m->knock_ev.fd = m->ms->knock_fd;
	if (m->knock_ev.fd < 0)
		return 0;
	if ((m->knock = knock_bind_table_new()) == NULL)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &m->knock_ev;
	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->knock_ev.fd, &ev);
}

void
master_knock_stop(struct master *m)
{
	knock_bind_table_free(m->knock);
	m->knock = NULL;
	if (m->knock_ev.fd >= 0)
		close(m->knock_ev.fd);
	m->knock_ev.fd = -1;
}

/*
 * One line per bad datagram, BAD_LOG_PER_MIN a minute; the next line
 * after a quiet spell says how many were left out.
 */
static void
log_bad(const char *why, const char *detail)
{
	static time_t window;
	static unsigned int in_window;
	static unsigned long suppressed;
	time_t now = master_now();

	if (now - window >= 60) {
		window = now;
		in_window = 0;
	}
	if (++in_window > BAD_LOG_PER_MIN) {
		suppressed++;
		return;
	}
	if (suppressed > 0)
		error("knock binding dropped: %s%s (and %lu more not logged)",
		    why, detail, suppressed);
	else
		error("knock binding dropped: %s%s", why, detail);
	suppressed = 0;
}

static void
audit_binding(struct master *m, const struct knock_bind_msg *b)
{
	char ip[ADDR_STRLEN], id[33], fp[64] = "SHA256:";
	struct audit_rec r;

	addr_ntop(&b->addr, ip, sizeof(ip));
	sodium_bin2hex(id, sizeof(id), b->knock_id, sizeof(b->knock_id));
	sodium_bin2base64(fp + 7, sizeof(fp) - 7, b->key_id,
	    sizeof(b->key_id), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	monitor_audit_begin(m, NULL, &r, "knock-binding", "success");
	audit_str(&r, "user.name", b->user);
	audit_str(&r, "source.ip", ip);
	audit_uint(&r, "destination.port", b->port);
	audit_str(&r, "rampart.knock.id", id);
	audit_uint(&r, "rampart.knock.until", b->until);
	audit_str(&r, "rampart.key.fingerprint", fp);
	monitor_audit_write(m, &r);
}

/*
 * The sender's uid; -1 without one.  Descriptors passed along (knockd
 * never sends any) are closed unread, and the datagram is refused (-2),
 * so that nobody can fill the master's descriptor table.
 */
static int
sender_uid(struct msghdr *mh, uid_t *uid)
{
	struct cmsghdr *cm;
	struct ucred cred;
	int found = 0, fds = 0, fd;
	size_t i, n;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
			*uid = cred.uid;
			found = 1;
		} else if (cm->cmsg_type == SCM_RIGHTS) {
			n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < n; i++) {
				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				    sizeof(fd));
				close(fd);
				fds = 1;
			}
		}
	}
	if (fds || (mh->msg_flags & MSG_CTRUNC))
		return -2;
	return found ? 0 : -1;
}

static void
take_datagram(struct master *m, const uint8_t *buf, ssize_t len,
    struct msghdr *mh)
{
	struct knock_bind_msg b;
	char err[128], detail[64], ip[ADDR_STRLEN];
	time_t now = time(NULL);
	uid_t uid = 0;

	switch (sender_uid(mh, &uid)) {
	case 0:
		break;
	case -2:
		log_bad("descriptors attached", "");
		return;
	default:
		log_bad("no sender credentials", "");
		return;
	}
	if (uid != m->ms->knockd_uid) {
		snprintf(detail, sizeof(detail), " (uid %u, not KnockdUser's)",
		    (unsigned int)uid);
		log_bad("wrong sender", detail);
		return;
	}
	if ((mh->msg_flags & MSG_TRUNC) || knock_bind_decode(buf, (size_t)len,
	    &b, err, sizeof(err)) != 0) {
		snprintf(detail, sizeof(detail), " (%zd bytes)", len);
		log_bad((mh->msg_flags & MSG_TRUNC) ? "too long" : err, detail);
		return;
	}
	if (b.until <= (uint64_t)now) {
		log_bad("already expired", "");
		return;
	}
	if (knock_bind_table_add(m->knock, &b, m->conf.login_grace) != 0) {
		error("knock binding for %s not recorded: out of memory",
		    b.user);
		return;
	}
	addr_ntop(&b.addr, ip, sizeof(ip));
	verbose("knock binding: %s from %s until %llu", b.user, ip,
	    (unsigned long long)b.until);
	audit_binding(m, &b);
}

void
master_knock_read(struct master *m)
{
	uint8_t buf[KNOCK_BIND_SIZE + 1];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(16 * sizeof(int))];
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;
	int i;

	for (i = 0; i < READ_BATCH; i++) {
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(m->knock_ev.fd, &mh, MSG_DONTWAIT |
		    MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				error("knock socket: %s", strerror(errno));
			break;
		}
		take_datagram(m, buf, n, &mh);
	}
	/* Forget the expired now and then, not on every datagram. */
	if (m->knock != NULL && master_now() != m->knock_expired) {
		m->knock_expired = master_now();
		(void)knock_bind_table_expire(m->knock, time(NULL));
	}
}

/*
 * NULL if u may log in from c's address as far as knocking goes; else the
 * reason, in buf.  A user who must knock and a gateway that hears no
 * knocks: refused (fail closed).
 */
const char *
master_knock_refusal(struct master *m, struct child *c,
    const struct policy_user *u, char *buf, size_t len)
{
	c->knocked = 0;
	if (!policy_user_knock_required(u))
		return NULL;
	if (m->knock != NULL && knock_bind_table_check(m->knock,
	    policy_user_name(u), &c->peer, time(NULL), c->knock_id)) {
		c->knocked = 1;
		return NULL;
	}
	snprintf(buf, len, "knock: no knock by %s from %s",
	    policy_user_name(u), c->peer_str);
	return buf;
}
