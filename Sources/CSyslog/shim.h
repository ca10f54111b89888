#include <syslog.h>

/* syslog(3) is variadic, which Swift cannot call; reaching vsyslog through withVaList boxed the
   message as a CVarArg, whose casts scanned every protocol conformance of the binary, twice a run. */
static inline void lvs_node_syslog(int priority, const char *message) {
    syslog(priority, "%s", message);
}
