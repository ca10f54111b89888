# LVS-TUN: the director wraps requests in IPIP; the real servers (lvs-node, mode tun) unwrap them on
# tunl0 and answer the client directly, so the director never sees a reply.
VIP=192.0.2.10
one_lan

step "real servers"
for rs in rs1 rs2; do
    lvs "$rs" setup --role realserver --mode tun --vip "$VIP" --mss 1400
    on "$rs" ip -j link show tunl0 | grep -q '"UP"' || fail "$rs: tunl0 is not up"
    on "$rs" ip -j addr show dev tunl0 | grep -q "\"local\":\"$VIP\",\"prefixlen\":32" || fail "$rs: VIP not on tunl0"
    [ "$(on "$rs" cat /proc/sys/net/ipv4/conf/tunl0/rp_filter)" = 0 ] || fail "$rs: rp_filter on tunl0"
    on "$rs" nft list table inet lvs_node_mss | grep -q "maxseg size set 1400" || fail "$rs: no MSS clamping table"
    status=0; lvs "$rs" status || status=$?
    [ "$status" = 0 ] || fail "$rs: status reports drift right after setup"
    serve "$rs"
done

step "director"
virtual_service "$VIP" rr tun 192.0.2.11:1 192.0.2.12:1

step "20 requests"
answers=$(count client "http://$VIP/" 20)
echo "$answers"
expect_counts "$answers" "rs1 10" "rs2 10"
out=$(reply_packets "$VIP")
[ "$out" = 0 ] || fail "the director saw $out reply packets; in TUN replies go straight to the client"

step "rollback takes tunl0's VIP, sysctls and the MSS table away"
lvs rs1 rollback
on rs1 nft list table inet lvs_node_mss >/dev/null 2>&1 && fail "rs1: the MSS table is still there"
on rs1 ip -j addr show dev tunl0 | grep -q "\"local\":\"$VIP\"" && fail "rs1: the VIP is still on tunl0"
true
