//! Multiple comparisons across tasks: the p-value of the test behind each verdict (C2: Welch's
//! t-test of the comparison that decides it; C3: one-sided Welch tests against each baseline;
//! C6: exact sign tests of the time to L* against 0.25 B), how a verdict that needs several
//! baselines combines them ([`verdict_p`]), and the Holm-Bonferroni step-down adjustment over
//! the family of tasks of one claim.
//!
//! The two-sided p-value of Student's t with `df` degrees of freedom is
//! `I_{df/(df+t^2)}(df/2, 1/2)`, the regularized incomplete beta function, evaluated with the
//! Lentz continued fraction (Numerical Recipes, 2nd ed., section 6.4).

use super::over_seeds::Estimate;

/// The family-wise error rate Holm's method controls.
pub const HOLM_ALPHA: f64 = 0.05;

/// How the family is corrected, for reports and the index.
pub const HOLM_METHOD: &str = "Holm-Bonferroni (step-down) at family-wise alpha = 0.05, separately for each claim, over that claim's task verdicts with a valid verdict (not `invalid setting`, not evaluated), on the p-value of the test behind each verdict (`data.p_value`): C2, the two-sided Welch t-test of the matched-loss slope at the largest p vs at the smallest p; C3, one-sided Welch t-tests of the coverage difference against each baseline; C6, exact one-sided sign tests of the per-seed time to L* (a seed that never reaches L*, or diverged, counts as later than 0.25 B) against 0.25 B for each baseline (on classification, the time to the baseline's final test accuracy); C4 and C5 (classification), one-sided Welch t-tests of the accuracy at 75% of the initial loss and of the final test error against each baseline. Where a verdict needs every baseline (supported = better than all), its p-value is the largest of the per-baseline p-values (intersection-union test); where one baseline suffices (not supported), it is the smallest times the number of baselines (Bonferroni); an inconclusive verdict gets the smaller of the two. A supported or not-supported task verdict whose Holm-adjusted p-value exceeds 0.05 counts as inconclusive in the overall verdict.";

/// One-sided p-values (P for "a < b", P for "a > b") from a two-sided p-value and the sign
/// of the observed difference a - b: the observed direction gets p/2, the other 1 - p/2.
/// NaN in, NaN out.
pub fn one_sided(two_sided: f64, diff: f64) -> (f64, f64) {
    if two_sided.is_nan() || diff.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let half = two_sided / 2.0;
    if diff < 0.0 {
        (half, 1.0 - half)
    } else if diff > 0.0 {
        (1.0 - half, half)
    } else {
        (0.5, 0.5)
    }
}

/// Exact one-sided sign test: P(X >= k) for X ~ Binomial(n, 1/2). NaN when n = 0.
pub fn sign_test_p(k: usize, n: usize) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    // Sum of C(n, i) / 2^n for i = k..=n; the terms by the ratio C(n, i+1) / C(n, i), exact
    // in f64 for the seed counts of an analysis.
    let mut term = 0.5f64.powi(n as i32);
    let mut p = 0.0;
    for i in 0..=n {
        if i >= k {
            p += term;
        }
        term *= (n - i) as f64 / (i + 1) as f64;
    }
    p.min(1.0)
}

/// The p-value of a verdict judged against several baselines, from the per-baseline one-sided
/// p-values `(p_support, p_against)` (evidence for the claim, evidence against it):
/// supported needs every baseline, so its p-value is the largest p_support (intersection-union
/// test); not supported needs one, so its p-value is the smallest p_against times the number
/// of baselines (Bonferroni, capped at 1); an inconclusive verdict gets the smaller of the
/// two. NaN when any needed p-value is undefined, and for invalid or not evaluated verdicts.
pub fn verdict_p(outcome: super::claims::Outcome, per_baseline: &[(f64, f64)]) -> f64 {
    use super::claims::Outcome;
    if per_baseline.is_empty() {
        return f64::NAN;
    }
    let support = per_baseline
        .iter()
        .map(|x| x.0)
        .fold(f64::NEG_INFINITY, |m, p| {
            if p.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(p)
            }
        });
    let against = per_baseline
        .iter()
        .filter(|x| !x.1.is_nan())
        .map(|x| x.1)
        .fold(f64::NAN, f64::min);
    let against = (against * per_baseline.len() as f64).min(1.0);
    match outcome {
        Outcome::Supported => support,
        Outcome::NotSupported => against,
        Outcome::Inconclusive | Outcome::WindowSensitive => support.min(against),
        Outcome::InvalidSetting | Outcome::NotEvaluated => f64::NAN,
    }
}

/// ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 coefficients; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction for the incomplete beta (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1]; NaN
/// outside.
pub fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if !(a > 0.0 && b > 0.0 && (0.0..=1.0).contains(&x)) {
        return f64::NAN;
    }
    if x == 0.0 || x == 1.0 {
        return x;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Two-sided p-value P(|T| >= |t|) of Student's t with `df` > 0 degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || !(df > 0.0) {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    inc_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// Two-sided Welch t-test p-value of mean(a) = mean(b) from two estimates (mean, sd, n over
/// seeds). NaN with fewer than 2 values on either side; 0 or 1 when both spreads are 0.
pub fn welch_p(a: &Estimate, b: &Estimate) -> f64 {
    if a.n < 2 || b.n < 2 || !a.mean.is_finite() || !b.mean.is_finite() {
        return f64::NAN;
    }
    let (va, vb) = (a.sd.powi(2) / a.n as f64, b.sd.powi(2) / b.n as f64);
    let se2 = va + vb;
    if !(se2 > 0.0) {
        return if a.mean == b.mean { 1.0 } else { 0.0 };
    }
    let t = (a.mean - b.mean) / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    t_two_sided_p(t, df)
}

/// Holm-Bonferroni adjusted p-values, in the input order: sort ascending, p_(i) * (m - i + 1)
/// (i = 1..m), made monotone non-decreasing, capped at 1. NaN inputs stay NaN and do not count
/// in m.
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..ps.len()).filter(|&i| !ps[i].is_nan()).collect();
    idx.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let m = idx.len();
    let mut out = vec![f64::NAN; ps.len()];
    let mut running: f64 = 0.0;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = (ps[i] * (m - rank) as f64).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_on_a_known_example() {
        // Textbook example (4 tests): 0.01, 0.04, 0.03, 0.005 -> sorted 0.005, 0.01, 0.03, 0.04
        // -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06.
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
        // Holm rejects two at 0.05; uncorrected testing would reject all four.
        assert_eq!(adj.iter().filter(|p| **p <= HOLM_ALPHA).count(), 2);
        // Capped at 1; NaN kept and not counted in m.
        let adj = holm(&[0.6, f64::NAN, 0.4]);
        assert!((adj[0] - 0.8).abs() < 1e-12 && adj[1].is_nan() && (adj[2] - 0.8).abs() < 1e-12);
        assert_eq!(holm(&[0.5, 0.9]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn sign_test_known_values() {
        // 8 of 8 seeds on one side: 1/256; 7 of 8: 9/256; 0 of n: 1.
        assert!((sign_test_p(8, 8) - 1.0 / 256.0).abs() < 1e-12);
        assert!((sign_test_p(7, 8) - 9.0 / 256.0).abs() < 1e-12);
        assert!((sign_test_p(0, 5) - 1.0).abs() < 1e-12);
        // 2 of 2 (a quick-mode smoke test) can never be significant: 0.25.
        assert!((sign_test_p(2, 2) - 0.25).abs() < 1e-12);
        assert!(sign_test_p(0, 0).is_nan());
    }

    #[test]
    fn one_sided_and_verdict_p() {
        use super::super::claims::Outcome;
        assert_eq!(one_sided(0.04, -1.0), (0.02, 0.98));
        assert_eq!(one_sided(0.04, 2.0), (0.98, 0.02));
        assert!(one_sided(f64::NAN, 1.0).0.is_nan());
        let pb = [(0.01, 0.99), (0.03, 0.97)];
        // Supported needs both: the larger support p.
        assert_eq!(verdict_p(Outcome::Supported, &pb), 0.03);
        // Not supported needs one: the smallest against p, Bonferroni over 2 baselines.
        let pb2 = [(0.01, 0.99), (0.98, 0.02)];
        assert!((verdict_p(Outcome::NotSupported, &pb2) - 0.04).abs() < 1e-12);
        assert_eq!(verdict_p(Outcome::Inconclusive, &pb2), 0.04);
        assert!(verdict_p(Outcome::InvalidSetting, &pb2).is_nan());
        assert!(verdict_p(Outcome::Supported, &[(0.01, 0.99), (f64::NAN, f64::NAN)]).is_nan());
        assert!(verdict_p(Outcome::Supported, &[]).is_nan());
    }

    #[test]
    fn t_p_values_match_tables() {
        // t(0.975, 10) = 2.228 -> two-sided p = 0.05; t(0.995, 4) = 4.604 -> 0.01.
        assert!((t_two_sided_p(2.228_139, 10.0) - 0.05).abs() < 1e-5);
        assert!((t_two_sided_p(-4.604_095, 4.0) - 0.01).abs() < 1e-5);
        // df = 1 is Cauchy: P(|T| >= 1) = 0.5 exactly.
        assert!((t_two_sided_p(1.0, 1.0) - 0.5).abs() < 1e-12);
        assert_eq!(t_two_sided_p(0.0, 7.0), 1.0);
        assert!(t_two_sided_p(1.0, 0.0).is_nan());
        // I_x(1, 1) = x and I_0.5(a, a) = 0.5.
        assert!((inc_beta(1.0, 1.0, 0.3) - 0.3).abs() < 1e-12);
        assert!((inc_beta(3.5, 3.5, 0.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn welch_p_value_known_example() {
        // a = 1..5 (mean 3, sd sqrt(2.5)), b = 3..7 (mean 5): t = -2 / sqrt(1) = -2, df = 8;
        // two-sided p(|T8| >= 2) = 0.080516 (R: 2 * pt(-2, 8)).
        let a = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let b = Estimate::of(&[3.0, 4.0, 5.0, 6.0, 7.0]);
        assert!(
            (welch_p(&a, &b) - 0.080_516).abs() < 1e-5,
            "{}",
            welch_p(&a, &b)
        );
        assert!(welch_p(&a, &Estimate::of(&[1.0])).is_nan());
        let c = Estimate::of(&[2.0, 2.0]);
        assert_eq!(welch_p(&c, &Estimate::of(&[3.0, 3.0])), 0.0);
    }
}
