#!/usr/bin/env python3
"""Where KVM's exits spend their instructions: one exit of each kind of
tools/bench/linux-kvm-bench.c, single-stepped through QEMU's gdbstub.

    tools/bench/kvm_exit_profile.py [--out build/bench] [--top 25]

Sets up with `linux-kvm-bench.sh --setup`, then boots its kernel and
initramfs twice under the benchmark's QEMU (-icount shift=0) with
`nokaslr` (so the modules land at the same addresses in both boots):

1. with kvm_bench_symbols=1, for the program to print the modules' code
   sections, the kernel's text symbols and the guest addresses of the three
   timed instructions (CPUID, OUT to 0x80, OUT to the eventfd's 0x84);
2. stopped (-S) with a gdbstub on a Unix socket in --out: gdb (batch, a
   Python script written here) lets the guest reach svm_vcpu_run, then for
   each kind lets 100 iterations of the timed loop pass and steps one
   instruction at a time from the exiting instruction to the same
   instruction one iteration later, writing the program counters to
   --out/kvm-profile-{cpuid,pio,kick}.pcs.

Each counter is named by the nearest symbol below it (the kernel's from
the first boot, the modules' from their .ko files, the program's from its
own symbol table; guest addresses below 0x10000 are the guest's), and the
steps are summed by function and by part: the exit and re-entry common
to all three (the functions of the eventfd exit that are not its
handler), the virtual PMU, each exit's own handler, and the rest (the
CPUID's decoding, the trip to user space). Prints the parts, then the
busiest functions of each exit. Not part of make bench: a look inside
linux.kvm_* when they change (docs/benchmarks.md, "KVM side by side").
QEMU's single-stepping masks interrupts, so no timer tick is inside.
"""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QEMU = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "256M", "-icount", "shift=0",
        "-no-reboot", "-display", "none", "-vga", "none", "-monitor", "none",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
CMDLINE = "console=ttyS0 quiet panic=-1 nokaslr kvm_bench_clock=icount"
KINDS = ("cpuid", "pio", "kick")
SKIP = 100          # loop iterations let pass before the one stepped
MAX_STEPS = 20000   # an exit that does not come back within this is an error

# Handlers of the eventfd exit: everything else it runs is the common path.
KICK_HANDLER = {"io_interception", "kvm_fast_pio", "emulator_pio_in_out", "__kvm_io_bus_write",
                "kvm_io_bus_write", "kvm_io_bus_get_first_dev", "bsearch", "kvm_io_bus_sort_cmp",
                "ioeventfd_write", "eventfd_signal_mask", "eventfd_signal", "_raw_spin_lock_irqsave",
                "_raw_spin_unlock_irqrestore", "__srcu_read_lock", "__srcu_read_unlock"}
# The trip out of KVM_RUN and back, by what it does (the rest is the
# system call and the ioctl's dispatch).
TRIP = [
    ("the security module's ioctl check", lambda n: n.startswith(("tomoyo_", "security_", "bpf_lsm_",
                                                                   "apparmor_", "selinux_"))),
    ("the host's and the guest's FPU state swapped", lambda n: "fpregs" in n or "fpstate" in n or
     n in ("xfd_validate_state", "kvm_put_guest_fpu", "kvm_load_guest_fpu")),
    ("the VCPU put and loaded", lambda n: n in (
        "vcpu_load", "vcpu_put", "kvm_arch_vcpu_load", "kvm_arch_vcpu_put", "svm_vcpu_load",
        "svm_vcpu_put", "preempt_notifier_register", "preempt_notifier_unregister",
        "record_steal_time", "check_tsc_unstable", "kvm_set_user_return_msr",
        "svm_prepare_switch_to_guest", "kvm_sigset_activate", "kvm_sigset_deactivate", "kfree",
        "memcpy_erms", "__memcpy", "svm_vcpu_pre_run")),
    ("KVM_RUN's own entry and exit", lambda n: n in (
        "kvm_arch_vcpu_ioctl_run", "svm_interrupt_blocked", "svm_interrupt_allowed", "svm_get_if_flag",
        "kvm_vcpu_ready_for_interrupt_injection", "kvm_get_rflags", "svm_get_rflags",
        "complete_fast_pio_out", "kvm_get_linear_rip", "svm_get_segment_base",
        "kvm_service_local_tlb_flush_requests", "kvm_is_linear_rip", "emulator_pio_in_out",
        "kvm_fast_pio", "kvm_cpu_has_pending_timer", "__cond_resched")),
]

