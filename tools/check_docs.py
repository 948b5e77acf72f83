#!/usr/bin/env python3
"""Check that the docs point only inside the repository (issue 14).

Reads README.md, docs/*.md and every */README.md in the tree and fails
when one of them
- names a path outside the repository: '../' climbing above the root
  (such as ../shared/...), or an absolute path under /work, /home, /tmp
  or /root;
- has a Markdown link [text](target) whose target is not a file or
  directory of the tree (web links are refused too: no link points
  outside the repository);
- names a path of the tree, such as docs/fs.md or servers/vmm/pvclock.h
  (a word that starts with one of the tree's top-level directories),
  that does not exist. A README's paths may also be relative to its own
  directory. Paths made by the build (build/...) or fetched (cache/...)
  are not checked, nor include names (<libipc/ipc.h>) or placeholders
  (idl/NAME.idl, kernel/x.c); globs and {a,b} alternatives must match
  something.

Usage: tools/check_docs.py [--tap] [ROOT]. Prints one line per problem,
FILE:LINE: what, and exits 1 if there was any; --tap prints it as one TAP
test (make test runs it so, with the unit tests: mk/docs.mk).
"""
import glob
import os
import re
import sys

TOP = ("docs", "servers", "tools", "tests", "kernel", "include", "libipc",
       "idl", "mk")
# a path of the tree: a top-level directory, then path characters
PATH_RE = re.compile(r"(?<![\w./<-])((?:%s)/(?:[\w.*?\[\]/+-]|\{[\w.,-]*\})*)" % "|".join(TOP))
# paths the docs name on purpose though they are not in the tree
HYPOTHETICAL = {
    "servers/kv": "docs/servers.md's example of where a new server would go",
}
# a placeholder in a path: NAME, N, K, x (with an extension or not)
PLACEHOLDER_RE = re.compile(r"(^|/)(NAME|N|K|x)(\.\w+)?(/|$)")
LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
OUTSIDE_RE = re.compile(r"(?<![\w.])(\.\./[\w./-]+|/(?:work|home|tmp|root)/[\w./-]*)")


def doc_files(root):
    files = ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=root))
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames
                           if d not in ("build", "cache") and not d.startswith(".")]
            continue
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if "README.md" in filenames and not rel.startswith("docs"):
            files.append(os.path.join(rel, "README.md"))
    return sorted(set(f for f in files if os.path.exists(os.path.join(root, f))))


def expand(path):
    """a{b,c}d -> [abd, acd] (one level per brace, repeated)"""
    m = re.search(r"\{([^{}]*)\}", path)
    if not m:
        return [path]
    out = []
    for alt in m.group(1).split(","):
        out += expand(path[:m.start()] + alt + path[m.end():])
    return out


def exists(root, path):
    for p in expand(path):
        if any(c in p for c in "*?["):
            if not glob.glob(p, root_dir=root):
                return False
        elif not os.path.exists(os.path.join(root, p)):
            return False
    return True


def clean(path):
    # sentence punctuation and a trailing ':' or '.' are not part of a path
    path = path.rstrip(".,:;")
    # "servers/drivers/ virtio_blk": a path broken across a line ends in '/'
    return path


def check(root):
    problems = []
    for f in doc_files(root):
        here = os.path.dirname(f)
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        for n, line in enumerate(lines, 1):
            where = "%s:%d" % (f, n)
            for m in OUTSIDE_RE.finditer(line):
                target = m.group(1)
                if target.startswith("../"):
                    full = os.path.normpath(os.path.join(here, target))
                    if full.startswith("..") or not exists(root, clean(full)):
                        problems.append("%s: %s is outside the tree or missing" % (where, target))
                else:
                    problems.append("%s: %s is an absolute path outside the tree" % (where, target))
            for m in LINK_RE.finditer(line):
                target = m.group(1).split("#")[0]
                if re.match(r"[a-z]+:", m.group(1)):
                    problems.append("%s: link %s points outside the repository" % (where, m.group(1)))
                elif target and not exists(root, os.path.normpath(os.path.join(here, target))):
                    problems.append("%s: link %s does not resolve" % (where, m.group(1)))
            for m in PATH_RE.finditer(line):
                path = clean(m.group(1))
                if path.endswith("/") and n < len(lines):
                    # broken across the line: take the next line's first word
                    nxt = re.match(r"\s*([\w.*/-]+)", lines[n])
                    if nxt and not exists(root, path):
                        path += nxt.group(1).rstrip(".,:;`")
                if PLACEHOLDER_RE.search(path) or path in HYPOTHETICAL:
                    continue
                if not exists(root, path) and not (here and exists(root, os.path.join(here, path))):
                    problems.append("%s: %s does not exist" % (where, path))
    return problems


def main():
    args = sys.argv[1:]
    tap = "--tap" in args
    args = [a for a in args if a != "--tap"]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    problems = check(os.path.abspath(root))
    if tap:
        print("1..1")
        for p in problems:
            print("# " + p)
        print("%s 1 - the docs name only paths inside the tree, and those exist" %
              ("not ok" if problems else "ok"))
        return 1 if problems else 0
    for p in problems:
        print(p)
    if problems:
        print("check_docs: %d problem(s) in the docs' paths" % len(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
