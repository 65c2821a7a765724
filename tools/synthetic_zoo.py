"""Synthetic forecast zoo: panels drawn from known processes, for ../shared/zoo/zoo.py.

    python3 tools/synthetic_zoo.py /tmp/synzoo [--territories 40 --seed 7]   # panels and a copy of zoo.py
    python3 /tmp/synzoo/zoo.py --baselines                 # optional: statsforecast columns (slow)
    python3 /tmp/synzoo/zoo.py --bin target/release/salesplan

Territories are independent (no common shock), so the quota column's realised share is a
measurement of calibration rather than of one year's common luck. Panels, 40 territories each
(--territories),
monthly, 12-month horizon, two origins: iid noise (10%); a local linear trend (growth 0-2% a
month, level wandering 1% a month, 6% noise); a random walk (4% a month); multiplicative
seasonality times 10% a year growth (5% noise); a short history (24 and 36 months before the
origins) of a level wandering 3% a month under 8% noise.
"""
import argparse
import json
import os
import shutil
import numpy as np
import pandas as pd

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?", default="synzoo")
ap.add_argument("--territories", type=int, default=40)
ap.add_argument("--seed", type=int, default=7)
args = ap.parse_args()
OUT = args.out
os.makedirs(OUT, exist_ok=True)
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "zoo", "zoo.py"), OUT)
rng = np.random.default_rng(args.seed)
N = args.territories
panels = {}
def write(name, series, start, origins, note, period="month", horizon=12):
    rows = []
    dates = pd.date_range(start, periods=len(series[0]), freq="MS")
    for i, s in enumerate(series):
        for d, v in zip(dates, s):
            rows.append((d.strftime("%Y-%m-%d"), f"R{i%4}", f"T{i:02d}", round(float(v), 2)))
    pd.DataFrame(rows, columns=["date", "region", "territory", "amount"]).to_csv(os.path.join(OUT, f"{name}.csv"), index=False)
    panels[name] = {"period": period, "origins": origins, "horizon": horizon, "note": note}
T = 132
lv = rng.lognormal(np.log(20000), 1.0, N)
# iid noise, 10% sd
write("iid", [l * (1 + 0.10 * rng.standard_normal(T)) for l in lv], "2010-01-01", ["2019-01-01", "2020-01-01"], "iid")
# local linear trend: growth 0..2%/month, wandering level, 6% noise
out = []
for l in lv:
    g = rng.uniform(0.0, 0.02); shift = np.cumprod(1 + 0.01 * rng.standard_normal(T))
    out.append(l * (1 + g * np.arange(T)) * shift * (1 + 0.06 * rng.standard_normal(T)))
write("llt", out, "2010-01-01", ["2019-01-01", "2020-01-01"], "llt")
# random walk 4%/month
write("rw", [l * np.cumprod(1 + 0.04 * rng.standard_normal(T)) for l in lv], "2010-01-01", ["2019-01-01", "2020-01-01"], "rw")
# multiplicative seasonality x exponential growth 10%/yr x 5% noise
m = np.arange(T) % 12
out = []
for l in lv:
    amp = rng.uniform(0.1, 0.4); ph = rng.uniform(0, 2 * np.pi)
    out.append(l * (1 + amp * np.sin(2 * np.pi * m / 12 + ph)) * 1.10 ** (np.arange(T) / 12) * (1 + 0.05 * rng.standard_normal(T)))
write("season_growth", out, "2010-01-01", ["2019-01-01", "2020-01-01"], "seasonal growth")
# short: 24 and 36 months of history, wandering level 3%, noise 8%
out = [l * np.cumprod(1 + 0.03 * rng.standard_normal(48)) * (1 + 0.08 * rng.standard_normal(48)) for l in lv]
write("short", out, "2016-01-01", ["2018-01-01", "2019-01-01"], "short wandering level", horizon=12)
json.dump(panels, open(os.path.join(OUT, "panels.json"), "w"), indent=1)
