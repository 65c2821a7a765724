"""Shapes real sales data has and the zoo does not: what the binary forecasts.

Sessions 17 and 18 (2026-12-06). Each panel is monthly, in one region, with
territories selling about 1,000 a month under their own noise; the binary
forecasts the next 12 months and the script prints each territory's year
P10 / P50 / P90 (thousands) and the periods it was fitted on. What each
panel should give (a year of about 12k unless said):

- late:      T3-T5 opened in months 24, 36 and 42 of 48 (no rows before);
- spike:     T0 sold 50,000 in month 30 of 48, once (its P90 carries the
             22% chance of another in 12 months, its P50 does not move);
- vacancy:   T0 sold nothing in months 20-31 of 48, then as before;
- closings:  T8-T10 stopped selling 6-10 months before the origin (their
             year is near nothing; the others as without them);
- ramp:      T6-T8 opened 18, 14 and 12 months before the origin, ramping
             from 20% to their full rate over six months;
- growth:    four territories growing 15% a month for 36 months under 5%
             noise (the truth's next year about 430k);
- closed:    six territories selling about 2,000 a month (cv 0.1) from May
             to September and nothing in the other months (a year of
             10k; session 18);
- shutdown:  eight territories of 1,000 a month under a ±25% season (cv
             0.08) for 60 months, months 39-41 at 30% of their usual
             everywhere (a year of 12k; session 18). The script also prints
             the monthly medians' mean absolute error against the truth;
- renewals:  six territories of 1,000 a month and one billing about 12,000
             each April only (an annual renewal), cv 0.1 (its year 12k;
             session 18).
- edge:      six territories closed November-April, selling 2,000 a month
             shaped 0.8 / 1.0 / 1.3 / 1.1 / 0.8 from May to September and
             about 600 in the Octobers of years 2 and 4 (a year of about
             10.3k with October's half chance; session 18);
- annual:    five territories billing about 12,000 each January only,
             cv 0.1 (a year of 12k; session 18);
- step:      six territories of 1,000 a month (cv 0.08), all 30% higher
             from month 42 of 48 (a price rise; their year 15.6k);
- split:     six territories of 1,000 a month (cv 0.08); T0 lost half its
             accounts to a new T6 in month 36 of 48 (T0's and T6's year 6k);
- steps:     six territories of 1,000 a month (cv 0.08); from month 42 of
             48 T0 sold a tenth, T1 0.4 and T2 twice (accounts lost and
             won: their years 1.2k, 4.8k and 24k; session 31).

    python3 docs/experiments/real_shapes.py target/release/salesplan

Needs numpy. Works in a temporary directory.
"""
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SCENARIO = """name = "{name}"
seed = 1
[data]
sales = "sales.csv"
[data.columns]
date = "date"
territory = "territory"
amount = "amount"
region = "region"
[forecast]
period = "month"
start = "{start}"
periods = 12
trials = 2000
"""


def months(n, start="2015-01-01"):
    y0, m0 = int(start[:4]), int(start[5:7])
    return [f"{y0 + (m0 - 1 + k) // 12}-{(m0 - 1 + k) % 12 + 1:02d}-01" for k in range(n + 1)]


