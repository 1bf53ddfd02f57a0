/*
 * src/conf — the daemon's configuration: a YAML file read into a typed
 * struct conf. One schema table (src/conf/schema.c) names every option with
 * its type, default, bounds, validator and description; the loader, its
 * error messages, the normalised output of conf_print() (`anydnsd -n`) and
 * the reference in docs/configuration.md all come from that table.
 *
 * Adding an option: a field in the struct below and one row in the table.
 * The struct is written by hand so the daemon reads plain typed fields; the
 * table knows each field's offset.
 *
 * Ownership: conf_load() fills a struct conf that owns every string, list
 * and zone in it; conf_free() releases them all. Nothing here is shared,
 * so a loaded config is read-only data a reload can build beside the old
 * one and swap in.
 */
#ifndef ANYDNS_CONF_CONF_H
#define ANYDNS_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "lib/log.h"

/* The release this source tree builds; the default server.version is
 * "anydns " ANYDNS_VERSION. Overridable with -DANYDNS_VERSION=... */
#ifndef ANYDNS_VERSION
#define ANYDNS_VERSION "0.1.0"
#endif

/* An IP address with a port, ready for bind(). len 0: not set. */
struct conf_addr {
	struct sockaddr_storage ss;	/* AF_INET or AF_INET6; port inside */
	socklen_t len;
};

/* server.udp-io, in the order of its names in the schema. */
enum conf_udp_io {
	CONF_UDP_IO_AUTO = 0,	/* io_uring where the kernel allows it */
	CONF_UDP_IO_URING,	/* io_uring, or the daemon does not start */
	CONF_UDP_IO_MMSG,	/* epoll, recvmmsg() and sendmmsg() */
};

struct conf_server {
	char *identity;		/* id.server / hostname.bind; "": disabled */
	char *version;		/* version.server / version.bind; "": disabled */
	char *nsid;		/* NSID option data (RFC 5001); "": disabled */
	struct conf_addr *listen;	/* where to serve DNS, ports resolved */
	size_t listen_count;
	uint16_t port;		/* port of listen entries written without one */
	uint32_t workers;	/* DNS worker threads; 0: one per CPU */
	enum conf_udp_io udp_io;
	uint16_t udp_max_payload;	/* octets, 512..4096 */
	uint64_t packet_cache;	/* octets per worker; 0: no packet cache */
	uint32_t tcp_max_clients;
	uint32_t tcp_max_per_client;
	uint32_t tcp_idle_timeout_ms;
	uint32_t tcp_keepalive_ms;	/* advertised (RFC 7828); 0: not sent */
	char *user;		/* drop privileges to it after binding; NULL: stay */
	char *pidfile;		/* NULL: none */
};

struct conf_control {
	char *socket;		/* path of the control socket */
};

struct conf_http {
	struct conf_addr listen;	/* /metrics; len 0: no HTTP listener */
};

struct conf_log {
	enum log_level level;
};

/* An IP prefix as written, "192.0.2.1/32" (defined below). */
struct conf_prefix;

/* zones.serial-policy, in the order of its names in the schema (the
 * same order as src/zone's enum zone_serial_policy). */
enum conf_serial_policy {
	CONF_SERIAL_KEEP = 0,
	CONF_SERIAL_INCREMENT,
	CONF_SERIAL_UNIXTIME,
	CONF_SERIAL_DATESERIAL,
};

