#!/usr/bin/python3
"""The one table of `make bench`: every figure of every script, a row each.

  bench/table.py --out FILE [--header 'KEY<TAB>VALUE']... [--binary PATH]
                 [--source NAME KIND FILE STATUS]...
  bench/table.py --print FILE      the table of FILE, aligned, as `make bench` prints it
  bench/table.py --markdown FILE   the same as Markdown, for docs/PERFORMANCE.md

KIND says how FILE is read: `perf` (the TSV of ../shared/bench/perf.sh), `scale`
(the output of ../shared/bench/scale.sh: its last line `scale: start_ms=..`), or
`figures` (a TSV written with --tsv by a script of bench/, see bench/figures.py).
STATUS is `ok` or why the script did not finish (its rows that are missing then
say n/a with that reason). --binary is the real steward, stripped here for perf.sh's
binary-size row (perf.sh ran it through bench/perf-steward.c's wrapper).

The file: lines `# KEY<TAB>VALUE` (commit, date, machine, load, ...), then a line of
column names, then one row per figure: figure, unit, steward, baseline,
baseline_value, ratio, goal, verdict (MEETS, MISSES, n/a; "-" when the figure has no
goal), source, notes.
"""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figures import num, ratio_text, verdict  # noqa: E402

COLUMNS = ["figure", "unit", "steward", "baseline", "baseline_value", "ratio", "goal",
           "verdict", "source", "notes"]
SHARED = os.environ.get("BENCH_SHARED", os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "shared", "bench"))

# scale.sh's last line: key, figure, unit, goal (issue 10's table)
SCALE = [
    ("start_ms", "start to first answer", "ms", ("lt", 50, "< 50 ms")),
    ("rss_mb", "resident memory 1 s after the first answer", "MB", ("lt", 40, "< 40 MB")),
    ("api_ms", "GET /api/json", "ms", ("lt", 15, "< 15 ms")),
    ("tree_ms", "GET /api/json?tree=jobs[name,color]", "ms", ("lt", 10, "< 10 ms")),
    ("page_ms", "the dashboard, GET / as a browser", "ms", ("lt", 20, "< 20 ms")),
]
PERF_BIN = "stripped binary (MB)"
PERF_START = "start to first answer (ms)"


def perf_rows_known():
    """perf.sh's figures, units and goals, from its summarize.py, for rows it did not write."""
    path = os.path.join(SHARED, "perf", "summarize.py")
    try:
        spec = importlib.util.spec_from_file_location("perf_summarize", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return [(r[0], r[4], r[3], r[6]) for r in mod.ROWS]
    except (OSError, ImportError, SyntaxError, AttributeError):
        return []


def na_row(figure, unit, goal, source, why, baseline=""):
    return [figure, unit, "", baseline, "", "", goal[2] if goal else "", "n/a", source, why]


def read_tsv(path):
    with open(path) as f:
        lines = [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]
    head = lines[0]
    return [dict(zip(head, ln)) for ln in lines[1:]]


def stripped_mb(binary):
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "steward")
        subprocess.run(["cp", binary, copy], check=True)
        subprocess.run(["strip", copy], check=True, capture_output=True)
        return os.path.getsize(copy) / 1e6


def perf_rows(path, status, source, binary):
    rows, seen = [], set()
    if status == "ok" or (path and os.path.exists(path)):
        try:
            got = read_tsv(path)
        except (OSError, IndexError):
            got = []
        for r in got:
            seen.add(r["figure"])
            n = int(r.get("steward_n") or 0)
            spread = ""
            if n > 1:
                spread = f"median [{num(float(r['steward_min']))}-{num(float(r['steward_max']))}] of {n}"
            elif n == 1:
                spread = "1 run"
            if r["ratio_median"] and r["ratio_min"] != r["ratio_max"]:
                spread += (f"; ratio: median of paired runs [{ratio_text(float(r['ratio_min']))}-"
                           f"{ratio_text(float(r['ratio_max']))}]")
            notes = "; ".join(t for t in (spread, r["notes"]) if t)
            row = [r["figure"], r["unit"], num(float(r["steward_median"])) if r["steward_median"] else "",
                   r["baseline"], num(float(r["baseline_median"])) if r["baseline_median"] else "",
                   ratio_text(float(r["ratio_median"])) if r["ratio_median"] else "", r["goal"] if r["goal"] != "anchor, no goal" else "",
                   r["verdict"], source, notes]
            if r["figure"] == PERF_START:
                row[9] = ("through bench/perf-steward.c's program (the header says how it was "
                          "built), one exec more than the binary; " + row[9])
            if r["figure"] == PERF_BIN and binary:
                # perf.sh stripped its STEWARD_BIN, the wrapper; the binary is measured here
                try:
                    mb = stripped_mb(binary)
                    base = float(r["baseline_median"]) if r["baseline_median"] else None
                    ratio = mb / base if base else None
                    row[2], row[5] = num(mb), ratio_text(ratio)
                    row[7] = verdict(("lt", 1.0, ""), mb, ratio)
                    row[9] = (f"{binary}, stripped by bench/table.py (perf.sh measured "
                              "bench/perf-steward.c's wrapper, which it ran)")
                except (OSError, subprocess.CalledProcessError) as e:
                    row[9] = f"strip failed: {e}"
            rows.append(row)
    for fig, unit, bname, goal in perf_rows_known():
        if fig not in seen:
            rows.append(na_row(fig, unit, goal, source, status if status != "ok" else "not in perf.sh's TSV",
                               bname))
    return rows


