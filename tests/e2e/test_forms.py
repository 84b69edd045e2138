"""Instruction coverage, checked against ground truth.

tests/progs/forms performs one x86-64 instruction form at a time on a
traced memfd mapping and prints the accesses the CPU makes to the traced
pages ("EXPECT R|W 0x<offset> <width> 0x<value>|?", see forms.c).  Under
`mmscope run --map '/memfd:mmscope-forms*'` the access records of that
mapping between MARK "form NAME" and the next MARK must be exactly those,
record by record: direction, offset in the region, width, and value ("?"
is a null value).  One test case per form, so a failure names the form.
"""
import os
import re

import pytest

from conftest import MMSCOPE, Run, expand, native, prog, run_group

FORMS = prog("forms")
FORMS_GLOB = "/memfd:mmscope-forms*"
FORMS_PATH = "/memfd:mmscope-forms"


class Form:
    def __init__(self, name, skip=None):
        self.name = name
        self.skip = skip
        self.expected = []      # (dir, offset, width, value or None, byte mask or None)


def parse_ground_truth(text):
    """FORM/EXPECT/SKIP lines of forms' stdout -> [Form] in program order."""
    forms = []
    for line in text.splitlines():
        if line.startswith("FORM "):
            forms.append(Form(line[len("FORM "):].strip()))
        elif line.startswith("EXPECT "):
            d, off, width, value, *mask = line.split()[1:]
            forms[-1].expected.append(
                (d, int(off, 16), int(width),
                 None if value == "?" else int(value, 16),
                 int(mask[0][len("mask="):], 16) if mask else None))
        else:
            m = re.match(r"SKIP form (\S+): (.*)", line)
            if m:
                forms.append(Form(m.group(1), skip=m.group(2)))
    return forms


def ground_truth_lines(text):
    return [l for l in text.splitlines()
            if l.startswith(("FORM ", "EXPECT ", "SKIP form "))]


def _native_ground_truth():
    """Run forms natively once, at collection: its output parametrizes the
    per-form cases."""
    if not os.access(FORMS, os.X_OK):
        return None
    return native([FORMS])


NATIVE = _native_ground_truth()
GROUND_TRUTH = parse_ground_truth(NATIVE.stdout) if NATIVE else []


def form_windows(records):
    """{form name: [access records of the forms mapping between MARK
    "form NAME" and the next MARK]}.  Records before the first form mark
    (the initial fill after "forms begin") and other regions are ignored."""
    regions = set()
    windows = {}
    current = None
    for r in sorted(records, key=lambda r: r.get("seq", 0)):
        kind = r.get("type")
        if kind == "map" and r.get("path", "").startswith(FORMS_PATH):
            regions.add(r["region"])
        elif kind == "mark":
            text = r.get("text", "")
            current = None
            if text.startswith("form "):
                current = windows.setdefault(text[len("form "):], [])
        elif kind == "access" and current is not None \
                and r.get("region") in regions:
            current.append(r)
    return {name: expand(recs) for name, recs in windows.items()}


class TracedForms:
    """One traced run of forms, shared by every case of this module."""

    def __init__(self, run):
        self.run = run
        self.error = None
        self.windows = {}
        try:
            self.windows = form_windows(run.records())
        except (AssertionError, ValueError, KeyError) as e:
            self.error = f"cannot read the trace: {e}"

    def describe_run(self):
        return (f"mmscope run exited {self.run.returncode}; stderr tail:\n"
                f"{self.run.stderr[-3000:]}")


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("forms") / "trace.d")
    p = run_group([MMSCOPE, "run", "-o", out, "--map", FORMS_GLOB, "--", FORMS], 600)
    return TracedForms(Run(p, out))


def test_forms_native_self_check():
    """forms computes every form correctly on the bare CPU."""
    assert NATIVE is not None, \
        f"{FORMS} is not built: make build/tests/progs/forms"
    assert NATIVE.returncode == 0, \
        f"forms exited {NATIVE.returncode} natively:\n{NATIVE.stderr}"
    assert GROUND_TRUTH, "forms printed no FORM lines"


def test_forms_self_check_under_mmscope(traced):
    """Every emulated access computes what the CPU computes: the program's
    own checks pass under mmscope and it prints the same ground truth."""
    r = traced.run
    assert r.returncode == 0, \
        f"forms exited {r.returncode} under mmscope\n" \
        f"stderr:\n{r.stderr[-6000:]}"
    assert "FAIL form" not in r.stderr, r.stderr[-6000:]
    assert NATIVE is not None
    assert ground_truth_lines(r.stdout) == ground_truth_lines(NATIVE.stdout), \
        "forms printed different ground truth under mmscope"


def _fmt(rec):
    d, off, width, value, mask = rec
    digits = 2 * width if isinstance(width, int) else 1
    v = "?" if value is None else f"0x{value:0{digits}x}"
    o = f"0x{off:x}" if isinstance(off, int) else str(off)
    m = "" if mask is None else f" mask=0x{mask:x}"
    return f"{d} {o} {width} {v}{m}"


