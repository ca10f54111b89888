// The parts of libnl-3 / libnl-route-3 / libnl-genl-3 lvs-node uses. Only the HostAccess module imports this.
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/link/ipip.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <linux/if.h>
#include <linux/ip_vs.h>
// Not netlink, but the same C boundary: a pidfd pins the process a reload signals (ProcessSignal).
#include <sys/pidfd.h>
