# SPDX-License-Identifier: MIT
#
# bench/lib.sh: what bench/run.sh and bench/watch.sh share -- the scratch
# directory, the samples and their medians, the problems list, the commands
# as RESULTS.md shows them.  Sourced, not run.

# bench_need SCRIPT FILE...: every FILE is built, or SCRIPT says to run make
bench_need() {
	local script=$1 f
	shift
	for f in "$@"; do
		[ -f "$f" ] || { echo "$script: $f missing; run 'make' first" >&2; exit 2; }
	done
}

# bench_init NAME: a scratch directory $WORK (removed at exit) holding the
# samples ($S) and the problems found ($PROBLEMS); CMD[key] = a command
bench_init() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	S=$WORK/samples
	mkdir -p "$S"
	PROBLEMS=$WORK/problems
	: >"$PROBLEMS"
	declare -gA CMD
}

log() { printf '%s\n' "$*" >&2; }
problem() { printf -- '- %s\n' "$*" >>"$PROBLEMS"; log "PROBLEM: $*"; }

# The command as RESULTS.md shows it: the scratch directory is $WORK.
show_cmd() { local c="$*"; printf '%s' "${c//$WORK/\$WORK}"; }

# add KEY VALUE: one more sample of KEY
add() { printf '%s\n' "$2" >>"$S/$1"; }

# How median and spread print a number: an awk function fmt(x).  A script
# may set its own before calling them.
AWK_FMT='function fmt(x) { return x == int(x) ? sprintf("%d", x) : sprintf("%.*f", x < 10 ? 3 : 1, x) }'
# median KEY [SCALE]: median of KEY's samples divided by SCALE, or "n/a"
median() {
	[ -s "$S/$1" ] || { echo n/a; return; }
	sort -g "$S/$1" | awk -v s="${2:-1}" "$AWK_FMT"'
		{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print fmt(m / s) }'
}
# spread KEY [SCALE]: "min–max" of KEY's samples
spread() {
	[ -s "$S/$1" ] || { echo n/a; return; }
	sort -g "$S/$1" | awk -v s="${2:-1}" "$AWK_FMT"'
		NR == 1 { lo = $1 } { hi = $1 } END { print fmt(lo / s) "–" fmt(hi / s) }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'; }
# field KEY TEXT: the value of key=value in TEXT
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -n1; }

# put_section N FILE: stdin becomes section N of FILE ("## N. ..." up to
# the next "## " heading), in its place, or at the end when FILE has none
put_section() {
	local n=$1 file=$2 new
	new=$(mktemp)
	cat >"$new"
	if [ -f "$file" ] && grep -q "^## $n\\. " "$file"; then
		awk -v n="$n" -v new="$new" '
			$0 ~ "^## " n "\\. " { while ((getline l < new) > 0) print l; skip = 1; next }
			skip && /^## / { skip = 0; print "" }
			!skip { print }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
	else
		{ echo; cat "$new"; } >>"$file"
	fi
	rm -f "$new"
}
