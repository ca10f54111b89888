"""Prints one field of a task result the test playbooks saved (null when it is missing or unreadable).

usage: result.py RESULT.json FIELD[.FIELD...]
"""
import json
import sys

try:
    with open(sys.argv[1]) as f:
        value = json.load(f)
except (OSError, ValueError):
    value = None
for key in sys.argv[2].split('.'):
    value = value.get(key) if isinstance(value, dict) else None
print(json.dumps(value, ensure_ascii=False))
