# The C library of user programs: newlib or picolibc, chosen with
# LIBC=newlib|picolibc (the Makefile sets LIBC and BUILD; docs/libc.md).
# tools/setup-newlib.sh and tools/setup-picolibc.sh build them from
# Debian's sources into cache/newlib/ and cache/picolibc/ (never into the
# tree); each one's stamp says it is there.  The kernel never sees any of this.

LIBGCC := $(shell $(CC) -print-libgcc-file-name)

ifeq ($(LIBC),picolibc)
LIBC_DIR   := cache/picolibc/install
LIBC_STAMP := cache/picolibc/stamp
LIBC_LIBS  := $(LIBC_DIR)/lib/libc.a $(LIBC_DIR)/lib/libm.a
$(LIBC_STAMP): tools/setup-picolibc.sh
	@tools/setup-picolibc.sh
else
LIBC_DIR   := cache/newlib/install/x86_64-elf
LIBC_STAMP := cache/newlib/stamp
LIBC_LIBS  := $(LIBC_DIR)/lib/libc.a $(LIBC_DIR)/lib/libm.a
$(LIBC_STAMP): tools/setup-newlib.sh
	@tools/setup-newlib.sh
endif

# the library's headers, then gcc's own (stddef.h, stdarg.h, ...), never the
# host's C library headers.
USER_INC  := -nostdinc -isystem $(LIBC_DIR)/include -idirafter $(shell $(CC) -print-file-name=include)
# One group: libc calls the system-call layer in libipc (write, sbrk, ...)
# and its locks (lock.c), libipc calls libc (memcpy, vsniprintf, ...), both
# may need libgcc.  libipc comes first and -u takes its system calls and
# locks in before the library is searched: both libraries carry empty locks
# (and picolibc its own sbrk) that must not win.
USER_LIBS := -Wl,-u,__retarget_lock_acquire_recursive -Wl,-u,_write \
	-Wl,--start-group $(BUILD)/libipc.a $(LIBC_LIBS) $(LIBGCC) -Wl,--end-group

# Headers must be installed before any user object compiles; programs link
# again when the library was rebuilt.  Explicit lists from the Makefile's source
# lists, as a pattern rule without a recipe adds no prerequisites.  (mk/
# files that build other user programs order their objects the same way.)
LIBC_USERS := $(LIBIPC_OBJ) $(SYSTEST_LIB) \
	$(patsubst %,$(BUILD)/%.o,$(SYSTEST_SRC) $(PROG_SRC) $(BENCH_SRC))
$(LIBC_USERS): | $(LIBC_STAMP)
$(BUILD)/init.elf $(SYSTEST_ELF) $(PROG_ELF) $(BENCH_ELF): $(LIBC_STAMP)
