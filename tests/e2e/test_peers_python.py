"""Debian's python3 with python3-numpy on a /dev/shm file.

The script below maps the file as an np.memmap, fills it (numpy's copy
loop), multiplies it in place by 3 (numpy's SIMD loops on the mapping) and
prints the sum and the sha256 of the array; then it maps the same file
with the mmap module, packs five values into it with struct.pack_into,
printing the bytes each one packed, and prints the sha256 of the whole
mapping.  It runs natively and under `mmscope run --map
'/dev/shm/mmscope-peer-*'`, each on a file of its own.

Ground truth is what the script printed: the same both ways; and the two
mappings as the traced accesses show them (every store applied in order,
the first onto the zeros numpy created the file with, the second onto
what the first left) hash to the sha256 values it printed, every load saw
the last store, and the stores into the second mapping are exactly the
bytes it says it packed (Python clears the packed range first, with a
masked AVX-512 memset where the CPU has one).
"""
import hashlib
import os
import re
import struct

import pytest

from conftest import native
from peer_trace import expand, image_of, need, regions, traced

PYTHON = "/usr/bin/python3"
N = 16384           # uint32 elements: 64 KiB, 16 pages
SCRIPT = """\
import hashlib, mmap, os, struct, sys
import numpy as np

path, n = sys.argv[1], int(sys.argv[2])
arr = np.memmap(path, dtype=np.uint32, mode="w+", shape=(n,))
arr[:] = (np.arange(n, dtype=np.uint64) * 2654435761 % 2**32).astype(np.uint32)
arr *= 3
print("MEMMAP_SUM", int(arr.sum(dtype=np.uint64)))
print("MEMMAP_SHA256", hashlib.sha256(arr).hexdigest())
arr.flush()
del arr
fd = os.open(path, os.O_RDWR)
mm = mmap.mmap(fd, n * 4)
os.close(fd)
for off, fmt, v in [(8, "<Q", 0x0123456789abcdef), (100, "<I", 0xdeadbeef), (1001, "<h", -2),
                    (4096, "<d", 3.5), (n * 4 - 3, "3s", b"end")]:
    struct.pack_into(fmt, mm, off, v)
    print("PACK", off, struct.pack(fmt, v).hex())
print("SHA256", hashlib.sha256(mm).hexdigest())
mm.close()
"""


def numpy_missing():
    p = native([PYTHON, "-c", "import numpy"], timeout=60)
    return p.returncode != 0 and p.stderr


@pytest.fixture(scope="module")
def python(tmp_path_factory):
    need(PYTHON, "python3")
    assert not numpy_missing(), f"numpy: {numpy_missing()} (scripts/deps.sh installs " \
        "python3-numpy)"
    work = tmp_path_factory.mktemp("python")
    script = work / "shm.py"
    script.write_text(SCRIPT)
    tag = f"mmscope-peer-{os.getpid()}"
    files = [f"/dev/shm/{tag}-native", f"/dev/shm/{tag}-traced"]
    try:
        nat = native([PYTHON, str(script), files[0], str(N)], timeout=120)
        assert nat.returncode == 0, nat.stderr
        run = traced([PYTHON, str(script), files[1], str(N)], work / "trace.d",
                     [f"/dev/shm/{tag}-*"], timeout=300)
        assert run.returncode == 0, run.stderr
    finally:
        for f in files:
            if os.path.exists(f):
                os.unlink(f)
    return nat, run, files[1]


def test_script_prints_the_same_with_and_without_mmscope(python):
    nat, run, _ = python
    assert run.stdout == nat.stdout
    assert len(re.findall(r"^PACK ", run.stdout, re.M)) == 5


def test_traced_accesses_rebuild_both_mappings(python):
    nat, run, path = python
    out = run.stdout
    records = run.records()
    maps = regions(records, lambda m: m["path"] == path)
    assert len(maps) == 2, f"MAP records of {path}: {maps}"
    first, second = sorted(maps)
    accesses = expand(records)

    img = image_of(accesses, first, 4 * N)
    assert not img.conflicts, img.conflicts[:3]
    assert hashlib.sha256(img.data).hexdigest() == \
        re.search(r"^MEMMAP_SHA256 (\w+)$", out, re.M).group(1)
    assert sum(struct.unpack(f"<{N}I", img.data)) == \
        int(re.search(r"^MEMMAP_SUM (\d+)$", out, re.M).group(1))

    img2 = image_of(accesses, second, 4 * N, initial=bytes(img.data))
    assert not img2.conflicts, img2.conflicts[:3]
    assert hashlib.sha256(img2.data).hexdigest() == \
        re.search(r"^SHA256 (\w+)$", out, re.M).group(1)

    # the stores into the second mapping, other than the masked clears: the
    # bytes the script packed, where it packed them, and nothing else
    packed = {}
    for off, hexbytes in re.findall(r"^PACK (\d+) (\w+)$", out, re.M):
        for i, b in enumerate(bytes.fromhex(hexbytes)):
            packed[int(off) + i] = b
    stored = {}
    for a in sorted((a for a in accesses if a["region"] == second and a["dir"] == "W"
                     and "masked" not in a["flags"]), key=lambda a: a["seq"]):
        for i, b in enumerate(int(a["value"], 16).to_bytes(a["width"], "little")):
            stored[a["offset"] + i] = b
    assert stored == packed
