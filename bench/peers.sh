#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/peers.sh: what mmscope costs Debian's own ring users, appended to
# bench/RESULTS.md as section 7 (replacing an older section 7; `make
# bench` runs run.sh, watch.sh, then this; `make bench-peers` this alone).
#
#   7a. fio, ioengine=io_uring, 4 KiB random reads of a cached 16 MiB file:
#       queue depth 1 and 8, with and without sqthread_poll, natively and
#       under `mmscope run --map 'anon_inode:[io_uring]'`
#   7b. tcpdump -c N from lo through its TPACKET_V3 ring, natively and
#       under `mmscope run --map 'socket:*'`, the N datagrams sent by the
#       driver as fast as it can once tcpdump says it is listening
#
# Same method as run.sh: medians of REPS repetitions, the native and the
# traced run back to back inside each repetition (their order alternating),
# ratios taken within the repetition.  Every traced run is checked: fio
# must report the I/Os the native run did, tcpdump must capture all N, and
# the trace must hold access records and no LOST ones.
# Knobs: BENCH_REPS (7), BENCH_FIO_SIZE (16M), BENCH_PACKETS (20000),
# BENCH_OUT.  About two minutes on the 2-core VM.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-7}
FIO_SIZE=${BENCH_FIO_SIZE:-16M}
PACKETS=${BENCH_PACKETS:-20000}
OUT=${BENCH_OUT:-bench/RESULTS.md}
MMSCOPE=$B/mmscope
BB=$B/bench
PY=/usr/bin/python3
for f in "$MMSCOPE" "$B/libmmscope-agent.so" "$BB/stream_stats" "$BB/segv_baseline" /usr/bin/fio /usr/bin/tcpdump "$PY"; do
	[ -x "$f" ] || { echo "bench/peers.sh: $f missing; run 'make' and scripts/deps.sh first" >&2; exit 2; }
done
. "$(dirname "$0")/lib.sh"
bench_init mmscope-pbench

# check_trace DIR WHAT: access records present, none lost; sets ACCESSES
check_trace() {
	local stats
	stats=$("$BB/stream_stats" "$1") || { problem "$2: stream_stats cannot decode the trace"; ACCESSES=; return; }
	ACCESSES=$(field access "$stats")
	[ "${ACCESSES:-0}" -gt 0 ] || problem "$2: no access record in the trace"
	[ "$(field lost "$stats")" = 0 ] || problem "$2: $(field lost "$stats") LOST records"
}

