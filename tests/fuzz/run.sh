#!/usr/bin/env bash
# make fuzz: AFL++ against `mmscope show`, the part of mmscope that parses
# bytes it did not write (a trace can be damaged, truncated, or handed over
# by someone else), and, beside it, against the gdb protocol layer
# (tests/fuzz/run_rsp.sh).
#
#   FUZZ_SECONDS=600   how long each instance runs
#   FUZZ_TARGETS="show rsp"   what is fuzzed (FUZZ_TARGETS=rsp: the
#                      protocol layer alone)
#   FUZZ_FORMATS="text mmiotrace json"   one afl-fuzz instance per format,
#                      all in parallel (mmiotrace covers the expansion
#                      that text --expand shares with it)
#   FUZZ_OUT=build-fuzz/out
#
# The target is mmscope itself, built with afl-clang-fast and
# AddressSanitizer + UBSan into build-fuzz/, given one *.mms file (show
# accepts a single stream file).  Seeds are real traces: test programs of
# tests/progs run under the normal build, each stream made into a small
# version 4 file with records both in the file and in its tail
# (tests/fuzz/compact.py).  A crash
# or hang found is copied to tests/fuzz/regress/ (named after the format
# and the afl id) for tests/e2e/test_fuzz_regress.py, and the script fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-600}
FORMATS=${FUZZ_FORMATS:-"text mmiotrace json"}
TARGETS=" ${FUZZ_TARGETS:-show rsp} "
B=${B:-build}
FB=build-fuzz
OUT=${FUZZ_OUT:-$FB/out}

command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz missing (apt-get install afl++)" >&2; exit 1; }
rsp_pid=
if [[ $TARGETS == *" rsp "* ]]; then
	make --no-print-directory B=$FB CC=afl-clang-fast SAN=address,undefined $FB/tests/fuzz/rsp_fuzz
	FUZZ_NO_BUILD=1 FUZZ_OUT=$OUT bash tests/fuzz/run_rsp.sh &
	rsp_pid=$!
fi
if [[ $TARGETS != *" show "* ]]; then
	[ -z "$rsp_pid" ] || wait "$rsp_pid"
	exit
fi
make --no-print-directory all
make --no-print-directory B=$FB CC=afl-clang-fast SAN=address,undefined $FB/mmscope

# ---- seeds: real traces ----
seeds=$FB/seeds
rm -rf "$seeds" "$FB/gen"
mkdir -p "$seeds" "$FB/gen"
P=$B/tests/progs
gen() { # name map-or-"-" args...
	local name=$1 map=$2
	shift 2
	local opt=()
	[ "$map" != - ] && opt=(--map "$map")
	timeout -k 5 60 "$B/mmscope" run -q -o "$FB/gen/$name" "${opt[@]}" -- "$@" >/dev/null 2>&1 || true
}
gen forms '/memfd:mmscope-forms*' "$P/forms"
gen poll '/memfd:mmscope-poll*' "$P/poll" 50
gen big '/memfd:mmscope-big*' "$P/bigstring"
gen lock - "$P/lockrmw"
gen marks - "$P/marks"
timeout -k 5 60 "$B/mmscope" run -q -o "$FB/gen/watch" --hw-slots=1 --watch counter:rw -- "$P/watchme" basic >/dev/null 2>&1 || true
timeout -k 5 60 "$B/mmscope" run -q -o "$FB/gen/watchpg" --hw-slots=0 --watch counter:rw -- "$P/watchme" basic >/dev/null 2>&1 || true
for f in "$FB"/gen/*/*.mms; do
	[ -s "$f" ] || continue
	python3 tests/fuzz/compact.py "$f" "$seeds/$(basename "$(dirname "$f")")-$(basename "$f")"
done
n=$(ls "$seeds" | wc -l)
[ "$n" -gt 0 ] || { echo "fuzz: no seed traces were produced" >&2; exit 1; }
echo "fuzz: $n seeds, $SECS s per instance, formats: $FORMATS"

# ---- fuzz ----
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1
pids=()
for fmt in $FORMATS; do
	args=(show "--format=$fmt")
	mkdir -p "$OUT/$fmt"
	afl-fuzz -V "$SECS" -m none -t 2000 -x tests/fuzz/mms.dict -i "$seeds" -o "$OUT/$fmt" \
		-- "$FB/mmscope" "${args[@]}" @@ >"$OUT/$fmt.log" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || echo "fuzz: an afl-fuzz instance failed; see $OUT/*.log" >&2

found=0 expansion=0
for fmt in $FORMATS; do
	st=$OUT/$fmt/default/fuzzer_stats
	[ -f "$st" ] && echo "fuzz: $fmt: $(grep -E '^(execs_done|corpus_count|saved_crashes|saved_hangs) ' "$st" | awk '{printf "%s=%s ", $1, $3}')"
	for kind in crashes hangs; do
		for f in "$OUT/$fmt/default/$kind"/id:*; do
			[ -f "$f" ] || continue
			id=${f##*/id:}
			# A record may stand for 2^32 accesses, and mmiotrace prints
			# every one: slow, not stuck.  A hang counts when the
			# unexpanded text form of the same input hangs too.
			if [ $kind = hangs ]; then
				r=0
				timeout -k 1 10 "$B/mmscope" show "$f" >/dev/null 2>&1 || r=$?
				if [ $r -ne 124 ] && [ $r -ne 137 ]; then
					expansion=$((expansion + 1))
					continue
				fi
			fi
			cp "$f" "tests/fuzz/regress/$fmt-$kind-${id%%,*}.mms"
			found=$((found + 1))
		done
	done
done
[ $expansion -eq 0 ] || echo "fuzz: $expansion hangs were long expansions (a repeat count of up to 2^32 printed line by line), not kept"
if [ -n "$rsp_pid" ] && ! wait "$rsp_pid"; then
	rc=1
fi
if [ $found -gt 0 ]; then
	echo "fuzz: $found crashing or hanging inputs copied to tests/fuzz/regress/" >&2
	exit 1
fi
exit $rc
