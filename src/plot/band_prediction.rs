//! Predicted against measured relative band errors on one log-y chart (the kernel theory
//! overlay): per band one colour, the measured curve solid and the linearised prediction
//! from a checkpoint dashed, the prediction window shaded.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::heatmap::side_legend_and_caption;
use super::style::{self, perr, series_colour, LegendEntry};
use super::{render, Figure, Raster};

/// One band: its measured and predicted (epoch, relative error) points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BandPrediction {
    pub label: String,
    pub measured: Vec<(f64, f64)>,
    pub predicted: Vec<(f64, f64)>,
}

/// Everything the figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BandPredictionData {
    pub title: String,
    pub caption: String,
    /// Y axis title; empty means "relative band error E_b(r)/E_b(y)".
    pub y_label: String,
    /// The prediction window `[checkpoint epoch, window end]`, shaded.
    pub window: (f64, f64),
    /// Bands, lowest first (coloured along viridis).
    pub bands: Vec<BandPrediction>,
}

const W: u32 = 1000;
const H: u32 = 650;
const LEFT: i32 = 95;
const TOP: i32 = 56;
const LEGEND_W: i32 = 230;
const X_AREA: i32 = 58;
const CAPTION_AREA: i32 = 74;

fn positive(p: &&(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite() && p.1 > 0.0
}

/// Draw `data` into `path` (.png or .svg). Errors on no bands or no positive finite value.
pub fn band_prediction(path: &Path, data: &BandPredictionData) -> Result<()> {
    super::Format::from_path(path)?;
    if data.bands.is_empty() {
        bail!("band prediction figure {:?}: no bands to plot", data.title);
    }
    if !data
        .bands
        .iter()
        .flat_map(|b| b.measured.iter().chain(&b.predicted))
        .any(|p| positive(&p))
    {
        bail!(
            "band prediction figure {:?}: no positive finite error to plot on a log axis",
            data.title
        );
    }
    render(path, &PredictionFigure(data))
}

struct PredictionFigure<'a>(&'a BandPredictionData);

impl Figure for PredictionFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        style::title(root, &d.title, W)?;
        let all = || {
            d.bands
                .iter()
                .flat_map(|b| b.measured.iter().chain(&b.predicted))
                .filter(positive)
        };
        let ys: Vec<f64> = all().map(|p| p.1).collect();
        let xs: Vec<f64> = all().map(|p| p.0).chain([d.window.0, d.window.1]).collect();
        let (ylo, yhi) = style::log_range(&ys).unwrap_or((1e-3, 1.0));
        let (xlo, xhi) = style::lin_range(&xs).unwrap_or((0.0, 1.0));
        let xlo = if xs.iter().all(|&x| x >= 0.0) {
            xlo.max(0.0)
        } else {
            xlo
        };
        let area = style::chart_area(root, (W, H), TOP, CAPTION_AREA, LEGEND_W);
        let mut chart = style::log_y_chart(
            &area,
            (xlo, xhi),
            (ylo, yhi),
            "epoch",
            (X_AREA as u32, LEFT as u32),
        )?;
        let shade = RGBColor(120, 120, 120);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(d.window.0, ylo), (d.window.1, yhi)],
                shade.mix(0.10).filled(),
            )))
            .map_err(perr)?;
        let n = d.bands.len();
        let mut entries = Vec::new();
        for (i, b) in d.bands.iter().enumerate() {
            let colour = series_colour(i, n);
            let measured: Vec<f64> = b.measured.iter().map(|p| p.1).collect();
            let m_epochs: Vec<f64> = b.measured.iter().map(|p| p.0).collect();
            let (solid, dashed) = (colour.stroke_width(2), colour.stroke_width(3));
            let positive = |v: f64| v.is_finite() && v > 0.0;
            style::draw_runs(&mut chart, (&m_epochs, &measured), positive, solid, None)?;
            let predicted: Vec<f64> = b.predicted.iter().map(|p| p.1).collect();
            let p_epochs: Vec<f64> = b.predicted.iter().map(|p| p.0).collect();
            let dash = Some((8, 5));
            style::draw_runs(&mut chart, (&p_epochs, &predicted), positive, dashed, dash)?;
            entries.push(LegendEntry {
                label: b.label.clone(),
                colour,
                dashed: false,
                shaded: false,
            });
        }
        let grey = RGBColor(90, 90, 90);
        entries.extend([
            LegendEntry {
                label: "measured".into(),
                colour: grey,
                dashed: false,
                shaded: false,
            },
            LegendEntry {
                label: "linearised prediction".into(),
                colour: grey,
                dashed: true,
                shaded: false,
            },
            LegendEntry {
                label: "prediction window".into(),
                colour: shade,
                dashed: false,
                shaded: true,
            },
        ]);
        let y_label = if d.y_label.is_empty() {
            "relative band error E_b(r)/E_b(y)"
        } else {
            &d.y_label
        };
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
