"""A long-lived command in a process group of its own, for tests that talk
to it while it runs: kill() ends the command and everything it started.
(A command that runs to its end: conftest.run_group.)"""
import os
import signal
import subprocess


def start(argv, **kw):
    """subprocess.Popen in a new session; end it with kill()."""
    return subprocess.Popen(list(argv), start_new_session=True, **kw)


def kill(p):
    """Kill p's whole process group (if still there) and reap p."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.communicate()
