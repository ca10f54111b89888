# Rollback on a real server: its VIP goes away (its share of requests fails), setup puts it back, and
# rollback leaves the namespace's addresses and sysctls exactly as before lvs-node.
VIP=192.0.2.10
switch lan
host client;   plug client eth0 lan 192.0.2.100/24
host director; plug director eth0 lan 192.0.2.1/24
host rs1;      plug rs1 eth0 lan 192.0.2.11/24
host rs2;      plug rs2 eth0 lan 192.0.2.12/24
snapshot() { on rs2 ip -j addr show dev lo; for key in all/arp_ignore all/arp_announce lo/arp_ignore lo/arp_announce; do on rs2 cat "/proc/sys/net/ipv4/conf/$key"; done; }
before=$(snapshot)
for rs in rs1 rs2; do lvs "$rs" setup --role realserver --vip "$VIP"; serve "$rs"; done
on director ip addr add "$VIP/24" dev eth0 label eth0:0
on director ipvsadm -A -t "$VIP:80" -s rr
on director ipvsadm -a -t "$VIP:80" -r 192.0.2.11:80 -g
on director ipvsadm -a -t "$VIP:80" -r 192.0.2.12:80 -g
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
