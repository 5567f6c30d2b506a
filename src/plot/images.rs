//! 2D image panels of a `waves2d` run: one column for the target, then one per snapshot
//! epoch; rows show the values (target or prediction), the residual `h - y`, and the power
//! spectrum `|X_k|^2 / (N M)^2` on a log scale, fftshifted (zero frequency at the centre,
//! `kx` horizontal, `ky` up; the target column shows the target's spectrum, the others the
//! residual's). Each row shares one colour scale, drawn as a colour bar on the right.
//! Images put `x` horizontal and `y` up, one cell per grid point.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::colourmap::{viridis, ColourScale};
use super::heatmap::{draw_caption, draw_colour_bar, PixelRect};
use super::style::{bold, font, perr, text, vtext, AXIS_PX, TICK_PX, TITLE_PX};
use super::{render, Figure, Raster};
use crate::record::load::{RunData, SnapshotData};
use crate::spectral::fft2d::{shifted_power, RealFft2d};

/// One snapshot column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageSnapshot {
    pub epoch: f64,
    /// Network output, row-major `[i * M + j]`.
    pub prediction: Vec<f64>,
    /// Residual power `|R_k|^2/(N M)^2`, fftshifted, row-major `[a * M + b]`.
    pub power: Vec<f64>,
}

/// Everything an image-panel figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImagesData {
    pub title: String,
    pub caption: String,
    /// Grid `[N, M]` (x, y).
    pub dims: [usize; 2],
    /// Target values, row-major `[i * M + j]`.
    pub target: Vec<f64>,
    /// Target power spectrum, fftshifted like [`ImageSnapshot::power`].
    pub target_power: Vec<f64>,
    pub snapshots: Vec<ImageSnapshot>,
}

const PANEL: i32 = 180;
const GAP: i32 = 16;
const LEFT: i32 = 56;
const TOP: i32 = 84;
const ROW_GAP: i32 = 26;
const CB_GAP: i32 = 18;
const CB_W: i32 = 20;
const CB_AREA: i32 = 64 + 34 + 12;
const CAPTION_AREA: i32 = 70;

/// Figure size `(width, height)` in pixels for `n_snapshots` snapshot columns.
pub fn images_size(n_snapshots: usize) -> (u32, u32) {
    let cols = 1 + n_snapshots as i32;
    let w = LEFT + cols * (PANEL + GAP) + CB_GAP + CB_W + CB_AREA;
    let h = TOP + 3 * (PANEL + ROW_GAP) + CAPTION_AREA;
    (w.max(600) as u32, h as u32)
}

/// The pixel rectangle of panel (`row`, `col`); column 0 is the target.
pub fn panel_rect(row: usize, col: usize) -> PixelRect {
    let x0 = LEFT + col as i32 * (PANEL + GAP);
    let y0 = TOP + row as i32 * (PANEL + ROW_GAP);
    PixelRect {
        x0,
        y0,
        x1: x0 + PANEL,
        y1: y0 + PANEL,
    }
}

/// Draw `data` into `path` (.png or .svg).
pub fn images(path: &Path, data: &ImagesData) -> Result<()> {
    super::Format::from_path(path)?;
    let [n, m] = data.dims;
    let name = &data.title;
    if n == 0 || m == 0 {
        bail!("images {name:?}: empty grid {n} x {m}");
    }
    if data.target.len() != n * m || data.target_power.len() != n * m {
        bail!("images {name:?}: target or its spectrum does not have {n} x {m} values");
    }
    if data.snapshots.is_empty() {
        bail!("images {name:?}: no snapshots to draw");
    }
    for s in &data.snapshots {
        if s.prediction.len() != n * m || s.power.len() != n * m {
            bail!(
                "images {name:?}: snapshot at epoch {} does not have {n} x {m} values",
                s.epoch
            );
        }
    }
    render(path, &ImagesFigure(data))
}

/// Image data from a 2D run's snapshots (all on one `N x M` grid, at least one): target,
/// predictions and residual spectra of up to `max` snapshot epochs (evenly picked, always
/// the first and last).
pub fn images_data(snaps: &[SnapshotData], title: &str, max: usize) -> ImagesData {
    let [n, m] = [snaps[0].dims[0], snaps[0].dims[1]];
    let target = &snaps[0].target;
    let mut fft = RealFft2d::new(n, m);
    let k = snaps.len();
    let picks = pick_evenly(k, max);
    let target_power = shifted_power(fft.forward(target), n, m);
    let snapshots = picks
        .iter()
        .map(|&i| {
            let (epoch, pred) = (snaps[i].epoch, &snaps[i].prediction);
            let residual: Vec<f64> = pred.iter().zip(target).map(|(h, y)| h - y).collect();
            ImageSnapshot {
                epoch: epoch as f64,
                prediction: pred.clone(),
                power: shifted_power(fft.forward(&residual), n, m),
            }
        })
        .collect();
    let shown = if k > picks.len() {
        format!(" Showing {} of {k} stored snapshots.", picks.len())
    } else {
        String::new()
    };
    ImagesData {
        title: title.to_string(),
        caption: format!(
            "{n} x {m} grid, x to the right and y up. Rows: values (target, prediction h), residual h - y, and power |X_k|^2/(N M)^2 on a log scale, fftshifted (zero frequency at the centre, kx to the right, ky up; target spectrum in the first column, residual spectrum in the others; the sum over all bins is the mean square).{shown}"
        ),
        dims: [n, m],
        target: target.clone(),
        target_power,
        snapshots,
    }
}

