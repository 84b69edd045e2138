"""What the peer suites (tests/e2e/test_peers_*.py) share: running a Debian
program natively and under mmscope, the accesses of a trace one per access,
and the bytes a program's traced accesses show of a mapping."""
import os

import pytest

from conftest import MMSCOPE, Run, run_group

try:
    from conftest import expand
except ImportError:
    def expand(records):
        """This tree's agent writes one ACCESS record per access (no repeat
        counts; a string instruction's record is one element): refuse
        anything else rather than miscount it."""
        out = [r for r in records if r["type"] == "access"]
        for r in out:
            assert r.get("count", 1) <= 1 and len(r.get("elements") or [0]) == 1 and \
                "paired" not in r["flags"], \
                f"a record standing for several accesses, and no expand(): {r}"
        return out


def need(path, package):
    """The Debian program a peer test runs; a missing one fails the test
    (scripts/deps.sh installs it), it is not a reason to skip."""
    assert os.access(path, os.X_OK), f"{path} is missing: run scripts/deps.sh (installs {package})"
    return path


def traced(argv, trace_dir, maps, timeout=300, opts=(), **kw):
    """argv under `mmscope run`, its process group killed on timeout."""
    cmd = [MMSCOPE, "run", "-q", "-o", str(trace_dir)]
    for m in maps:
        cmd += ["--map", m]
    p = run_group(cmd + list(opts) + ["--"] + list(argv), timeout, **kw)
    return Run(p, str(trace_dir))


def regions(records, pred):
    """{region id: MAP record} of the MAP records pred accepts."""
    return {r["region"]: r for r in records if r["type"] == "map" and pred(r)}


def value_bytes(a):
    """The bytes of one access, little-endian as the program saw them (a
    masked access: all `width` bytes, the ones not accessed zero)."""
    flags = set(a["flags"])
    assert a["value"] is not None and "value_unknown" not in flags, f"value unknown: {a}"
    return int(a["value"].replace("-", "0"), 16).to_bytes(a["width"], "little")


def accessed_bytes(a):
    """Which of the access's `width` bytes it touched: all of them, or for a
    masked (AVX-512) access the ones its byte mask enables."""
    if "masked" not in a["flags"]:
        return [True] * a["width"]
    mask = int(a["mask"], 16)
    return [bool(mask >> i & 1) for i in range(a["width"])]


class Image:
    """A mapping as the program's traced accesses show it: writes and reads
    applied in seq order onto `initial` (what the object held before the
    first one).  `conflicts` lists reads that saw bytes other than the last
    ones the program wrote (on a RAM-backed object only someone else -- the
    kernel, another process -- can have changed them).  A masked access
    (AVX-512, e.g. glibc's memset of a short range) is applied to the bytes
    its mask enables only; `masked` counts them."""

    def __init__(self, size, initial=b""):
        self.data = bytearray(initial.ljust(size, b"\0"))
        self.known = bytearray(b"\1" * len(initial)).ljust(size, b"\0")
        self.conflicts = []
        self.masked = 0

    def apply(self, a):
        lo, hi = a["offset"], a["offset"] + a["width"]
        assert hi <= len(self.data), f"access past the mapping: {a}"
        self.masked += "masked" in a["flags"]
        v, on = value_bytes(a), accessed_bytes(a)
        idx = [i for i in range(lo, hi) if on[i - lo]]
        if a["dir"] == "R" and any(self.known[i] and self.data[i] != v[i - lo] for i in idx):
            self.conflicts.append(a)
        for i in idx:
            self.data[i] = v[i - lo]
            self.known[i] = 1


def image_of(accesses, region, size, initial=b"", dirs="RW"):
    """The Image of `region` built from `accesses` (one per access, any
    order) in seq order, using the accesses of the directions in dirs."""
    img = Image(size, initial)
    for a in sorted((a for a in accesses if a["region"] == region and a["dir"] in dirs),
                    key=lambda a: a["seq"]):
        img.apply(a)
    return img


def skip_unless(why):
    """Skip with the reason when why is not None."""
    if why:
        pytest.skip(why)
