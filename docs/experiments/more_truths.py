"""Synthetic truths the tools' panels lack, for ../shared/zoo/zoo.py (session 21).

    python3 docs/experiments/more_truths.py /tmp/truths_a --set a    # 200 territories a panel
    python3 docs/experiments/more_truths.py /tmp/truths_b --set b    # 150
    python3 docs/experiments/more_truths.py /tmp/truths_c --set c    # 60, weekly
    python3 docs/experiments/more_truths.py /tmp/truths_d --set d    # 150, six origins
    python3 /tmp/truths_a/zoo.py --bin target/release/salesplan --out /tmp/truths_a_out

Set a (seed 2026): lumpy deals (Poisson 0.3-3 a month, lognormal sizes,
no growth); a stationary AR(1) of 0.7 with a ±20% season; iid t3 noise;
quarterly growth 0-3% a quarter with a ±15% season; weekly, a ±10-30%
season of each territory's own (random peaks: the company's total has
almost none) growing 5% a year; short histories (24 and 36 months) of
trends from -15% to +25% a year; company and region random walks of 2% a
month (common shocks); growth of 1.5% a month that stopped 18 months
before the first origin. Set b (seed 55): weekly, 78 and 104 weeks, a
shared season, 26 weeks ahead; quarterly, 12 and 16 quarters; lumpy deals
growing 30% a year; one-off spikes of five times the level in 2% of
months; credits in 5% of months; one step of +-30% at a random month;
growth of 15% a year under gamma noise of cv 0.4. Set c (seed 7, 60
territories, weekly, five years, origins after three and four): ±20%
seasons of each territory's own (random peaks), flat, growing 5% a year,
a level wandering 1% a week, growing with a period of exactly 52 weeks,
and growth without a season. Set d (seed 44, 150 territories, six
origins a year apart): the quarterly panels with and without a season
and the common shocks of set a, drawn longer. Territories are
independent unless said, in four regions. The weekly panel of set a has
only 43 weeks after its second origin: its year figures are partial.
"""
import argparse, json, os, shutil
import numpy as np
import pandas as pd

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--set", choices=["a", "b", "c", "d"], default="a")
args = ap.parse_args()
OUT = args.out
os.makedirs(OUT, exist_ok=True)
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "zoo", "zoo.py"), OUT)
panels = {}


def write(name, series, start, origins, note, period="month", horizon=12):
    freq = {"month": "MS", "quarter": "QS", "week": "W-MON"}[period]
    rows = []
    dates = pd.date_range(start, periods=len(series[0]), freq=freq)
    for i, s in enumerate(series):
        for d, v in zip(dates, s):
            rows.append((d.strftime("%Y-%m-%d"), f"R{i%4}", f"T{i:03d}", round(float(v), 2)))
    pd.DataFrame(rows, columns=["date", "region", "territory", "amount"]).to_csv(f"{OUT}/{name}.csv", index=False)
    panels[name] = {"period": period, "origins": origins, "horizon": horizon, "note": note}


