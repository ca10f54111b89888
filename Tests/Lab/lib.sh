# The lab's scenario library: namespaces as hosts, bridges as switches, a tiny HTTP server that
# answers with its host's name, and a client that counts who answered. Sourced by guest-main;
# everything it makes is removed by lab_cleanup after each scenario.

LVS_NODE=${LAB_BIN:?}
PYTHON=/usr/bin/python3
LAB_STATE=$(mktemp -d /tmp/lab-state.XXXXXX)
# How long anything that happens on its own (a server starting, keepalived moving a VIP, a health
# check, the kernel folding its counters) may take: generous, since two VMs share two cores under TCG.
LAB_WAIT=${LAB_WAIT:-60}

fail() { echo "FAIL: $*"; exit 1; }
step() { echo "--- $*"; }

# host NAME: a network namespace with lo up.
host() {
    ip netns add "$1"
    ip -n "$1" link set lo up
}

# switch NAME: a bridge in the VM's own namespace.
switch() {
    ip link add "$1" type bridge
    ip link set "$1" up
}

# plug HOST IFACE SWITCH ADDRESS/PREFIX: a veth from the host to the switch, with an address (the
# switch side is named from the first 6 characters of HOST, so hosts must differ in those).
plug() {
    local host=$1 iface=$2 switch=$3 address=${4:-}
    local peer="v-${host:0:6}-${iface}"
    ip link add "$peer" type veth peer name "$iface" netns "$host"
    ip link set "$peer" master "$switch" up
    ip -n "$host" link set "$iface" up
    [ -z "$address" ] || ip -n "$host" addr add "$address" dev "$iface"
}

# on HOST COMMAND…: run a command in a host.
on() { local host=$1; shift; ip netns exec "$host" "$@"; }

# lvs HOST lvs-node arguments…: lvs-node in a host, with its own root and state directory. A spec
# given as flags gets --persist none --init none (the VM has neither); a --config spec says so itself.
lvs() {
    local host=$1; shift
    local subcommand=$1; shift
    local extra=()
    case "$subcommand" in setup|plan) [[ " $* " == *" --config "* ]] || extra=(--persist none --init none) ;; esac
    mkdir -p "$LAB_STATE/$host/root"
    ip netns exec "$host" "$LVS_NODE" "$subcommand" "$@" "${extra[@]}" --root "$LAB_STATE/$host/root" --state-dir "$LAB_STATE/$host/state"
}

# setup_director HOST [setup arguments…] <<YAML: lvs-node setup of a director from the spec on standard
# input, with persist: none and init: none added; the spec stays in $LAB_STATE/HOST.yaml for later runs.
setup_director() {
    local host=$1; shift
    local spec=$LAB_STATE/$host.yaml
    { cat; printf 'persist: none\ninit: none\n'; } > "$spec"
    lvs "$host" setup --config "$spec" "$@"
}

# serve HOST [PORT]: an HTTP server in the host answering "HOST" to every request on port 80, and
# "HOST:PORT" on another port.
serve() {
    local host=$1 port=${2:-80}
    local name=$host
    [ "$port" = 80 ] || name=$host:$port
    ip netns exec "$host" "$PYTHON" "$LAB_REPO/Tests/Lab/http-name.py" "$name" "$port" &
    echo $! > "$LAB_STATE/serve-$host-$port.pid"
    within "$LAB_WAIT" on "$host" "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null \
        || fail "the HTTP server in $host did not start within ${LAB_WAIT}s"
}

# stop_serving HOST [PORT]: stop the HTTP server serve started there.
stop_serving() {
    local pid
    pid=$(cat "$LAB_STATE/serve-$1-${2:-80}.pid")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}

# within SECONDS COMMAND…: wait until the command succeeds, trying about ten times a second; false if
# it did not by the deadline (measured by the clock, not by counting tries, so a slow command under
# load does not stretch it, and a last try is made at the deadline).
within() {
    local seconds=$1; shift
    local deadline=$(( $(date +%s) + seconds ))
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# count HOST URL… N: N requests from the host, one connection each, taking the URLs in turn; prints
# "NAME COUNT" lines (and "failed COUNT" for requests that got no answer).
count() { local host=$1; shift; on "$host" "$PYTHON" "$LAB_REPO/Tests/Lab/http-count.py" "$@"; }

# await_counts SECONDS HOST URL… N -- "rs1 5"…: counts from the host (as count prints them) must be
# exactly these; asked again until they are or SECONDS pass (after something that happens on its
# own, like a VRRP failover the client's ARP cache learns of late).
await_counts() {
    local seconds=$1 host=$2; shift 2
    local request=() answers expected deadline
    while [ "$1" != -- ]; do request+=("$1"); shift; done
    shift
    expected=$(printf '%s\n' "$@" | sort)
    deadline=$(( $(date +%s) + seconds ))
    while answers=$(count "$host" "${request[@]}" | sort); [ "$answers" != "$expected" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "answers were: $(echo "$answers" | tr '\n' ' ') — expected: $*"
        sleep 0.5
    done
    echo "$answers"
}

# expect_counts "OUTPUT" "rs1 20" "rs2 10"…: the counts must be exactly these.
expect_counts() {
    local output=$1; shift
    local expected
    expected=$(printf '%s\n' "$@" | sort)
    [ "$(echo "$output" | sort)" = "$expected" ] || fail "answers were: $(echo "$output" | tr '\n' ' ') — expected: $*"
}

# one_lan: the one-subnet topology of the DR, TUN, ARP and rollback scenarios — client .100,
# director .1, rs1 .11 and rs2 .12 on 192.0.2.0/24.
one_lan() {
    switch lan
    host client;   plug client eth0 lan 192.0.2.100/24
    host director; plug director eth0 lan 192.0.2.1/24
    host rs1;      plug rs1 eth0 lan 192.0.2.11/24
    host rs2;      plug rs2 eth0 lan 192.0.2.12/24
}

# virtual_service VIP SCHEDULER MODE REAL:WEIGHT…: the director's side, by lvs-node only: MODE (dr,
# tun, nat) is the forwarding, the VIP goes on eth0 as eth0:0 and one TCP service on port 80 takes
# the real servers. Then the kernel must hold exactly that.
virtual_service() {
    local vip=$1 scheduler=$2 mode=$3; shift 3
    local real forward expected=("TCP $vip:80 $scheduler")
    case "$mode" in dr) forward=Route ;; tun) forward=Tunnel ;; nat) forward=Masq ;; esac
    {
        printf 'role: director\nmode: %s\ninterface: eth0\nservices:\n' "$mode"
        printf '  - vip: %s\n    port: 80\n    scheduler: %s\n    real-servers:\n' "$vip" "$scheduler"
        for real in "$@"; do printf '      - {address: %s, weight: %s}\n' "${real%%:*}" "${real#*:}"; done
    } | setup_director director
    for real in "$@"; do expected+=("TCP $vip:80 -> ${real%%:*}:80 $forward ${real#*:}"); done
    expect_ipvs director "${expected[@]}"
    on director ip -j addr show dev eth0 | grep -q "\"local\":\"$vip\",\"prefixlen\":32,.*\"label\":\"eth0:0\"" || fail "director: the VIP is not eth0:0"
}

