/* Directories for the C library: newlib declares opendir, readdir,
 * closedir, ... (<dirent.h>) and leaves them to the system.  A DIR holds
 * the directory's inode number and the file-system server's cookie for
 * the next entry; each readdir is one call to the server (libc_files). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <libipc/libipc.h>

struct berth_dir {
	uint32_t ino;
	unsigned generation;  /* libc_files' when it was opened (posix.c) */
	uint64_t cookie;      /* where the next entry is */
	int at_end;
	struct dirent entry;  /* what the last readdir returned */
};

static unsigned char type_of_kind(uint32_t kind)
{
	static const unsigned char types[] = {
		DT_UNKNOWN, DT_REG, DT_DIR, DT_CHR, DT_BLK, DT_FIFO, DT_SOCK, DT_LNK,
	};
	return kind < sizeof(types) ? types[kind] : DT_UNKNOWN;
}

DIR *opendir(const char *path)
{
	if (!libc_files) {
		errno = ENOENT; /* no file system in this program */
		return 0;
	}
	struct libc_file_info in;
	int r = libc_files->open(path, 0, 0, &in);
	if (r < 0) {
		errno = -r;
		return 0;
	}
	if (!S_ISDIR(in.mode)) {
		errno = ENOTDIR;
		return 0;
	}
	DIR *d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return 0;
	}
	d->ino = in.ino;
	d->generation = libc_files->generation ? libc_files->generation() : 0;
	return d;
}

struct dirent *readdir(DIR *d)
{
	if (!d || d->at_end)
		return 0; /* the end: errno stays as it was */
	if (d->generation != (libc_files->generation ? libc_files->generation() : 0)) {
		errno = ESTALE;   /* opened on a server since gone */
		return 0;
	}
	uint32_t ino = 0, kind = 0;
	int r = libc_files->readdir(d->ino, &d->cookie, &ino, &kind, d->entry.d_name);
	if (r < 0) {
		errno = -r;
		return 0;
	}
	if (r == 0) {
		d->at_end = 1;
		return 0;
	}
	d->entry.d_ino = ino;
	d->entry.d_type = type_of_kind(kind);
	return &d->entry;
}

void rewinddir(DIR *d)
{
	d->cookie = 0;
	d->at_end = 0;
}

/* The cookie is the server's offset in the directory: telldir's value
 * is only good for seekdir on the same directory, as POSIX says. */
long telldir(DIR *d)
{
	return (long)d->cookie;
}

void seekdir(DIR *d, long where)
{
	d->cookie = (uint64_t)where;
	d->at_end = 0;
}

int closedir(DIR *d)
{
	if (!d) {
		errno = EBADF;
		return -1;
	}
	free(d);
	return 0;
}