def set_a():
    rng = np.random.default_rng(2026)
    N = 200
    lv = rng.lognormal(np.log(20000), 1.0, N)
    out = []
    for l in lv:
        lam = rng.uniform(0.3, 3.0)
        size = l / lam
        out.append([rng.lognormal(np.log(size) - 0.32, 0.8, rng.poisson(lam)).sum() for _ in range(72)])
    write("intermittent", out, "2014-01-01", ["2019-01-01", "2019-07-01"], "intermittent deals")
    out = []
    for l in lv:
        x = 0
        s = []
        ph = rng.uniform(0, 2 * np.pi)
        for t in range(84):
            x = 0.7 * x + 0.1 * rng.standard_normal()
            s.append(l * np.exp(x) * (1 + 0.2 * np.sin(2 * np.pi * t / 12 + ph)))
        out.append(s)
    write("ar1", out, "2014-01-01", ["2019-01-01", "2020-01-01"], "stationary AR(1) + season")
    out = [l * np.maximum(0.05, 1 + 0.08 * rng.standard_t(3, 132)) for l in lv]
    write("heavy", out, "2010-01-01", ["2019-01-01", "2020-01-01"], "iid t3")
    out = []
    for l in lv:
        g = rng.uniform(0, 0.03)
        ph = rng.uniform(0, 2 * np.pi)
        T = 44
        t = np.arange(T)
        out.append(l * (1 + g) ** t * np.cumprod(1 + 0.02 * rng.standard_normal(T)) * (1 + 0.15 * np.sin(2 * np.pi * t / 4 + ph)) * (1 + 0.05 * rng.standard_normal(T)))
    write("quarterly", out, "2010-01-01", ["2019-01-01", "2020-01-01"], "quarterly growth", "quarter", 4)
    out = []
    for l in lv:
        T = 52 * 4
        t = np.arange(T)
        ph = rng.uniform(0, 2 * np.pi)
        a = rng.uniform(0.1, 0.3)
        out.append(l / 4 * (1 + a * np.sin(2 * np.pi * t / 52.18 + ph)) * 1.05 ** (t / 52) * np.cumprod(1 + 0.01 * rng.standard_normal(T)) * (1 + 0.08 * rng.standard_normal(T)))
    write("weekly", out, "2016-01-04", ["2018-12-31", "2019-03-04"], "weekly seasonal", "week", 52)
    out = []
    for l in lv:
        g = rng.uniform(-0.15, 0.25)
        t = np.arange(48)
        out.append(l * (1 + g) ** (t / 12) * np.cumprod(1 + 0.015 * rng.standard_normal(48)) * (1 + 0.08 * rng.standard_normal(48)))
    write("short_trend", out, "2016-01-01", ["2018-01-01", "2019-01-01"], "short trend")
    out = []
    comp = np.cumprod(1 + 0.02 * rng.standard_normal(96))
    reg = [np.cumprod(1 + 0.02 * rng.standard_normal(96)) for _ in range(4)]
    for i, l in enumerate(lv):
        out.append(l * comp * reg[i % 4] * np.cumprod(1 + 0.01 * rng.standard_normal(96)) * (1 + 0.08 * rng.standard_normal(96)))
    write("common", out, "2013-01-01", ["2019-01-01", "2020-01-01"], "common random-walk shocks")
    out = []
    for l in lv:
        t = np.arange(108)
        g = np.where(t < 66, 0.015, 0.0)
        out.append(l * np.cumprod(1 + g) * (1 + 0.06 * rng.standard_normal(108)))
    write("turn", out, "2012-01-01", ["2019-01-01", "2020-01-01"], "growth then flat")


def set_b():
    rng = np.random.default_rng(55)
    N = 150
    lv = rng.lognormal(np.log(20000), 1.0, N)
    T = 52 * 3 + 10
    t = np.arange(T)
    out = [l / 4 * (1 + 0.25 * np.sin(2 * np.pi * t / 52.18 + 1.0)) * 1.08 ** (t / 52) * np.cumprod(1 + 0.008 * rng.standard_normal(T)) * (1 + 0.10 * rng.standard_normal(T)) for l in lv]
    write("weekly_short", out, "2017-01-02", ["2018-07-02", "2019-01-07"], "weekly short shared season", "week", 26)
    out = []
    for l in lv:
        g = rng.uniform(-0.01, 0.03)
        t = np.arange(24)
        out.append(l * (1 + g) ** t * (1 + 0.2 * np.sin(2 * np.pi * t / 4 + 0.5)) * np.cumprod(1 + 0.02 * rng.standard_normal(24)) * (1 + 0.06 * rng.standard_normal(24)))
    write("quarterly_short", out, "2014-01-01", ["2017-01-01", "2018-01-01"], "quarterly 12/16 q", "quarter", 4)
    out = []
    for l in lv:
        lam0 = rng.uniform(0.5, 3.0)
        size = l / lam0
        out.append([rng.lognormal(np.log(size) - 0.32, 0.8, rng.poisson(lam0 * 1.3 ** (m / 12))).sum() for m in range(72)])
    write("intermittent_growth", out, "2014-01-01", ["2018-01-01", "2019-01-01"], "intermittent growing 30%/yr")
    out = []
    for l in lv:
        t = np.arange(96)
        spk = np.where(rng.random(96) < 0.02, 5.0, 1.0)
        out.append(l * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * 1.05 ** (t / 12) * spk * (1 + 0.08 * rng.standard_normal(96)))
    write("spikes", out, "2012-01-01", ["2018-01-01", "2019-01-01"], "spikes")
    out = []
    for l in lv:
        y = l * (1 + 0.3 * rng.standard_normal(84))
        cr = rng.random(84) < 0.05
        y[cr] = -0.3 * l * rng.random(cr.sum())
        out.append(y)
    write("credits", out, "2013-01-01", ["2018-01-01", "2019-01-01"], "credits")
    out = []
    for l in lv:
        k = rng.integers(12, 84)
        f = np.where(np.arange(96) >= k, rng.choice([0.7, 1.3]), 1.0)
        out.append(l * f * (1 + 0.08 * rng.standard_normal(96)))
    write("steps", out, "2012-01-01", ["2018-01-01", "2019-01-01"], "steps")
    out = []
    for l in lv:
        t = np.arange(72)
        out.append(l * 1.15 ** (t / 12) * (1 + 0.15 * np.sin(2 * np.pi * t / 12)) * rng.gamma(1 / 0.16, 0.16, 72))
    write("noisy_growth", out, "2014-01-01", ["2018-01-01", "2019-01-01"], "noisy growth")


