#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/gdbstub.sh: mmscope's gdb stub side by side with gdbserver, gdb
# driving both, on the same program in the same run; section 8 of
# bench/RESULTS.md (replaced if there, else appended; `make bench` runs it
# after the others).
#
#   - round trip of one `stepi`, and of one stop at a `watch g` hit
#     (gdb's python times K of each inside one session)
#   - wall time of a whole session with 64 watchpoints that are hit
#
# Knobs: BENCH_REPS (5), BENCH_GK (200 stepi / watch stops),
# BENCH_GSPREAD (640 stores over the 64 watched variables), BENCH_OUT.
set -u -o pipefail

B=${B:-build}
REPS=${BENCH_REPS:-5}
K=${BENCH_GK:-200}
SPREAD=${BENCH_GSPREAD:-640}
OUT=${BENCH_OUT:-bench/RESULTS.md}
MMSCOPE=$B/mmscope
PROG=$B/bench/gdb_loop
. "$(dirname "$0")/lib.sh"
bench_need bench/gdbstub.sh "$MMSCOPE" "$PROG"
for t in gdb gdbserver; do
	command -v $t >/dev/null || { echo "bench/gdbstub.sh: $t not installed (scripts/deps.sh)" >&2; exit 2; }
done
bench_init mmscope-gbench
AWK_FMT='function fmt(x) { return sprintf(x >= 100 ? "%.0f" : "%.3g", x) }'

# gdbserver's `watch g` is a debug register when they fire on this host
# (mmscope probe), else gdb's software watchpoint (it single-steps)
HWFIRE=$("$MMSCOPE" probe --json | sed -n 's/.*"write_fire":\([0-9]*\).*/\1/p')
HWFIRE=${HWFIRE:-0}
GS_WATCH="a debug register set through ptrace"
GS_SW=""
if [ "$HWFIRE" -eq 0 ]; then
	GS_WATCH="gdb's software watchpoint (set can-use-hw-watchpoints 0: gdb single-steps until g changes), because debug registers do not fire on this host (mmscope probe: 0 write watchpoints fire)"
	GS_SW="set can-use-hw-watchpoints 0"
fi
# rt_script FILE [EXTRA]: the stepi / watch-stop session
rt_script() {
cat >"$1" <<GDB
set pagination off
set confirm off
$2
break stores
continue
delete
python
import time
t = time.monotonic()
for i in range($K):
    gdb.execute("stepi", to_string=True)
s = time.monotonic() - t
g0 = int(gdb.parse_and_eval("g"))
gdb.execute("watch g", to_string=True)
t = time.monotonic()
for i in range($K):
    gdb.execute("continue", to_string=True)
c = time.monotonic() - t
print("stepi_us=%.2f watch_us=%.2f stores=%d" % (s / $K * 1e6, c / $K * 1e6, int(gdb.parse_and_eval("g")) - g0))
try:
    gdb.execute("kill")
except gdb.error:
    pass  # the stub's connection closes as the program dies
end
GDB
}
rt_script "$WORK/rt_stub.gdb" ""
rt_script "$WORK/rt_gdbserver.gdb" "$GS_SW"

# the 64-watchpoint session: $1 = 1 for gdb's software watchpoints
spread_script() {
	{
		echo "set pagination off"
		echo "set confirm off"
		[ "$1" = 1 ] && echo "set can-use-hw-watchpoints 0"
		echo "break spread"
		echo "continue"
		echo "delete"
		for ((i = 0; i < 64; i++)); do
			printf 'watch -l w[%d]\ncommands\nsilent\ncontinue\nend\n' $i
		done
		echo "continue"
	} >"$2"
}
spread_script 0 "$WORK/spread_hw.gdb"
spread_script 1 "$WORK/spread_sw.gdb"

