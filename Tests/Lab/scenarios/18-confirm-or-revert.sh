# Confirm or revert in LVS-NAT: a real server's default route and the director's table are changed
# with --confirm-within; the client's requests fail during the bad window and succeed again after
# the change undoes itself, with no one touching the hosts. A confirmed change stays.
VIP=198.51.100.10
WINDOW=40
switch outside
switch inside
host client;   plug client eth0 outside 198.51.100.100/24
host director; plug director eth0 outside 198.51.100.1/24; plug director eth1 inside 192.0.2.1/24
host rs1;      plug rs1 eth0 inside 192.0.2.11/24
host rs2;      plug rs2 eth0 inside 192.0.2.12/24

director_spec() {
    cat <<YAML
role: director
mode: nat
interface: eth0
services:
  - vip: $VIP
    port: 80
    scheduler: rr
    real-servers:
      - {address: 192.0.2.11, port: $1}
      - {address: 192.0.2.12, port: $1}
YAML
}

# confirmation_state HOST: pending, overdue, confirmed, reverted, disarmed or none.
confirmation_state() {
    lvs "$1" status --json | "$PYTHON" -c 'import json,sys; c=json.load(sys.stdin)["confirmation"]; print(c["state"] if c else "none")'
}
is_reverted() { [ "$(confirmation_state "$1")" = reverted ]; }

step "NAT: two real servers (HTTP on 8080) behind the director"
for rs in rs1 rs2; do
    lvs "$rs" setup --role realserver --mode nat --gateway 192.0.2.1
    serve "$rs" 8080
done
director_spec 8080 | setup_director director
expect_counts "$(count client "http://$VIP/" 10)" "rs1:8080 5" "rs2:8080 5"

step "rs1: a wrong default route, applied with --confirm-within $WINDOW"
lvs rs1 setup --role realserver --mode nat --gateway 192.0.2.99 --confirm-within "$WINDOW"
on rs1 ip route show default | grep -q "^default via 192.0.2.99 " || fail "rs1: the bad route is not in place"
answers=$(count client "http://$VIP/" 4)
echo "$answers"
[ "$(confirmation_state rs1)" = pending ] || fail "rs1: the window closed before the bad state was observed (raise WINDOW)"
expect_counts "$answers" "failed 2" "rs2:8080 2"
step "rs1: nobody confirms; the change undoes itself"
within $((WINDOW + LAB_WAIT)) is_reverted rs1 || fail "rs1: not reverted: $(confirmation_state rs1)"
on rs1 ip route show default | grep -q "^default via 192.0.2.1 dev eth0" || fail "rs1: the default route is not back: $(on rs1 ip route show default)"
expect_counts "$(count client "http://$VIP/" 10)" "rs1:8080 5" "rs2:8080 5"
lvs rs1 confirm && fail "rs1: confirm after the revert must fail" || true

step "director: the real servers' port changed to one nobody serves, with --confirm-within $WINDOW"
director_spec 9090 | setup_director director --confirm-within "$WINDOW"
expect_ipvs director "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:9090 Masq 1" "TCP $VIP:80 -> 192.0.2.12:9090 Masq 1"
answers=$(count client "http://$VIP/" 4)
echo "$answers"
[ "$(confirmation_state director)" = pending ] || fail "director: the window closed before the bad state was observed (raise WINDOW)"
expect_counts "$answers" "failed 4"
step "director: nobody confirms; the table comes back"
within $((WINDOW + LAB_WAIT)) is_reverted director || fail "director: not reverted: $(confirmation_state director)"
expect_ipvs director "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:8080 Masq 1" "TCP $VIP:80 -> 192.0.2.12:8080 Masq 1"
expect_counts "$(count client "http://$VIP/" 10)" "rs1:8080 5" "rs2:8080 5"

step "director: a good change, confirmed, stays past its deadline"
director_spec 8080 | sed 's/scheduler: rr/scheduler: wrr/' | setup_director director --confirm-within 3
lvs director confirm
sleep 4   # past the deadline: the watcher has woken and found the change confirmed
[ "$(confirmation_state director)" = confirmed ] || fail "director: $(confirmation_state director)"
expect_ipvs director "TCP $VIP:80 wrr" "TCP $VIP:80 -> 192.0.2.11:8080 Masq 1" "TCP $VIP:80 -> 192.0.2.12:8080 Masq 1"
expect_counts "$(count client "http://$VIP/" 10)" "rs1:8080 5" "rs2:8080 5"
