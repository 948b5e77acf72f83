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

# The vmexit figures: a guest (tests/guests/progs/bench.c) under init, the
# console driver and one VMM.  Nothing inside ends the run, so we stop QEMU
# once the VMM says the guest exited.
run_vm() { # kernel qemu-extra log
	# Empty the log first: QEMU's redirection happens in the background
	# job, and the wait below must not find the last run's "guest exited"
	# in the old log (it did, and the figures were the last run's)
	: >"$3"
	QEMU_EXTRA="$2" KERNEL_CMDLINE="" tools/qemu.sh --test "$1" build/init.elf \
		tests/bench/vm_bench.manifest build/serial.elf build/vmm.elf \
		build/tests/guests/progs/bench.bin >"$3" 2>&1 &
	qemu=$!
	n=0
	while [ $n -lt 1200 ] && ! grep -q "vmm: guest exited" "$3"; do
		sleep 0.5
		n=$((n + 1))
	done
	kill $qemu 2>/dev/null || true
	wait $qemu 2>/dev/null || true
	if ! grep -q "vmm: guest exited with status 0" "$3"; then
		echo "bench: the VM run failed; log follows" >&2
		tail -30 "$3" >&2
		exit 1
	fi
}
figure() { tr -d '\r' <"$2" | grep -E "^BENCH name=$1 " ; }

echo "bench: vmexits under -icount shift=0 (instructions), then without (ns)" >&2
run_vm build/kernel.bin "-icount shift=0" $out/vm-icount.log
run_vm build/kernel-inkernel-cpuid.bin "-icount shift=0" $out/vm-inkernel-icount.log
run_vm build/kernel.bin "" $out/vm-wall.log
run_vm build/kernel-inkernel-cpuid.bin "" $out/vm-inkernel-wall.log
{
	# the guest prints TSC ticks, which under -icount shift=0 are instructions
	for f in vmexit_cpuid vmexit_pio vmexit_mmio; do figure $f $out/vm-icount.log; done |
		sed 's/unit=tsc_ticks/unit=instructions/'
	figure vmexit_cpuid $out/vm-inkernel-icount.log |
		sed 's/name=vmexit_cpuid /name=vmexit_cpuid_inkernel /; s/unit=tsc_ticks/unit=instructions/'
	for f in vmexit_cpuid_ns vmexit_pio_ns vmexit_mmio_ns; do figure $f $out/vm-wall.log; done
	figure vmexit_cpuid_ns $out/vm-inkernel-wall.log | sed 's/name=vmexit_cpuid_ns /name=vmexit_cpuid_inkernel_ns /'
} >$out/vm.txt
cat $out/vm.txt
cat $out/vm.txt >>$out/berth.txt

# The file-system figures: tests/bench/fs_bench.c on the fs server, the
# virtio-blk driver and the PCI server, on a fresh ext2 image; it ends the
# run itself (isa-debug-exit).
echo "bench: the file system (fs server, virtio-blk driver) under -icount shift=0" >&2
/sbin/mke2fs -q -F -t ext2 $out/fs-bench.img 64M >/dev/null 2>&1
status=0
QEMU_EXTRA="-icount shift=0 -drive if=none,id=da,format=raw,file=$out/fs-bench.img \
-device virtio-blk-pci,disable-legacy=on,drive=da,addr=4" KERNEL_CMDLINE="" timeout 900 \
	tools/qemu.sh --test build/kernel.bin build/init.elf tests/bench/fs_bench.manifest build/rtc.elf \
	build/pci.elf build/virtio_blk.elf build/fs.elf build/tests/bench/fs_bench.elf >$out/fs-berth.log 2>&1 ||
	status=$?
if [ "$status" -ne 33 ] || ! /sbin/e2fsck -fn $out/fs-bench.img >/dev/null 2>&1; then
	echo "bench: the file-system run failed (QEMU status $status, or e2fsck -fn unhappy); log follows" >&2
	tail -30 $out/fs-berth.log >&2
	exit 1