def scale_rows(path, status, source):
    vals, jobs = {}, ""
    try:
        with open(path) as f:
            text = f.read()
        for line in text.splitlines():
            if line.startswith("scale: "):
                vals = dict(kv.split("=", 1) for kv in line[7:].split() if "=" in kv)
            m = re.match(r"jobs=(\d+) runs=(\d+)", line)
            if m:
                jobs = f"{int(m.group(1)):,} jobs, median of {m.group(2)} cold starts"
    except OSError:
        pass
    rows = []
    for key, fig, unit, goal in SCALE:
        try:
            v = float(vals[key])
        except (KeyError, ValueError):
            why = status if status != "ok" else "no `scale:` line in its output"
            rows.append(na_row(fig, unit, goal, source, why))
            continue
        rows.append([fig, unit, num(v), "", "", "", goal[2], verdict(goal, v, None), source, jobs])
    return rows


def figures_rows(path, status, source):
    try:
        got = read_tsv(path)
    except (OSError, IndexError):
        got = []
    rows = [[r.get(c, "") for c in COLUMNS[:8]] + [source, r.get("notes", "")] for r in got]
    if status != "ok":
        rows.append([f"{source} did not finish", "", "", "", "", "", "", "n/a", source, status])
    return rows


def build(a):
    rows = []
    for name, kind, path, status in a.source:
        if kind == "perf":
            rows += perf_rows(path, status, name, a.binary)
        elif kind == "scale":
            rows += scale_rows(path, status, name)
        else:
            rows += figures_rows(path, status, name)
    verdicts = [r[7] for r in rows]
    summary = ", ".join(f"{verdicts.count(v)} {v}" for v in ("MEETS", "MISSES", "n/a"))
    with open(a.out, "w") as f:
        for h in a.header + [f"verdicts\t{summary}"]:
            f.write("# " + h.replace("\n", " ") + "\n")
        f.write("\t".join(COLUMNS) + "\n")
        for r in rows:
            f.write("\t".join(c.replace("\t", " ").replace("\n", " ") for c in r) + "\n")


def load(path):
    """(header [(key, value)], rows [dict])"""
    header, rows, cols = [], [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# "):
                k, _, v = line[2:].partition("\t")
                header.append((k, v))
            elif cols is None:
                cols = line.split("\t")
            elif line:
                rows.append(dict(zip(cols, line.split("\t"))))
    return header, rows


def value(r, key="steward"):
    return f"{r[key]} {r['unit']}".strip() if r[key] else ("n/a" if key == "steward" else "")


def print_aligned(head, table):
    """Prints a header, a rule and the rows (tuples of strings) in aligned columns."""
    w = [max(len(t[i]) for t in table + [head]) for i in range(len(head))]
    fmt = "  ".join("%%-%ds" % x for x in w)
    print((fmt % head).rstrip())
    print((fmt % tuple("-" * x for x in w)).rstrip())
    for t in table:
        print((fmt % t).rstrip())


def show(path):
    header, rows = load(path)
    for k, v in header:
        print(f"{k + ':':9} {v}")
    print()
    head = ("figure", "steward", "baseline", "ratio", "goal", "verdict", "source")
    table = [(r["figure"], value(r), f"{r['baseline']} {value(r, 'baseline_value')}".strip(),
              f"{r['ratio']}x" if r["ratio"] else "", r["goal"], r["verdict"], r["source"])
             for r in rows]
    print_aligned(head, table)
    print("\nnotes:")
    for r in rows:
        if r.get("notes"):
            print(f"  {r['source']}: {r['figure']}: {r['notes']}")


def markdown(path):
    header, rows = load(path)
    for k, v in header:
        print(f"- {k}: {v}")
    print()
    print("| figure | steward | baseline | ratio | goal | verdict | source |")
    print("|---|---|---|---|---|---|---|")
    esc = lambda t: t.replace("|", "\\|")  # noqa: E731
    for r in rows:
        cells = [r["figure"], value(r), f"{r['baseline']} {value(r, 'baseline_value')}".strip(),
                 f"{r['ratio']}x" if r["ratio"] else "", r["goal"],
                 f"**{r['verdict']}**" if r["verdict"] == "MISSES" else r["verdict"], r["source"]]
        print("| " + " | ".join(esc(c) for c in cells) + " |")


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] in ("--print", "--markdown"):
        (show if args[0] == "--print" else markdown)(args[1])
        return
    import argparse
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--binary")
    ap.add_argument("--source", nargs=4, action="append", default=[],
                    metavar=("NAME", "KIND", "FILE", "STATUS"))
    build(ap.parse_args(args))


if __name__ == "__main__":
    main()
