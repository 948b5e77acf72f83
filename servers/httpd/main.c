/*
 * httpd: Berth's files over HTTP/1.1 (GET and HEAD; Content-Length; 404;
 * a listing for a directory without index.html; keep-alive and
 * pipelining).  One thread and poll over non-blocking sockets of the
 * network server (servers/lib/net_socket.h), files through the fs server
 * (servers/lib/fs_files.h, the C library's open/read/stat/opendir).
 *
 * Args: port=N (default 80), root=PATH (default /: the directory served).
 * Slots (boot manifest order): 8 init, 9 a send right to "fs".  The
 * network server is found by name ("net") by the sockets library.
 *
 * What it refuses: bodies (413), methods other than GET and HEAD (501),
 * targets that leave the root (400), heads over 8 KiB (431); a
 * connection idle for 30 s is closed, and at most MAX_CONNS are open
 * (others wait in the listen backlog).
 */
#include <libipc/libipc.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fs_files.h"
#include "net_socket.h"
#include "http.h"

void program_exit(int code);   /* libipc/start.c: tell init, end */

#define FS_SLOT 9
#define MAX_CONNS 32
#define OUT_SIZE 16384
#define IDLE_MS_MAX 30000      /* how long a connection may stay idle */
#define POLL_MS 1000

struct conn {
	int fd;                    /* socket, -1: free */
	char in[HTTP_HEAD_MAX];
	size_t in_len;
	char *out;                 /* OUT_SIZE bytes: what waits to be sent */
	size_t out_len, out_off;
	int file;                  /* the body still to read from, -1: none */
	uint64_t file_left;
	char *memory_body;         /* a body made here (a listing), or NULL */
	size_t body_len, body_off;
	int keep_alive;            /* after this response */
	int responding;            /* a response is being sent */
	uint64_t last_active;      /* ms */
};

static struct conn conns[MAX_CONNS];
static char root[HTTP_PATH_MAX + 1] = "/";
static uint64_t served, refused;

static void conn_reset_body(struct conn *c)
{
	if (c->file >= 0)
		close(c->file);
	c->file = -1;
	c->file_left = 0;
	free(c->memory_body);
	c->memory_body = 0;
	c->body_len = c->body_off = 0;
}

static void conn_close(struct conn *c)
{
	conn_reset_body(c);
	if (c->fd >= 0)
		closesocket(c->fd);
	c->fd = -1;
	c->in_len = c->out_len = c->out_off = 0;
	c->responding = 0;
}

/* Start a response: its head into out, its body from a file or memory. */
static void respond(struct conn *c, int status, const char *type, uint64_t length, const char *extra,
                    int head_only)
{
	c->out_len = http_response_head(c->out, OUT_SIZE, status, type, length, c->keep_alive, extra);
	c->out_off = 0;
	c->responding = 1;
	if (head_only)
		conn_reset_body(c);
	if (status >= 400)
		refused++;
	else
		served++;
}

static void respond_error(struct conn *c, int status, int head_only)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1></body></html>\n", status,
	                 http_reason(status));
	conn_reset_body(c);
	c->memory_body = malloc((size_t)n);
	if (c->memory_body) {
		memcpy(c->memory_body, body, (size_t)n);
		c->body_len = (size_t)n;
	}
	respond(c, status, "text/html; charset=utf-8", (uint64_t)n, 0, head_only);
}

/* Grow a listing; 0 when memory ran out. */
static int append(char **buf, size_t *len, size_t *cap, const char *text)
{
	size_t n = strlen(text);
	if (*len + n + 1 > *cap) {
		size_t want = (*cap ? *cap * 2 : 4096) + n;
		char *p = realloc(*buf, want);
		if (!p)
			return 0;
		*buf = p;
		*cap = want;
	}
	memcpy(*buf + *len, text, n + 1);
	*len += n;
	return 1;
}

static void respond_listing(struct conn *c, const char *fspath, const char *urlpath, int head_only)
{
	DIR *d = opendir(fspath);
	if (!d) {
		respond_error(c, errno == ENOENT ? 404 : 500, head_only);
		return;
	}
	char *buf = 0, esc[1600], enc[800], line[2600];
	size_t len = 0, cap = 0;
	http_html_escape(esc, sizeof(esc), urlpath);
	snprintf(line, sizeof(line),
	         "<!DOCTYPE html>\n<html><head><title>Index of %s</title></head><body>\n"
	         "<h1>Index of %s</h1>\n<ul>\n",
	         esc, esc);
	int ok = append(&buf, &len, &cap, line);
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || (!strcmp(e->d_name, "..") && !strcmp(urlpath, "/")))
			continue; /* no way up from the root */
		const char *slash = e->d_type == DT_DIR ? "/" : "";
		if (!http_url_encode(enc, sizeof(enc), e->d_name) || !http_html_escape(esc, sizeof(esc), e->d_name))
			continue;
		snprintf(line, sizeof(line), "<li><a href=\"%s%s\">%s%s</a></li>\n", enc, slash, esc, slash);
		ok = append(&buf, &len, &cap, line);
	}
	closedir(d);
	ok = ok && append(&buf, &len, &cap, "</ul>\n</body></html>\n");
	if (!ok) {
		free(buf);
		respond_error(c, 500, head_only);
		return;
	}
	conn_reset_body(c);
	c->memory_body = buf;
	c->body_len = len;
	respond(c, 200, "text/html; charset=utf-8", len, 0, head_only);
}

