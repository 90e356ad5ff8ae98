#!/usr/bin/python3
"""Two tables of `make bench` side by side: bench/compare.py OLD.tsv NEW.tsv

For each figure (matched by source script and figure name): the old and new value,
the change NEW/OLD, whether that is better or worse (by the goal's direction, else
by the unit: more per second is better, more milliseconds or megabytes worse;
within NOISE of 1.0 it is "~"), and the old and new verdicts. Figures that are in
one table only are listed with "-" on the other side. Prints both headers first:
compare runs of the same mode on the same machine, and mind the load averages.

  --noise F   a change within 1 +- F counts as noise (default 0.10)
  --changed   only the figures whose verdict changed or that moved beyond the noise
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table import load, print_aligned  # noqa: E402


def higher_is_better(row):
    goal = row.get("goal", "")
    if goal.startswith(">"):
        return True
    if goal.startswith("<"):
        return False
    return row.get("unit", "").endswith("/s")


def fnum(t):
    try:
        return float(t)
    except (TypeError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--noise", type=float, default=0.10)
    ap.add_argument("--changed", action="store_true")
    a = ap.parse_args()
    (oh, orows), (nh, nrows) = load(a.old), load(a.new)
    oh, nh = dict(oh), dict(nh)
    for k in ("commit", "date", "machine", "load", "mode"):
        print(f"{k + ':':9} old {oh.get(k, '?')}")
        print(f"{'':9} new {nh.get(k, '?')}")
    if oh.get("mode", "").split(":")[0] != nh.get("mode", "").split(":")[0]:
        print("\nwarning: the two runs were made in different modes; their figures do not compare")
    if oh.get("machine") != nh.get("machine"):
        print("\nwarning: the two runs were made on different machines")
    print()

    key = lambda r: (r["source"], r["figure"])  # noqa: E731
    old = {key(r): r for r in orows}
    new = {key(r): r for r in nrows}
    order = [key(r) for r in nrows] + [key(r) for r in orows if key(r) not in new]
    head = ("figure", "source", "old", "new", "new/old", "", "verdict old -> new")
    table = []
    for k in order:
        o, n = old.get(k), new.get(k)
        r = n or o
        ov, nv = fnum(o and o["steward"]), fnum(n and n["steward"])
        unit = r["unit"]
        change, mark = "", ""
        if ov is not None and nv is not None and ov != 0:
            x = nv / ov
            change = "%.2fx" % x
            if abs(x - 1) <= a.noise:
                mark = "~"
            else:
                mark = "better" if (x > 1) == higher_is_better(r) else "worse"
        ovd = o["verdict"] if o else "-"
        nvd = n["verdict"] if n else "-"
        verdicts = ovd if ovd == nvd else f"{ovd} -> {nvd}"
        if a.changed and ovd == nvd and mark in ("", "~"):
            continue
        show = lambda row, v: (f"{row['steward']} {unit}" if v is not None  # noqa: E731
                               else "n/a") if row else "-"
        table.append((r["figure"], r["source"], show(o, ov), show(n, nv), change, mark, verdicts))
    print_aligned(head, table)
    for h, rows in (("old", orows), ("new", nrows)):
        v = [r["verdict"] for r in rows]
        print(f"\n{h}: " + ", ".join(f"{v.count(x)} {x}" for x in ("MEETS", "MISSES", "n/a")), end="")
    print()


if __name__ == "__main__":
    main()
