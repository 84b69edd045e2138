#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh: mmscope's performance figures, measured side by side in one
# run, written to bench/RESULTS.md.  `make bench` runs it as B=build.
#
#   1. fault path: ns per traced access vs a bare SIGSEGV round trip
#   2. untraced code: a compute loop under mmscope vs native
#   3. the same traced workload under valgrind lackey vs mmscope vs native
#   4. writer throughput: records/s and bytes/record
#
# Every figure is the median of REPS repetitions.  The runs being compared
# are interleaved inside each repetition (a traced run sits between two
# baseline runs of the same access mix; section 2 and 3 alternate their
# order), and a ratio is taken inside each repetition before the median is
# taken, so that the drift of a noisy shared VM hits both sides alike.
#
# Knobs (environment): BENCH_REPS (11), BENCH_N (100000 traced accesses),
# BENCH_N_SMALL (20000, for valgrind), BENCH_ITERS (100000000 compute
# iterations), BENCH_ITERS_VG (100000 compute iterations under valgrind),
# BENCH_HF_RUNS (10 hyperfine runs), BENCH_OUT (bench/RESULTS.md).
# The whole run takes about two and a half minutes on the 2-core VM.
#
# A benchmark that finds mmscope wrong (a program failing, a record count
# that differs from the access count) says so under "Problems found" and
# makes this script exit 1; its figures are still written.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-11}
N=${BENCH_N:-100000}
N_SMALL=${BENCH_N_SMALL:-20000}
ITERS=${BENCH_ITERS:-100000000}
ITERS_VG=${BENCH_ITERS_VG:-100000}
HF_RUNS=${BENCH_HF_RUNS:-10}
OUT=${BENCH_OUT:-bench/RESULTS.md}
MAP='/memfd:bench*'

MMSCOPE=$B/mmscope
BB=$B/bench
for f in "$MMSCOPE" "$B/libmmscope-agent.so" "$BB/segv_baseline" "$BB/traced_loop" \
	 "$BB/compute_loop" "$BB/stream_stats"; do
	if [ ! -f "$f" ]; then
		echo "bench/run.sh: $f missing; run 'make' first" >&2
		exit 2
	fi
done

. "$(dirname "$0")/lib.sh"
bench_init mmscope-bench

# timed CMD...: runs CMD; sets OUTPUT, RC and WALL_NS (whole-process time)
timed() {
	local t0 t1
	t0=$(date +%s%N)
	OUTPUT=$("$@" 2>"$WORK/stderr")
	RC=$?
	t1=$(date +%s%N)
	WALL_NS=$((t1 - t0))
}

# check_trace DIR EXPECTED_ACCESSES WHAT: the two independent record counts
# (bench/stream_stats walking the stream files, mmscope show --format=json)
# must both equal the program's own access count.  Sets STATS.
check_trace() {
	local dir=$1 want=$2 what=$3 json
	STATS=$("$BB/stream_stats" "$dir") || problem "$what: stream_stats cannot decode the trace ($STATS)"
	json=$("$MMSCOPE" show --format=json "$dir" | grep -c '"type":"access"')
	if [ "$(field access "$STATS")" != "$want" ] || [ "$json" != "$want" ]; then
		problem "$what: program made $want accesses; stream files hold $(field access "$STATS") access records, 'mmscope show --format=json' prints $json"
	fi
	if [ "$(field lost "$STATS")" != 0 ]; then
		problem "$what: $(field lost "$STATS") LOST records"
	fi
}

have_avx512=no
grep -qw avx512f /proc/cpuinfo && have_avx512=yes
MODES="load store mixed"
[ "$have_avx512" = yes ] && MODES="$MODES avx512"

