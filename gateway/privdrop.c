/*
 * privdrop: libcap-ng id change with the bounding set cleared.
 */
#include <sys/prctl.h>
#include <sys/types.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

int
privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		error("user \"%s\" does not exist%s%s", user,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0) {
		error("user \"%s\" is root; refusing to run the master as "
		    "root", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
privdrop_drop(uid_t uid, gid_t gid)
{
	int r;

	capng_clear(CAPNG_SELECT_BOTH);
	if (geteuid() == 0) {
		r = capng_change_id((int)uid, (int)gid,
		    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		if (r != 0) {
			error("capng_change_id(%u, %u) failed: %d",
			    (unsigned int)uid, (unsigned int)gid, r);
			return -1;
		}
	} else if (capng_apply(CAPNG_SELECT_BOTH) != 0) {
		error("cannot clear capabilities");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* Prove it: regaining root must now be impossible. */
	if (geteuid() != uid && getuid() == 0) {
		error("still root after the drop");
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		error("could regain root after the drop");
		return -1;
	}
	return 0;
}
