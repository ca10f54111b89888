// The parts of libnl-3 / libnl-route-3 lvs-node uses. Only the HostAccess module imports this.
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/link/ipip.h>
#include <linux/if.h>
