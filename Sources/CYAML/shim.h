// libyaml (Debian libyaml-dev, pkg-config yaml-0.1): its event parser, which reports anchors and
// aliases as events, so lvs-node refuses them before anything is expanded. Only NodeModel imports this.
#include <yaml.h>
