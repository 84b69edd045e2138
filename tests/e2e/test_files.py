"""The trace directory holds device data and is written by the traced
program: `mmscope run` makes it 0700 (or accepts an existing one only if
it is no symlink, is the user's own and is writable by nobody else),
creates every file in it 0600 without following symlinks, deletes only
trace files (and those only with --force), and creates the shared `seq`
page itself, fully allocated.  `mmscope mark` acts on another user's trace
with that user's credentials only.  At exit `run` says what the trace
lacks: lost records ("disk full"), mappings left untraced.

Tests run as root; another user is `nobody` (setpriv).
"""
import os
import re
import stat
import subprocess
import tempfile

import pytest

import grouprun
from conftest import BUILD, MMSCOPE, prog, run_group, show_json

MARKS = prog("marks")
MARKS_GLOB = "/memfd:mmscope-marks*"
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def mmscope(*args, timeout=120):
    return run_group([MMSCOPE, *args], timeout=timeout)


@pytest.fixture
def marker(tmp_path):
    return str(tmp_path / "program-ran")


@pytest.fixture
def shared_tmp():
    """A directory under /tmp that nobody can enter (tmp_path cannot)."""
    d = tempfile.mkdtemp(prefix="mmscope-files-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- what run creates ---------------------------------------------------------

def test_a_new_trace_directory_is_0700_and_every_file_in_it_0600(tmp_path):
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--map", MARKS_GLOB, "--", MARKS, "api")
    assert p.returncode == 0, p.stderr
    assert mode(out) == 0o700
    names = os.listdir(out)
    assert {"seq", "config"} <= set(names) and any(n.endswith(".mms") for n in names)
    for n in names:
        st = os.lstat(os.path.join(out, n))
        assert stat.S_ISREG(st.st_mode), n
        assert stat.S_IMODE(st.st_mode) == 0o600, f"{n} is {oct(st.st_mode)}"


def test_run_creates_seq_as_one_allocated_page(tmp_path):
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--", "true")
    assert p.returncode == 0, p.stderr
    st = os.lstat(os.path.join(out, "seq"))
    assert stat.S_ISREG(st.st_mode) and st.st_size == 4096
    assert st.st_blocks * 512 >= 4096, "seq is sparse: a full disk would SIGBUS on it"
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_an_existing_empty_directory_of_ones_own_is_used(tmp_path, marker):
    out = tmp_path / "mine.d"
    out.mkdir(mode=0o755)
    p = mmscope("run", "-o", str(out), "--", "touch", marker)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(marker)
    assert mode(str(out)) == 0o755, "an existing directory's mode is the user's to choose"


# --- what run refuses -----------------------------------------------------------

def refused(p, marker, *words):
    assert p.returncode == 1, p.stderr
    for w in words:
        assert w in p.stderr, f"{w!r} not in: {p.stderr}"
    assert len(p.stderr.strip().splitlines()) == 1, "one clear line"
    assert not os.path.exists(marker), "the program ran"


def test_an_output_directory_that_is_a_symlink_is_refused(tmp_path, marker):
    real = tmp_path / "real.d"
    real.mkdir(mode=0o700)
    link = tmp_path / "link.d"
    link.symlink_to(real)
    p = mmscope("run", "-o", str(link), "--", "touch", marker)
    refused(p, marker, str(link), "symbolic link")
    assert os.listdir(real) == []
    # a trailing slash does not make lstat follow it
    p = mmscope("run", "-o", str(link) + "/", "--", "touch", marker)
    refused(p, marker, "symbolic link")
    assert os.listdir(real) == []


def test_a_directory_of_another_user_is_refused(tmp_path, marker):
    out = tmp_path / "theirs.d"
    out.mkdir(mode=0o700)
    os.chown(out, NOBODY, NOBODY)
    p = mmscope("run", "-o", str(out), "--", "touch", marker)
    refused(p, marker, str(out), f"uid {NOBODY}", "not to you")


@pytest.mark.parametrize("bits", [0o777, 0o770, 0o1777])
def test_a_directory_writable_by_others_is_refused(tmp_path, marker, bits):
    out = tmp_path / "open.d"
    out.mkdir()
    os.chmod(out, bits)
    p = mmscope("run", "-o", str(out), "--", "touch", marker)
    refused(p, marker, str(out), "writable by others", f"chmod go-w {out}")


@pytest.mark.parametrize("force", [False, True])
def test_a_non_trace_file_is_refused_by_name_and_nothing_is_deleted(tmp_path, marker, force):
    out = str(tmp_path / "t.d")
    first = mmscope("run", "-o", out, "--", "true")
    assert first.returncode == 0, first.stderr
    with open(os.path.join(out, "notes.txt"), "w") as f:
        f.write("mine\n")
    before = sorted(os.listdir(out))
    p = mmscope("run", *(["--force"] if force else []), "-o", out, "--", "touch", marker)
    refused(p, marker, "'notes.txt'", "not part of a trace")
    assert sorted(os.listdir(out)) == before


def test_a_subdirectory_named_like_a_trace_file_is_not_one(tmp_path, marker):
    out = tmp_path / "t.d"
    out.mkdir(mode=0o700)
    (out / "core.1").mkdir()
    p = mmscope("run", "--force", "-o", str(out), "--", "touch", marker)
    refused(p, marker, "'core.1'")
    assert (out / "core.1").is_dir()


def test_force_removes_a_planted_symlink_never_what_it_points_to(tmp_path, marker):
    out = str(tmp_path / "t.d")
    first = mmscope("run", "-o", out, "--", "true")
    assert first.returncode == 0, first.stderr
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for name in ("config", "agent.log", "seq"):
        os.unlink(os.path.join(out, name))
        os.symlink(victim, os.path.join(out, name))
    # without --force it is an old trace: refused, untouched
    p = mmscope("run", "-o", out, "--", "touch", marker)
    refused(p, marker, "already holds a trace", "--force")
    p = mmscope("run", "--force", "-o", out, "--", "touch", marker)
    assert p.returncode == 0, p.stderr
    assert victim.read_text() == "precious\n"
    for name in ("config", "agent.log", "seq"):
        assert not os.path.islink(os.path.join(out, name)), name


def test_every_kind_of_trace_file_is_replaced_by_force(tmp_path):
    out = tmp_path / "t.d"
    out.mkdir(mode=0o700)
    old = ["1-1-1.mms", "maps-1-2", "seq", "config", "agent.log", "core.1234"]
    for n in old:
        (out / n).write_text("old\n")
    p = mmscope("run", "--force", "-o", str(out), "--", "true")
    assert p.returncode == 0, p.stderr
    for n in ("1-1-1.mms", "maps-1-2", "core.1234"):
        assert not (out / n).exists(), n
    assert (out / "seq").stat().st_size == 4096


# --- the program: one clear line, nothing left behind ---------------------------

def test_a_directory_given_as_the_program_is_one_clear_line(tmp_path):
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--", str(tmp_path))
    assert p.returncode == 126
    assert p.stderr.strip() == \
        f"mmscope run: cannot run '{tmp_path}': it is a directory, not a program"
    assert not os.path.exists(out), "a trace directory was left behind"


def test_a_setuid_program_of_another_user_is_one_clear_line(tmp_path):
    exe = tmp_path / "suid-true"
    with open("/bin/true", "rb") as src, open(exe, "wb") as dst:
        dst.write(src.read())
    os.chown(exe, NOBODY, NOBODY)
    os.chmod(exe, 0o4755)
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--", str(exe))
    assert p.returncode == 126
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "set-user-ID" in lines[0] and "LD_PRELOAD" in lines[0], p.stderr
    assert not os.path.exists(out)


# --- the summary at exit ----------------------------------------------------------

def test_the_exit_record_carries_the_programs_pid_and_tid(tmp_path):
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--map", MARKS_GLOB, "--", MARKS, "api")
    assert p.returncode == 0, p.stderr
    pid = int(re.search(r"^PID (\d+)$", p.stdout, re.M).group(1))
    exits = [r for r in show_json(out) if r["type"] == "proc" and r["event"] == "exit"]
    assert len(exits) == 1
    assert exits[0]["pid"] == pid and exits[0]["tid"] == pid


def test_raw_mmap_off_is_listed_as_untraced_at_exit(tmp_path):
    out = str(tmp_path / "t.d")
    p = mmscope("run", "--raw-mmap=off", "-o", out, "--", "true")
    assert p.returncode == 0, p.stderr
    assert re.search(r"warning: pid \d+: --raw-mmap=off: .*not traced", p.stderr), p.stderr
    assert "1 not traced" in p.stderr
    untraced = [r for r in show_json(out) if r["type"] == "proc" and r["event"] == "untraced"]
    assert len(untraced) == 1 and untraced[0]["text"].startswith("--raw-mmap=off")


def test_raw_mmap_wants_trap_or_off(tmp_path, marker):
    p = mmscope("run", "--raw-mmap=maybe", "-o", str(tmp_path / "t.d"), "--", "touch", marker)
    assert p.returncode == 2 and "'trap' or 'off'" in p.stderr, p.stderr
    assert not os.path.exists(marker)


@pytest.fixture
def small_disk():
    d = tempfile.mkdtemp(prefix="mmscope-full-", dir="/tmp")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", d],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(d)
        pytest.skip(f"cannot mount a small tmpfs to fill (needs CAP_SYS_ADMIN): {r.stderr}")
    yield d
    subprocess.run(["umount", d], check=False)
    os.rmdir(d)


def test_a_full_disk_is_reported_with_the_lost_count_and_the_programs_status(small_disk):
    out = os.path.join(small_disk, "t.d")
    loop = os.path.join(BUILD, "bench", "traced_loop")
    n = 40000
    p = run_group([MMSCOPE, "run", "-o", out, "--map", "/memfd:bench*", "--",
                      loop, "store", str(n)], timeout=300)
    assert p.returncode == 0, p.stderr          # the program's own status
    total = int(re.search(r"total=(\d+)", p.stdout).group(1))
    m = re.search(r"warning: (\d+) records lost: disk full", p.stderr)
    assert m, p.stderr
    recs = show_json(out, check=False)
    lost = sum(r["count"] for r in recs if r["type"] == "lost")
    accesses = sum(r.get("count", 1) for r in recs if r["type"] == "access")
    assert int(m.group(1)) == lost
    assert accesses < total <= accesses + lost
    m = re.search(r"mmscope: (\d+) accesses", p.stderr)
    assert m and int(m.group(1)) == accesses, p.stderr


# --- mmscope mark -------------------------------------------------------------------

class Waiting:
    """`mmscope run ... marks wait` (as argv prefix says), stopped at READY."""

    def __init__(self, argv, trace_dir):
        self.trace_dir = trace_dir
        self.p = grouprun.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines = []
        for line in self.p.stdout:
            lines.append(line)
            if line.startswith("READY"):
                break
        assert lines and lines[-1].startswith("READY"), "".join(lines)
        self.pid = int(re.search(r"^PID (\d+)$", "".join(lines), re.M).group(1))

    def finish(self):
        out, err = self.p.communicate("go\n", timeout=120)
        return self.p.returncode, err


@pytest.fixture
def waiting():
    started = []

    def start(argv, trace_dir):
        w = Waiting(argv, trace_dir)
        started.append(w)
        return w

    yield start
    for w in started:
        if w.p.poll() is None:
            grouprun.kill(w.p)


def marks_of(trace_dir):
    return [r for r in show_json(trace_dir) if r["type"] == "mark"]


def test_mark_given_the_pid_of_mmscope_run_marks_its_programs_trace(tmp_path, waiting):
    out = str(tmp_path / "t.d")
    w = waiting([MMSCOPE, "run", "-o", out, "--map", MARKS_GLOB, "--", MARKS, "wait"], out)
    m = mmscope("mark", "--pid", str(w.p.pid), "via", "run")
    assert m.returncode == 0, m.stderr
    rc, err = w.finish()
    assert rc == 0, err
    marks = marks_of(out)
    assert [(r["text"], r["pid"], r["tid"]) for r in marks] == [("via run", w.pid, w.pid)]


def test_mark_given_the_trace_directory(tmp_path, waiting):
    out = str(tmp_path / "t.d")
    w = waiting([MMSCOPE, "run", "-o", out, "--map", MARKS_GLOB, "--", MARKS, "wait"], out)
    m = mmscope("mark", out, "via", "dir")
    assert m.returncode == 0, m.stderr
    rc, err = w.finish()
    assert rc == 0, err
    assert [r["text"] for r in marks_of(out)] == ["via dir"]


def test_mark_as_root_writes_a_users_trace_as_that_user(shared_tmp, waiting):
    home = os.path.join(shared_tmp, "home")
    os.mkdir(home, 0o700)
    os.chown(home, NOBODY, NOBODY)
    out = os.path.join(home, "t.d")
    w = waiting(AS_NOBODY + [MMSCOPE, "run", "-o", out, "--map", MARKS_GLOB, "--",
                             MARKS, "wait"], out)
    before = set(os.listdir(out))
    m = mmscope("mark", "--pid", str(w.pid), "as", "nobody")
    assert m.returncode == 0, m.stderr
    new = [n for n in set(os.listdir(out)) - before if n.endswith(".mms")]
    assert len(new) == 1
    st = os.lstat(os.path.join(out, new[0]))
    assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY), "mark wrote as root"
    rc, err = w.finish()
    assert rc == 0, err


