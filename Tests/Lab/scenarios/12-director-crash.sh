# A director's setup (VIP, IPVS services and real servers, a firewall-mark service with its nft
# rule, timeouts, the sysctl file) killed with SIGKILL at the system calls that change something
# (every netlink request, every other file/journal/sysctl call: see below)
# (strace inject=NAME:signal=KILL:when=N), each in a brand-new director next to a foreign IPVS
# service. The next run recovers it: `setup` again ends exactly in the applied state, `rollback`
# until nothing is left ends exactly as before (the IPVS table as ipvsadm-save prints it, timeouts,
# nftables, addresses, sysctls, files), and no *.lvs-node-tmp file is left. The recovery alternates
# between the two per kill point (setup at odd points, rollback at even ones): each kill point is
# recovered one way, both ways are exercised all along the run.
trap 'echo "error at line $LINENO: $BASH_COMMAND"' ERR
command -v strace >/dev/null || fail "strace is not installed (.ci/run installs it)"
VIP=192.0.2.10
switch lan
spec=$LAB_STATE/director-crash.yaml
cat > "$spec" <<YAML
role: director
mode: dr
interface: eth0
persist: none
init: none
services:
  - vip: $VIP
    port: 80
    scheduler: wrr
    real-servers: [{address: 192.0.2.11, weight: 2}, {address: 192.0.2.12}]
  - vip: $VIP
    port: 53
    protocol: udp
    scheduler: rr
    real-servers: [{address: 192.0.2.11}]
  - fwmark: 7
    vip: $VIP
    ports: [8080, 8443]
    scheduler: rr
    real-servers: [{address: 192.0.2.11}, {address: 192.0.2.12}]
timeouts: {tcp: 600, tcpfin: 60, udp: 200}
YAML
root=$LAB_STATE/director/root
state=$LAB_STATE/director/state

# A brand-new director: its own namespace (own IPVS table, nftables, sysctls), a fixed MAC, an empty
# root and state directory, and a service lvs-node did not make.
fresh_director() {
    ip netns delete director 2>/dev/null || true
    rm -rf "$LAB_STATE/director"
    mkdir -p "$root/etc/sysctl.d"
    host director
    plug director eth0 lan 192.0.2.1/24
    on director ip link set eth0 address 02:00:00:00:00:01
    on director ipvsadm -A -t 203.0.113.5:443 -s wlc
    on director ipvsadm -a -t 203.0.113.5:443 -r 192.0.2.50:443 -g -w 3
}

# Everything the run may change, read back from the kernel and the file system.
snapshot() {
    on director ipvsadm-save -n | sort
    on director ipvsadm -Ln --timeout
    on director nft list ruleset
    on director ip -4 -o addr show | awk '{print $2, $4, $NF}'
    on director sysctl -n net.ipv4.ip_forward net.ipv4.conf.all.send_redirects net.ipv4.conf.eth0.send_redirects
    on director sysctl net.ipv4.vs | sort
    (cd "$root" && find . -printf '%y %m %p %l\n' | sort && find . -type f -exec md5sum {} + | sort)
}

# differences EXPECTED ACTUAL: the diff on one line (diff exits 1 on a difference: not a failure here).
differences() { diff <(echo "$1") <(echo "$2") | tr '\n' ' ' || true; }

temporary_files() { find "$root" -name '*.lvs-node-tmp' | sed "s|^$root||"; }

director_lvs() { ip netns exec director "$@" --root "$root" --state-dir "$state"; }

# rollback until there is nothing left; false if a rollback fails.
roll_back_everything() {
    local output
    for _ in 1 2 3 4 5; do
        output=$(director_lvs "$LVS_NODE" rollback 2>&1) || { echo "$output"; return 1; }
        case "$output" in *"nothing to roll back"*) return 0 ;; esac
    done
    echo "rollback never reached nothing to roll back"; return 1
}

calls=write,pwrite64,writev,sendmsg,sendto,openat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,symlink,symlinkat,fchmod,fchown,fsync,fdatasync,ftruncate

step "a clean run, traced: the states before and after, and the calls that change something"
fresh_director
before=$(snapshot)
director_lvs strace -qq -s 200 -o "$LAB_STATE/trace" -e trace=$calls "$LVS_NODE" setup --config "$spec" > /dev/null \
    || fail "the traced setup failed"
applied=$(snapshot)
[ "$applied" != "$before" ] || fail "the setup changed nothing"
# lvs-node's own calls only (no -f): strace counts when= per process, and a kill in a child (nft)
# is another kind of fault.
points=$(mutating_calls "$LAB_STATE/trace")
# Every netlink request (IPVS, addresses, nft's own are in its child) is a kill point; of the file,
# journal and sysctl calls every other one is: they are the same FileDriver, journal and sysctl code
# as a real server's, which CrashPointKernelTests kills at every single call. LAB_CRASH_ALL=1 takes
# every point (about twice the time).
if [ -z "${LAB_CRASH_ALL:-}" ]; then
    points=$(echo "$points" | awk '$1 ~ /^(sendmsg|sendto)$/ || (++other % 2) == 1')
fi
total=$(echo "$points" | wc -l)
echo "$total kill points"
[ "$total" -ge 20 ] || fail "only $total mutating calls found in the trace"

step "killed at each of them, then recovered"
failures=()
index=0
while read -r name occurrence; do
    index=$((index + 1))
    fresh_director
    [ "$(snapshot)" = "$before" ] || fail "a fresh director differs from the first one"
    status=0
    director_lvs strace -qq -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$occurrence" \
        "$LVS_NODE" setup --config "$spec" > /dev/null 2>&1 || status=$?
    [ "$status" = 137 ] || { failures+=("$name#$occurrence: not killed (exit $status)"); continue; }
    if [ $((index % 2)) = 1 ]; then
        how="setup again"
        output=$(director_lvs "$LVS_NODE" setup --config "$spec" 2>&1) || { failures+=("$name#$occurrence, $how: $output"); continue; }
        now=$(snapshot)
        [ "$now" = "$applied" ] || { failures+=("$name#$occurrence, $how: $(differences "$applied" "$now")"); continue; }
        how="setup again, then rollback"
    else
        how="rollback"
    fi
    output=$(roll_back_everything) || { failures+=("$name#$occurrence, $how: $output"); continue; }
    now=$(snapshot)
    [ "$now" = "$before" ] || { failures+=("$name#$occurrence, $how: $(differences "$before" "$now")"); continue; }
    left=$(temporary_files)
    [ -z "$left" ] || failures+=("$name#$occurrence, $how: temporary files left: $left")
done <<< "$points"
printf '%s\n' "${failures[@]:-}"
[ ${#failures[@]} = 0 ] || fail "${#failures[@]} of $total kill points were not recovered exactly: ${failures[0]}"