fi
tr -d '\r' <$out/fs-berth.log | grep -E '^BENCH name=fs_' >$out/fs.txt
cat $out/fs.txt
cat $out/fs.txt >>$out/berth.txt

# The guest-I/O figures: a Linux guest's virtio-blk disk under Berth (a
# file of the fs server) and under bare QEMU (tools/bench/guest-io-bench.sh)
echo "bench: a Linux guest's disk under Berth and under bare QEMU" >&2
tools/bench/guest-io-bench.sh >$out/guest-io.txt
cat $out/guest-io.txt
cat $out/guest-io.txt >>$out/berth.txt
# and its network: TCP and HTTP served by the guest under Berth (a port
# of the network server's switch, reached through Berth's forwards) and
# under bare QEMU (its own virtio-net), wall clock
# (tools/bench/guest-net-bench.sh)
echo "bench: a Linux guest's network under Berth and under bare QEMU, wall clock" >&2
tools/bench/guest-net-bench.sh >$out/guest-net.txt
cat $out/guest-net.txt
cat $out/guest-net.txt >>$out/berth.txt
# The network figures: wall clock (no -icount: the host's side of QEMU's
# user network runs in real time), measured from the host through ports
# forwarded on 127.0.0.1 by tools/bench/net_measure.py; Berth's side
# (tests/bench/net_bench.c) prints what each transfer cost in IPC.
echo "bench: the network (httpd, TCP sink and source), wall clock" >&2
python3 tools/http_test.py image $out/www.img
base=${NET_BENCH_PORT:-18180}
QEMU_EXTRA="-drive if=none,id=dw,format=raw,file=$out/www.img -device virtio-blk-pci,disable-legacy=on,drive=dw,addr=4 \
-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$((base + 10))-:80,hostfwd=tcp:127.0.0.1:$((base + 11))-:5001,hostfwd=tcp:127.0.0.1:$((base + 12))-:5002 \
-device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5" KERNEL_CMDLINE="" timeout 900 \
	tools/qemu.sh --test build/kernel.bin build/init.elf tests/bench/net_bench.manifest build/rtc.elf \
	build/pci.elf build/virtio_blk.elf build/virtio_net.elf build/fs.elf build/net.elf build/httpd.elf \
	build/tests/bench/net_bench.elf >$out/net-berth.log 2>&1 &
qemu=$!
status=0
python3 tools/bench/net_measure.py berth $((base + 10)) $((base + 11)) $((base + 12)) >$out/net.txt || status=$?
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
if [ $status -ne 0 ]; then
	echo "bench: the network run failed; log follows" >&2
	tail -30 $out/net-berth.log >&2
	exit 1
fi
# the last round's IPC costs (each round prints them)
for f in net_rx_messages_per_frame net_rx_notifications_per_frame net_tx_messages_per_frame \
	net_tx_notifications_per_frame; do
	tr -d '\r' <$out/net-berth.log | grep -E "^BENCH name=$f " | tail -n 1
done >>$out/net.txt
cat $out/net.txt
cat $out/net.txt >>$out/berth.txt

echo "bench: Linux under the same QEMU settings" >&2
tools/bench/linux-bench.sh >$out/linux.txt
cat $out/linux.txt

tools/bench/linux-fs-bench.sh >>$out/linux.txt
tools/bench/linux-net-bench.sh >>$out/linux.txt
tail -n 7 $out/linux.txt

# KVM's side of the vmexit figures: Linux's kvm_amd on QEMU's SVM, a
# one-VCPU guest's CPUID (answered inside KVM) and OUT (handed to the
# user-space program); two boots, with and without icount
echo "bench: KVM under the same QEMU settings (Linux's kvm_amd; -icount shift=0, then wall clock)" >&2
tools/bench/linux-kvm-bench.sh >$out/linux-kvm.txt
cat $out/linux-kvm.txt
cat $out/linux-kvm.txt >>$out/linux.txt

