"""Which side the forecast misses on, by quarter of the horizon (session 30, 2026-12-07)

Reads the folder `zoo.py --out DIR` leaves (one `PANEL-ORIGIN/forecast/forecast.csv`
per panel and origin) and the panels it scored (a folder holding `panels.json`
and `PANEL.csv`: `../shared/zoo/`, or one that `more_truths.py` wrote), and prints,
per quarter of the horizon (the first quarter of the steps, the second, ...):
P10-P90 coverage, the share of actuals below P10 and above P90, and per panel
the median log error ln(actual / P50). A calibrated forecast has about 0.10 on
each side in every quarter; a forecast that runs low in growing markets has
more above P90 than below P10.

    python3 ../shared/zoo/zoo.py --bin target/release/salesplan --out /tmp/zoo_out
    python3 docs/experiments/horizon_sides.py /tmp/zoo_out ../shared/zoo

Needs numpy and pandas.
"""
import glob
import json
import os
import sys

import numpy as np
import pandas as pd

PERIOD_FORMAT = {"month": "M", "quarter": "Q"}


def actuals(panel_csv, period):
    """The panel's amounts summed by territory and period start (as forecast.csv names it)."""
    raw = pd.read_csv(panel_csv, parse_dates=["date"])
    if period in PERIOD_FORMAT:
        start = raw["date"].dt.to_period(PERIOD_FORMAT[period]).dt.start_time
    else:
        start = raw["date"]
    raw["period"] = start.dt.strftime("%Y-%m-%d")
    return raw.groupby(["territory", "period"])["amount"].sum()


def cells(out_dir, panels_dir):
    panels = json.load(open(os.path.join(panels_dir, "panels.json")))
    frames = []
    for d in sorted(glob.glob(os.path.join(out_dir, "*", "forecast", "forecast.csv"))):
        run = os.path.basename(os.path.dirname(os.path.dirname(d)))
        name = next((p for p in panels if run.startswith(p + "-")), None)
        if name is None:
            continue
        fc = pd.read_csv(d)
        fc = fc[(fc["level"] == "territory") & (fc["period"] != "year")].copy()
        fc["period"] = fc["period"].str[:10]
        act = actuals(os.path.join(panels_dir, name + ".csv"), panels[name]["period"])
        fc["actual"] = [act.get((t, p), np.nan) for t, p in zip(fc["name"], fc["period"])]
        fc = fc.dropna(subset=["actual"])
        fc["step"] = fc.groupby("name").cumcount()
        fc["quarter"] = fc["step"] * 4 // (fc["step"].max() + 1)
        fc["panel"] = name
        frames.append(fc)
    return pd.concat(frames)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    d = cells(sys.argv[1], sys.argv[2])
    d["inside"] = (d["actual"] >= d["p10"]) & (d["actual"] <= d["p90"])
    d["below_p10"] = d["actual"] < d["p10"]
    d["above_p90"] = d["actual"] > d["p90"]
    positive = (d["actual"] > 0) & (d["p50"] > 0)
    d["log_error"] = np.where(positive, np.log(d["actual"].where(positive, 1) / d["p50"].where(positive, 1)), np.nan)
    print(f"pooled over {len(d)} cells, by quarter of the horizon")
    print(d.groupby("quarter")[["inside", "below_p10", "above_p90"]].mean().round(3).to_string())
    by_panel = d.groupby(["panel", "quarter"])
    print("\nbelow P10 / above P90, per panel and quarter")
    sides = by_panel[["below_p10", "above_p90"]].mean().round(3).unstack()
    print(sides.to_string())
    print("\nmedian ln(actual / P50), per panel and quarter")
    print(by_panel["log_error"].median().round(4).unstack().to_string())


if __name__ == "__main__":
    main()
