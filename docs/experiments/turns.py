"""Markets that turned: does the forecast's year follow? (session 15, 2026-12-06)

40 territories, 60 months of 10% noise around a level with 1% monthly
wander, growing 2% a month until a year before the origin and flat after
(`stop`), flat until a year before and growing 2% a month after
(`start`), or growing 1% a month throughout (`steady`); the next 12
months forecast and scored against the actual year drawn from the same
truth (median actual / P50, P10-P90 coverage, pinball relative to the
actual), three draws each.

    python3 docs/experiments/turns.py BIN[,BIN2] stop start steady

Needs numpy.
"""
import csv, subprocess, sys, tempfile
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
from one_off_jumps import SCENARIO as SC, score  # noqa: E402

def gen(seed, d, kind):
    rng = np.random.default_rng(seed); T, H, N = 60, 12, 40
    dates = [f"{2015 + m // 12}-{m % 12 + 1:02d}-15" for m in range(T + H)]
    rows, truth = [], {}
    for i in range(N):
        lvl = 100000 * np.exp(rng.normal(0, 0.5)); path = []
        for t in range(T + H):
            if kind == 'stop': g = 0.02 if t < 48 else 0.0       # growth that stopped a year before the origin
            elif kind == 'start': g = 0.0 if t < 48 else 0.02    # growth that started a year before
            elif kind == 'steady': g = 0.01
            lvl *= np.exp(g + rng.normal(0, 0.01)); path.append(lvl)
        y = np.array(path) * np.exp(rng.normal(0, 0.1, T + H) - 0.005)
        rows += [(dates[t], f"R{i%4}", f"T{i:02d}", round(y[t], 2)) for t in range(T)]
        truth[f"T{i:02d}"] = float(y[T:].sum())
    with open(d / "sales.csv", "w", newline="") as f:
        w = csv.writer(f); w.writerow(["date","region","territory","amount"]); w.writerows(rows)
    (d / "scenario.toml").write_text(SC)
    return truth
for kind in sys.argv[2:]:
  for b in [str(Path(x).resolve()) for x in sys.argv[1].split(",")]:
    res = []
    for seed in [1, 2, 3]:
        with tempfile.TemporaryDirectory() as d:
            d = Path(d); truth = gen(seed, d, kind)
            subprocess.run([b, "forecast", "scenario.toml", "--out", "out", "--quiet"], cwd=d, check=True)
            res.append(score(truth, d / "out"))
    res = np.array(res)
    print(f"{kind:7s} {b[-12:]:>12s} bias {' '.join('%.3f'%x for x in res[:,0])}  cov {' '.join('%.2f'%x for x in res[:,1])}  pinball {' '.join('%.4f'%x for x in res[:,2])}  mean {res[:,2].mean():.4f}")
