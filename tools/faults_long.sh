#!/bin/sh
# The campaign's long run, in chunks that survive a stop:
#   tools/faults_long.sh DIR [PER_TARGET [SEED [CHUNK [BOOTS]]]]
# Each chunk is one boot of tools/faults.sh with CHUNK injections per
# target (default 200) and from= advancing, so that chunk after chunk is
# the same run that one boot of PER_TARGET injections (default 10000) of
# seed SEED (default 1) would be: each injection is drawn from the seed,
# the target and its index.  BOOTS says which boots take turns, a chunk
# each (default "servers linux": the servers' boot, then the VMM of a
# running Linux guest); two of this script may run at once on one DIR
# with one boot each.  A chunk whose run found no failure (its .out says
# so) is done; run
# again, this script goes on from the first chunk that is not, so a stop
# of the machine loses at most the chunks under way.  A failure stops the
# run, with faults.sh's replay line.  tools/faults_report.py --dir DIR
# sums the chunks' figures.  DIR/BOOT.run keeps a boot's settings, which a
# resumed run must repeat.
set -eu
dir=${1:?usage: tools/faults_long.sh DIR [PER_TARGET [SEED [CHUNK [BOOTS]]]]}
total=${2:-10000}
seed=${3:-1}
chunk=${4:-200}
boots=${5:-servers linux}
mkdir -p "$dir"
want="total=$total seed=$seed chunk=$chunk"
for boot in $boots; do
	case $boot in servers|linux) ;; *) echo "faults_long: no boot '$boot' (servers, linux)" >&2; exit 2;; esac
	if [ -f "$dir/$boot.run" ]; then
		[ "$(cat "$dir/$boot.run")" = "$want" ] || {
			echo "faults_long: $dir holds a run of $(cat "$dir/$boot.run") for $boot, not $want" >&2; exit 2; }
	else
		echo "$want" > "$dir/$boot.run"
	fi
done
# the self-check on every 256th exit: it still walks the kernel's state
# thousands of times a chunk, at about half the cost of every 16th
export FAULTS_SELFCHECK=${FAULTS_SELFCHECK:-256}
done_ok() { [ -f "$1.out" ] && grep -aq '^faults: no failure' "$1.out"; }
at=0
while [ $at -lt "$total" ]; do
	to=$(( at + chunk > total ? total : at + chunk ))
	for boot in $boots; do
		log=$dir/$boot-$(printf %06d $at).log
		done_ok "$log" && continue
		echo "faults_long: $(date +%T) $boot, injections $at..$((to - 1)) per target"
		mode=
		[ "$boot" = linux ] && mode=linux
		FAULTS_LOG=$log tools/faults.sh $mode $to "$seed" "from=$at" > "$log.out" 2>&1 || {
			tail -45 "$log.out"; echo "faults_long: FAILED in $log"; exit 1; }
	done
	at=$to
done
echo "faults_long: done: $total injections per target, seed $seed, $boots, in $dir"
