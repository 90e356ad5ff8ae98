#!/usr/bin/env python3
"""summarize.py results.tsv: medians per (server, mode); ratio = rate / rate
of the nginx run just before it (same round, same mode)."""
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else "results.tsv"), delimiter="\t"))
# "quiet": keep only pairs whose nginx run shows a quiet machine
QUIET = {"ka": 50000, "close": 15000} if "quiet" in sys.argv[2:] else {"ka": 0, "close": 0}
agg, last_ngx = {}, {}
for r in rows:
    k = (r["name"], r["mode"])
    rate, cpu = float(r["rate"]), float(r["cpu_us_per"])
    if r["name"] == "nginx":
        last_ngx[r["mode"]] = (rate, cpu)
        if rate < QUIET[r["mode"]]:
            continue
    else:
        nr, nc = last_ngx[r["mode"]]
        if nr < QUIET[r["mode"]]:
            continue
        a = agg.setdefault(k, {"rate": [], "ratio": [], "cpu": [], "cpu_ratio": [], "rss0": [], "rss1": [], "libs": [], "start": [], "p50": [], "p99": [], "batch": []})
        a["ratio"].append(rate / nr); a["cpu_ratio"].append(cpu / nc)
        ex = dict(x.split("=") for x in r["extra"].split(","))
        a["batch"].append(int(ex["items"]) / max(1, int(ex["batches"])))
    if r["name"] == "nginx":
        a = agg.setdefault(k, {"rate": [], "ratio": [], "cpu": [], "cpu_ratio": [], "rss0": [], "rss1": [], "libs": [], "start": [], "p50": [], "p99": [], "batch": []})
    a["rate"].append(rate); a["cpu"].append(cpu)
    a["rss0"].append(int(r["rss_idle_kib"])); a["rss1"].append(int(r["rss_after_kib"]))
    a["libs"].append(int(r["libs"])); a["start"].append(float(r["start_ms"]))
    a["p50"].append(int(r["p50_us"])); a["p99"].append(int(r["p99_us"]))
med = lambda v: st.median(v) if v else float("nan")
print("| server | mode | n | answers/s (med, min-max) | ratio to nginx | us CPU/answer (med, min-max) | CPU ratio | RSS idle/after KiB | libs | start ms | p50/p99 us | avg batch |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
order = lambda k: (k[1] != "ka", ["nginx","mhd2","mhd8","h2o1","h2o2"].index(k[0].split("-")[0]), k[0])
for k in sorted(agg, key=order):
    a = agg[k]
    print("| %s | %s | %d | %.0f (%.0f-%.0f) | %s | %.1f (%.1f-%.1f) | %s | %d / %d | %d | %.0f | %d / %d | %s |" % (
        k[0], k[1], len(a["rate"]), med(a["rate"]), min(a["rate"]), max(a["rate"]),
        "1" if k[0] == "nginx" else "%.2f" % med(a["ratio"]),
        med(a["cpu"]), min(a["cpu"]), max(a["cpu"]),
        "1" if k[0] == "nginx" else "%.1fx" % med(a["cpu_ratio"]),
        med(a["rss0"]), med(a["rss1"]), med(a["libs"]), med(a["start"]), med(a["p50"]), med(a["p99"]),
        "-" if k[0] == "nginx" else "%.1f" % med(a["batch"])))