echo "bench: the Linux guest's boot under Berth and under bare QEMU (wall clock, no icount)" >&2
tools/bench/linux_boot.py >$out/linux-boot.txt
cat $out/linux-boot.txt

echo "bench: the Linux guest with nested paging and with shadow paging (wall clock, then -icount shift=0)" >&2
tools/bench/shadow_linux.py >$out/shadow.txt
tools/bench/shadow_linux.py --icount >>$out/shadow.txt
cat $out/shadow.txt
# their table and chart in docs/teaching.md (tools/bench/shadow_linux.py --report)
tools/bench/shadow_linux.py --report $out/shadow.txt --png docs/figures/linux_paging.png \
	--docs docs/teaching.md >$out/linux_paging.txt

# The teaching guest under each mode of the VMM (make modes), its table and
# chart in docs/teaching.md
echo "bench: the teaching guest under svm, shadow, trap, patch and pv (-icount shift=0)" >&2
tools/bench/teach_modes.py --out $out/teach_modes.txt --png docs/figures/teach_modes.png --docs docs/teaching.md

echo "bench: a 128 MiB Linux guest's snapshot and restore, beside Linux's dd of 128 MiB (-icount shift=0)" >&2
tools/bench/snapshot_linux.py >$out/snapshot.txt
cat $out/snapshot.txt

echo "bench: a Linux guest moved between two Berths by live migration (wall time)" >&2
tools/bench/migrate_linux.py >$out/migrate.txt
cat $out/migrate.txt

echo "bench: four clones of an idle Linux guest: the memory their sharing saves (-icount shift=0)" >&2
tools/bench/clone_linux.py >$out/clones.txt
cat $out/clones.txt

echo "bench: two Linux guests booted apart: the pages they share by content (-icount shift=0)" >&2
tools/bench/share_linux.py >$out/share.txt
cat $out/share.txt

value() { sed -n "s/^BENCH name=$1 value=\([0-9.]*\).*/\1/p" $out/berth.txt $out/linux.txt $out/linux-boot.txt $out/shadow.txt; }
svalue() { sed -n "s/^BENCH name=$1 value=\([0-9.]*\).*/\1/p" $out/snapshot.txt; }
echo "# side by side (guest instructions per operation; lower is better):"
printf '# %-34s %8s   %-22s %8s\n' "berth" "" "linux" ""
printf '# %-34s %8s   %-22s %8s\n' null_syscall "$(value null_syscall)" getppid "$(value linux.getppid)"
printf '# %-34s %8s   %-22s %8s\n' ipc_call_reply "$(value ipc_call_reply)" pipe_pingpong "$(value linux.pipe_pingpong)"
printf '# %-34s %8s   %-22s %8s\n' ipc_call_reply_slowpath "$(value ipc_call_reply_slowpath)" "" ""
echo "# IPC scaling (instructions a call and the fast path's share of its messages; docs/benchmarks.md):"
for f in ipc_clients_1 ipc_clients_4 ipc_clients_16 ipc_clients_64 ipc_servers_64; do
	printf '# %-34s %8s   %3s%% fast\n' $f "$(value $f)" "$(value ${f}_fastpath_percent)"
