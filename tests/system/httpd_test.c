/* The web server (servers/httpd) seen from the host: files of the fs
 * server on a virtio-blk disk (tools/http_test.py's image) served through
 * the network server and the virtio-net driver, and fetched by
 * tools/http_test.py through a port QEMU forwards on the host's
 * 127.0.0.1: byte-exact files of 0 bytes to 16 MiB, HEAD, 404, 301,
 * listings, 200 requests over 20 parallel connections (the host's
 * results).  This program checks from inside first (a GET over the
 * network server's loopback), says when the host may start, waits for
 * the host to connect to its "done" port when it has finished, and
 * checks that init never had to restart httpd. */
// test-root: build/init.elf
// test-module: tests/system/manifests/httpd.manifest
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/virtio_net.elf
// test-module: build/fs.elf
// test-module: build/net.elf
// test-module: build/httpd.elf
// test-disk-image: w build/tests/data/www.img
// test-qemu: -drive if=none,id=dw,format=raw,file={disk:w} -device virtio-blk-pci,disable-legacy=on,drive=dw,addr=4
// test-hostfwd: web
// test-hostfwd: done
// test-net: user hostfwd=tcp:127.0.0.1:{hostfwd:web}-:80 hostfwd=tcp:127.0.0.1:{hostfwd:done}-:7001
// test-host: ^httpd-test: ready => {python} tools/http_test.py check {hostfwd:web} --done {hostfwd:done}
// test-expect: ^httpd: serving / on port 80
// test-selfcheck: 16
// test-timeout: 280
#include "tap.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "init.h"
#include "tasks.h"
#include "net_socket.h"

#define INIT 8
#define DONE_PORT 7001

/* One request over the network server's loopback; the reply's first bytes. */
static int get_local(const char *request, char *reply, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr = { htonl(INADDR_LOOPBACK) } };
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			closesocket(fd);
		return -1;
	}
	size_t got = 0;
	ssize_t n = send(fd, request, strlen(request), 0);
	while (n > 0 && got + 1 < size && (n = recv(fd, reply + got, size - 1 - got, 0)) > 0)
		got += (size_t)n;
	reply[got] = 0;
	closesocket(fd);
	return (int)got;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(4);
	struct net_ifinfo info = { 0 };
	uint64_t start = clock_ms();
	while (clock_ms() - start < 60000 && !(net_ifconfig(&info) == 0 && info.has_address))
		clock_nap(10);
	tap_ok(info.has_address, "the network server has an address (%u.%u.%u.%u)", info.addr >> 24,
	       info.addr >> 16 & 0xff, info.addr >> 8 & 0xff, info.addr & 0xff);

	static char reply[2048];
	int n = -1;
	for (int i = 0; i < 100 && n <= 0; i++) {
		n = get_local("GET /www/list/ HTTP/1.0\r\n\r\n", reply, sizeof(reply));
		if (n <= 0)
			clock_nap(10); /* httpd may not listen yet */
	}
	tap_ok(n > 0 && !strncmp(reply, "HTTP/1.1 200 OK\r\n", 17) && strstr(reply, "Connection: close\r\n") &&
	               strstr(reply, "<a href=\"a.txt\">a.txt</a>"),
	       "a listing over the loopback, HTTP/1.0 without keep-alive: closed after it (%d bytes)", n);

	int done = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(DONE_PORT) };
	int ok = done >= 0 && bind(done, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(done, 1) == 0;
	printf("httpd-test: ready\n");
	fflush(stdout);
	struct timeval wait = { .tv_sec = 250 };
	setsockopt(done, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	int c = ok ? accept(done, 0, 0) : -1;
	char word[64] = { 0 };
	if (c >= 0) {
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
		recv(c, word, sizeof(word) - 1, 0);
		closesocket(c);
	}
	tap_ok(c >= 0 && !strncmp(word, "done", 4), "the host finished its checks and said so ('%.20s')", word);
	uint32_t restarts = 99;
	int found = task_find("httpd", 0, &restarts, 0);
	tap_ok(found && restarts == 0, "httpd ran throughout: init never restarted it (%u restarts)", restarts);
	tap_done();
}