def panels():
    rng = np.random.default_rng(8)
    noise = lambda n, cv=0.08: 1000 * (1 + cv * rng.standard_normal(n))
    out = {}
    late = [noise(48, 0.1) for _ in range(6)]
    for s, start in zip(late[3:], [24, 36, 42]):
        s[:start] = 0
    out["late"] = late
    spike = [noise(48, 0.05) for _ in range(4)]
    spike[0][30] = 50000
    out["spike"] = spike
    vacancy = [noise(48) for _ in range(6)]
    vacancy[0][20:32] = 0
    out["vacancy"] = vacancy
    common = np.cumprod(1 + 0.02 * rng.standard_normal(48))
    closings = [common * noise(48, 0.05) for _ in range(11)]
    for s, end in zip(closings[8:], [38, 40, 42]):
        s[end:] = 0
    out["closings"] = closings
    ramp = [noise(48) for _ in range(9)]
    for s, start in zip(ramp[6:], [30, 34, 36]):
        s[:start] = 0
        s[start:] *= np.minimum(1, 0.2 + 0.8 * np.arange(48 - start) / 6)
    out["ramp"] = ramp
    out["growth"] = [100 * 1.15 ** np.arange(36) * (1 + 0.05 * rng.standard_normal(36)) for _ in range(4)]
    selling = np.isin(np.arange(48) % 12, [4, 5, 6, 7, 8])
    out["closed"] = [np.where(selling, noise(48, 0.1) * 2, 0.0) for _ in range(6)]
    shape = 1 + 0.25 * np.sin(2 * np.pi * np.arange(60) / 12)
    shock = np.where(np.isin(np.arange(60), [39, 40, 41]), 0.3, 1.0)
    out["shutdown"] = [shape * shock * noise(60) for _ in range(8)]
    renewals = [noise(48, 0.1) for _ in range(7)]
    renewals[6] = np.where(np.arange(48) % 12 == 3, 12 * renewals[6], 0.0)
    out["renewals"] = renewals
    on = np.isin(np.arange(48) % 12, [4, 5, 6, 7, 8])
    shape = np.array([0, 0, 0, 0, 0.8, 1.0, 1.3, 1.1, 0.8, 0, 0, 0])[np.arange(48) % 12]
    october = (np.arange(48) % 12 == 9) & np.isin(np.arange(48) // 12, [1, 3])
    out["edge"] = [np.where(on, 2 * shape * noise(48, 0.1), np.where(october, 0.6 * noise(48, 0.1), 0.0)) for _ in range(6)]
    out["annual"] = [np.where(np.arange(48) % 12 == 0, 12 * noise(48, 0.1), 0.0) for _ in range(5)]
    out["step"] = [np.where(np.arange(48) >= 42, 1.3, 1.0) * noise(48) for _ in range(6)]
    split = [noise(48) for _ in range(7)]
    split[0][36:] *= 0.5
    split[6] = np.where(np.arange(48) >= 36, 0.5 * split[6], 0.0)
    out["split"] = split
    steps = [noise(48) for _ in range(6)]
    for s, factor in zip(steps, [0.1, 0.4, 2.0]):
        s[42:] *= factor
    out["steps"] = steps
    return out


def main():
    binary = str(Path(sys.argv[1]).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        for name, series in panels().items():
            d = Path(tmp) / name
            d.mkdir()
            dates = months(len(series[0]))
            with open(d / "sales.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["date", "region", "territory", "amount"])
                for i, s in enumerate(series):
                    for date, v in zip(dates, s):
                        if v != 0:
                            w.writerow([date, "R0", f"T{i}", round(float(v), 2)])
            (d / "s.toml").write_text(SCENARIO.format(name=name, start=dates[-1]))
            subprocess.run([binary, "forecast", "s.toml", "--out", "out", "--quiet"], cwd=d, check=True)
            periods = {r["territory"]: r["n_periods"] for r in csv.DictReader(open(d / "out" / "fit.csv"))}
            rows = [r for r in csv.DictReader(open(d / "out" / "forecast.csv")) if r["level"] == "territory" and r["period"] == "year"]
            print(name + ": " + "  ".join(
                f"{r['name']} {float(r['p10']) / 1e3:.1f}/{float(r['p50']) / 1e3:.1f}/{float(r['p90']) / 1e3:.1f} ({periods[r['name']]})"
                for r in rows))
            if name == "shutdown":
                shape = 1 + 0.25 * np.sin(2 * np.pi * np.arange(12) / 12)
                periods_ = [r for r in csv.DictReader(open(d / "out" / "forecast.csv")) if r["level"] == "territory" and r["period"] != "year"]
                errors = [abs(float(r["p50"]) / (1000 * shape[int(r["period"][5:7]) - 1]) - 1) for r in periods_]
                print(f"shutdown: monthly medians off the truth by {np.mean(errors):.3f} on average")


if __name__ == "__main__":
    main()
