#!/usr/bin/python
# -*- coding: utf-8 -*-
# License: Apache-2.0, as galaxy.yml declares (a placeholder until the project picks its license)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: lvs_node
short_description: Make a host an LVS director, real server or router with lvs-node
version_added: "0.3.0"
description:
  - Runs the C(lvs-node) binary installed on the managed host with C(--json) and reports what it did.
    lvs-node plans, journals and undoes its own changes; this module only passes the spec and reads the result.
  - With O(state=present) it runs C(lvs-node setup) with the spec; with O(state=absent) C(lvs-node rollback --all),
    which returns the host to how it was before lvs-node.
  - In check mode it runs C(lvs-node plan) (or C(rollback --all --dry-run)) and changes nothing.
options:
  spec:
    description:
      - The spec as a dictionary, with the keys of an lvs-node spec file (C(role), C(mode), C(vips), ...).
      - Passed to lvs-node on standard input (C(--config -)); never written to disk by this module.
      - Mutually exclusive with O(config).
    type: dict
  config:
    description:
      - Path of a spec file on the managed host (C(--config FILE)). Mutually exclusive with O(spec).
    type: path
  state:
    description:
      - V(present) applies the spec; V(absent) rolls back every generation (C(rollback --all)).
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Replace files lvs-node did not write at its paths (C(--force)); C(rollback) puts them back.
    type: bool
    default: false
  wait:
    description:
      - Seconds to wait for the state lock held by another lvs-node run (C(--wait)). Without it a held lock fails
        at once with rc 75.
    type: int
  root:
    description:
      - Take every file path relative to this directory (C(--root)); it must exist.
    type: path
  state_dir:
    description:
      - The journal and generations directory (C(--state-dir)).
    type: path
  binary:
    description:
      - The lvs-node executable; a bare name is looked up on PATH.
    type: str
    default: lvs-node
notes:
  - Supports check mode and diff mode. The diff is C(prepared) text with lvs-node's plan lines and each file's
    unified diff (secrets masked by lvs-node).
  - O(spec) or O(config) is required when O(state=present).
requirements:
  - lvs-node 0.3.0 or later on the managed host
author:
  - lvs-node maintainers (@lvs-node)
'''

EXAMPLES = r'''
- name: Make this host a DR real server for two VIPs
  lvs_node.lvs_node.lvs_node:
    spec:
      role: realserver
      mode: dr
      vips: [192.0.2.10, 192.0.2.11]

- name: Apply a spec file already on the host, waiting up to 30 s for another run
  lvs_node.lvs_node.lvs_node:
    config: /etc/lvs-node/node.yaml
    wait: 30

- name: Return the host to how it was before lvs-node
  lvs_node.lvs_node.lvs_node:
    state: absent
'''

RETURN = r'''
changed:
  description: Whether lvs-node changed (or, in check mode, would change) the host.
  returned: always
  type: bool
generation:
  description:
    - O(state=present) the generation made (null when nothing was needed); O(state=absent) the oldest generation rolled
      back (null when there was none).
  returned: success
  type: int
  sample: 3
changes:
  description: Each change, as lvs-node's --json describes it (action, kind, subject, before, after, description, diff).
  returned: success
  type: list
  elements: dict
  sample:
    - action: add
      kind: address
      subject: lo 192.0.2.10/32
      before: null
      after: "lo:0"
      description: "+ address 192.0.2.10/32 on lo (label lo:0)"
      diff: []
result:
  description: lvs-node's whole --json document.
  returned: success
  type: dict
msg:
  description: lvs-node's error message.
  returned: failure
  type: str
rc:
  description: lvs-node's exit status (65 bad data, 69 missing feature, 75 lock held, 77 not permitted, ...).
  returned: failure
  type: int
error:
  description: lvs-node's error object (status, message, file, line, problems).
  returned: failure when lvs-node printed one
  type: dict
diff:
  description: With --diff, C(prepared) holds the plan lines and the files' unified diffs.
  returned: diff mode
  type: dict
'''

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs_node.lvs_node.plugins.module_utils.lvs_node_cli import (
    binary_path, common_args, fail_from, plan_lines, run_json,
)


def present_args(module, binary):
    """plan (check mode) or setup, with the spec on stdin or from the config path."""
    params = module.params
    if module.check_mode:
        # plan has no --force; setup --dry-run is the same plan and takes it.
        command = ['setup', '--dry-run', '--force'] if params['force'] else ['plan']
    else:
        command = ['setup', '--force'] if params['force'] else ['setup']
    args = [binary] + command + ['--json'] + common_args(params)
    if params['wait'] is not None:
        args += ['--wait', str(params['wait'])]
    data = None
    if params['spec'] is not None:
        # JSON is YAML, so lvs-node's spec parser reads it as it is.
        args += ['--config', '-']
        data = json.dumps(params['spec'])
    else:
        args += ['--config', params['config']]
    return args, data


def absent_args(module, binary):
    params = module.params
    args = [binary, 'rollback', '--all', '--json'] + common_args(params)
    if module.check_mode:
        args.append('--dry-run')
    if params['wait'] is not None:
        args += ['--wait', str(params['wait'])]
    return args, None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            spec=dict(type='dict'),
            config=dict(type='path'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            force=dict(type='bool', default=False),
            wait=dict(type='int'),
            root=dict(type='path'),
            state_dir=dict(type='path'),
            binary=dict(type='str', default='lvs-node'),
        ),
        mutually_exclusive=[('spec', 'config')],
        required_if=[('state', 'present', ('spec', 'config'), True)],
        supports_check_mode=True,
    )
    binary = binary_path(module)
    if module.params['state'] == 'present':
        args, data = present_args(module, binary)
    else:
        args, data = absent_args(module, binary)

    rc, document, err = run_json(module, args, data)
    # A dry run exits 2 when it would change something: that is success, not failure.
    if document is None or 'error' in document or rc not in (0, 2) or (rc == 2 and not module.check_mode):
        fail_from(module, rc, document, err)

    changes = document.get('changes', [])
    if module.check_mode:
        changed = rc == 2
    elif module.params['state'] == 'present':
        changed = bool(document.get('changed'))
    else:
        changed = bool(document.get('rolled_back'))

    result = dict(changed=changed, generation=document.get('generation'), changes=changes, result=document)
    if module._diff:
        result['diff'] = dict(prepared='\n'.join(plan_lines(changes)))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