# ---------------------------------------------------------------- 1 and 4 ---
log "bench: 1. fault path and 4. writer ($REPS repetitions, N=$N)"
for m in $MODES; do
	CMD[base_$m]="$BB/segv_baseline $m $N"
	CMD[native_$m]="$BB/traced_loop $m $N"
	CMD[traced_$m]="$MMSCOPE run -q -f -o $WORK/t --hot=off --map '$MAP' -- $BB/traced_loop $m $N"
done

# baseline MODE: one bare round-trip run of the same access mix; sets BASE
baseline() {
	BASE=
	timed $BB/segv_baseline "$1" "$N"
	if [ $RC != 0 ] || [ -z "$(field ns_per_fault "$OUTPUT")" ]; then
		problem "segv_baseline $1 failed (exit $RC): $(head -c 400 "$WORK/stderr")"
		return
	fi
	BASE=$(field ns_per_fault "$OUTPUT")
	add base_$1 "$BASE"
}

# traced MODE: traced_loop MODE under mmscope, its trace checked; sets TRACED
traced() {
	local m=$1 recs
	TRACED=
	rm -rf "$WORK/t"
	timed "$MMSCOPE" run -q -f -o "$WORK/t" --hot=off --map "$MAP" -- $BB/traced_loop "$m" "$N"
	if [ $RC != 0 ] || [ -z "$(field ns_per_access "$OUTPUT")" ]; then
		problem "traced_loop $m under mmscope failed (exit $RC): $(head -c 400 "$WORK/stderr")"
		return
	fi
	TRACED=$(field ns_per_access "$OUTPUT")
	add traced_$m "$TRACED"
	check_trace "$WORK/t" "$(field total "$OUTPUT")" "traced_loop $m $N (repetition $rep)"
	recs=$(field records "$STATS")
	add recs_$m "$recs"
	add bytes_$m "$(field record_bytes "$STATS")"
	add bpr_$m "$(ratio "$(field record_bytes "$STATS")" "$recs")"
	add abpr_$m "$(ratio "$(field access_bytes "$STATS")" "$(field access "$STATS")")"
	# records written per second of loop time (the N timed accesses)
	add rps_$m "$(awk -v n="$N" -v t="$(field loop_ns "$OUTPUT")" 'BEGIN { printf "%.0f\n", n / (t / 1e9) }')"
	# all records over the whole process lifetime (start-up included)
	add rpsw_$m "$(awk -v n="$recs" -v t="$WALL_NS" 'BEGIN { printf "%.0f\n", n / (t / 1e9) }')"
	rm -rf "$WORK/t"
}

for rep in $(seq 1 "$REPS"); do
	log "  repetition $rep/$REPS"
	for m in $MODES; do
		# the traced run between two bare runs of the same mix
		baseline "$m"
		b1=$BASE
		traced "$m"
		baseline "$m"
		b2=$BASE
		if [ -n "$b1" ] && [ -n "$b2" ] && [ -n "$TRACED" ]; then
			add ratio_$m "$(awk -v t="$TRACED" -v a="$b1" -v b="$b2" \
				'BEGIN { printf "%.4f\n", t / ((a + b) / 2) }')"
		fi
		timed $BB/traced_loop "$m" "$N"
		if [ $RC != 0 ]; then
			problem "native traced_loop $m failed (exit $RC): $(head -c 400 "$WORK/stderr")"
			continue
		fi
		add native_$m "$(field ns_per_access "$OUTPUT")"
	done
done