struct conf_zone {
	uint8_t name[DNS_NAME_MAXLEN];	/* wire form, as written (case kept) */
	/* The master file: read on load and reload for a zone of our own;
	 * for a secondary (primaries set) the stored copy, written after
	 * every transfer (default: replication.storage/NAME.zone).
	 * Absolute when loaded from a file. */
	char *file;
	/* Secondary: the primaries asked, in order (port 53 unless
	 * written); none: the zone is ours, from its file. */
	struct conf_addr *primaries;
	size_t primaries_count;
	char *primary_key;	/* TSIG key to and from the primaries; NULL */
	struct conf_addr *notify;	/* secondaries told of changes */
	size_t notify_count;
	char *notify_key;	/* TSIG key NOTIFYs are signed with; NULL */
	struct conf_prefix *allow_transfer;	/* who may AXFR/IXFR */
	size_t allow_transfer_count;
	char *transfer_key;	/* TSIG key transfers must be signed with */
	enum conf_serial_policy serial_policy;
	uint64_t journal_max_size;	/* octets; 0: no journal */
	uint64_t transfer_max_size;	/* octets; 0: no limit */
	uint32_t ixfr_condense_after;	/* 0: never */
	uint32_t refresh_min_ms, refresh_max_ms;	/* bound the SOA's */
};

/* A TSIG key written in the configuration (replication.keys). */
struct conf_key {
	char *name;		/* a domain name, presentation form */
	int algorithm;		/* enum dns_tsig_alg - 1 */
	char *secret;		/* Base64 */
};

/* Zone replication (replication:). */
struct conf_replication {
	char *storage;		/* journals and stored copies of zones */
	struct conf_key *keys;
	size_t keys_count;
	char **key_files;	/* BIND key files (tsig-keygen) */
	size_t key_files_count;
	uint32_t notify_timeout_ms;	/* before a NOTIFY is sent again */
	uint32_t notify_retries;	/* sends after the first */
	uint32_t transfer_timeout_ms;	/* per step of a pull */
};

/* An IP prefix as written, "192.0.2.1/32": the address keeps its host
 * bits, because for an anycast network it is also the address put on the
 * interface; the route announced is the prefix with them cleared. */
