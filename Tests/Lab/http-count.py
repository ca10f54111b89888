# N HTTP requests, each on its own connection, taking the URLs in turn; prints how many each server
# answered.  Usage: http-count.py URL [URL…] N
import collections
import os
import sys
import urllib.request

# Generous: under TCG with two VMs on two cores an answer can take seconds; a request that gets none
# in this time counts as failed.
TIMEOUT = float(os.environ.get("LAB_REQUEST_TIMEOUT", "5"))

urls, n = sys.argv[1:-1], int(sys.argv[-1])
answers = collections.Counter()
for i in range(n):
    try:
        with urllib.request.urlopen(urls[i % len(urls)], timeout=TIMEOUT) as response:
            answers[response.read().decode().strip()] += 1
    except Exception:
        answers["failed"] += 1
for name, count in sorted(answers.items()):
    print(name, count)
