"""Independent reference for the README's Speed table, in vectorised numpy.

- raw limit: 120 million lognormal draws (numpy's default PCG64 generator,
  12 million per call, summed), the same count as the Rust bench's
  `raw_limit_lognormal_120m`;
- model: the reference forecast written the numpy way, 1,000 territories
  x 12 months x 10,000 trials with one common factor (30% of the variance):
  per territory a lognormal residual on level x season, the company total
  from summed paths, and the type-7 quantiles (numpy's default) of every
  month and of the year for each territory and for the company.

numpy runs on one core (its random generators are single-threaded); the
Rust figures use both cores of the machine.

Run: python3 benches/numpy_baseline.py
"""

import time

import numpy as np

TERRITORIES, PERIODS, TRIALS = 1000, 12, 10_000
QS = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
DRAWS = TERRITORIES * PERIODS * TRIALS


def raw_limit(rng):
    total = 0.0
    per_call = 12_000_000
    for _ in range(DRAWS // per_call):
        total += rng.lognormal(0.0, 0.3, size=per_call).sum()
    return total


def model(rng):
    levels = 1000.0 * (1.0 + (np.arange(TERRITORIES) % 17))
    season = 1.0 + 0.2 * np.arange(PERIODS) / 11.0
    common = np.sqrt(0.3) * rng.standard_normal((TRIALS, PERIODS))
    own_weight = np.sqrt(0.7)
    company = np.zeros((TRIALS, PERIODS))
    out = []
    for t in range(TERRITORIES):
        z = common + own_weight * rng.standard_normal((TRIALS, PERIODS))
        path = levels[t] * season * np.exp(0.3 * z - 0.045)
        company += path
        out.append((np.quantile(path, QS, axis=0), np.quantile(path.sum(axis=1), QS)))
    out.append((np.quantile(company, QS, axis=0), np.quantile(company.sum(axis=1), QS)))
    return out


def timed(name, f, rng):
    started = time.perf_counter()
    f(rng)
    secs = time.perf_counter() - started
    print(f"{name}: {secs:.2f} s ({DRAWS / secs / 1e6:.0f}M draws/s)")


if __name__ == "__main__":
    print(f"numpy {np.__version__}, {DRAWS / 1e6:.0f}M draws")
    timed("raw limit, 120M lognormal draws", raw_limit, np.random.default_rng(1))
    timed("model, 1000 x 12 x 10000 with quantiles", model, np.random.default_rng(5))