struct conf_prefix {
	sa_family_t family;	/* AF_INET or AF_INET6; 0: not set */
	uint8_t len;		/* prefix length in bits */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* A BGP large community (RFC 8092), "GLOBAL:LOCAL1:LOCAL2". A standard
 * community (RFC 1997) is a uint32_t, "AS:VALUE" = AS << 16 | VALUE. */
struct conf_large_community {
	uint32_t global, local1, local2;
};

/* One upstream router (bgp.peers). */
struct conf_bgp_peer {
	char *name;
	struct conf_addr address;	/* no port: see port */
	uint32_t remote_as;
	uint16_t port;
	bool passive;
	uint32_t hold_time_ms;		/* whole seconds: 0 or >= 3 s */
	uint32_t connect_retry_ms;	/* whole seconds */
	char *md5_password;		/* TCP MD5 (RFC 2385); NULL: none */
	struct conf_addr source_address;	/* len 0: the kernel's choice */
	bool ipv4;			/* IPv4 unicast routes */
	bool ipv6;			/* IPv6 unicast routes */
	struct conf_addr next_hop_v4;	/* len 0: the session's address */
	struct conf_addr next_hop_v6;	/* len 0: the session's address */
};

struct conf_bgp {
	uint32_t local_as;		/* 0: no BGP speaker */
	struct conf_addr router_id;	/* IPv4, no port; len 0: not set */
	struct conf_addr listen;	/* port set (179 unless written); len 0:
					 * no listener */
	struct conf_bgp_peer *peers;
	size_t peers_count;
	uint32_t drain_on_stop_ms;	/* SIGTERM drains this long first */
	uint32_t withdraw_grace_ms;	/* withdrawal sent → address removed */
};

/* Defaults of every health check (health:). */
struct conf_health {
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint16_t rise;			/* passes in a row to come up */
	uint16_t fall;			/* failures in a row to go down */
	uint32_t hold_down_ms;		/* least time down before up again */
};

/* The DNS probe of a network (networks.checks.dns). */
struct conf_dns_check {
	bool enabled;
	char *name;		/* presentation form; NULL: the apex of the
				 * network's first zone */
	uint16_t type;
	int expect_rcode;	/* the RCODE itself (NOERROR = 0) */
	char *expect_rdata;	/* presentation form; NULL: any answer */
};

/* An anycast network (networks): prefixes announced together. */
struct conf_network {
	char *name;
	struct conf_prefix *prefixes;
	size_t prefixes_count;
	/* Apexes, wire form; none: every configured zone. */
	uint8_t (*zones)[DNS_NAME_MAXLEN];
	size_t zones_count;
	char *interface;
	uint8_t prepend;
	uint32_t *communities;
	size_t communities_count;
	struct conf_large_community *large_communities;
	size_t large_communities_count;
	uint32_t drain_time_ms;
	struct {
		struct conf_dns_check dns;
		bool zones;		/* every zone loaded and not expired */
		uint32_t zones_max_lag_ms;	/* 0: lag not checked */
		char *command;		/* run by /bin/sh -c; NULL: none */
		uint32_t command_interval_ms;
		uint32_t command_timeout_ms;
	} checks;
};

struct conf {
	char *file;		/* absolute path of the file loaded; NULL if none */
	struct conf_server server;
	struct conf_control control;
	struct conf_http http;
	struct conf_log log;
	struct conf_zone *zones;	/* in file order, names unique */
	size_t zones_count;
	struct conf_replication replication;
	struct conf_bgp bgp;
	struct conf_health health;
	struct conf_network *networks;	/* in file order, names unique */
	size_t networks_count;
};

/*
 * Reads and validates the file at path. All or nothing: on success *conf
 * is filled (the caller frees it with conf_free()); on failure *conf is not
 * touched and errbuf gets one line "file:line:column: message" (or
 * "file: message" when the file cannot be read). Relative paths inside the
 * file are resolved against the directory of the file.
 * Returns 0, ANYDNS_ECONFIG (bad content), ANYDNS_ENOMEM, or a negated
 * errno when the file cannot be read.
 */
int conf_load(const char *path, struct conf *conf, char *errbuf,
	      size_t errlen);

/*
 * The same for a configuration held in memory (the fuzz target, tests).
 * name is used in error messages; relative paths are resolved against
 * basedir, or kept as written when basedir is NULL. conf->file stays NULL.
 */
int conf_load_buffer(const char *data, size_t len, const char *name,
		     const char *basedir, struct conf *conf, char *errbuf,
		     size_t errlen);

/* Frees everything conf owns and zeroes it; a zeroed conf is fine too. */
void conf_free(struct conf *conf);

/*
 * Writes every option with its effective value, in table order, without
 * comments. conf_load() of the output gives a conf that conf_equal() finds
 * equal to this one.
 */
void conf_print(FILE *f, const struct conf *conf);

/* True when every option has the same value in a and b (file ignored). */
bool conf_equal(const struct conf *a, const struct conf *b);

/*
 * Every TSIG key of conf: replication.keys, then those of each key file,
 * in order. *keys is malloc'd (the caller frees it; NULL when *n is 0).
 * Returns 0, or ANYDNS_ESYNTAX / ANYDNS_ENOENT / ANYDNS_EEXIST with one line
 * in err naming the file (and line) or key at fault, ANYDNS_ENOMEM, or a
 * negated errno when a key file cannot be read. conf_load() has checked
 * this once, and that every key a zone names exists.
 */
int conf_tsig_keys(const struct conf *conf, struct dns_tsig_key **keys,
		   size_t *n, char *err, size_t errlen);

/* Writes the configuration reference (docs/configuration.md) in Markdown. */
void conf_doc_markdown(FILE *f);

/*
 * What the answer layer needs, as plain values, for the daemon to copy
 * into its struct answer_conf (conf sits below answer and does not know
 * it). Pointers point into conf and live as long as it does.
 */
struct conf_answer_values {
	const char *identity;	/* NULL: disabled */
	const char *version;	/* NULL: disabled */
	const uint8_t *nsid;	/* NULL: no NSID */
	uint16_t nsid_len;
	uint16_t udp_max_payload;
	uint16_t tcp_keepalive;	/* units of 100 ms; 0: not advertised */
};

void conf_answer_values(const struct conf *conf,
			struct conf_answer_values *out);

#endif
