"""A level that jumped once and held: does the forecast's year stay right?

Session 15 (2026-12-06). 40 territories in 4 regions, 48 months of 12%
lognormal noise around a level that jumps once, by 25-50% (three in four
upward), at a random month between 18 and 42, and holds. The binary
forecasts the next 12 months; the actual year (drawn from the same truth)
is scored against its year row: median over territories of actual / P50,
share inside P10-P90, and the mean pinball loss over P05..P95 relative to
the actual.

    python3 docs/experiments/one_off_jumps.py target/release/salesplan 1 2 3 4

Needs numpy. Works in a temporary directory.
"""
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SCENARIO = """name = "jump"
seed = 5
[data]
sales = "sales.csv"
[forecast]
period = "month"
start = "2020-01-01"
periods = 12
trials = 4000
[output]
formats = ["csv", "json"]
"""
QUANTILES = [(0.05, "p05"), (0.1, "p10"), (0.25, "p25"), (0.5, "p50"), (0.75, "p75"), (0.9, "p90"), (0.95, "p95")]


def generate(seed, directory):
    rng = np.random.default_rng(seed)
    months, horizon, territories = 48, 12, 40
    dates = [f"{2016 + m // 12}-{m % 12 + 1:02d}-15" for m in range(months + horizon)]
    rows, truth = [], {}
    for i in range(territories):
        base = 100000 * np.exp(rng.normal(0, 0.5))
        at = rng.integers(18, 42)
        size = rng.uniform(0.25, 0.5) * rng.choice([1, 1, 1, -1])
        level = np.array([base * (1 + size) if t >= at else base for t in range(months + horizon)])
        y = level * np.exp(rng.normal(0, 0.12, months + horizon) - 0.0072)
        rows += [(dates[t], f"R{i % 4}", f"T{i:02d}", round(y[t], 2)) for t in range(months)]
        truth[f"T{i:02d}"] = float(y[months:].sum())
    with open(directory / "sales.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "region", "territory", "amount"])
        w.writerows(rows)
    (directory / "scenario.toml").write_text(SCENARIO)
    return truth


def score(truth, out):
    year = {x["name"]: x for x in csv.DictReader(open(out / "forecast.csv"))
            if x["period"] == "year" and x["level"] == "territory"}
    ratio, inside, pinball = [], [], []
    for name, actual in truth.items():
        x = year[name]
        ratio.append(actual / float(x["p50"]))
        inside.append(float(x["p10"]) <= actual <= float(x["p90"]))
        pinball.append(np.mean([max(q * (actual - float(x[c])), (q - 1) * (actual - float(x[c])))
                                for q, c in QUANTILES]) / actual)
    return np.median(ratio), np.mean(inside), np.mean(pinball)


def main():
    binary = Path(sys.argv[1]).resolve()
    for seed in [int(s) for s in sys.argv[2:]] or [1]:
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            truth = generate(seed, d)
            subprocess.run([str(binary), "forecast", "scenario.toml", "--out", "out", "--quiet"],
                           cwd=d, check=True)
            bias, coverage, pinball = score(truth, d / "out")
        print(f"seed {seed}: bias (median actual / P50) {bias:.3f}  year coverage {coverage:.3f}  "
              f"relative pinball {pinball:.4f}")


if __name__ == "__main__":
    main()