def _record_tuple(r):
    v, m = r.get("value"), r.get("mask")
    return (r.get("dir"), r.get("offset"), r.get("width"),
            None if v is None else int(v, 16), None if m is None else int(m, 16))


def _params():
    if NATIVE is None:
        return [pytest.param(None, id="forms-not-built")]
    return [pytest.param(f, id=f.name) for f in GROUND_TRUTH]


@pytest.mark.parametrize("form", _params())
def test_form_traced_exactly(form, traced):
    """The records of one instruction form match the CPU's accesses."""
    assert form is not None, \
        f"{FORMS} is not built: make build/tests/progs/forms"
    if form.skip:
        pytest.skip(f"form {form.name}: {form.skip}")
    assert traced.error is None, traced.error
    got = traced.windows.get(form.name)
    assert got is not None, \
        f"form {form.name}: no MARK 'form {form.name}' in the trace\n" \
        f"{traced.describe_run()}"

    fallback = [r for r in got if "unknown_insn" in (r.get("flags") or [])]
    if fallback:
        r = fallback[0]
        pytest.fail(f"form {form.name}: the instruction fell back to "
                    f"single-step (flag unknown_insn), pc={r.get('pc')} "
                    f"insn={r.get('insn')}")

    actual = [_record_tuple(r) for r in got]
    if actual != form.expected:
        want = "\n".join("    " + _fmt(e) for e in form.expected) or \
            "    (no accesses)"
        have = "\n".join(
            f"    {_fmt(t)}    insn={r.get('insn')} flags={r.get('flags')}"
            for t, r in zip(actual, got)) or "    (no accesses)"
        pytest.fail(f"form {form.name}: records differ from the ground "
                    f"truth\n  expected:\n{want}\n  got:\n{have}")


def _aligned_pieces(offset, width, value, mask):
    """(offset, width, value) of the naturally aligned pieces of at most 8
    bytes that cover exactly the bytes in mask (all of them when None)."""
    data = value.to_bytes(width, "little")
    on = [mask is None or (mask >> i) & 1 for i in range(width)]
    pieces, i = [], 0
    while i < width:
        if not on[i]:
            i += 1
            continue
        end = i
        while end < width and on[end]:
            end += 1
        while i < end:
            w = 8
            while w > 1 and ((offset + i) % w or i + w > end):
                w //= 2
            pieces.append((offset + i, w, int.from_bytes(data[i:i + w], "little")))
            i += w
    return pieces


def _show(trace_dir, *args):
    p = run_group([MMSCOPE, "show", *args, trace_dir], 300)
    assert p.returncode == 0, f"show {' '.join(args)} failed: {p.stderr[-2000:]}"
    return p.stdout


def _mmio_windows(text, base):
    """{form name: [(offset, width, value)]} of the R/W lines of the forms
    mapping (program addresses base..) in mmiotrace output."""
    windows, current = {}, None
    for line in text.splitlines():
        f = line.split()
        if f[0] == "MARK":
            text = line.split(None, 2)[2]
            current = windows.setdefault(text[len("form "):], []) \
                if text.startswith("form ") else None
        elif f[0] in ("R", "W") and current is not None:
            addr = int(f[4], 16)
            if base <= addr < base + (1 << 20):
                current.append((f[0], addr - base, int(f[1]), int(f[5], 16)))
    return windows


def _masked_forms():
    return [f for f in GROUND_TRUTH if not f.skip and any(e[4] is not None for e in f.expected)]


def test_masked_accesses_export_only_the_bytes_accessed(traced):
    """A masked AVX-512 access becomes, in the mmiotrace export, the
    aligned pieces of exactly the bytes it accessed (ground truth: the
    byte mask forms prints), and text shows "--" for the bytes it left
    alone."""
    forms = _masked_forms()
    if not forms:
        pytest.skip("this CPU has no AVX-512 masked forms (forms printed none)")
    assert traced.error is None, traced.error
    records = traced.run.records()
    base = next(int(r["addr"], 16) for r in records
                if r["type"] == "map" and r["path"].startswith(FORMS_PATH))
    mmio = _mmio_windows(_show(traced.run.trace_dir, "--format=mmiotrace"), base)
    text = _show(traced.run.trace_dir)
    for form in forms:
        want = [(d, o, w, v) for d, off, width, value, mask in form.expected
                for o, w, v in _aligned_pieces(off, width, value, mask)]
        assert mmio.get(form.name) == want, f"form {form.name}: mmiotrace lines differ"
        for d, off, width, value, mask in form.expected:
            digits = "".join(f"{b:02x}" if (mask >> i) & 1 else "--"
                             for i, b in reversed(list(enumerate(value.to_bytes(width, "little")))))
            line = f"{d} {width:2} r"
            assert any(line in l and f"+0x{off:04x} = 0x{digits}  " in l for l in text.splitlines()), \
                f"form {form.name}: no text line '{d} {width} ... +0x{off:04x} = 0x{digits}'"
