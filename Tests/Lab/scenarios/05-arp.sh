# ARP: with the VIP on their lo, real servers configured by lvs-node never answer ARP for it; only
# the director (lvs-node, the VIP as eth0:0) does. Then a real server without lvs-node's sysctls, to
# show the probe would see it.
VIP=192.0.2.10
one_lan
virtual_service "$VIP" rr dr 192.0.2.11:1 192.0.2.12:1
for rs in rs1 rs2; do lvs "$rs" setup --role realserver --vip "$VIP"; done

mac() { on "$1" cat /sys/class/net/eth0/address | tr 'a-f' 'A-F'; }
director_mac=$(mac director)

step "ARP probe for the VIP"
# Every MAC that answered an ARP request for the VIP.
probe() { on client arping -c 3 -w 10 -I eth0 "$VIP" | grep -o '\[[0-9A-Fa-f:]*\]' | tr -d '[]' | tr 'a-f' 'A-F' | sort -u || true; }
replies=$(probe)
echo "replies from: $replies (director $director_mac)"
[ "$replies" = "$director_mac" ] || fail "ARP replies for the VIP came from: $replies; only the director ($director_mac) may answer"

step "control: without arp_ignore, a real server answers too"
lvs rs1 rollback
on rs1 ip addr add "$VIP/32" dev lo
replies=$(probe)
echo "replies from: $replies"
echo "$replies" | grep -q "$(mac rs1)" || fail "the control failed: rs1 without the sysctls did not answer, so the probe proves nothing"
