/* The C library's open-file table used by several threads at once
 * (libipc/posix.c, docs/libc.md).  The file system is a fake in this
 * program (its libc_files hooks), which yields in the middle of every
 * call, so that another thread runs between the C library's steps: an
 * open between another's choice of a slot and its filling it, a write
 * between another's reading the shared offset and its moving it.
 *
 * Four threads open, write, read back and close files of their own, many
 * times over: each descriptor is held by one thread at a time and every
 * file holds its writer's data.  Then two threads write records through
 * one shared descriptor: each write takes its turn at the offset, so no
 * record overwrites another and the file's length is the sum of them.
 * (Before the table had its locks, two opens at once took one slot, and
 * the shared offset lost writes.) */
// test-timeout: 120
#include "tap.h"
#include <libipc/libipc.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 30
#define PRIO 100
#define RECORDS 100

/* --- the fake file system: names to inodes, each a buffer ---------------- */
#define INODES 64
#define FILE_BYTES 4096
static struct inode {
	char name[24];
	uint64_t size;
	uint8_t data[FILE_BYTES];
} inodes[INODES];
static unsigned inode_count;
static int table_lock; /* the fake's own: a spin with yields */

static void fake_lock(void)
{
	while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE))
		sys_yield();
}

static void fake_unlock(void)
{
	__atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE);
}

static int fake_open(const char *path, unsigned how, unsigned mode, struct libc_file_info *info)
{
	(void)mode;
	sys_yield();
	fake_lock();
	unsigned i = 0;
	while (i < inode_count && strcmp(inodes[i].name, path))
		i++;
	int r = 0;
	if (i == inode_count) {
		if (!(how & LIBC_FILE_CREAT) || i == INODES || strlen(path) >= sizeof(inodes[i].name)) {
			r = i == INODES ? -ENOSPC : -ENOENT;
		} else {
			strcpy(inodes[i].name, path);
			inodes[i].size = 0;
			inode_count++;
		}
	} else if (how & LIBC_FILE_TRUNC) {
		inodes[i].size = 0;
	}
	fake_unlock();
	sys_yield();
	if (r)
		return r;
	memset(info, 0, sizeof(*info));
	info->ino = i + 1;
	info->mode = S_IFREG | 0644;
	info->size = inodes[i].size;
	return 0;
}

static int fake_stat(uint32_t ino, struct libc_file_info *info)
{
	if (!ino || ino > inode_count)
		return -ENOENT;
	memset(info, 0, sizeof(*info));
	info->ino = ino;
	info->mode = S_IFREG | 0644;
	info->size = inodes[ino - 1].size;
	return 0;
}

static long fake_read(uint32_t ino, uint64_t offset, void *buf, size_t len)
{
	if (!ino || ino > inode_count)
		return -EBADF;
	struct inode *n = &inodes[ino - 1];
	sys_yield();
	if (offset >= n->size)
		return 0;
	size_t k = len < n->size - offset ? len : (size_t)(n->size - offset);
	memcpy(buf, n->data + offset, k);
	return (long)k;
}

static long fake_write(uint32_t ino, uint64_t offset, const void *buf, size_t len)
{
	if (!ino || ino > inode_count)
		return -EBADF;
	struct inode *n = &inodes[ino - 1];
	if (offset > FILE_BYTES || len > FILE_BYTES - offset)
		return -EFBIG;
	sys_yield();   /* between the caller's offset and its moving it */
	memcpy(n->data + offset, buf, len);
	if (offset + len > n->size)
		n->size = offset + len;
	return (long)len;
}

static const struct libc_file_ops fake_files = {
	.open = fake_open, .stat = fake_stat, .read = fake_read, .write = fake_write,
};

/* --- the threads ------------------------------------------------------------ */
static int holder[3 + 64];          /* the thread holding each descriptor, +1; 0: none */
static volatile int collisions, wrong_data, failed_calls, done_count;
static uint8_t stacks[THREADS + 2][16384] __attribute__((aligned(16)));

