/*
 * The HTTP listener: GET /metrics in the Prometheus text exposition format
 * (version 0.0.4), served by libmicrohttpd on its own thread (RFC 9110 for
 * the methods and status codes). That thread reads the server's counters
 * with server_stats(), which is lock-free, and the zones' status under
 * ctl->lock, so a scrape never waits for a reload to finish reading files:
 * the control thread takes the lock only to swap in a finished status.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "ctl/internal.h"
#include "lib/log.h"

#define HTTP_MAX_CONNECTIONS 64
#define HTTP_TIMEOUT_S 10

static const char metrics_type[] = "text/plain; version=0.0.4; charset=utf-8";

static void http_log(void *arg, const char *fmt, va_list ap)
{
	(void)arg;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	/* libmicrohttpd ends its messages with a newline; ours are lines. */
	size_t n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_warn("http: %s", line);
}

/* The page, malloc'ed, or NULL when memory ran out. */
static char *metrics_page(struct ctl *ctl, size_t *len)
{
	char *buf = NULL;
	*len = 0;
	FILE *f = open_memstream(&buf, len);
	if (f == NULL)
		return NULL;
	struct server_stats stats;
	struct ctl_view v;
	pthread_mutex_lock(&ctl->lock);
	ctl_view_fill(ctl, &v, &stats);
	ctl_write_metrics(f, &v);
	pthread_mutex_unlock(&ctl->lock);
	bool ok = !ferror(f);
	if (fclose(f) != 0 || !ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code,
			     const char *type, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body,
								 mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *arg, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **req_state)
{
	struct ctl *ctl = arg;
	static char not_found[] = "not found: metrics are at /metrics\n";
	static char not_allowed[] = "method not allowed: GET or HEAD\n";
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_state;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     not_allowed, sizeof(not_allowed) - 1,
			     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", not_found,
			     sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	size_t len;
	char *page = metrics_page(ctl, &len);
	if (page == NULL)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, metrics_type, page, len,
		     MHD_RESPMEM_MUST_FREE);
}

int ctl_http_start(struct ctl *ctl)
{
	const struct conf_addr *a = &ctl->conf->http.listen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			 MHD_USE_ERROR_LOG;
	if (a->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The listener's thread inherits a mask with every signal blocked:
	 * signals are the control thread's. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ctl->http = MHD_start_daemon(flags, 0, NULL, NULL, on_request, ctl,
				     MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
				     MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&a->ss,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned)HTTP_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned)HTTP_TIMEOUT_S,
				     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	char text[64];
	ctl_addr_text(a, text, sizeof(text));
	if (ctl->http == NULL) {
		log_err("http: cannot listen on %s", text);
		return ANYDNS_EIO;
	}
	log_info("http: serving /metrics on %s", text);
	return 0;
}

void ctl_http_stop(struct ctl *ctl)
{
	if (ctl->http == NULL)
		return;
	MHD_stop_daemon(ctl->http);
	ctl->http = NULL;
}
