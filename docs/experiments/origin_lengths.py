"""How a form's error depends on the history it is fitted to (session 33, 2026-12-07).

The rolling origins that weigh the forms (README, The model, item 4) are
fitted to 12-33 of a three-year history's 36 months (12-24 for those a
whole year ahead of which is known); the forecast is
fitted to all 36. This script measures, on the generator's companies
(`salesplan generate --years 4 --last-year 2027`, as
`generator_holdout.py` makes them), the next 12 months' total forecast
from the first o months by five simple forecasters, for o = 12, 15, ...,
24 and 36:
- `mean`: the mean month of the o months (the stable level);
- `last12`: the last 12 months (a level that follows the last year);
- `own_trend`: the last 12 months grown by the territory's own
  log-linear slope over the o months;
- `share_company`, `share_region`: the territory's mean share of its
  company's (region's) total, times that total's last 12 months grown by
  the total's log-linear slope (a group-share form with a held rate).
Slopes are read from the deseasonalised logs, the season being the
company's over the whole 36 months (as salesplan's origins use the whole
history's profile). It prints the mean absolute and the mean log(actual / forecast) by o,
and the t statistic of the company total's slope over 36 months. It
needs only the binary to generate the data (numpy and pandas).

    python3 docs/experiments/origin_lengths.py target/release/salesplan [--seeds 1 41]
"""
import argparse
import os
import subprocess
import tempfile
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("--seeds", nargs=2, type=int, default=[1, 41])
args = parser.parse_args()
work = os.path.join(tempfile.gettempdir(), "salesplan_generator_holdout")
ORIGINS = (12, 15, 18, 21, 24, 36)


def slope(y, season):
    """Log-linear slope per month of y / season over its positive months, and its t."""
    pos = y > 0
    x = np.column_stack([np.arange(len(y)), np.ones(len(y))])[pos]
    logs = np.log(y[pos] / season[:len(y)][pos])
    b, *_ = np.linalg.lstsq(x, logs, rcond=None)
    r = logs - x @ b
    dof = pos.sum() - x.shape[1]
    if dof < 1:
        return b[0], np.nan
    cov = (r @ r / dof) * np.linalg.pinv(x.T @ x)
    return b[0], b[0] / np.sqrt(cov[0, 0])


def months(seed):
    d = os.path.join(work, f"s{seed}_h3")
    if not os.path.exists(os.path.join(d, "truth.csv")):
        subprocess.run([os.path.abspath(args.binary), "generate", "--out", d, "--seed", str(seed),
                        "--years", "4", "--last-year", "2027", "--quiet"], check=True)
    sales = pd.read_csv(os.path.join(d, "sales.csv"))
    sales["month"] = pd.to_datetime(sales.date).dt.to_period("M")
    table = sales.pivot_table(index="month", columns="territory", values="amount", aggfunc="sum").fillna(0)
    region = pd.read_csv(os.path.join(d, "truth.csv")).set_index("territory").region
    return table, region


rows, t_company = [], []
for seed in range(*args.seeds):
    table, region = months(seed)
    y_all = table.values
    company = y_all.sum(axis=1)
    # The company's profile over the 36 months: each month of the year's
    # share of its year, times 12.
    c36 = company[:36].reshape(3, 12)
    profile = (c36 / c36.sum(axis=1, keepdims=True)).mean(axis=0) * 12
    season = np.tile(profile, 4)
    t_company.append(slope(company[:36], season)[1])
    for o in ORIGINS:
        def grow(total):
            return total[o - 12:o].sum() * np.exp(12 * (slope(total[:o], season)[0] if o > 13 else 0.0))
        company_next = grow(company)
        for j, name in enumerate(table.columns):
            y, actual = y_all[:o, j], y_all[o:o + 12, j].sum()
            members = (region[table.columns] == region[name]).values
            region_total = y_all[:, members].sum(axis=1)
            own = slope(y, season)[0] if o > 13 else 0.0
            forecasts = {
                "mean": y.mean() * 12,
                "last12": y[-12:].sum(),
                "own_trend": y[-12:].sum() * np.exp(12 * own),
                "share_company": (y / company[:o]).mean() * company_next,
                "share_region": (y / region_total[:o]).mean() * grow(region_total),
            }
            for form, f in forecasts.items():
                rows.append(dict(o=o, form=form, error=np.log(actual / f)))
df = pd.DataFrame(rows)
df["absolute"] = df.error.abs()
print(f"{args.seeds[1] - args.seeds[0]} companies; next 12 months' total from the first o months")
print("mean |log(actual / forecast)|")
print(df.pivot_table(index="o", columns="form", values="absolute").round(3).to_string())
print("mean log(actual / forecast)")
print(df.pivot_table(index="o", columns="form", values="error").round(3).to_string())
t = pd.Series(t_company)
print(f"company total's slope over 36 months: t median {t.median():.2f}, "
      f"quartiles {t.quantile(0.25):.2f} / {t.quantile(0.75):.2f}, t > 2 in {(t > 2).mean():.2f}")
