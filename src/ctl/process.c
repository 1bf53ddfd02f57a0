/*
 * Process-level operating-system specifics of the daemon, in one place:
 * the descriptor limit (TCP connections are descriptors), the switch to an
 * unprivileged user once sockets are bound (setgroups(2), setresgid(2),
 * setresuid(2); glibc applies them to every thread of the process, the
 * workers already running included), keeping CAP_NET_ADMIN alone when
 * anycast addresses must still be removed at the stop (prctl(2)
 * PR_SET_KEEPCAPS, capset(2)), and the PID file.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/log.h"

void ctl_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("cannot raise RLIMIT_NOFILE from %llu to %llu: %s",
			 (unsigned long long)was, (unsigned long long)rl.rlim_max,
			 anydns_strerror(-errno));
		return;
	}
	log_debug("RLIMIT_NOFILE raised from %llu to %llu",
		  (unsigned long long)was, (unsigned long long)rl.rlim_max);
}

int ctl_user_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (size < 1024)
		size = 16384;
	char *buf = malloc((size_t)size);
	if (buf == NULL)
		return ANYDNS_ENOMEM;
	struct passwd pw, *found = NULL;
	int err = getpwnam_r(user, &pw, buf, (size_t)size, &found);
	int ret = 0;
	if (found == NULL) {
		ret = err != 0 ? -err : ANYDNS_ENOENT;
		if (err != 0)
			log_err("cannot look up user %s: %s", user,
				anydns_strerror(ret));
		else
			log_err("server.user: no user named %s", user);
	} else {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	return ret;
}

/* Keeps CAP_NET_ADMIN alone, permitted and effective, once the uid is no
 * longer 0 (capabilities(7): PR_SET_KEEPCAPS kept the permitted set
 * through setresuid(), which cleared the effective one). */
static int keep_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	data[CAP_NET_ADMIN / 32].permitted = 1u << (CAP_NET_ADMIN % 32);
	data[CAP_NET_ADMIN / 32].effective = 1u << (CAP_NET_ADMIN % 32);
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

int ctl_drop_privileges(const char *user, uid_t uid, gid_t gid,
			bool net_admin)
{
	if (getuid() == uid && geteuid() == uid && getgid() == gid &&
	    getegid() == gid) {
		log_debug("already running as %s", user);
		return 0;
	}
	/* Groups first: once the uid changed, they could not be. */
	const char *step = NULL;
	if (net_admin && uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		step = "PR_SET_KEEPCAPS";
	else if (setgroups(1, &gid) != 0)
		step = "setgroups";
	else if (setresgid(gid, gid, gid) != 0)
		step = "setresgid";
	else if (setresuid(uid, uid, uid) != 0)
		step = "setresuid";
	else if (net_admin && uid != 0 && keep_net_admin() != 0)
		step = "capset CAP_NET_ADMIN";
	if (net_admin && uid != 0)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (step != NULL) {
		int ret = -errno;
		log_err("cannot switch to user %s (%s): %s", user, step,
			anydns_strerror(ret));
		return ret;
	}
	/* A switch that can be undone is no switch. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("user %s: root could be regained", user);
		return ANYDNS_EINVAL;
	}
	log_info("running as user %s (uid %u, gid %u)%s", user, (unsigned)uid,
		 (unsigned)gid, net_admin ? ", keeping CAP_NET_ADMIN for the "
		 "anycast addresses" : "");
	return 0;
}

int ctl_pidfile_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int ret = -errno;
		log_err("cannot write PID file %s: %s", path,
			anydns_strerror(ret));
		return ret;
	}
	char line[32];
	int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	int ret = 0;
	if (write(fd, line, (size_t)n) != n)
		ret = errno != 0 ? -errno : ANYDNS_EIO;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret != 0)
		log_err("cannot write PID file %s: %s", path,
			anydns_strerror(ret));
	return ret;
}