done
printf '# %-34s %8s   %-22s %8s\n' fault_roundtrip "$(value fault_roundtrip)" page_fault "$(value linux.page_fault)"
printf '# %-34s %8s   %-22s %8s\n' fault_roundtrip_alloc "$(value fault_roundtrip_alloc)" "" ""
echo "# vmexits, Berth beside KVM (Linux 6.1's kvm_amd, same QEMU): instructions under icount; ns without, median of 5 rounds:"
printf '# %-26s %12s %8s   %-26s %12s %8s\n' "berth" "instructions" "ns" "linux (KVM)" "instructions" "ns"
vm_row() { # berth-figure kvm-figure kvm-label
	printf '# %-26s %12s %8s   %-26s %12s %8s\n' "$1" "${1:+$(value "$1")}" "${1:+$(value "${1}_ns")}" "${3:-}" \
		"${2:+$(value "linux.$2")}" "${2:+$(value "linux.${2}_ns")}"
}
vm_row vmexit_cpuid kvm_cpuid "kvm_cpuid (inside KVM)"
vm_row vmexit_cpuid_inkernel kvm_cpuid "kvm_cpuid (inside KVM)"
vm_row vmexit_pio kvm_pio "kvm_pio (to user space)"
vm_row "" kvm_pio_inkernel "kvm_pio_inkernel (eventfd)"
vm_row vmexit_mmio
echo "# Linux boot to /init (ms, wall clock without icount, median of 3; docs/benchmarks.md):"
printf '# %-34s %8s   %-22s %8s\n' linux_guest_boot_ms "$(value linux_guest_boot_ms)" linux_bare_qemu_boot_ms \
	"$(value linux_bare_qemu_boot_ms)"
echo "# the Linux guest, nested paging (svm) against shadow paging (docs/vmm.md; one run each):"
printf '# %-34s %14s %14s\n' "" "svm" "shadow"
for f in boot_ms boot_insns procs200_ms procs200_insns; do
	printf '# %-34s %14s %14s\n' "linux_$f" "$(value linux_svm_$f)" "$(value linux_shadow_$f)"
done
echo "# file system: 16 MiB in 64 KiB writes and reads, 1000 files of 100 bytes (same disk; docs/benchmarks.md):"
printf '# %-22s %14s %16s   %-22s %12s\n' "" "berth executed" "berth elapsed" "" "linux elapsed"
for f in fs_write_16m fs_read_16m fs_create_1000 fs_delete_1000; do
	printf '# %-22s %14s %16s   %-22s %12s\n' $f "$(value $f)" "$(value ${f}_elapsed)" "linux.$f" "$(value linux.$f)"
done
printf '# %-22s %14s   %s\n' "fs_read_4k_ipc_messages" "$(value fs_read_4k_ipc_messages)" "(per 4 KiB of that read)"
printf '# %-22s %14s\n' "fs_read_4k_space_switches" "$(value fs_read_4k_space_switches)"
echo "# network (wall clock, median of 3 rounds; Berth: httpd and net_bench, Linux: busybox httpd and nc):"
printf '# %-22s %14s   %-22s %12s\n' berth.tcp_rx_mibs "$(value berth.tcp_rx_mibs)" linux.tcp_rx_mibs "$(value linux.tcp_rx_mibs)"
printf '# %-22s %14s   %-22s %12s\n' berth.tcp_tx_mibs "$(value berth.tcp_tx_mibs)" linux.tcp_tx_mibs "$(value linux.tcp_tx_mibs)"
printf '# %-22s %14s   %-22s %12s\n' berth.http_rps "$(value berth.http_rps)" linux.http_rps "$(value linux.http_rps)"
for f in net_rx_messages_per_frame net_rx_notifications_per_frame net_tx_messages_per_frame net_tx_notifications_per_frame; do
	printf '# %-34s %6s   %s\n' $f "$(value $f)" "(hundredths, per Ethernet frame)"
done
echo "# a Linux guest's disk, 1 MiB O_DIRECT requests (guest elapsed instructions; docs/guest-io.md):"
printf '# %-34s %12s   %-28s %12s\n' "berth" "" "bare qemu" ""
for f in guest_disk_read_32m guest_disk_write_16m; do
	printf '# %-34s %12s   %-28s %12s\n' $f "$(value $f)" "qemu.$f" "$(value qemu.$f)"
done
for f in guest_disk_read_vm_entries_per_request guest_disk_read_ipc_messages_per_request \
	guest_disk_write_vm_entries_per_request guest_disk_write_ipc_messages_per_request; do
	printf '# %-44s %8s   %s\n' $f "$(value $f)" "(hundredths, per disk request on Berth)"
