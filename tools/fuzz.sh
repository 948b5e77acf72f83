#!/bin/sh
# make fuzz: the long run of the kernel fuzzer (tests/system/fuzz.c,
# docs/reliability.md).  Boots the self-check kernel once per seed, two at
# a time, and counts a kernel failure for any run that does not end
# cleanly with every TAP line ok (a panic, a self-check violation, a
# triple fault, a hang).
#   FUZZ_SEEDS   seeds 1..N (default 40)
#   FUZZ_FIRST   first seed (default 1)
#   FUZZ_CALLS   calls per seed (default 250000)
#   FUZZ_SELFCHECK  the self-check on every Nth kernel exit (default 16)
#   FUZZ_TIMEOUT seconds per seed (default 900)
set -u
build=${BUILD:-build}
seeds=${FUZZ_SEEDS:-40}
first=${FUZZ_FIRST:-1}
calls=${FUZZ_CALLS:-250000}
check=${FUZZ_SELFCHECK:-16}
limit=${FUZZ_TIMEOUT:-900}
logs=$build/fuzz-logs
mkdir -p "$logs"
rm -f "$logs"/seed-*.log
# the binaries under test, copied so a rebuild during the run changes nothing
cp "$build/kernel-check.bin" "$logs/kernel.bin" && cp "$build/tests/system/fuzz.elf" "$logs/fuzz.elf" || exit 1

run_seed() {
	seed=$1
	log=$logs/seed-$seed.log
	KERNEL_CMDLINE="fuzz_seed=$seed fuzz_calls=$calls selfcheck=$check" \
		timeout "$limit" tools/qemu.sh --test "$logs/kernel.bin" "$logs/fuzz.elf" \
		>"$log" 2>&1 </dev/null
	code=$?
	made=$(sed -n 's/^# fuzz: \([0-9]*\) calls.*/\1/p' "$log")
	if [ "$code" -eq 33 ] && ! grep -q '^not ok' "$log"; then
		echo "seed $seed: ok, ${made:-?} calls"
	else
		echo "seed $seed: FAILED (QEMU status $code; see $log)"
		grep -E '^not ok|selfcheck:|KERNEL|PANIC' "$log" | head -5 | sed 's/^/    /'
	fi
}

echo "fuzz: seeds $first..$((first + seeds - 1)), $calls calls each, self-check every $check exits"
start=$(date +%s)
seed=$first
last=$((first + seeds - 1))
while [ "$seed" -le "$last" ]; do
	run_seed "$seed" &
	if [ $((seed + 1)) -le "$last" ]; then
		run_seed $((seed + 1)) &
	fi
	wait
	seed=$((seed + 2))
done > "$logs/summary.txt"
cat "$logs/summary.txt"
failed=$(grep -c FAILED "$logs/summary.txt")
total=$(sed -n 's/.*ok, \([0-9]*\) calls/\1/p' "$logs/summary.txt" | awk '{ s += $1 } END { print s + 0 }')
echo "fuzz: $seeds seeds, $total calls, $failed kernel failures, $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ]
