#!/usr/bin/env bash
# make check: every unit test (cmocka), the gdb protocol layer's fuzz smoke
# run (tests/fuzz/rsp_smoke.sh), then every e2e suite (pytest), then every
# e2e suite again with hot sites off (MMS_TEST_HOT=off) and patched at
# once (MMS_TEST_HOT=1), and one closing summary line "check: N passed, N
# failed, N skipped".
set -uo pipefail
B=${B:-build}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
upass=0; ufail=0
for t in "$B"/tests/unit/*; do
	[ -x "$t" ] || continue
	if "$t"; then upass=$((upass + 1)); else ufail=$((ufail + 1)); echo "unit: FAILED $t"; fi
done
echo "unit: $upass programs passed, $ufail failed"

# counted as one more program: it passes or it fails
if B="$B" bash tests/fuzz/rsp_smoke.sh; then upass=$((upass + 1)); else ufail=$((ufail + 1)); fi

# e2e LABEL XML [pytest args]: one pass of the e2e suites; sets
# epass efail eskip (added up over passes) and fails=1 if pytest failed
# without a failure in its report
epass=0; efail=0; eskip=0; lost=0
e2e() {
	local label=$1 xml=$2 p f k
	shift 2
	rm -f "$xml"
	echo "e2e: $label"
	MMS_BUILD="$(cd "$B" && pwd)" "$PY" -m pytest tests/e2e -q -rs -p no:cacheprovider \
		--junitxml="$xml" "$@"
	local prc=$?
	read -r p f k < <("$PY" - "$xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    t, f, e, k = (int(s.get(x, 0)) for x in ("tests", "failures", "errors", "skipped"))
    print(t - f - e - k, f + e, k)
except Exception:
    print(0, 1, 0)
PYEOF
)
	epass=$((epass + p)); efail=$((efail + f)); eskip=$((eskip + k))
	[ "$prc" -ne 0 ] && [ "$f" -eq 0 ] && lost=$((lost + 1))
}

e2e "every suite" "$B/e2e-results.xml" "$@"
# Hot sites (--hot, docs/design.md; on by default) must not change a
# record: every suite again with them off, every access on the fault
# path, and again with each site patched after its first fault
# (tests/e2e/conftest.py adds --hot=$MMS_TEST_HOT to every mmscope run
# that does not choose; test_hot*.py choose in every test, so they are
# not run again).
for h in off 1; do
	MMS_TEST_HOT=$h e2e "every suite again under --hot=$h" "$B/e2e-hot$h-results.xml" \
		--ignore=tests/e2e/test_hot.py --ignore=tests/e2e/test_hot_fast.py "$@"
done

total_fail=$((ufail + efail + lost))
echo "check: $((upass + epass)) passed, $total_fail failed, $eskip skipped"
[ "$total_fail" -eq 0 ]
