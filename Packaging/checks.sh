# The check helpers of Packaging/test, Packaging/test-in-chroot and Tests/Boot/run (sourced). Each check prints
# "ok - WHAT" or "FAIL - WHAT" followed by what the command printed, and counts.
passed=0
failed=0

# check WHAT COMMAND...: COMMAND exits 0.
check() {
    local what=$1 output status=0
    shift
    output=$("$@" 2>&1) || status=$?
    report "$what" "$status" "$output"
}

# check_prints WHAT TEXT COMMAND...: COMMAND exits 0 and prints TEXT (a fixed string) on either output.
check_prints() {
    local what=$1 expected=$2 output status=0
    shift 2
    output=$("$@" 2>&1) || status=$?
    [ "$status" -ne 0 ] || grep -qF -- "$expected" <<<"$output" || status=1
    report "$what" "$status" "$output"$'\n'"(expected: $expected)"
}

report() {
    if [ "$2" -eq 0 ]; then
        echo "ok - $1"
        passed=$((passed + 1))
    else
        echo "FAIL - $1 (exit $2)"
        sed 's/^/    /' <<<"$3"
        failed=$((failed + 1))
    fi
}
