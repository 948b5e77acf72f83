"""TAP for the host-side test scripts (tools/*.py) whose lines
tools/runtests.py counts: ok/not ok lines, notes after a failure, and
the plan, up front (Tap(plan)) or at the end (done())."""
import sys


class Tap:
    def __init__(self, plan=None):
        self.n = 0
        self.failed = 0
        self.planned = plan is not None
        if self.planned:
            print('1..%d' % plan, flush=True)

    def ok(self, cond, text, notes=()):
        """One result; notes (lines of text) are printed as comments if it failed."""
        self.n += 1
        if not cond:
            self.failed += 1
        print('%s %d - %s' % ('ok' if cond else 'not ok', self.n, text))
        for note in notes if not cond else ():
            for line in str(note).split('\n'):
                print('#   ' + line)
        sys.stdout.flush()
        return cond

    def done(self):
        """The plan, if it was not given up front; the exit status."""
        if not self.planned:
            print('1..%d' % self.n, flush=True)
        return 1 if self.failed else 0
