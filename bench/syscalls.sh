#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/syscalls.sh: what mmscope costs a system-call-heavy program that
# maps nothing mmscope traces: the raw-mmap seccomp filter runs on every
# system call of the process, and read()/mmap() go through interposers.
# Side by side in each repetition: native, mmscope --raw-mmap=off (no
# filter), mmscope (filter on, the default).  Figures are medians of the
# per-repetition ratios.  Replaces section 8 of bench/RESULTS.md.
# Knobs: BENCH_REPS (9), BENCH_CALLS (200000), BENCH_OUT (bench/RESULTS.md).
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-9}
N=${BENCH_CALLS:-200000}
OUT=${BENCH_OUT:-bench/RESULTS.md}
MMSCOPE=$B/mmscope
LOOP=$B/bench/syscall_loop
for f in "$MMSCOPE" "$LOOP"; do
	[ -x "$f" ] || { echo "bench/syscalls.sh: $f missing; run 'make' first" >&2; exit 2; }
done
. "$(dirname "$0")/lib.sh"
bench_init mmscope-syscalls

OFF=1
"$MMSCOPE" run --help 2>&1 | grep -q -- '--raw-mmap' || OFF=0
MODES="getppid read mmap rawmmap"
for m in $MODES; do
	CMD[n_$m]="$LOOP $m $N"
	CMD[o_$m]="$MMSCOPE run -q -f -o $WORK/t --raw-mmap=off -- $LOOP $m $N"
	CMD[t_$m]="$MMSCOPE run -q -f -o $WORK/t -- $LOOP $m $N"
done

one() { # KEY CMD...: ns per call of one run
	local out
	out=$("${@:2}" 2>"$WORK/stderr") || { problem "$* failed: $(head -c 300 "$WORK/stderr")"; return 1; }
	field ns_per_call "$out"
}

for rep in $(seq "$REPS"); do
	log "bench: syscalls repetition $rep/$REPS"
	for m in $MODES; do
		n=$(one n "$LOOP" "$m" "$N") || continue
		add n_$m "$n"
		if [ "$OFF" = 1 ]; then
			o=$(one o "$MMSCOPE" run -q -f -o "$WORK/t" --raw-mmap=off -- "$LOOP" "$m" "$N") &&
				add o_$m "$o" && add ro_$m "$(ratio "$o" "$n")"
		fi
		t=$(one t "$MMSCOPE" run -q -f -o "$WORK/t" -- "$LOOP" "$m" "$N") &&
			add t_$m "$t" && add rt_$m "$(ratio "$t" "$n")"
		[ "$OFF" = 1 ] && [ -n "${o:-}" ] && [ -n "${t:-}" ] && add rf_$m "$(ratio "$t" "$o")"
	done
done

section() {
	echo "## 8. System calls: the raw-mmap filter and the interposers"
	echo
	echo "A program that maps nothing traced, making $N system calls of one kind"
	echo "(bench/syscall_loop.c), timed in-process; median of $REPS repetitions, each"
	echo "running the three side by side; ratios taken inside each repetition."
	echo "\`rawmmap\` makes mmap+munmap of an anonymous page with its own \`syscall\`"
	echo "instructions: its munmap is trapped by the filter (SIGSYS) and completed by"
	echo "the agent — the cost a raw-syscall runtime (static liburing, Go) pays per"
	echo "unmap; its anonymous mmap is not trapped."
	echo
	echo "| calls | native ns/call | --raw-mmap=off ns/call | default (filter) ns/call | off/native | filter/native | filter/off |"
	echo "|---|---|---|---|---|---|---|"
	for m in $MODES; do
		echo "| $m | $(median n_$m) | $(median o_$m) | $(median t_$m) | $(median ro_$m) | $(median rt_$m) | $(median rf_$m) |"
	done
	echo
	echo 'Commands (`$WORK` is a scratch directory):'
	echo
	for m in $MODES; do
		echo "- \`$(show_cmd "${CMD[n_$m]}")\` / \`$(show_cmd "${CMD[o_$m]}")\` / \`$(show_cmd "${CMD[t_$m]}")\`"
	done
	[ "$OFF" = 1 ] || echo "- (this mmscope has no --raw-mmap option: the off column is empty)"
	echo
	echo "Produced by \`B=$B bash bench/syscalls.sh\`."
	if [ -s "$PROBLEMS" ]; then echo; echo "Problems:"; cat "$PROBLEMS"; fi
}

section >"$WORK/section"
# replace section 8 (to the next "## " heading or the end), or append it
awk -v f="$WORK/section" '
	/^## 8\. / { while ((getline l < f) > 0) print l; skip = 1; done = 1; next }
	skip && /^## / { skip = 0 }
	!skip { print }
	END { if (!done) { print ""; while ((getline l < f) > 0) print l } }' "$OUT" >"$WORK/out" &&
	cp "$WORK/out" "$OUT"
log "bench: section 8 written to $OUT"
[ -s "$PROBLEMS" ] && exit 1
exit 0
