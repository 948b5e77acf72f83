/* servers/httpd/http.c: request heads parsed as RFC 9112 says, paths that
 * cannot leave the root, response heads, escaping. */
// unit-under-test: servers/httpd/http.c
#include <string.h>
#include "unit.h"
#include "../../servers/httpd/http.h"

static int parse(const char *head, struct http_request *req)
{
	return http_parse_request(head, strlen(head), req);
}

int main(void)
{
	struct http_request r;
	const char *get = "GET /docs/readme.txt HTTP/1.1\r\nHost: x\r\n\r\n";
	CHECK(http_head_length(get, strlen(get)) == strlen(get), "a whole head is found");
	CHECK(http_head_length(get, strlen(get) - 1) == 0, "one byte short: more is needed");
	CHECK(http_head_length("GET / HTTP/1.0\n\nrest", 20) == 16, "bare LF LF ends a head too");
	CHECK(parse(get, &r) == 0 && r.method == HTTP_GET && !strcmp(r.path, "/docs/readme.txt") &&
	              r.keep_alive && r.minor == 1 && !r.trailing_slash,
	      "GET with Host: path, keep-alive by default in 1.1");
	CHECK(parse("HEAD / HTTP/1.0\r\n\r\n", &r) == 0 && r.method == HTTP_HEAD_METHOD && !r.keep_alive &&
	              !strcmp(r.path, "/") && r.trailing_slash,
	      "HEAD in 1.0 without Host: close by default");
	CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) == 0 && r.keep_alive,
	      "1.0 with Connection: keep-alive stays open");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &r) == 0 && !r.keep_alive,
	      "Connection: close among other tokens");
	CHECK(parse("GET / HTTP/1.1\r\n\r\n", &r) == 400, "1.1 without Host is 400");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r) == 400, "two Hosts are 400");
	CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 501, "POST is 501");
	CHECK(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r) == 505, "HTTP/2.0 in text is 505");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &r) == 413 &&
	              parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r) == 0 &&
	              parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r) == 413,
	      "a body is refused (413), Content-Length: 0 is fine");
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &r) == 400 &&
	              parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r) == 400 &&
	              parse("GET / HTTP/1.1\r\nno colon\r\n\r\n", &r) == 400,
	      "folding, space before the colon, a line without one: 400");
	CHECK(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400 && parse("GET /\r\n\r\n", &r) == 400 &&
	              parse("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", &r) == 400 && parse("\r\n\r\n", &r) == 400,
	      "malformed request lines: 400");
	CHECK(parse("\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 0 && !strcmp(r.path, "/x"),
	      "an empty line before the request line is skipped");

	/* paths */
	CHECK(parse("GET /a/./b/../c HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 0 && !strcmp(r.path, "/a/c"),
	      "dot segments resolved: %s", r.path);
	CHECK(parse("GET /.. HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400 &&
	              parse("GET /a/../../etc HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400 &&
	              parse("GET /%2e%2e/x HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400,
	      "above the root, plain or percent-encoded: 400");
	CHECK(parse("GET /a%20b/c%2Fd HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400 &&
	              parse("GET /a%00 HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400 &&
	              parse("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400 &&
	              parse("GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400,
	      "encoded slash, NUL, bad and cut escapes: 400");
	CHECK(parse("GET /a%20b.txt?q=1#f HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 0 && !strcmp(r.path, "/a b.txt"),
	      "percent-decoding, the query dropped: '%s'", r.path);
	CHECK(parse("GET //docs//x/ HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 0 && !strcmp(r.path, "/docs/x") &&
	              r.trailing_slash,
	      "empty segments squeezed, the trailing slash remembered: '%s'", r.path);
	CHECK(parse("GET http://host:8080/y/z HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 0 && !strcmp(r.path, "/y/z"),
	      "absolute form: its path");
	CHECK(parse("GET x HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400, "a relative target is 400");
	char longreq[1200];
	strcpy(longreq, "GET /");
	memset(longreq + 5, 'a', 300);
	strcpy(longreq + 305, " HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(parse(longreq, &r) == 414, "a 300-byte name is 414");
	CHECK(parse("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 400, "a control byte in the target: 400");

	/* responses */
	char out[512];
	size_t n = http_response_head(out, sizeof(out), 200, "text/plain", 1234, 1, 0);
	CHECK(n == strlen(out) && !strncmp(out, "HTTP/1.1 200 OK\r\n", 17) &&
	              strstr(out, "Content-Length: 1234\r\n") && strstr(out, "Content-Type: text/plain\r\n") &&
	              strstr(out, "Connection: keep-alive\r\n") && !strcmp(out + n - 4, "\r\n\r\n"),
	      "a 200 head");
	n = http_response_head(out, sizeof(out), 301, 0, 0, 0, "Location: /d/\r\n");
	CHECK(n && strstr(out, "301 Moved Permanently") && strstr(out, "Location: /d/\r\n\r\n") &&
	              !strstr(out, "Content-Type"),
	      "a 301 with Location, no type");
	CHECK(http_response_head(out, 20, 200, 0, 0, 0, 0) == 0, "a head that does not fit: 0");
	CHECK(!strcmp(http_content_type("/a/b.TXT"), "text/plain; charset=utf-8") &&
	              !strcmp(http_content_type("/x.html"), "text/html; charset=utf-8") &&
	              !strcmp(http_content_type("/noext"), "application/octet-stream") &&
	              !strcmp(http_content_type("/dir.d/file"), "application/octet-stream"),
	      "content types by extension");
	CHECK(http_html_escape(out, sizeof(out), "<a href=\"x\">&'") && !strcmp(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"),
	      "HTML escaping: %s", out);
	CHECK(http_url_encode(out, sizeof(out), "a b/é") && !strcmp(out, "a%20b%2F%C3%A9"), "URL encoding: %s", out);
	CHECK(http_url_encode(out, 4, "abcd") == 0 && http_html_escape(out, 4, "<") == 0, "too small: 0");
	return unit_done();
}
