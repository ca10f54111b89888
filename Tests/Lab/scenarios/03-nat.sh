# LVS-NAT: the real servers (lvs-node, mode nat) send their replies through the director, which
# forwards and rewrites them; the director set up with ipvsadm and ip_forward=1.
VIP=198.51.100.10
switch outside
switch inside
host client;   plug client eth0 outside 198.51.100.100/24
host director; plug director eth0 outside 198.51.100.1/24; plug director eth1 inside 192.0.2.1/24
host rs1;      plug rs1 eth0 inside 192.0.2.11/24
host rs2;      plug rs2 eth0 inside 192.0.2.12/24

step "real servers"
for rs in rs1 rs2; do
    on "$rs" ip route add default via 192.0.2.99 2>/dev/null || true   # a wrong gateway to replace
    lvs "$rs" setup --role realserver --mode nat --gateway 192.0.2.1
    on "$rs" ip route show default | grep -q "^default via 192.0.2.1 dev eth0" || fail "$rs: default route not via the DIP"
    serve "$rs"
done

step "director"
echo 1 | on director tee /proc/sys/net/ipv4/ip_forward >/dev/null
virtual_service "$VIP" rr -m 192.0.2.11:1 192.0.2.12:1

step "20 requests"
answers=$(count client "http://$VIP/" 20)
echo "$answers"
expect_counts "$answers" "rs1 10" "rs2 10"
out=$(reply_packets "$VIP")
[[ "$out" =~ ^[1-9][0-9]*$ ]] || fail "in NAT the replies pass the director, but its reply counter reads: $out"
