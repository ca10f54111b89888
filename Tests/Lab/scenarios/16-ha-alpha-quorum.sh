# keepalived alpha and quorum, as lvs-node writes them (issue #15): a real server added to the spec
# while it does not answer its check gets no request (alpha: without it keepalived schedules to a
# new server before its first check), and joins once it answers; with quorum 2 the loss of one of
# two servers hands the service to the sorry server alone, and the return of one hands it back.
VIP=192.0.2.10
switch lan
host client; plug client eth0 lan 192.0.2.100/24
host dir1;   plug dir1 eth0 lan 192.0.2.1/24
host rs1;    plug rs1 eth0 lan 192.0.2.11/24
host rs2;    plug rs2 eth0 lan 192.0.2.12/24
host rs3;    plug rs3 eth0 lan 192.0.2.13/24
host sorry;  plug sorry eth0 lan 192.0.2.99/24

# spec REAL…: one director (alone it is MASTER) with quick HTTP checks, quorum 2, a sorry server.
spec() {
    printf 'role: director\nmode: dr\ninterface: eth0\nservices:\n'
    printf '  - vip: %s\n    port: 80\n    scheduler: rr\n' "$VIP"
    printf '    check: {type: http, path: /, connect-timeout: 1, retry: 1, delay-before-retry: 1, delay-loop: 1}\n'
    printf '    quorum: 2\n    sorry-server: {address: 192.0.2.99}\n    real-servers:\n'
    for real in "$@"; do printf '      - {address: %s}\n' "$real"; done
    printf 'ha: {state: MASTER, priority: 150, interface: eth0, virtual-router-id: 51}\n'
}
keepalived_start() {
    local root=$LAB_STATE/$1/root
    mkdir -p "$root/run"
    ip netns exec "$1" keepalived -n -l -G -D -f "$root/etc/keepalived/keepalived.conf" \
        -p "$root/run/keepalived.pid" -r "$root/run/vrrp.pid" -c "$root/run/checkers.pid" > >(sed -u "s/^/$1 /") 2>&1 &
}
# never_within SECONDS COMMAND…: the command fails at every try for SECONDS.
never_within() {
    local deadline=$(( $(date +%s) + $1 )); shift
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if "$@"; then return 1; fi
        sleep 0.2
    done
}
has_rs3() { ipvs dir1 | grep -q "192.0.2.13:80"; }
pool=("TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1" "TCP $VIP:80 -> 192.0.2.12:80 Route 1")

step "real servers and the sorry server; rs3 holds the VIP but serves nothing yet"
for rs in rs1 rs2 rs3 sorry; do lvs "$rs" setup --role realserver --vip "$VIP"; done
for rs in rs1 rs2 sorry; do serve "$rs"; done

step "the director: keepalived.conf has alpha, quorum 2 and the sorry server; keepalived takes rs1 and rs2"
spec 192.0.2.11 192.0.2.12 | setup_director dir1
conf=$LAB_STATE/dir1/root/etc/keepalived/keepalived.conf
for line in alpha "quorum 2" "sorry_server 192.0.2.99 80"; do
    grep -qx "    $line" "$conf" || fail "keepalived.conf lacks '$line'"
done
keepalived_start dir1
await_ipvs "$LAB_WAIT" dir1 "${pool[@]}"
await_counts "$LAB_WAIT" client "http://$VIP/" 10 -- "rs1 5" "rs2 5"

step "alpha: rs3 joins the spec while its check fails; for 8 s it is never in the table, no request fails"
spec 192.0.2.11 192.0.2.12 192.0.2.13 | setup_director dir1
never_within 8 has_rs3 || fail "rs3 entered the table before its first check passed: $(ipvs dir1 | tr '\n' ';')"
expect_counts "$(count client "http://$VIP/" 10)" "rs1 5" "rs2 5"

step "rs3 answers: its check passes and it takes its share"
serve rs3
await_ipvs "$LAB_WAIT" dir1 "${pool[@]}" "TCP $VIP:80 -> 192.0.2.13:80 Route 1"
await_counts "$LAB_WAIT" client "http://$VIP/" 9 -- "rs1 3" "rs2 3" "rs3 3"

step "quorum: rs2 and rs3 stop, the healthy weight (1) is below 2: the sorry server answers alone"
stop_serving rs2
stop_serving rs3
await_ipvs "$LAB_WAIT" dir1 "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.99:80 Route 1"
await_counts "$LAB_WAIT" client "http://$VIP/" 6 -- "sorry 6"

step "rs2 answers again: the quorum is back, the sorry server leaves and rs1 returns with rs2"
serve rs2
await_ipvs "$LAB_WAIT" dir1 "${pool[@]}"
await_counts "$LAB_WAIT" client "http://$VIP/" 6 -- "rs1 3" "rs2 3"
