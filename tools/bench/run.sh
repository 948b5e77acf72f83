#!/bin/sh
# make bench: Berth's figures and Linux's, from the same QEMU settings
# (-accel tcg -cpu max -m 256M -icount shift=0), one BENCH line each, then
# a side-by-side summary.  See docs/benchmarks.md.
set -eu
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p $out
log=$out/berth-serial.log

echo "bench: Berth under QEMU -icount shift=0" >&2
status=0
QEMU_EXTRA="-icount shift=0" KERNEL_CMDLINE="" timeout 600 tools/qemu.sh --test build/kernel.bin \
	build/tests/bench/bench.elf build/tests/bench/bench_server.elf \
	build/tests/bench/bench_faulter.elf >$log 2>&1 || status=$?
# tap-style clean exit: the bench writes 0x10 to isa-debug-exit
if [ "$status" -ne 33 ]; then
	echo "bench: Berth run failed (QEMU status $status); log follows" >&2
	tail -30 $log >&2
	exit 1
fi
tr -d '\r' <$log | grep -E '^(BENCH|# berth)' >$out/berth.txt
cat $out/berth.txt

echo "bench: Linux under the same QEMU settings" >&2
tools/bench/linux-bench.sh >$out/linux.txt
cat $out/linux.txt

value() { sed -n "s/^BENCH name=$1 value=\([0-9]*\).*/\1/p" $out/berth.txt $out/linux.txt; }
echo "# side by side (guest instructions per operation; lower is better):"
printf '# %-34s %8s   %-22s %8s\n' "berth" "" "linux" ""
printf '# %-34s %8s   %-22s %8s\n' null_syscall "$(value null_syscall)" getppid "$(value linux.getppid)"
printf '# %-34s %8s   %-22s %8s\n' ipc_call_reply "$(value ipc_call_reply)" pipe_pingpong "$(value linux.pipe_pingpong)"
printf '# %-34s %8s   %-22s %8s\n' ipc_call_reply_slowpath "$(value ipc_call_reply_slowpath)" "" ""
printf '# %-34s %8s   %-22s %8s\n' fault_roundtrip "$(value fault_roundtrip)" page_fault "$(value linux.page_fault)"
printf '# %-34s %8s   %-22s %8s\n' fault_roundtrip_alloc "$(value fault_roundtrip_alloc)" "" ""
