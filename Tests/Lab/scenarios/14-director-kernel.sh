# The director's kernel settings through a simulated reboot, in the order a boot runs them: ip_vs
# unloaded, then the modules of modules-load.d loaded (with the options of modprobe.d), then
# sysctl.d applied, then `lvs-node start`. Judged by /sys/module, /proc/sys and ipvsadm, and by what
# a client sees when its real server is removed (expire_nodest_conn).
VIP=192.0.2.10
one_lan
for rs in rs1 rs2; do lvs "$rs" setup --role realserver --vip "$VIP"; serve "$rs"; done
root=$LAB_STATE/director/root

director_spec() {
    {
        printf 'role: director\nmode: dr\ninterface: eth0\n'
        printf 'timeouts: {tcp: 1800, tcpfin: 30, udp: 60}\nkernel: {conn-tab-bits: 14}\nservices:\n'
        printf '  - vip: %s\n    port: 80\n    scheduler: wrr\n    real-servers:\n' "$VIP"
        for real in "$@"; do printf '      - {address: %s}\n' "$real"; done
    }
}

step "setup writes the modules, their options and the sysctls, and sets the sysctls in the director's namespace"
director_spec 192.0.2.11 192.0.2.12 | setup_director director > "$LAB_STATE/setup.out" 2>&1 \
    || fail "setup failed: $(cat "$LAB_STATE/setup.out")"
grep -qx ip_vs "$root/etc/modules-load.d/lvs-node.conf" && grep -qx ip_vs_wrr "$root/etc/modules-load.d/lvs-node.conf" \
    || fail "modules-load.d: $(cat "$root/etc/modules-load.d/lvs-node.conf")"
grep -qx 'options ip_vs conn_tab_bits=14' "$root/etc/modprobe.d/lvs-node.conf" || fail "modprobe.d: $(cat "$root/etc/modprobe.d/lvs-node.conf")"
grep -q 'conn_tab_bits' "$LAB_STATE/setup.out" || fail "setup did not say the running ip_vs has another table size: $(cat "$LAB_STATE/setup.out")"
for setting in expire_nodest_conn=1 expire_quiescent_template=1 schedule_icmp=1 conn_reuse_mode=1 amemthresh=16384; do
    [ "$(on director cat "/proc/sys/net/ipv4/vs/${setting%=*}")" = "${setting#*=}" ] || fail "director: net.ipv4.vs.$setting not set"
    grep -qx "net.ipv4.vs.${setting%=*} = ${setting#*=}" "$root/etc/sysctl.d/90-lvs-node.conf" || fail "sysctl.d lacks $setting"
done
# Per namespace: the VM's own namespace keeps the kernel's default.
[ "$(cat /proc/sys/net/ipv4/vs/expire_nodest_conn)" = 0 ] || fail "the VM's own namespace changed too"

step "the reboot: ip_vs unloaded; sysctl.d alone cannot set the IPVS sysctls then"
on director ipvsadm -C
# Every scheduler module, whichever earlier scenario loaded it (wlc is ipvsadm's default), then ip_vs;
# namespaces of earlier scenarios release their services asynchronously, so asked again until it goes.
unload_ipvs() { modprobe -r $(lsmod | awk '/^ip_vs_/ {print $1}') ip_vs 2>/dev/null; }
within "$LAB_WAIT" unload_ipvs || fail "ip_vs does not unload: $(lsmod | grep ip_vs)"
[ ! -e /sys/module/ip_vs ] || fail "ip_vs is still loaded"
if on director sysctl -q -p "$root/etc/sysctl.d/90-lvs-node.conf" 2>/dev/null; then
    fail "sysctl -p set net.ipv4.vs.* without ip_vs (the order would not matter)"
fi

step "the boot: modules-load.d with modprobe.d's options, then sysctl.d, then lvs-node start"
while read -r module; do
    case "$module" in ''|'#'*) continue ;; esac
    modprobe -C "$root/etc/modprobe.d" "$module" || fail "modprobe $module failed"
done < "$root/etc/modules-load.d/lvs-node.conf"
[ "$(cat /sys/module/ip_vs/parameters/conn_tab_bits)" = 14 ] || fail "conn_tab_bits is $(cat /sys/module/ip_vs/parameters/conn_tab_bits), not 14"
on director sysctl -q -p "$root/etc/sysctl.d/90-lvs-node.conf" || fail "sysctl -p failed after the modules loaded"
[ "$(on director cat /proc/sys/net/ipv4/vs/expire_nodest_conn)" = 1 ] || fail "sysctl.d did not set expire_nodest_conn"
[ "$(on director ipvsadm -L --timeout)" = "Timeout (tcp tcpfin udp): 900 120 300" ] || fail "the reloaded ip_vs did not start from the defaults"
lvs director start || fail "lvs-node start failed"
expect_ipvs director "TCP $VIP:80 wrr" "TCP $VIP:80 -> 192.0.2.11:80 Route 1" "TCP $VIP:80 -> 192.0.2.12:80 Route 1"
[ "$(on director ipvsadm -L --timeout)" = "Timeout (tcp tcpfin udp): 1800 30 60" ] \
    || fail "start did not restore the timeouts: $(on director ipvsadm -L --timeout)"
lvs director status > "$LAB_STATE/status.out" 2>&1 || fail "status after start shows drift: $(cat "$LAB_STATE/status.out")"

step "expire_nodest_conn: a client whose real server is removed gets a reset at once, not a hang"
# A connection to each real server, half a request each; then rs2 leaves, and each client sends the rest.
clients=()
for n in 1 2; do
    on client "$PYTHON" -c "
import os, socket, time
s = socket.create_connection(('$VIP', 80), timeout=5)
s.sendall(b'GET / HTTP/1.1\r\nHost: lab\r\n')
open('$LAB_STATE/connected-$n', 'w').close()
while not os.path.exists('$LAB_STATE/go'):
    time.sleep(0.1)
s.settimeout(8)
try:
    s.sendall(b'\r\n')
    reply = s.recv(200)
    print('answered' if reply else 'closed')
except ConnectionResetError:
    print('reset')
except socket.timeout:
    print('hung')
" > "$LAB_STATE/client-$n.out" 2>&1 &
    clients+=($!)
    within 30 test -e "$LAB_STATE/connected-$n" || fail "client $n did not connect"
done
within 30 sh -c "ip netns exec director ipvsadm -Ln | awk '\$2 == \"192.0.2.12:80\" {exit \$5 == 1 ? 0 : 1}'" \
    || fail "no active connection on rs2: $(on director ipvsadm -Ln)"
director_spec 192.0.2.11 | setup_director director > /dev/null
touch "$LAB_STATE/go"
for pid in "${clients[@]}"; do wait "$pid" || true; done
outcomes=$(cat "$LAB_STATE/client-1.out" "$LAB_STATE/client-2.out" | sort | tr '\n' ' ')
[ "$outcomes" = "answered reset " ] || fail "the clients saw: $outcomes(expected one answered by rs1, one reset)"

# The next scenarios find the schedulers loaded, as the VM started.
modprobe -a ip_vs_rr ip_vs_wrr ip_vs_sh