/* The file-system path of a request's path under the root. */
static int fs_path(char *out, size_t size, const char *path)
{
	int n = strcmp(root, "/") ? snprintf(out, size, "%s%s", root, path) : snprintf(out, size, "%s", path);
	return n > 0 && (size_t)n < size;
}

static void handle_request(struct conn *c, const struct http_request *req)
{
	int head_only = req->method == HTTP_HEAD_METHOD;
	char path[2 * HTTP_PATH_MAX + 16];
	struct stat st;
	if (!fs_path(path, sizeof(path), req->path)) {
		respond_error(c, 414, head_only);
		return;
	}
	if (stat(path, &st) < 0) {
		respond_error(c, errno == ENOENT || errno == ENOTDIR ? 404 : 500, head_only);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!req->trailing_slash) {
			char location[HTTP_PATH_MAX * 3 + 32], enc[HTTP_PATH_MAX * 3 + 8];
			/* the path's bytes, encoded again but for its slashes */
			size_t o = 0;
			for (const char *p = req->path; *p && o + 4 < sizeof(enc); p++) {
				char one[2] = { *p, 0 };
				if (*p == '/')
					enc[o++] = '/';
				else
					o += http_url_encode(enc + o, sizeof(enc) - o, one);
			}
			enc[o] = 0;
			snprintf(location, sizeof(location), "Location: %s/\r\n", enc);
			conn_reset_body(c);
			respond(c, 301, 0, 0, location, 1);
			return;
		}
		char index[sizeof(path) + 16];
		snprintf(index, sizeof(index), "%s/index.html", strcmp(path, "/") ? path : "");
		if (stat(index, &st) == 0 && S_ISREG(st.st_mode))
			memcpy(path, index, strlen(index) + 1);
		else {
			respond_listing(c, path, req->path, head_only);
			return;
		}
	}
	if (!S_ISREG(st.st_mode)) {
		respond_error(c, 403, head_only);
		return;
	}
	conn_reset_body(c);
	if (!head_only) {
		c->file = open(path, O_RDONLY);
		if (c->file < 0) {
			respond_error(c, 500, 0);
			return;
		}
		c->file_left = (uint64_t)st.st_size;
	}
	respond(c, 200, http_content_type(path), (uint64_t)st.st_size, 0, head_only);
}

/* A whole head is in c->in: answer it and keep what follows it. */
static void take_request(struct conn *c, size_t head_len)
{
	struct http_request req;
	int status = http_parse_request(c->in, head_len, &req);
	c->keep_alive = status == 0 && req.keep_alive;
	if (status)
		respond_error(c, status, 0);
	else
		handle_request(c, &req);
	memmove(c->in, c->in + head_len, c->in_len - head_len);
	c->in_len -= head_len;
}

/* Move the next part of the body into out. */
static int refill(struct conn *c)
{
	if (c->out_off < c->out_len)
		return 0;
	c->out_off = c->out_len = 0;
	if (c->memory_body && c->body_off < c->body_len) {
		size_t n = c->body_len - c->body_off < OUT_SIZE ? c->body_len - c->body_off : OUT_SIZE;
		memcpy(c->out, c->memory_body + c->body_off, n);
		c->body_off += n;
		c->out_len = n;
	} else if (c->file >= 0 && c->file_left) {
		size_t want = c->file_left < OUT_SIZE ? (size_t)c->file_left : OUT_SIZE;
		int n = read(c->file, c->out, want);
		if (n <= 0)
			return -1; /* the file shrank or the fs failed: the length is a lie now, so close */
		c->file_left -= (uint64_t)n;
		c->out_len = (size_t)n;
	}
	return 0;
}

