# The lab's scenario library: namespaces as hosts, bridges as switches, a tiny HTTP server that
# answers with its host's name, and a client that counts who answered. Sourced by guest-main;
# everything it makes is removed by lab_cleanup after each scenario.

LVS_NODE=${LAB_BIN:?}
PYTHON=/usr/bin/python3
LAB_STATE=$(mktemp -d /tmp/lab-state.XXXXXX)

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

# plug HOST IFACE SWITCH ADDRESS/PREFIX: a veth from the host to the switch, with an address.
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

# lvs HOST lvs-node arguments…: lvs-node in a host, with its own root and state directory.
lvs() {
    local host=$1; shift
    local subcommand=$1; shift
    local extra=()
    case "$subcommand" in setup|plan) extra=(--persist none --init none) ;; esac
    ip netns exec "$host" "$LVS_NODE" "$subcommand" "$@" "${extra[@]}" --root "$LAB_STATE/$host/root" --state-dir "$LAB_STATE/$host/state"
}

# serve HOST [PORT]: an HTTP server in the host answering "HOST" to every request.
serve() {
    local host=$1 port=${2:-80}
    ip netns exec "$host" "$PYTHON" "$LAB_REPO/Tests/Lab/http-name.py" "$host" "$port" &
    for _ in $(seq 50); do
        on "$host" "$PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), timeout=0.2)" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "the HTTP server in $host did not start"
}

# count HOST URL N: N requests from the host, one connection each; prints "NAME COUNT" lines (and
# "failed COUNT" for requests that got no answer).
count() { on "$1" "$PYTHON" "$LAB_REPO/Tests/Lab/http-count.py" "$2" "$3"; }

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

# virtual_service VIP SCHEDULER FORWARDING REAL[:WEIGHT]…: the director's side as the guides do it,
# the VIP as eth0:0 and the service with plain ipvsadm (until the director role exists).
virtual_service() {
    local vip=$1 scheduler=$2 forwarding=$3; shift 3
    on director ip addr add "$vip/24" dev eth0 label eth0:0
    on director ipvsadm -A -t "$vip:80" -s "$scheduler"
    for real in "$@"; do
        on director ipvsadm -a -t "$vip:80" -r "${real%%:*}:80" "$forwarding" -w "${real#*:}"
    done
    on director ipvsadm -Ln
}

# reply_packets VIP: the packets of replies the director forwarded for the service (OutPkts). The
# kernel folds its per-CPU counters into these statistics every couple of seconds, so wait until the
# requests (InPkts) show before reading; "stale" if they never do.
reply_packets() {
    local line
    for _ in $(seq 40); do
        line=$(on director ipvsadm -Ln --stats | awk -v service="TCP  $1:80" '$0 ~ service {print $4, $5}')
        if [ -n "$line" ] && [ "${line%% *}" != 0 ]; then echo "${line##* }"; return; fi
        sleep 0.25
    done
    echo stale
}

lab_cleanup() {
    jobs -p | xargs -r kill 2>/dev/null || true
    ip -all netns delete 2>/dev/null || true
    for link in $(ip -o link show type bridge | awk -F': ' '{print $2}'); do ip link delete "$link"; done
    rm -rf "$LAB_STATE"
}