def plant_trace(shared_tmp, seq_target=None):
    """A directory of nobody's that looks like a trace; its seq a symlink
    to a root-only file (or a root-only file itself)."""
    victim = os.path.join(shared_tmp, "victim")
    with open(victim, "wb") as f:
        f.write(b"\0" * 4096)
    os.chmod(victim, 0o600)
    d = os.path.join(shared_tmp, "evil.d")
    os.mkdir(d, 0o700)
    cfg = os.path.join(d, "config")
    with open(cfg, "w") as f:
        f.write(f"mmscope-config 1\nout {d}\n")
    if seq_target == "file":
        with open(os.path.join(d, "seq"), "wb") as f:
            f.write(b"\0" * 4096)
        os.chmod(os.path.join(d, "seq"), 0o600)     # root's, in nobody's directory
    else:
        os.symlink(victim, os.path.join(d, "seq"))
    for n in (d, cfg):
        os.lchown(n, NOBODY, NOBODY)
    return d, cfg, victim


def unchanged(victim):
    with open(victim, "rb") as f:
        return f.read() == b"\0" * 4096


@pytest.mark.parametrize("seq", ["symlink", "file"])
def test_mark_as_root_cannot_be_led_to_a_root_file_through_a_directory(shared_tmp, seq):
    d, _, victim = plant_trace(shared_tmp, "file" if seq == "file" else None)
    m = mmscope("mark", d, "gotcha")
    assert m.returncode == 1
    assert d in m.stderr and "seq" in m.stderr, m.stderr
    assert unchanged(victim)
    assert not [n for n in os.listdir(d) if n.endswith(".mms")]


