/* The C library used by several threads at once (docs/libc.md): each
 * thread has its own thread-local storage (initial values, zeroed .tbss)
 * and, under picolibc, its own errno, which a failing call in another
 * thread never changes; malloc and stdout are shared under the locks libipc
 * gives the library (lock.c).  The threads yield in the middle of each step
 * and the timer preempts them, so their steps interleave.
 *
 * stdout goes through a console hook that keeps a copy of every write: the
 * lines of four threads printing at once must each come out whole, and
 * while one thread holds stdout (flockfile) and sleeps, no other line may
 * come between its two lines.  Under newlib errno is one per process
 * (newlib is built without per-thread reentrancy structures): those checks
 * are skipped there and say so. */
// test-expect: libc_threads: thread 3 line 19
// test-timeout: 120
#include "tap.h"
#include <libipc/ipc.h>
#include <libipc/tls.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 20
#define PRIO 100

#ifdef __PICOLIBC__
#define ERRNO_PER_THREAD 1
#else
#define ERRNO_PER_THREAD 0
/* this newlib has no flockfile: its own lock of a stream (<sys/stdio.h>) */
#define flockfile _flockfile
#define funlockfile _funlockfile
#endif

static __thread int tls_value = 7;       /* .tdata */
static __thread char tls_zeroes[40];     /* .tbss */

struct worker {
	int tls_initial;       /* tls_value and tls_zeroes as the thread found them */
	int errno_kept;        /* rounds its errno stayed its own */
	int errno_from_call;   /* rounds a failing call set this thread's errno as it should */
	int heap_intact;       /* rounds its blocks kept their pattern */
	int tls_kept;          /* rounds tls_value stayed its own */
	volatile int done;
};
static struct worker workers[THREADS];
static uint8_t stacks[THREADS][16384] __attribute__((aligned(16)));

/* --- stdout's copy -------------------------------------------------------- */
static char captured[32768];
static unsigned long captured_len;
extern long (*libc_console_write)(const char *buf, size_t len);
static long (*console_write)(const char *buf, size_t len);

/* Called under stdout's lock; the copy is made atomically all the same,
 * so a write that came without the lock would still be caught whole or
 * cut, never lost. */
static long capture(const char *buf, size_t len)
{
	unsigned long at = __atomic_fetch_add(&captured_len, len, __ATOMIC_RELAXED);
	if (at < sizeof(captured))
		memcpy(captured + at, buf, len < sizeof(captured) - at ? len : sizeof(captured) - at);
	return console_write(buf, len);
}

static int check_pattern(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(v + i))
			return 0;
	return 1;
}

static void worker_main(uint64_t arg)
{
	int me = (int)arg;
	struct worker *w = &workers[me];
	int zero = 1;
	for (size_t i = 0; i < sizeof(tls_zeroes); i++)
		zero &= tls_zeroes[i] == 0;
	w->tls_initial = tls_value == 7 && zero;
	for (int r = 0; r < ROUNDS; r++) {
		/* errno: a value of our own survives the others' rounds */
		tls_value = 1000 * me + r;
		errno = 100 + 10 * me + r;
		sys_yield();
		w->errno_kept += errno == 100 + 10 * me + r;
		/* a failing call sets our errno, and only ours */
		int want;
		if (me % 2) {
			want = EBADF;
			(void)write(57, "x", 1);
		} else {
			want = ENOMEM;
			free(malloc((size_t)1 << 50)); /* null: free does nothing */
		}
		sys_yield();
		w->errno_from_call += errno == want;
		w->tls_kept += tls_value == 1000 * me + r;

		/* the heap: blocks of different sizes, a pattern each */
		size_t n = 64 + (size_t)(me * 977 + r * 131) % 6000;
		uint8_t *a = malloc(n), *b = malloc(n / 2 + 1);
		if (a && b) {
			for (size_t i = 0; i < n; i++)
				a[i] = (uint8_t)(me * 16 + r + i);
			for (size_t i = 0; i < n / 2 + 1; i++)
				b[i] = (uint8_t)(me * 16 + r + 1 + i);
			sys_yield();
			a = realloc(a, n * 2);
			w->heap_intact += a && check_pattern(a, n, (uint8_t)(me * 16 + r)) &&
			                  check_pattern(b, n / 2 + 1, (uint8_t)(me * 16 + r + 1));
		}
		free(a);
		free(b);

		printf("libc_threads: thread %d line %d\n", me, r);
		if (me == 0 && r == ROUNDS / 2) {
			/* hold stdout across a sleep: the others must wait for it */
			flockfile(stdout);
			printf("libc_threads: holding stdout\n");
			/* on its own port: clock_nap's is the main thread's */
			struct msg m;
			sys_notify_after(thread_wake_port(), 1, 5);
			ipc_recv(thread_wake_port(), 0, &m);
			printf("libc_threads: letting stdout go\n");
			funlockfile(stdout);
		}
	}
	fflush(stdout);
	w->done = 1;
}

