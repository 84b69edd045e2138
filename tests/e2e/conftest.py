"""Shared fixtures for the end-to-end suites: run real programs under
mmscope and read the trace back through `mmscope show --format=json`."""
import json
import os
import signal
import struct
import subprocess
import threading

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("MMS_BUILD", os.path.join(ROOT, "build"))
MMSCOPE = os.path.join(BUILD, "mmscope")
PROGS = os.path.join(BUILD, "tests", "progs")


def _kill_group(p):
    """SIGKILL the process group p leads (p was started with
    start_new_session=True, so its pid is the group's id), unless p has been
    reaped already: then the id may belong to someone else."""
    if p.returncode is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


HOT = os.environ.get("MMS_TEST_HOT")


def with_hot(argv):
    """`mmscope run ...` with --hot=$MMS_TEST_HOT added when the environment
    asks for it and the test did not choose itself: the exactness suites run
    with hot sites at their default, off, and with every site patched after
    its first fault (scripts/check.sh), and must give the same records every
    way."""
    argv = list(argv)
    if HOT and len(argv) > 1 and argv[0] == MMSCOPE and argv[1] == "run" \
            and not any(str(a).startswith("--hot") for a in argv):
        argv.insert(2, "--hot=" + HOT)
    return argv


def run_group(argv, timeout, input=None, capture_output=True, text=True, **kw):
    """subprocess.run for a program that may wedge (any traced program): it
    runs in a session of its own, and on timeout its whole process group is
    SIGKILLed -- a wedged program may ignore SIGTERM, and its children would
    outlive a kill of the direct child alone -- before TimeoutExpired is
    raised with whatever output there was."""
    if capture_output:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
    if input is not None:
        kw.setdefault("stdin", subprocess.PIPE)
    with subprocess.Popen(with_hot(argv), start_new_session=True, text=text, **kw) as p:
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(p)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                out = err = None  # a process outside the group holds the pipes
            raise subprocess.TimeoutExpired(p.args, timeout, out, err) from None
        except BaseException:
            _kill_group(p)
            raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


class GroupPopen(subprocess.Popen):
    """Popen for a program that may wedge, when the test talks to it while it
    runs: a session of its own, and a watchdog that SIGKILLs the whole group
    after `timeout` seconds, so that a read of its output ends (EOF) rather
    than hangs.  The test calls kill_group() when done with it (in a
    finally), which also stops the watchdog."""

    def __init__(self, argv, timeout, **kw):
        super().__init__(with_hot(argv), start_new_session=True, **kw)
        self.timed_out = False
        self._watchdog = threading.Timer(timeout, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self):
        self.timed_out = True
        _kill_group(self)

    def kill_group(self):
        """SIGKILL the group if the program is still running, and reap it."""
        self._watchdog.cancel()
        if self.poll() is None:
            _kill_group(self)
            self.wait()


def prog(name):
    """Path of a test program built from tests/progs/NAME.c."""
    return os.path.join(PROGS, name)


class Run:
    """A finished `mmscope run`: its exit status, output and trace."""

    def __init__(self, proc, trace_dir):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.trace_dir = trace_dir

    def records(self, *extra):
        return show_json(self.trace_dir, *extra)

    def accesses(self):
        """One dict per access: repeated accesses (count > 1) expanded."""
        return expand(self.records())


def _elements(r):
    """The accesses one ACCESS record stands for (docs/trace-format.md)."""
    n = r.get("count", 1)
    flags = r.get("flags") or []
    if "string" not in flags:
        # one dict, n times: a polled word repeats millions of times when
        # its site is patched, and the accesses are only read
        return [dict(r, count=1)] * n
    step = -r["width"] if "down" in flags else r["width"]
    addr = int(r["addr"], 16)
    return [dict(r, count=1, value=v, addr=f"0x{addr + i * step:x}",
                 offset=r["offset"] + i * step, elements=None)
            for i, v in enumerate(r["elements"][:n])]


def expand(records):
    """ACCESS records as one dict per access they stand for: repeats
    expanded, string runs as their elements, a MOVS/CMPS pair (a "paired"
    run and the next access record of its thread) interleaved."""
    out = []
    pending = {}  # tid -> elements of a paired run waiting for its partner
    for r in records:
        if r["type"] != "access":
            continue
        elems = _elements(r)
        first = pending.pop(r["tid"], None)
        if first is not None:
            for i in range(max(len(first), len(elems))):
                out.extend(first[i:i + 1] + elems[i:i + 1])
        elif "paired" in (r.get("flags") or []):
            pending[r["tid"]] = elems
        else:
            out.extend(elems)
    for elems in pending.values():
        out.extend(elems)
    return out


def show_json(trace_dir, *extra, check=True):
    p = subprocess.run([MMSCOPE, "show", "--format=json", *extra, trace_dir],
                       capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, f"show failed: {p.stderr}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


@pytest.fixture
def mmscope_run(tmp_path):
    """mmscope_run(argv, maps=[...], opts=[...]) -> Run.  The trace goes to a
    fresh directory under tmp_path."""
    counter = [0]

    def run(argv, maps=(), opts=(), timeout=300, env=None, check=True):
        counter[0] += 1
        out = str(tmp_path / f"trace{counter[0]}.d")
        cmd = [MMSCOPE, "run", "-o", out]
        for m in maps:
            cmd += ["--map", m]
        cmd += list(opts) + ["--"] + list(argv)
        p = run_group(cmd, timeout, env=env)
        r = Run(p, out)
        if check:
            assert p.returncode == 0, \
                f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        return r

    return run


def native(argv, timeout=300):
    """Run a program without mmscope (the ground-truth baseline)."""
    return run_group(argv, timeout)


STREAM_HEADER = struct.Struct("<8sIIIIQQQII8x")  # struct mms_file_header (v4)
REC_HDR = struct.Struct("<HHI")                 # struct mms_rec_hdr


def _records_in(data, off, end, base):
    """(offset, type, size) of the records in data[off - base:end - base],
    up to an all-zero header; offsets are stream offsets."""
    out = []
    while off + 8 <= end:
        rtype, size, _ = REC_HDR.unpack_from(data, off - base)
        if rtype == 0 or size < 8:
            break
        out.append((off, rtype, size))
        off += size
    return out


def stream_data_start(data):
    """Where a stream file's records start (its version's layout)."""
    _, version, header_size, _, _, _, _, _, tail_off, tail_len = STREAM_HEADER.unpack_from(data)
    return tail_off + tail_len if version >= 4 else header_size


def stream_records(data):
    """[(offset, type, size)] of the records of a stream file's bytes, as
    docs/trace-format.md defines them: in version 4 the file's records up
    to tail_base, then the tail's, which stand at tail_base on (their
    offsets are stream offsets, past the file's end when not yet written
    out); with bit 0 of tail_base set, or a file shorter than tail_base,
    the file's alone."""
    magic, version, _, _, _, _, _, tail_base, tail_off, tail_len = \
        STREAM_HEADER.unpack_from(data)
    assert magic == b"MMSCOPE1", magic
    start = stream_data_start(data)
    if version < 4 or tail_base & 1 or tail_base > len(data):
        return _records_in(data, start, len(data), 0)
    out = _records_in(data, start, tail_base, 0)
    tail = data[tail_off:tail_off + tail_len]
    return out + _records_in(tail, tail_base, tail_base + tail_len, tail_base)
