"""Debian's sqlite3 in WAL mode, whose wal-index is the DB-shm file mapped
MAP_SHARED by every connection (https://sqlite.org/walformat.html).

A scripted workload (create, a 2000-row insert, update, delete, queries,
then the page size and count and a passive checkpoint) runs through the
sqlite3 shell natively and under `mmscope run --map '*-shm'`, each on a
database of its own.  The shell's output is the ground truth: it must be
identical both ways.  The trace must show the -shm file mapped and
accessed, every load of it seeing what sqlite last stored there (nobody
else writes it), and the wal-index header as sqlite's traced stores left
it must be what the shell printed: its two copies equal, a checksum that
is right (wal.c walChecksumBytes), the page size, the database size in
pages, the frames in the WAL, and how many of them the checkpoint copied.
"""
import struct

import pytest

from conftest import run_group
from peer_trace import expand, image_of, need, regions, traced

SQLITE3 = "/usr/bin/sqlite3"
SCRIPT = """\
PRAGMA journal_mode=WAL;
PRAGMA wal_autocheckpoint=0;
CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
  INSERT INTO t SELECT x, printf('value-%06d', x * 7919 % 100003) FROM c;
UPDATE t SET v = v || '-u' WHERE k % 3 = 0;
DELETE FROM t WHERE k % 11 = 0;
SELECT count(*), sum(k), min(v), max(v) FROM t;
SELECT k, v FROM t WHERE k BETWEEN 100 AND 105;
SELECT group_concat(k) FROM (SELECT k FROM t WHERE v LIKE '%-u' ORDER BY v LIMIT 12);
PRAGMA page_size;
PRAGMA page_count;
PRAGMA wal_checkpoint(PASSIVE);
"""
HDR = 48            # sizeof(WalIndexHdr); two copies, then WalCkptInfo
NBACKFILL = 2 * HDR  # WalCkptInfo.nBackfill


def wal_checksum(data):
    """wal.c walChecksumBytes in native (here little-endian) byte order."""
    s1 = s2 = 0
    for x0, x1 in struct.iter_unpack("<II", data):
        s1 = (s1 + x0 + s2) & 0xffffffff
        s2 = (s2 + x1 + s1) & 0xffffffff
    return s1, s2


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory):
    need(SQLITE3, "sqlite3")
    work = tmp_path_factory.mktemp("sqlite")
    nat = run_group([SQLITE3, str(work / "native.db")], 120, input=SCRIPT)
    assert nat.returncode == 0 and not nat.stderr, nat.stderr
    run = traced([SQLITE3, str(work / "traced.db")], work / "trace.d", ["*-shm"], timeout=120,
                 input=SCRIPT)
    assert run.returncode == 0, run.stderr
    return nat, run, str(work / "traced.db-shm")


def test_query_results_are_identical(sqlite):
    nat, run, _ = sqlite
    assert run.stdout == nat.stdout
    assert run.stdout.startswith("wal\n")


def test_wal_index_as_traced_is_what_sqlite_printed(sqlite):
    nat, run, shm = sqlite
    out = run.stdout.splitlines()
    page_size, page_count = int(out[-3]), int(out[-2])
    busy, log, ckpt = map(int, out[-1].split("|"))
    assert busy == 0 and log > 0

    records = run.records()
    maps = regions(records, lambda m: m["path"] == shm)
    assert len(maps) >= 1, f"no MAP record of {shm}"
    region = min(maps)          # the first 32 KiB: header, then the hash tables
    accesses = expand(records)
    assert any(a["region"] == region and a["dir"] == "W" for a in accesses)
    img = image_of(accesses, region, maps[region]["len"])
    assert not img.conflicts, f"{len(img.conflicts)} loads saw other than the last " \
        f"stores, first: {img.conflicts[0]}"
    hdr = bytes(img.data[:HDR])
    assert hdr == bytes(img.data[HDR:2 * HDR]), "the two header copies differ"
    version, _, change, is_init, big_end, sz_page, mx_frame, n_page = \
        struct.unpack_from("<IIIBBHII", hdr)
    assert (version, is_init, big_end) == (3007000, 1, 0)
    assert struct.unpack_from("<II", hdr, 40) == wal_checksum(hdr[:40])
    assert sz_page == page_size and n_page == page_count
    assert mx_frame == log
    assert struct.unpack_from("<I", img.data, NBACKFILL)[0] == ckpt