PORT=$((20000 + $$ % 20000))
# session KIND SCRIPT ARGS...: gdb -x SCRIPT against the program under
# KIND (stub|gdbserver); gdb's output in $WORK/gdb, the program's in
# $WORK/prog; the wall ms of the gdb session (connect to exit) on stdout
session() {
	local kind=$1 script=$2 remote pid t0 t1
	shift 2
	rm -rf "$WORK/t" "$WORK/sock"
	if [ "$kind" = stub ]; then
		"$MMSCOPE" run -q -o "$WORK/t" --gdb="unix:$WORK/sock" --gdb-wait -- "$PROG" "$@" \
			>"$WORK/prog" 2>&1 &
		pid=$!
		remote=$WORK/sock
		for ((i = 0; i < 300; i++)); do [ -e "$WORK/sock" ] && break; sleep 0.02; done
	else
		PORT=$((PORT + 1))
		gdbserver --once "127.0.0.1:$PORT" "$PROG" "$@" >"$WORK/prog" 2>&1 &
		pid=$!
		remote=127.0.0.1:$PORT
		for ((i = 0; i < 300; i++)); do
			grep -q "Listening on port" "$WORK/prog" && break
			sleep 0.02
		done
	fi
	t0=$(date +%s%N)
	timeout -k 5 600 gdb -nx -batch -ex "target remote $remote" -x "$script" "$PROG" \
		>"$WORK/gdb" 2>&1 || problem "$kind: gdb exit $? ($(tail -c 300 "$WORK/gdb"))"
	t1=$(date +%s%N)
	timeout -k 5 60 tail --pid=$pid -f /dev/null
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e6 }'
}

log "bench: 8. gdb stub vs gdbserver ($REPS repetitions, $K stepi and watch stops, spread $SPREAD)"
want_sum=$("$PROG" spread "$SPREAD")
for ((r = 0; r < REPS; r++)); do
	for kind in stub gdbserver; do
		session $kind "$WORK/rt_$kind.gdb" store $((K * 4)) >/dev/null
		line=$(grep -o 'stepi_us=.*' "$WORK/gdb")
		[ "$(field stores "$line")" = "$K" ] || problem "$kind: $K watch stops saw $(field stores "$line") stores"
		add ${kind}_stepi "$(field stepi_us "$line")"
		add ${kind}_watch "$(field watch_us "$line")"
	done
	add stepi_ratio "$(ratio "$(tail -n1 "$S/stub_stepi")" "$(tail -n1 "$S/gdbserver_stepi")")"
	add watch_ratio "$(ratio "$(tail -n1 "$S/stub_watch")" "$(tail -n1 "$S/gdbserver_watch")")"
	t0=$(date +%s%N)
	"$PROG" spread "$SPREAD" >/dev/null
	t1=$(date +%s%N)
	add native "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e6 }')"
	for kind in stub gdbserver; do
		sc=$WORK/spread_hw.gdb
		[ $kind = gdbserver ] && sc=$WORK/spread_sw.gdb
		add ${kind}_64 "$(session $kind "$sc" spread "$SPREAD")"
		if ! grep -q "^$want_sum\$" "$WORK/prog"; then
			got="$(grep -v -e '^Process ' -e '^Listening ' -e '^Remote debugging' -e '^Child exited' -e '^$' "$WORK/prog" | head -c 200)"
			msg="$kind, 64 watchpoints: the program printed '$got', not '$want_sum'"
			# gdbserver's fault is a finding about it, not a failure of ours
			if [ $kind = gdbserver ]; then printf -- '- %s\n' "$msg" >>"$WORK/notes"; else problem "$msg"; fi
		fi
		grep -q "exited normally" "$WORK/gdb" || problem "$kind, 64 watchpoints: gdb: $(tail -c 300 "$WORK/gdb")"
	done
	add w64_ratio "$(ratio "$(tail -n1 "$S/gdbserver_64")" "$(tail -n1 "$S/stub_64")")"
done