/* Every line in the copy is one of ours, whole; each thread's in order;
 * nothing between the holder's two lines. */
static void check_output(void)
{
	int next[THREADS] = { 0 };
	int whole = 1, ordered = 1, held_alone = 0, holding = 0, lines = 0;
	char *line = captured, *end = captured + (captured_len < sizeof(captured) ? captured_len : sizeof(captured));
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			break;
		*nl = 0;
		int t, r;
		char tail;
		if (!strcmp(line, "libc_threads: holding stdout")) {
			holding = 1;
		} else if (!strcmp(line, "libc_threads: letting stdout go")) {
			held_alone = holding == 1;
			holding = 0;
		} else if (sscanf(line, "libc_threads: thread %d line %d%c", &t, &r, &tail) == 2 && t >= 0 &&
		           t < THREADS) {
			lines++;
			ordered &= r == next[t]++;
			if (holding)
				holding = 2; /* someone else's line while stdout was held */
		} else {
			whole = 0;
			debug_printf("libc_threads: a line cut or mixed: '%s'\n", line);
		}
		line = nl + 1;
	}
	tap_ok(captured_len < sizeof(captured), "stdout's copy holds all of it (%lu bytes)", captured_len);
	tap_eq(lines, THREADS * ROUNDS, "every thread's every line came out");
	tap_ok(whole, "no line cut or mixed with another");
	tap_ok(ordered, "each thread's lines in its own order");
	tap_ok(held_alone, "no other line while one thread held stdout (flockfile) and slept");
}

int main(void)
{
	tap_plan(14);
	console_write = libc_console_write;
	libc_console_write = capture;
	setvbuf(stdout, NULL, _IOLBF, 256);

	/* the system call the TLS areas rest on refuses what is not a user
	 * address: the kernel loads FS base with it (WRMSR) */
	uint64_t spare;
	long err = object_alloc(OBJ_TCB, 0, &spare);
	tap_ok(!err && sys_tcb_set_fs_base(spare, 0x8000000000000000UL) == E_BAD_ADDRESS &&
	               sys_tcb_set_fs_base(spare, 0xffff800000001000UL) == E_BAD_ADDRESS &&
	               sys_tcb_set_fs_base(spare, 0x0000800000000000UL) == E_BAD_ADDRESS,
	       "SYS_TCB_SET_FS_BASE: a kernel or non-canonical base is E_BAD_ADDRESS");
	tap_ok(!err && sys_tcb_set_fs_base(spare, 0) == E_OK && sys_tcb_set_fs_base(spare, 0x7fff0000UL) == E_OK &&
	               sys_tcb_set_fs_base(CAP_ROOT_CNODE, 0x7fff0000UL) == E_WRONG_TYPE,
	       "SYS_TCB_SET_FS_BASE: 0 and a user address are taken; a CNode is E_WRONG_TYPE");

	tls_value = 1; /* the main thread's own: the workers start from 7 */
	int made = 1;
	for (int i = 0; i < THREADS; i++)
		made &= thread_create(worker_main, (uint64_t)i, stacks[i], sizeof(stacks[i]), PRIO, 0) == E_OK;
	tap_ok(made, "%d threads at one priority", THREADS);
	int done = 0;
	for (int waited = 0; made && done < THREADS && waited < 3000; waited++) {
		clock_nap(1);
		done = 0;
		for (int i = 0; i < THREADS; i++)
			done += workers[i].done;
	}
	tap_eq(done, THREADS, "all of them finished");
	libc_console_write = console_write;

	int tls_initial = 1, tls_kept = 1, heap = 1, errno_kept = 1, errno_call = 1;
	for (int i = 0; i < THREADS; i++) {
		tls_initial &= workers[i].tls_initial;
		tls_kept &= workers[i].tls_kept == ROUNDS;
		heap &= workers[i].heap_intact == ROUNDS;
		errno_kept &= workers[i].errno_kept == ROUNDS;
		errno_call &= workers[i].errno_from_call == ROUNDS;
	}
	tap_ok(tls_initial, "each thread's TLS starts from the image: an initial value, zeroes");
	tap_ok(tls_kept && tls_value == 1, "each thread's thread-local variable stays its own");
	tap_ok(heap, "malloc, realloc and free from all threads at once: every block intact");
	if (ERRNO_PER_THREAD) {
		tap_ok(errno_kept, "each thread's errno stays its own while the others set theirs");
		tap_ok(errno_call, "a failing call sets the caller's errno (EBADF, ENOMEM), no other's");
	} else {
		tap_ok(1, "# SKIP newlib has one errno per process: errno of each thread");
		tap_ok(1, "# SKIP newlib has one errno per process: errno set by failing calls");
	}
	check_output();
	tap_done();
}