/// Indices of up to `max` of `k` items, evenly spread, always the first and the last.
pub(super) fn pick_evenly(k: usize, max: usize) -> Vec<usize> {
    let max = max.max(1);
    if k <= max {
        (0..k).collect()
    } else if max == 1 {
        vec![k - 1]
    } else {
        let mut v: Vec<usize> = (0..max).map(|i| i * (k - 1) / (max - 1)).collect();
        v.dedup();
        v
    }
}

/// Load `dir`'s snapshots2d.csv and draw its image panels into `path`.
pub fn images_for_run(dir: &Path, path: &Path, max: usize) -> Result<()> {
    let run = RunData::load(dir)?;
    if run.snapshots.first().is_none_or(|s| s.dims.len() != 2) {
        bail!(
            "{} has no snapshots2d.csv: it is not a 2D run (target kind = \"waves2d\"), or it stored no snapshots",
            dir.display()
        );
    }
    let label = crate::record::load::describe_optimizer(run.optimizer());
    let title = format!("2D fit: {} ({label})", run.name());
    let data = images_data(&run.snapshots, &title, max);
    images(path, &data)
}

struct ImagesFigure<'a>(&'a ImagesData);

/// A one-pixel black frame around `r`.
pub(super) fn frame<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: PixelRect) -> Result<()> {
    let pts = vec![
        (r.x0 - 1, r.y0 - 1),
        (r.x1, r.y0 - 1),
        (r.x1, r.y1),
        (r.x0 - 1, r.y1),
        (r.x0 - 1, r.y0 - 1),
    ];
    root.draw(&PathElement::new(pts, BLACK)).map_err(perr)
}

/// One image as a raster: `values[a * M + b]`, `a` horizontal, `b` up.
fn image_raster(values: &[f64], dims: [usize; 2], scale: &ColourScale, rect: PixelRect) -> Raster {
    // On a log scale exact zeros (e.g. empty spectrum bins) take the lowest colour.
    grid_raster(values, dims, rect, |v| {
        let v = if scale.log && v == 0.0 { scale.min } else { v };
        viridis(scale.unit(v))
    })
}

/// Grid values `values[a * M + b]` as a raster, `a` horizontal and `b` up, one pixel per grid
/// point (stretched onto `rect`), coloured by `colour`.
pub(super) fn grid_raster(
    values: &[f64],
    [n, m]: [usize; 2],
    rect: PixelRect,
    colour: impl Fn(f64) -> RGBColor,
) -> Raster {
    let mut rgb = vec![0u8; n * m * 3];
    for a in 0..n {
        for b in 0..m {
            let c = colour(values[a * m + b]);
            let o = ((m - 1 - b) * n + a) * 3;
            rgb[o..o + 3].copy_from_slice(&[c.0, c.1, c.2]);
        }
    }
    Raster {
        rect,
        data_w: n as u32,
        data_h: m as u32,
        rgb,
    }
}

