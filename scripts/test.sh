#!/bin/sh
# Build wxgate with warnings as errors and the test hooks, then run the
# unit tests (cmocka, via make check), the integration tests (pytest
# with Debian's /usr/bin/python3) and, in the normal build only, the chaos
# test (tests/chaos).  Ends with "N passed, N failed".
#   scripts/test.sh            normal build in build-test/
#   scripts/test.sh --asan     ASan+UBSan build in build-asan/
#   scripts/test.sh [--asan] --build-only   build, run nothing (CI builds
#                              the ASan tree while the first pass waits)
set -u
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1

CFLAGS="-g -O1 -Wall -Wextra -Werror"
dir=build-test
if [ "${1:-}" = --asan ]; then
	dir=build-asan
	CFLAGS="$CFLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	# Leak checks run in the unit tests; in the daemon's workers LSan's
	# ptrace-based scan is exactly what the seccomp sandbox forbids.
	export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:halt_on_error=1"
	ASAN_DAEMON="abort_on_error=0:detect_leaks=0:halt_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	# Flood, chaos and outage tests skip themselves (conftest.py).
	export WXGATE_SANITIZED=1
fi
scripts/build.sh "$dir" --enable-test-hooks CFLAGS="$CFLAGS" \
    LDFLAGS="$(echo "$CFLAGS" | grep -o -- '-fsanitize=[^ ]*' | tr '\n' ' ')" ||
    { echo "0 passed, 1 failed"; exit 1; }
case " $* " in *" --build-only "*) exit 0 ;; esac
mkdir -p tests/out

# Unit tests.
make -C "$dir" -j"$(nproc)" check >"$dir/check.out" 2>&1
upass=$(sed -n 's/^# PASS: *//p' "$dir/test-suite.log" 2>/dev/null)
ufail=$(sed -n 's/^# FAIL: *//p' "$dir/test-suite.log" 2>/dev/null)
uerr=$(sed -n 's/^# ERROR: *//p' "$dir/test-suite.log" 2>/dev/null)
uskip=$(sed -n 's/^# SKIP: *//p' "$dir/test-suite.log" 2>/dev/null)
upass=${upass:-0}; ufail=$(( ${ufail:-0} + ${uerr:-0} )); uskip=${uskip:-0}
if [ ! -f "$dir/test-suite.log" ]; then
	tail -30 "$dir/check.out"
	ufail=$((ufail + 1))
fi
grep -E '^(PASS|FAIL|ERROR|SKIP)' "$dir/check.out"
[ "$ufail" -gt 0 ] && cat "$dir/test-suite.log"

# "passed failed skipped" of a pytest JUnit file; a missing or unreadable
# one is one failure.
junit_counts() {
	/usr/bin/python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
    print(t - f - e - k, f + e, k)
except Exception:
    print(0, 1, 0)
PY
}

# Integration tests against the real wxgated on loopback.
# Three per core at a time (pytest-xdist; each has its own daemon, port
# and state directory): most of a test is waiting, also under ASan (at
# three on two cores the CPU stood 70% idle).  Then the "serial" ones
# (flood, outage) alone, but for the cluster's (conftest.py), which
# wait more than they compute: two at a time.
par=${WXGATE_TEST_JOBS:-$(($(nproc) * 3))}
ASAN_OPTIONS=${ASAN_DAEMON:-${ASAN_OPTIONS:-}} \
WXGATE_BUILDDIR="$(pwd)/$dir" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    -n "$par" -m "not serial" --durations=15 --junitxml="$dir/pytest.xml" \
    tests/integration 2>&1 |
    tee "$dir/pytest.out"
set -- $(junit_counts "$dir/pytest.xml")
ipass=$1; ifail=$2; iskip=$3
ASAN_OPTIONS=${ASAN_DAEMON:-${ASAN_OPTIONS:-}} \
WXGATE_BUILDDIR="$(pwd)/$dir" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    -m "serial and not cluster" --junitxml="$dir/pytest-serial.xml" \
    tests/integration 2>&1 |
    tee -a "$dir/pytest.out"
set -- $(junit_counts "$dir/pytest-serial.xml")
ipass=$((ipass + $1)); ifail=$((ifail + $2)); iskip=$((iskip + $3))
ASAN_OPTIONS=${ASAN_DAEMON:-${ASAN_OPTIONS:-}} \
WXGATE_BUILDDIR="$(pwd)/$dir" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    -n 2 -m "serial and cluster" --junitxml="$dir/pytest-cluster.xml" \
    tests/integration 2>&1 |
    tee -a "$dir/pytest.out"
set -- $(junit_counts "$dir/pytest-cluster.xml")
ipass=$((ipass + $1)); ifail=$((ifail + $2)); iskip=$((iskip + $3))

# The chaos test (tests/chaos): random SIGKILLs under load, in the normal
# build only.  It tests the kills, not memory safety, and under ASan it
# would only take longer.
if [ "$dir" = build-test ]; then
	WXGATE_BUILDDIR="$(pwd)/$dir" /usr/bin/python3 -m pytest -q \
	    -p no:cacheprovider --junitxml="$dir/chaos.xml" tests/chaos 2>&1 |
	    tee "$dir/chaos.out"
	set -- $(junit_counts "$dir/chaos.xml")
	ipass=$((ipass + $1)); ifail=$((ifail + $2)); iskip=$((iskip + $3))
fi

# The page in headless Chromium (normal build only: the browser is the
# thing under test there, not wxgated's memory safety).
bpass=0; bfail=0
if [ "$dir" = build-test ]; then
	WXGATE_BUILDDIR="$(pwd)/$dir" bash tests/browser/run.sh 2>&1 |
	    tee "$dir/browser.out"
	bpass=$(sed -n 's/^# pass //p' "$dir/browser.out" | tail -1)
	bfail=$(sed -n 's/^# fail //p' "$dir/browser.out" | tail -1)
	bpass=${bpass:-0}; bfail=${bfail:-0}
	[ "$bpass" -eq 0 ] && [ "$bfail" -eq 0 ] && bfail=1
fi
ipass=$((ipass + bpass)); ifail=$((ifail + bfail))

pass=$((upass + ipass)); fail=$((ufail + ifail)); skip=$((uskip + iskip))
echo "$pass $fail $skip" >"$dir/test-counts"
echo "unit: $upass passed, $ufail failed; integration, chaos and browser: $ipass passed, $ifail failed, $iskip skipped"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
