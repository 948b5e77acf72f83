/* The system-call layer of the C library (newlib) on Berth.
 *
 * newlib is built for the bare-metal target x86_64-elf with the system
 * calls left to the operating system (tools/setup-newlib.sh).  For that
 * target it calls them by their POSIX names (write, sbrk, ...; newlib's
 * MISSING_SYSCALL_NAMES), so each function here is defined under the
 * underscore name of newlib's porting interface and given the POSIX name
 * as an alias.
 *
 * What exists: descriptors 0, 1 and 2 on the console (console hooks
 * below), a heap, exit.  What does not exist yet fails with an errno and
 * says what will bring it; nothing pretends to succeed.
 *
 * Not thread-safe: newlib's locks are the default empty ones and the heap
 * has no lock; threads that use the C library at the same time need them
 * first. */
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

void program_exit(int code); /* start.c */

/* --- errno ---------------------------------------------------------------
 * newlib's errno is per reentrancy structure: the errno macro is
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
 * Only 0 (read), 1 and 2 (write), on the console, until the file-system
 * server brings files and open() gives more. */
static unsigned std_open = 7; /* bit fd set: fd is open */

static int is_std(int fd)
{
	return fd >= 0 && fd <= 2 && (std_open & (1u << fd));
}

int _write(int fd, const void *buf, size_t len)
{
	if (!is_std(fd) || fd == 0)
		return fail(EBADF);
	if (len > INT_MAX)
		len = INT_MAX;
	if (!len)
		return 0;
	long n = libc_console_write(buf, len);
	return n < 0 ? fail((int)-n) : (int)n;
}

int _read(int fd, void *buf, size_t len)
{
	if (!is_std(fd) || fd != 0)
		return fail(EBADF);
	if (len > INT_MAX)
		len = INT_MAX;
	if (!len)
		return 0;
	long n = libc_console_read(buf, len);
	return n < 0 ? fail((int)-n) : (int)n;
}

int _close(int fd)
{
	if (!is_std(fd))
		return fail(EBADF);
	std_open &= ~(1u << fd);
	return 0;
}

/* The console is a terminal: a character device that cannot seek. */
int _fstat(int fd, struct stat *st)
{
	if (!is_std(fd))
		return fail(EBADF);
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | (fd ? S_IWUSR : S_IRUSR);
	st->st_nlink = 1;
	return 0;
}

int _isatty(int fd)
{
	if (!is_std(fd)) {
		fail(EBADF);
		return 0;
	}
	return 1;
}

off_t _lseek(int fd, off_t offset, int whence)
{
	(void)offset;
	(void)whence;
	return fail(is_std(fd) ? ESPIPE : EBADF);
}

/* --- files: none until the file-system server (servers/fs, ext2) -------- */

int _open(const char *path, int flags, ...)
{
	(void)path;
	(void)flags;
	return fail(ENOENT);
}

int _stat(const char *path, struct stat *st)
{
	(void)path;
	(void)st;
	return fail(ENOENT);
}

int _link(const char *old, const char *new)
{
	(void)old;
	(void)new;
	return fail(ENOSYS);
}

int _unlink(const char *path)
{
	(void)path;
	return fail(ENOSYS);
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
int write(int fd, const void *buf, size_t len) POSIX_NAME(write);
int read(int fd, void *buf, size_t len) POSIX_NAME(read);
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