section() {
cat <<EOS
## 8. The gdb stub side by side with gdbserver

Written by \`bench/gdbstub.sh\` (also run by \`make bench\`), $(date -u '+%Y-%m-%d %H:%M:%S UTC'),
git \`$(git rev-parse --short HEAD 2>/dev/null)\`, $(gdb --version | head -n1), $(gdbserver --version | head -n1);
medians of **$REPS** repetitions, each ratio taken within its repetition.
The same gdb drives \`bench/gdb_loop.c\` under mmscope's stub
(\`mmscope run --gdb=unix:SOCK --gdb-wait\`, nothing traced) and under
\`gdbserver --once 127.0.0.1:PORT\`, one after the other in each repetition.

- **stepi** and **watch stop**: one gdb session stops at \`stores()\`, then
  gdb's python times $K \`stepi\` commands, sets \`watch g\` and times $K
  \`continue\` commands, each of which stops at the next store to \`g\` (the
  script checks that g moved by exactly $K).  Under gdbserver \`watch g\` is
  $GS_WATCH; under the stub it is the page engine.
- **64 watchpoints**: a session stops at \`spread()\`, sets \`watch -l w[k]\`
  for k = 0..63, each with \`commands / silent / continue / end\`, and
  continues; \`spread()\` stores $SPREAD times, so each watch is hit
  $((SPREAD / 64)) times.  gdbserver cannot hold 64 hardware watchpoints (gdb
  says "Could not insert hardware watchpoint 5"), so its session uses
  gdb's software watchpoints (\`set can-use-hw-watchpoints 0\`: gdb
  single-steps the program); the stub takes all 64 as Z2.  Wall time of
  the gdb session, from \`target remote\` to the program's exit, whose
  output is checked.

| figure | stub | gdbserver | stub ÷ gdbserver (spread) |
|---|---|---|---|
| one \`stepi\`, µs | $(median stub_stepi) ($(spread stub_stepi)) | $(median gdbserver_stepi) ($(spread gdbserver_stepi)) | **$(median stepi_ratio)×** ($(spread stepi_ratio)) |
| one stop at a \`watch g\` hit, µs | $(median stub_watch) ($(spread stub_watch)) | $(median gdbserver_watch) ($(spread gdbserver_watch)) | **$(median watch_ratio)×** ($(spread watch_ratio)) |

| 64 watchpoints, $SPREAD hits | wall ms (spread) |
|---|---|
| native, no debugger | $(median native) ($(spread native)) |
| stub, 64 \`watch\` (Z2) | $(median stub_64) ($(spread stub_64)) |
| gdbserver, 64 software watchpoints | $(median gdbserver_64) ($(spread gdbserver_64)) |
| gdbserver ÷ stub | **$(median w64_ratio)×** ($(spread w64_ratio)) |

Problems found (mmscope):
$(if [ -s "$PROBLEMS" ]; then cat "$PROBLEMS"; else echo "none: every watch stop saw one store, every 64-watch run under the stub printed the program's sum and exited normally."; fi)

Seen of gdbserver in the same runs:
$(if [ -s "$WORK/notes" ]; then sort -u "$WORK/notes"; echo; echo "(the program's own output, corrupted while gdb single-stepped it through gdbserver with software watchpoints; under the stub, in the same runs, it is right, and so it is under plain gdb with software watchpoints, checked by hand with 3 of them on gdb_loop spread 64)"; else echo "nothing wrong."; fi)

Commands: \`BENCH_REPS=$REPS BENCH_GK=$K BENCH_GSPREAD=$SPREAD bash bench/gdbstub.sh\`; the gdb scripts are written by it.
EOS
}
# section 8 goes where it was, before section 9 if that is there
: >"$WORK/after"
if [ -f "$OUT" ] && grep -q '^## 9\. ' "$OUT"; then
	sed -n '/^## 9\. /,$p' "$OUT" >"$WORK/after"
	sed -i '/^## 9\. /,$d' "$OUT"
fi
if [ -f "$OUT" ] && grep -q '^## 8\. ' "$OUT"; then
	sed -i '/^## 8\. /,$d' "$OUT"
fi
{ section; [ -s "$WORK/after" ] && { echo; cat "$WORK/after"; }; } >>"$OUT"
log "bench: section 8 written to $OUT"
[ ! -s "$PROBLEMS" ]
