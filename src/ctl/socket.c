/*
 * The control socket: a UNIX stream socket (unix(7)) on the control
 * thread's loop. Access is the file's: mode 0660, owned by the daemon's
 * user once it drops privileges. A client sends one request line; the reply
 * (first line `ok` or `error: message`, then the body) is written and the
 * connection closed, so clients read until EOF. A client that does not send
 * its line in time, or sends too much, is answered or closed without
 * holding anything up: the loop never blocks on a client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/internal.h"
#include "lib/log.h"

struct ctl_client {
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_write_t write;
	struct ctl *ctl;
	struct ctl_client *next;
	struct ctl_client **pprev;
	int open_handles;
	bool closing;
	bool replied;
	char *reply;
	size_t len;
	/* One octet more than a request may have: a full buffer without a
	 * newline is a request too long, which the parser says. */
	char line[CTL_REQUEST_MAX + 1];
};

/* ---- clients ------------------------------------------------------------ */

static void on_client_closed(uv_handle_t *h)
{
	struct ctl_client *c = h->data;
	if (--c->open_handles > 0)
		return;
	free(c->reply);
	free(c);
}

static void client_close(struct ctl_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	c->ctl->nclients--;
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
	uv_close((uv_handle_t *)&c->timer, on_client_closed);
}

static void on_written(uv_write_t *req, int status)
{
	(void)status;
	client_close(req->data);
}

/* Answers the request in c->line, or with error text when given. */
static void client_reply(struct ctl_client *c, const char *error)
{
	char *buf = NULL;
	size_t len = 0;
	c->replied = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_timer_stop(&c->timer);
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		client_close(c);
		return;
	}
	if (error != NULL)
		fprintf(f, "error: %s\n", error);
	else
		ctl_handle_request(c->ctl, c->line, c->len, f);
	bool ok = !ferror(f);
	if (fclose(f) != 0 || !ok || buf == NULL) {
		free(buf);
		client_close(c);
		return;
	}
	c->reply = buf;
	c->write.data = c;
	uv_buf_t b = uv_buf_init(buf, (unsigned)len);
	if (uv_write(&c->write, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0)
		client_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ctl_client *c = h->data;
	(void)suggested;
	*buf = uv_buf_init(c->line + c->len, (unsigned)(sizeof(c->line) - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_client *c = s->data;
	(void)buf;
	if (c->replied || c->closing)
		return;
	if (nread > 0)
		c->len += (size_t)nread;
	if (nread == UV_EOF) {
		/* A request without its newline is complete at EOF. */
		if (c->len > 0)
			client_reply(c, NULL);
		else
			client_close(c);
	} else if (nread < 0 && nread != UV_ENOBUFS) {
		client_close(c);
	} else if (memchr(c->line, '\n', c->len) != NULL ||
		   c->len == sizeof(c->line)) {
		client_reply(c, NULL);
	}
}

static void on_timeout(uv_timer_t *t)
{
	client_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *ctl = server->data;
	if (status < 0) {
		log_warn("control: accept: %s", uv_strerror(status));
		return;
	}
	struct ctl_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_err("control: out of memory for a client");
		return;
	}
	c->ctl = ctl;
	uv_pipe_init(&ctl->loop, &c->pipe, 0);
	uv_timer_init(&ctl->loop, &c->timer);
	c->pipe.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = ctl->clients;
	if (c->next != NULL)
		c->next->pprev = &c->next;
	c->pprev = &ctl->clients;
	ctl->clients = c;
	ctl->nclients++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
		client_close(c);
		return;
	}
	if (ctl->nclients > CTL_MAX_CLIENTS) {
		client_reply(c, "too many control clients at once");
		return;
	}
	uv_timer_start(&c->timer, on_timeout, CTL_CLIENT_TIMEOUT_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0)
		client_close(c);
}

/* ---- the listening socket ----------------------------------------------- */

/* Creates the missing directories above path, owned by uid:gid when set. */
static int make_parents(const char *path, uid_t uid, gid_t gid)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		bool last = strchr(p + 1, '/') == NULL;
		if (mkdir(dir, 0750) == 0) {
			log_info("control: created directory %s", dir);
			/* The daemon's user owns the socket's directory, so it
			 * can remove the socket when it stops. */
			if (last && uid != (uid_t)-1 && chown(dir, uid, gid) != 0)
				log_warn("control: chown %s: %s", dir,
					 anydns_strerror(-errno));
		} else if (errno != EEXIST) {
			int ret = -errno;
			log_err("control: cannot create directory %s: %s", dir,
				anydns_strerror(ret));
			return ret;
		}
		*p = '/';
	}
	return 0;
}

/* A socket file nobody answers on is left over from a daemon that did not
 * stop cleanly: it is replaced. Anything else at the path is kept. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control: %s exists and is not a socket", sa->sun_path);
		return ANYDNS_EEXIST;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int err = errno;
	close(fd);
	if (ret == 0) {
		log_err("control: another process answers on %s (is anydnsd "
			"already running?)", sa->sun_path);
		return ANYDNS_EEXIST;
	}
	if (err != ECONNREFUSED) {
		log_err("control: cannot tell whether %s is in use: %s",
			sa->sun_path, anydns_strerror(-err));
		return -err;
	}
	log_info("control: replacing stale socket %s", sa->sun_path);
	if (unlink(sa->sun_path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int bind_socket(const struct sockaddr_un *sa, uid_t uid, gid_t gid,
		       int *out)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The mode is right from the start: no moment where others could
	 * connect. */
	mode_t old = umask(0117);
	int ret = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (ret != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (chmod(sa->sun_path, 0660) != 0 ||
	    (uid != (uid_t)-1 && chown(sa->sun_path, uid, gid) != 0)) {
		ret = -errno;
		unlink(sa->sun_path);
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

int ctl_socket_open(struct ctl *ctl, uid_t uid, gid_t gid)
{
	const char *path = ctl->conf->control.socket;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control: invalid socket path");
		return ANYDNS_EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path));

	int fd = -1;
	int ret = make_parents(path, uid, gid);
	if (ret == 0)
		ret = clear_stale(&sa);
	if (ret == 0)
		ret = bind_socket(&sa, uid, gid, &fd);
	if (ret != 0) {
		if (ret != ANYDNS_EEXIST)
			log_err("control: cannot listen on %s: %s", path,
				anydns_strerror(ret));
		return ret;
	}
	uv_pipe_init(&ctl->loop, &ctl->listener, 0);
	ctl->listener.data = ctl;
	int err = uv_pipe_open(&ctl->listener, fd);
	if (err != 0)
		close(fd);
	else
		err = uv_listen((uv_stream_t *)&ctl->listener, 16, on_connection);
	ctl->listening = true;
	if (err != 0) {
		log_err("control: cannot listen on %s: %s", path,
			uv_strerror(err));
		ctl_socket_close(ctl);
		return ANYDNS_EIO;
	}
	log_info("control: listening on %s", path);
	return 0;
}

void ctl_socket_close(struct ctl *ctl)
{
	if (ctl->listening) {
		ctl->listening = false;
		uv_close((uv_handle_t *)&ctl->listener, NULL);
		const char *path = ctl->conf->control.socket;
		/* Without write access to the directory (privileges dropped)
		 * the file stays; the next start replaces it. */
		if (unlink(path) != 0 && errno != ENOENT)
			log_debug("control: cannot remove %s: %s", path,
				  anydns_strerror(-errno));
	}
	while (ctl->clients != NULL)
		client_close(ctl->clients);
}