# ipvs HOST: the host's IPVS table as `ipvsadm -Ln` shows it, one line per service ("TCP
# 192.0.2.10:80 wrr", "FWM 1 rr") and per real server under its service ("TCP 192.0.2.10:80 ->
# 192.0.2.11:80 Route 2", without the connection counters), sorted.
ipvs() {
    on "$1" ipvsadm -Ln | awk 'NR <= 3 {next} $1 != "->" {service = $1 " " $2; $1 = $1; print; next} {print service, $1, $2, $3, $4}' | sort
}

# expect_ipvs HOST LINE…: the host's IPVS table (as ipvs prints it) must be exactly these lines.
# await_ipvs SECONDS HOST LINE…: it must become so within SECONDS (for keepalived's health checks).
expect_ipvs() { await_ipvs 0 "$@"; }
await_ipvs() {
    local seconds=$1 host=$2; shift 2
    local table expected deadline=$(( $(date +%s) + seconds ))
    expected=$(printf '%s\n' "$@" | sort)
    while table=$(ipvs "$host"); [ "$table" != "$expected" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$host: the IPVS table is: $(echo "$table" | tr '\n' ';') — expected: $(echo "$expected" | tr '\n' ';')"
        sleep 0.25
    done
}

# reply_packets VIP: the packets of replies the director forwarded for the service (OutPkts). The
# kernel folds its per-CPU counters into these statistics every couple of seconds, so wait until the
# requests (InPkts) show before reading; "stale" if they never do.
reply_packets() {
    local line deadline=$(( $(date +%s) + LAB_WAIT ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        line=$(on director ipvsadm -Ln --stats | awk -v service="TCP  $1:80" '$0 ~ service {print $4, $5}')
        if [ -n "$line" ] && [ "${line%% *}" != 0 ]; then echo "${line##* }"; return; fi
        sleep 0.25
    done
    echo stale
}

lab_cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    wait 2>/dev/null || true   # the servers and keepalived gone before their namespaces
    # And whatever else runs in them (a confirmation's watcher is detached from this shell).
    for namespace in $(ip netns list | awk '{print $1}'); do ip netns pids "$namespace" | xargs -r kill -9 2>/dev/null || true; done
    # The switch ports (v-HOST-IFACE) go first, each with its peer: a deleted namespace's devices go only
    # when the kernel frees the namespace, which an orphaned TCP socket still sending its FIN (a real
    # server whose server was killed mid-connection) delays for minutes, and the next scenario makes
    # the same names again.
    for link in $(ip -o link show | awk -F': ' '$2 ~ /^v-/ {sub(/@.*/, "", $2); print $2}'); do ip link delete "$link"; done
    ip -all netns delete 2>/dev/null || true
    for link in $(ip -o link show type bridge | awk -F': ' '{print $2}'); do ip link delete "$link"; done
    rm -rf "$LAB_STATE"
}

# mutating_calls TRACE: NAME OCCURRENCE of every call in an strace output that changes something
# (occurrences count every call of the name, as strace's when= does): not reads (openat without
# O_CREAT/O_TRUNC, netlink dumps, family lookups), not writes to standard output or error, not a mkdir
# of an existing directory.
mutating_calls() {
    awk '
    !/^[a-z0-9_]+\(/ { next }
    {
        name = $1; sub(/\(.*/, "", name); count[name]++
        call = $0
        if (name ~ /^(write|pwrite64|writev)$/ && call ~ /^[a-z0-9]+\([12],/) next
        if (name == "openat" && call !~ /O_CREAT|O_TRUNC/) next
        # (strace names NLM_F_DUMP only for rtnetlink: an IPVS dump shows as NLM_F_REQUEST|0x300)
        if (name ~ /^(sendmsg|sendto)$/ && call ~ /NLM_F_DUMP|GETFAMILY|nlctrl|NLM_F_REQUEST\|0x300/) next
        if (name ~ /^mkdir/ && call ~ /EEXIST/) next
        print name, count[name]
    }' "$1"
}
