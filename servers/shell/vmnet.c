/* The shell's commands for a VM's network port on the network server's
 * switch ("switch", idl/vswitch.idl; docs/guest-io.md):
 *
 *   vm fw NAME                     the port's firewall rules and their counters
 *   vm fw NAME add [POS] RULE      insert a rule (at POS, else last)
 *   vm fw NAME del POS             delete rule POS
 *   vm net NAME                    the port: MAC, address, counters, last drop
 *   vm forward NAME tcp|udp BERTH_PORT GUEST_PORT   a NAT forward (GUEST_PORT 0 removes it)
 *
 * RULE is vfw.h's text form, e.g. "out accept tcp 10.0.2.2/32 80"; the
 * switch parses it and refuses what it cannot. */
#include <string.h>
#include <libipc/libipc.h>
#include "vswitch.h"   /* generated from idl/vswitch.idl */
#include "shell.h"

#define APPEND 0xffffffffu

static void dotted(uint32_t a, char *buf, size_t size)
{
	debug_snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int word_u32(const char *s, uint32_t *v)
{
	uint64_t n = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 0xffffffffu / 10)
			return 0;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (n > 0xffffffffu)
		return 0;
	*v = (uint32_t)n;
	return 1;
}

static const char *why(long err)
{
	switch (err) {
	case E_BAD_ARG:
		return "refused (a bad rule or position, or no VM of that name has attached to the switch)";
	case E_LIMIT:
		return "no room (32 rules on a port; forwards full; or a port Berth's own stack uses)";
	case E_DEAD_PORT:
	case E_NO_REPLY:
	case E_BAD_CAP:
		return "the network server went away";
	default:
		return "failed";
	}
}

static uint64_t switch_port(const char *cmd)
{
	uint64_t sw = lookup("switch");
	if (!sw)
		outf("vm %s: no virtual switch (the network server does not publish 'switch')\n", cmd);
	return sw;
}

static void fw_list(uint64_t sw, const char *name)
{
	uint32_t more = 1;
	unsigned shown = 0;
	for (uint32_t i = 0; more; i++) {
		char rule[64];
		uint64_t frames, bytes;
		long err = vswitch_fw_rule(sw, name, i, &more, rule, &frames, &bytes);
		if (err) {
			outf("vm fw: %s: %s\n", name, why(err));
			return;
		}
		if (!more)
			break;
		if (!shown++)
			outf("%4s  %-40s %10s %12s\n", "pos", "rule", "frames", "bytes");
		outf("%4u  %-40s %10lu %12lu\n", i, rule, frames, bytes);
	}
	if (!shown)
		outf("vm fw: %s has no rules: the default holds (other guests blocked; Berth and the outside "
		     "reachable)\n", name);
}

#define RULE_MAX 63   /* idl/vswitch.idl's fw_insert: string<63> */

static const char fw_usage[] = "usage: vm fw NAME [add [POS] RULE... | del POS]";

void vm_fw(int argc, char **argv, const struct words *line)
{
	(void)line;
	const char *name = argv[1];
	if (argc > 2 && strcmp(argv[2], "add") && strcmp(argv[2], "del")) {
		outf("vm fw: unknown '%s'; %s\n", argv[2], fw_usage);
		return;
	}
	uint32_t pos = APPEND;
	char rule[RULE_MAX + 1];
	if (argc > 2 && !strcmp(argv[2], "add")) {
		int first = 3;
		/* an optional position first: a word of digits only */
		if (argc > 3 && argv[3][0] && strspn(argv[3], "0123456789") == strlen(argv[3])) {
			if (!word_u32(argv[3], &pos)) {
				outf("vm fw: the position %s is too large\n", argv[3]);
				return;
			}
			first = 4;
		}
		if (first >= argc) {
			out("vm fw: add needs a rule: add [POS] DIR ACTION PROTO ADDR/PREFIX [PORT|LO-HI], e.g. "
			    "vm fw g1 add out accept tcp 10.0.2.2/32 80\n");
			return;
		}
		if (words_join(argv + first, argc - first, rule, sizeof(rule)) < 0) {
			outf("vm fw: the rule is longer than %d characters\n", RULE_MAX);
			return;
		}
	} else if (argc > 2 && (argc != 4 || !word_u32(argv[3], &pos))) {
		outf("vm fw: del takes one position (vm fw %s lists them); %s\n", name, fw_usage);
		return;
	}
	uint64_t sw = switch_port("fw");
	if (!sw)
		return;
	long err = E_OK;
	if (argc == 2) {
		fw_list(sw, name);
	} else if (!strcmp(argv[2], "add")) {
		err = vswitch_fw_insert(sw, name, pos, rule);
		if (!err)
			outf("vm fw: %s: rule added\n", name);
	} else {
		err = vswitch_fw_delete(sw, name, pos);
		if (!err)
			outf("vm fw: %s: rule %u deleted\n", name, pos);
	}
	if (err)
		outf("vm fw: %s: %s\n", name, why(err));
	drop(sw);
}

void vm_net(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1];
	uint64_t sw = switch_port("net");
	if (!sw)
		return;
	uint64_t mac, ff, fd, tf, td;
	uint32_t ip, up;
	char last[32], a[16];
	long err = vswitch_port_stats(sw, name, &mac, &ip, &up, &ff, &fd, &tf, &td, last);
	drop(sw);
	if (err) {
		outf("vm net: %s: %s\n", name, why(err));
		return;
	}
	dotted(ip, a, sizeof(a));
	outf("%s: port %s, ether %02x:%02x:%02x:%02x:%02x:%02x, inet %s\n", name, up ? "up" : "down",
	     (unsigned)(mac & 255), (unsigned)(mac >> 8 & 255), (unsigned)(mac >> 16 & 255),
	     (unsigned)(mac >> 24 & 255), (unsigned)(mac >> 32 & 255), (unsigned)(mac >> 40 & 255), a);
	outf("    from the guest: %lu frames accepted, %lu dropped\n", ff, fd);
	outf("    to the guest:   %lu frames accepted, %lu dropped\n", tf, td);
	if (last[0])
		outf("    last drop: %s\n", last);
}

void vm_forward(int argc, char **argv, const struct words *line)
{
	(void)argc;
	(void)line;
	const char *name = argv[1], *proto = argv[2];
	uint32_t berth_port, guest_port, pr = !strcmp(proto, "tcp") ? 6 : !strcmp(proto, "udp") ? 17 : 0;
	if (!pr || !word_u32(argv[3], &berth_port) || !word_u32(argv[4], &guest_port) || !berth_port ||
	    berth_port > 65535 || guest_port > 65535) {
		out("vm forward: NAME tcp|udp BERTH_PORT GUEST_PORT (1-65535; GUEST_PORT 0 removes the forward)\n");
		return;
	}
	uint64_t sw = switch_port("forward");
	if (!sw)
		return;
	long err = vswitch_forward(sw, pr, berth_port, name, guest_port);
	drop(sw);
	if (err)
		outf("vm forward: %s: %s\n", name, why(err));
	else if (guest_port)
		outf("vm forward: %s port %u on Berth's address goes to %s's port %u\n", proto, berth_port, name,
		     guest_port);
	else
		outf("vm forward: %s port %u forwards no more\n", proto, berth_port);
}
