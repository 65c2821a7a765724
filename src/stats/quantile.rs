//! Quantiles of samples (type 7, linear interpolation, as R and numpy
//! default) and of sorted samples; the sample mean and correlation.
//!
//! [`quantiles`] finds the needed order statistics exactly without sorting:
//! each value is mapped to a 64-bit key whose unsigned order is
//! `f64::total_cmp`'s, keys are counted into 2,048 buckets by their leading
//! bits (a radix histogram, roughly logarithmic in the value because of the
//! float layout), and only the few buckets holding a wanted rank are kept and
//! searched again, recursively, until they are small enough to sort. The
//! results are the same order statistics a full sort gives, so the quantiles
//! are bit for bit those of [`sorted_quantile`] on the sorted sample.

/// Bits of the key consumed per histogram pass (2,048 buckets).
const RADIX_BITS: u32 = 11;
/// Below this many keys, sorting is cheaper than another histogram pass.
const SMALL: usize = 256;

/// The type-7 position of quantile `q` in a sample of `n` (n > 0): the
/// lower rank, the upper rank and the interpolation weight of the upper.
fn position(n: usize, q: f64) -> (usize, usize, f64) {
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    (lo, (lo + 1).min(n - 1), h - lo as f64)
}

/// The type-7 interpolation between the order statistics `a <= b`.
#[inline]
fn interpolate(a: f64, b: f64, frac: f64) -> f64 {
    a + frac * (b - a)
}

/// Quantile `q` of an ascending `sorted` sample (type 7).
pub fn sorted_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lo, hi, frac) = position(n, q);
    interpolate(sorted[lo], sorted[hi], frac)
}

/// Key whose unsigned order is `f64::total_cmp`'s order (the same bit
/// transform `total_cmp` uses, shifted to unsigned).
#[inline]
pub fn sort_key(x: f64) -> u64 {
    let b = x.to_bits() as i64;
    ((b ^ ((((b >> 63) as u64) >> 1) as i64)) as u64) ^ (1 << 63)
}

/// Inverse of [`sort_key`].
#[inline]
fn value(k: u64) -> f64 {
    let b = (k ^ (1 << 63)) as i64;
    f64::from_bits((b ^ ((((b >> 63) as u64) >> 1) as i64)) as u64)
}

/// Buckets of one histogram pass.
const BUCKETS: usize = 1 << RADIX_BITS;

/// Smallest and largest of `keys` (`(u64::MAX, 0)` when empty).
fn key_range(keys: &[u64]) -> (u64, u64) {
    keys.iter()
        .fold((u64::MAX, 0u64), |(lo, hi), &k| (lo.min(k), hi.max(k)))
}

/// Write to `out[i]` the key of rank `ranks[i]` (ascending, distinct,
/// each < `keys.len()`) among `keys`, which may be reordered.
fn select_keys(keys: &mut [u64], ranks: &[usize], out: &mut [u64]) {
    if ranks.is_empty() {
        return;
    }
    if keys.len() <= SMALL {
        keys.sort_unstable();
        for (o, &r) in out.iter_mut().zip(ranks) {
            *o = keys[r];
        }
        return;
    }
    let (lo, hi) = key_range(keys);
    select_keys_in(keys, lo, hi, ranks, out);
}

/// As [`select_keys`], for keys whose smallest and largest are `lo` and
/// `hi` (more than [`SMALL`] keys).
fn select_keys_in(keys: &mut [u64], lo: u64, hi: u64, ranks: &[usize], out: &mut [u64]) {
    let span = hi - lo;
    if span == 0 {
        out.fill(lo);
        return;
    }
    // The top RADIX_BITS bits of the span: min and max always fall in
    // different buckets, so every bucket is smaller than `keys`, and a
    // bucket index is below BUCKETS (hence the masks, which change nothing
    // but spare the bounds checks).
    let shift = (64 - span.leading_zeros()).saturating_sub(RADIX_BITS);
    let bucket = |k: u64| ((k - lo) >> shift) as usize & (BUCKETS - 1);
    // Two interleaved histograms: runs of one bucket do not wait on each
    // other's increments.
    let mut counts = [[0u32; BUCKETS]; 2];
    let mut pairs = keys.chunks_exact(2);
    for p in &mut pairs {
        counts[0][bucket(p[0])] += 1;
        counts[1][bucket(p[1])] += 1;
    }
    for &k in pairs.remainder() {
        counts[0][bucket(k)] += 1;
    }
    let [mut counts, odd] = counts;
    for (c, o) in counts.iter_mut().zip(odd) {
        *c += o;
    }
    // The buckets holding a wanted rank, with the rank of their first key;
    // `slot[b]` is where bucket b's keys go in `kept` (u32::MAX: not kept).
    let mut slot = [u32::MAX; BUCKETS];
    let mut wanted: Vec<(usize, usize, usize)> = Vec::new(); // (bucket, first rank, start in kept)
    let (mut b, mut first, mut kept_len) = (0usize, 0usize, 0usize);
    for &r in ranks {
        while first + counts[b] as usize <= r {
            first += counts[b] as usize;
            b += 1;
        }
        if wanted.last().is_none_or(|w| w.0 != b) {
            slot[b] = kept_len as u32;
            wanted.push((b, first, kept_len));
            kept_len += counts[b] as usize;
        }
    }
    let mut kept = vec![0u64; kept_len];
    for &k in keys.iter() {
        let b = bucket(k);
        let s = slot[b];
        if s != u32::MAX {
            kept[s as usize] = k;
            slot[b] = s + 1;
        }
    }
    let mut i = 0;
    for &(b, first, start) in &wanted {
        let len = counts[b] as usize;
        let j = i + ranks[i..].iter().take_while(|&&r| r < first + len).count();
        let local: Vec<usize> = ranks[i..j].iter().map(|r| r - first).collect();
        select_keys(&mut kept[start..start + len], &local, &mut out[i..j]);
        i = j;
    }
}

