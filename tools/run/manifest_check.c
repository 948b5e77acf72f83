/* manifest-check FILE: parse a boot manifest on the host with init's own
 * parser (servers/init/manifest.c), so that `make run MANIFEST=...` can
 * refuse a bad one before QEMU starts, with the message init would print.
 *
 * Prints one line per server: NAME IMAGE [MODULE...] (what make run must
 * boot for it); on an error, FILE:LINE: MESSAGE on stderr and status 1. */
#include <stdio.h>
#include <stdlib.h>
#include "../../servers/init/manifest.h"

static struct manifest m;

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: manifest-check FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	static char text[1 << 20];
	size_t len = fread(text, 1, sizeof(text), f);
	int too_big = !feof(f);
	fclose(f);
	if (too_big) {
		fprintf(stderr, "%s: larger than %zu bytes\n", argv[1], sizeof(text));
		return 1;
	}
	unsigned line;
	const char *msg;
	if (manifest_parse(text, len, &m, &line, &msg)) {
		fprintf(stderr, "%s:%u: %s\n", argv[1], line, msg);
		return 1;
	}
	for (unsigned i = 0; i < m.count; i++) {
		printf("%s %s", m.server[i].name, m.server[i].image);
		for (unsigned k = 0; k < m.server[i].nmodules; k++)
			printf(" %s", m.server[i].module[k]);
		printf("\n");
	}
	return 0;
}