# ------------------------------------------------------------------ 7a ---
FIO_CONFIGS="q1 q8 q1s q8s"
fio_args() {
	local c=$1
	printf '%s ' --name=bench --filename="$WORK/fio.dat" --size="$FIO_SIZE" --bs=4k \
		--rw=randread --ioengine=io_uring --direct=0 --iodepth="${c:1:1}" \
		--output-format=json --output="$WORK/fio.json"
	[ "${c:2:1}" = s ] && printf '%s ' --sqthread_poll=1
}
label_fio() {
	case $1 in
	q1) echo "qd 1" ;; q8) echo "qd 8" ;; q1s) echo "qd 1, sqthread_poll" ;; q8s) echo "qd 8, sqthread_poll" ;;
	esac
}
# fio_one KEY CMD...: one run; samples KEY_iops, KEY_wall (ms); sets IOS
fio_one() {
	local key=$1 t0 t1 rep
	shift
	rm -f "$WORK/fio.json"
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$WORK/stderr" || { problem "$key: exit $? ($(head -c 300 "$WORK/stderr"))"; IOS=; return 1; }
	t1=$(date +%s%N)
	rep=$("$PY" -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
print(j["error"], j["read"]["total_ios"], j["read"]["iops"])' "$WORK/fio.json") ||
		{ problem "$key: no fio JSON report"; IOS=; return 1; }
	set -- $rep
	[ "$1" = 0 ] || problem "$key: fio job error $1"
	IOS=$2
	add "${key}_iops" "$3"
	add "${key}_wall" "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e6 }')"
}

log "bench: 7a. fio io_uring ($REPS repetitions, $FIO_SIZE of 4 KiB random reads)"
# lay the file out once, untimed, so that no run pays for it
/usr/bin/fio $(fio_args q1) >/dev/null 2>&1 || problem "fio cannot run: $(head -c 300 "$WORK/fio.json")"
for c in $FIO_CONFIGS; do
	a=$(fio_args $c)
	CMD[fn_$c]="/usr/bin/fio ${a% }"
	CMD[ft_$c]="$MMSCOPE run -q -f -o $WORK/t --map 'anon_inode:[io_uring]' -- /usr/bin/fio ${a% }"
done
for ((r = 0; r < REPS; r++)); do
	log "  repetition $((r + 1))/$REPS"
	BASE=$("$BB/segv_baseline" mixed 20000 | sed -n 's/.*ns_per_fault=\([0-9.]*\).*/\1/p')
	[ -n "$BASE" ] && add base "$BASE"
	for c in $FIO_CONFIGS; do
		order="n t"
		[ $((r % 2)) = 1 ] && order="t n"
		nios= tios=
		for who in $order; do
			if [ $who = n ]; then
				fio_one "fn_$c" /usr/bin/fio $(fio_args $c) && nios=$IOS
			else
				rm -rf "$WORK/t"
				fio_one "ft_$c" "$MMSCOPE" run -q -f -o "$WORK/t" --map 'anon_inode:[io_uring]' \
					-- /usr/bin/fio $(fio_args $c) && tios=$IOS
				check_trace "$WORK/t" "fio $(label_fio $c) under mmscope"
				[ -n "$tios" ] && [ -n "$ACCESSES" ] && add "fa_$c" "$(ratio "$ACCESSES" "$tios")"
			fi
		done
		[ -n "$nios" ] && [ -n "$tios" ] || continue
		[ "$nios" = "$tios" ] || problem "fio $(label_fio $c): $tios I/Os under mmscope, $nios natively"
		ni=$(tail -n1 "$S/fn_${c}_iops") ti=$(tail -n1 "$S/ft_${c}_iops")
		add "fr_$c" "$(ratio "$ni" "$ti")"
		# what tracing adds to one I/O, and per traced access, against the
		# bare SIGSEGV round trip of this repetition
		add "fu_$c" "$(awk -v n="$ni" -v t="$ti" 'BEGIN { printf "%.2f", 1e6 / t - 1e6 / n }')"
		if [ -s "$S/fa_$c" ] && [ -n "$BASE" ]; then
			add "fb_$c" "$(awk -v n="$ni" -v t="$ti" -v a="$(tail -n1 "$S/fa_$c")" -v b="$BASE" \
				'BEGIN { printf "%.3f", (1e9 / t - 1e9 / n) / a / b }')"
		fi
		add "fw_$c" "$(ratio "$(tail -n1 "$S/ft_${c}_wall")" "$(tail -n1 "$S/fn_${c}_wall")")"
	done
done
rm -rf "$WORK/t" "$WORK/fio.dat"

# ------------------------------------------------------------------ 7b ---
# The driver: starts tcpdump (under PREFIX...), waits for "listening on",
# sends N datagrams of 64 bytes to a socket of its own, waits for tcpdump
# to exit and prints wall_ns (first datagram sent to tcpdump reaped),
# cpu_ns (user + system time of tcpdump, and of mmscope with it, from
# wait4), captured and dropped (tcpdump's own counts).  Its process group
# is killed if tcpdump has not finished after 300 s.
cat >"$WORK/tcpdump_drive.py" <<'PY'
import os, re, signal, socket, subprocess, sys, threading, time
n, pcap, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
tx.bind(("127.0.0.1", 0))
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
sport, dport = tx.getsockname()[1], rx.getsockname()[1]
argv = prefix + ["/usr/bin/tcpdump", "-i", "lo", "-n", "-Z", "root", "-Q", "in", "-B", "16384",
                 "-c", str(n), "-w", pcap, f"udp and src port {sport} and dst port {dport}"]
p = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                     start_new_session=True)
timer = threading.Timer(300, lambda: os.killpg(p.pid, signal.SIGKILL))
timer.start()
err = ""
for line in p.stderr:
    err += line
    if "listening on" in line:
        break
data = b"x" * 64
t0 = time.monotonic_ns()
for i in range(n):
    tx.sendto(data, ("127.0.0.1", dport))
err += p.stderr.read()
_, status, ru = os.wait4(p.pid, 0)
t1 = time.monotonic_ns()
timer.cancel()
cap = re.search(r"(\d+) packets captured", err)
drop = re.search(r"(\d+) packets dropped by kernel", err)
print(f"status={status} wall_ns={t1 - t0} cpu_ns={int((ru.ru_utime + ru.ru_stime) * 1e9)} "
      f"captured={cap.group(1) if cap else -1} dropped={drop.group(1) if drop else -1}")