done
echo "# a Linux guest's network (wall clock, median of 3 rounds; docs/guest-io.md):"
printf '# %-34s %12s   %-28s %12s\n' "berth" "" "bare qemu" ""
for f in guest_tcp_rx_mibs guest_tcp_tx_mibs guest_http_rps; do
	printf '# %-34s %12s   %-28s %12s\n' $f "$(value $f)" "qemu.$f" "$(value qemu.$f)"
done
for f in guest_tcp_rx_vm_entries_per_mib guest_tcp_rx_ipc_messages_per_mib guest_tcp_tx_vm_entries_per_mib \
	guest_tcp_tx_ipc_messages_per_mib; do
	printf '# %-44s %8s   %s\n' $f "$(value $f)" "(per MiB on Berth)"
done
for f in guest_http_vm_entries_per_request guest_http_ipc_messages_per_request; do
	printf '# %-44s %8s   %s\n' $f "$(value $f)" "(hundredths, per HTTP request on Berth)"
done
echo "# a 128 MiB Linux guest's snapshot (-icount shift=0: a ms is 10^6 instructions; docs/lifecycle.md):"
printf '# %-22s %10s %12s %10s   %-22s %10s %10s\n' "" "ms" "bytes" "MiB/s" "linux, dd 128 MiB" "ms" "MiB/s"
printf '# %-22s %10s %12s %10s   %-22s %10s %10s\n' "snapshot (pause)" "$(svalue snapshot_pause_ms)" \
	"$(svalue snapshot_bytes)" "$(svalue snapshot_mibs)" "write + fsync" "$(svalue linux.dd_write_128m_ms)" \
	"$(svalue linux.dd_write_128m_mibs)"
printf '# %-22s %10s %12s %10s   %-22s %10s %10s\n' "restore" "$(svalue restore_ms)" "$(svalue snapshot_bytes)" \
	"$(svalue restore_mibs)" "read, cold cache" "$(svalue linux.dd_read_128m_ms)" "$(svalue linux.dd_read_128m_mibs)"

# The chart of the side-by-side figures that have a Linux counterpart
# measured the same way (instructions under icount), log scale
echo "bench: chart of the side-by-side figures" >&2
{
	printf '%s %s %s\n' '"kernel entry and exit\n(null syscall; getppid)"' "$(value null_syscall)" "$(value linux.getppid)"
	printf '%s %s %s\n' '"round trip, 2 processes\n(IPC call; pipe)"' "$(value ipc_call_reply)" "$(value linux.pipe_pingpong)"
	printf '%s %s %s\n' '"first touch of a page\n(pager; page fault)"' "$(value fault_roundtrip_alloc)" "$(value linux.page_fault)"
	printf '%s %s %s\n' '"VM exit to user level\n(OUT: VMM; KVM to user)"' "$(value vmexit_pio)" "$(value linux.kvm_pio)"
	printf '%s %s %s\n' '"VM exit in the kernel\n(CPUID; KVM eventfd OUT)"' "$(value vmexit_cpuid_inkernel)" \
		"$(value linux.kvm_pio_inkernel)"
} >$out/side-by-side.dat
gnuplot <<PLOT
set terminal png size 1200,520
set bmargin 4
set xrange [-0.5:4.5]
set output "$out/side-by-side.png"
set title "Berth next to Linux in the same QEMU (-icount shift=0): guest instructions per operation"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [10:*]
set ylabel "instructions (log scale)"
set key top left
set grid ytics
plot "$out/side-by-side.dat" using 2:xtic(1) title "Berth", '' using 3 title "Linux 6.1 (and its KVM)"
PLOT
echo "# chart: $out/side-by-side.png"


# The two C libraries: server sizes, printf and memcpy under each (its own
# table and docs/figures/libc.png; docs/libc.md says what they decided)
echo "bench: the C libraries, newlib and picolibc (-icount shift=0)" >&2
tools/bench/libc-bench.sh
