#!/usr/bin/env bash
# make check's short run of the gdb protocol layer's fuzz harness (no AFL
# needed): B's rsp_fuzz (sanitized under SAN=) over every seed of
# tests/fuzz/rsp-corpus/ and every tests/fuzz/regress/rsp-* input, then
# RSP_SMOKE_MUTATIONS (default 300) deterministic mutations of each of
# them in-process, with a fixed seed (RSP_SMOKE_SEED).  A failure names
# the input; a mutated one is kept as $B/rsp-smoke-failed.bin (copy it to
# tests/fuzz/regress/rsp-NAME.bin once the bug is fixed).
set -uo pipefail
cd "$(dirname "$0")/../.."
B=${B:-build}
N=${RSP_SMOKE_MUTATIONS:-300}
SEED=${RSP_SMOKE_SEED:-8}
H=$B/tests/fuzz/rsp_fuzz
SAVE=$B/rsp-smoke-failed.bin
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

[ -x "$H" ] || { echo "rsp smoke: $H missing (make all)" >&2; exit 1; }
shopt -s nullglob
inputs=(tests/fuzz/rsp-corpus/* tests/fuzz/regress/rsp-*)
[ ${#inputs[@]} -gt 0 ] || { echo "rsp smoke: no inputs in tests/fuzz/rsp-corpus/" >&2; exit 1; }
start=$SECONDS
for f in "${inputs[@]}"; do
	timeout -k 5 60 "$H" "$f"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "rsp smoke: FAILED (status $rc$([ $rc -eq 124 ] && echo ', a hang')) on $f" >&2
		exit 1
	fi
done
rm -f "$SAVE"
timeout -k 5 300 "$H" --mutate "$N" "$SEED" --save "$SAVE" "${inputs[@]}" >/dev/null
rc=$?
if [ $rc -ne 0 ]; then
	echo "rsp smoke: FAILED (status $rc$([ $rc -eq 124 ] && echo ', a hang')) on a mutation" \
		"(rsp_fuzz --mutate $N $SEED); the input is kept in $SAVE" >&2
	exit 1
fi
echo "rsp smoke: ${#inputs[@]} inputs and $N mutations of each, every invariant held ($((SECONDS - start)) s)"
