#!/usr/bin/env bash
# Builds the libFuzzer targets (release, libFuzzer + AddressSanitizer) and runs each for SECONDS (default 30) from a
# copy of its checked-in seed corpus, so runs never write into the repository. Prints executions, exec/s and coverage
# per target; exits non-zero if a target crashed (a failed check, a sanitizer report, a timeout or a leak).
#
#     bash Fuzz/run.sh                      # 30 s per target
#     bash Fuzz/run.sh 600 -runs=5000000    # extra arguments go to libFuzzer (here: stop after 5M inputs)
#     FUZZ_TARGETS=ReadPathFuzzer bash Fuzz/run.sh 60
#     FUZZ_KNOWN_BUGS=new-bytes-offset bash Fuzz/run.sh 60   # skip the checks for known, unfixed bugs (README.md)
#
# A crashing input is saved under Fuzz/.build-fuzz/crashes/<target>/; replay it with
#     SWIFT_BACKTRACE=enable=no FUZZ_VERBOSE=1 Fuzz/.build-fuzz/release/<target> <file>
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-30}
shift || true
targets=${FUZZ_TARGETS:-LengthFieldDecoderFuzzer DelimiterDecoderFuzzer ReadPathFuzzer RESPRequestDecoderFuzzer RedisCommandFuzzer HTTP1RequestDecoderFuzzer HTTP1DifferentialFuzzer HTTPServerFuzzer TLSReadPathFuzzer}
scratch=.build-fuzz

# Swift's crash handler and ASan's both want the fatal signal; with Swift's, ASan reports nothing.
export SWIFT_BACKTRACE=enable=no

# HTTP1DifferentialFuzzer's reference, nodejs/http-parser (CI runs as root).
if [ ! -f /usr/include/http_parser.h ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhttp-parser-dev >/dev/null
fi

echo "== build (release, -sanitize=fuzzer,address)"
# -parse-as-library: each target's entry point is its @_cdecl("<Target>_main") function, which SwiftPM aliases to
# main; -sanitize=fuzzer on the Swift side (the last -sanitize wins, hence one list); -fsanitize=address for the C
# shim; lld because gold crashes linking the sanitized binaries.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
    -Xswiftc -use-ld=lld -Xcc -fsanitize=address)
started=$SECONDS
if ! swift build "${flags[@]}" >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    echo "FAIL: build" >&2
    exit 1
fi
grep -E 'warning:|error:' "$work/build.log" || true
echo "built in $((SECONDS - started)) s"
if [ -n "${FUZZ_KNOWN_BUGS:-}" ]; then echo "skipping the checks for known bugs: $FUZZ_KNOWN_BUGS"; fi
bin=$(swift build "${flags[@]}" --show-bin-path)

failed=0
summary=()
for target in $targets; do
    corpus="$work/$target"
    crashes="$scratch/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    cp Corpus/"$target"/* "$corpus"/
    log="$work/$target.log"
    echo "== $target: ${seconds} s from $(ls Corpus/"$target" | wc -l) seeds"
    set +e
    "$bin/$target" "$corpus" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$@" >"$log" 2>&1
    status=$?
    set -e
    grep -v -e '^#[0-9]' -e '^"' -e '^INFO:' -e '^###### ' -e 'NEW_FUNC' "$log" | grep -v '^$' || true
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    # No coverage line at all when a seed crashes while the corpus loads (grep fails; that must not end the script).
    coverage=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9/a-zA-Z]*' "$log" | tail -n 1 || true)
    if [ "$status" -ne 0 ]; then
        failed=1
        tail -n 60 "$log"
        summary+=("$target: FAILED (exit $status) after ${runs:-?} executions; input saved in Fuzz/$crashes/")
    else
        summary+=("$target: ${runs:-?} executions, ${rate:-?} exec/s, $coverage")
    fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
