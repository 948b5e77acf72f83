#!/bin/sh
# The two C libraries side by side (make bench, docs/libc.md): every server
# and the benchmark built with newlib and with picolibc, each build in its
# own directory (the Makefile's BUILD for LIBC=...).  Prints
#   BENCH name=libc_LIB_size_SERVER value=BYTES unit=bytes   (text + data of each server's ELF)
#   BENCH name=libc_LIB_WHAT value=N unit=instructions       (tests/bench/libc_bench.c under
#                                                            -icount shift=0: instructions per operation)
# then a table of the two, and draws docs/figures/libc.png (gnuplot).
# Nothing here runs under Linux: the figures compare the two libraries on
# Berth, the choice the default is made by.
set -eu
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p $out
servers="init serial shell rtc pci virtio_blk fs virtio_net net httpd vmm"
default=$(sed -n 's/^LIBC_DEFAULT := //p' Makefile)
build_of() { if [ "$1" = "$default" ]; then echo build; else echo "build-$1"; fi; }

: >$out/libc.txt
for lib in newlib picolibc; do
	b=$(build_of $lib)
	echo "bench: the C library $lib ($b/)" >&2
	make -s --no-print-directory LIBC=$lib all $b/tests/bench/libc_bench.elf >&2
	for s in $servers; do
		size $b/$s.elf | awk -v n="libc_${lib}_size_$s" 'NR == 2 { print "BENCH name=" n " value=" $1 + $2 " unit=bytes" }'
	done >>$out/libc.txt
	status=0
	QEMU_EXTRA="-icount shift=0" KERNEL_CMDLINE="" timeout 600 tools/qemu.sh --test $b/kernel.bin \
		$b/tests/bench/libc_bench.elf >$out/libc-$lib.log 2>&1 || status=$?
	if [ "$status" -ne 33 ]; then
		echo "bench: the $lib run failed (QEMU status $status); log follows" >&2
		tail -20 $out/libc-$lib.log >&2
		exit 1
	fi
	tr -d '\r' <$out/libc-$lib.log | grep -E '^BENCH name=libc_' >>$out/libc.txt
done
cat $out/libc.txt

value() { sed -n "s/^BENCH name=$1 value=\([0-9.]*\).*/\1/p" $out/libc.txt; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }'; }
echo "# the C libraries (bytes of text + data per server; instructions per operation, -icount shift=0):"
printf '# %-22s %10s %10s %18s\n' "" newlib picolibc "picolibc / newlib"
: >$out/libc-chart.dat
for s in $servers; do
	n=$(value libc_newlib_size_$s) p=$(value libc_picolibc_size_$s)
	printf '# %-22s %10s %10s %18s\n' "size_$s" "$n" "$p" "$(ratio "$n" "$p")"
	echo "size_$s $(ratio "$n" "$p")" >>$out/libc-chart.dat
done
for f in snprintf_int snprintf_float printf_line memcpy_16 memcpy_256 memcpy_4k memcpy_64k memcpy_1m; do
	n=$(value libc_newlib_$f) p=$(value libc_picolibc_$f)
	printf '# %-22s %10s %10s %18s\n' "$f" "$n" "$p" "$(ratio "$n" "$p")"
	echo "$f $(ratio "$n" "$p")" >>$out/libc-chart.dat
done

# the chart: picolibc's figure over newlib's, one bar each (below 1: picolibc smaller or faster)
if command -v gnuplot >/dev/null 2>&1; then
	mkdir -p docs/figures
	gnuplot <<EOF
set terminal pngcairo size 900,420 noenhanced
set output 'docs/figures/libc.png'
set title 'picolibc / newlib on Berth: server size (text + data) and instructions per operation (-icount shift=0)'
set style data histograms
set style fill solid 0.7
set boxwidth 0.8
set xtics rotate by -40 font ',9'
set ylabel 'picolibc / newlib (below 1: picolibc better)' font ',9'
set yrange [0:*]
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
plot '$out/libc-chart.dat' using 2:xtic(1) title ''
EOF
	echo "bench: chart in docs/figures/libc.png" >&2
fi