/* Send what can go now.  -1: the connection is done with. */
static int pump(struct conn *c)
{
	while (c->responding) {
		if (refill(c) < 0)
			return -1;
		if (c->out_off == c->out_len) {
			/* the response is complete */
			c->responding = 0;
			conn_reset_body(c);
			if (!c->keep_alive)
				return -1;
			size_t head = http_head_length(c->in, c->in_len);
			if (head)
				take_request(c, head); /* a pipelined request */
			continue;
		}
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->out_off += (size_t)n;
		c->last_active = clock_ms();
	}
	return 0;
}

static int take_input(struct conn *c)
{
	if (c->in_len == sizeof(c->in))
		return 0; /* a response is going out; the rest waits */
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n == 0)
		return -1; /* the client closed */
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	c->in_len += (size_t)n;
	c->last_active = clock_ms();
	if (c->responding)
		return 0;
	size_t head = http_head_length(c->in, c->in_len);
	if (head)
		take_request(c, head);
	else if (c->in_len == sizeof(c->in)) {
		c->keep_alive = 0;
		respond_error(c, 431, 0);
	}
	return 0;
}

static void accept_all(int listener)
{
	for (;;) {
		struct conn *c = 0;
		for (int i = 0; i < MAX_CONNS && !c; i++)
			if (conns[i].fd < 0)
				c = &conns[i];
		if (!c)
			return; /* full: the rest wait in the backlog */
		int fd = accept(listener, 0, 0);
		if (fd < 0)
			return;
		net_set_nonblocking(fd, 1);
		c->fd = fd;
		c->in_len = c->out_len = c->out_off = 0;
		c->responding = 0;
		c->last_active = clock_ms();
	}
}

static int listen_on(unsigned port)
{
	for (int tries = 0; tries < 600; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0) {
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
			if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 16) == 0) {
				net_set_nonblocking(fd, 1);
				return fd;
			}
			closesocket(fd);
		}
		clock_nap(10); /* the network server may be starting again */
	}
	return -1;
}

int main(const struct bootinfo *bi)
{
	files_use_fs(FS_SLOT);
	unsigned port = arg_number(bi->cmdline, "port=", 80);
	char r[HTTP_PATH_MAX + 1];
	if (arg_string(bi->cmdline, "root=", r, sizeof(r)) && r[0] == '/') {
		size_t n = strlen(r);
		while (n > 1 && r[n - 1] == '/')
			r[--n] = 0;
		memcpy(root, r, n + 1);
	}
	clock_ms(); /* its calibration, before the first connection */
	for (int i = 0; i < MAX_CONNS; i++) {
		conns[i].fd = -1;
		conns[i].file = -1;
		conns[i].out = malloc(OUT_SIZE);
		if (!conns[i].out) {
			debug_printf("httpd: out of memory\n");
			program_exit(1);
		}
	}
	int listener = listen_on(port);
	if (listener < 0) {
		debug_printf("httpd: cannot listen on port %u: errno %d\n", port, errno);
		program_exit(1);
	}
	debug_printf("httpd: serving %s on port %u\n", root, port);
	struct pollfd fds[MAX_CONNS + 1];
	struct conn *of[MAX_CONNS + 1];
	for (;;) {
		unsigned n = 0;
		fds[n] = (struct pollfd){ .fd = listener, .events = POLLIN };
		of[n++] = 0;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			if (c->fd < 0)
				continue;
			short ev = POLLIN;
			if (c->responding)
				ev |= POLLOUT;
			fds[n] = (struct pollfd){ .fd = c->fd, .events = ev };
			of[n++] = c;
		}
		int ready = poll(fds, n, POLL_MS);
		if (ready < 0) {
			if (errno == ECONNRESET || errno == EPIPE || errno == EBADF) {
				/* the network server was restarted: everything is gone */
				for (int i = 0; i < MAX_CONNS; i++)
					if (conns[i].fd >= 0)
						conn_close(&conns[i]);
				closesocket(listener);
				listener = listen_on(port);
				if (listener < 0) {
					debug_printf("httpd: the network server did not come back\n");
					program_exit(1);
				}
				debug_printf("httpd: the network server restarted; listening again on port %u\n", port);
			}
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (!of[i]) {
				if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
					closesocket(listener);
					listener = listen_on(port);
					if (listener < 0)
						program_exit(1);
				} else
					accept_all(listener);
				continue;
			}
			struct conn *c = of[i];
			int gone = (fds[i].revents & POLLNVAL) != 0;
			if (!gone && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				gone = take_input(c) < 0;
			if (!gone && c->responding)
				gone = pump(c) < 0;
			if (gone)
				conn_close(c);
		}
		uint64_t now = clock_ms();
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].fd >= 0 && !conns[i].responding && now - conns[i].last_active > IDLE_MS_MAX)
				conn_close(&conns[i]);
	}
}
