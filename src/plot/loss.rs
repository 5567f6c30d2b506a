//! Train/test loss vs epoch for several series on one log-y chart. Each series has a mean
//! line (solid or dashed) and optionally a shaded band between `lo` and `hi` (e.g. min-max
//! over seeds; [`LossData::band_label`] says what the band means).

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::heatmap::draw_caption;
use super::style::{
    self, bold, font, legend, perr, qualitative, text, LegendEntry, AXIS_PX, CAPTION_PX,
};
use super::{render, Figure, Raster};

/// One loss curve.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossSeries {
    /// Legend text, e.g. "Adam (p = 0.5) test".
    pub label: String,
    /// Epochs of this series; finite and increasing.
    pub epochs: Vec<f64>,
    /// The line (e.g. mean over seeds); NaN or <= 0 = gap.
    pub mean: Vec<f64>,
    /// Optional shaded band (lo, hi), same length as `epochs`.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
    /// Dashed line (e.g. test loss) instead of solid (train loss).
    pub dashed: bool,
    /// Colour index into the Okabe-Ito palette (give train and test of one optimizer the same).
    pub colour: usize,
}

/// Everything a loss figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossData {
    /// What and under which optimizers.
    pub title: String,
    /// Notes printed under the plot.
    pub caption: String,
    /// Y axis title; empty means "loss (MSE)".
    pub y_label: String,
    /// What the shaded bands mean, e.g. "shaded: min-max over 5 seeds"; shown in the legend.
    pub band_label: String,
    pub series: Vec<LossSeries>,
    /// Reference lines (e.g. the target loss L* and the epoch 0.25 B of the C6 rule).
    pub marks: Vec<LossMark>,
}

/// A labelled reference line on a loss figure.
#[derive(Clone, Debug, PartialEq)]
pub enum LossMark {
    /// A horizontal line at this loss.
    Loss(f64, String),
    /// A vertical line at this epoch.
    Epoch(f64, String),
}

/// Width of the plot part (axes and plot area); the legend column is added to it.
const PLOT_PART_W: u32 = 765;
const H: u32 = 650;
const LEFT: i32 = 95;
const TOP: i32 = 56;
/// Narrowest legend column; wider when labels are long (about 8.5 px per character).
const LEGEND_W: i32 = 235;
const X_AREA: i32 = 58;
const CAPTION_AREA: i32 = 54;

/// Draw `data` into `path` (.png or .svg). Errors on no series, empty or mismatched series,
/// no positive finite value, or an unknown extension.
pub fn loss(path: &Path, data: &LossData) -> Result<()> {
    super::Format::from_path(path)?;
    let name = &data.title;
    if data.series.is_empty() {
        bail!("loss {name:?}: no series to plot (series is empty)");
    }
    for s in &data.series {
        if s.epochs.is_empty() {
            bail!("loss {name:?}: series {:?} has no epochs", s.label);
        }
        let n = s.epochs.len();
        let band_ok = s
            .band
            .as_ref()
            .is_none_or(|(lo, hi)| lo.len() == n && hi.len() == n);
        if s.mean.len() != n || !band_ok {
            bail!(
                "loss {name:?}: series {:?} has {} epochs but mean/lo/hi of other lengths",
                s.label,
                n
            );
        }
    }
    render(path, &LossFigure(data))
}

struct LossFigure<'a>(&'a LossData);

impl LossFigure<'_> {
    fn legend_w(&self) -> i32 {
        let longest = self
            .0
            .series
            .iter()
            .map(|s| s.label.chars().count() + 6)
            .max()
            .unwrap_or(0);
        LEGEND_W.max(45 + (longest as f64 * 8.5) as i32)
    }
}

