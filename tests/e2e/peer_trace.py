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
    """The bytes of one access, little-endian as the program saw them."""
    flags = set(a["flags"])
    assert a["value"] is not None and "value_unknown" not in flags, f"value unknown: {a}"
    # the JSON gives no byte mask: the bytes of a masked access that were not
    # accessed cannot be told from the ones that were
    assert "masked" not in flags, f"a masked access, and no mask to tell its bytes: {a}"
    return int(a["value"], 16).to_bytes(a["width"], "little")


class Image:
    """A mapping as the program's traced accesses show it: writes and reads
    applied in seq order onto `initial` (what the object held before the
    first one).  `conflicts` lists reads that saw bytes other than the last
    ones the program wrote (on a RAM-backed object only someone else -- the
    kernel, another process -- can have changed them).

    A masked access (AVX-512, e.g. glibc's memset of a short range) comes
    without its byte mask in the JSON, so it cannot be applied: its bytes
    are left as they were but no longer count as known, and `masked`
    counts them.  An image with masked stores is right only where the
    program stored those bytes again, which a comparison of the whole
    image with what the program printed shows."""

    def __init__(self, size, initial=b""):
        self.data = bytearray(initial.ljust(size, b"\0"))
        self.known = bytearray(b"\1" * len(initial)).ljust(size, b"\0")
        self.conflicts = []
        self.masked = 0

    def apply(self, a):
        lo, hi = a["offset"], a["offset"] + a["width"]
        assert hi <= len(self.data), f"access past the mapping: {a}"
        if "masked" in a["flags"]:
            self.masked += 1
            if a["dir"] == "W":
                self.known[lo:hi] = bytes(hi - lo)
            return
        v = value_bytes(a)
        if a["dir"] == "R" and any(self.known[lo:hi]) and \
                any(k and self.data[i] != v[i - lo] for i, k in enumerate(self.known[lo:hi], lo)):
            self.conflicts.append(a)
        self.data[lo:hi] = v
        self.known[lo:hi] = b"\1" * (hi - lo)


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
