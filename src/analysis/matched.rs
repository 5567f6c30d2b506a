//! Preference at matched loss: a speed-independent view of the frequency preference.
//!
//! The decay-rate index compares how fast bands fall, so two optimizers can score differently
//! only because one is faster. Here each run is read at the same point of progress instead:
//! for each level `q` of [`MATCHED_LEVELS`], the first analysed epoch whose total train loss is
//! `<= q x` the initial train loss (epoch 0). At that epoch the band-error profile is summarised
//! by the least-squares slope of `log10(max(rel_error_b, 1e-6))` against `log2(centre_b)` over
//! the index bands ("decades of relative error per octave"). A positive slope means the higher
//! bands still carry more relative error, i.e. low frequencies were learned first (the same
//! sign convention as the index). A run that never reaches a level has no slope there.

use super::index::{log_rel, ls_slope};
use serde::Serialize;

/// The loss ladder: fractions of the initial train loss.
pub const MATCHED_LEVELS: [f64; 3] = [0.5, 0.1, 0.01];

/// The level whose slope decides the C2 verdict (see docs/report.md).
pub const DECISIVE_LEVEL: f64 = 0.1;

/// The definition as printed in reports.
pub const MATCHED_DEFINITION: &str = "Matched-loss slope: at the first analysed epoch where the total train loss is <= q x its initial (epoch 0) value, q in {0.5, 0.1, 0.01}, the least-squares slope of log10(max(rel_error_b, 1e-6)) on log2(band centre) over the index bands (decades per octave). > 0: higher bands retain more error (low frequencies learned first); independent of how fast the level was reached. A seed that never reaches a level has no slope there (counted as not reached).";

/// The band profile of one run at one loss level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MatchedPoint {
    /// Fraction of the initial train loss.
    pub level: f64,
    /// First analysed epoch at or below the level; None = never.
    pub epoch: Option<u64>,
    /// Slope at that epoch; NaN if never reached or fewer than two bands.
    pub slope: f64,
}

/// The slope of `log10 rel` on `log2 centre` (bands with centre > 0 and a finite error).
pub fn profile_slope(centres: &[f64], rel: &[f64]) -> f64 {
    let (x, y): (Vec<f64>, Vec<f64>) = centres
        .iter()
        .zip(rel)
        .filter(|(c, r)| **c > 0.0 && r.is_finite())
        .map(|(c, r)| (c.log2(), log_rel(*r)))
        .unzip();
    ls_slope(&x, &y)
}

/// Matched-loss points of one run: `loss_epochs`/`train_loss` from epochs.csv, `band_epochs`
/// and `rel[band][i]` the index bands' relative errors at those analysed epochs.
pub fn matched_points(
    loss_epochs: &[u64],
    train_loss: &[f64],
    band_epochs: &[u64],
    centres: &[f64],
    rel: &[&[f64]],
) -> Vec<MatchedPoint> {
    let initial = loss_epochs
        .iter()
        .zip(train_loss)
        .find(|(&e, l)| e == 0 && l.is_finite())
        .or_else(|| {
            loss_epochs
                .iter()
                .zip(train_loss)
                .find(|(_, l)| l.is_finite())
        })
        .map(|(_, &l)| l);
    MATCHED_LEVELS
        .iter()
        .map(|&level| {
            let Some(l0) = initial else {
                return MatchedPoint {
                    level,
                    epoch: None,
                    slope: f64::NAN,
                };
            };
            let crossing = loss_epochs
                .iter()
                .zip(train_loss)
                .find(|(_, &l)| l <= level * l0)
                .map(|(&e, _)| e);
            // The band profile at the first analysed epoch at or after the crossing.
            let at = crossing.and_then(|c| band_epochs.iter().position(|&e| e >= c));
            match at {
                Some(i) => {
                    let profile: Vec<f64> = rel
                        .iter()
                        .map(|r| r.get(i).copied().unwrap_or(f64::NAN))
                        .collect();
                    MatchedPoint {
                        level,
                        epoch: Some(band_epochs[i]),
                        slope: profile_slope(centres, &profile),
                    }
                }
                None => MatchedPoint {
                    level,
                    epoch: None,
                    slope: f64::NAN,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_power_law_profile_is_its_exponent() {
        // rel_b = 1e-3 * centre^0.6 -> log10 rel = -3 + 0.6 log10(c) = -3 + 0.6 log10(2) log2(c).
        let centres = [1.0, 2.0, 4.0, 8.0, 16.0];
        let rel: Vec<f64> = centres.iter().map(|c: &f64| 1e-3 * c.powf(0.6)).collect();
        let want = 0.6 * 2f64.log10();
        assert!((profile_slope(&centres, &rel) - want).abs() < 1e-12);
    }

    #[test]
    fn matched_points_read_the_profile_where_the_loss_crosses() {
        // Train loss 1, 0.6, 0.4, 0.05, 0.02 at epochs 0, 10, 20, 30, 40; bands evaluated
        // at the same epochs. Low band flat at 0.1; high band 0.1 * 2^(k) at epoch index k, so
        // the slope (over two bands one octave apart) is log10 of the ratio = k log10 2.
        let epochs = [0, 10, 20, 30, 40];
        let loss = [1.0, 0.6, 0.4, 0.05, 0.02];
        let low = [0.1; 5];
        let high: Vec<f64> = (0..5).map(|k| 0.1 * 2f64.powi(k)).collect();
        let pts = matched_points(&epochs, &loss, &epochs, &[1.0, 2.0], &[&low, &high]);
        assert_eq!(pts.len(), 3);
        // 50%: first loss <= 0.5 is 0.4 at epoch 20 (index 2).
        assert_eq!(pts[0].epoch, Some(20));
        assert!((pts[0].slope - 2.0 * 2f64.log10()).abs() < 1e-12);
        // 10%: 0.05 at epoch 30.
        assert_eq!(pts[1].epoch, Some(30));
        assert!((pts[1].slope - 3.0 * 2f64.log10()).abs() < 1e-12);
        // 1%: never.
        assert_eq!(pts[2].epoch, None);
        assert!(pts[2].slope.is_nan());
    }
}