sys.stderr.write(err)
PY
# tcp_one KEY [PREFIX...]: one capture; samples KEY_wall, KEY_cpu (ms)
tcp_one() {
	local key=$1 o
	shift
	o=$("$PY" "$WORK/tcpdump_drive.py" "$PACKETS" "$WORK/cap.pcap" "$@" 2>"$WORK/stderr")
	if [ "$(field status "$o")" != 0 ]; then
		problem "$key: tcpdump wait status $(field status "$o") ($(head -c 300 "$WORK/stderr"))"
		return 1
	fi
	[ "$(field captured "$o")" = "$PACKETS" ] ||
		problem "$key: tcpdump captured $(field captured "$o") of $PACKETS"
	add "${key}_wall" "$(awk -v d="$(field wall_ns "$o")" 'BEGIN { printf "%.3f", d / 1e6 }')"
	add "${key}_cpu" "$(awk -v d="$(field cpu_ns "$o")" 'BEGIN { printf "%.3f", d / 1e6 }')"
	add "${key}_drop" "$(field dropped "$o")"
}
TCP_RUNS="/usr/bin/tcpdump -i lo -n -Z root -Q in -B 16384 -c $PACKETS -w $WORK/cap.pcap 'udp and src port SPORT and dst port DPORT'"
CMD[tn]="$PY $WORK/tcpdump_drive.py $PACKETS $WORK/cap.pcap"
CMD[tt]="$PY $WORK/tcpdump_drive.py $PACKETS $WORK/cap.pcap $MMSCOPE run -q -f -o $WORK/t --map 'socket:*' --"
log "bench: 7b. tcpdump ($REPS repetitions, $PACKETS datagrams)"
for ((r = 0; r < REPS; r++)); do
	order="n t"
	[ $((r % 2)) = 1 ] && order="t n"
	BASE=$("$BB/segv_baseline" mixed 20000 | sed -n 's/.*ns_per_fault=\([0-9.]*\).*/\1/p')
	[ -n "$BASE" ] && add base "$BASE"
	ok=1
	for who in $order; do
		if [ $who = n ]; then
			tcp_one tn || ok=0
		else
			rm -rf "$WORK/t"
			tcp_one tt "$MMSCOPE" run -q -f -o "$WORK/t" --map 'socket:*' -- || ok=0
			check_trace "$WORK/t" "tcpdump under mmscope"
			[ -n "$ACCESSES" ] && add ta "$(ratio "$ACCESSES" "$PACKETS")"
		fi
	done
	[ $ok = 1 ] || continue
	add tr_cpu "$(ratio "$(tail -n1 "$S/tt_cpu")" "$(tail -n1 "$S/tn_cpu")")"
	# CPU added per packet, per traced access, in bare round trips
	[ -n "$BASE" ] && [ -s "$S/ta" ] && add tb "$(awk -v t="$(tail -n1 "$S/tt_cpu")" \
		-v n="$(tail -n1 "$S/tn_cpu")" -v p="$PACKETS" -v a="$(tail -n1 "$S/ta")" -v b="$BASE" \
		'BEGIN { printf "%.3f", (t - n) * 1e6 / p / a / b }')"
	add tr_wall "$(ratio "$(tail -n1 "$S/tt_wall")" "$(tail -n1 "$S/tn_wall")")"
done

