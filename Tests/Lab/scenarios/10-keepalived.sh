# keepalived: two directors on one LAN, both set up by lvs-node with an ha: section (dir1 MASTER,
# dir2 BACKUP) and HTTP health checks. lvs-node only writes keepalived.conf; keepalived holds the
# VIP by VRRP and the IPVS table. The VIP moves to the backup when the master's keepalived stops and
# back when it returns; a real server whose HTTP server stops leaves the table and comes back.
VIP=192.0.2.10
switch lan
host client; plug client eth0 lan 192.0.2.100/24
host dir1;   plug dir1 eth0 lan 192.0.2.1/24
host dir2;   plug dir2 eth0 lan 192.0.2.2/24
host rs1;    plug rs1 eth0 lan 192.0.2.11/24
host rs2;    plug rs2 eth0 lan 192.0.2.12/24

# spec STATE PRIORITY RS1-WEIGHT: the directors' spec, the same but for their VRRP role.
spec() {
    cat <<YAML
role: director
mode: dr
interface: eth0
services:
  - vip: $VIP
    port: 80
    scheduler: rr
    check: {type: http, path: /, status: 200, connect-timeout: 1, retry: 1, delay-before-retry: 1}
    real-servers: [{address: 192.0.2.11, weight: ${3:-1}}, {address: 192.0.2.12}]
ha:
  state: $1
  priority: $2
  interface: eth0
  virtual-router-id: 51
  advert-int: 1
  password: lab-pass
YAML
}
# keepalived_start DIR: keepalived in the director on the file lvs-node wrote, with pid files of its
# own under the director's root (lvs-node signals the one in <root>/run/keepalived.pid); its log
# lines go to the output marked with the director's name.
declare -A keepalived_pid
keepalived_start() {
    local root=$LAB_STATE/$1/root
    mkdir -p "$root/run"
    ip netns exec "$1" keepalived -n -l -G -D -f "$root/etc/keepalived/keepalived.conf" \
        -p "$root/run/keepalived.pid" -r "$root/run/vrrp.pid" -c "$root/run/checkers.pid" > >(sed -u "s/^/$1 /") 2>&1 &
    keepalived_pid[$1]=$!
}
keepalived_stop() { kill "${keepalived_pid[$1]}"; wait "${keepalived_pid[$1]}" || true; }
has_vip() { on "$1" ip -j addr show dev eth0 | grep -q "\"local\":\"$VIP\",\"prefixlen\":32,.*\"label\":\"eth0:0\""; }
# active DIR: DIR holds the VIP and the other director does not.
active() { local other=dir2; [ "$1" = dir1 ] || other=dir1; has_vip "$1" && ! has_vip "$other"; }
both=("TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1" "TCP $VIP:80 -> 192.0.2.12:80 Route 1")

step "real servers"
for rs in rs1 rs2; do
    lvs "$rs" setup --role realserver --vip "$VIP"
    serve "$rs"
done

step "directors: lvs-node writes keepalived.conf (0600) and leaves the VIP and IPVS to keepalived"
spec MASTER 150 | setup_director dir1
spec BACKUP 100 | setup_director dir2
for dir in dir1 dir2; do
    conf=$LAB_STATE/$dir/root/etc/keepalived/keepalived.conf
    [ "$(stat -c %a "$conf")" = 600 ] || fail "$dir: keepalived.conf has mode $(stat -c %a "$conf")"
    on "$dir" keepalived -t -f "$conf" || fail "$dir: keepalived rejects the configuration"
    expect_ipvs "$dir"
    has_vip "$dir" && fail "$dir: lvs-node put the VIP on eth0 although keepalived owns it"
done

step "keepalived in both: the master holds the VIP, both have the table"
keepalived_start dir1
keepalived_start dir2
within "$LAB_WAIT" active dir1 || fail "dir1 (MASTER) did not take the VIP alone"
await_ipvs "$LAB_WAIT" dir1 "${both[@]}"
await_ipvs "$LAB_WAIT" dir2 "${both[@]}"
await_counts "$LAB_WAIT" client "http://$VIP/" 10 -- "rs1 5" "rs2 5"

step "the master's keepalived stops: the backup takes the VIP, requests go on"
keepalived_stop dir1
within "$LAB_WAIT" active dir2 || fail "dir2 (BACKUP) did not take the VIP"
await_counts "$LAB_WAIT" client "http://$VIP/" 10 -- "rs1 5" "rs2 5"

step "the master's keepalived returns and takes the VIP back"
keepalived_start dir1
within "$LAB_WAIT" active dir1 || fail "dir1 did not take the VIP back"
await_ipvs "$LAB_WAIT" dir1 "${both[@]}"
await_counts "$LAB_WAIT" client "http://$VIP/" 10 -- "rs1 5" "rs2 5"

step "rs2's HTTP server stops: the health check takes it out of the table, rs1 answers all"
stop_serving rs2
await_ipvs "$LAB_WAIT" dir1 "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1"
await_counts "$LAB_WAIT" client "http://$VIP/" 10 -- "rs1 10"

step "rs2 serves again: the health check puts it back"
serve rs2
await_ipvs "$LAB_WAIT" dir1 "${both[@]}"
await_counts "$LAB_WAIT" client "http://$VIP/" 10 -- "rs1 5" "rs2 5"

step "a spec change reaches keepalived: setup rewrites the file and signals it (SIGHUP)"
spec MASTER 150 3 | setup_director dir1
await_ipvs "$LAB_WAIT" dir1 "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 3" "TCP $VIP:80 -> 192.0.2.12:80 Route 1"
