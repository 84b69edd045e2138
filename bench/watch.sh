#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/watch.sh: the watchpoint figures, appended to bench/RESULTS.md
# (`make bench` runs bench/run.sh, which writes the file, then this).
#
#   5. cost per hit: debug register, page, and a miss on a watched page,
#      as ratios to the bare SIGSEGV round trip, to a bare data-breakpoint
#      trap and to part 1's traced fault, all measured in the same run
#   6. side by side with gdb: hardware watchpoints (up to its limit),
#      software watchpoints, and mmscope with 1, 4, 5 and 64 watchpoints
#
# Same method as run.sh: medians of REPS repetitions, the things compared
# run back to back inside each repetition, ratios taken per repetition.
# Knobs: BENCH_REPS (5), BENCH_WN (20000 stores), BENCH_SPREAD (16384
# stores), BENCH_OUT.  About three minutes on the 2-core VM.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-5}
N=${BENCH_WN:-20000}
SPREAD=${BENCH_SPREAD:-16384}
OUT=${BENCH_OUT:-bench/RESULTS.md}
MMSCOPE=$B/mmscope
BB=$B/bench
. "$(dirname "$0")/lib.sh"
bench_need bench/watch.sh "$MMSCOPE" "$BB/watch_loop" "$BB/segv_baseline" "$BB/traced_loop"
bench_init mmscope-wbench
# numbers as in sections 5 and 6: whole above 100, else 3 significant digits
AWK_FMT='function fmt(x) { return sprintf(x >= 100 ? "%.0f" : "%.3g", x) }'

hits_in() { "$MMSCOPE" show --format=json --watch-only "$1" | grep -c '"type":"hit"'; }

# ------------------------------------------------------------------ 5 ---
# run KEY CMD...: the in-loop ns per store of one run into KEY
run_ns() {
	local key=$1 out
	shift
	CMD[$key]="$*"
	out=$("$@" 2>"$WORK/stderr") || { problem "$key: exit $? ($(head -c 200 "$WORK/stderr"))"; return 1; }
	add "$key" "$(field ns_per_store "$out")$(field ns_per_fault "$out")$(field ns_per_access "$out")"
}

W="$MMSCOPE run -q -f -o $WORK/w"
log "bench: 5. cost per watchpoint hit ($REPS repetitions, $N stores)"
for ((r = 0; r < REPS; r++)); do
	run_ns bare "$BB/segv_baseline" store "$N"
	run_ns hwbare "$BB/watch_loop" hwbare "$N"
	run_ns traced $MMSCOPE run -q -f -o "$WORK/t" --map '/memfd:bench*' -- "$BB/traced_loop" store "$N"
	for bt in bt nobt; do
		o=""
		[ $bt = nobt ] && o="--no-backtrace"
		run_ns "hw_$bt" $W $o --hw-slots=1 --watch g:8 -- "$BB/watch_loop" hit "$N" &&
			{ [ "$(hits_in "$WORK/w")" = $((N + 1024)) ] || problem "hw hit: $(hits_in "$WORK/w") hits for $((N + 1024)) stores"; }
		run_ns "page_$bt" $W $o --hw-slots=0 --watch g:8 -- "$BB/watch_loop" hit "$N" &&
			{ [ "$(hits_in "$WORK/w")" = $((N + 1024)) ] || problem "page hit: $(hits_in "$WORK/w") hits for $((N + 1024)) stores"; }
	done
	run_ns miss $W --hw-slots=0 --watch g:8 -- "$BB/watch_loop" miss "$N" &&
		{ [ "$(hits_in "$WORK/w")" = 0 ] || problem "page miss: $(hits_in "$WORK/w") hits, expected 0"; }
	# ratios within the repetition
	b=$(tail -n1 "$S/bare"); h=$(tail -n1 "$S/hwbare"); t=$(tail -n1 "$S/traced")
	for k in hw_bt hw_nobt page_bt page_nobt miss; do
		[ -s "$S/$k" ] || continue
		v=$(tail -n1 "$S/$k")
		add "${k}_bare" "$(ratio "$v" "$b")"
		add "${k}_hwbare" "$(ratio "$v" "$h")"
		add "${k}_traced" "$(ratio "$v" "$t")"
	done
	add traced_bare "$(ratio "$t" "$b")"
done

