# The director's table read and removed in bulk, against the kernel (read back with ipvsadm):
# - a table of 300 services, one of them with 600 real servers (its dump takes several message
#   buffers): a second setup changes nothing, and real servers deleted by hand, in the big service
#   and in the last one, are found and put back;
# - a rollback that empties a table holding only lvs-node's services is one IPVS flush (one
#   IPVS_CMD_FLUSH request in the trace, nothing left, the timeouts untouched); with a foreign
#   service added after setup it removes lvs-node's services one by one and the foreign one stays;
# - that rollback killed (SIGKILL) at each call that changes something — before the flush, right
#   after it, at each journal and generation write — is recovered exactly: `setup` again gives the
#   applied table, `rollback` the empty one.
trap 'echo "error at line $LINENO: $BASH_COMMAND"' ERR
command -v strace >/dev/null || fail "strace is not installed (.ci/run installs it)"
root=$LAB_STATE/director/root
state=$LAB_STATE/director/state
director_lvs() { ip netns exec director "$@" --root "$root" --state-dir "$state"; }
fresh_director() {
    ip netns delete director 2>/dev/null || true
    rm -rf "$LAB_STATE/director"
    mkdir -p "$root"
    host director
}
table() { on director ipvsadm -Sn | sort; }

# 300 mark services × 3 real servers (DR), service 150 with 600.
spec=$LAB_STATE/director.yaml
"$PYTHON" - "$spec" <<'PY'
import ipaddress, sys
base = ipaddress.ip_address("198.18.0.1")
with open(sys.argv[1], "w") as out:
    out.write("role: director\ninterface: lo\npersist: none\ninit: none\nservices:\n")
    for mark in range(1, 301):
        count = 600 if mark == 150 else 3
        servers = [base + (4096 + i if mark == 150 else mark * 8 + i) for i in range(count)]
        out.write(f"  - {{fwmark: {mark}, scheduler: rr, real-servers: [" + ", ".join(f"{{address: {a}}}" for a in servers) + "]}\n")
PY

step "setup of 300 services, one with 600 real servers; a second setup changes nothing"
fresh_director
empty=$(table)
timeouts=$(on director ipvsadm -Ln --timeout)
director_lvs "$LVS_NODE" setup --config "$spec" > /dev/null || fail "setup failed"
applied=$(table)
[ "$(grep -c -- '^-A' <<< "$applied")" = 300 ] || fail "not 300 services: $(grep -c -- '^-A' <<< "$applied")"
[ "$(grep -c -- '^-a' <<< "$applied")" = $((299 * 3 + 600)) ] || fail "not $((299 * 3 + 600)) real servers"
output=$(director_lvs "$LVS_NODE" setup --config "$spec") || fail "the second setup failed: $output"
grep -q "no changes needed" <<< "$output" || fail "the second setup changed something: $output"
[ "$(table)" = "$applied" ] || fail "the second setup changed the table"

step "rollback of a table holding only lvs-node's services: one flush, nothing left, timeouts untouched"
director_lvs strace -qq -s 64 -o "$LAB_STATE/rollback.trace" -e trace=sendto,sendmsg "$LVS_NODE" rollback > /dev/null || fail "rollback failed"
[ "$(table)" = "$empty" ] || fail "rollback left: $(table | head -3 | tr '\n' ' ')"
[ "$(on director ipvsadm -Ln --timeout)" = "$timeouts" ] || fail "the flush changed the timeouts"
# strace shows a generic-netlink request's header, then its command and version: IPVS_CMD_FLUSH is
# 17 (0x11); a request per service would be IPVS_CMD_DEL_SERVICE (3), per real server DEL_DEST (7).
# (The family lookup, nlctrl's CTRL_CMD_GETFAMILY, is a 3 too.)
ipvs_requests=$(grep 'nlmsg_type=IPVS' "$LAB_STATE/rollback.trace" || true)
flushes=$(grep -c '"\\x11\\x01\\x00\\x00"' <<< "$ipvs_requests" || true)
deletes=$(grep -c -E '"\\x0[37]\\x01\\x00\\x00' <<< "$ipvs_requests" || true)
[ "$flushes" = 1 ] && [ "$deletes" = 0 ] \
    || fail "the rollback sent $flushes flush and $deletes delete requests, not one flush alone"

