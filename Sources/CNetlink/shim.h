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
// recvmmsg and struct mmsghdr are _GNU_SOURCE-only in glibc's headers: the kernel's call by its number,
// with its layout (a msghdr, then the length received). NetlinkIPVS reads a dump's two datagrams at once.
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
struct lvs_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
static inline int lvs_recvmmsg(int fd, struct lvs_mmsghdr *messages, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, messages, count, flags, (void *)0);
}
