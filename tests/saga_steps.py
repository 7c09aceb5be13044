"""Mean time of each checkout saga step, from Prometheus text on stdin
(the saga_step_seconds histograms of every vente replica)."""
import collections
import re
import sys

sums, counts = collections.Counter(), collections.Counter()
for line in sys.stdin:
    m = re.match(r'saga_step_seconds_(sum|count)\{.*step="(\w+)".*\} (\S+)', line)
    if m:
        (sums if m.group(1) == "sum" else counts)[m.group(2)] += float(m.group(3))
for step in ["panier", "enregistrement", "reservation", "validation", "fermeture"]:
    if counts[step]:
        print(f"  {step:<16} {sums[step] / counts[step] * 1000:8.1f} ms  ({int(counts[step])} ventes)")
