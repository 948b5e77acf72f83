#!/usr/bin/env python3
"""Where Berth's instructions go: one pass of a benchmark loop,
single-stepped through QEMU's gdbstub and summed by function.

    tools/bench/berth_profile.py --start SYMBOL [--skip N] [--progs a.elf,b.elf]
                                 [--top 40] [--out build/bench/profile]
                                 KERNEL ROOT.elf [MODULE ...]

Boots KERNEL with the modules (tools/qemu.sh's order: the first is the
root task) under the benchmark's QEMU (-icount shift=0), halted, with a
gdbstub on a Unix socket; gdb (batch, a Python script written here) lets
the kernel function START be reached SKIP times, then steps one
instruction at a time until START is reached again, writing each program
counter with its CR3.  That is one iteration of whatever loop passes
through START once per round (fastpath_call for ipc_call_reply,
svm_exit for a VM exit).  QEMU's single-stepping masks interrupts, so no
timer tick is inside.

Kernel addresses are named from build/kernel.elf (or KERNEL with .bin
replaced by .elf); user addresses from the programs of --progs: the first
is the one whose address space (CR3) is loaded where the pass starts, the
others in the order their spaces first run user code (all Berth programs
are linked at the same address, so only the CR3 tells them apart); a
VCPU's guest shows as "guest".  Prints the steps per
function, busiest first, and per program.  Not part of make bench: a
look inside ipc_call_reply and vmexit_* when they change
(docs/ipc.md, docs/vmm.md).
"""
import argparse
import bisect
import collections
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_STEPS = 40000
KERNEL_BASE = 0xffff800000000000

GDB_SCRIPT = r'''
import gdb
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set architecture i386:x86-64")
gdb.execute("target remote %(sock)s")
bp = gdb.Breakpoint("*%(start)#x")
bp.ignore_count = %(skip)d
gdb.execute("continue")
bp.delete()
rows = []
while True:
    gdb.execute("stepi", to_string=True)
    pc = int(gdb.parse_and_eval("$pc").cast(gdb.lookup_type("long"))) & 0xffffffffffffffff
    cr3 = int(gdb.parse_and_eval("$cr3").cast(gdb.lookup_type("long"))) & 0xffffffffffffffff
    cs = int(gdb.parse_and_eval("$cs").cast(gdb.lookup_type("long"))) & 0xffff
    rows.append("%%x %%x %%x\n" %% (pc, cr3, cs))
    if pc == %(start)#x or len(rows) >= %(max)d:
        break
with open("%(pcs)s", "w") as f:
    f.write("".join(rows))
gdb.execute("kill")
'''


def fail(msg):
    sys.exit("berth_profile: " + msg)


def symbols(elf):
    out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True, check=True).stdout
    syms = [(int(a, 16), n) for a, t, n in
            (line.split() for line in out.splitlines() if len(line.split()) == 3) if t in "tTW"]
    syms.sort()
    return syms


def name(syms, pc):
    i = bisect.bisect_right([a for a, _ in syms], pc) - 1
    return syms[i][1] if i >= 0 else "?%x" % pc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--start", required=True, help="kernel function the loop passes once a round")
    ap.add_argument("--skip", type=int, default=2000, help="passes let go before the one stepped")
    ap.add_argument("--progs", default="", help="user programs, in the order their spaces first run")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--out", default="build/bench/profile")
    ap.add_argument("--append", default="", help="kernel command line")
    ap.add_argument("images", nargs="+")
    args = ap.parse_args()
    os.chdir(ROOT)
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    kernel = args.images[0]
    kelf = kernel[:-4] + ".elf" if kernel.endswith(".bin") else kernel
    if not os.path.exists(kelf):
        kelf = "build/kernel.elf"
    ksyms = symbols(kelf)
    start = dict((n, a) for a, n in ksyms).get(args.start)
    if start is None:
        fail("no function %s in %s" % (args.start, kelf))
    progs = [(p, symbols(p)) for p in args.progs.split(",") if p]

    sock = os.path.join(out, "gdb.sock")
    script = os.path.join(out, "gdb.py")
    pcs = os.path.join(out, "%s.pcs" % args.start)
    for p in (sock, pcs):
        if os.path.exists(p):
            os.unlink(p)
    with open(script, "w") as f:
        f.write(GDB_SCRIPT % dict(sock=sock, start=start, skip=args.skip, max=MAX_STEPS, pcs=pcs))
    env = dict(os.environ, QEMU_EXTRA="-icount shift=0 -S -gdb unix:%s,server=on,wait=off" % sock,
               KERNEL_CMDLINE=args.append)
    log = open(os.path.join(out, "serial.log"), "w")
    qemu = subprocess.Popen(["tools/qemu.sh", "--test"] + args.images, env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        r = subprocess.run(["gdb", "-q", "-batch", "-nx", "-x", script], capture_output=True,
                           text=True, timeout=1800)
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait()
        log.close()
    if not os.path.exists(pcs):
        fail("gdb stepped nothing:\n" + (r.stdout + r.stderr)[-2000:])
    rows = [tuple(int(x, 16) for x in line.split()) for line in open(pcs)]
    if len(rows) >= MAX_STEPS:
        fail("%s was not reached again within %d steps" % (args.start, MAX_STEPS))

    spaces = []
    by_func = collections.Counter()
    by_part = collections.Counter()
    for pc, cr3, cs in rows:
        if cs & 3 == 3 and cr3 not in spaces or pc >= KERNEL_BASE and not spaces:
            spaces.append(cr3)
        if pc >= KERNEL_BASE:
            fn, part = name(ksyms, pc), "kernel"
        elif cs & 3 == 0:
            fn, part = "guest:%x" % pc, "guest"
        else:
            i = spaces.index(cr3)
            if i < len(progs):
                part = os.path.basename(progs[i][0])
                fn = part + ":" + name(progs[i][1], pc)
            else:
                part = "user@%x" % cr3
                fn = part + ":%x" % pc
        by_func[fn] += 1
        by_part[part] += 1
    print("# %d instructions from %s to %s again" % (len(rows), args.start, args.start))
    for part, n in by_part.most_common():
        print("%-40s %6d" % (part, n))
    print("#")
    for fn, n in by_func.most_common(args.top):
        print("%-40s %6d" % (fn, n))


if __name__ == "__main__":
    main()