/// Quantiles `qs` (any order) of `values` (type 7), exactly as sorting
/// `values` by `f64::total_cmp` and calling [`sorted_quantile`] would give.
pub fn quantiles(values: &[f64], qs: &[f64]) -> Vec<f64> {
    let mut keys: Vec<u64> = values.iter().map(|&x| sort_key(x)).collect();
    quantiles_of_keys(&mut keys, qs)
}

/// As [`quantiles`], for the values whose [`sort_key`]s are `keys` (which
/// are reordered).
pub fn quantiles_of_keys(keys: &mut [u64], qs: &[f64]) -> Vec<f64> {
    quantiles_of_keys_in(keys, None, qs)
}

/// As [`quantiles_of_keys`], given the smallest and largest key when the
/// caller already knows them (saving a pass over the keys).
pub fn quantiles_of_keys_in(keys: &mut [u64], range: Option<(u64, u64)>, qs: &[f64]) -> Vec<f64> {
    let n = keys.len();
    if n == 0 {
        return vec![f64::NAN; qs.len()];
    }
    let positions: Vec<(usize, usize, f64)> = qs.iter().map(|&q| position(n, q)).collect();
    let mut ranks: Vec<usize> = positions.iter().flat_map(|p| [p.0, p.1]).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut found = vec![0u64; ranks.len()];
    match range {
        Some((lo, hi)) if n > SMALL && !ranks.is_empty() => {
            debug_assert_eq!(key_range(keys), (lo, hi));
            select_keys_in(keys, lo, hi, &ranks, &mut found)
        }
        _ => select_keys(keys, &ranks, &mut found),
    }
    let at = |r: usize| value(found[ranks.partition_point(|&x| x < r)]);
    positions
        .iter()
        .map(|&(lo, hi, frac)| interpolate(at(lo), at(hi), frac))
        .collect()
}

/// Mean of a sample.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

/// Pearson correlation of `x` and `y` (0 with fewer than 3 points or no spread).
pub fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 3 {
        return 0.0;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;
    use rand::SeedableRng;

    fn by_sorting(v: &[f64], qs: &[f64]) -> Vec<f64> {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        qs.iter().map(|&q| sorted_quantile(&s, q)).collect()
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn keys_follow_total_cmp() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            2.5,
            1e300,
            f64::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(sort_key(w[0]) < sort_key(w[1]), "{} !< {}", w[0], w[1]);
        }
        for &x in &xs {
            assert_eq!(value(sort_key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn selection_matches_sorting() {
        let v: Vec<f64> = (0..1001).map(|i| ((i * 7919) % 1001) as f64).collect();
        let qs = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];
        assert_eq!(bits(&quantiles(&v, &qs)), bits(&by_sorting(&v, &qs)));
    }

    #[test]
    fn selection_matches_sorting_on_awkward_samples() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let qs: Vec<f64> = [0.0, 1.0, 0.5, 0.001, 0.999, 0.05, 0.95, 0.3333]
            .into_iter()
            .chain((1..100).map(|k| k as f64 / 100.0))
            .collect();
        for n in [1usize, 2, 3, 255, 256, 257, 1000, 10_000, 40_001] {
            // Lognormal-like, with zeros of both signs, credits, ties and
            // one huge outlier: buckets of very unequal size.
            let v: Vec<f64> = (0..n)
                .map(|i| match i % 11 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => -rng.random::<f64>() * 50.0,
                    3 => 1234.5,
                    _ => (rng.random::<f64>() * 3.0).exp() * 1000.0,
                })
                .chain(std::iter::once(1e250))
                .collect();
            assert_eq!(
                bits(&quantiles(&v, &qs)),
                bits(&by_sorting(&v, &qs)),
                "n={n}"
            );
            let same = vec![3.25; n];
            assert_eq!(bits(&quantiles(&same, &qs)), bits(&by_sorting(&same, &qs)));
        }
        assert!(quantiles(&[], &[0.5])[0].is_nan());
        // With the range given, the same order statistics.
        let v: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 4999) as f64 - 300.0)
            .collect();
        let mut keys: Vec<u64> = v.iter().map(|&x| sort_key(x)).collect();
        let range = key_range(&keys);
        assert_eq!(
            bits(&quantiles_of_keys_in(&mut keys, Some(range), &qs)),
            bits(&by_sorting(&v, &qs))
        );
    }
}
