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
  - With O(confirm_within) the change undoes itself after that many seconds unless a later task confirms it with
    O(state=confirmed); run M(ansible.builtin.wait_for_connection) in between, so a change that cut Ansible off the
    host is undone by the host itself.
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
      - V(present) applies the spec; V(absent) rolls back every generation (C(rollback --all)); V(confirmed) keeps the
        change applied with O(confirm_within) (C(lvs-node confirm)), and fails when it is too late.
    type: str
    choices: [present, absent, confirmed]
    default: present
  confirm_within:
    description:
      - Seconds after which the change undoes itself unless confirmed (C(--confirm-within)); with O(state=present) or
        O(state=absent). While it awaits confirmation, another O(state=present) fails with rc 75.
    type: int
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

- name: Change the default route of a NAT real server, undone in 120 s unless confirmed
  lvs_node.lvs_node.lvs_node:
    spec: {role: realserver, mode: nat, gateway: 192.0.2.1}
    confirm_within: 120

- name: Ansible can still reach the host
  ansible.builtin.wait_for_connection:
    timeout: 60

- name: Keep the change
  lvs_node.lvs_node.lvs_node:
    state: confirmed
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
confirmation:
  description: The change awaiting confirmation (state, generation, deadline, seconds_left, ...), as lvs-node reports it.
  returned: success, when lvs-node reports one
  type: dict
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
    if params['confirm_within'] is not None and not module.check_mode:
        args += ['--confirm-within', str(params['confirm_within'])]
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
    if params['confirm_within'] is not None and not module.check_mode:
        args += ['--confirm-within', str(params['confirm_within'])]
    return args, None


def confirmed_args(module, binary):
    """confirm; in check mode status, which says whether a change awaits confirmation."""
    params = module.params
    args = [binary, 'status' if module.check_mode else 'confirm', '--json'] + common_args(params)
    if params['wait'] is not None:
        args += ['--wait', str(params['wait'])]
    return args, None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            spec=dict(type='dict'),
            config=dict(type='path'),
            state=dict(type='str', choices=['present', 'absent', 'confirmed'], default='present'),
            confirm_within=dict(type='int'),
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
    state = module.params['state']
    if state == 'present':
        args, data = present_args(module, binary)
    elif state == 'absent':
        args, data = absent_args(module, binary)
    else:
        args, data = confirmed_args(module, binary)

    rc, document, err = run_json(module, args, data)
    if state == 'confirmed':
        confirm_result(module, rc, document, err)
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

    result = dict(changed=changed, generation=document.get('generation'), changes=changes, result=document,
                  confirmation=document.get('confirmation'))
    if module._diff:
        result['diff'] = dict(prepared='\n'.join(plan_lines(changes)))
    module.exit_json(**result)


def confirm_result(module, rc, document, err):
    """Exits with the outcome of confirm (in check mode, of status: it would confirm when one is pending)."""
    if document is None or 'error' in document:
        fail_from(module, rc, document, err)
    confirmation = document.get('confirmation')
    if module.check_mode:
        pending = bool(confirmation) and confirmation.get('state') == 'pending'
        module.exit_json(changed=pending, confirmation=confirmation, result=document)
    if rc != 0:
        # Too late (the deadline passed and the change was undone) or rolled back by hand.
        state = confirmation.get('state') if confirmation else None
        module.fail_json(msg='lvs-node confirm: the change was %s, not kept' % state, rc=rc, confirmation=confirmation,
                         result=document)
    module.exit_json(changed=bool(document.get('changed')), confirmation=confirmation, result=document)


if __name__ == '__main__':
    main()
