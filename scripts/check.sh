#!/usr/bin/env bash
# make check: every unit test (cmocka), the gdb protocol layer's fuzz smoke
# run (tests/fuzz/rsp_smoke.sh), then every e2e suite (pytest), and one
# closing summary line "check: N passed, N failed, N skipped".
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

xml="$B/e2e-results.xml"
rm -f "$xml"
MMS_BUILD="$(cd "$B" && pwd)" "$PY" -m pytest tests/e2e -q -rs -p no:cacheprovider \
	--junitxml="$xml" "$@"
prc=$?
read -r epass efail eskip < <("$PY" - "$xml" <<'PYEOF'
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
total_fail=$((ufail + efail))
[ "$prc" -ne 0 ] && [ "$efail" -eq 0 ] && total_fail=$((total_fail + 1))
echo "check: $((upass + epass)) passed, $total_fail failed, $eskip skipped"
[ "$total_fail" -eq 0 ]
