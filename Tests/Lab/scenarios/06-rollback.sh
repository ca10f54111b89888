# Rollback on a real server: its VIP goes away (its share of requests fails), setup puts it back, and
# rollback leaves the namespace's addresses and sysctls exactly as before lvs-node.
VIP=192.0.2.10
one_lan
snapshot() { on rs2 ip -j addr show dev lo; for key in all/arp_ignore all/arp_announce lo/arp_ignore lo/arp_announce; do on rs2 cat "/proc/sys/net/ipv4/conf/$key"; done; }
before=$(snapshot)
for rs in rs1 rs2; do lvs "$rs" setup --role realserver --vip "$VIP"; serve "$rs"; done
virtual_service "$VIP" rr dr 192.0.2.11:1 192.0.2.12:1
expect_counts "$(count client "http://$VIP/" 10)" "rs1 5" "rs2 5"

step "rollback on rs2"
lvs rs2 rollback
[ "$(snapshot)" = "$before" ] || fail "rs2 after rollback differs from before lvs-node: $(diff <(echo "$before") <(snapshot))"
answers=$(count client "http://$VIP/" 10)
echo "$answers"
expect_counts "$answers" "failed 5" "rs1 5"

step "setup again"
lvs rs2 setup --role realserver --vip "$VIP"
expect_counts "$(count client "http://$VIP/" 10)" "rs1 5" "rs2 5"
