//! 1D fit snapshots at chosen epochs: the top row shows target and prediction vs t (one small
//! chart per epoch), the bottom row the residual spectrum |R_k| vs frequency k (log y) at the
//! same epochs, with shared axes across columns so epochs compare at a glance.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::heatmap::draw_caption;
use super::style::{
    self, bold, fmt_tick, font, legend, perr, vtext, LegendEntry, AXIS_PX, TICK_PX,
};
use super::{render, Figure, Raster};

/// The state of the fit at one epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub epoch: f64,
    /// Network output at each grid point of [`SnapshotData::t`].
    pub prediction: Vec<f64>,
    /// |R_k| for k = 0, 1, ..., len-1 cycles per unit length (unnormalised DFT of the
    /// residual; non-positive values are skipped on the log axis).
    pub spectrum: Vec<f64>,
}

/// Everything a snapshot figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapshotData {
    /// What and under which optimizer.
    pub title: String,
    /// Notes printed under the plot.
    pub caption: String,
    /// Grid points t in [0, 1).
    pub t: Vec<f64>,
    /// Target values at `t`.
    pub target: Vec<f64>,
    /// One column per snapshot, left to right.
    pub snapshots: Vec<Snapshot>,
}

const COL_W: i32 = 300;
const LEFT: i32 = 100;
const RIGHT: i32 = 20;
const TOP: i32 = 86;
const ROW_H: i32 = 250;
const ROW_GAP: i32 = 30;
const X_AREA: i32 = 52;
const CAPTION_AREA: i32 = 50;
const Y_AREA: i32 = 62;

const TARGET: RGBColor = RGBColor(0, 0, 0);
const PRED: RGBColor = RGBColor(213, 94, 0);
const SPEC: RGBColor = RGBColor(0, 114, 178);

/// Draw `data` into `path` (.png or .svg). Errors on no grid, no snapshots, mismatched
/// lengths, or an unknown extension.
pub fn snapshots(path: &Path, data: &SnapshotData) -> Result<()> {
    super::Format::from_path(path)?;
    let name = &data.title;
    if data.t.is_empty() {
        bail!("snapshots {name:?}: no grid points (t is empty)");
    }
    if data.target.len() != data.t.len() {
        bail!(
            "snapshots {name:?}: target has {} values but t has {}",
            data.target.len(),
            data.t.len()
        );
    }
    if data.snapshots.is_empty() {
        bail!("snapshots {name:?}: no snapshots to draw");
    }
    for s in &data.snapshots {
        if s.prediction.len() != data.t.len() {
            bail!(
                "snapshots {name:?}: prediction at epoch {} has {} values but t has {}",
                s.epoch,
                s.prediction.len(),
                data.t.len()
            );
        }
        if s.spectrum.is_empty() {
            bail!("snapshots {name:?}: spectrum at epoch {} is empty", s.epoch);
        }
    }
    render(path, &SnapshotFigure(data))
}

struct SnapshotFigure<'a>(&'a SnapshotData);

impl SnapshotFigure<'_> {
    fn width(&self) -> i32 {
        (LEFT + COL_W * self.0.snapshots.len() as i32 + RIGHT).max(1000)
    }
}

