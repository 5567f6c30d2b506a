//! Relative band error vs epoch: one line per band on a log y axis, a legend, and dashed
//! horizontal threshold lines (e.g. the convergence threshold used by the report). NaN and
//! non-positive points are skipped (the line breaks there).

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::heatmap::{side_legend_and_caption, x_range};
use super::style::{self, perr, series_colour, LegendEntry};
use super::{render, Figure, Raster};

/// One line: a band's values per epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curve {
    /// Legend text, e.g. "band 2-3 cyc".
    pub label: String,
    /// One value per epoch of [`CurvesData::epochs`] (NaN = gap).
    pub values: Vec<f64>,
}

/// A horizontal dashed reference line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Threshold {
    /// Legend text, e.g. "converged: 1e-2".
    pub label: String,
    pub value: f64,
}

/// Everything a curves figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CurvesData {
    /// What and under which optimizer.
    pub title: String,
    /// Measure definition and notes, printed under the plot.
    pub caption: String,
    /// Y axis title; empty means "relative error".
    pub y_label: String,
    /// Shared epochs of all curves; finite and increasing.
    pub epochs: Vec<f64>,
    /// Lines, drawn in order, coloured along viridis (first = darkest).
    pub curves: Vec<Curve>,
    /// Dashed horizontal lines (may be empty).
    pub thresholds: Vec<Threshold>,
}

const W: u32 = 1000;
const H: u32 = 650;
const LEFT: i32 = 95;
const TOP: i32 = 56;
const LEGEND_W: i32 = 215;
const X_AREA: i32 = 58;
/// Room for three caption lines (a 2D grid's caption needs them).
const CAPTION_AREA: i32 = 78;

/// Draw `data` into `path` (.png or .svg). Errors on no epochs, no curves, mismatched lengths,
/// no positive finite value at all, or an unknown extension.
pub fn curves(path: &Path, data: &CurvesData) -> Result<()> {
    super::Format::from_path(path)?;
    let name = &data.title;
    if data.epochs.is_empty() {
        bail!("curves {name:?}: no epochs to plot (epochs is empty)");
    }
    if data.curves.is_empty() {
        bail!("curves {name:?}: no curves to plot (curves is empty)");
    }
    for c in &data.curves {
        if c.values.len() != data.epochs.len() {
            bail!(
                "curves {name:?}: curve {:?} has {} values but there are {} epochs",
                c.label,
                c.values.len(),
                data.epochs.len()
            );
        }
    }
    if data.epochs.iter().any(|e| !e.is_finite()) || data.epochs.windows(2).any(|w| w[1] <= w[0]) {
        bail!("curves {name:?}: epochs must be finite and strictly increasing");
    }
    render(path, &CurvesFigure(data))
}

struct CurvesFigure<'a>(&'a CurvesData);

impl Figure for CurvesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        style::title(root, &d.title, W)?;
        let all = d
            .curves
            .iter()
            .flat_map(|c| c.values.iter())
            .chain(d.thresholds.iter().map(|t| &t.value));
        let (ylo, yhi) = style::log_range(all).ok_or_else(|| {
            anyhow::anyhow!(
                "curves {:?}: no positive finite value to plot on a log axis",
                d.title
            )
        })?;
        let (xlo, xhi) = x_range(&d.epochs);
        let area = style::chart_area(root, (W, H), TOP, CAPTION_AREA, LEGEND_W);
        let mut chart = style::log_y_chart(
            &area,
            (xlo, xhi),
            (ylo, yhi),
            "epoch",
            (X_AREA as u32, LEFT as u32),
        )?;
        let y_label = if d.y_label.is_empty() {
            "relative error"
        } else {
            &d.y_label
        };
        let n = d.curves.len();
        let mut entries = Vec::new();
        for (i, c) in d.curves.iter().enumerate() {
            let colour = series_colour(i, n);
            let positive = |v: f64| v.is_finite() && v > 0.0;
            let line = colour.stroke_width(2);
            style::draw_runs(&mut chart, (&d.epochs, &c.values), positive, line, None)?;
            entries.push(LegendEntry {
                label: c.label.clone(),
                colour,
                dashed: false,
                shaded: false,
            });
        }
        let grey = RGBColor(90, 90, 90);
        for t in &d.thresholds {
            if !(t.value.is_finite() && t.value > 0.0) {
                continue;
            }
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xlo, t.value), (xhi, t.value)],
                    9,
                    6,
                    grey.stroke_width(2),
                ))
                .map_err(perr)?;
            entries.push(LegendEntry {
                label: t.label.clone(),
                colour: grey,
                dashed: true,
                shaded: false,
            });
        }
        side_legend_and_caption(
            root,
            chart.plotting_area().get_pixel_range(),
            y_label,
            "band",
            &entries,
            TOP,
            &d.caption,
            H as i32 - CAPTION_AREA + 8,
            W as i32,
        )?;
        Ok(vec![])
    }
}
