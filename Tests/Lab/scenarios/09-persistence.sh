# Persistence: a persistent rr service (persistence: 60) sends every connection of one client to the
# real server its first one went to; another client gets the next real server. The VIP is routed
# to the director (on its lo, interface: lo) rather than answered by ARP on the LAN.
VIP=203.0.113.10
one_lan
host other; plug other eth0 lan 192.0.2.101/24
for c in client other; do on "$c" ip route add "$VIP/32" via 192.0.2.1; done

step "real servers"
for rs in rs1 rs2; do
    lvs "$rs" setup --role realserver --vip "$VIP"
    serve "$rs"
done

step "director: persistent rr service, the VIP on lo"
setup_director director <<YAML
role: director
mode: dr
interface: lo
services:
  - vip: $VIP
    port: 80
    scheduler: rr
    persistence: 60
    real-servers: [{address: 192.0.2.11}, {address: 192.0.2.12}]
YAML
expect_ipvs director "TCP $VIP:80 rr persistent 60" "TCP $VIP:80 -> 192.0.2.11:80 Route 1" "TCP $VIP:80 -> 192.0.2.12:80 Route 1"
on director ip -j addr show dev lo | grep -q "\"local\":\"$VIP\",\"prefixlen\":32,.*\"label\":\"lo:0\"" || fail "director: the VIP is not lo:0"

step "10 requests from each client"
first=$(count client "http://$VIP/" 10)
second=$(count other "http://$VIP/" 10)
echo "client: $first; other: $second"
case "$first/$second" in
    "rs1 10/rs2 10"|"rs2 10/rs1 10") ;;
    *) fail "client got: $first; other got: $second — expected all of each client's requests on one real server, a different one each" ;;
esac
