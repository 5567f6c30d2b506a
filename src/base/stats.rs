//! The statistics every report, sweep aggregate and figure shares: the Student-t quantile,
//! the mean with its 95% t-interval, arithmetic and geometric means, Spearman's rank
//! correlation, and the configuration key that groups seeds. One copy each.

use serde_json::Value;

/// Two-sided 95% Student-t quantiles t(0.975, df) for df = 1..=30 (9 decimals).
const T975: [f64; 30] = [
    12.706204736,
    4.302652730,
    3.182446305,
    2.776445105,
    2.570581836,
    2.446911851,
    2.364624252,
    2.306004135,
    2.262157163,
    2.228138852,
    2.200985160,
    2.178812830,
    2.160368656,
    2.144786688,
    2.131449546,
    2.119905299,
    2.109815578,
    2.100922040,
    2.093024054,
    2.085963447,
    2.079613845,
    2.073873068,
    2.068657610,
    2.063898562,
    2.059538553,
    2.055529439,
    2.051830516,
    2.048407142,
    2.045229642,
    2.042272456,
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom, for real df >= 1 (Welch's
/// df is fractional): the table at integer df <= 30, linear in 1/df between table points, and
/// a Cornish-Fisher expansion around the normal quantile beyond 30 (error below 1e-4).
/// NaN for df < 1 (and NaN df).
pub fn t975(df: f64) -> f64 {
    if !(df >= 1.0) {
        return f64::NAN;
    }
    if df > 30.0 {
        let z: f64 = 1.959963984540054;
        return z
            + (z.powi(3) + z) / (4.0 * df)
            + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * df * df);
    }
    let lo = df.floor() as usize;
    let hi = df.ceil() as usize;
    if lo == hi {
        return T975[lo - 1];
    }
    let (a, b) = (1.0 / lo as f64, 1.0 / hi as f64);
    let w = (1.0 / df - b) / (a - b);
    T975[hi - 1] + w * (T975[lo - 1] - T975[hi - 1])
}

/// The mean of a sample with its 95% Student-t interval, mean ± t(0.975, n-1) s/√n, s the
/// sample standard deviation (n-1 denominator). With one value, `sd` and the interval are NaN;
/// with none, everything is NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
}

impl MeanCi {
    /// Of all of `v` (the caller filters undefined values first).
    pub fn of(v: &[f64]) -> MeanCi {
        let n = v.len();
        let mean = mean(v);
        if n < 2 {
            return MeanCi {
                n,
                mean,
                sd: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
            };
        }
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        let half = t975((n - 1) as f64) * sd / (n as f64).sqrt();
        MeanCi {
            n,
            mean,
            sd,
            lo: mean - half,
            hi: mean + half,
        }
    }
}

/// Arithmetic mean; NaN when empty.
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Geometric mean of the finite positive values of `v`; NaN when there are none.
pub fn geometric_mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let logs: Vec<f64> = v
        .into_iter()
        .filter(|x| x.is_finite() && *x > 0.0)
        .map(f64::ln)
        .collect();
    if logs.is_empty() {
        f64::NAN
    } else {
        (logs.iter().sum::<f64>() / logs.len() as f64).exp()
    }
}

