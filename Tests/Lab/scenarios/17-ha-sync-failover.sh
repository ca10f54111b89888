# The IPVS sync daemon (issue #15): with sync-daemon: true keepalived runs it on the VRRP interface,
# the backup director learns the master's connections, and a TCP connection opened through the
# master goes on through the backup after a failover. Without the entry the backup would answer the
# connection's next packet with a reset (it is no SYN, so IPVS does not schedule it).
VIP=192.0.2.10
switch lan
host client; plug client eth0 lan 192.0.2.100/24
host dir1;   plug dir1 eth0 lan 192.0.2.1/24
host dir2;   plug dir2 eth0 lan 192.0.2.2/24
host rs1;    plug rs1 eth0 lan 192.0.2.11/24

spec() {
    cat <<YAML
role: director
mode: dr
interface: eth0
services:
  - vip: $VIP
    port: 80
    scheduler: rr
    check: {type: tcp, connect-timeout: 1, retry: 1, delay-before-retry: 1, delay-loop: 1}
    real-servers: [{address: 192.0.2.11}]
ha: {state: $1, priority: $2, interface: eth0, virtual-router-id: 51, sync-daemon: true}
YAML
}
declare -A keepalived_pid
keepalived_start() {
    local root=$LAB_STATE/$1/root
    mkdir -p "$root/run"
    ip netns exec "$1" keepalived -n -l -G -D -f "$root/etc/keepalived/keepalived.conf" \
        -p "$root/run/keepalived.pid" -r "$root/run/vrrp.pid" -c "$root/run/checkers.pid" > >(sed -u "s/^/$1 /") 2>&1 &
    keepalived_pid[$1]=$!
}
has_vip() { on "$1" ip -j addr show dev eth0 | grep -q "\"local\":\"$VIP\""; }
# synced_connection: the backup's connection table holds the client's connection to rs1.
synced_connection() { on dir2 ipvsadm -Lnc | grep -q "ESTABLISHED .*192.0.2.100:.* $VIP:80 *192.0.2.11:80"; }

step "rs1, and both directors with the sync daemon (lvs-node check accepts the pair)"
lvs rs1 setup --role realserver --vip "$VIP"
serve rs1
spec MASTER 150 > "$LAB_STATE/master.yaml"
spec BACKUP 100 > "$LAB_STATE/backup.yaml"
"$LVS_NODE" check "$LAB_STATE/master.yaml" "$LAB_STATE/backup.yaml" || fail "lvs-node check refused the pair"
setup_director dir1 < "$LAB_STATE/master.yaml"
setup_director dir2 < "$LAB_STATE/backup.yaml"
grep -qx "    lvs_sync_daemon eth0 inst VI_51 id 51" "$LAB_STATE/dir1/root/etc/keepalived/keepalived.conf" \
    || fail "keepalived.conf has no lvs_sync_daemon line"
keepalived_start dir1
keepalived_start dir2
within "$LAB_WAIT" has_vip dir1 || fail "dir1 did not take the VIP"
await_ipvs "$LAB_WAIT" dir2 "TCP $VIP:80 rr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1"
await_counts "$LAB_WAIT" client "http://$VIP/" 2 -- "rs1 2"

step "a client opens a connection through the master and sends half a request"
release=$LAB_STATE/release
on client "$PYTHON" -c "
import os, socket, time
s = socket.create_connection(('$VIP', 80), timeout=5)
s.sendall(b'GET / HTTP/1.0\r\n')
while not os.path.exists('$release'):
    time.sleep(0.1)
s.settimeout(30)
s.sendall(b'Host: lab\r\n\r\n')
reply = b''
while True:
    data = s.recv(4096)
    if not data:
        break
    reply += data
print(reply.decode(errors='replace').splitlines()[-1] if reply else 'no reply')
" > "$LAB_STATE/held.out" 2>&1 &
holder=$!
within "$LAB_WAIT" synced_connection || fail "the backup never learned the connection: $(on dir2 ipvsadm -Lnc | tr '\n' ';')"

step "the master's keepalived stops: the backup takes the VIP and the connection finishes through it"
kill "${keepalived_pid[dir1]}"
wait "${keepalived_pid[dir1]}" || true
within "$LAB_WAIT" has_vip dir2 || fail "dir2 did not take the VIP"
has_vip dir1 && fail "dir1 kept the VIP after its keepalived stopped"
touch "$release"
wait "$holder" || fail "the held connection failed after the failover: $(cat "$LAB_STATE/held.out")"
[ "$(cat "$LAB_STATE/held.out")" = rs1 ] || fail "the held connection got '$(cat "$LAB_STATE/held.out")' instead of rs1's answer"
await_counts "$LAB_WAIT" client "http://$VIP/" 2 -- "rs1 2"
