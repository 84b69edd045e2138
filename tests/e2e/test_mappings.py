"""The program's own munmap/mremap/mprotect on a traced mapping work as
without mmscope, and the trace follows the mapping (tests/progs/remap.c
prints each access it makes as ground truth)."""
from conftest import native, prog

REMAP = prog("remap")


def ground_truth(stdout):
    out = []
    for line in stdout.splitlines():
        if line.startswith("ACCESS "):
            _, d, off, val = line.split()
            out.append((d, int(off, 16), int(val, 16)))
    return out


def test_remap_program_behaves_the_same_natively_and_traced(mmscope_run):
    nat = native([REMAP])
    assert nat.returncode == 0, nat.stderr
    run = mmscope_run([REMAP], maps=["/memfd:mmscope-remap*"])
    assert run.stdout == nat.stdout
    assert "FAIL" not in run.stderr


def test_trace_follows_mremap_mprotect_and_partial_munmap(mmscope_run):
    run = mmscope_run([REMAP], maps=["/memfd:mmscope-remap*"])
    recs = run.records()
    maps = {r["region"]: r for r in recs if r["type"] == "map"}
    got = []
    for r in recs:
        if r["type"] != "access":
            continue
        m = maps[r["region"]]
        # file offset of the access = region's file offset + offset in region
        got.append((r["dir"], m["file_offset"] + r["offset"], int(r["value"], 16)))
    assert got == ground_truth(run.stdout)
    # the grown range is a new region (mremap) and the halves unmapped later
    assert any("mremap" in r["flags"] for r in maps.values())
    assert sum(1 for r in recs if r["type"] == "unmap") >= 2
