"""The generator's companies, one year held out (session 32, 2026-12-07).

`salesplan generate --years 4 --last-year 2027` writes four years of a
synthetic company (accounts with their own potential, each territory its
own constant growth drawn from -4% to +12% a year, seasonality, company
and region shocks, lumpy deals, credits, and a tenth of the accounts
starting at a random month). This script forecasts 2027 from 2024-2026
with the sales table alone (the generator's revenue does not depend on
reps or pipeline) and scores the forecast against what the generator
drew for 2027, per territory and for the company, over many seeds:
- how often the year's actual lies inside, above and below P10-P90;
- the mean of log(actual / forecast mean) (positive: forecast low) and
  of its absolute value;
- the year's pinball loss over P10, P50 and P90, over the actual;
- the mean log error by the territory's drawn growth.

    python3 docs/experiments/generator_holdout.py target/release/salesplan [OTHER_BINARY ...]
        [--seeds 1 41] [--history 3]

Each binary is scored on the same companies (generated once, by the
first binary, into $TMPDIR/salesplan_generator_holdout). Needs numpy and
pandas. Session 32's figures are in the README, Status.
"""
import argparse
import os
import re
import subprocess
import tempfile

import numpy as np
import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("binaries", nargs="+")
parser.add_argument("--seeds", nargs=2, type=int, default=[1, 41])
parser.add_argument("--history", type=int, default=3, help="years of history before the held-out year")
args = parser.parse_args()
binaries = [os.path.abspath(b) for b in args.binaries]
HELD_OUT = 2027
QUANTILES = (0.1, 0.5, 0.9)
work = os.path.join(tempfile.gettempdir(), "salesplan_generator_holdout")


def company(seed):
    """Generate seed's company once; write its history and scenario; the held-out year's actuals."""
    d = os.path.join(work, f"s{seed}_h{args.history}")
    if not os.path.exists(os.path.join(d, "truth.csv")):
        subprocess.run([binaries[0], "generate", "--out", d, "--seed", str(seed),
                        "--years", str(args.history + 1), "--last-year", str(HELD_OUT), "--quiet"],
                       check=True)
    h = os.path.join(d, "history")
    os.makedirs(h, exist_ok=True)
    sales = pd.read_csv(os.path.join(d, "sales.csv"), dtype=str)
    held = sales.date >= f"{HELD_OUT}-01-01"
    sales[~held].to_csv(os.path.join(h, "sales.csv"), index=False)
    actual = sales[held].assign(amount=sales[held].amount.astype(float)).groupby("territory").amount.sum()
    text = open(os.path.join(d, "scenario.toml")).read()
    text = "\n".join(l for l in text.splitlines() if not re.match(r"^(reps|pipeline|accounts|quotas) = ", l))
    text = re.sub(r'start = "\d{4}-01-01"', f'start = "{HELD_OUT}-01-01"', text)
    open(os.path.join(h, "scenario.toml"), "w").write(text)
    growth = pd.read_csv(os.path.join(d, "truth.csv")).set_index("territory").growth
    return h, actual, growth


def pinball(actual, row):
    return sum(max(q * (actual - row[f"p{int(q * 100)}"]), (q - 1) * (actual - row[f"p{int(q * 100)}"]))
               for q in QUANTILES) / actual


def score(binary, companies):
    territories, totals = [], []
    tag = f"out_{abs(hash(binary)) % 10**8}"
    for h, actual, growth in companies:
        out = os.path.join(h, tag)
        subprocess.run([binary, "forecast", os.path.join(h, "scenario.toml"), "--out", out,
                        "--quiet", "--trials", "4000"], check=True)
        f = pd.read_csv(os.path.join(out, "forecast.csv"))
        f = f[f.period == "year"]
        rows = f[f.level == "territory"].set_index("name")
        for name, a in actual.items():
            r = rows.loc[name]
            territories.append(dict(growth=growth[name], log_error=np.log(a / r["mean"]),
                                    inside=r.p10 <= a <= r.p90, above=a > r.p90, below=a < r.p10,
                                    pinball=pinball(a, r)))
        r = f[f.level == "total"].iloc[0]
        a = actual.sum()
        totals.append(dict(log_error=np.log(a / r["mean"]), inside=r.p10 <= a <= r.p90,
                           above=a > r.p90, below=a < r.p10, pinball=pinball(a, r)))
    return pd.DataFrame(territories), pd.DataFrame(totals)


def line(label, df):
    return (f"  {label:11s} inside P10-P90 {df.inside.mean():.3f}, above {df.above.mean():.3f}, "
            f"below {df.below.mean():.3f}; log(actual/mean) {df.log_error.mean():+.3f} "
            f"(absolute {df.log_error.abs().mean():.3f}); pinball / actual {df.pinball.mean():.4f}")


companies = [company(s) for s in range(*args.seeds)]
print(f"{len(companies)} companies, {args.history} years of history, {HELD_OUT} held out")
for b in binaries:
    t, c = score(b, companies)
    print(b)
    print(line("territories", t))
    print(line("company", c))
    bins = pd.cut(t.growth, [-0.04, 0.0, 0.04, 0.08, 0.12], include_lowest=True)
    by = t.groupby(bins, observed=True).log_error.agg(["mean", "size"])
    print("  log(actual/mean) by drawn growth: " +
          ", ".join(f"{i.left:+.2f}..{i.right:+.2f} {m:+.3f} (n {n})" for i, (m, n) in by.iterrows()))
