#!/usr/bin/env bash
# Allocation-regression gate for swift-reactor: builds the benchmark package, runs every benchmark once (about 1 s
# each), prints the results table, then checks the run against the committed static thresholds in Thresholds/.
#
# Only mallocCountTotal is in the thresholds, with zero tolerance: one more malloc in any measured iteration fails.
# Time metrics are never checked (they are printed for humans only).
#
# Exit 0: no allocation regression (a drop in allocations passes too, with a note to tighten the thresholds).
# Non-zero: an allocation regression, a benchmark without a thresholds file (or a thresholds file without a
# benchmark), a failed benchmark, or a build error.
set -euo pipefail
cd "$(dirname "$0")"

baseline=check-sh
target=ReactorBenchmarks
started=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== build and run the benchmarks (baseline '$baseline')"
swift package --allow-writing-to-package-directory benchmark baseline update "$baseline" --no-progress --quiet

echo "== results"
swift package benchmark baseline read "$baseline" --no-progress 2>&1 | grep -v -e '^Building' -e '^Build ' -e '^\[' \
    -e 'runtime interposer' -e 'skipping LD_PRELOAD'

echo "== every benchmark has a thresholds file"
# package-benchmark 1.38.1 writes thresholds under a sanitized name ('/' and ' ' become '_') but reads them back under
# the raw name, so a name with either character could never be checked; a benchmark without a file is silently
# skipped by `thresholds check`. Both are errors here.
swift package benchmark list 2>/dev/null >"$log"
names=$(sed -n "/^Target '$target' available benchmarks:/,/^\$/p" "$log" | sed '1d;/^$/d')
if [ -z "$names" ]; then
    echo "FAIL: could not list the benchmarks" >&2
    cat "$log" >&2
    exit 1
fi
missing=0
while IFS= read -r name; do
    case "$name" in
    */* | *' '*)
        echo "FAIL: benchmark name '$name' contains '/' or ' ' (its thresholds could not be read back)" >&2
        missing=1
        ;;
    *)
        if [ ! -f "Thresholds/$target.$name.p90.json" ]; then
            echo "FAIL: no Thresholds/$target.$name.p90.json for benchmark '$name'" >&2
            missing=1
        fi
        ;;
    esac
done <<<"$names"
if [ "$missing" -ne 0 ]; then
    echo "Record thresholds with:" >&2
    echo "  swift package --allow-writing-to-package-directory benchmark thresholds update --metric mallocCountTotal" >&2
    exit 1
fi
# The other direction: a thresholds file whose benchmark is gone (removed, renamed, or no longer registered) means a
# gate silently stopped running; fail rather than check fewer benchmarks than Thresholds/ promises.
stale=0
for file in Thresholds/"$target".*.p90.json; do
    [ -e "$file" ] || continue
    name=${file#Thresholds/"$target".}
    name=${name%.p90.json}
    if ! grep -qxF -- "$name" <<<"$names"; then
        echo "FAIL: $file has no benchmark '$name' (removed or renamed? delete the file or register the benchmark)" >&2
        stale=1
    fi
done
if [ "$stale" -ne 0 ]; then
    exit 1
fi
echo "$(wc -l <<<"$names") benchmarks, all with thresholds, no thresholds without a benchmark"

echo "== thresholds check (mallocCountTotal p90, zero tolerance)"
status=0
swift package benchmark thresholds check "$baseline" --no-progress >"$log" 2>&1 || status=$?
grep -v -e '^Building' -e '^Build ' -e '^\[' -e 'runtime interposer' -e 'skipping LD_PRELOAD' "$log" || true
elapsed=$((SECONDS - started))
if [ "$status" -eq 0 ]; then
    echo "PASS: allocation counts equal the thresholds (${elapsed}s)"
    exit 0
fi
# `swift package` turns every plugin error into exit status 1; the plugin names the outcome in its error.
if grep -q 'benchmarkThresholdImprovement' "$log" && ! grep -q 'benchmarkThresholdRegression' "$log"; then
    echo "PASS: fewer allocations than the thresholds (${elapsed}s). Lock the improvement in with:"
    echo "  swift package --allow-writing-to-package-directory benchmark thresholds update --metric mallocCountTotal"
    exit 0
fi
echo "FAIL: allocation regression or benchmark failure (${elapsed}s)" >&2
exit 1