# -------------------------------------------------------------------- 2 ---
log "bench: 2. untraced compute loop ($REPS repetitions, $ITERS iterations)"
CMD[cn]="$BB/compute_loop $ITERS"
CMD[ct]="$MMSCOPE run -q -f -o $WORK/c --map '$MAP' -- $BB/compute_loop $ITERS"
compute_native() {
	timed $BB/compute_loop "$ITERS"
	[ $RC = 0 ] || { problem "compute_loop failed natively (exit $RC)"; return; }
	add cn "$(field loop_ns "$OUTPUT")"
	CN_HASH=$(field hash "$OUTPUT")
}
compute_traced() {
	rm -rf "$WORK/c"
	timed "$MMSCOPE" run -q -f -o "$WORK/c" --map "$MAP" -- $BB/compute_loop "$ITERS"
	[ $RC = 0 ] || { problem "compute_loop failed under mmscope (exit $RC): $(head -c 400 "$WORK/stderr")"; return; }
	add ct "$(field loop_ns "$OUTPUT")"
	CT_HASH=$(field hash "$OUTPUT")
	if ! "$MMSCOPE" show --format=json "$WORK/c" | grep -q '"path":"/memfd:bench-idle'; then
		problem "compute_loop under mmscope: no MAP record for /memfd:bench-idle (region not armed?)"
	fi
}
for rep in $(seq 1 "$REPS"); do
	CN_HASH= CT_HASH=
	if [ $((rep % 2)) = 1 ]; then compute_native; compute_traced; else compute_traced; compute_native; fi
	if [ -n "$CN_HASH" ] && [ -n "$CT_HASH" ]; then
		add cratio "$(ratio "$(tail -n1 "$S/ct")" "$(tail -n1 "$S/cn")")"
		[ "$CN_HASH" = "$CT_HASH" ] || problem "compute_loop hash differs under mmscope ($CT_HASH vs $CN_HASH)"
	fi
done

# hyperfine_pair KEY NATIVE_CMD TRACED_CMD: medians and stddevs into HF_<KEY>
hyperfine_pair() {
	local key=$1
	if hyperfine -N --warmup 1 --runs "$HF_RUNS" --style basic --export-json "$WORK/hf.json" \
		"$2" "$3" >"$WORK/hf.log" 2>&1; then
		python3 - "$WORK/hf.json" >"$S/hf_$key" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(r[0]["median"], r[1]["median"], r[0]["stddev"], r[1]["stddev"])
PY
	else
		problem "hyperfine failed: $(tail -n3 "$WORK/hf.log")"
	fi
}
HF=no
if command -v hyperfine >/dev/null; then
	HF=yes
	log "bench: 2. whole process, hyperfine ($HF_RUNS runs each)"
	CMD[hf]="hyperfine -N --warmup 1 --runs $HF_RUNS '${CMD[cn]}' \"${CMD[ct]}\""
	hyperfine_pair loop "${CMD[cn]}" "${CMD[ct]}"
	CMD[s0n]="$BB/compute_loop 0"
	CMD[s0t]="$MMSCOPE run -q -f -o $WORK/c --map '$MAP' -- $BB/compute_loop 0"
	CMD[hf0]="hyperfine -N --warmup 1 --runs $HF_RUNS '${CMD[s0n]}' \"${CMD[s0t]}\""
	hyperfine_pair start "${CMD[s0n]}" "${CMD[s0t]}"
fi

# -------------------------------------------------------------------- 3 ---
log "bench: 3. valgrind lackey vs mmscope vs native ($REPS repetitions)"
VG=no
command -v valgrind >/dev/null && VG=yes
VG_LOOPS="$N_SMALL"
[ "$N" != "$N_SMALL" ] && VG_LOOPS="$VG_LOOPS $N"
VG_ROWS="$VG_LOOPS c"
LACKEY="valgrind --tool=lackey --trace-mem=yes --log-file=/dev/null"
for n in $VG_LOOPS; do
	CMD[vn_$n]="$BB/traced_loop mixed $n"
	CMD[vm_$n]="$MMSCOPE run -q -f -o $WORK/v --map '$MAP' -- $BB/traced_loop mixed $n"
	CMD[vv_$n]="$LACKEY $BB/traced_loop mixed $n"
