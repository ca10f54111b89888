# LVS-DR on one subnet: wrr with weights 2:1, the real servers configured by lvs-node only, the
# director with plain ipvsadm as the classic guides do. Replies bypass the director.
VIP=192.0.2.10
switch lan
host client;   plug client eth0 lan 192.0.2.100/24
host director; plug director eth0 lan 192.0.2.1/24
host rs1;      plug rs1 eth0 lan 192.0.2.11/24
host rs2;      plug rs2 eth0 lan 192.0.2.12/24

step "real servers"
for rs in rs1 rs2; do
    lvs "$rs" setup --role realserver --vip "$VIP"
    serve "$rs"
    [ "$(on "$rs" cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ] || fail "$rs: arp_ignore not set"
    on "$rs" ip -j addr show dev lo | grep -q "\"local\":\"$VIP\",\"prefixlen\":32" || fail "$rs: VIP not on lo"
done

step "director"
on director ip addr add "$VIP/24" dev eth0 label eth0:0
on director ipvsadm -A -t "$VIP:80" -s wrr
on director ipvsadm -a -t "$VIP:80" -r 192.0.2.11:80 -g -w 2
on director ipvsadm -a -t "$VIP:80" -r 192.0.2.12:80 -g -w 1
on director ipvsadm -Ln

step "30 requests"
answers=$(count client "http://$VIP/" 30)
echo "$answers"
expect_counts "$answers" "rs1 20" "rs2 10"
out=$(on director ipvsadm -Ln --stats | awk -v vip="TCP  $VIP:80" '$0 ~ vip {print $5}')
[ "$out" = 0 ] || fail "the director saw $out reply packets; in DR replies go straight to the client"
