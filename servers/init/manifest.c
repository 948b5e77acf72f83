/* The boot manifest parser: one directive per line, `#` comments.
 *
 *   server NAME           starts a server's block
 *   image FILE            the boot module it runs (matched by file name)
 *   priority N            1..254
 *   memory BITS           its own memory: an Untyped of 2^BITS bytes, 12..28
 *   ioports FIRST LAST    an I/O-port capability
 *   irq LINE              an interrupt line, 1 and 3..15
 *   needs NAME            a send right to a registered service
 *   args WORDS...         its command line
 *   restart always|never|N
 *   borrow MIB            guest memory it may borrow from init in 2 MiB
 *                         chunks (init.idl's mem_borrow), 0..1024, even
 *   slots BITS            its CNode has 2^BITS slots, 8..14 (default 8)
 *   module FILE           a boot module handed to it (at most 2)
 *   dma                   its memory keeps RIGHT_PHYS: it may learn the
 *                         physical addresses of its frames (drivers)
 *   devmem                it gets the device memory (the PCI server)
 *   trace                 it may use init.idl's trace and trace_read (the
 *                         shell): who talks to whom is not for every task
 *   manual                init does not start it at boot, only when asked
 *                         (init.idl's start: the shell's start or vm start)
 *   control all|NAME...   it may start, stop, restart and kill these tasks
 *                         (init.idl); without it, only itself
 *   heartbeat MS [MISSES] init pings it every MS ms (10..60000) and kills it
 *                         as hung after MISSES unanswered pings in a row
 *                         (1..100, default 3); its restart policy applies
 *   inject all|NAME...    it may take these tasks' thread and pages (init.idl's
 *                         inject_cap): the fault injector of the campaign
 *
 * Capabilities go to the server in the order of their lines, from slot 9
 * (slot 8 is its right to init). */
#include "manifest.h"

struct cursor {
	const char *p, *end;
};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* The next word on this line, or 0 length at its end. */
static size_t word(struct cursor *c, const char **start)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
	*start = c->p;
	if (c->p < c->end && *c->p == '#') {
		c->p = c->end;
		return 0;
	}
	while (c->p < c->end && !is_space(*c->p))
		c->p++;
	return (size_t)(c->p - *start);
}

static int word_is(const char *w, size_t n, const char *lit)
{
	size_t i = 0;
	for (; i < n && lit[i]; i++)
		if (w[i] != lit[i])
			return 0;
	return i == n && !lit[i];
}

static int copy_word(char *dst, size_t size, const char *w, size_t n)
{
	if (n == 0 || n >= size)
		return -1;
	for (size_t i = 0; i < n; i++)
		dst[i] = w[i];
	dst[n] = 0;
	return 0;
}