# ---------------------------------------------------------------- write ---
section() {
cat <<EOF

## 7. Debian's ring users: fio (io_uring) and tcpdump (packet mmap)

Written by \`bench/peers.sh\` (also run by \`make bench\`; \`make bench-peers\`
alone), $(date -u '+%Y-%m-%d %H:%M:%S UTC'), git \`$(git describe --always --dirty 2>/dev/null)\`;
$(fio --version), tcpdump $(tcpdump --version 2>&1 | sed -n 's/^tcpdump version //p'),
$(tcpdump --version 2>&1 | sed -n 's/^libpcap version //p' | sed 's/^/libpcap /'); Linux $(uname -r), $(nproc) CPUs.  Medians of **$REPS**
repetitions; in each one the native and the traced run go back to back
(order alternating) and the ratio is taken within it; "spread" is
minimum–maximum over the repetitions.  Every traced run was checked: fio
reported the I/Os the native run did, tcpdump captured all $PACKETS, and the
trace held access records and no LOST record (\`build/bench/stream_stats\`).

### 7a. fio, io_uring, 4 KiB random reads of a cached $FIO_SIZE file

IOPS as fio reports them (\`read.iops\` of its JSON report).  "accesses
per I/O": traced accesses to the rings and SQEs divided by the I/Os (every
SQE field fio writes, the tail and head words, the CQE fields it reads).
"added µs per I/O" = 1/traced IOPS − 1/native IOPS; divided by the
accesses per I/O and by the bare SIGSEGV round trip measured in the same
repetition (\`$BB/segv_baseline mixed 20000\`, median here $(median base) ns:
the trap into the kernel and back that every traced access pays at the
least), it says how many round trips' worth one traced access costs fio.
Wall time: the whole process (\`date +%s%N\` around the command, fio's
set-up and the job's fork included).  With sqthread_poll the kernel's
polling thread competes with fio for this VM's 2 CPUs, and fio polls the
rings while it waits, so those rows (their accesses per I/O too) move with
the scheduling of the moment: read them with their spread.

| set-up | native IOPS | traced IOPS | slowdown: native ÷ traced IOPS (spread) | accesses per I/O | added µs per I/O | per access ÷ bare round trip | wall ms native / traced | wall traced ÷ native |
|---|---|---|---|---|---|---|---|---|
EOF
for c in $FIO_CONFIGS; do
	echo "| $(label_fio $c) | $(median fn_${c}_iops) | $(median ft_${c}_iops) | **$(median fr_$c)×** ($(spread fr_$c)) | $(median fa_$c) | $(median fu_$c) | $(median fb_$c)× | $(median fn_${c}_wall) / $(median ft_${c}_wall) | $(median fw_$c)× |"
done
cat <<EOF

| figure | command |
|---|---|
EOF
for c in $FIO_CONFIGS; do
	echo "| $(label_fio $c), native | \`$(show_cmd "${CMD[fn_$c]}")\` |"
	echo "| $(label_fio $c), traced | \`$(show_cmd "${CMD[ft_$c]}")\` |"
done
cat <<EOF

### 7b. tcpdump -c $PACKETS from lo (TPACKET_V3)

The driver (a Python script inside \`bench/peers.sh\`) starts tcpdump, waits
for its "listening on", sends $PACKETS 64-byte datagrams from one socket of
its own to another as fast as it can, and reaps tcpdump.  CPU time is
tcpdump's user + system time (under mmscope: tcpdump's with mmscope's,
from \`wait4\`), the cost the trace adds; wall time runs from the first
datagram sent to tcpdump reaped and includes the wait for libpcap's block
timeout (1 s) to hand over the last block, whatever the speed.  \`-B 16384\`
(a 16 MiB ring) so that the kernel drops nothing in either run; \`-Q in\`
captures each datagram once (lo shows it leaving and arriving, and the ring
gets both).

| measure | native | traced | traced ÷ native (spread) |
|---|---|---|---|
| CPU ms | $(median tn_cpu) ($(spread tn_cpu)) | $(median tt_cpu) ($(spread tt_cpu)) | **$(median tr_cpu)×** ($(spread tr_cpu)) |
| wall ms | $(median tn_wall) ($(spread tn_wall)) | $(median tt_wall) ($(spread tt_wall)) | $(median tr_wall)× ($(spread tr_wall)) |
| packets dropped by kernel | $(median tn_drop) | $(median tt_drop) | |
| traced accesses per captured packet | | $(median ta) | |
| CPU added per traced access ÷ bare SIGSEGV round trip | | | $(median tb)× |

| figure | command |
|---|---|
| native | \`$(show_cmd "${CMD[tn]}")\` |
| traced | \`$(show_cmd "${CMD[tt]}")\` |

\`\$WORK/tcpdump_drive.py\` is the driver bench/peers.sh writes; it runs
\`$(show_cmd "$TCP_RUNS")\` after its arguments (SPORT, DPORT: the ports
of its two sockets).
EOF
if [ -s "$PROBLEMS" ]; then
	printf '\n### Problems found by the peer benchmarks\n\n'
	sort -u "$PROBLEMS"
fi
}

log "bench: writing section 7 of $OUT"
section >"$WORK/section"
if [ -f "$OUT" ]; then
	# an older section 7 (and whatever followed it) makes way for this one
	awk '/^## 7\. / { exit } { print }' "$OUT" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$WORK/head"
else
	: >"$WORK/head"
fi
cat "$WORK/head" "$WORK/section" >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
log "bench: done"
[ -s "$PROBLEMS" ] && exit 1
exit 0
