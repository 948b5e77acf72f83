/* The system-call layer of the C library (picolibc or newlib, docs/libc.md)
 * on Berth.
 *
 * Both are built for bare metal with the system calls left to the
 * operating system (tools/setup-picolibc.sh, tools/setup-newlib.sh).  They
 * call them by their POSIX names (write, sbrk, ...; newlib's
 * MISSING_SYSCALL_NAMES), so each function here is defined under the
 * underscore name of newlib's porting interface and given the POSIX name
 * as an alias.
 *
 * What exists: descriptors 0, 1 and 2 on the console (console hooks
 * below), files through the file-system server (file hooks), a heap,
 * exit.  What does not exist yet fails with an errno and
 * says what will bring it; nothing pretends to succeed.
 *
 * Threads: malloc calls sbrk under its lock (lock.c), so the heap's break
 * is safe.  An open takes its slot in the open-file table with one
 * compare-and-swap; each open file has a lock (<libipc/lock.h>), held across
 * every call on it, so threads sharing a descriptor take turns at its
 * offset and close waits for a call in progress. */
#include <libipc/libipc.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libipc/lock.h>

void program_exit(int code); /* start.c */

/* --- errno ---------------------------------------------------------------
 * picolibc's errno is one thread-local int (each thread's TLS block,
 * tls.c), which is what its functions and programs read. */
#ifdef __PICOLIBC__
static int fail(int e)
{
	errno = e;
	return -1;
}
/* read and write's result type in each library's <unistd.h> */
#define RW_RESULT ssize_t
#else
/* newlib's errno is per reentrancy structure: the errno macro is
 * _REENT->_errno, which is what a program reads.  newlib's reentrant covers
 * (_write_r, _sbrk_r, ...) clear the global `errno` of libc/reent/reent.c,
 * call us and copy that into the structure they were given.  A failure
 * here sets both, so both kinds of caller see it. */
static void set_reent_errno(int e)
{
	errno = e;
}
#undef errno
extern int errno;

static int fail(int e)
{
	set_reent_errno(e);
	errno = e;
	return -1;
}
#define RW_RESULT _READ_WRITE_RETURN_TYPE
#endif

/* --- the console -------------------------------------------------------- */

/* SYS_DEBUG_WRITE takes at most 64 KiB at a time. */
#define DEBUG_WRITE_MAX 65536

static long debug_console_write(const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < DEBUG_WRITE_MAX ? len - done : DEBUG_WRITE_MAX;
		long err = sys_debug_write(buf + done, n);
		if (err)
			return done ? (long)done : err == E_BAD_ADDRESS ? -EFAULT : -EIO;
		done += n;
	}
	return (long)done;
}

/* Until a console client takes over there is nothing to read from: stdin
 * is at its end, as if it were /dev/null.  (EAGAIN would claim that input
 * may come later, and blocking descriptors never give it.) */
static long no_console_read(char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return 0;
}

long (*libc_console_write)(const char *buf, size_t len) = debug_console_write;
long (*libc_console_read)(char *buf, size_t len) = no_console_read;

/* --- descriptors ---------------------------------------------------------
 * 0 (read), 1 and 2 (write) on the console; 3 and up files of the
 * file-system server (libc_files), each with its own offset. */
static unsigned std_open = 7; /* bit fd set: fd is open */

#define FILES_MAX 32
#define FD_FIRST_FILE 3

enum { FILE_FREE, FILE_OPENING, FILE_OPEN };

struct open_file {
	struct ipc_lock lock; /* held across each call on the file (file_take) */
	int _Atomic state;    /* FILE_*: an open claims a free slot, then fills it */
	int flags;          /* O_ACCMODE, O_APPEND */
	uint32_t ino;
	uint64_t offset;
	unsigned generation;  /* libc_files' when it was opened */
};
static struct open_file files[FILES_MAX];
const struct libc_file_ops *libc_files;

static int is_std(int fd)
{
	return fd >= 0 && fd <= 2 && (std_open & (1u << fd));
}

