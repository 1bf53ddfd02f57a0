/*
 * Unit tests for src/server/socket.c: the options every worker socket
 * must carry (SO_REUSEPORT, IP_PKTINFO / IPV6_RECVPKTINFO, IPV6_V6ONLY,
 * non-blocking, TCP_NODELAY on listeners), two sockets sharing one port,
 * and the address format of the logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <netinet/tcp.h>

#include "server/internal.h"
#include "server_test.h"

static int get_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, level, name, &v, &len) != 0)
		return -1;
	return v;
}

static void test_udp_options(void **state)
{
	(void)state;
	struct server_conf conf;
	server_conf_init(&conf);
	uint16_t port = st_free_port();
	struct sockaddr_storage a4, a6;
	st_addr(&a4, "127.0.0.1", port);
	st_addr(&a6, "::1", port);
	int fd4, fd4b, fd6;
	assert_int_equal(server_socket_open(&conf, &a4, SOCK_DGRAM, &fd4), 0);
	assert_int_equal(server_socket_open(&conf, &a4, SOCK_DGRAM, &fd4b), 0);
	assert_int_equal(server_socket_open(&conf, &a6, SOCK_DGRAM, &fd6), 0);
	assert_int_equal(get_int(fd4, SOL_SOCKET, SO_REUSEPORT), 1);
	assert_int_equal(get_int(fd4, IPPROTO_IP, IP_PKTINFO), 1);
	assert_int_equal(get_int(fd6, IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
	assert_int_equal(get_int(fd6, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	assert_int_equal(get_int(fd4, IPPROTO_IP, IP_MTU_DISCOVER),
			 IP_PMTUDISC_OMIT);
	assert_true(fcntl(fd4, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd4, F_GETFD) & FD_CLOEXEC);
	close(fd4);
	close(fd4b);
	close(fd6);
}

static void test_tcp_options(void **state)
{
	(void)state;
	struct server_conf conf;
	server_conf_init(&conf);
	uint16_t port = st_free_port();
	struct sockaddr_storage a6;
	st_addr(&a6, "::1", port);
	int fd, fd2;
	assert_int_equal(server_socket_open(&conf, &a6, SOCK_STREAM, &fd), 0);
	assert_int_equal(server_socket_open(&conf, &a6, SOCK_STREAM, &fd2), 0);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_REUSEPORT), 1);
	assert_int_equal(get_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	assert_int_equal(get_int(fd, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	close(fd2);
}

static void test_addr_str(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	char buf[64];
	st_addr(&ss, "192.0.2.1", 53);
	server_addr_str((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1#53");
	assert_int_equal(server_addr_len(&ss), sizeof(struct sockaddr_in));
	st_addr(&ss, "2001:db8::1", 5353);
	server_addr_str((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]#5353");
	assert_int_equal(server_addr_len(&ss), sizeof(struct sockaddr_in6));
}

int main(void)
{
	st_main_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_options),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_addr_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
