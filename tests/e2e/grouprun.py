"""Run a command in a process group of its own, so that a timeout kills
the command and everything it started (a traced program, its children),
not only the command itself."""
import os
import signal
import subprocess


def run(argv, timeout=300, **kw):
    """subprocess.run(argv, capture_output=True, text=True) in a new
    session; on timeout the whole group is killed and TimeoutExpired
    raised."""
    p = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


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
