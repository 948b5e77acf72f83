/* idlc, Berth's interface compiler: `idlc IN.idl -o OUTDIR` writes
 * OUTDIR/NAME.h, NAME_client.c and NAME_server.c for the interface NAME
 * that IN.idl declares.  On an error it prints "FILE:LINE: error: ...",
 * writes nothing and exits with 1.  See docs/idl.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "idlc.h"

static void usage(void)
{
	fprintf(stderr, "usage: idlc FILE.idl -o OUTDIR\n"
	        "  writes OUTDIR/NAME.h, OUTDIR/NAME_client.c and OUTDIR/NAME_server.c\n"
	        "  for the interface NAME that FILE.idl declares (docs/idl.md)\n");
}

/* Read the whole file into *text (NUL-added) and *len; 0 on success. */
static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "idlc: error: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	char *buf = idl_xrealloc(NULL, IDL_MAX_FILE + 2);
	size_t n = fread(buf, 1, IDL_MAX_FILE + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "idlc: error: cannot read %s\n", path);
		free(buf);
		return 1;
	}
	if (n > IDL_MAX_FILE) {
		fprintf(stderr, "%s:1: error: the file is larger than %u bytes\n", path, IDL_MAX_FILE);
		free(buf);
		return 1;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* dir/name+suffix in a fresh string. */
static char *join(const char *dir, const char *name, const char *suffix)
{
	size_t size = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *s = idl_xrealloc(NULL, size);
	snprintf(s, size, "%s/%s%s", dir, name, suffix);
	return s;
}

/* Write the three outputs through temporary files, then rename them into
 * place; on any failure remove everything written.  0 on success. */
static int write_outputs(const char *dir, const char *name, struct buf out[3])
{
	static const char *const suffixes[3] = { ".h", "_client.c", "_server.c" };
	char *path[3], *tmp[3];
	int err = 0;
	unsigned created = 0, renamed = 0;
	for (unsigned i = 0; i < 3; i++) {
		path[i] = join(dir, name, suffixes[i]);
		tmp[i] = idl_xrealloc(join(dir, name, suffixes[i]), strlen(path[i]) + 5);
		strcat(tmp[i], ".tmp");
	}
	for (unsigned i = 0; i < 3 && !err; i++) {
		FILE *f = fopen(tmp[i], "wb");
		if (!f) {
			fprintf(stderr, "idlc: error: cannot write %s: %s\n", tmp[i], strerror(errno));
			err = 1;
			break;
		}
		created = i + 1;
		if (fwrite(out[i].data, 1, out[i].len, f) != out[i].len)
			err = 1;
		if (fclose(f) != 0)
			err = 1;
		if (err)
			fprintf(stderr, "idlc: error: cannot write %s\n", tmp[i]);
	}
	for (unsigned i = 0; i < 3 && !err; i++) {
		if (rename(tmp[i], path[i]) != 0) {
			fprintf(stderr, "idlc: error: cannot rename %s to %s: %s\n", tmp[i], path[i],
			        strerror(errno));
			err = 1;
			break;
		}
		renamed = i + 1;
	}
	if (err)
		for (unsigned i = 0; i < 3; i++) {
			if (i < renamed)
				remove(path[i]);
			else if (i < created)
				remove(tmp[i]);
		}
	for (unsigned i = 0; i < 3; i++) {
		free(path[i]);
		free(tmp[i]);
	}
	return err;
}

int main(int argc, char **argv)
{
	const char *in = NULL, *outdir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			outdir = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else if (argv[i][0] == '-' || in) {
			fprintf(stderr, "idlc: error: unexpected argument '%s'\n", argv[i]);
			usage();
			return 1;
		} else {
			in = argv[i];
		}
	}
	if (!in || !outdir) {
		usage();
		return 1;
	}

	char *text;
	size_t len;
	if (read_file(in, &text, &len))
		return 1;
	struct idl_interface ifc;
	int err = idl_parse(in, text, len, &ifc, stderr);
	free(text);
	if (!err) {
		/* the build rules find NAME.idl's outputs by the file's name */
		const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
		size_t n = strlen(ifc.name);
		if (strncmp(base, ifc.name, n) || strcmp(base + n, ".idl"))
			fprintf(stderr, "%s:%u: warning: interface '%s' is in a file not named %s.idl; "
			        "the build's rules expect that name\n", in, ifc.line, ifc.name, ifc.name);
		struct buf out[3] = { { 0 }, { 0 }, { 0 } };
		idl_generate(&ifc, base, &out[0], &out[1], &out[2]);
		err = write_outputs(outdir, ifc.name, out);
		for (unsigned i = 0; i < 3; i++)
			buf_free(&out[i]);
	}
	idl_free(&ifc);
	return err ? 1 : 0;
}
