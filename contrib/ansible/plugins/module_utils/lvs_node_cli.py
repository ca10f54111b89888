# -*- coding: utf-8 -*-
# Runs the lvs-node binary with an argument list (never a shell) and parses its --json document.
# Shared by the lvs_node and lvs_node_info modules; lvs-node itself does all the work.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


def common_args(params):
    """The --root / --state-dir flags every lvs-node command takes."""
    args = []
    if params.get('root'):
        args += ['--root', params['root']]
    if params.get('state_dir'):
        args += ['--state-dir', params['state_dir']]
    return args


def binary_path(module):
    binary = module.params['binary']
    if '/' in binary:
        return binary
    return module.get_bin_path(binary, required=True)


def run_json(module, args, data=None):
    """Runs lvs-node and returns (rc, document); document is None when stdout is not one JSON object."""
    rc, out, err = module.run_command(args, data=data, binary_data=False, use_unsafe_shell=False)
    try:
        document = json.loads(out)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = None
    return rc, document, err


def fail_from(module, rc, document, err, **extra):
    """Fails the task with lvs-node's own message and exit status."""
    if document is not None and isinstance(document.get('error'), dict):
        error = document['error']
        module.fail_json(msg=error.get('message', 'lvs-node failed'), rc=rc, error=error, **extra)
    message = (err or '').strip() or 'lvs-node printed no JSON document (exit status %d)' % rc
    module.fail_json(msg=message, rc=rc, stderr=err, **extra)


def plan_lines(changes):
    """The plan as lvs-node prints it: each change's line, then a file's unified diff."""
    lines = []
    for change in changes:
        lines.append(change.get('description', ''))
        lines.extend(change.get('diff') or [])
    return lines
