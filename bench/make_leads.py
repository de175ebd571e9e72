#!/usr/bin/env python3
"""Writes a lead CSV for the import benchmark: N unique US numbers in mixed formats, with the
seeds' columns and two custom ones. Deterministic for a given N."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = random.Random(42)
out = sys.stdout
out.write("phoneNumber,prospect_name,email,company_name,job_title,timezone,Lead Source,Score\n")
area = [201, 212, 213, 305, 312, 415, 503, 617, 646, 702, 713, 718, 805, 917]
zones = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
seen = set()
i = 0
while i < n:
    a = rng.choice(area)
    ex = rng.randint(200, 999)
    sub = rng.randint(0, 9999)
    key = (a, ex, sub)
    if key in seen:
        continue
    seen.add(key)
    fmt = i % 4
    if fmt == 0:
        phone = f"+1{a}{ex}{sub:04d}"
    elif fmt == 1:
        phone = f"({a}) {ex}-{sub:04d}"
    elif fmt == 2:
        phone = f"{a}.{ex}.{sub:04d}"
    else:
        phone = f"1-{a}-{ex}-{sub:04d}"
    out.write(f'{phone},Lead {i},lead{i}@example.com,"Company {i % 5000}, Inc.",Buyer,'
              f'{zones[i % 4]},web,{i % 100}\n')
    i += 1
