# newlib, the C library of user programs.  tools/setup-newlib.sh builds it
# from Debian's newlib-source into cache/newlib/ (never into the tree); the
# stamp says it is there.  The kernel never sees any of this.

NEWLIB_DIR     := cache/newlib/install/x86_64-elf
NEWLIB_STAMP   := cache/newlib/stamp
NEWLIB_LIBS    := $(NEWLIB_DIR)/lib/libc.a $(NEWLIB_DIR)/lib/libm.a
LIBGCC         := $(shell $(CC) -print-libgcc-file-name)

# newlib's headers, then gcc's own (stddef.h, stdarg.h, ...), never the
# host's C library headers.
USER_INC  := -nostdinc -isystem $(NEWLIB_DIR)/include -idirafter $(shell $(CC) -print-file-name=include)
# One group: libc calls the system-call layer in libipc (write, sbrk, ...),
# libipc calls libc (memcpy, vsniprintf, ...), both may need libgcc.
USER_LIBS := -Wl,--start-group $(NEWLIB_LIBS) $(BUILD)/libipc.a $(LIBGCC) -Wl,--end-group

$(NEWLIB_STAMP): tools/setup-newlib.sh
	@tools/setup-newlib.sh

# Headers must be installed before any user object compiles; programs link
# again when newlib was rebuilt.  Explicit lists from the Makefile's source
# lists, as a pattern rule without a recipe adds no prerequisites.  (mk/
# files that build other user programs order their objects the same way.)
NEWLIB_USERS := $(LIBIPC_OBJ) $(SYSTEST_LIB) \
	$(patsubst %,$(BUILD)/%.o,$(SYSTEST_SRC) $(PROG_SRC) $(BENCH_SRC))
$(NEWLIB_USERS): | $(NEWLIB_STAMP)
$(BUILD)/init.elf $(SYSTEST_ELF) $(PROG_ELF) $(BENCH_ELF): $(NEWLIB_STAMP)