GDB_SCRIPT = r'''
import gdb
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set architecture i386:x86-64")
gdb.execute("target remote %(sock)s")
gdb.Breakpoint("*%(vcpu_run)#x")
gdb.execute("continue")
gdb.execute("delete")
def cycle(addr, name):
    bp = gdb.Breakpoint("*%%#x" %% addr)
    bp.ignore_count = %(skip)d
    gdb.execute("continue")
    bp.delete()
    pcs = []
    while True:
        gdb.execute("stepi", to_string=True)
        pc = int(gdb.parse_and_eval("$pc").cast(gdb.lookup_type("long"))) & 0xffffffffffffffff
        pcs.append(pc)
        if pc == addr or len(pcs) >= %(max)d:
            break
    with open("%(out)s/kvm-profile-%%s.pcs" %% name, "w") as f:
        f.write("".join("%%x\n" %% p for p in pcs))
%(cycles)s
gdb.execute("kill")
'''


def fail(msg):
    sys.exit("kvm_exit_profile: " + msg)


def boot_symbols(vmlinuz, initrd, log):
    """The first boot: sections, kernel symbols, guest addresses."""
    with open(log, "w") as f:
        r = subprocess.run(QEMU + ["-serial", "stdio", "-kernel", vmlinuz, "-initrd", initrd,
                                   "-append", CMDLINE + " kvm_bench_symbols=1"],
                           stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, timeout=600)
    text = open(log, errors="replace").read().replace("\r", "")
    sections = {(m, s): int(a, 16) for m, s, a in
                re.findall(r"# SECTION (\S+) (\S+) (0x[0-9a-f]+)", text)}
    ksyms = [(int(a, 16), n, "vmlinux") for a, n in
             re.findall(r"# KSYM ([0-9a-f]{16}) [tT] (\S+)", text)]
    g = re.search(r"# GUEST cpuid=(0x[0-9a-f]+) pio=(0x[0-9a-f]+) kick=(0x[0-9a-f]+)", text)
    if not sections or not ksyms or not g:
        fail("the symbol boot (QEMU status %d) printed no sections, symbols or guest "
             "addresses; see %s" % (r.returncode, log))
    if set(sections.values()) == {0}:
        fail("the module sections read as 0 (kernel pointers hidden); see " + log)
    guest = dict(zip(KINDS, (int(x, 16) for x in g.groups())))
    return sections, ksyms, guest


def module_symbols(moddir, sections):
    """Functions of kvm.ko and kvm-amd.ko at their loaded addresses."""
    syms = []
    for mod, ko in (("kvm", "arch/x86/kvm/kvm.ko"), ("kvm_amd", "arch/x86/kvm/kvm-amd.ko")):
        out = subprocess.run(["objdump", "-t", os.path.join(moddir, ko)], capture_output=True,
                             text=True, check=True).stdout
        for line in out.splitlines():
            m = re.match(r"([0-9a-f]{16}) (.{7}) (\S+)\s+[0-9a-f]+ (\S+)$", line)
            if m and "F" in m.group(2) and (mod, m.group(3)) in sections:
                syms.append((sections[(mod, m.group(3))] + int(m.group(1), 16), m.group(4), mod))
    return syms


def program_symbols(prog):
    out = subprocess.run(["nm", "-n", prog], capture_output=True, text=True, check=True).stdout
    return [(int(a, 16), n, "program") for a, t, n in
            (line.split() for line in out.splitlines() if len(line.split()) == 3) if t in "tTW"]


