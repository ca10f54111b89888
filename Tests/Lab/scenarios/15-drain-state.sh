# A drain interrupted by a kill: the draining real server stays at weight 0 (it does not go back to
# taking connections), status shows it draining, and the next setup resumes the drain with the same
# deadline and removes the server once the client's connection is gone.
VIP=192.0.2.10
one_lan
for rs in rs1 rs2; do lvs "$rs" setup --role realserver --vip "$VIP"; serve "$rs"; done
spec=$LAB_STATE/director.yaml

director_spec() {
    {
        printf 'role: director\nmode: dr\ninterface: eth0\ndrain: 300\npersist: none\ninit: none\nservices:\n'
        printf '  - vip: %s\n    port: 80\n    scheduler: rr\n    real-servers:\n' "$VIP"
        for real in "$@"; do printf '      - {address: %s}\n' "$real"; done
    } > "$spec"
}
rs2_has() { test "$(on director ipvsadm -Ln | awk -v c="$1" '$2 == "192.0.2.12:80" {print $c}')" = "$2"; }

step "a client holds a connection to rs2"
director_spec 192.0.2.12
lvs director setup --config "$spec" > /dev/null
release=$LAB_STATE/release
on client "$PYTHON" -c "
import os, socket, time
s = socket.create_connection(('$VIP', 80), timeout=5)
s.sendall(b'GET / HTTP/1.1\r\nHost: lab\r\n')
while not os.path.exists('$release'):
    time.sleep(0.1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00')   # a reset: 10 s of CLOSE
s.close()
" &
holder=$!
within 30 rs2_has 5 1 || fail "the client's connection does not show as active on rs2: $(on director ipvsadm -Ln)"

step "rs2 leaves the spec; the drain is killed while it waits"
director_spec 192.0.2.11
# Run directly, so \$! is lvs-node itself (ip netns exec execs it).
ip netns exec director "$LVS_NODE" setup --config "$spec" --root "$LAB_STATE/director/root" \
    --state-dir "$LAB_STATE/director/state" > "$LAB_STATE/first.out" 2>&1 &
setup=$!
within 60 rs2_has 4 0 || fail "rs2 never got weight 0: $(on director ipvsadm -Ln)"
within 30 grep -q "draining 192.0.2.12:80" "$LAB_STATE/first.out" || fail "setup does not wait for the drain: $(cat "$LAB_STATE/first.out")"
kill -9 "$setup"
wait "$setup" 2>/dev/null || true
rs2_has 4 0 || fail "after the kill rs2 is not at weight 0 any more: $(on director ipvsadm -Ln)"
lvs director status > "$LAB_STATE/status.out" 2>&1 || fail "status after the kill failed or saw drift: $(cat "$LAB_STATE/status.out")"
deadline=$(sed -n 's/.*192\.0\.2\.12:80 .*\[draining until \([^:]*:[^:]*:[0-9]*Z\).*/\1/p' "$LAB_STATE/status.out")
[ -n "$deadline" ] || fail "status does not show rs2 draining: $(cat "$LAB_STATE/status.out")"
grep -q "interrupted" "$LAB_STATE/status.out" && fail "the kill left a run to undo: $(cat "$LAB_STATE/status.out")"
expect_counts "$(count client "http://$VIP/" 4)" "rs1 4"

step "the next setup resumes the drain with the same deadline and completes it when the connection is gone"
lvs director setup --config "$spec" > "$LAB_STATE/second.out" 2>&1 &
second=$!
within 30 grep -q "draining 192.0.2.12:80.*$deadline" "$LAB_STATE/second.out" \
    || fail "the resumed drain does not keep the deadline $deadline: $(cat "$LAB_STATE/second.out")"
kill -0 "$second" 2>/dev/null || fail "setup returned while rs2 still had its connection: $(cat "$LAB_STATE/second.out")"
closed=$(date +%s)
touch "$release"
wait "$holder" || true
wait "$second" || fail "the resumed setup failed: $(cat "$LAB_STATE/second.out")"
took=$(( $(date +%s) - closed ))
[ "$took" -lt 60 ] || fail "rs2 left $took s after its connection was reset"
echo "rs2 left $took s after its connection was reset"
expect_ipvs director "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1"
lvs director status > /dev/null || fail "status after the drain shows drift"
