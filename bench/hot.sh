#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/hot.sh: what a traced access costs on a patched hot site (issue 10,
# docs/design.md "Hot sites"): tests/progs/hotloop (N rounds of a 4-byte
# store and a 4-byte load, 6-byte instructions, on a traced memfd)
# natively, under mmscope on the fault path (--hot=off) and with its two
# sites patched (--hot=16), side by side in each repetition; a bare
# SIGSEGV round trip (bench/segv_baseline) for scale; then fio on
# io_uring (queue depth 1, with and without sqthread_poll) natively,
# --hot=off and --hot=16, with the share of accesses through patched
# sites.  Section 11 of bench/RESULTS.md (replaced if there, else
# appended; `make bench-hot`).
#
# Knobs: BENCH_REPS (5), BENCH_ROUNDS (200000), BENCH_OUT.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-5}
N=${BENCH_ROUNDS:-200000}
OUT=${BENCH_OUT:-bench/RESULTS.md}
PROG=$B/tests/progs/hotloop
SEGV=$B/bench/segv_baseline
MMSCOPE=$B/mmscope
. "$(dirname "$0")/lib.sh"
bench_need bench/hot.sh "$PROG" "$MMSCOPE" "$SEGV"
bench_init mmscope-hbench

ns_of() { # ns_of CMD...: wall nanoseconds of CMD (its stderr in $WORK/err)
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$WORK/err" || problem "failed: $*"
	t1=$(date +%s%N)
	echo $((t1 - t0))
}
# the rounds' own wall time, as hotloop printed it (HOTLOOP_NS) in the
# last ns_of, per access
loop_per() {
	sed -n 's/^LOOP_NS \([0-9]*\)$/\1/p' "$WORK/err" | awk -v n="$((2 * N))" '{ printf "%.1f", $1 / n }'
}
export HOTLOOP_NS=1
MAP=(--map '/memfd:mmscope-hot*')
CMD[native]="$PROG $N"
CMD[off]="$MMSCOPE run -q -f -o $WORK/t --hot=off ${MAP[*]} -- $PROG $N"
CMD[hot]="$MMSCOPE run -q -f -o $WORK/t --hot=16 ${MAP[*]} -- $PROG $N"
CMD[hot0]="$MMSCOPE run -q -f -o $WORK/t --hot=16 ${MAP[*]} -- $PROG 0"
CMD[segv]="$SEGV mixed $((2 * N))"

log "bench: 11. hot sites ($REPS repetitions of $N rounds)"
for rep in $(seq "$REPS"); do
	nat=$(ns_of "$PROG" "$N")
	add loop_native "$(loop_per)"
	zero=$(ns_of "$MMSCOPE" run -q -f -o "$WORK/t" --hot=16 "${MAP[@]}" -- "$PROG" 0)
	off=$(ns_of "$MMSCOPE" run -q -f -o "$WORK/t" --hot=off "${MAP[@]}" -- "$PROG" "$N")
	lo=$(loop_per)
	add loop_off "$lo"
	hot=$(ns_of "$MMSCOPE" run -q -f -o "$WORK/t" --hot=16 "${MAP[@]}" -- "$PROG" "$N")
	lh=$(loop_per)
	add loop_hot "$lh"
	grep -q "hot sites: 2 patched, $((2 * N - 32)) accesses through them ($((2 * N - 32)) on the fast path)" \
		"$WORK/t/agent.log" || problem "not every access after the first 16 went through the fast path: $(grep 'hot sites' "$WORK/t/agent.log")"
	seg=$(ns_of "$SEGV" mixed $((2 * N)))
	add native "$nat"
	add zero "$zero"
	add off "$off"
	add hot "$hot"
	add segv "$seg"
	# per access: mmscope's fixed cost (the same run with 0 rounds) taken away
	add off_per $(((off - zero) / (2 * N)))
	add hot_per $(((hot - zero) / (2 * N)))
	add segv_per $((seg / (2 * N)))
	add ratio "$(awk -v a="$off" -v b="$hot" -v z="$zero" 'BEGIN { printf "%.1f", (a - z) / (b - z) }')"
	add loop_ratio "$(awk -v a="$lo" -v b="$lh" 'BEGIN { printf "%.1f", a / b }')"
done