/// The three row scales: values (linear), residual (linear, symmetric), power (log, 8
/// decades below the maximum).
pub fn row_scales(d: &ImagesData) -> [ColourScale; 3] {
    let values = d
        .target
        .iter()
        .chain(d.snapshots.iter().flat_map(|s| s.prediction.iter()));
    let (lo, hi) = super::style::lin_range(values).unwrap_or((-1.0, 1.0));
    let amax = d
        .snapshots
        .iter()
        .flat_map(|s| {
            s.prediction
                .iter()
                .zip(&d.target)
                .map(|(h, y)| (h - y).abs())
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let amax = if amax > 0.0 { amax } else { 1.0 };
    let pmax = d
        .target_power
        .iter()
        .chain(d.snapshots.iter().flat_map(|s| s.power.iter()))
        .filter(|v| v.is_finite())
        .fold(0.0, |a: f64, &b| a.max(b));
    let power = if pmax > 0.0 {
        let hi = 10f64.powf(pmax.log10().ceil());
        ColourScale::log(hi * 1e-8, hi)
    } else {
        ColourScale::log(1e-8, 1.0)
    };
    [
        ColourScale::linear(lo, hi),
        ColourScale::linear(-amax, amax),
        power,
    ]
}

impl Figure for ImagesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        images_size(self.0.snapshots.len())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        let (w, _) = self.size();
        text(
            root,
            &d.title,
            &bold(TITLE_PX),
            (w as i32 / 2, 14),
            HPos::Center,
            VPos::Top,
        )?;
        let scales = row_scales(d);
        let mut rasters = Vec::new();
        // Target column.
        let r = panel_rect(0, 0);
        rasters.push(image_raster(&d.target, d.dims, &scales[0], r));
        let r2 = panel_rect(2, 0);
        rasters.push(image_raster(&d.target_power, d.dims, &scales[2], r2));
        for (row, rect) in [(0, r), (2, r2)] {
            frame(root, rect)?;
            let _ = row;
        }
        text(
            root,
            "target",
            &bold(TICK_PX + 1.0),
            ((r.x0 + r.x1) / 2, r.y0 - 6),
            HPos::Center,
            VPos::Bottom,
        )?;
        let mid = panel_rect(1, 0);
        text(
            root,
            "(residual: none)",
            &font(TICK_PX - 2.0).color(&RGBColor(120, 120, 120)),
            ((mid.x0 + mid.x1) / 2, (mid.y0 + mid.y1) / 2),
            HPos::Center,
            VPos::Center,
        )?;
        let mut last_x1 = r.x1;
        for (c, s) in d.snapshots.iter().enumerate() {
            let col = c + 1;
            let residual: Vec<f64> = s
                .prediction
                .iter()
                .zip(&d.target)
                .map(|(h, y)| h - y)
                .collect();
            for (row, values) in [(0, &s.prediction), (1, &residual), (2, &s.power)] {
                let rect = panel_rect(row, col);
                rasters.push(image_raster(values, d.dims, &scales[row], rect));
                frame(root, rect)?;
                last_x1 = rect.x1;
            }
            let top = panel_rect(0, col);
            text(
                root,
                &format!("epoch {}", super::style::fmt_tick(s.epoch)),
                &bold(TICK_PX + 1.0),
                ((top.x0 + top.x1) / 2, top.y0 - 6),
                HPos::Center,
                VPos::Bottom,
            )?;
        }
        let labels = ["y (h or target)", "residual h - y", "power (log)"];
        for (row, (label, scale)) in labels.iter().zip(&scales).enumerate() {
            let p = panel_rect(row, 0);
            vtext(root, label, AXIS_PX - 3.0, (16, (p.y0 + p.y1) / 2))?;
            let bar = PixelRect {
                x0: last_x1 + CB_GAP,
                x1: last_x1 + CB_GAP + CB_W,
                y0: p.y0,
                y1: p.y1,
            };
            let cb_label = ["value", "h - y", "|X_k|^2/(NM)^2"][row];
            rasters.push(draw_colour_bar(root, scale, cb_label, bar)?);
        }
        draw_caption(
            root,
            &d.caption,
            20,
            TOP + 3 * (PANEL + ROW_GAP) + 2,
            w as i32 - 40,
        )?;
        Ok(rasters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(snaps: usize) -> ImagesData {
        let (n, m) = (8, 6);
        let target: Vec<f64> = (0..n * m).map(|i| (i as f64 * 0.3).sin()).collect();
        let snaps2: Vec<SnapshotData> = (0..snaps)
            .map(|e| SnapshotData {
                epoch: e as u64 * 10,
                dims: vec![n, m],
                t: Vec::new(),
                target: target.clone(),
                prediction: target.iter().map(|y| y * e as f64 / snaps as f64).collect(),
            })
            .collect();
        images_data(&snaps2, "test", 4)
    }

    #[test]
    fn png_has_the_layout_size_and_target_colours() {
        let tmp = tempfile::tempdir().unwrap();
        for snaps in [1usize, 3, 6] {
            let d = data(snaps);
            assert_eq!(d.snapshots.len(), snaps.min(4));
            let path = tmp.path().join(format!("i{snaps}.png"));
            images(&path, &d).unwrap();
            let decoder =
                png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), images_size(d.snapshots.len()));
            // The pixel at the centre of target cell (a, b) has the scale's colour.
            let scale = row_scales(&d)[0];
            let r = panel_rect(0, 0);
            let (a, b) = (5usize, 1usize);
            let px = r.x0 + ((a as f64 + 0.5) * PANEL as f64 / 8.0) as i32;
            let py = r.y0 + ((6 - 1 - b) as f64 + 0.5) as i32 * PANEL / 6 + PANEL / 12;
            let o = (py as usize * info.width as usize + px as usize) * 3;
            let c = viridis(scale.unit(d.target[a * 6 + b]));
            assert_eq!(&buf[o..o + 3], &[c.0, c.1, c.2], "snaps={snaps}");
        }
        let svg = tmp.path().join("i.svg");
        images(&svg, &data(2)).unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<image"));
    }

    #[test]
    fn bad_shapes_are_errors() {
        let mut d = data(2);
        d.snapshots[0].prediction.pop();
        let e = images(Path::new("x.png"), &d).unwrap_err().to_string();
        assert!(e.contains("epoch 0"), "{e}");
    }
}
