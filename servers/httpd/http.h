/* HTTP/1.1 requests and response heads for servers/httpd: what a request
 * says and what to answer, with no I/O, so the host's unit tests take it
 * apart (tests/unit/test_http.c).  RFC 9112 is the grammar followed;
 * what it leaves out is said where it matters. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192     /* a request head longer than this is refused (431) */
#define HTTP_PATH_MAX 255      /* the file system's limit */

enum http_method { HTTP_GET = 1, HTTP_HEAD_METHOD = 2, HTTP_OTHER = 3 };

struct http_request {
	enum http_method method;
	int minor;              /* HTTP/1.minor */
	int keep_alive;         /* the connection stays open after the answer */
	char path[HTTP_PATH_MAX + 1];   /* decoded, absolute, no "." or ".." segments */
	int trailing_slash;     /* the target ended with '/' */
};

/* Where the head ends: the length of head + CRLF CRLF (bare LF LF is
 * accepted too), or 0 while more bytes are needed. */
size_t http_head_length(const char *buf, size_t len);

/* Parse a complete head (len from http_head_length).  0 when it is a
 * request to answer; otherwise the status to refuse it with: 400 (bad
 * syntax, a target that leaves the root), 414 (target too long), 501
 * (a method this server does not know), 505 (not HTTP/1.x), 413 (a
 * request that carries a body: this server takes none). */
int http_parse_request(const char *head, size_t len, struct http_request *req);

/* The reason phrase of a status ("Not Found"). */
const char *http_reason(int status);

/* A content type for a file name, by its extension. */
const char *http_content_type(const char *path);

/* Write a response head into out (at most size bytes, NUL-terminated):
 * the status line, Server, Content-Type (when type is not NULL),
 * Content-Length, Connection, and extra (already CRLF-terminated lines,
 * may be NULL).  Its length, or 0 if it does not fit. */
size_t http_response_head(char *out, size_t size, int status, const char *type, uint64_t length,
                          int keep_alive, const char *extra);

/* Append text to out with HTML's special characters escaped; a URL path
 * component with unsafe bytes percent-encoded.  Each returns the length
 * written (out NUL-terminated) or 0 when it does not fit. */
size_t http_html_escape(char *out, size_t size, const char *text);
size_t http_url_encode(char *out, size_t size, const char *text);

#endif
