#!/usr/bin/python
# -*- coding: utf-8 -*-
# License: Apache-2.0, as galaxy.yml declares (a placeholder until the project picks its license)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: lvs_node_info
short_description: Read lvs-node's status, history and the spec in force
version_added: "0.3.0"
description:
  - Runs C(lvs-node status --json), C(lvs-node history --json) and, where the installed lvs-node has it,
    C(lvs-node show --json) on the managed host. Never changes anything.
options:
  root:
    description: Take every file path relative to this directory (C(--root)).
    type: path
  state_dir:
    description: The journal and generations directory (C(--state-dir)).
    type: path
  binary:
    description: The lvs-node executable; a bare name is looked up on PATH.
    type: str
    default: lvs-node
notes:
  - Supports check mode (it changes nothing either way).
  - RV(spec) is returned only when C(lvs-node show --json) succeeds (lvs-node versions without C(show),
    or a host with no generation in force, leave it out).
author:
  - lvs-node maintainers (@lvs-node)
'''

EXAMPLES = r'''
- name: Read lvs-node's view of this host
  lvs_node.lvs_node.lvs_node_info:
  register: lvs

- name: Fail when the host drifted from the spec in force
  ansible.builtin.assert:
    that: lvs.in_place
    fail_msg: "{{ lvs.drift | map(attribute='description') | list }}"
'''

RETURN = r'''
in_place:
  description: Whether the host matches the last applied spec (C(status) exit 0).
  returned: always
  type: bool
drift:
  description: The changes C(setup) would make to repair the drift.
  returned: always
  type: list
  elements: dict
generation:
  description: The generation in force (number, created, state, change_count, summary), or null.
  returned: always
  type: dict
status:
  description: C(lvs-node status --json) as it printed it.
  returned: always
  type: dict
history:
  description: C(lvs-node history --json) as it printed it (in_force, generations).
  returned: always
  type: dict
spec:
  description: The spec in force as YAML, from C(lvs-node show --json).
  returned: when C(lvs-node show) is available and succeeds
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs_node.lvs_node.plugins.module_utils.lvs_node_cli import (
    binary_path, common_args, fail_from, run_json,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path'),
            state_dir=dict(type='path'),
            binary=dict(type='str', default='lvs-node'),
        ),
        supports_check_mode=True,
    )
    binary = binary_path(module)
    common = common_args(module.params)

    # status exits 2 when the host drifted: a finding, not a failure.
    rc, status, err = run_json(module, [binary, 'status', '--json'] + common)
    if status is None or 'error' in status or rc not in (0, 2):
        fail_from(module, rc, status, err)
    rc, history, err = run_json(module, [binary, 'history', '--json'] + common)
    if history is None or 'error' in history or rc != 0:
        fail_from(module, rc, history, err)

    result = dict(
        changed=False,
        in_place=bool(status.get('in_place')),
        drift=status.get('drift', []),
        generation=status.get('generation'),
        status=status,
        history=history,
    )
    # show is newer than status and history: an lvs-node without it simply has no spec to report.
    rc, shown, err = run_json(module, [binary, 'show', '--json'] + common)
    if rc == 0 and shown is not None and isinstance(shown.get('spec'), str):
        result['spec'] = shown['spec']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
