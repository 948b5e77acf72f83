/* Helper for tests/system/net_clients.c: holds sockets of the network
 * server (a TCP listener on 127.0.0.1:7100, a connection to it, a UDP
 * socket on 7101) and then waits for ever in a recv nobody will answer,
 * until init kills it. */
#include <libipc/libipc.h>
#include "net_socket.h"

int main(const struct bootinfo *bi)
{
	(void)bi;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7100),
	                         .sin_addr = { htonl(INADDR_LOOPBACK) } };
	struct sockaddr_in u = { .sin_family = AF_INET, .sin_port = htons(7101),
	                         .sin_addr = { htonl(INADDR_LOOPBACK) } };
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	int d = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4) ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) || accept(l, 0, 0) < 0 ||
	    bind(d, (struct sockaddr *)&u, sizeof(u))) {
		debug_printf("sock-holder: could not set up its sockets\n");
		return 1;
	}
	debug_printf("sock-holder: holding a listener, a connection and a UDP socket\n");
	char x;
	recv(c, &x, 1, 0);   /* nobody sends: the reply stays deferred in the server */
	debug_printf("sock-holder: recv returned\n");
	return 0;
}
