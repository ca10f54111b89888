# LVS-DR on one subnet: wrr with weights 2:1, the director and the real servers configured by
# lvs-node only. Replies bypass the director.
VIP=192.0.2.10
one_lan

step "real servers"
for rs in rs1 rs2; do
    lvs "$rs" setup --role realserver --vip "$VIP"
    serve "$rs"
    [ "$(on "$rs" cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ] || fail "$rs: arp_ignore not set"
    on "$rs" ip -j addr show dev lo | grep -q "\"local\":\"$VIP\",\"prefixlen\":32" || fail "$rs: VIP not on lo"
done

step "director: the VIP as eth0:0, the wrr service in IPVS, no ICMP redirects to the real servers"
virtual_service "$VIP" wrr dr 192.0.2.11:2 192.0.2.12:1
[ "$(on director cat /proc/sys/net/ipv4/conf/eth0/send_redirects)" = 0 ] || fail "director: send_redirects not off on eth0"

step "30 requests"
answers=$(count client "http://$VIP/" 30)
echo "$answers"
expect_counts "$answers" "rs1 20" "rs2 10"
out=$(reply_packets "$VIP")
[ "$out" = 0 ] || fail "the director saw $out reply packets; in DR replies go straight to the client"
