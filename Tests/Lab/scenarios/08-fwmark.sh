# A firewall-mark service: lvs-node marks the packets to the VIP's ports 80 and 88 with mark 1 (its
# nftables table) and schedules mark 1 as one service, so both ports share one rr schedule. The
# real servers serve both ports and answer "rsN" on 80, "rsN:88" on 88.
VIP=192.0.2.10
one_lan

step "real servers on ports 80 and 88"
for rs in rs1 rs2; do
    lvs "$rs" setup --role realserver --vip "$VIP"
    serve "$rs" 80
    serve "$rs" 88
done

step "director: FWM 1 for $VIP tcp 80 and 88"
setup_director director <<YAML
role: director
mode: dr
interface: eth0
services:
  - fwmark: 1
    vip: $VIP
    protocol: tcp
    ports: [80, 88]
    scheduler: rr
    real-servers: [{address: 192.0.2.11}, {address: 192.0.2.12}]
YAML
expect_ipvs director "FWM 1 rr" "FWM 1 -> 192.0.2.11:0 Route 1" "FWM 1 -> 192.0.2.12:0 Route 1"
ruleset=$(on director nft list ruleset)
echo "$ruleset"
echo "$ruleset" | grep -q "ip daddr $VIP tcp dport { 80, 88 } meta mark set 0x00000001" || fail "director: no mark rule for $VIP ports 80, 88"

step "20 requests alternating between :80 and :88"
# Only marked packets meet a service (there is none for $VIP:80 or :88 as such), and one schedule
# covers both ports: rr hands request n to rs1 or rs2 by n alone, so every :80 request lands on one
# real server and every :88 request on the other. Two services (one per port) would split each port
# 5:5 instead.
answers=$(count client "http://$VIP:80/" "http://$VIP:88/" 20)
echo "$answers"
case "$(echo "$answers" | sort | tr '\n' ' ')" in
    "rs1 10 rs2:88 10 "|"rs1:88 10 rs2 10 ") ;;
    *) fail "answers were: $(echo "$answers" | tr '\n' ' ') — expected one real server for every :80 request and the other for every :88" ;;
esac
