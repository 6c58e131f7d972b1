#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for a while (docs/FUZZING.md).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 seconds, all four targets
#
# Each target runs on a copy of its seed corpus (Fuzz/Corpus/<Target>) in a temporary directory, so a run never
# changes the repository. One summary line per target: executions reached, executions per second, corpus size at the
# end, PASS or FAIL. Exits non-zero when any target failed (a crash, a failed precondition, a sanitizer report, a
# timeout or running out of memory); the failing input and the full log are kept and their paths printed.
#
# Environment: FUZZ_EXTRA_ARGS adds libFuzzer flags to every run (for example "-jobs=2 -workers=2" or
# "-dict=FILE"); FUZZ_KEEP=1 keeps the temporary directory also when every target passed.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(FuzzFrameDecoder FuzzMessageDecoder FuzzBeacon FuzzContactLog)
SECONDS_PER_TARGET="${1:-60}"
if [ $# -gt 0 ]; then shift; fi
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=("${ALL_TARGETS[@]}"); fi

if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]   (targets: ${ALL_TARGETS[*]})" >&2
    exit 2
fi
for target in "${TARGETS[@]}"; do
    if [ ! -d "Fuzz/Corpus/$target" ]; then
        echo "error: unknown target $target (targets: ${ALL_TARGETS[*]})" >&2
        exit 2
    fi
done

command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null || { echo "error: no Swift toolchain on PATH" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bluetrace-fuzz.XXXXXX")"

# -sanitize=fuzzer adds libFuzzer and coverage instrumentation, address adds AddressSanitizer. Every executable target
# is linked with `--defsym main=<Target>_main` by SwiftPM, so each fuzzer's @main hands over to libFuzzer through
# LLVMFuzzerRunDriver (Fuzz/Sources/LibFuzzerDriver). The gold linker warns about every ASan helper symbol it cannot
# export; those lines are filtered out.
BUILD=(swift build --package-path Fuzz -c debug --scratch-path Fuzz/.build -Xswiftc -sanitize=fuzzer,address)
echo "== ${BUILD[*]}"
build_start=$(date +%s)
if ! "${BUILD[@]}" >"$WORK/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$WORK/build.log" | tail -n 60 || true
    echo "error: the fuzz build failed (full log: $WORK/build.log)" >&2
    exit 1
fi
grep -v "Cannot export local symbol" "$WORK/build.log" | grep -E "warning:|error:|Build complete" || true
echo "   built in $(($(date +%s) - build_start)) s"
BIN_DIR="$(swift build --package-path Fuzz -c debug --scratch-path Fuzz/.build --show-bin-path)"

# A single input running longer than this counts as a hang (libFuzzer's default is 1200 s).
PER_INPUT_TIMEOUT=30
# Swift's own crash backtracer would read the crashed thread's stack under AddressSanitizer and be reported as a
# stack-buffer-underflow; libFuzzer and ASan print the stack of a crash themselves.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

stat_value() {  # stat_value NAME LOG: a number from libFuzzer's final statistics, or "?"
    local value
    value=$(sed -n "s/^stat::$1: *\([0-9][0-9]*\).*/\1/p" "$2" | tail -n 1)
    echo "${value:-?}"
}

failed=0
passed=0
summary=()
for target in "${TARGETS[@]}"; do
    corpus="$WORK/corpus/$target"
    artifacts="$WORK/artifacts/$target"
    log="$WORK/$target.log"
    mkdir -p "$corpus" "$artifacts"
    cp "Fuzz/Corpus/$target/"* "$corpus/"
    echo "== $target: ${SECONDS_PER_TARGET} s"
    status=0
    # shellcheck disable=SC2086  # FUZZ_EXTRA_ARGS is a list of flags
    "$BIN_DIR/$target" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout="$PER_INPUT_TIMEOUT" \
        -artifact_prefix="$artifacts/" ${FUZZ_EXTRA_ARGS:-} "$corpus" >"$log" 2>&1 || status=$?
    executions=$(stat_value number_of_executed_units "$log")
    per_second=$(stat_value average_exec_per_sec "$log")
    corpus_size=$(find "$corpus" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        verdict="PASS"
        passed=$((passed + 1))
    else
        verdict="FAIL (exit $status)"
        failed=1
        # The reason (Swift's "Fatal error"/"Precondition failed" line or the sanitizer's report) and the first frames.
        grep -E "failed:|Fatal error|ERROR: |^ *#[0-9] |SUMMARY:|Test unit written" "$log" | head -n 30 || true
        for artifact in "$artifacts"/*; do
            [ -e "$artifact" ] && echo "   failing input: $artifact"
        done
        echo "   full log: $log"
    fi
    line=$(printf "%-20s executions %-10s exec/s %-7s corpus %-6s %s" \
        "$target" "$executions" "$per_second" "$corpus_size" "$verdict")
    echo "   $line"
    summary+=("$line")
done

echo "== fuzzing summary (${SECONDS_PER_TARGET} s per target)"
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $((${#TARGETS[@]} - passed)) failed"
if [ "$failed" -ne 0 ]; then
    echo "FAIL: inputs, logs and corpora kept in $WORK"
    exit 1
fi
if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    echo "PASS: logs and corpora kept in $WORK"
else
    rm -rf "$WORK"
    echo "PASS"
fi
