"""The demo's forecast against the generator's own truth (session 31, 2026-12-07)

`salesplan generate` writes `truth.csv`: each territory's expected revenue
in the plan year, as the generator draws it (its accounts' potential
through the season and its own constant growth, the lumpy deals' and the
credits' means, the common shocks' mean). This script forecasts the
bundled demo (`data/`) monthly and weekly with the sales table alone (no
reps, no pipeline: the generator's revenue does not depend on them) and
prints the company's year P10 / P50 / P90 beside the truth's total, and
per territory the truth over the forecast's mean and whether the truth
lies inside its P10-P90.

    python3 docs/experiments/demo_truth.py target/release/salesplan

Needs pandas.
"""
import os
import re
import subprocess
import sys
import tempfile

import pandas as pd

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/salesplan")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "data")
demo = open(os.path.join(ROOT, "scenarios", "demo.toml")).read()
demo = demo.replace('"../data/', f'"{DATA}/')
demo = "\n".join(l for l in demo.splitlines() if not re.match(r"^(reps|pipeline) = ", l))
weekly = demo.replace('period = "month"', 'period = "week"').replace(
    'start = "2027-01-01"', 'start = "2026-12-28"').replace("periods = 12", "periods = 52")
truth = pd.read_csv(os.path.join(DATA, "truth.csv")).set_index("territory")
print(f"truth: {truth.expected_next_year.sum() / 1e6:.2f}M")
with tempfile.TemporaryDirectory() as tmp:
    for name, text in [("monthly", demo), ("weekly", weekly)]:
        scenario = os.path.join(tmp, f"{name}.toml")
        open(scenario, "w").write(text)
        out = os.path.join(tmp, name)
        subprocess.run([BIN, "forecast", scenario, "--out", out, "--quiet"], check=True)
        f = pd.read_csv(os.path.join(out, "forecast.csv"))
        f = f[f.period == "year"]
        company = f[f.level == "total"].iloc[0]
        t = f[f.level == "territory"].set_index("name")
        inside = sum(t.loc[n].p10 <= v <= t.loc[n].p90 for n, v in truth.expected_next_year.items())
        ratio = truth.expected_next_year / t["mean"]
        print(f"{name}: company P10 / P50 / P90 {company.p10 / 1e6:.2f} / {company.p50 / 1e6:.2f} / "
              f"{company.p90 / 1e6:.2f}M; territories with the truth inside P10-P90: {inside} of "
              f"{len(truth)}; truth / mean: median {ratio.median():.3f}, {ratio.min():.2f}-{ratio.max():.2f}")
