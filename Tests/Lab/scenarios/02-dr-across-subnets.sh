# LVS-DR across subnets behind a router: the client on its own network reaches the VIP through the
# router (lvs-node router role, the VIP network as a labelled secondary address on its cluster side)
# to the director (lvs-node, the VIP as eth0:0 on the cluster network); the real servers (lvs-node)
# answer the client directly through the router, not the director.
VIP=203.0.113.10
switch outside
switch cluster
host client;   plug client eth0 outside 198.51.100.100/24
host router;   plug router eth0 outside 198.51.100.1/24; plug router eth1 cluster 192.0.2.254/24
host director; plug director eth0 cluster 192.0.2.1/24
host rs1;      plug rs1 eth0 cluster 192.0.2.11/24
host rs2;      plug rs2 eth0 cluster 192.0.2.12/24
on client ip route add default via 198.51.100.1

step "router"
lvs router setup --role router --address eth1=203.0.113.254/24
[ "$(on router cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "router: ip_forward not set"
on router ip -j addr show dev eth1 | grep -q '"local":"203.0.113.254","prefixlen":24,.*"label":"eth1:0"' || fail "router: no eth1:0 address"

step "real servers: the VIP on lo, replies through the router"
for rs in rs1 rs2; do
    on "$rs" ip route add default via 192.0.2.254
    lvs "$rs" setup --role realserver --vip "$VIP"
    serve "$rs"
done

step "director"
on director ip route add default via 192.0.2.254
virtual_service "$VIP" rr dr 192.0.2.11:1 192.0.2.12:1

step "20 requests from the other network"
answers=$(count client "http://$VIP/" 20)
echo "$answers"
expect_counts "$answers" "rs1 10" "rs2 10"
out=$(reply_packets "$VIP")
[ "$out" = 0 ] || fail "the director saw $out reply packets"