/* Decimal or 0x hexadecimal, at most max. */
static int number(const char *w, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;
	if (n > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X'))
		base = 16, i = 2;
	if (i == n)
		return -1;
	for (; i < n; i++) {
		char ch = w[i];
		unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
		           : ch >= 'a' && ch <= 'f' && base == 16 ? (unsigned)(ch - 'a' + 10)
		           : ch >= 'A' && ch <= 'F' && base == 16 ? (unsigned)(ch - 'A' + 10) : 99;
		if (d >= base)
			return -1;
		v = v * base + d;
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static const char *check_server(const struct manifest_server *s)
{
	if (!s->image[0])
		return "server has no image line";
	return 0;
}

/* control and inject: all, or up to MANIFEST_MAX_CONTROL task names
 * (several lines add up) */
static const char *task_list(struct cursor *c, const char *a, size_t an, int *all, unsigned *count,
                             char names[][MANIFEST_NAME_LEN], const char *empty, const char *alone,
                             const char *many, const char *bad)
{
	if (!an)
		return empty;
	if (word_is(a, an, "all")) {
		*all = 1;
		const char *b;
		return word(c, &b) ? "extra words at the end of the line" : 0;
	}
	for (; an; an = word(c, &a)) {
		if (word_is(a, an, "all"))
			return alone;
		if (*count == MANIFEST_MAX_CONTROL)
			return many;
		if (copy_word(names[*count], MANIFEST_NAME_LEN, a, an))
			return bad;
		(*count)++;
	}
	return 0;
}

static const char *directive(struct manifest *m, struct cursor *c, const char *w, size_t n)
{
	const char *a, *b;
	size_t an, bn;
	uint32_t v, v2;
	if (word_is(w, n, "server")) {
		if (m->count == MANIFEST_MAX_SERVERS)
			return "too many servers";
		struct manifest_server *s = &m->server[m->count];
		unsigned char *raw = (unsigned char *)s;
		for (size_t i = 0; i < sizeof(*s); i++)
			raw[i] = 0;
		an = word(c, &a);
		if (copy_word(s->name, sizeof(s->name), a, an))
			return "server needs a name of 1 to 31 characters";
		/* ps lists init itself under this name, and the shell's task
		 * commands refuse it by name */
		if (word_is(a, an, "init"))
			return "init is a reserved name (ps shows init itself under it)";
		for (unsigned i = 0; i < m->count; i++) {
			const char *x = m->server[i].name, *y = s->name;
			while (*x && *x == *y)
				x++, y++;
			if (*x == *y)
				return "a server of that name exists already";
		}
		s->priority = 100;
		s->memory_bits = 16;
		s->restart = 0;
		m->count++;
		if (word(c, &b))
			return "extra words at the end of the line";
		return 0;
	}
	if (!m->count)
		return "directive before the first server line";
	struct manifest_server *s = &m->server[m->count - 1];
	an = word(c, &a);
	if (word_is(w, n, "image")) {
		if (copy_word(s->image, sizeof(s->image), a, an))
			return "image needs a file name of 1 to 63 characters";
	} else if (word_is(w, n, "priority")) {
		if (number(a, an, 254, &v) || v == 0)
			return "priority must be 1..254";
		s->priority = v;
	} else if (word_is(w, n, "memory")) {
		if (number(a, an, 28, &v) || v < 12)
			return "memory must be 12..28 (log2 of bytes)";
		s->memory_bits = v;
	} else if (word_is(w, n, "borrow")) {
		if (number(a, an, LOAN_LIMIT_MIB, &v) || v % 2)
			return "borrow must be an even number of MiB, 0..1024";
		s->borrow_mib = v;
	} else if (word_is(w, n, "slots")) {
		if (number(a, an, 14, &v) || v < 8)
			return "slots must be 8..14 (log2 of the CNode's slots)";
		s->slots_bits = v;
	} else if (word_is(w, n, "module")) {
		if (s->nmodules == 2)
			return "at most 2 modules per server";
		if (copy_word(s->module[s->nmodules], sizeof(s->module[0]), a, an))
			return "module needs a file name of 1 to 63 characters";
		s->nmodules++;
	} else if (word_is(w, n, "restart")) {
		if (word_is(a, an, "always"))
			s->restart = RESTART_ALWAYS;
		else if (word_is(a, an, "never"))
			s->restart = 0;
		else if (!number(a, an, 1000000, &v))
			s->restart = (int)v;
		else
			return "restart must be always, never or a count";
	} else if (word_is(w, n, "dma") || word_is(w, n, "devmem") || word_is(w, n, "trace") ||
	           word_is(w, n, "manual")) {
		if (an)
			return "dma, devmem, trace and manual take no argument";
		if (word_is(w, n, "dma"))
			s->dma = 1;
		else if (word_is(w, n, "trace"))
			s->trace = 1;
		else if (word_is(w, n, "manual"))
			s->manual = 1;
		else
			s->devmem = 1;
	} else if (word_is(w, n, "control")) {
		return task_list(c, a, an, &s->control_all, &s->ncontrol, s->control,
		                 "control takes all or the names of tasks", "control all stands alone",
		                 "control names at most 8 tasks (or all)",
		                 "control takes task names of 1 to 31 characters");
	} else if (word_is(w, n, "inject")) {
		return task_list(c, a, an, &s->inject_all, &s->ninject, s->inject,
		                 "inject takes all or the names of tasks", "inject all stands alone",
		                 "inject names at most 8 tasks (or all)",
		                 "inject takes task names of 1 to 31 characters");
	} else if (word_is(w, n, "heartbeat")) {
		if (number(a, an, 60000, &v) || v < 10)
			return "heartbeat must be 10..60000 ms";
		s->heartbeat_ms = v;
		s->heartbeat_misses = 3;
		bn = word(c, &b);
		if (bn && (number(b, bn, 100, &v2) || v2 == 0))
			return "heartbeat's misses must be 1..100";
		if (bn)
			s->heartbeat_misses = v2;
	} else if (word_is(w, n, "args")) {
		size_t len = (size_t)(c->end - a);
		while (len && is_space(a[len - 1]))
			len--;
		if (copy_word(s->args, sizeof(s->args), a, len))
			return "args must be 1 to 127 characters";
		c->p = c->end;
		return 0;
	} else if (word_is(w, n, "ioports") || word_is(w, n, "irq") || word_is(w, n, "needs")) {
		if (s->ncaps == MANIFEST_MAX_CAPS)
			return "too many capabilities for one server";
		struct manifest_cap *cap = &s->caps[s->ncaps];
		if (word_is(w, n, "ioports")) {
			bn = word(c, &b);
			if (number(a, an, 0xffff, &v) || number(b, bn, 0xffff, &v2) || v > v2)
				return "ioports needs FIRST LAST with FIRST <= LAST <= 0xffff";
			*cap = (struct manifest_cap){ MCAP_IOPORTS, v, v2, { 0 } };
		} else if (word_is(w, n, "irq")) {
			if (number(a, an, 15, &v) || v == 0 || v == 2)
				return "irq must be 1 or 3..15";
			*cap = (struct manifest_cap){ MCAP_IRQ, v, v, { 0 } };
		} else {
			*cap = (struct manifest_cap){ MCAP_NEEDS, 0, 0, { 0 } };
			if (copy_word(cap->name, sizeof(cap->name), a, an))
				return "needs takes a service name of 1 to 31 characters";
		}
		s->ncaps++;
	} else {
		return "unknown directive";
	}
	if (word(c, &b))
		return "extra words at the end of the line";
	return 0;
}

int manifest_parse(const char *text, size_t len, struct manifest *m, unsigned *err_line,
                   const char **err_msg)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	m->count = 0;
	while (p < end) {
		const char *eol = p;
		while (eol < end && *eol != '\n')
			eol++;
		line++;
		struct cursor c = { p, eol };
		const char *w;
		size_t n = word(&c, &w);
		const char *err = 0;
		for (const char *q = p; q < eol; q++)
			if (*q == 0)
				err = "a NUL byte in the manifest";
		if (!err && n && word_is(w, n, "server") && m->count &&
		    check_server(&m->server[m->count - 1])) {
			/* the block before this one is incomplete: say where it began */
			*err_line = m->server[m->count - 1].line;
			*err_msg = check_server(&m->server[m->count - 1]);
			return -1;
		}
		if (!err && n) {
			unsigned before = m->count;
			err = directive(m, &c, w, n);
			if (!err && m->count > before)
				m->server[m->count - 1].line = line;
		}
		if (err) {
			*err_line = line;
			*err_msg = err;
			return -1;
		}
		p = eol + 1;
	}
	if (m->count && check_server(&m->server[m->count - 1])) {
		*err_line = m->server[m->count - 1].line;
		*err_msg = check_server(&m->server[m->count - 1]);
		return -1;
	}
	return 0;
}