static int file_state(const struct open_file *f)
{
	return __atomic_load_n(&f->state, __ATOMIC_ACQUIRE);
}

/* The open file fd names, or 0 (a look, not locked). */
static struct open_file *file_open_at(int fd)
{
	if (fd < FD_FIRST_FILE || fd >= FD_FIRST_FILE + FILES_MAX)
		return 0;
	struct open_file *f = &files[fd - FD_FIRST_FILE];
	return file_state(f) == FILE_OPEN ? f : 0;
}

/* The same, locked for the caller's call on it (file_give unlocks it).
 * A close between the look and the lock is seen after it. */
static struct open_file *file_take(int fd)
{
	struct open_file *f = file_open_at(fd);
	if (!f)
		return 0;
	ipc_lock(&f->lock);
	if (file_state(f) == FILE_OPEN)
		return f;
	ipc_unlock(&f->lock);
	return 0;
}

static void file_give(struct open_file *f)
{
	ipc_unlock(&f->lock);
}

static unsigned files_generation(void)
{
	return libc_files && libc_files->generation ? libc_files->generation() : 0;
}

/* A file opened on a server since gone: only close still works on it
 * (ESTALE). */
static int stale(const struct open_file *f)
{
	return f->generation != files_generation();
}

static void info_to_stat(const struct libc_file_info *in, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = in->ino;
	st->st_mode = in->mode;
	st->st_nlink = in->links;
	st->st_size = (off_t)in->size;
	st->st_blocks = (blkcnt_t)in->blocks;
	st->st_blksize = 4096;
	st->st_mtime = in->mtime;
	st->st_atime = in->mtime;
	st->st_ctime = in->mtime;
}

static int file_write(struct open_file *f, const void *buf, size_t len)
{
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return fail(EBADF);
	if (stale(f))
		return fail(ESTALE);
	if (f->flags & O_APPEND) {
		struct libc_file_info in;
		int r = libc_files->stat(f->ino, &in);
		if (r < 0)
			return fail(-r);
		f->offset = in.size;
	}
	long n = len ? libc_files->write(f->ino, f->offset, buf, len) : 0;
	if (n < 0)
		return fail((int)-n);
	f->offset += (uint64_t)n;
	return (int)n;
}

RW_RESULT _write(int fd, const void *buf, size_t len)
{
	struct open_file *f = file_take(fd);
	if (len > INT_MAX)
		len = INT_MAX;
	if (f) {
		int n = file_write(f, buf, len);
		file_give(f);
		return n;
	}
	if (!is_std(fd) || fd == 0)
		return fail(EBADF);
	if (!len)
		return 0;
	long n = libc_console_write(buf, len);
	return n < 0 ? fail((int)-n) : (int)n;
}

static int file_read(struct open_file *f, void *buf, size_t len)
{
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return fail(EBADF);
	if (stale(f))
		return fail(ESTALE);
	long n = len ? libc_files->read(f->ino, f->offset, buf, len) : 0;
	if (n < 0)
		return fail((int)-n);
	f->offset += (uint64_t)n;
	return (int)n;
}

RW_RESULT _read(int fd, void *buf, size_t len)
{
	struct open_file *f = file_take(fd);
	if (len > INT_MAX)
		len = INT_MAX;
	if (f) {
		int n = file_read(f, buf, len);
		file_give(f);
		return n;
	}
	if (!is_std(fd) || fd != 0)
		return fail(EBADF);
	if (!len)
		return 0;
	long n = libc_console_read(buf, len);
	return n < 0 ? fail((int)-n) : (int)n;
}

int _close(int fd)
{
	struct open_file *f = file_take(fd);
	if (f) {
		__atomic_store_n(&f->state, FILE_FREE, __ATOMIC_RELEASE);
		file_give(f);
		return 0;
	}
	if (!is_std(fd))
		return fail(EBADF);
	__atomic_fetch_and(&std_open, ~(1u << fd), __ATOMIC_RELAXED);
	return 0;
}

