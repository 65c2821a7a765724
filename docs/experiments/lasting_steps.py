"""How often `src/fit/step.rs` finds a lasting step, with and without one (session 31, 2026-12-07)

The detector's rules re-written in numpy (the same constants: at least 3
periods after, a window of at least 6 before, at least 8 before in all,
3 robust standard deviations of a period-to-period change or of the
level over two seasons before (the larger) for the gap and the jump, the jump at least half the windows' shift, a step of at least
a fifth down or a quarter up, the level before read over a season, the
drift over spans of a season, one stray period allowed in each window
but never the last, the same periods' change from a year before at
least three quarters of the step), run on 400 draws
of 48, 60 and 120 periods of series without a step (the share found is its false alarm rate) and
with one held 3, 6 or 12 periods (the share found is its power). Series
are on the log scale, already deseasonalised.

    python3 docs/experiments/lasting_steps.py     # about 3 minutes

Needs numpy.
"""
import numpy as np

MIN_AFTER, MIN_WINDOW, MIN_BEFORE, STEP_Z, CONCENTRATION, YEAR_ON_YEAR, MIN_LOG_STEP = 3, 6, 8, 3.0, 0.5, 0.75, 0.223


def med(v):
    return float(np.median(v)) if len(v) else None


def drift(x, season):
    span = max(1, min(season, len(x) // 2))
    return med([(x[t] - x[t - span]) / span for t in range(span, len(x)) if not (np.isnan(x[t]) or np.isnan(x[t - span]))])


def step_at(x, at, season):
    n = len(x); k = n - at
    window = min(max(k, MIN_WINDOW), at)
    reach = min(max(window, season), at)
    if np.isnan(x[at - reach:]).any():
        return None
    dr = drift(x[:at], season)
    if dr is None:
        return None
    ch = [x[t] - x[t - 1] - dr for t in range(1, at) if not (np.isnan(x[t]) or np.isnan(x[t - 1]))]
    lv = x - dr * np.arange(n)
    recent = lv[at - min(at, 2 * reach):at]
    pre = recent[~np.isnan(recent)]
    sd = max(1.4826 * med(np.abs(ch)), 1.4826 * med(np.abs(pre - med(pre))))
    if not sd > 0:
        return None
    before, after = lv[at - window:at], lv[at:]
    shift = med(after) - med(before)
    jump = lv[at] - lv[at - 1]
    if np.sign(jump) != np.sign(shift) or abs(jump) < CONCENTRATION * abs(shift):
        return None

    def facing(v, high):
        v = np.sort(v); trim = 1 if len(v) >= 4 else 0
        return v[len(v) - 1 - trim] if high else v[trim]
    last = after[-1]
    if shift < 0:
        gap = min(facing(before, False) - facing(after, True), facing(before, False) - last) / sd
    else:
        gap = min(facing(after, False) - facing(before, True), last - facing(before, True)) / sd
    lr = med(after) - med(lv[at - reach:at])
    if abs(lr) < MIN_LOG_STEP or np.sign(lr) != np.sign(shift):
        return None
    if season > 1:
        yoy = [x[t] - x[t - season] - dr * season for t in range(at, min(n, at + season)) if not np.isnan(x[t - season])]
        c = med(yoy)
        if c is None or np.sign(c) != np.sign(lr) or abs(c) < YEAR_ON_YEAR * abs(lr):
            return None
    return min(gap, abs(jump) / sd), np.exp(lr)


def detect(x, season=12):
    n = len(x); best = None
    for k in range(MIN_AFTER, n // 2 + 1):
        at = n - k
        if at < max(MIN_BEFORE, season):
            break
        g = step_at(x, at, season)
        if g and g[0] > STEP_Z and (best is None or g[0] > best[0]):
            best = (g[0], at, g[1])
    return best


rng = np.random.default_rng(0)


def ar(n, phi=0.7, s=0.1):
    e = s * rng.standard_normal(n); x = np.zeros(n)
    for i in range(n):
        x[i] = (phi * x[i - 1] if i else 0) + e[i]
    return x


def ar_own_season(n):
    x = 0; out = []; ph = rng.uniform(0, 2 * np.pi)
    for t in range(n):
        x = 0.7 * x + 0.1 * rng.standard_normal()
        out.append(x + np.log(1 + 0.2 * np.sin(2 * np.pi * t / 12 + ph)))
    return np.array(out)


nulls = {
    "iid 8%": lambda n: 0.08 * rng.standard_normal(n),
    "t3": lambda n: np.log(np.maximum(0.05, 1 + 0.08 * rng.standard_t(3, n))),
    "lognormal 0.8": lambda n: 0.8 * rng.standard_normal(n),
    "AR(1) 0.7": ar,
    "AR(1) 0.7 + own season": ar_own_season,
    "walk 3%": lambda n: np.cumsum(0.03 * rng.standard_normal(n)),
    "walk 1% + 0.2%": lambda n: np.cumsum(0.01 * rng.standard_normal(n)) + 0.002 * rng.standard_normal(n),
    "trend 2%": lambda n: 0.02 * np.arange(n) + 0.08 * rng.standard_normal(n),
    "accelerating": lambda n: np.log(1.0 + 0.0005 * np.arange(n) ** 2) + 0.05 * rng.standard_normal(n),
    "growth that stopped": lambda n: np.log(np.cumprod(1 + np.where(np.arange(n) < n - 18, 0.015, 0))) + 0.06 * rng.standard_normal(n),
    "bending drift": lambda n: np.cumsum(0.002 + 0.003 * rng.standard_normal(n) + 0.002 * np.sin(np.arange(n) / 8)),
    "own +-25% sine season": lambda n: 0.25 * np.sin(2 * np.pi * np.arange(n) / 12 + rng.uniform(0, 6.3)) + 0.05 * rng.standard_normal(n),
    "x2 burst ended": lambda n: 0.08 * rng.standard_normal(n) + np.r_[np.zeros(n - 4), np.full(3, np.log(2.0)), 0.0],
    "own peak 1.3 -> 2": lambda n: 0.05 * rng.standard_normal(n) + np.log(np.where(np.arange(n) % 12 >= 9, np.where(np.arange(n) >= n - 12, 2.0, 1.3), 1.0)),
    "own 1000/400 season": lambda n: np.log(np.where((np.arange(n) + rng.integers(12)) % 12 < 6, 1000.0, 400.0)) + 0.05 * rng.standard_normal(n),
}
print("false alarms: share of 400 draws with a step found (48 / 60 / 120 periods)")
for name, g in nulls.items():
    print("  %-22s" % name, [round(float(np.mean([detect(g(n)) is not None for _ in range(400)])), 4) for n in (48, 60, 120)])


def step(f, k, noise):
    return lambda n: noise * rng.standard_normal(n) + np.r_[np.zeros(n - k), np.full(k, np.log(f))]


print("power: share of 400 draws of 48 periods with the step found, held 3 / 6 / 12 periods")
for f in [0.1, 0.4, 0.5, 0.7, 1.3, 2.0]:
    print("  step x%.1f" % f, "noise 8%:", [round(float(np.mean([detect(step(f, k, 0.08)(48)) is not None for _ in range(400)])), 3) for k in (3, 6, 12)],
          "noise 20%:", [round(float(np.mean([detect(step(f, k, 0.2)(48)) is not None for _ in range(400)])), 3) for k in (3, 6, 12)])
