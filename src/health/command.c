/*
 * The external command of a health check: `/bin/sh -c COMMAND` started
 * with posix_spawn(3) in a process group of its own (so a timeout kills
 * whatever the shell started too), stdin and stdout on /dev/null, every
 * signal at its default and none blocked (the daemon ignores SIGPIPE and
 * catches others; a command must not inherit that). Its end is watched
 * through a pidfd (pidfd_open(2)) on the loop, so no SIGCHLD handler is
 * shared with anyone, and it is reaped with waitpid() of its own PID only.
 * Exit status 0 passes; any other status, a signal or the timeout fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health/internal.h"
#include "lib/log.h"

extern char **environ;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_child_closed(uv_handle_t *h)
{
	struct health_check *hc = h->data;
	close(hc->pidfd);
	hc->pidfd = -1;
	hc->child_open = false;
	health_check_handle_closed(hc);
}

static void child_close(struct health_check *hc)
{
	if (hc->child_open && !uv_is_closing((uv_handle_t *)&hc->child_poll))
		uv_close((uv_handle_t *)&hc->child_poll, on_child_closed);
}

/* The child ended with status st: one result. */
static void reaped(struct health_check *hc, int st)
{
	char why[HEALTH_TEXT_MAX];
	double ms = (double)(mono_ns() - hc->sent_ns) / 1e6;
	hc->pid = 0;
	child_close(hc);
	if (hc->timed_out)
		snprintf(why, sizeof(why), "no exit within %ums, killed",
			 hc->conf.timing.timeout_ms);
	else if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit status %d in %.1fms",
			 WEXITSTATUS(st), ms);
	else if (WIFSIGNALED(st))
		snprintf(why, sizeof(why), "killed by signal %d",
			 WTERMSIG(st));
	else
		snprintf(why, sizeof(why), "ended with status %#x", st);
	health_check_result(hc, !hc->timed_out && WIFEXITED(st) &&
			    WEXITSTATUS(st) == 0, why);
}

static void on_child(uv_poll_t *p, int status, int events)
{
	struct health_check *hc = p->data;
	int st = 0;
	(void)status;
	(void)events;
	if (hc->pid == 0)
		return;
	pid_t r = waitpid(hc->pid, &st, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR))
		return;
	if (r < 0) {
		/* Reaped elsewhere: nothing tells how it ended. */
		hc->pid = 0;
		child_close(hc);
		health_check_result(hc, false, "exit status lost");
		return;
	}
	reaped(hc, st);
}

static int spawn(struct health_check *hc, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char *argv[] = { "sh", "-c", hc->command, NULL };
	int err;

	sigemptyset(&none);
	sigfillset(&all);
	if ((err = posix_spawn_file_actions_init(&fa)) != 0)
		return -err;
	if ((err = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -err;
	}
	err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (err == 0)
		err = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
						       O_WRONLY, 0);
	if (err == 0)
		err = posix_spawnattr_setsigmask(&at, &none);
	if (err == 0)
		err = posix_spawnattr_setsigdefault(&at, &all);
	if (err == 0)
		err = posix_spawnattr_setpgroup(&at, 0);
	if (err == 0)
		err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					       POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETPGROUP);
	if (err == 0)
		err = posix_spawn(pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -err;
}

void health_command_round(struct health_check *hc)
{
	char why[HEALTH_TEXT_MAX];
	if (hc->pid != 0 || hc->child_open) {
		/* Still running with a timeout as long as the interval: the
		 * kill is on its way; its result ends that round. */
		return;
	}
	pid_t pid;
	hc->timed_out = false;
	hc->sent_ns = mono_ns();
	int ret = spawn(hc, &pid);
	if (ret != 0) {
		snprintf(why, sizeof(why), "cannot start /bin/sh: %s",
			 anydns_strerror(ret));
		health_check_result(hc, false, why);
		return;
	}
	hc->pid = pid;
	hc->pidfd = pidfd_open(pid, 0);
	if (hc->pidfd < 0 ||
	    uv_poll_init(hc->loop, &hc->child_poll, hc->pidfd) != 0) {
		/* Without a pidfd there is no way to hear of its end on the
		 * loop: stop it now and fail the round. */
		int st = 0;
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (hc->pidfd >= 0)
			close(hc->pidfd);
		hc->pidfd = -1;
		hc->pid = 0;
		health_check_result(hc, false, "cannot watch the command "
				    "(pidfd_open)");
		return;
	}
	hc->child_poll.data = hc;
	hc->child_open = true;
	hc->open_handles++;
	uv_poll_start(&hc->child_poll, UV_READABLE, on_child);
	uv_timer_start(&hc->timeout_timer, health_check_on_timeout,
		       hc->conf.timing.timeout_ms, 0);
}

void health_command_timeout(struct health_check *hc)
{
	if (hc->pid == 0)
		return;
	hc->timed_out = true;
	/* The whole group: the shell and what it started. Its end comes
	 * through the pidfd as for any other exit. */
	if (kill(-hc->pid, SIGKILL) != 0)
		kill(hc->pid, SIGKILL);
}

void health_command_abandon(struct health_check *hc)
{
	if (hc->pid != 0) {
		int st;
		if (kill(-hc->pid, SIGKILL) != 0)
			kill(hc->pid, SIGKILL);
		/* Killed: waitpid() returns at once. */
		while (waitpid(hc->pid, &st, 0) < 0 && errno == EINTR)
			;
		hc->pid = 0;
	}
	child_close(hc);
}