def set_c():
    rng = np.random.default_rng(7)
    N = 60
    lv = rng.lognormal(np.log(5000), 1.0, N)
    T = 52 * 5
    t = np.arange(T)

    def weekly(g, wander, amp=0.2, P=52.18):
        out = []
        for l in lv:
            ph = rng.uniform(0, 2 * np.pi)
            out.append(l * (1 + amp * np.sin(2 * np.pi * t / P + ph)) * (1 + g) ** (t / 52) * np.cumprod(1 + wander * rng.standard_normal(T)) * (1 + 0.08 * rng.standard_normal(T)))
        return out

    O = ["2018-12-31", "2019-12-30"]
    write("flat", weekly(0, 0), "2016-01-04", O, "flat season", "week", 52)
    write("grow", weekly(0.05, 0), "2016-01-04", O, "growth 5%", "week", 52)
    write("wander", weekly(0, 0.01), "2016-01-04", O, "wander 1%", "week", 52)
    write("grow52", weekly(0.05, 0, P=52.0), "2016-01-04", O, "growth 5% P52", "week", 52)
    write("noseason", weekly(0.05, 0, amp=0), "2016-01-04", O, "growth 5% no season", "week", 52)


def set_d():
    rng = np.random.default_rng(44)
    N = 150
    lv = rng.lognormal(np.log(20000), 1.0, N)
    years = [f"{y}-01-01" for y in range(2014, 2020)]
    out = []
    for l in lv:
        g = rng.uniform(0, 0.03)
        ph = rng.uniform(0, 2 * np.pi)
        t = np.arange(60)
        out.append(l * (1 + g) ** t * np.cumprod(1 + 0.02 * rng.standard_normal(60)) * (1 + 0.15 * np.sin(2 * np.pi * t / 4 + ph)) * (1 + 0.05 * rng.standard_normal(60)))
    write("quarterly", out, "2005-01-01", years, "quarterly growth", "quarter", 4)
    out = []
    for l in lv:
        g = rng.uniform(0, 0.03)
        t = np.arange(60)
        out.append(l * (1 + g) ** t * np.cumprod(1 + 0.02 * rng.standard_normal(60)) * (1 + 0.05 * rng.standard_normal(60)))
    write("quarterly_ns", out, "2005-01-01", years, "quarterly growth no season", "quarter", 4)
    out = []
    comp = np.cumprod(1 + 0.02 * rng.standard_normal(132))
    reg = [np.cumprod(1 + 0.02 * rng.standard_normal(132)) for _ in range(4)]
    for i, l in enumerate(lv):
        out.append(l * comp * reg[i % 4] * np.cumprod(1 + 0.01 * rng.standard_normal(132)) * (1 + 0.08 * rng.standard_normal(132)))
    write("common", out, "2010-01-01", [f"{y}-01-01" for y in range(2015, 2021)], "common random-walk shocks")


{"a": set_a, "b": set_b, "c": set_c, "d": set_d}[args.set]()
json.dump(panels, open(f"{OUT}/panels.json", "w"), indent=1)