/// The smallest and largest finite, strictly positive values (the extent of a log axis);
/// `None` if there is none.
pub fn positive_min_max<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in values {
        if v.is_finite() && v > 0.0 {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    lo.is_finite().then_some((lo, hi))
}

/// Mean, minimum and maximum of `v`; all NaN when empty.
pub fn mean_min_max(v: &[f64]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    (
        mean(v),
        v.iter().copied().fold(f64::INFINITY, f64::min),
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// Per epoch over several runs' series (epochs, values): the epochs ascending (as f64) and
/// the mean, minimum and maximum of the finite values there (NaN at an epoch with none). The
/// mean-and-range band of seed-aggregated loss curves.
pub fn band_over_runs<'a>(
    series: impl IntoIterator<Item = (&'a [u64], &'a [f64])>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut by_epoch: std::collections::BTreeMap<u64, Vec<f64>> = Default::default();
    for (epochs, values) in series {
        for (&e, &v) in epochs.iter().zip(values) {
            let vals = by_epoch.entry(e).or_default();
            if v.is_finite() {
                vals.push(v);
            }
        }
    }
    let (mut ep, mut mean, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for (e, v) in by_epoch {
        ep.push(e as f64);
        let (m, l, h) = mean_min_max(&v);
        mean.push(m);
        lo.push(l);
        hi.push(h);
    }
    (ep, mean, lo, hi)
}

/// Average ranks (1-based; ties share their mean rank).
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (Pearson on average ranks); NaN with fewer than 2 points,
/// unequal lengths or a constant variable.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() < 2 || x.len() != y.len() {
        return f64::NAN;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let sxy: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    if sxx <= 0.0 || syy <= 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// A run's `config` table as canonical JSON without the given top-level keys (serde_json's
/// map is ordered by key, so equal configurations give equal strings). Runs whose keys
/// without `seed` (and `name`) are equal are seeds of one configuration.
pub fn config_key(meta: &Value, drop: &[&str]) -> String {
    let mut c = meta["config"].clone();
    if let Value::Object(m) = &mut c {
        for k in drop {
            m.remove(*k);
        }
    }
    c.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(T <= x) for Student's t with integer `df`, by Simpson's rule on the density.
    fn t_cdf(x: f64, df: u32) -> f64 {
        // Gamma((df+1)/2) / Gamma(df/2), by the recurrence r(df+2) = r(df) (df+1)/df.
        let pi = std::f64::consts::PI;
        let mut r = if df % 2 == 1 {
            1.0 / pi.sqrt()
        } else {
            pi.sqrt() / 2.0
        };
        let mut d = if df % 2 == 1 { 1 } else { 2 };
        while d < df {
            r *= (d + 1) as f64 / d as f64;
            d += 2;
        }
        let nu = df as f64;
        let c = r / (nu * pi).sqrt();
        let f = |t: f64| c * (1.0 + t * t / nu).powf(-(nu + 1.0) / 2.0);
        let m = 200_000;
        let h = x / m as f64;
        let mut s = f(0.0) + f(x);
        for i in 1..m {
            s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        0.5 + s * h / 3.0
    }

    #[test]
    fn t_table_matches_the_t_distribution() {
        for df in 1..=30u32 {
            let q = t975(df as f64);
            let p = t_cdf(q, df);
            assert!((p - 0.975).abs() < 1e-9, "df {df}: P(T <= {q}) = {p}");
        }
        // Beyond the table: the expansion is within 1e-4 of the quantile.
        for df in [31u32, 40, 60, 120] {
            let q = t975(df as f64);
            let p = t_cdf(q, df);
            assert!((p - 0.975).abs() < 1e-5, "df {df}: P(T <= {q}) = {p}");
        }
    }

    #[test]
    fn t_quantile_known_values_and_edges() {
        // A printed t table (3 decimals).
        for (df, v) in [
            (1.0, 12.706),
            (2.0, 4.303),
            (5.0, 2.571),
            (10.0, 2.228),
            (30.0, 2.042),
        ] {
            assert!((t975(df) - v).abs() < 5e-4, "df {df}: {}", t975(df));
        }
        assert!((t975(31.0) - 2.039513446).abs() < 1e-4);
        assert!((t975(1e9) - 1.959964).abs() < 1e-6);
        // Fractional df interpolates (linearly in 1/df) between its neighbours; the true
        // t(0.975, 2.5) is 3.5747 (by integrating the density).
        let mid = t975(2.5);
        assert!(
            mid < t975(2.0) && mid > t975(3.0) && (mid - 3.5747).abs() < 0.1,
            "{mid}"
        );
        assert!(t975(0.5).is_nan() && t975(0.0).is_nan() && t975(f64::NAN).is_nan());
    }

    #[test]
    fn mean_interval() {
        let s = MeanCi::of(&[1.0, 2.0, 6.0]);
        assert_eq!(s.mean, 3.0);
        assert!((s.sd - 7f64.sqrt()).abs() < 1e-12);
        let half = 4.302652730 * 7f64.sqrt() / 3f64.sqrt();
        assert!((s.hi - 3.0 - half).abs() < 1e-9 && (3.0 - s.lo - half).abs() < 1e-9);
        let one = MeanCi::of(&[2.0]);
        assert_eq!((one.n, one.mean), (1, 2.0));
        assert!(one.lo.is_nan() && one.sd.is_nan());
        assert!(MeanCi::of(&[]).mean.is_nan());
    }

    #[test]
    fn means() {
        assert!((geometric_mean([1.0, 100.0, f64::NAN, -1.0, 0.0]) - 10.0).abs() < 1e-12);
        assert!(geometric_mean([0.0, f64::INFINITY]).is_nan());
        assert_eq!(mean_min_max(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert!(mean_min_max(&[]).0.is_nan());
        let (e1, e2) = ([0u64, 10, 20], [10u64, 0]);
        let (v1, v2) = ([1.0, f64::NAN, 3.0], [4.0, 2.0]);
        let (ep, mean, lo, hi) = band_over_runs([(&e1[..], &v1[..]), (&e2[..], &v2[..])]);
        assert_eq!(ep, [0.0, 10.0, 20.0]);
        assert_eq!(mean, [1.5, 4.0, 3.0]);
        assert_eq!((lo[0], hi[0]), (1.0, 2.0));
        let (_, m, _, _) = band_over_runs([(&e1[..1], &[f64::NAN][..])]);
        assert!(m[0].is_nan());
    }

    #[test]
    fn spearman_known_values() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 25.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert!(spearman(&[1.0, 2.0], &[1.0, 1.0]).is_nan());
        assert!(spearman(&[1.0], &[1.0]).is_nan());
        assert!(spearman(&[1.0, 2.0], &[1.0]).is_nan());
    }

    #[test]
    fn config_key_drops_keys_and_is_order_free() {
        let a = serde_json::json!({"config": {"seed": 1, "name": "a", "lr": 0.1, "b": 2}});
        let b = serde_json::json!({"config": {"b": 2, "lr": 0.1, "seed": 7, "name": "z"}});
        assert_eq!(
            config_key(&a, &["seed", "name"]),
            config_key(&b, &["seed", "name"])
        );
        assert_ne!(config_key(&a, &["name"]), config_key(&b, &["name"]));
    }
}