@pytest.mark.parametrize("seq", ["symlink", "file"])
def test_mark_as_root_cannot_be_led_to_a_root_file_through_a_process(shared_tmp, seq):
    d, cfg, victim = plant_trace(shared_tmp, "file" if seq == "file" else None)
    # a process of nobody's whose environment names the planted trace
    env = {"PATH": os.environ["PATH"], "MMSCOPE_CONFIG": cfg}
    p = grouprun.start(AS_NOBODY + ["sh", "-c", "echo ready; exec cat"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        m = mmscope("mark", "--pid", str(p.pid), "gotcha")
    finally:
        grouprun.kill(p)
    assert m.returncode == 1, m.stderr
    assert "seq" in m.stderr, m.stderr
    assert unchanged(victim)


def test_a_disk_too_full_for_the_trace_still_runs_the_program_and_says_so(small_disk, marker):
    st = os.statvfs(small_disk)
    subprocess.run(["fallocate", "-l", str(st.f_bavail * st.f_frsize),
                    os.path.join(small_disk, "filler")], check=True)
    out = os.path.join(small_disk, "t.d")
    p = mmscope("run", "-o", out, "--", "touch", marker)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(marker), "a full disk kept the program from running"
    assert re.search(r"warning: .*disk full.*runs untraced", p.stderr), p.stderr
    assert os.listdir(out) == [], "half a trace was left behind"
