# LVS-NAT with port mapping: the director (lvs-node, mode nat: ip_forward on) takes the VIP's port 80
# to the real servers' port 8080; the real servers (lvs-node, mode nat) send their replies through
# the director, which forwards and rewrites them.
VIP=198.51.100.10
switch outside
switch inside
host client;   plug client eth0 outside 198.51.100.100/24
host director; plug director eth0 outside 198.51.100.1/24; plug director eth1 inside 192.0.2.1/24
host rs1;      plug rs1 eth0 inside 192.0.2.11/24
host rs2;      plug rs2 eth0 inside 192.0.2.12/24

step "real servers, HTTP on 8080"
for rs in rs1 rs2; do
    on "$rs" ip route add default via 192.0.2.99 2>/dev/null || true   # a wrong gateway to replace
    lvs "$rs" setup --role realserver --mode nat --gateway 192.0.2.1
    on "$rs" ip route show default | grep -q "^default via 192.0.2.1 dev eth0" || fail "$rs: default route not via the DIP"
    serve "$rs" 8080
done

step "director: VIP:80 masqueraded to the real servers' 8080"
setup_director director <<YAML
role: director
mode: nat
interface: eth0
services:
  - vip: $VIP
    port: 80
    scheduler: rr
    real-servers:
      - {address: 192.0.2.11, port: 8080}
      - {address: 192.0.2.12, port: 8080}
YAML
expect_ipvs director "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:8080 Masq 1" "TCP $VIP:80 -> 192.0.2.12:8080 Masq 1"
[ "$(on director cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "director: ip_forward not set"

step "20 requests"
answers=$(count client "http://$VIP/" 20)
echo "$answers"
expect_counts "$answers" "rs1:8080 10" "rs2:8080 10"
out=$(reply_packets "$VIP")
[[ "$out" =~ ^[1-9][0-9]*$ ]] || fail "in NAT the replies pass the director, but its reply counter reads: $out"
