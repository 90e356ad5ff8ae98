"""Figures as rows of a TSV file: what each script of bench/ writes with --tsv, and
bench/table.py gathers into the one table of `make bench`.

Columns: figure, unit, steward, baseline, baseline_value, ratio, goal, verdict, notes.
steward and baseline_value are numbers in unit; ratio is steward / baseline_value;
verdict is MEETS or MISSES against the goal, "-" for a figure without a goal and
n/a for one that could not be measured.
"""

COLUMNS = ["figure", "unit", "steward", "baseline", "baseline_value", "ratio", "goal",
           "verdict", "notes"]


def num(v):
    """A number as the table shows it: 3 significant digits, no exponent, thousands whole."""
    if v is None:
        return ""
    return "%.0f" % v if abs(v) >= 999.5 else "%.3g" % v


def ratio_text(v):
    """A ratio as the table shows it."""
    return "" if v is None else "%.3g" % v


def verdict(goal, value, ratio):
    """goal: None or (kind, k, text); kind is lt, le, ge (the value) or ratio_le, ratio_ge."""
    if goal is None:
        return "-" if value is not None else "n/a"
    kind, k, _ = goal
    x = ratio if kind.startswith("ratio_") else value
    if x is None:
        return "n/a"
    ok = {"lt": x < k, "le": x <= k, "ge": x >= k, "ratio_le": x <= k, "ratio_ge": x >= k}[kind]
    return "MEETS" if ok else "MISSES"


class Figures:
    def __init__(self):
        self.rows = []

    def add(self, figure, unit, value, goal=None, baseline="", base_value=None, notes=""):
        ratio = value / base_value if value is not None and base_value else None
        self.rows.append([figure, unit, num(value), baseline, num(base_value),
                          ratio_text(ratio),
                          goal[2] if goal else "", verdict(goal, value, ratio),
                          notes.replace("\t", " ").replace("\n", " ")])

    def write(self, path):
        if not path:
            return
        with open(path, "w") as f:
            f.write("\t".join(COLUMNS) + "\n")
            for r in self.rows:
                f.write("\t".join(r) + "\n")