# ---- whole programs: fio on io_uring, the rings traced ----
FIO=/usr/bin/fio
FIO_ARGS="--name=bench --filename=$WORK/fio.dat --size=16M --bs=4k --rw=randread --ioengine=io_uring --direct=0 --output-format=json --output=$WORK/fio.json"
iops() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["jobs"][0]["read"]["iops"])' "$WORK/fio.json"; }
# through LOG: "<accesses through patched sites> <of them fast>", every
# process of the run (fio's job is a child) summed
through() {
	sed -n 's/.* \([0-9]*\) accesses through them (\([0-9]*\) on the fast path).*/\1 \2/p' "$1" |
		awk '{ a += $1; f += $2 } END { print a + 0, f + 0 }'
}
if [ -x "$FIO" ]; then
	$FIO $FIO_ARGS --iodepth=1 >/dev/null 2>&1 || problem "fio cannot run"
	for c in q1 q1s; do
		extra=--iodepth=1
		[ $c = q1s ] && extra="--iodepth=1 --sqthread_poll=1"
		CMD[fio_${c}_n]="$FIO $FIO_ARGS $extra"
		CMD[fio_${c}_off]="$MMSCOPE run -q -f -o $WORK/t --hot=off --map 'anon_inode:[io_uring]' -- $FIO $FIO_ARGS $extra"
		CMD[fio_${c}_hot]="$MMSCOPE run -q -f -o $WORK/t --hot=16 --map 'anon_inode:[io_uring]' -- $FIO $FIO_ARGS $extra"
		log "bench: 11b. fio $c ($REPS repetitions)"
		for rep in $(seq "$REPS"); do
			$FIO $FIO_ARGS $extra >/dev/null 2>&1 && add "fio_${c}_n" "$(iops)"
			rm -rf "$WORK/t"
			"$MMSCOPE" run -q -f -o "$WORK/t" --hot=off --map 'anon_inode:[io_uring]' -- $FIO $FIO_ARGS $extra >/dev/null 2>&1 &&
				add "fio_${c}_off" "$(iops)"
			rm -rf "$WORK/t"
			"$MMSCOPE" run -q -f -o "$WORK/t" --hot=16 --map 'anon_inode:[io_uring]' -- $FIO $FIO_ARGS $extra >/dev/null 2>&1 &&
				add "fio_${c}_hot" "$(iops)"
			total=$("$B/bench/stream_stats" "$WORK/t" | sed -n 's/.*accesses=\([0-9]*\).*/\1/p')
			set -- $(through "$WORK/t/agent.log")
			add "fio_${c}_share" "$(awk -v a="$1" -v t="${total:-0}" 'BEGIN { printf "%.1f", t ? 100 * a / t : 0 }')"
			add "fio_${c}_fast" "$(awk -v a="$1" -v f="$2" 'BEGIN { printf "%.1f", a ? 100 * f / a : 0 }')"
			grep -h "hot sites" "$WORK/t/agent.log" | sed 's/^mmscope-agent: pid [0-9]*: //' |
				sort | uniq -c | sed 's/^ *//' | tr '\n' ';' >"$WORK/fio_${c}_why"
		done
	done
else
	problem "no /usr/bin/fio (scripts/deps.sh installs it): section 11b left out"
fi

