# make test boots a third kernel: the same sources with the self-check
# built in (kernel/selfcheck.c, docs/kernel-objects.md).  make run and
# make bench use build/kernel.bin, which does not contain it.
$(eval $(call kernel_variant,kcheck,kernel-check,-DBERTH_SELFCHECK,selfcheck))
