# N HTTP requests, each on its own connection; prints how many each server answered.
import collections
import sys
import urllib.request

url, n = sys.argv[1], int(sys.argv[2])
answers = collections.Counter()
for _ in range(n):
    try:
        with urllib.request.urlopen(url, timeout=1.5) as response:
            answers[response.read().decode().strip()] += 1
    except Exception:
        answers["failed"] += 1
for name, count in sorted(answers.items()):
    print(name, count)
