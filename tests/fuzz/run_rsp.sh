#!/usr/bin/env bash
# make fuzz, the gdb protocol layer: AFL++ against tests/fuzz/rsp_fuzz.c
# (src/debug/ over a fake target, every reply checked), run by run.sh
# beside the `mmscope show` instances, or alone.
#
#   FUZZ_SECONDS=600   how long afl-fuzz runs
#   FUZZ_OUT=build-fuzz/out   its findings go to $FUZZ_OUT/rsp
#
# The harness is built with afl-clang-fast and AddressSanitizer + UBSan
# into build-fuzz/ and runs in AFL++'s persistent mode.  Seeds are the gdb
# sessions of tests/fuzz/rsp-corpus/ and every tests/fuzz/regress/rsp-*
# input.  A crash or hang found is copied to tests/fuzz/regress/ as
# rsp-crash-ID.bin or rsp-hang-ID.bin (make check runs those:
# tests/fuzz/rsp_smoke.sh), and the script fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-600}
FB=build-fuzz
OUT=${FUZZ_OUT:-$FB/out}/rsp
H=$FB/tests/fuzz/rsp_fuzz

command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz missing (apt-get install afl++)" >&2; exit 1; }
# run.sh builds it first: two makes at once in one build directory do not mix
[ -n "${FUZZ_NO_BUILD:-}" ] ||
	make --no-print-directory B=$FB CC=afl-clang-fast SAN=address,undefined "$H"

seeds=$FB/rsp-seeds
rm -rf "$seeds" "$OUT"
mkdir -p "$seeds" "$OUT"
cp tests/fuzz/rsp-corpus/* "$seeds/"
for f in tests/fuzz/regress/rsp-*; do
	[ -f "$f" ] && cp "$f" "$seeds/"
done
echo "fuzz: rsp: $(ls "$seeds" | wc -l) seeds, $SECS s"

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1
rc=0
afl-fuzz -V "$SECS" -m none -t 2000 -x tests/fuzz/rsp.dict -i "$seeds" -o "$OUT" \
	-- "$H" >"$OUT.log" 2>&1 || rc=1
[ $rc -eq 0 ] || echo "fuzz: rsp: afl-fuzz failed; see $OUT.log" >&2

st=$OUT/default/fuzzer_stats
[ -f "$st" ] && echo "fuzz: rsp: $(grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs) ' "$st" | awk '{printf "%s=%s ", $1, $3}')"
found=0
for kind in crashes:crash hangs:hang; do
	for f in "$OUT/default/${kind%:*}"/id:*; do
		[ -f "$f" ] || continue
		id=${f##*/id:}
		cp "$f" "tests/fuzz/regress/rsp-${kind#*:}-${id%%,*}.bin"
		found=$((found + 1))
	done
done
if [ $found -gt 0 ]; then
	echo "fuzz: rsp: $found crashing or hanging inputs copied to tests/fuzz/regress/" >&2
	exit 1
fi
exit $rc
