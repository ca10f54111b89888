# Drain: a real server leaving the spec with `drain: 120` gets weight 0 and stays while a client's
# long-lived connection through it is open (status shows it draining meanwhile); it leaves the table
# once that connection's entry is gone (active and inactive), long before the 120 s are up; with no
# connections it leaves at once. Judged by the kernel's table and by when setup returns, not by
# fixed sleeps.
VIP=192.0.2.10
one_lan
for rs in rs1 rs2; do lvs "$rs" setup --role realserver --vip "$VIP"; serve "$rs"; done

director_spec() {
    {
        printf 'role: director\nmode: dr\ninterface: eth0\ndrain: 120\nservices:\n'
        printf '  - vip: %s\n    port: 80\n    scheduler: rr\n    real-servers:\n' "$VIP"
        for real in "$@"; do printf '      - {address: %s}\n' "$real"; done
    }
}

step "director with rs2 only; a client holds a connection to it"
director_spec 192.0.2.12 | setup_director director
expect_ipvs director "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.12:80 Route 1"
# Connect, send half a request (the server waits for the rest), hold until the file appears.
release=$LAB_STATE/release
on client "$PYTHON" -c "
import os, socket, sys, time
s = socket.create_connection(('$VIP', 80), timeout=5)
s.sendall(b'GET / HTTP/1.1\r\nHost: lab\r\n')
while not os.path.exists('$release'):
    time.sleep(0.1)
# A reset, not a FIN: the director's entry then lasts IPVS's 10 s CLOSE state, not 2 minutes of
# FIN_WAIT/TIME_WAIT, during which it counts as an inactive connection the drain waits for.
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00')
s.close()
" &
holder=$!
# rs2_has COLUMN VALUE: rs2's line in the director's table has VALUE in that column (4 weight, 5 active).
rs2_has() { test "$(on director ipvsadm -Ln | awk -v c="$1" '$2 == "192.0.2.12:80" {print $c}')" = "$2"; }
within 30 rs2_has 5 1 || fail "the client's connection does not show as active on rs2: $(on director ipvsadm -Ln)"

step "rs2 leaves the spec: it is drained, not cut"
director_spec 192.0.2.11 | setup_director director > "$LAB_STATE/drain.out" 2>&1 &
setup=$!
within 60 rs2_has 4 0 || fail "rs2 never got weight 0: $(on director ipvsadm -Ln)"
kill -0 "$setup" 2>/dev/null || fail "setup returned while rs2 still had an active connection: $(cat "$LAB_STATE/drain.out")"
expect_counts "$(count client "http://$VIP/" 4)" "rs1 4"
grep -q "draining 192.0.2.12:80" "$LAB_STATE/drain.out" || fail "setup did not say it drains: $(cat "$LAB_STATE/drain.out")"
lvs director status > "$LAB_STATE/status.out" 2>&1 || fail "status during the drain failed or saw drift: $(cat "$LAB_STATE/status.out")"
grep -q "192.0.2.12:80 .*\[draining until " "$LAB_STATE/status.out" || fail "status does not show rs2 draining: $(cat "$LAB_STATE/status.out")"

step "the connection closes: rs2 leaves long before the drain's 120 s"
closed=$(date +%s)
touch "$release"
wait "$holder" || true
wait "$setup" || fail "the draining setup failed: $(cat "$LAB_STATE/drain.out")"
took=$(( $(date +%s) - closed ))
[ "$took" -lt 60 ] || fail "rs2 left $took s after its last connection closed (the drain re-read a stale table?)"
echo "rs2 left $took s after its connection closed"
expect_ipvs director "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1"

step "with no connections a leaving real server goes at once"
director_spec 192.0.2.11 192.0.2.12 | setup_director director
started=$(date +%s)
director_spec 192.0.2.11 | setup_director director
took=$(( $(date +%s) - started ))
[ "$took" -lt 60 ] || fail "removing an idle real server took $took s of the 120 s drain"
expect_ipvs director "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1"

step "status for a monitoring user: the kernel shows the IPVS table only to CAP_NET_ADMIN, so 77 with the reason"
chmod 755 "$LAB_STATE"
set +e
denied=$(on director setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    "$LVS_NODE" status --root "$LAB_STATE/director/root" --state-dir "$LAB_STATE/director/state" 2>&1)
status=$?
set -e
[ "$status" = 77 ] || fail "status as nobody on a director exited $status, not 77: $denied"
case "$denied" in *"needs root"*|*"CAP_NET_ADMIN"*) ;; *) fail "status as nobody did not say why: $denied" ;; esac
