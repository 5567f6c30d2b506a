//! Convergence times: the first recorded epoch at which a measure falls below a threshold
//! (Basri et al. style), for one series or for every band.

/// Basri et al.'s threshold as a fraction of the target's mean square: converged when the
/// training MSE falls below `0.05 * mean(y^2)`. Per band, the analogue is `rel_error < 0.05`.
pub const BASRI_FRACTION: f64 = 0.05;

/// `BASRI_FRACTION * mean(y^2)`: the MSE threshold of Basri et al. for target `y`.
/// Returns NaN for an empty target.
pub fn basri_threshold(target: &[f64]) -> f64 {
    BASRI_FRACTION * target.iter().map(|y| y * y).sum::<f64>() / target.len() as f64
}

/// The first `epochs[i]` whose `values[i] < threshold` (strictly), scanning in order; `None`
/// if no value crosses. NaN never crosses.
///
/// # Panics
/// If `epochs` and `values` differ in length.
pub fn first_crossing(epochs: &[u64], values: &[f64], threshold: f64) -> Option<u64> {
    assert_eq!(
        epochs.len(),
        values.len(),
        "first_crossing: {} epochs but {} values",
        epochs.len(),
        values.len()
    );
    epochs
        .iter()
        .zip(values)
        .find(|(_, &v)| v < threshold)
        .map(|(&epoch, _)| epoch)
}

/// [`first_crossing`] for every band: `rows[i][b]` is band `b`'s value at `epochs[i]` (e.g.
/// each epoch's `rel_error`). Returns one entry per band; empty if there are no rows.
///
/// # Panics
/// If `epochs` and `rows` differ in length, or rows differ in length.
pub fn band_first_crossings<R: AsRef<[f64]>>(
    epochs: &[u64],
    rows: &[R],
    threshold: f64,
) -> Vec<Option<u64>> {
    assert_eq!(
        epochs.len(),
        rows.len(),
        "band_first_crossings: {} epochs but {} rows",
        epochs.len(),
        rows.len()
    );
    let bands = rows.first().map_or(0, |row| row.as_ref().len());
    assert!(
        rows.iter().all(|row| row.as_ref().len() == bands),
        "band_first_crossings: rows have different numbers of bands"
    );
    (0..bands)
        .map(|b| {
            epochs
                .iter()
                .zip(rows)
                .find(|(_, row)| row.as_ref()[b] < threshold)
                .map(|(&epoch, _)| epoch)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_crossing_is_strict_and_ordered() {
        let epochs = [0, 10, 20, 30, 40];
        let values = [1.0, 0.5, 0.1, 0.05, 0.01];
        assert_eq!(first_crossing(&epochs, &values, 0.1), Some(30));
        assert_eq!(first_crossing(&epochs, &values, 0.11), Some(20));
        assert_eq!(first_crossing(&epochs, &values, 2.0), Some(0));
        assert_eq!(first_crossing(&epochs, &values, 0.01), None);
        assert_eq!(first_crossing(&[], &[], 1.0), None);
    }

    #[test]
    fn nan_never_crosses() {
        let epochs = [1, 2, 3];
        assert_eq!(
            first_crossing(&epochs, &[f64::NAN, f64::NAN, 0.0], 0.5),
            Some(3)
        );
        assert_eq!(first_crossing(&epochs, &[f64::NAN; 3], f64::INFINITY), None);
        assert_eq!(first_crossing(&epochs, &[0.0; 3], f64::NAN), None);
    }

    #[test]
    fn crossing_does_not_require_staying_below() {
        let epochs = [0, 1, 2, 3];
        assert_eq!(
            first_crossing(&epochs, &[1.0, 0.01, 1.0, 0.01], 0.05),
            Some(1)
        );
    }

    #[test]
    fn per_band_crossings() {
        let epochs = [0, 5, 10];
        let rows = vec![
            vec![1.0, 1.0, f64::NAN],
            vec![0.01, 0.5, f64::NAN],
            vec![0.001, 0.04, f64::NAN],
        ];
        assert_eq!(
            band_first_crossings(&epochs, &rows, BASRI_FRACTION),
            vec![Some(5), Some(10), None]
        );
        let empty: [Vec<f64>; 0] = [];
        assert!(band_first_crossings(&[], &empty, 0.05).is_empty());
    }

    #[test]
    fn basri_threshold_is_five_percent_of_mean_square() {
        let y = [1.0, -1.0, 2.0, 0.0];
        assert!((basri_threshold(&y) - 0.05 * 1.5).abs() < 1e-15);
    }
}