step "a real server deleted by hand, in the big service and in the last one, is drift and is put back"
director_lvs "$LVS_NODE" setup --config "$spec" > /dev/null || fail "setup failed"
[ "$(table)" = "$applied" ] || fail "setup after the rollback did not make the same table"
address() { "$PYTHON" -c "import ipaddress; print(ipaddress.ip_address('198.18.0.1') + $1)"; }
on director ipvsadm -d -f 150 -r "$(address $((4096 + 305))):0"
on director ipvsadm -d -f 300 -r "$(address $((300 * 8 + 2))):0"
status=0; output=$(director_lvs "$LVS_NODE" status 2>&1) || status=$?
[ "$status" = 2 ] || fail "status did not report the drift (exit $status): $output"
director_lvs "$LVS_NODE" setup --config "$spec" > /dev/null || fail "the repairing setup failed"
[ "$(table)" = "$applied" ] || fail "setup did not put the real servers back: $(diff <(echo "$applied") <(table) | head -5 | tr '\n' ' ')"

step "a foreign service added after setup stays: lvs-node's go one by one"
on director ipvsadm -A -t 203.0.113.5:443 -s wlc
on director ipvsadm -a -t 203.0.113.5:443 -r 192.0.2.50:443 -g -w 3
director_lvs "$LVS_NODE" rollback --all > /dev/null || fail "rollback failed"
[ "$(table)" = "$(printf '%s\n' "-A -t 203.0.113.5:443 -s wlc" "-a -t 203.0.113.5:443 -r 192.0.2.50:443 -g -w 3" | sort)" ] \
    || fail "the foreign service did not stay alone: $(table | head -3 | tr '\n' ' ')"
on director ipvsadm -C

step "the flushing rollback killed at each call that changes something, then recovered"
small=$LAB_STATE/small.yaml
head -n 25 "$spec" > "$small"   # 20 services × 3
fresh_director
director_lvs "$LVS_NODE" setup --config "$small" > /dev/null || fail "setup failed"
small_applied=$(table)
calls=write,pwrite64,writev,sendmsg,sendto,openat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,fsync,fdatasync,ftruncate
director_lvs strace -qq -s 200 -o "$LAB_STATE/trace" -e trace=$calls "$LVS_NODE" rollback > /dev/null || fail "the traced rollback failed"
[ "$(table)" = "$empty" ] || fail "the traced rollback left a table"
points=$(mutating_calls "$LAB_STATE/trace")
total=$(echo "$points" | wc -l)
echo "$total kill points"
[ "$total" -ge 5 ] || fail "only $total mutating calls found in the rollback's trace"
failures=()
index=0
while read -r name occurrence; do
    index=$((index + 1))
    fresh_director
    director_lvs "$LVS_NODE" setup --config "$small" > /dev/null || fail "setup failed"
    status=0
    director_lvs strace -qq -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$occurrence" \
        "$LVS_NODE" rollback > /dev/null 2>&1 || status=$?
    [ "$status" = 137 ] || { failures+=("$name#$occurrence: not killed (exit $status)"); continue; }
    # Odd points: the next setup recovers (the table as applied); even ones: rollback does.
    if [ $((index % 2)) = 1 ]; then
        output=$(director_lvs "$LVS_NODE" setup --config "$small" 2>&1) || { failures+=("$name#$occurrence, setup: $output"); continue; }
        [ "$(table)" = "$small_applied" ] || { failures+=("$name#$occurrence, setup: $(diff <(echo "$small_applied") <(table) | head -4 | tr '\n' ' ')"); continue; }
    fi
    for _ in 1 2 3 4; do
        output=$(director_lvs "$LVS_NODE" rollback 2>&1) || { failures+=("$name#$occurrence, rollback: $output"); continue 2; }
        case "$output" in *"nothing to roll back"*) break ;; esac
    done
    [ "$(table)" = "$empty" ] || failures+=("$name#$occurrence, rollback: left $(table | head -2 | tr '\n' ' ')")
done <<< "$points"
printf '%s\n' "${failures[@]:-}"
[ ${#failures[@]} = 0 ] || fail "${#failures[@]} of $total kill points were not recovered exactly: ${failures[0]}"