section() {
cat <<EOS

## 11. Hot sites: patched instead of faulting

Measured $(date -u +%Y-%m-%d) by \`bench/hot.sh\` (\`make bench-hot\`), git
\`$(git describe --always --dirty 2>/dev/null)\`, $REPS times each, side by side in every
repetition.

Hot sites are on by default (\`--hot=16\`) since trace format 4;
sections 1 to 10 were measured before, on the git ids they name, when
every access took the fault path (bench/run.sh and bench/park.sh now
pass \`--hot=off\` where they measure it).

### 11a. One traced access

tests/progs/hotloop: $N rounds of a 4-byte store and a 4-byte load
(6-byte instructions) on a traced memfd, $((2 * N)) traced accesses,
natively, on the fault path (\`--hot=off\`) and with both sites patched
after 16 faults (\`--hot=16\`, the default), every later access on the
fast path (src/agent/hot-fast.c; checked in agent.log).  Two figures
per access, recording included (every access is a record of the trace):
"in the program" is the rounds' own wall time as hotloop measures it
around its loop (\`HOTLOOP_NS=1\`: what the program feels); "whole run"
is the run less the same run with 0 rounds (mmscope's start and exit),
which also holds \`mmscope run\`'s reading back of the trace at exit.

| run | whole run, ms (spread) | per access, whole run, ns | per access in the program, ns |
|---|---|---|---|
| native | $(median native 1000000) ($(spread native 1000000)) | — | $(median loop_native) |
| mmscope, 0 rounds (\`--hot=16\`) | $(median zero 1000000) ($(spread zero 1000000)) | — | — |
| mmscope, fault path (\`--hot=off\`) | $(median off 1000000) ($(spread off 1000000)) | $(median off_per) | $(median loop_off) |
| mmscope, patched (\`--hot=16\`) | $(median hot 1000000) ($(spread hot 1000000)) | $(median hot_per) | **$(median loop_hot)** |
| fault path / patched, per access | | $(median ratio)× | **$(median loop_ratio)×** |
| bare SIGSEGV round trips, $((2 * N)) | $(median segv 1000000) ($(spread segv 1000000)) | $(median segv_per) | — |

The goal of issue 10 is ≤ 100 ns per access, ≥ 25× cheaper than the
fault path.  Since trace format version 4 every record goes into the
same 68 KiB tail of the stream file, written out with one pwrite when
full (docs/trace-format.md): before it, the first store to each fresh
page of the stream cost this VM ~10 µs (shadow paging), ~100 ns of the
record (bench/pagecost.c, 64 MiB of 104-byte records; \`build/bench/pagecost /tmp\`
on 2026-12-08: 359–413 ns per record into fresh pages of a file
mapping, 9.3 ns into the same pages again, 22 ns through a 64 KiB
buffer and pwrite).  What is left is
mostly clock_gettime (the largest single item in \`perf record\` of the
patched run) and the stub's entry and exit.

### 11b. fio on io_uring, the rings traced

fio 4 KiB random reads of a cached 16 MiB file, queue depth 1, with and
without sqthread_poll, natively, under \`--hot=off\` and \`--hot=16\`
(\`--map 'anon_inode:[io_uring]'\`).  IOPS as fio reports them (medians;
the sqthread_poll rows move with this 2-CPU VM's scheduling).  "through
patched sites": the share of the trace's accesses (record counts summed,
\`build/bench/stream_stats\`) that went through a patched site, and of
those the share on the fast path.

| set-up | native IOPS | \`--hot=off\` IOPS | \`--hot=16\` IOPS | through patched sites | of them fast |
|---|---|---|---|---|---|
| qd 1 | $(median fio_q1_n) | $(median fio_q1_off) | $(median fio_q1_hot) | $(median fio_q1_share) % | $(median fio_q1_fast) % |
| qd 1, sqthread_poll | $(median fio_q1s_n) | $(median fio_q1s_off) | $(median fio_q1s_hot) | $(median fio_q1s_share) % | $(median fio_q1s_fast) % |

agent.log of the last \`--hot=16\` run of each (why the other hot sites
were not patched):

- qd 1: \`$(cat "$WORK/fio_q1_why" 2>/dev/null)\`
- qd 1, sqthread_poll: \`$(cat "$WORK/fio_q1s_why" 2>/dev/null)\`

| figure | command |
|---|---|
| native | \`$(show_cmd "${CMD[native]}")\` |
| 0 rounds | \`$(show_cmd "${CMD[hot0]}")\` |
| off | \`$(show_cmd "${CMD[off]}")\` |
| hot | \`$(show_cmd "${CMD[hot]}")\` |
| segv | \`$(show_cmd "${CMD[segv]}")\` |
| fio qd 1: native, off, hot | \`$(show_cmd "${CMD[fio_q1_n]:-}")\`, \`$(show_cmd "${CMD[fio_q1_off]:-}")\`, \`$(show_cmd "${CMD[fio_q1_hot]:-}")\` |
| fio qd 1, sqthread_poll | the same with \`--sqthread_poll=1\` |

Problems found:
$(if [ -s "$PROBLEMS" ]; then cat "$PROBLEMS"; else echo "none."; fi)
EOS
}
section | sed '1{/^$/d}' | put_section 11 "$OUT"
log "bench: section 11 written to $OUT"
[ ! -s "$PROBLEMS" ]