# ------------------------------------------------------------------ 6 ---
gdb_script() {         # gdb_script FILE SOFTWARE(0|1) K: watch g.w[0..K-1], auto-continue
	local f=$1 sw=$2 k=$3
	{
		echo "set pagination off"
		echo "set confirm off"
		[ "$sw" = 1 ] && echo "set can-use-hw-watchpoints 0"
		echo "break main"
		echo "run"
		for ((i = 0; i < k; i++)); do
			echo "watch -l g.w[$i]"
			echo "commands"
			echo "silent"
			echo "continue"
			echo "end"
		done
		echo "continue"
	} >"$f"
}

# wall KEY CMD...: whole-process milliseconds into KEY
wall() {
	local key=$1 t0 t1
	shift
	CMD[$key]="$*"
	t0=$(date +%s%N)
	"$@" >"$WORK/out" 2>"$WORK/stderr" || problem "$key: exit $?"
	t1=$(date +%s%N)
	add "$key" "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e6 }')"
}

HWMAX=$("$MMSCOPE" probe --json | sed -n 's/.*"write_fire":\([0-9]*\).*/\1/p')
HWMAX=${HWMAX:-0}
[ "$HWMAX" -gt 4 ] && HWMAX=4
GDB=no
command -v gdb >/dev/null && GDB=yes
gdb_script "$WORK/gdb_hw1" 0 1
gdb_script "$WORK/gdb_hwmax" 0 "$HWMAX"
gdb_script "$WORK/gdb_sw1" 1 1
gdb_script "$WORK/gdb_none" 0 0
KS="1 4 5 64"
log "bench: 6. side by side with gdb ($REPS repetitions, watch_loop spread $SPREAD)"
for ((r = 0; r < REPS; r++)); do
	wall native "$BB/watch_loop" spread "$SPREAD"
	if [ $GDB = yes ]; then
		wall gdb_none gdb -nx -batch -x "$WORK/gdb_none" --args "$BB/watch_loop" spread "$SPREAD"
		wall gdb_hw1 gdb -nx -batch -x "$WORK/gdb_hw1" --args "$BB/watch_loop" spread "$SPREAD"
		[ "$HWMAX" -gt 0 ] &&
			wall gdb_hwmax gdb -nx -batch -x "$WORK/gdb_hwmax" --args "$BB/watch_loop" spread "$SPREAD"
		wall gdb_sw1 gdb -nx -batch -x "$WORK/gdb_sw1" --args "$BB/watch_loop" spread "$SPREAD"
		grep -q "sum=" "$WORK/out" || problem "gdb software watchpoint run did not finish"
	fi
	for k in $KS; do
		args=()
		for ((i = 0; i < k; i++)); do args+=(--watch "g+$((128 + 8 * i)):8"); done
		wall "mm$k" $MMSCOPE run -q -f -o "$WORK/s" "${args[@]}" -- "$BB/watch_loop" spread "$SPREAD"
		want=$((SPREAD / 64 * k))
		got=$(hits_in "$WORK/s")
		[ "$got" = "$want" ] || problem "mmscope with $k watchpoints: $got hits, expected $want"
	done
done
CMD[mmk]="$MMSCOPE run -q -f -o $WORK/s --watch g+128:8 [--watch g+136:8 ...] -- $BB/watch_loop spread $SPREAD"