impl Figure for SnapshotFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (
            self.width() as u32,
            (TOP + 2 * ROW_H + ROW_GAP + CAPTION_AREA) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        let w = self.width();
        let n = d.snapshots.len() as i32;
        let col_w = (w - LEFT - RIGHT) / n;
        let x0 = LEFT - Y_AREA;
        style::title(root, &d.title, w as u32)?;
        legend(
            root,
            &[
                LegendEntry {
                    label: "target".into(),
                    colour: TARGET,
                    dashed: false,
                    shaded: false,
                },
                LegendEntry {
                    label: "prediction".into(),
                    colour: PRED,
                    dashed: false,
                    shaded: false,
                },
            ],
            (LEFT, 46),
        )?;
        let mut fit_vals: Vec<f64> = d.target.clone();
        for s in &d.snapshots {
            fit_vals.extend(&s.prediction);
        }
        let (flo, fhi) = style::lin_range(&fit_vals).unwrap_or((-1.0, 1.0));
        let (tlo, thi) = style::lin_range(&d.t).unwrap_or((0.0, 1.0));
        let (tlo, thi) = (tlo.max(0.0).min(d.t[0]), thi);
        let spec = d.snapshots.iter().flat_map(|s| s.spectrum.iter());
        let (slo, shi) = style::log_range(spec).unwrap_or((1e-6, 1.0));
        let kmax = d
            .snapshots
            .iter()
            .map(|s| s.spectrum.len())
            .max()
            .unwrap_or(1) as f64
            - 0.5;
        for (i, s) in d.snapshots.iter().enumerate() {
            let cx = x0 + i as i32 * col_w;
            let first = i == 0;
            // Top: target and prediction vs t.
            let top = root
                .clone()
                .shrink((cx, TOP), ((col_w + Y_AREA - 12) as u32, ROW_H as u32));
            let mut chart = ChartBuilder::on(&top)
                .x_label_area_size(X_AREA as u32)
                .y_label_area_size(Y_AREA as u32)
                .caption(format!("epoch {}", fmt_tick(s.epoch)), bold(TICK_PX + 1.0))
                .build_cartesian_2d(tlo..thi, flo..fhi)
                .map_err(perr)?;
            chart
                .configure_mesh()
                .x_desc("t")
                .x_labels(5)
                .y_labels(5)
                .x_label_formatter(&|v| fmt_tick(*v))
                .y_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_PX))
                .axis_desc_style(font(AXIS_PX))
                .light_line_style(RGBColor(245, 245, 245))
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()
                .map_err(perr)?;
            let (target, pred) = (TARGET.stroke_width(2), PRED.stroke_width(2));
            style::draw_runs(&mut chart, (&d.t, &d.target), f64::is_finite, target, None)?;
            style::draw_runs(
                &mut chart,
                (&d.t, &s.prediction),
                f64::is_finite,
                pred,
                None,
            )?;
            // Bottom: residual spectrum.
            let by = TOP + ROW_H + ROW_GAP;
            let bottom = root
                .clone()
                .shrink((cx, by), ((col_w + Y_AREA - 12) as u32, ROW_H as u32));
            let mut chart = ChartBuilder::on(&bottom)
                .x_label_area_size(X_AREA as u32)
                .y_label_area_size(Y_AREA as u32)
                .build_cartesian_2d(-0.5..kmax, (slo..shi).log_scale())
                .map_err(perr)?;
            chart
                .configure_mesh()
                .x_desc("frequency k (cycles per unit length)")
                .x_labels(5)
                .y_labels(5)
                .x_label_formatter(&|v| fmt_tick(*v))
                .y_label_formatter(&|v| fmt_tick(*v))
                .label_style(font(TICK_PX))
                .axis_desc_style(font(AXIS_PX - 2.0))
                .light_line_style(RGBColor(245, 245, 245))
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()
                .map_err(perr)?;
            let ks: Vec<f64> = (0..s.spectrum.len()).map(|k| k as f64).collect();
            let positive = |v: f64| v.is_finite() && v > 0.0;
            let line = SPEC.stroke_width(2);
            style::draw_runs(&mut chart, (&ks, &s.spectrum), positive, line, None)?;
            if first {
                vtext(
                    root,
                    "prediction / target",
                    AXIS_PX,
                    (14, TOP + ROW_H / 2 - X_AREA / 2),
                )?;
                vtext(root, "|R_k|", AXIS_PX, (14, by + ROW_H / 2 - X_AREA / 2))?;
            }
        }
        draw_caption(root, &d.caption, 20, TOP + 2 * ROW_H + ROW_GAP + 8, w - 40)?;
        Ok(vec![])
    }
}
