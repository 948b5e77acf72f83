/* The boot manifest parser (servers/init/manifest.c). */
// unit-under-test: servers/init/manifest.c
#include <string.h>
#include "unit.h"
#include "../../servers/init/manifest.h"

static struct manifest m;
static unsigned line;
static const char *msg;

static int parse(const char *text)
{
	line = 0;
	msg = 0;
	return manifest_parse(text, strlen(text), &m, &line, &msg);
}

/* text must fail on line `want_line` with a message containing `want` */
static void bad(const char *text, unsigned want_line, const char *want, const char *what)
{
	int r = parse(text);
	CHECK(r == -1 && line == want_line && msg && strstr(msg, want), "%s: line %u, '%s'", what, line,
	      msg ? msg : "(none)");
}

int main(void)
{
	const char *good =
		"# a comment\n"
		"\n"
		"server serial   # trailing comment\n"
		"    image serial.elf\n"
		"    priority 150\n"
		"    memory 16\n"
		"    ioports 0x3f8 0x3FF\n"
		"    irq 4\n"
		"    args testing  verbose  \n"
		"    restart always\n"
		"server shell\n"
		"\timage shell.elf\n"
		"\tneeds console\n"
		"\trestart 3\n"
		"server quiet\n"
		"    image q.elf\n";
	CHECK(parse(good) == 0, "a full manifest parses (%s)", msg ? msg : "ok");
	CHECK(m.count == 3, "three servers");
	const struct manifest_server *s = &m.server[0];
	CHECK(!strcmp(s->name, "serial") && !strcmp(s->image, "serial.elf") && s->line == 3,
	      "names, image and line of the first");
	CHECK(s->priority == 150 && s->memory_bits == 16 && s->restart == RESTART_ALWAYS, "priority, memory, restart");
	CHECK(s->ncaps == 2 && s->caps[0].kind == MCAP_IOPORTS && s->caps[0].first == 0x3f8 &&
	      s->caps[0].last == 0x3ff && s->caps[1].kind == MCAP_IRQ && s->caps[1].first == 4,
	      "capabilities in line order, hex either case");
	CHECK(!strcmp(s->args, "testing  verbose"), "args keep inner spaces, lose trailing ones ('%s')", s->args);
	CHECK(m.server[1].ncaps == 1 && m.server[1].caps[0].kind == MCAP_NEEDS &&
	      !strcmp(m.server[1].caps[0].name, "console") && m.server[1].restart == 3, "needs and a restart count");
	CHECK(m.server[2].priority == 100 && m.server[2].memory_bits == 16 && m.server[2].restart == 0 &&
	      m.server[2].ncaps == 0 && !m.server[2].args[0], "defaults");
	CHECK(parse("server v\n image vmm.elf\n slots 12\n module a.bin\n module b.bin\n") == 0 &&
	      m.server[0].slots_bits == 12 && m.server[0].nmodules == 2 &&
	      !strcmp(m.server[0].module[0], "a.bin") && !strcmp(m.server[0].module[1], "b.bin"),
	      "slots and modules");
	CHECK(parse("server p\n image pci.elf\n devmem\nserver d\n image blk.elf\n dma\n") == 0 &&
	      m.server[0].devmem && !m.server[0].dma && m.server[1].dma && !m.server[1].devmem,
	      "devmem and dma, each only where it is said");
	CHECK(parse("server v\n image vmm.elf\n") == 0 && !m.server[0].dma && !m.server[0].devmem,
	      "no dma and no devmem by default");
	bad("server v\n image x\n dma yes\n", 3, "no argument", "dma with an argument");
	CHECK(parse("server v\n image vmm.elf\n manual\nserver w\n image vmm.elf\n") == 0 && m.server[0].manual &&
	      !m.server[1].manual, "manual, only where it is said");
	bad("server v\n image x\n manual now\n", 3, "no argument", "manual with an argument");
	CHECK(parse("server s\n image shell.elf\n control all\n") == 0 && m.server[0].control_all &&
	      !m.server[0].ncontrol, "control all");
	CHECK(parse("server c\n image c.elf\n control net net0\n control fs\n") == 0 && !m.server[0].control_all &&
	      m.server[0].ncontrol == 3 && !strcmp(m.server[0].control[0], "net") &&
	      !strcmp(m.server[0].control[2], "fs"), "control NAME..., on several lines");
	CHECK(parse("server c\n image c.elf\n") == 0 && !m.server[0].control_all && !m.server[0].ncontrol,
	      "no control line: no control");
	bad("server c\n image x\n control\n", 3, "all or the names", "control without a name");
	bad("server c\n image x\n control a all\n", 3, "stands alone", "control all among names");
	bad("server c\n image x\n control a b c d e f g h i\n", 3, "at most 8", "control of nine tasks");
	CHECK(parse("server f\n image f.elf\n inject fs net\n inject blk0\n") == 0 && !m.server[0].inject_all &&
	      m.server[0].ninject == 3 && !strcmp(m.server[0].inject[2], "blk0") && !m.server[0].ncontrol,
	      "inject NAME..., on several lines, apart from control");
	CHECK(parse("server f\n image f.elf\n inject all\n") == 0 && m.server[0].inject_all, "inject all");
	bad("server c\n image x\n inject\n", 3, "all or the names", "inject without a name");
	bad("server c\n image x\n inject all fs\n", 3, "extra words", "inject all with a name after it");
	CHECK(parse("server s\n image s.elf\n heartbeat 500\nserver t\n image t.elf\n heartbeat 100 5\n") == 0 &&
	      m.server[0].heartbeat_ms == 500 && m.server[0].heartbeat_misses == 3 &&
	      m.server[1].heartbeat_ms == 100 && m.server[1].heartbeat_misses == 5, "heartbeat MS [MISSES]");
	CHECK(parse("server s\n image s.elf\n") == 0 && !m.server[0].heartbeat_ms, "no heartbeat by default");
	bad("server c\n image x\n heartbeat 5\n", 3, "10..60000", "a heartbeat too fast");
	bad("server c\n image x\n heartbeat 100 0\n", 3, "1..100", "a heartbeat of no misses");
	bad("server c\n image x\n heartbeat 100 3 4\n", 3, "extra words", "a heartbeat with three words");
	bad("server v\n image x\n slots 7\n", 3, "slots", "a CNode too small");
	bad("server v\n image x\n slots 15\n", 3, "slots", "a CNode too big");
	bad("server v\n image x\n module a\n module b\n module c\n", 5, "at most 2", "a third module");
	CHECK(parse("") == 0 && m.count == 0, "an empty manifest starts nothing");
	CHECK(parse("# only\n   \n\t# comments\n") == 0 && m.count == 0, "comments and blank lines only");
	CHECK(parse("server a\nimage a.elf") == 0 && m.count == 1, "no newline at the end");

	bad("image x.elf\n", 1, "before the first server", "directive outside a server");
	bad("server a\n image a.elf\n frobnicate 3\n", 3, "unknown directive", "unknown directive");
	bad("server a\n priority 5\n", 1, "no image", "server without image");
	bad("server a\n priority 5\nserver b\n image b\n", 1, "no image", "earlier server without image");
	bad("server a\n image a\n priority 0\n", 3, "priority", "priority 0");
	bad("server a\n image a\n priority 255\n", 3, "priority", "priority 255");
	bad("server a\n image a\n priority 99999999999999999999\n", 3, "priority", "huge number");
	bad("server a\n image a\n priority 1x\n", 3, "priority", "not a number");
	bad("server a\n image a\n memory 11\n", 3, "memory", "memory too small");
	bad("server a\n image a\n memory 29\n", 3, "memory", "memory too large");
	bad("server a\n image a\n irq 2\n", 3, "irq", "the cascade line");
	bad("server a\n image a\n irq 0\n", 3, "irq", "the timer line");
	bad("server a\n image a\n irq 16\n", 3, "irq", "no line 16");
	bad("server a\n image a\n ioports 0x3ff 0x3f8\n", 3, "ioports", "reversed range");
	bad("server a\n image a\n ioports 0x3f8\n", 3, "ioports", "one port number");
	bad("server a\n image a\n ioports 0 0x10000\n", 3, "ioports", "port past 0xffff");
	bad("server a\n image a\n restart sometimes\n", 3, "restart", "bad restart policy");
	bad("server a\n image a\n needs\n", 3, "needs", "needs without a name");
	bad("server\n", 1, "name", "server without a name");
	bad("server a b\n", 1, "extra words", "two names");
	bad("server init\n image a\n", 1, "reserved", "a server called init");
	bad("server a\n image a b\n", 2, "extra words", "extra words");
	bad("server a\n image a\nserver a\n image a\n", 3, "exists", "duplicate server");
	bad("server aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 1, "name", "long name");
	bad("server a\n image a\n irq 4\n irq 5\n irq 6\n irq 7\n irq 8\n irq 9\n irq 10\n irq 11\n irq 12\n", 11,
	    "too many", "too many capabilities");
	char many[2048] = "";
	for (int i = 0; i < 17; i++) {
		char one[64];
		snprintf(one, sizeof(one), "server s%d\n image x\n", i);
		strcat(many, one);
	}
	bad(many, 33, "too many servers", "seventeen servers");
	const char nul[] = "server a\n ima\0ge a\n";
	line = 0;
	CHECK(manifest_parse(nul, sizeof(nul) - 1, &m, &line, &msg) == -1 && line == 2, "a NUL byte is refused");
	return unit_done();
}