done
CMD[vn_c]="$BB/compute_loop $ITERS_VG"
CMD[vm_c]="$MMSCOPE run -q -f -o $WORK/v --map '$MAP' -- $BB/compute_loop $ITERS_VG"
CMD[vv_c]="$LACKEY $BB/compute_loop $ITERS_VG"
if [ $VG = yes ]; then
	for rep in $(seq 1 "$REPS"); do
		for row in $VG_ROWS; do
			order="n m v"
			[ $((rep % 2)) = 0 ] && order="v m n"
			ok=1
			for who in $order; do
				rm -rf "$WORK/v"
				# the commands are plain words: no quoting inside them but --map
				case $who in
				n) eval "timed ${CMD[vn_$row]}" ;;
				m) eval "timed ${CMD[vm_$row]}" ;;
				v) eval "timed ${CMD[vv_$row]}" ;;
				esac
				if [ $RC != 0 ]; then
					problem "$(show_cmd "${CMD[v${who}_$row]}") failed (exit $RC): $(head -c 400 "$WORK/stderr")"
					ok=0
					continue
				fi
				add v${who}_$row "$WALL_NS"
				[ "$row" = c ] && continue
				add v${who}loop_$row "$(field ns_per_access "$OUTPUT")"
				[ $who = m ] && check_trace "$WORK/v" "$(field total "$OUTPUT")" \
					"traced_loop mixed $row for section 3"
			done
			rm -rf "$WORK/v"
			[ $ok = 1 ] || continue
			a=$(tail -n1 "$S/vn_$row") b=$(tail -n1 "$S/vm_$row") c=$(tail -n1 "$S/vv_$row")
			add rvm_$row "$(ratio "$c" "$b")"
			add rmn_$row "$(ratio "$b" "$a")"
			add rvn_$row "$(ratio "$c" "$a")"
		done
	done
fi

# ------------------------------------------------------------ RESULTS.md ---
log "bench: writing $OUT"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
flags=$(grep -m1 -o -w 'avx512[a-z]*' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')
agent_sum=$(sha256sum "$B/libmmscope-agent.so" | cut -c1-12)
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
fs=$(df -T "$WORK" | awk 'NR == 2 { print $2 }')
vg_ver=$(valgrind --version 2>/dev/null || echo "valgrind: none")
hf_ver=$(hyperfine --version 2>/dev/null || echo "hyperfine: none")
label() {
	case $1 in
	mixed) echo "4-byte MOV store, load of the same slot, alternately" ;;
	load) echo "4-byte MOV load" ;;
	store) echo "4-byte MOV store" ;;
	avx512) echo "64-byte VMOVDQU64 store, load of the same slot, alternately" ;;
	esac
}
okmark() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "n/a") print "—"; else print (r <= t ? "met" : "**missed**") }'; }
ms() { awk -v x="$1" 'BEGIN { printf "%.1f", x * 1000 }'; }