def step_exits(vmlinuz, initrd, out, vcpu_run, guest):
    sock = os.path.join(out, "kvm-profile-gdb.sock")
    script = os.path.join(out, "kvm-profile-gdb.py")
    for k in KINDS:
        path = os.path.join(out, "kvm-profile-%s.pcs" % k)
        if os.path.exists(path):
            os.unlink(path)
    if os.path.exists(sock):
        os.unlink(sock)
    cycles = "\n".join('cycle(%#x, "%s")' % (guest[k], k) for k in KINDS)
    with open(script, "w") as f:
        f.write(GDB_SCRIPT % dict(sock=sock, vcpu_run=vcpu_run, skip=SKIP, max=MAX_STEPS,
                                  out=out, cycles=cycles))
    log = open(os.path.join(out, "kvm-profile-serial.log"), "w")
    qemu = subprocess.Popen(QEMU + ["-serial", "stdio", "-kernel", vmlinuz, "-initrd", initrd,
                                    "-append", CMDLINE, "-S",
                                    "-gdb", "unix:%s,server=on,wait=off" % sock],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        r = subprocess.run(["gdb", "-q", "-batch", "-nx", "-x", script], capture_output=True,
                           text=True, timeout=900)
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait()
        log.close()
    pcs = {}
    for k in KINDS:
        path = os.path.join(out, "kvm-profile-%s.pcs" % k)
        if not os.path.exists(path):
            fail("gdb stepped no %s exit:\n%s" % (k, (r.stdout + r.stderr)[-2000:]))
        pcs[k] = [int(x, 16) for x in open(path).read().split()]
        if len(pcs[k]) >= MAX_STEPS:
            fail("the %s loop did not come back within %d steps" % (k, MAX_STEPS))
    return pcs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--top", type=int, default=25, help="functions listed per exit")
    args = ap.parse_args()
    os.chdir(ROOT)
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)

    setup = subprocess.run(["tools/bench/linux-kvm-bench.sh", "--setup"], stdout=subprocess.PIPE,
                           text=True)
    if setup.returncode != 0:
        fail("linux-kvm-bench.sh --setup failed")
    vmlinuz, initrd, prog, moddir = setup.stdout.split("\n")[:4]

    print("kvm_exit_profile: boot 1, symbols", file=sys.stderr)
    sections, ksyms, guest = boot_symbols(vmlinuz, initrd, os.path.join(out, "kvm-profile-symbols.log"))
    syms = sorted(ksyms + module_symbols(moddir, sections) + program_symbols(prog))
    addrs = [s[0] for s in syms]
    vcpu_run = next((a for a, n, m in syms if m == "kvm_amd" and n == "svm_vcpu_run"), None)
    if vcpu_run is None:
        fail("no svm_vcpu_run in kvm-amd.ko")

    def name(pc):
        if pc < 0x10000:
            return "guest", "(the guest's loop)"
        i = bisect.bisect_right(addrs, pc) - 1
        return (syms[i][2], syms[i][1]) if i >= 0 else ("?", "%#x" % pc)

    print("kvm_exit_profile: boot 2, single-stepping one exit of each kind", file=sys.stderr)
    pcs = step_exits(vmlinuz, initrd, out, vcpu_run, guest)
    counts = {k: collections.Counter(name(p) for p in pcs[k]) for k in KINDS}

    def part(mod, fn):
        if mod == "guest":
            return "the guest's loop"
        if fn.startswith(("kvm_pmu_", "amd_pmc_", "amd_pmu_")):
            return "the virtual PMU"
        return None
    common = {f: v for f, v in counts["kick"].items()
              if part(*f) is None and f[1] not in KICK_HANDLER}
    rows = collections.OrderedDict()
    for k in KINDS:
        parts = collections.Counter()
        for f, v in counts[k].items():
            p = part(*f)
            if p:
                parts[p] += v
                continue
            base = min(v, common.get(f, 0))
            parts["exit and re-entry (common)"] += base
            rest = v - base
            if not rest:
                continue
            if k == "kick" or f[1] in KICK_HANDLER and k != "cpuid":
                parts["the exit's handler"] += rest
            elif k == "cpuid":
                parts["the CPUID table" if "cpuid" in f[1] else "decoding the CPUID"] += rest
            elif f[0] == "program":
                parts["trip: the program's loop"] += rest
            else:
                what = next((w for w, test in TRIP if test(f[1])), "the system call and ioctl dispatch")
                parts["trip: " + what] += rest
        rows[k] = parts
    names = {"cpuid": "kvm_cpuid", "pio": "kvm_pio", "kick": "kvm_pio_inkernel"}
    order = ["kick", "cpuid", "pio"]
    labels = []
    for k in order:
        for p in rows[k]:
            if p not in labels:
                labels.append(p)
    print("# instructions single-stepped per exit, by part (linux.%s, %s, %s):" %
          tuple(names[k] for k in order))
    print("%-52s %17s %10s %10s" % (("",) + tuple(names[k] for k in order)))
    for p in labels:
        print("%-52s %17s %10s %10s" % ((p,) + tuple(rows[k].get(p, "") for k in order)))
    print("%-52s %17d %10d %10d" % (("total",) + tuple(len(pcs[k]) for k in order)))
    for k in order:
        print("\n# %s: the %d busiest functions" % (names[k], args.top))
        for (mod, fn), v in counts[k].most_common(args.top):
            print("%6d  %-9s %s" % (v, mod, fn))


if __name__ == "__main__":
    main()
