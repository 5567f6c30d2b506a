//! Predicted against measured band decay rates (the kernel theory overlay): one point per band
//! and run, coloured by configuration (later series smaller, so coinciding points nest), with
//! the identity line; the legend gives each configuration's rank correlation.
//!
//! Both axes have a symmetric-log scale ([`SymLog`]: linear within +-s of 0, logarithmic
//! beyond, s the median absolute rate), so that a few large rates do not squeeze the rest into
//! a corner and negative rates (bands that grow) stay visible.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::heatmap::side_legend_and_caption;
use super::style::{self, perr, qualitative, text, LegendEntry, AXIS_PX};
use super::{render, Figure, Raster};

/// One configuration's points: (predicted, measured) per band and run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderSeries {
    /// Legend text, e.g. "adam: rho = 0.90".
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Everything the figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelOrderData {
    pub title: String,
    pub caption: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<OrderSeries>,
}

const W: u32 = 1060;
const H: u32 = 730;
const LEFT: i32 = 95;
const TOP: i32 = 56;
const LEGEND_W: i32 = 320;
const X_AREA: i32 = 58;
const CAPTION_AREA: i32 = 96;

/// Draw `data` into `path` (.png or .svg). Errors when there is no finite point.
pub fn kernel_order(path: &Path, data: &KernelOrderData) -> Result<()> {
    super::Format::from_path(path)?;
    let finite = data
        .series
        .iter()
        .flat_map(|s| &s.points)
        .any(|(x, y)| x.is_finite() && y.is_finite());
    if !finite {
        bail!(
            "kernel order figure {:?}: no band has both a predicted and a measured decay rate",
            data.title
        );
    }
    render(path, &OrderFigure(data))
}

/// The symmetric-log map t = asinh(v / s): linear for |v| << s, log10-like beyond.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SymLog {
    pub s: f64,
}

impl SymLog {
    /// s = the median of the nonzero absolute values (1 when there are none).
    pub fn fit(values: &[f64]) -> SymLog {
        let mut a: Vec<f64> = values
            .iter()
            .filter(|v| v.is_finite() && **v != 0.0)
            .map(|v| v.abs())
            .collect();
        a.sort_by(f64::total_cmp);
        SymLog {
            s: a.get(a.len() / 2).copied().unwrap_or(1.0),
        }
    }
    pub fn to(self, v: f64) -> f64 {
        (v / self.s).asinh()
    }
    pub fn from(self, t: f64) -> f64 {
        self.s * t.sinh()
    }
    /// Tick values in data units inside [lo, hi] (data units): 0 and +-10^e, with 2 and 5
    /// multiples when fewer than 4 powers fit.
    pub fn ticks(self, lo: f64, hi: f64) -> Vec<f64> {
        let big = lo.abs().max(hi.abs());
        let (e0, e1) = (
            (self.s.log10().floor() as i32) - 1,
            big.log10().ceil() as i32,
        );
        let powers = |mults: &[f64]| {
            let mut out = vec![0.0];
            for e in e0..=e1 {
                for m in mults {
                    let v = m * 10f64.powi(e);
                    out.extend([v, -v]);
                }
            }
            out.retain(|v| (lo..=hi).contains(v));
            out.sort_by(f64::total_cmp);
            out
        };
        let t = powers(&[1.0]);
        if t.len() >= 4 {
            t
        } else {
            powers(&[1.0, 2.0, 5.0])
        }
    }
}

/// Ticks (positions on the axis, sorted, including 0) at least `gap` apart: kept greedily
/// outward from 0, so the round values nearest 0 go first when they crowd.
pub fn spaced(ticks: Vec<f64>, gap: f64) -> Vec<f64> {
    let mut out = vec![0.0];
    let (mut last_pos, mut last_neg) = (0.0f64, 0.0f64);
    for &t in ticks.iter().filter(|t| **t > 0.0) {
        if t - last_pos >= gap {
            out.push(t);
            last_pos = t;
        }
    }
    for &t in ticks.iter().filter(|t| **t < 0.0).rev() {
        if last_neg - t >= gap {
            out.push(t);
            last_neg = t;
        }
    }
    out.sort_by(f64::total_cmp);
    out
}

struct OrderFigure<'a>(&'a KernelOrderData);