/* The console is a terminal: a character device that cannot seek. */
int _fstat(int fd, struct stat *st)
{
	struct open_file *f = file_take(fd);
	if (f) {
		struct libc_file_info in;
		int r = stale(f) ? -ESTALE : libc_files->stat(f->ino, &in);
		file_give(f);
		if (r < 0)
			return fail(-r);
		info_to_stat(&in, st);
		return 0;
	}
	if (!is_std(fd))
		return fail(EBADF);
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | (fd ? S_IWUSR : S_IRUSR);
	st->st_nlink = 1;
	return 0;
}

int _isatty(int fd)
{
	if (file_open_at(fd)) {
		fail(ENOTTY);
		return 0;
	}
	if (!is_std(fd)) {
		fail(EBADF);
		return 0;
	}
	return 1;
}

static off_t file_seek(struct open_file *f, off_t offset, int whence)
{
	int64_t base = 0;
	if (whence == SEEK_CUR) {
		base = (int64_t)f->offset;
	} else if (whence == SEEK_END) {
		if (stale(f))
			return fail(ESTALE);
		struct libc_file_info in;
		int r = libc_files->stat(f->ino, &in);
		if (r < 0)
			return fail(-r);
		base = (int64_t)in.size;
	} else if (whence != SEEK_SET) {
		return fail(EINVAL);
	}
	if ((offset < 0 && base + offset < 0) || (offset > 0 && base > INT64_MAX - offset))
		return fail(EINVAL);
	f->offset = (uint64_t)(base + offset);
	return (off_t)f->offset;
}

off_t _lseek(int fd, off_t offset, int whence)
{
	struct open_file *f = file_take(fd);
	if (!f)
		return fail(is_std(fd) ? ESPIPE : EBADF);
	off_t r = file_seek(f, offset, whence);
	file_give(f);
	return r;
}

/* --- files: through the file-system server (libc_files) ------------------ */

int _open(const char *path, int flags, ...)
{
	if (!libc_files)
		return fail(ENOENT); /* no file system in this program */
	/* the lowest free slot, claimed before the server is asked, so that
	 * another thread's open meanwhile takes another */
	int slot = 0;
	for (;; slot++) {
		if (slot == FILES_MAX)
			return fail(EMFILE);
		int free_state = FILE_FREE;
		if (__atomic_compare_exchange_n(&files[slot].state, &free_state, FILE_OPENING, 0, __ATOMIC_ACQUIRE,
		                                __ATOMIC_RELAXED))
			break;
	}
	struct open_file *f = &files[slot];
	unsigned how = ((flags & O_CREAT) ? LIBC_FILE_CREAT : 0) | ((flags & O_EXCL) ? LIBC_FILE_EXCL : 0) |
	               ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY ? LIBC_FILE_TRUNC : 0);
	struct libc_file_info in;
	int r = libc_files->open(path, how, 0644, &in);
	if (r >= 0 && S_ISDIR(in.mode) && (flags & O_ACCMODE) != O_RDONLY)
		r = -EISDIR;
	if (r < 0) {
		__atomic_store_n(&f->state, FILE_FREE, __ATOMIC_RELEASE);
		return fail(-r);
	}
	f->flags = flags;
	f->ino = in.ino;
	f->offset = 0;
	f->generation = files_generation();
	__atomic_store_n(&f->state, FILE_OPEN, __ATOMIC_RELEASE);
	return FD_FIRST_FILE + slot;
}

int _stat(const char *path, struct stat *st)
{
	if (!libc_files)
		return fail(ENOENT);
	struct libc_file_info in;
	int r = libc_files->open(path, 0, 0, &in);
	if (r < 0)
		return fail(-r);
	info_to_stat(&in, st);
	return 0;
}

int fsync(int fd)
{
	struct open_file *f = file_take(fd);
	if (!f)
		return fail(EBADF);
	int r = stale(f) ? -ESTALE : libc_files->fsync(f->ino);
	file_give(f);
	return r < 0 ? fail(-r) : 0;
}