{
cat <<EOF
# mmscope benchmarks

Written by \`bench/run.sh\` (\`make bench\`); do not edit by hand.

- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')
- machine: $(nproc) CPUs, $cpu, Linux $(uname -r) ($(uname -m)); AVX-512: ${flags:-none}
- mmscope: git \`$rev\` (working tree), agent sha256 \`$agent_sum…\`
- trace directories on $fs (\`$WORK\`, shown below as \`\$WORK\`, removed afterwards)
- $vg_ver, $hf_ver
- each figure: median of **$REPS** repetitions (hyperfine: $HF_RUNS runs).
  Within each repetition the things compared run back to back, and each
  ratio is taken within its repetition before the median, so a noisy
  moment of this shared 2-CPU VM hits both sides alike.  "spread" is the
  minimum–maximum over the repetitions.

## Problems found

EOF
if [ -s "$PROBLEMS" ]; then sort -u "$PROBLEMS"; else echo "None: every program checked its own values and exited 0, and every trace held exactly one access record per access (counted twice: by walking the stream files with \`build/bench/stream_stats\` and with \`mmscope show --format=json\`)."; fi

cat <<EOF

## 1. Cost of a traced access vs a bare SIGSEGV round trip

The baseline (\`bench/segv_baseline.c\`) faults on a PROT_NONE page of a
MAP_SHARED memfd (the state mmscope leaves a traced page in) with a
hand-encoded MOV of the same mix, and its SA_SIGINFO|SA_NODEFER handler only
adds the instruction's length to the saved RIP: exception entry, signal
frame with XSAVE, handler call, rt_sigreturn, and nothing else.  Flipping
protection (mprotect around a single step) was not chosen as the baseline:
it adds two system calls and TLB flushes that are not part of "fault and
return".  \`bench/traced_loop.c\` makes N accesses, each one hand-written
MOV, to a 16-page memfd mapping, timed in-process with clock_gettime, and
checks every value through the file descriptor (which mmscope does not
trace).  N = $N timed accesses after 1024 untimed warm-up accesses.  Each
traced run sits between two bare runs of the same mix; its ratio is to
their mean.

| access | native ns/access | traced ns/access (spread) | bare round trip ns (spread) | ratio traced / bare (spread) | target ≤ 1.5× |
|---|---|---|---|---|---|
EOF
for m in load store mixed avx512; do
	if [ $m = avx512 ] && [ "$have_avx512" = no ]; then
		echo "| $(label $m) | skipped: CPU has no AVX-512F | | | | |"
		continue
	fi
	r=$(median ratio_$m)
	echo "| $(label $m) | $(median native_$m) | $(median traced_$m) ($(spread traced_$m)) | $(median base_$m) ($(spread base_$m)) | **${r}×** ($(spread ratio_$m)) | $(okmark "$r" 1.5) |"
done
cat <<EOF

| figure | command |
|---|---|
EOF
for m in $MODES; do
	echo "| $m, bare round trip | \`$(show_cmd "${CMD[base_$m]}")\` |"
	echo "| $m, native | \`$(show_cmd "${CMD[native_$m]}")\` |"
	echo "| $m, traced | \`$(show_cmd "${CMD[traced_$m]}")\` |"
done

cat <<EOF

## 2. Untraced code runs at native speed

\`bench/compute_loop.c\` maps a one-page MAP_SHARED memfd \`bench-idle\` (the
trace shows it armed: a MAP record) and then hashes $ITERS integers
(MurmurHash3 fmix64) in registers, never touching the mapping.

| measure | native | under mmscope | ratio mmscope / native (spread) | target ≤ 1.02 |
|---|---|---|---|---|
| loop time, in-process clock_gettime (ms) | $(median cn 1e6) | $(median ct 1e6) | **$(median cratio)×** ($(spread cratio)) | $(okmark "$(median cratio)" 1.02) |
EOF
if [ "$HF" = yes ] && [ -s "$S/hf_loop" ]; then
	read -r a b sa sb <"$S/hf_loop"
	hr=$(ratio "$b" "$a")
	echo "| whole process, hyperfine median ± stddev (ms) | $(ms "$a") ± $(ms "$sa") | $(ms "$b") ± $(ms "$sb") | **${hr}×** | $(okmark "$hr" 1.02) |"
	if [ -s "$S/hf_start" ]; then
		read -r a0 b0 sa0 sb0 <"$S/hf_start"
		echo "| fixed cost: the same program with 0 iterations, hyperfine (ms) | $(ms "$a0") ± $(ms "$sa0") | $(ms "$b0") ± $(ms "$sb0") | +$(awk -v a="$a0" -v b="$b0" 'BEGIN { printf "%.1f", (b - a) * 1000 }') ms | — |"
	fi
	echo
	echo "The whole-process time under mmscope includes the \`mmscope\` CLI (config,"
	echo "fork, exec, wait) and the agent's start-up; the last row measures that"
	echo "fixed cost alone."
else
	echo "| whole process | hyperfine not installed (Debian package \`hyperfine\`) or failed | | | |"
fi
cat <<EOF

| figure | command |
|---|---|
| loop, native | \`$(show_cmd "${CMD[cn]}")\` |
| loop, under mmscope | \`$(show_cmd "${CMD[ct]}")\` |
EOF
if [ "$HF" = yes ]; then
	echo "| whole process | \`$(show_cmd "${CMD[hf]}")\` |"
	echo "| fixed cost | \`$(show_cmd "${CMD[hf0]}")\` |"
fi

cat <<EOF

## 3. The same traced workload under valgrind lackey, mmscope and natively

\`traced_loop mixed N\` (N timed 4-byte store/load accesses plus 1024 warm-up
ones, all to the traced mapping), whole-process wall time from the shell
(\`date +%s%N\` around the command); the order of the three alternates
between repetitions.  lackey with \`--trace-mem=yes\` records every
instruction fetch, load and store of the whole program (ld.so, libc, the
loop) to /dev/null; mmscope records only the N+1024 accesses to the traced
mapping.  The in-loop column is the program's own clock_gettime figure per
access.  The last row is \`compute_loop\` ($ITERS_VG iterations, no traced
access) for contrast.

EOF
if [ $VG = no ]; then
	echo "valgrind is not installed: section skipped."
else
	echo "| workload | native ms | mmscope ms | lackey ms | lackey / mmscope (spread) | mmscope / native | lackey / native | in-loop ns/access native / mmscope / lackey |"
	echo "|---|---|---|---|---|---|---|---|"
	for row in $VG_ROWS; do
		if [ "$row" = c ]; then
			w="compute_loop $ITERS_VG"
			inloop="—"
		else
			w="traced_loop mixed $row"
			inloop="$(median vnloop_$row) / $(median vmloop_$row) / $(median vvloop_$row)"
		fi
		echo "| $w | $(median vn_$row 1e6) | $(median vm_$row 1e6) | $(median vv_$row 1e6) | **$(median rvm_$row)×** ($(spread rvm_$row)) | $(median rmn_$row)× | $(median rvn_$row)× | $inloop |"
	done
	echo
	echo "| figure | command |"
	echo "|---|---|"
	for row in $VG_ROWS; do
		echo "| native | \`$(show_cmd "${CMD[vn_$row]}")\` |"
		echo "| mmscope | \`$(show_cmd "${CMD[vm_$row]}")\` |"
		echo "| lackey | \`$(show_cmd "${CMD[vv_$row]}")\` |"
	done
fi

cat <<EOF

## 4. Writer throughput

From the traced runs of section 1.  The agent writes each record from the
fault handler itself into a per-thread, memory-mapped stream file (1 MiB
windows, fallocate'd ahead), so its throughput is bounded by the fault
path.  Records are counted and sized by walking the stream files
(\`build/bench/stream_stats DIR\`: record headers up to the first zero
header word, the unused window tail excluded) and cross-checked against
\`mmscope show --format=json DIR\`.  An access record is 80 bytes plus the
value padded to 8 (include/mmscope/trace-format.h); the other records of a
run are one PROC start, one MAP and one UNMAP.

| workload | records per run | bytes of records | bytes/record (all) | bytes/access record | records/s in the loop (spread) | records/s over the whole process |
|---|---|---|---|---|---|---|
EOF
for m in $MODES; do
	echo "| $(label $m), N=$N | $(median recs_$m) | $(median bytes_$m) | $(median bpr_$m) | $(median abpr_$m) | $(median rps_$m) ($(spread rps_$m)) | $(median rpsw_$m) |"
done
cat <<EOF

Commands: the "traced" commands of section 1, then \`build/bench/stream_stats \$WORK/t\`
and \`build/mmscope show --format=json \$WORK/t | grep -c '"type":"access"'\`.
"records/s in the loop" = N / loop time; "over the whole process" = all
records / wall time of \`mmscope run\`.
EOF
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"

log "bench: done, see $OUT"
[ -s "$PROBLEMS" ] && exit 1
exit 0