impl Figure for LossFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (PLOT_PART_W + self.legend_w() as u32, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        let (width, legend_w) = (self.size().0, self.legend_w());
        style::title(root, &d.title, width)?;
        let mut ys: Vec<f64> = Vec::new();
        for s in &d.series {
            ys.extend(&s.mean);
            if let Some((lo, hi)) = &s.band {
                ys.extend(lo);
                ys.extend(hi);
            }
        }
        let (ylo, yhi) = style::log_range(&ys).ok_or_else(|| {
            anyhow::anyhow!(
                "loss {:?}: no positive finite value to plot on a log axis",
                d.title
            )
        })?;
        let xs = d.series.iter().flat_map(|s| s.epochs.iter());
        let mark_epochs: Vec<f64> = d
            .marks
            .iter()
            .filter_map(|m| match m {
                LossMark::Epoch(e, _) => Some(*e),
                LossMark::Loss(..) => None,
            })
            .collect();
        for m in &d.marks {
            if let LossMark::Loss(l, _) = m {
                ys.push(*l);
            }
        }
        let (ylo, yhi) = style::log_range(&ys).unwrap_or((ylo, yhi));
        let (xlo, xhi) = style::lin_range(xs.chain(mark_epochs.iter())).unwrap_or((0.0, 1.0));
        let xlo = if xlo < 0.0 && d.series.iter().all(|s| s.epochs[0] >= 0.0) {
            0.0
        } else {
            xlo
        };
        let area = style::chart_area(root, (width, H), TOP, CAPTION_AREA, legend_w);
        let mut chart = style::log_y_chart(
            &area,
            (xlo, xhi),
            (ylo, yhi),
            "epoch",
            (X_AREA as u32, LEFT as u32),
        )?;
        let y_label = if d.y_label.is_empty() {
            "loss (MSE)"
        } else {
            &d.y_label
        };
        let ok = |v: f64| v.is_finite() && v > 0.0;
        // Bands first so every line stays visible on top of them.
        for s in &d.series {
            let colour = qualitative(s.colour);
            if let Some((lo, hi)) = &s.band {
                let pts: Vec<(f64, f64, f64)> = s
                    .epochs
                    .iter()
                    .zip(lo.iter().zip(hi))
                    .map(|(&e, (&l, &h))| (e, l, h))
                    .collect();
                for run in pts.split(|&(e, l, h)| !(e.is_finite() && ok(l) && ok(h))) {
                    if run.len() < 2 {
                        continue;
                    }
                    let mut poly: Vec<(f64, f64)> = run.iter().map(|&(e, _, h)| (e, h)).collect();
                    poly.extend(run.iter().rev().map(|&(e, l, _)| (e, l)));
                    chart
                        .draw_series(std::iter::once(Polygon::new(
                            poly,
                            colour.mix(0.18).filled(),
                        )))
                        .map_err(perr)?;
                }
            }
        }
        let mut entries = Vec::new();
        for s in &d.series {
            let colour = qualitative(s.colour);
            let dash = s.dashed.then_some((8, 5));
            let line = colour.stroke_width(2);
            style::draw_runs(&mut chart, (&s.epochs, &s.mean), ok, line, dash)?;
            entries.push(LegendEntry {
                label: s.label.clone(),
                colour,
                dashed: s.dashed,
                shaded: s.band.is_some(),
            });
        }
        let red = RGBColor(200, 30, 30);
        for m in &d.marks {
            let (pts, anchor, label) = match m {
                LossMark::Loss(l, label) if l.is_finite() && *l > 0.0 => {
                    (vec![(xlo, *l), (xhi, *l)], (xhi, *l), label)
                }
                LossMark::Epoch(e, label) if e.is_finite() => {
                    (vec![(*e, ylo), (*e, yhi)], (*e, yhi), label)
                }
                _ => continue,
            };
            chart
                .draw_series(DashedLineSeries::new(pts, 4, 4, red.stroke_width(2)))
                .map_err(perr)?;
            let (ax, ay) = chart.backend_coord(&anchor);
            let (pos, at) = match m {
                LossMark::Loss(..) => ((HPos::Right, VPos::Bottom), (ax - 6, ay - 4)),
                LossMark::Epoch(..) => ((HPos::Left, VPos::Top), (ax + 6, ay + 6)),
            };
            text(root, label, &font(CAPTION_PX).color(&red), at, pos.0, pos.1)?;
        }
        let (px, py) = chart.plotting_area().get_pixel_range();
        style::vtext(root, y_label, AXIS_PX, (16, (py.start + py.end) / 2))?;
        let lx = px.end + 16;
        let used = legend(root, &entries, (lx, TOP))?;
        if d.series.iter().any(|s| s.band.is_some()) && !d.band_label.is_empty() {
            let lines = super::wrap(
                root,
                &d.band_label,
                CAPTION_PX,
                (width as i32 - lx - 8) as u32,
            );
            for (i, l) in lines.iter().enumerate() {
                text(
                    root,
                    l,
                    &font(CAPTION_PX).color(&RGBColor(60, 60, 60)),
                    (lx, TOP + used + 10 + i as i32 * 20),
                    HPos::Left,
                    VPos::Top,
                )?;
            }
        }
        let _ = bold;
        draw_caption(
            root,
            &d.caption,
            20,
            H as i32 - CAPTION_AREA + 8,
            width as i32 - 40,
        )?;
        Ok(vec![])
    }
}