int ftruncate(int fd, off_t size)
{
	struct open_file *f = file_take(fd);
	if (!f)
		return fail(EBADF);
	int r = (f->flags & O_ACCMODE) == O_RDONLY ? -EBADF
	        : size < 0                          ? -EINVAL
	        : stale(f)                          ? -ESTALE
	                                            : libc_files->truncate(f->ino, (uint64_t)size);
	file_give(f);
	return r < 0 ? fail(-r) : 0;
}

int truncate(const char *path, off_t size)
{
	if (!libc_files)
		return fail(ENOENT);
	if (size < 0)
		return fail(EINVAL);
	struct libc_file_info in;
	int r = libc_files->open(path, 0, 0, &in);
	if (r >= 0)
		r = S_ISDIR(in.mode) ? -EISDIR : libc_files->truncate(in.ino, (uint64_t)size);
	return r < 0 ? fail(-r) : 0;
}

/* POSIX's sync has no result: a failure is only the fs server's to tell */
void sync(void)
{
	if (libc_files)
		(void)libc_files->sync();
}

int mkdir(const char *path, mode_t mode)
{
	if (!libc_files)
		return fail(ENOENT);
	int r = libc_files->mkdir(path, mode);
	return r < 0 ? fail(-r) : 0;
}

int rmdir(const char *path)
{
	if (!libc_files)
		return fail(ENOENT);
	int r = libc_files->rmdir(path);
	return r < 0 ? fail(-r) : 0;
}

/* newlib's own rename() is link and unlink, which ext2's directories
 * could do but fs.idl has one rename: so it is defined here. */
int rename(const char *from, const char *to)
{
	if (!libc_files)
		return fail(ENOENT);
	int r = libc_files->rename(from, to);
	return r < 0 ? fail(-r) : 0;
}

int _link(const char *old, const char *new)
{
	(void)old;
	(void)new;
	return fail(ENOSYS);
}

int _unlink(const char *path)
{
	if (!libc_files)
		return fail(ENOENT);
	int r = libc_files->unlink(path);
	return r < 0 ? fail(-r) : 0;
}

/* --- processes: one program, no signals, no fork/exec ------------------- */

pid_t _getpid(void)
{
	return 1;
}

/* Signals come with the supervisor's process protocol (servers/init). */
int _kill(pid_t pid, int sig)
{
	(void)pid;
	(void)sig;
	return fail(EINVAL);
}

/* Programs are started from images (process_spawn), not forked. */
pid_t _fork(void)
{
	return fail(ENOSYS);
}

int _execve(const char *path, char *const argv[], char *const envp[])
{
	(void)path;
	(void)argv;
	(void)envp;
	return fail(ENOSYS);
}

pid_t _wait(int *status)
{
	(void)status;
	return fail(ECHILD);
}

/* newlib's exit() runs atexit functions and flushes stdio, then comes here. */
void _exit(int status)
{
	program_exit(status);
	for (;;)
		sys_tcb_suspend(CAP_ROOT_TCB);
}

/* --- time: no clock in the ABI yet (a timer service brings one) --------- */

clock_t _times(struct tms *buf)
{
	(void)buf;
	return (clock_t)fail(ENOSYS);
}

int _gettimeofday(struct timeval *tv, void *tz)
{
	(void)tv;
	(void)tz;
	return fail(ENOSYS);
}

/* --- the heap ------------------------------------------------------------
 * sbrk moves a break through a region of its own, page by page backed by
 * frames retyped from the program's own untyped memory (never from a pool
 * a supervisor chose for a child).  A frame's capability does not stay in
 * the program's CNode: it moves into a small CNode of the heap's, so the
 * heap is bounded by memory, not by slots.  Pages below a break that went
 * down stay mapped and serve the next growth (memory goes back to an
 * Untyped only when whole objects die; the heap keeps it). */
#define HEAP_BASE 0x0000200000000000UL /* clear of modules, stacks, IPC buffers */
#define HEAP_SIZE (1UL << 40)          /* address space set aside: 1 TiB */
#define STORE_RADIX 6                  /* 64 slots, one page, per 63 heap pages */

