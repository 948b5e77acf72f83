#!/bin/sh
# The hostile-guest fuzzer, long mode: tools/fuzz-guests.sh [SECONDS [EVERY]]
# (make fuzz-guests).  Boots init with tests/system/manifests/guest_fuzz.manifest
# as `make test` does, but lets tests/system/guest_fuzz.c run SECONDS
# (default 900) and kill the fuzzer's VMM every EVERY seconds (default 5);
# then prints the figures: fuzzer VMs (seeds), VM exits, wall time, and
# whether the host, init and the ticker VM came through.  The full log is
# build/fuzz-guests.log.
set -eu
secs=${1:-900}
every=${2:-5}
b=build
log=$b/fuzz-guests.log
man=$b/fuzz-guests.manifest
sed "s/args secs=[0-9]* every=[0-9]*/args secs=$secs every=$every/" \
	tests/system/manifests/guest_fuzz.manifest > "$man"
start=$(date +%s)
KERNEL_CMDLINE=svmcount tools/qemu.sh --test $b/kernel.bin $b/init.elf "$man" $b/serial.elf $b/vmm.elf \
	$b/tests/guests/progs/fuzz.bin $b/tests/guests/progs/ticker.bin \
	$b/tests/system/guest_fuzz.elf > "$log" 2>&1 &
qemu=$!
# the driver ends by printing its last line; give it its time and a minute
deadline=$((start + secs + 60))
why="the deadline passed"
while [ "$(date +%s)" -lt $deadline ]; do
	if ! kill -0 $qemu 2>/dev/null; then why="QEMU ended by itself"; break; fi
	if grep -q '^guest-fuzz: done' "$log"; then why="the driver finished"; break; fi
	sleep 2
done
echo "fuzz-guests: stopped because $why (this script is pid $$)"
sleep 2   # let the ticker print once more after the driver's last line
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
end=$(date +%s)
seeds=$(grep -c '^\[f\] fuzz: seed' "$log" || true)
exits=$(grep -o '^berth: svm: [0-9]* exits' "$log" | tail -1 | awk '{print $3}')
runs=$(grep -o '^\[f\] fuzz: [0-9]* runs' "$log" | awk '{s += 0} END {print NR}')
failed=$(grep -c '^not ok' "$log" || true)
passed=$(grep -c '^ok' "$log" || true)
panic=$(grep -c 'KERNEL PANIC' "$log" || true)
echo "fuzz-guests: $secs s of fuzzing, $((end - start)) s wall time"
echo "fuzz-guests: $seeds fuzzer VMs (one seed each), at least ${exits:-0} VM exits (the kernel's count, in steps of 10000)"
echo "fuzz-guests: stops of fuzzer VMs by reason:"
grep -o 'vmm: guest stopped: [^0-9]*' "$log" | sort | uniq -c | sort -rn | sed 's/^/  /' || true
echo "fuzz-guests: driver checks $passed passed, $failed failed; kernel panics: $panic"
grep -q '^guest-fuzz: done' "$log" && [ "$failed" -eq 0 ] && [ "$panic" -eq 0 ] && [ "$passed" -eq 5 ]
