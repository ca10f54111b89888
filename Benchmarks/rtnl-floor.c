/*
 * The floor for Benchmarks/run: the rtnetlink requests lvs-node sends for a DR real server's VIPs,
 * and nothing else — no spec, no plan, no journal. RTM_NEWADDR (NLM_F_CREATE | NLM_F_EXCL) or
 * RTM_DELADDR with IFA_LOCAL, IFA_ADDRESS and IFA_LABEL, NLM_F_ACK on each, 256 requests per
 * sendmsg, every acknowledgement read and checked by sequence number.
 *
 *   rtnl-floor add|del FILE [DEVICE] [LABEL]
 *
 * FILE holds one IPv4 address per line (each a /32); DEVICE defaults to lo, LABEL to lo:0.
 * Exits 1 (saying which address) if the kernel refuses any request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { WINDOW = 256, REQUEST_SIZE = 128 };

struct request {
    struct nlmsghdr header;
    struct ifaddrmsg message;
    char attributes[REQUEST_SIZE - NLMSG_LENGTH(sizeof(struct ifaddrmsg))];
};

static void put_attribute(struct nlmsghdr *header, unsigned short type, const void *data, size_t length) {
    struct rtattr *attribute = (struct rtattr *)((char *)header + NLMSG_ALIGN(header->nlmsg_len));
    attribute->rta_type = type;
    attribute->rta_len = RTA_LENGTH(length);
    memcpy(RTA_DATA(attribute), data, length);
    header->nlmsg_len = NLMSG_ALIGN(header->nlmsg_len) + RTA_ALIGN(attribute->rta_len);
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "del") != 0)) {
        fprintf(stderr, "usage: %s add|del FILE [DEVICE] [LABEL]\n", argv[0]);
        return 2;
    }
    int adding = strcmp(argv[1], "add") == 0;
    const char *device = argc > 3 ? argv[3] : "lo";
    const char *label = argc > 4 ? argv[4] : "lo:0";
    unsigned index = if_nametoindex(device);
    if (index == 0) { perror(device); return 1; }

    FILE *file = fopen(argv[2], "r");
    if (!file) { perror(argv[2]); return 1; }
    size_t count = 0, capacity = 1024;
    struct in_addr *addresses = malloc(capacity * sizeof *addresses);
    char line[64];
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        if (count == capacity) addresses = realloc(addresses, (capacity *= 2) * sizeof *addresses);
        if (inet_pton(AF_INET, line, &addresses[count]) != 1) { fprintf(stderr, "not an IPv4 address: %s\n", line); return 2; }
        count++;
    }
    fclose(file);

    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) { perror("socket"); return 1; }
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

    static struct request batch[WINDOW];
    static char answer[65536];
    int failed = 0;
    for (size_t start = 0; start < count; start += WINDOW) {
        size_t end = start + WINDOW < count ? start + WINDOW : count;
        struct iovec vectors[WINDOW];
        for (size_t i = start; i < end; i++) {
            struct request *request = &batch[i - start];
            memset(request, 0, sizeof *request);
            request->header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
            request->header.nlmsg_type = adding ? RTM_NEWADDR : RTM_DELADDR;
            request->header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (adding ? NLM_F_CREATE | NLM_F_EXCL : 0);
            request->header.nlmsg_seq = (unsigned)i + 1;
            request->message.ifa_family = AF_INET;
            request->message.ifa_prefixlen = 32;
            request->message.ifa_index = index;
            put_attribute(&request->header, IFA_LOCAL, &addresses[i], 4);
            put_attribute(&request->header, IFA_ADDRESS, &addresses[i], 4);
            put_attribute(&request->header, IFA_LABEL, label, strlen(label) + 1);
            vectors[i - start] = (struct iovec){ request, request->header.nlmsg_len };
        }
        struct msghdr message = { .msg_name = &kernel, .msg_namelen = sizeof kernel,
                                  .msg_iov = vectors, .msg_iovlen = end - start };
        if (sendmsg(fd, &message, 0) < 0) { perror("sendmsg"); return 1; }
        for (size_t pending = end - start; pending > 0;) {
            ssize_t got = recv(fd, answer, sizeof answer, 0);
            if (got < 0) { if (errno == EINTR) continue; perror("recv"); return 1; }
            for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, (size_t)got); h = NLMSG_NEXT(h, got)) {
                if (h->nlmsg_type != NLMSG_ERROR) continue;
                struct nlmsgerr *error = NLMSG_DATA(h);
                size_t i = error->msg.nlmsg_seq - 1;
                if (i < start || i >= end) continue;
                pending--;
                if (error->error != 0) {
                    char text[INET_ADDRSTRLEN];
                    inet_ntop(AF_INET, &addresses[i], text, sizeof text);
                    fprintf(stderr, "%s %s/32: %s\n", adding ? "adding" : "removing", text, strerror(-error->error));
                    failed = 1;
                }
            }
        }
    }
    close(fd);
    free(addresses);
    return failed;
}
