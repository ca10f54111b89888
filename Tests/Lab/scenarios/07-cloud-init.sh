# cloud-init: Debian's real cloud-init runs its boot stages against a NoCloud seed whose user-data
# hooks lvs-node in (bootcmd, every boot); afterwards the VM holds the VIP and the ARP sysctls,
# cloud-init reports no error, and a second run of the stages changes nothing. This runs in the VM's
# own namespace (the VM is private and thrown away), with --root / so the real `cloud-init query` path
# is the one taken.
command -v cloud-init >/dev/null || fail "cloud-init is not installed (.ci/run installs it)"
VIP=192.0.2.10
rm -f /etc/cloud/cloud-init.disabled
rm -rf /var/lib/cloud /var/log/cloud-init*.log /var/lib/lvs-node /var/log/lvs-node.log
mkdir -p /var/lib/cloud/seed/nocloud /etc/cloud/cloud.cfg.d
# Only the local seed (the VM has no network to look for other datasources on), no network
# configuration (the VM has no NIC), and only the modules a hook uses: the others (ssh host keys,
# users, locale, apt) have nothing to do with lvs-node, and some cannot work in this VM.
cat > /etc/cloud/cloud.cfg.d/99-lab.cfg <<CFG
datasource_list: [NoCloud, None]
network: {config: disabled}
cloud_init_modules: [bootcmd]
cloud_config_modules: [runcmd]
cloud_final_modules: [scripts_user, final_message]
CFG
printf 'instance-id: lab-realserver-1\nlocal-hostname: lab-rs1\n' > /var/lib/cloud/seed/nocloud/meta-data
cat > /var/lib/cloud/seed/nocloud/user-data <<USERDATA
#cloud-config
lvs_node:
  role: realserver
  vips: [$VIP]
  persist: none
  init: none
bootcmd:
  - [$LVS_NODE, cloud-init]
USERDATA

stages() {
    cloud-init init --local
    cloud-init init
    cloud-init modules --mode config
    cloud-init modules --mode final
}

step "first boot"
stages > /tmp/cloud-init-1.log 2>&1 || { cat /tmp/cloud-init-1.log; fail "a cloud-init stage failed"; }
ip -j addr show dev lo | grep -q "\"local\":\"$VIP\",\"prefixlen\":32,.*\"label\":\"lo:0\"" || { cat /tmp/cloud-init-1.log; fail "no VIP on lo after cloud-init"; }
[ "$(cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ] || fail "arp_ignore not set after cloud-init"
cloud-init status --long | tee /tmp/cloud-init-status.log
grep -q "status: done" /tmp/cloud-init-status.log || fail "cloud-init status is not done"
grep -qi "error" /tmp/cloud-init-status.log && fail "cloud-init reports errors"

grep -q "applied generation 1" /var/log/lvs-node.log || fail "lvs-node.log does not show the setup"

step "second run of the stages"
stages > /tmp/cloud-init-2.log 2>&1 || { cat /tmp/cloud-init-2.log; fail "a cloud-init stage failed the second time"; }
grep -q "no changes needed" /var/log/lvs-node.log || { cat /var/log/lvs-node.log; fail "the second boot did not run lvs-node, or changed something"; }
[ "$("$LVS_NODE" history | grep -c applied)" = 1 ] || fail "the second boot made a generation"
cat /var/log/lvs-node.log
