/*
 * anydnsd: the authoritative DNS daemon. main() is the list of start-up
 * steps, each one call into a module: configuration (src/conf), zones and
 * their snapshot (src/zone, through src/ctl's loader), the control socket
 * and metrics (src/ctl), the anycast addresses and the BGP speaker
 * (src/pop, src/bgp), the DNS workers (src/server: UDP and TCP per RFC
 * 1035 §4.2 and RFC 7766), the health checks and announcements, privileges,
 * then the control loop until SIGTERM (which drains the networks first). It runs in the foreground and logs to standard error; systemd
 * (dist/anydnsd.service) or a terminal keeps it.
 *
 * Exit codes: 0 clean stop (or `-n` with a valid configuration), 1 bad
 * command line or configuration, 2 failure at run time (a socket that
 * cannot be bound, a user that cannot be switched to, ...).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ctl/ctl.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "server/server.h"
#include "zone/zone.h"

#define DEFAULT_CONF "/etc/anydns/anydnsd.yaml"

enum exit_code {
	EXIT_CLEAN = 0,
	EXIT_CONFIG = 1,
	EXIT_RUNTIME = 2,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: anydnsd [-c FILE] [-n]\n"
		"The anydns authoritative DNS server; runs in the foreground and "
		"logs to stderr.\n\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -n, --check        check the configuration, print it "
		"normalised, exit\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n\n"
		"Signals: SIGHUP reloads zones; SIGTERM and SIGINT drain the "
		"anycast networks, then stop.\n"
		"Exit codes: 0 clean stop, 1 configuration error, 2 run-time "
		"failure.\n", DEFAULT_CONF);
}

/* The server's settings from the configuration; *listen is the caller's
 * to free once the server started (server_start() copies it). */
static int server_settings(const struct conf *conf, struct ctl *ctl,
			   struct zone_snapshot *snap, struct server_conf *sc,
			   struct sockaddr_storage **listen,
			   struct server_view_addr **views)
{
	server_conf_init(sc);
	/* Addresses of networks that serve some zones get their view. */
	if (ctl_server_views(ctl, views, &sc->view_count) != 0)
		return ANYDNS_ENOMEM;
	sc->views = *views;
	size_t n = conf->server.listen_count;
	*listen = calloc(n ? n : 1, sizeof(**listen));
	if (*listen == NULL)
		return ANYDNS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		(*listen)[i] = conf->server.listen[i].ss;
	sc->listen = *listen;
	sc->listen_count = n;
	sc->workers = conf->server.workers;
	sc->udp_io = conf->server.udp_io == CONF_UDP_IO_URING ?
			     SERVER_UDP_IO_URING :
		     conf->server.udp_io == CONF_UDP_IO_MMSG ?
			     SERVER_UDP_IO_MMSG : SERVER_UDP_IO_AUTO;
	sc->tcp_max_conns = conf->server.tcp_max_clients;
	sc->tcp_max_per_client = conf->server.tcp_max_per_client;
	sc->tcp_idle_timeout_ms = conf->server.tcp_idle_timeout_ms;
	sc->tcp_keepalive_ms = conf->server.tcp_keepalive_ms;
	sc->packet_cache = (size_t)conf->server.packet_cache;

	struct conf_answer_values av;
	conf_answer_values(conf, &av);
	sc->answer.identity = av.identity;
	sc->answer.version = av.version;
	sc->answer.nsid = av.nsid;
	sc->answer.nsid_len = av.nsid_len;
	sc->answer.udp_max_payload = av.udp_max_payload;
	sc->answer.tcp_keepalive = av.tcp_keepalive;
	sc->zones = snap;
	ctl_server_replication(ctl, sc);
	return 0;
}

static int run(const struct conf *conf)
{
	int code = EXIT_RUNTIME;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct zone_snapshot snap = { 0 };
	bool snap_ready = false;
	struct ctl *ctl = NULL;
	struct server *srv = NULL;
	struct server_conf sc;
	struct sockaddr_storage *listen = NULL;
	struct server_view_addr *views = NULL;
	bool pidfile = false;

	ctl_raise_nofile();
	if (conf->server.user != NULL &&
	    ctl_user_lookup(conf->server.user, &uid, &gid) != 0) {
		code = EXIT_CONFIG;
		goto out;
	}
	if (zone_snapshot_init(&snap) != 0)
		goto out;
	snap_ready = true;
	if (ctl_new(conf, &snap, &ctl) != 0)
		goto out;
	/* Zones that fail now are logged and not served; the rest are. */
	if (ctl_load_zones(ctl) != 0)
		goto out;
	/* Everything that needs privileges, before they go. The control
	 * socket first: a second daemon started by mistake stops there,
	 * before its workers share the DNS ports (SO_REUSEPORT). */
	if (ctl_listen(ctl, uid, gid) != 0)
		goto out;
	/* The anycast addresses go on their interfaces and the BGP port is
	 * bound while the privileges are there. */
	if (ctl_anycast_setup(ctl) != 0)
		goto out;
	if (server_settings(conf, ctl, &snap, &sc, &listen, &views) != 0 ||
	    server_start(&sc, &srv) != 0)
		goto out;
	ctl_set_server(ctl, srv);
	/* The workers answer: health checks can probe them, and networks
	 * are announced once their checks pass. */
	if (ctl_anycast_start(ctl) != 0)
		goto out;
	if (conf->server.pidfile != NULL) {
		if (ctl_pidfile_write(conf->server.pidfile) != 0)
			goto out;
		pidfile = true;
	}
	if (conf->server.user != NULL &&
	    ctl_drop_privileges(conf->server.user, uid, gid,
				conf->networks_count > 0) != 0)
		goto out;

	log_notice("anydnsd %s started: %u workers, %zu zones configured",
		   ANYDNS_VERSION, server_workers(srv), conf->zones_count);
	ctl_run(ctl);
	code = EXIT_CLEAN;
out:
	/* The HTTP thread reads the server's counters: ctl goes first. */
	ctl_free(ctl);
	server_stop(srv);
	if (snap_ready)
		zone_snapshot_destroy(&snap);
	free(listen);
	free(views);
	if (pidfile && unlink(conf->server.pidfile) != 0)
		log_debug("cannot remove %s", conf->server.pidfile);
	if (code == EXIT_CLEAN)
		log_notice("anydnsd stopped");
	return code;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONF;
	bool check = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:nhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_CLEAN;
		case 'V':
			printf("anydnsd %s\n", ANYDNS_VERSION);
			return EXIT_CLEAN;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "anydnsd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_CONFIG;
	}

	hash_seed_init();
	struct conf conf;
	char err[1024];
	if (conf_load(path, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "anydnsd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		conf_print(stdout, &conf);
		conf_free(&conf);
		return fflush(stdout) == 0 ? EXIT_CLEAN : EXIT_RUNTIME;
	}
	log_set_level(conf.log.level);
	int code = run(&conf);
	conf_free(&conf);
	return code;
}