# ---------------------------------------------------------------- write ---
{
cat <<EOF

## 5. Cost per watchpoint hit

Written by \`bench/watch.sh\` (also run by \`make bench\`), $(date -u '+%Y-%m-%d %H:%M:%S UTC'),
git \`$(git rev-parse --short HEAD 2>/dev/null)\`; medians of **$REPS** repetitions, each ratio taken
within its repetition.  \`bench/watch_loop.c\` stores to \`g.target\`
(\`--watch g:8\`) $N times after 1024 untimed warm-up stores, timed
in-process.  "miss" stores to \`g.neighbour\`, 64 bytes further on the same
watched page.  Baselines measured in the same repetitions: the bare SIGSEGV
round trip (\`segv_baseline store\`, as in section 1), a bare
data-breakpoint trap (\`watch_loop hwbare\`: a perf_event_open breakpoint of
the program's own with \`sigtrap\` and a handler that only counts), and part
1's traced fault (\`traced_loop store\` under \`--map\`).  "bt": with the
call chain each hit records by default; "no bt": \`--no-backtrace\`.
Every run's trace was checked: exactly one hit per store, none for misses.

| what | ns per store (spread) | ÷ bare SIGSEGV round trip | ÷ bare data-breakpoint trap | ÷ part-1 traced fault |
|---|---|---|---|---|
| bare SIGSEGV round trip | $(median bare) ($(spread bare)) | 1 | | |
| bare data-breakpoint trap | $(median hwbare) ($(spread hwbare)) | | 1 | |
| part-1 traced fault | $(median traced) ($(spread traced)) | $(median traced_bare) | | 1 |
EOF
for k in hw_bt hw_nobt page_bt page_nobt miss; do
	case $k in
	hw_bt) l="hit, debug register, bt" ;;
	hw_nobt) l="hit, debug register, no bt" ;;
	page_bt) l="hit, page, bt" ;;
	page_nobt) l="hit, page, no bt" ;;
	miss) l="miss: other bytes of a watched page" ;;
	esac
	echo "| $l | $(median $k) ($(spread $k)) | **$(median ${k}_bare)×** | $(median ${k}_hwbare)× | $(median ${k}_traced)× |"
done
cat <<EOF

| figure | command |
|---|---|
| bare SIGSEGV round trip | \`$(show_cmd "${CMD[bare]}")\` |
| bare data-breakpoint trap | \`$(show_cmd "${CMD[hwbare]}")\` |
| part-1 traced fault | \`$(show_cmd "${CMD[traced]}")\` |
| hit, debug register | \`$(show_cmd "${CMD[hw_bt]}")\` (no bt: add \`--no-backtrace\`) |
| hit, page | \`$(show_cmd "${CMD[page_bt]}")\` |
| miss | \`$(show_cmd "${CMD[miss]}")\` |

## 6. Side by side with gdb

\`watch_loop spread $SPREAD\` stores to \`g.w[i % 64]\` $SPREAD times, so each
of the 64 variables is written $((SPREAD / 64)) times.  Whole-process wall time
(\`date +%s%N\` around the command).  gdb stops at \`main\` (\`break main\`,
\`run\`), sets \`watch -l g.w[k]\` with \`commands / silent / continue / end\`
so that it records and goes on like mmscope, and continues; "gdb, no
watchpoints" is that session without any watch, gdb's own fixed cost.  gdb's
hardware limit here is $HWMAX watchpoints (\`mmscope probe\`).  mmscope watches
\`g.w[0..k-1]\` (\`--watch g+128:8 ...\`) with its default of at most half the
debug registers, the rest on pages, and records a call chain with every hit.

| run | watchpoints | hits | wall ms (spread) | ÷ native | ÷ gdb, 1 software watchpoint |
|---|---|---|---|---|---|
| native | 0 | 0 | $(median native) ($(spread native)) | 1 | |
EOF
if [ $GDB = yes ]; then
	sw=$(median gdb_sw1)
	for k in gdb_none gdb_hw1 gdb_hwmax gdb_sw1; do
		case $k in
		gdb_none) l="gdb, no watchpoints"; n=0 ;;
		gdb_hw1) l="gdb, hardware"; n=1 ;;
		gdb_hwmax) l="gdb, hardware (its limit)"; n=$HWMAX ;;
		gdb_sw1) l="gdb, software (\`set can-use-hw-watchpoints 0\`)"; n=1 ;;
		esac
		[ -s "$S/$k" ] || continue
		echo "| $l | $n | $((SPREAD / 64 * n)) | $(median $k) ($(spread $k)) | $(ratio "$(median $k)" "$(median native)")× | $(ratio "$(median $k)" "$sw")× |"
	done
fi
for k in $KS; do
	r=""
	[ $GDB = yes ] && r="**$(ratio "$(median mm$k)" "$(median gdb_sw1)")×**"
	echo "| mmscope | $k | $((SPREAD / 64 * k)) | $(median mm$k) ($(spread mm$k)) | $(ratio "$(median mm$k)" "$(median native)")× | $r |"
done
cat <<EOF

| figure | command |
|---|---|
| native | \`$(show_cmd "${CMD[native]}")\` |
EOF
if [ $GDB = yes ]; then
	echo "| gdb | \`gdb -nx -batch -x SCRIPT --args $BB/watch_loop spread $SPREAD\`, SCRIPT as described above (written by bench/watch.sh) |"
fi
echo "| mmscope | \`$(show_cmd "${CMD[mmk]}")\` |"
echo
if [ -s "$PROBLEMS" ]; then
	echo "### Problems found by the watchpoint benchmarks"
	echo
	cat "$PROBLEMS"
fi
} >>"$OUT"
log "bench: watchpoint figures appended to $OUT"
[ -s "$PROBLEMS" ] && exit 1
exit 0
