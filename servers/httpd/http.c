/* HTTP/1.1 request heads and response heads (http.h).  Pure: no I/O, no
 * allocation, so it runs in the server and in the host's unit tests. */
#include <stdio.h>
#include <string.h>
#include "http.h"

size_t http_head_length(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Does the comma-separated header value hold token (case-insensitive)? */
static int value_has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);
	size_t i = 0;
	while (i < n) {
		while (i < n && (is_space(v[i]) || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && v[i] != ',')
			i++;
		size_t end = i;
		while (end > start && is_space(v[end - 1]))
			end--;
		if (end - start == tl) {
			size_t k = 0;
			while (k < tl && lower(v[start + k]) == lower(token[k]))
				k++;
			if (k == tl)
				return 1;
		}
	}
	return 0;
}

static int name_is(const char *name, size_t n, const char *want)
{
	if (strlen(want) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(name[i]) != lower(want[i]))
			return 0;
	return 1;
}

/* Decode the target's path into req->path: percent-decoding, the query
 * dropped, "." and ".." segments resolved (".." above the root is 400),
 * empty segments squeezed.  An absolute-form target keeps its path. */
static int decode_path(const char *t, size_t n, struct http_request *req)
{
	if (n > 7 && !strncmp(t, "http://", 7)) {
		const char *slash = memchr(t + 7, '/', n - 7);
		if (!slash)
			t = "/", n = 1;
		else
			n -= (size_t)(slash - t), t = slash;
	}
	if (n == 0 || t[0] != '/')
		return 400;
	char *out = req->path;
	size_t o = 0;
	size_t seg = 0; /* where the current segment starts in out */
	req->trailing_slash = 0;
	for (size_t i = 0; i <= n; i++) {
		char c;
		if (i == n || t[i] == '?' || t[i] == '#')
			c = 0;
		else if (t[i] == '%') {
			int hi = i + 2 < n ? hex_value(t[i + 1]) : -1, lo = i + 2 < n ? hex_value(t[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return 400;
			c = (char)(hi << 4 | lo);
			i += 2;
			if (c == 0 || c == '/')
				return 400; /* an encoded NUL or slash names nothing here */
		} else
			c = t[i];
		if (c == '/' || c == 0) {
			/* the segment out[seg..o) is complete */
			size_t len = o - seg;
			if (len == 1 && out[seg] == '.')
				o = seg;
			else if (len == 2 && out[seg] == '.' && out[seg + 1] == '.') {
				if (seg <= 1)
					return 400; /* above the root */
				o = seg - 1;
				while (o > 0 && out[o - 1] != '/')
					o--;
			}
			if (c == 0) {
				req->trailing_slash = i > 0 && t[i - 1] == '/';
				break;
			}
			if (o == 0 || out[o - 1] != '/') {
				if (o >= HTTP_PATH_MAX)
					return 414;
				out[o++] = '/';
			}
			seg = o;
			continue;
		}
		if ((unsigned char)c < 0x20 || c == 0x7f)
			return 400;
		if (o >= HTTP_PATH_MAX)
			return 414;
		out[o++] = c;
	}
	if (o > 1 && out[o - 1] == '/')
		o--; /* the name, without the slash: trailing_slash remembers it */
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	return 0;
}

int http_parse_request(const char *head, size_t len, struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (len && (*head == '\r' || *head == '\n'))
		head++, len--;
	const char *eol = memchr(head, '\n', len);
	if (!eol)
		return 400;
	size_t line = (size_t)(eol - head);
	if (line && head[line - 1] == '\r')
		line--;
	const char *sp1 = memchr(head, ' ', line);
	if (!sp1 || sp1 == head)
		return 400;
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', line - (size_t)(target - head));
	if (!sp2 || sp2 == target)
		return 400;
	const char *version = sp2 + 1;
	size_t vlen = line - (size_t)(version - head);
	size_t mlen = (size_t)(sp1 - head);
	if (vlen != 8 || strncmp(version, "HTTP/", 5) || version[6] != '.' || version[5] < '0' ||
	    version[5] > '9' || version[7] < '0' || version[7] > '9')
		return 400;
	if (version[5] != '1')
		return 505;
	req->minor = version[7] - '0';
	if (mlen == 3 && !strncmp(head, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 4 && !strncmp(head, "HEAD", 4))
		req->method = HTTP_HEAD_METHOD;
	else
		req->method = HTTP_OTHER;
	size_t tlen = (size_t)(sp2 - target);
	if (tlen > HTTP_PATH_MAX * 3)
		return 414;
	int r = decode_path(target, tlen, req);
	if (r)
		return r;

	/* header fields */
	int close = 0, keep = 0, host = 0;
	const char *p = eol + 1, *end = head + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return 400;
		size_t l = (size_t)(nl - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (l == 0)
			break; /* the empty line that ends the head */
		if (is_space(p[0]))
			return 400; /* obsolete line folding: RFC 9112 5.2 lets us refuse it */
		const char *colon = memchr(p, ':', l);
		if (!colon || colon == p || is_space(colon[-1]))
			return 400;
		size_t nlen = (size_t)(colon - p);
		const char *v = colon + 1;
		size_t vl = l - nlen - 1;
		while (vl && is_space(*v))
			v++, vl--;
		while (vl && is_space(v[vl - 1]))
			vl--;
		if (name_is(p, nlen, "connection")) {
			close |= value_has_token(v, vl, "close");
			keep |= value_has_token(v, vl, "keep-alive");
		} else if (name_is(p, nlen, "host"))
			host++;
		else if (name_is(p, nlen, "transfer-encoding"))
			return 413;
		else if (name_is(p, nlen, "content-length")) {
			for (size_t i = 0; i < vl; i++)
				if (v[i] < '0' || v[i] > '9')
					return 400;
			for (size_t i = 0; i < vl; i++)
				if (v[i] != '0')
					return 413;
		}
		p = nl + 1;
	}
	/* RFC 9112 3.2: a 1.1 request without exactly one Host is a 400 */
	if ((req->minor >= 1 && host != 1) || host > 1)
		return 400;
	req->keep_alive = req->minor >= 1 ? !close : keep && !close;
	if (req->method == HTTP_OTHER)
		return 501;
	return 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

const char *http_content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".md", "text/plain; charset=utf-8" },
		{ ".c", "text/plain; charset=utf-8" },   { ".h", "text/plain; charset=utf-8" },
		{ ".css", "text/css" },                  { ".js", "text/javascript" },
		{ ".json", "application/json" },         { ".png", "image/png" },
		{ ".jpg", "image/jpeg" },                { ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" },                 { ".svg", "image/svg+xml" },
		{ ".pdf", "application/pdf" },
	};
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			size_t k = 0;
			while (types[i].ext[k] && lower(dot[k]) == types[i].ext[k])
				k++;
			if (!types[i].ext[k] && !dot[k])
				return types[i].type;
		}
	return "application/octet-stream";
}

size_t http_response_head(char *out, size_t size, int status, const char *type, uint64_t length,
                          int keep_alive, const char *extra)
{
	int n = snprintf(out, size,
	                 "HTTP/1.1 %d %s\r\nServer: Berth-httpd\r\n%s%s%sContent-Length: %llu\r\n"
	                 "Connection: %s\r\n%s\r\n",
	                 status, http_reason(status), type ? "Content-Type: " : "", type ? type : "",
	                 type ? "\r\n" : "", (unsigned long long)length, keep_alive ? "keep-alive" : "close",
	                 extra ? extra : "");
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

size_t http_html_escape(char *out, size_t size, const char *text)
{
	size_t o = 0;
	for (; *text; text++) {
		const char *rep;
		char one[2] = { *text, 0 };
		switch (*text) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: rep = one;
		}
		size_t l = strlen(rep);
		if (o + l >= size)
			return 0;
		memcpy(out + o, rep, l);
		o += l;
	}
	if (o >= size)
		return 0;
	out[o] = 0;
	return o;
}

size_t http_url_encode(char *out, size_t size, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		            c == '-' || c == '_' || c == '.' || c == '~';
		if (o + (plain ? 1 : 3) >= size)
			return 0;
		if (plain)
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= size)
		return 0;
	out[o] = 0;
	return o;
}
