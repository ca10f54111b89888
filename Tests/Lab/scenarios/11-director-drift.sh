# A director's life cycle next to a foreign IPVS service and nftables table (made by hand before
# lvs-node, untouched throughout): a second setup changes nothing, a real server deleted by hand is
# drift that status reports and the next setup repairs, the boot path's stop and start take the
# table away and bring it back, and rolling back every generation leaves
# IPVS (services, timeouts), nftables, addresses and sysctls exactly as before lvs-node.
VIP=192.0.2.10
one_lan
for rs in rs1 rs2; do lvs "$rs" setup --role realserver --vip "$VIP"; serve "$rs"; done

step "the foreign service and table"
on director ipvsadm -A -t 203.0.113.5:443 -s wlc
on director ipvsadm -a -t 203.0.113.5:443 -r 192.0.2.50:443 -g -w 3
on director nft -f - <<'NFT'
table ip lab_foreign {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 accept
	}
}
NFT
snapshot() {
    on director ipvsadm -Sn
    on director ipvsadm -Ln --timeout
    on director nft list ruleset
    on director ip -j addr show
    on director sysctl -n net.ipv4.conf.all.send_redirects net.ipv4.conf.eth0.send_redirects
}
before=$(snapshot)
foreign=("TCP 203.0.113.5:443 wlc" "TCP 203.0.113.5:443 -> 192.0.2.50:443 Route 3")
ours=("TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1" "TCP $VIP:80 -> 192.0.2.12:80 Route 1"
      "FWM 7 rr" "FWM 7 -> 192.0.2.11:0 Route 1" "FWM 7 -> 192.0.2.12:0 Route 1")

step "setup: a service, a firewall-mark service and the connection timeouts"
setup_director director <<YAML
role: director
mode: dr
interface: eth0
services:
  - vip: $VIP
    port: 80
    scheduler: rr
    real-servers: [{address: 192.0.2.11}, {address: 192.0.2.12}]
  - fwmark: 7
    vip: $VIP
    ports: [8080, 8443]
    scheduler: rr
    real-servers: [{address: 192.0.2.11}, {address: 192.0.2.12}]
timeouts: {tcp: 600, tcpfin: 60, udp: 200}
YAML
expect_ipvs director "${foreign[@]}" "${ours[@]}"
on director ipvsadm -Ln --timeout | grep -q "Timeout (tcp tcpfin udp): 600 60 200" || fail "director: timeouts are $(on director ipvsadm -Ln --timeout)"
on director nft list table inet lvs_node_marks | grep -q "ip daddr $VIP tcp dport { 8080, 8443 } meta mark set 0x00000007" || fail "director: no mark rule"
lvs director status || fail "status reports drift right after setup"

step "a second setup changes nothing"
output=$(lvs director setup --config "$LAB_STATE/director.yaml" 2>&1) || fail "the second setup failed: $output"
echo "$output"
echo "$output" | grep -q "no changes needed" || fail "the second setup did something: $output"
expect_ipvs director "${foreign[@]}" "${ours[@]}"

step "drift: rs2 deleted by hand is reported, and repaired by setup"
on director ipvsadm -d -t "$VIP:80" -r 192.0.2.12:80
expect_counts "$(count client "http://$VIP/" 4)" "rs1 4"
status=0; output=$(lvs director status 2>&1) || status=$?
echo "$output"
[ "$status" = 2 ] || fail "status exited $status on a deleted real server (2 is drift)"
echo "$output" | grep -q "192.0.2.12:80.*missing" || fail "status does not mark the real server missing"
lvs director setup --config "$LAB_STATE/director.yaml"
expect_ipvs director "${foreign[@]}" "${ours[@]}"
lvs director status || fail "status reports drift after the repair"
expect_counts "$(count client "http://$VIP/" 10)" "rs1 5" "rs2 5"

step "the boot path: stop takes the table and marks away, start brings them back (a reboot)"
lvs director stop
expect_ipvs director "${foreign[@]}"
on director nft list tables | grep -q lvs_node_marks && fail "stop left the mark table"
lvs director start
expect_ipvs director "${foreign[@]}" "${ours[@]}"
on director nft list table inet lvs_node_marks | grep -q "meta mark set 0x00000007" || fail "start did not bring the mark rule back"
lvs director status || fail "status reports drift after start"

step "rolling back every generation"
generations=$(lvs director history | grep -c applied)
echo "$generations generations"
[ "$generations" = 2 ] || fail "expected 2 generations (the setup and the repair), history shows $generations"
for _ in $(seq "$generations"); do lvs director rollback; done
expect_ipvs director "${foreign[@]}"
after=$(snapshot)
[ "$after" = "$before" ] || fail "the director after rollback differs from before lvs-node: $(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"