impl Figure for OrderFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        style::title(root, &d.title, W)?;
        let pts = || {
            d.series
                .iter()
                .flat_map(|s| &s.points)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let xs: Vec<f64> = pts().map(|p| p.0).collect();
        let ys: Vec<f64> = pts().map(|p| p.1).collect();
        let both: Vec<f64> = xs.iter().chain(&ys).copied().collect();
        let scale = SymLog::fit(&both);
        let (vlo, vhi) = style::lin_range(&both).unwrap_or((0.0, 1.0));
        let (lo, hi) = (scale.to(vlo), scale.to(vhi));
        let pad = 0.04 * (hi - lo);
        let (lo, hi) = (lo - pad, hi + pad);
        let keys = spaced(
            scale
                .ticks(scale.from(lo), scale.from(hi))
                .into_iter()
                .map(|v| scale.to(v))
                .collect(),
            0.07 * (hi - lo),
        );
        let area = style::chart_area(root, (W, H), TOP, CAPTION_AREA, LEGEND_W);
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(X_AREA as u32)
            .y_label_area_size(LEFT as u32)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(perr)?;
        // The mesh's own ticks would sit at round values of t, not of the rate: draw the grid
        // lines and labels at the round rates by hand.
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(0)
            .x_desc(format!("{} (symmetric log)", d.x_label))
            .axis_desc_style(style::font(AXIS_PX))
            .draw()
            .map_err(perr)?;
        let line = RGBColor(220, 220, 220);
        for &t in &keys {
            chart
                .draw_series(LineSeries::new(
                    vec![(t, lo), (t, hi)],
                    line.stroke_width(1),
                ))
                .map_err(perr)?;
            chart
                .draw_series(LineSeries::new(
                    vec![(lo, t), (hi, t)],
                    line.stroke_width(1),
                ))
                .map_err(perr)?;
            let v = scale.from(t);
            let label = if v.abs() < 1e-9 * scale.s {
                "0".to_string()
            } else {
                style::fmt_tick(v)
            };
            let (x, _) = chart.backend_coord(&(t, lo));
            let (_, y) = chart.backend_coord(&(lo, t));
            let (_, bottom) = chart.backend_coord(&(lo, lo));
            text(
                root,
                &label,
                &style::font(AXIS_PX),
                (x, bottom + 6),
                HPos::Center,
                VPos::Top,
            )?;
            text(
                root,
                &label,
                &style::font(AXIS_PX),
                (LEFT - 8, y),
                HPos::Right,
                VPos::Center,
            )?;
        }
        let grey = RGBColor(120, 120, 120);
        chart
            .draw_series(DashedLineSeries::new(
                vec![(lo, lo), (hi, hi)],
                9,
                6,
                grey.stroke_width(1),
            ))
            .map_err(perr)?;
        let mut entries = Vec::new();
        for (i, s) in d.series.iter().enumerate() {
            let colour = qualitative(i);
            // Each series a little smaller than the one under it: coinciding points (e.g.
            // Adam and PAdam p = 0.5) stay visible as nested dots.
            let radius = (8 - i as i32).max(3);
            chart
                .draw_series(
                    s.points
                        .iter()
                        .filter(|(x, y)| x.is_finite() && y.is_finite())
                        .map(|&(x, y)| {
                            Circle::new((scale.to(x), scale.to(y)), radius, colour.filled())
                        }),
                )
                .map_err(perr)?;
            entries.push(LegendEntry {
                label: s.label.clone(),
                colour,
                dashed: false,
                shaded: false,
            });
        }
        entries.push(LegendEntry {
            label: "predicted = measured".into(),
            colour: grey,
            dashed: true,
            shaded: false,
        });
        side_legend_and_caption(
            root,
            chart.plotting_area().get_pixel_range(),
            &format!("{} (symmetric log)", d.y_label),
            "configuration",
            &entries,
            TOP,
            &d.caption,
            H as i32 - CAPTION_AREA + 8,
            W as i32,
        )?;
        Ok(vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlog_round_trips_and_ticks_are_round_values() {
        let v = [1e-4, -2e-4, 3e-4, 5e-4, 0.02, 0.0];
        let sl = SymLog::fit(&v);
        assert_eq!(sl.s, 3e-4); // median of the five nonzero |v|
        for x in v {
            assert!((sl.from(sl.to(x)) - x).abs() <= 1e-15 * x.abs().max(1e-3));
        }
        // Odd and monotone.
        assert_eq!(sl.to(-0.01), -sl.to(0.01));
        assert!(sl.to(1e-3) < sl.to(2e-3));
        let ticks = sl.ticks(-2e-4, 0.02);
        assert!(ticks.contains(&0.0) && ticks.contains(&1e-3) && ticks.contains(&1e-2));
        assert!(ticks.iter().all(|t| (-2e-4..=0.02).contains(t)));
        // Crowded ticks thin out from 0: positions 0, 0.1, 0.15, 1 with gap 0.3 keep 0 and 1.
        assert_eq!(
            spaced(vec![-0.5, -0.1, 0.0, 0.1, 0.15, 1.0], 0.3),
            vec![-0.5, 0.0, 1.0]
        );
    }
}