static uintptr_t heap_brk = HEAP_BASE;    /* the break */
static uintptr_t heap_mapped = HEAP_BASE; /* the end of the pages behind it */
static uint64_t store;                    /* our slot for the CNode being filled */
static unsigned store_next;               /* its next free slot (0 is reserved) */

/* What the program's untyped memory has left, as the kernel counts it: an
 * upper bound of what the heap can still get. */
static uint64_t memory_left(void)
{
	const struct bootinfo *bi = libipc_bootinfo();
	uint64_t left = 0;
	for (unsigned i = 0; bi && i < bi->untyped_count; i++) {
		unsigned type, rights;
		uint64_t used, size = 1ULL << bi->untyped[i].size_bits;
		if (!bi->untyped[i].is_device && !sys_cap_identify(bi->untyped[i].slot, &type, &rights, &used) &&
		    type == OBJ_UNTYPED && used < size)
			left += size - used;
	}
	return left;
}

static long heap_page(uintptr_t vaddr)
{
	long err;
	if (!store || store_next == 1u << STORE_RADIX) {
		uint64_t cnode;
		if ((err = object_alloc(OBJ_CNODE, STORE_RADIX, &cnode)))
			return err;
		store = cnode;
		store_next = 1;
	}
	uint64_t frame;
	if ((err = page_alloc_map(vaddr, RIGHT_READ | RIGHT_WRITE, &frame)))
		return err;
	/* if the move fails the frame just stays in our CNode */
	if (sys_cnode_move(frame, store, store_next) == E_OK) {
		store_next++;
		slot_free(frame);
	}
	return E_OK;
}

void *_sbrk(ptrdiff_t incr)
{
	uintptr_t old = heap_brk;
	if (incr < 0) {
		if ((uintptr_t)-incr > old - HEAP_BASE)
			return (void *)(intptr_t)fail(EINVAL);
		heap_brk = old - (uintptr_t)-incr;
		return (void *)old;
	}
	if ((uintptr_t)incr > HEAP_BASE + HEAP_SIZE - old)
		return (void *)(intptr_t)fail(ENOMEM);
	uintptr_t end = old + (uintptr_t)incr;
	if (end > heap_mapped) {
		uintptr_t top = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		/* refuse at once what cannot fit, before it eats what is left */
		if (top - heap_mapped > memory_left())
			return (void *)(intptr_t)fail(ENOMEM);
		uint64_t pool = alloc_set_pool(0);
		long err = E_OK;
		while (heap_mapped < top && !(err = heap_page(heap_mapped)))
			heap_mapped += PAGE_SIZE;
		alloc_set_pool(pool);
		if (err)
			return (void *)(intptr_t)fail(ENOMEM);
	}
	heap_brk = end;
	return (void *)old;
}

/* --- the names newlib calls ---------------------------------------------- */
#define POSIX_NAME(name) __attribute__((alias("_" #name)))
RW_RESULT write(int fd, const void *buf, size_t len) POSIX_NAME(write);
RW_RESULT read(int fd, void *buf, size_t len) POSIX_NAME(read);
int close(int fd) POSIX_NAME(close);
int fstat(int fd, struct stat *st) POSIX_NAME(fstat);
int isatty(int fd) POSIX_NAME(isatty);
off_t lseek(int fd, off_t offset, int whence) POSIX_NAME(lseek);
int open(const char *path, int flags, ...) POSIX_NAME(open);
int stat(const char *path, struct stat *st) POSIX_NAME(stat);
int link(const char *old, const char *new) POSIX_NAME(link);
int unlink(const char *path) POSIX_NAME(unlink);
pid_t getpid(void) POSIX_NAME(getpid);
int kill(pid_t pid, int sig) POSIX_NAME(kill);
pid_t fork(void) POSIX_NAME(fork);
int execve(const char *path, char *const argv[], char *const envp[]) POSIX_NAME(execve);
pid_t wait(int *status) POSIX_NAME(wait);
clock_t times(struct tms *buf) POSIX_NAME(times);
int gettimeofday(struct timeval *tv, void *tz) POSIX_NAME(gettimeofday);
void *sbrk(ptrdiff_t incr) POSIX_NAME(sbrk);