static void own_files(uint64_t me)
{
	char path[24], line[64], back[64];
	for (int r = 0; r < ROUNDS; r++) {
		snprintf(path, sizeof(path), "/t%lu-%d", me, r % 8);
		int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
		if (fd < 0 || fd >= (int)(sizeof(holder) / sizeof(holder[0]))) {
			failed_calls++;
			continue;
		}
		int none = 0;
		if (!__atomic_compare_exchange_n(&holder[fd], &none, (int)me + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			collisions++;
		int n = snprintf(line, sizeof(line), "thread %lu round %d file %s\n", me, r, path);
		if (write(fd, line, (size_t)n) != n || lseek(fd, 0, SEEK_SET) != 0)
			failed_calls++;
		memset(back, 0, sizeof(back));
		if (read(fd, back, sizeof(back)) != n || memcmp(back, line, (size_t)n))
			wrong_data++;
		int mine = (int)me + 1;
		__atomic_compare_exchange_n(&holder[fd], &mine, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
		if (close(fd))
			failed_calls++;
	}
}

static int shared_fd;

static void shared_writer(uint64_t me)
{
	char rec[8];
	for (int r = 0; r < RECORDS; r++) {
		snprintf(rec, sizeof(rec), "%c%05d\n", (int)('a' + me), r);
		if (write(shared_fd, rec, 7) != 7)
			failed_calls++;
	}
}

static void worker_main(uint64_t me)
{
	if (me < THREADS)
		own_files(me);
	else
		shared_writer(me - THREADS);
	__atomic_fetch_add(&done_count, 1, __ATOMIC_RELEASE);
	for (;;)
		clock_nap(100);
}

static int wait_done(int want)
{
	for (int waited = 0; done_count < want && waited < 6000; waited++)
		clock_nap(1);
	return done_count;
}

int main(void)
{
	tap_plan(6);
	libc_files = &fake_files;
	int made = 1;
	for (int i = 0; i < THREADS; i++)
		made &= thread_create(worker_main, (uint64_t)i, stacks[i], sizeof(stacks[i]), PRIO, 0) == E_OK;
	tap_ok(made && wait_done(THREADS) == THREADS, "%d threads opened, wrote, read and closed %d files each",
	       THREADS, ROUNDS);
	tap_ok(collisions == 0 && failed_calls == 0,
	       "no descriptor was handed to two threads at once (%d times it was; %d calls failed)", collisions,
	       failed_calls);
	tap_eq(wrong_data, 0, "each thread read back what it wrote, through its own descriptor");

	/* two threads, one descriptor */
	shared_fd = open("/shared", O_CREAT | O_RDWR | O_TRUNC, 0644);
	done_count = 0;
	made = shared_fd >= 0;
	for (int i = 0; made && i < 2; i++)
		made &= thread_create(worker_main, (uint64_t)(THREADS + i), stacks[THREADS + i], sizeof(stacks[0]), PRIO, 0) == E_OK;
	tap_ok(made && wait_done(2) == 2 && failed_calls == 0, "two threads wrote %d records each through one descriptor",
	       RECORDS);
	struct stat st = { 0 };
	int got = fstat(shared_fd, &st);
	tap_ok(got == 0 && st.st_size == 2 * RECORDS * 7,
	       "the file's length is every record's (%ld of %d bytes)", (long)st.st_size, 2 * RECORDS * 7);
	/* every record whole and each thread's in order */
	static char all[2 * RECORDS * 7 + 1];
	int next[2] = { 0, 0 }, bad = 0;
	if (lseek(shared_fd, 0, SEEK_SET) != 0 || read(shared_fd, all, sizeof(all)) != 2 * RECORDS * 7)
		bad = -1;
	for (int at = 0; bad == 0 && at < 2 * RECORDS * 7; at += 7) {
		int who = all[at] - 'a', n = -1;
		if (who < 0 || who > 1 || sscanf(all + at + 1, "%5d", &n) != 1 || n != next[who] || all[at + 6] != '\n')
			bad = at / 7 + 1;
		else
			next[who]++;
	}
	tap_ok(bad == 0 && next[0] == RECORDS && next[1] == RECORDS,
	       "every record is whole, none overwritten, each thread's in its order (first bad record %d)", bad);
	close(shared_fd);
	tap_done();
}
