//! Class maps of 2D classification runs: one row per run (a configuration at one seed), the
//! true classes of the training grid in the first column, then the predicted class (argmax of
//! the network's output) at a few snapshot epochs, each headed by its epoch and the share of
//! grid points whose predicted class is the true one. Classes take categorical colours
//! (Okabe-Ito), explained by a legend. Images put `x` horizontal and `y` up, one cell per
//! grid point.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::heatmap::{draw_caption, PixelRect};
use super::images::{frame, grid_raster, pick_evenly};
use super::style::{bold, font, perr, qualitative, text, CAPTION_PX, TICK_PX};
use super::{render, Figure, Raster};
use crate::record::load::SnapshotData;

/// The colour of cells whose stored class is not a class index (missing or out of range).
const NO_CLASS: RGBColor = RGBColor(190, 190, 190);

/// One row: one run's true classes and its predicted classes at some epochs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassMapRow {
    /// Row heading (configuration and seed).
    pub label: String,
    /// True class per grid point, row-major `[i * M + j]`.
    pub truth: Vec<f64>,
    /// (epoch, predicted class per grid point).
    pub snapshots: Vec<(f64, Vec<f64>)>,
}

/// Everything a class-map figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassMapsData {
    pub title: String,
    pub caption: String,
    /// Grid `[N, M]` (x, y).
    pub dims: [usize; 2],
    /// Number of classes K (classes are 0..K).
    pub classes: usize,
    pub rows: Vec<ClassMapRow>,
}

/// Share of points whose predicted class equals the true one (NaN for no points).
pub fn agreement(predicted: &[f64], truth: &[f64]) -> f64 {
    if predicted.is_empty() || predicted.len() != truth.len() {
        return f64::NAN;
    }
    let same = predicted.iter().zip(truth).filter(|(p, t)| p == t).count();
    same as f64 / predicted.len() as f64
}

/// The row of one 2D classification run's snapshots (true classes from the first snapshot,
/// predictions at up to `max` snapshot epochs, evenly picked, always the first and the last).
pub fn class_map_row(snaps: &[SnapshotData], label: &str, max: usize) -> ClassMapRow {
    ClassMapRow {
        label: label.to_string(),
        truth: snaps.first().map(|s| s.target.clone()).unwrap_or_default(),
        snapshots: pick_evenly(snaps.len(), max)
            .into_iter()
            .map(|i| (snaps[i].epoch as f64, snaps[i].prediction.clone()))
            .collect(),
    }
}

const PANEL: i32 = 150;
const GAP: i32 = 14;
const LEFT: i32 = 24;
const TOP: i32 = 60;
/// Row heading plus the two-line panel headings above each row of panels.
const ROW_HEAD: i32 = 70;
const ROW_GAP: i32 = 14;
const LEGEND_H: i32 = 34;
const CAPTION_AREA: i32 = 120;

fn columns(d: &ClassMapsData) -> usize {
    1 + d.rows.iter().map(|r| r.snapshots.len()).max().unwrap_or(0)
}

/// Figure size `(width, height)` in pixels.
pub fn class_maps_size(d: &ClassMapsData) -> (u32, u32) {
    let w = 2 * LEFT + columns(d) as i32 * (PANEL + GAP);
    let h = TOP + d.rows.len() as i32 * (ROW_HEAD + PANEL + ROW_GAP) + LEGEND_H + CAPTION_AREA;
    (w.max(900) as u32, h as u32)
}

/// The pixel rectangle of panel (`row`, `col`); column 0 is the true class map.
pub fn class_panel_rect(row: usize, col: usize) -> PixelRect {
    let x0 = LEFT + col as i32 * (PANEL + GAP);
    let y0 = TOP + ROW_HEAD + row as i32 * (ROW_HEAD + PANEL + ROW_GAP);
    PixelRect {
        x0,
        y0,
        x1: x0 + PANEL,
        y1: y0 + PANEL,
    }
}

/// The colour of class value `v` among `k` classes.
pub fn class_colour(v: f64, k: usize) -> RGBColor {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && (v as usize) < k {
        qualitative(v as usize)
    } else {
        NO_CLASS
    }
}

/// Draw `data` into `path` (.png or .svg).
pub fn class_maps(path: &Path, data: &ClassMapsData) -> Result<()> {
    super::Format::from_path(path)?;
    let [n, m] = data.dims;
    let name = &data.title;
    if n == 0 || m == 0 {
        bail!("class maps {name:?}: empty grid {n} x {m}");
    }
    if data.classes == 0 || data.classes > 7 {
        bail!(
            "class maps {name:?}: {} classes; the categorical palette has colours for 1 to 7",
            data.classes
        );
    }
    if data.rows.is_empty() {
        bail!("class maps {name:?}: no runs to draw");
    }
    for r in &data.rows {
        if r.truth.len() != n * m {
            bail!(
                "class maps {name:?}: the true classes of {:?} do not have {n} x {m} values",
                r.label
            );
        }
        if r.snapshots.is_empty() {
            bail!("class maps {name:?}: {:?} has no snapshots", r.label);
        }
        for (e, p) in &r.snapshots {
            if p.len() != n * m {
                bail!(
                    "class maps {name:?}: {:?} at epoch {e} does not have {n} x {m} values",
                    r.label
                );
            }
        }
    }
    render(path, &ClassMapsFigure(data))
}

struct ClassMapsFigure<'a>(&'a ClassMapsData);

impl Figure for ClassMapsFigure<'_> {
    fn size(&self) -> (u32, u32) {
        class_maps_size(self.0)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        let (w, _) = self.size();
        let k = d.classes;
        super::style::title(root, &d.title, w)?;
        let mut rasters = Vec::new();
        let head = bold(TICK_PX - 1.0);
        for (row, r) in d.rows.iter().enumerate() {
            let first = class_panel_rect(row, 0);
            text(
                root,
                &r.label,
                &bold(TICK_PX + 2.0),
                (first.x0, first.y0 - ROW_HEAD + 4),
                HPos::Left,
                VPos::Top,
            )?;
            let panels = std::iter::once(("true classes".to_string(), String::new(), &r.truth))
                .chain(r.snapshots.iter().map(|(e, p)| {
                    (
                        format!("epoch {}", super::style::fmt_tick(*e)),
                        format!("{:.0}% correct", 100.0 * agreement(p, &r.truth)),
                        p,
                    )
                }));
            for (col, (heading, share, values)) in panels.enumerate() {
                let rect = class_panel_rect(row, col);
                rasters.push(grid_raster(values, d.dims, rect, |v| class_colour(v, k)));
                frame(root, rect)?;
                let x = (rect.x0 + rect.x1) / 2;
                text(
                    root,
                    &heading,
                    &head,
                    (x, rect.y0 - 24),
                    HPos::Center,
                    VPos::Bottom,
                )?;
                text(
                    root,
                    &share,
                    &font(TICK_PX - 2.0),
                    (x, rect.y0 - 5),
                    HPos::Center,
                    VPos::Bottom,
                )?;
            }
        }
        // Legend: one swatch per class.
        let y = TOP + d.rows.len() as i32 * (ROW_HEAD + PANEL + ROW_GAP) + 6;
        let mut x = LEFT;
        for c in 0..k {
            root.draw(&Rectangle::new(
                [(x, y), (x + 18, y + 18)],
                qualitative(c).filled(),
            ))
            .map_err(perr)?;
            let label = format!("class {c}");
            text(
                root,
                &label,
                &font(CAPTION_PX),
                (x + 24, y + 9),
                HPos::Left,
                VPos::Center,
            )?;
            x += 24 + 10 * label.len() as i32 + 24;
        }
        draw_caption(root, &d.caption, LEFT, y + LEGEND_H, w as i32 - 2 * LEFT)?;
        Ok(rasters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> ClassMapsData {
        let (n, m) = (6, 4);
        let truth: Vec<f64> = (0..n * m).map(|i| (i % 3) as f64).collect();
        let mut half = truth.clone();
        for v in half.iter_mut().take(12) {
            *v = 0.0;
        }
        ClassMapsData {
            title: "test".into(),
            caption: "caption".into(),
            dims: [n, m],
            classes: 3,
            rows: vec![ClassMapRow {
                label: "run".into(),
                truth: truth.clone(),
                snapshots: vec![(0.0, vec![0.0; n * m]), (10.0, half), (20.0, truth)],
            }],
        }
    }

    #[test]
    fn agreement_counts_equal_classes() {
        assert_eq!(
            agreement(&[0.0, 1.0, 2.0, 2.0], &[0.0, 1.0, 1.0, 2.0]),
            0.75
        );
        assert!(agreement(&[], &[]).is_nan());
        assert!(agreement(&[0.0], &[0.0, 1.0]).is_nan());
        let d = data();
        let r = &d.rows[0];
        // Truth cycles 0, 1, 2: a map of zeros is right on a third of the points.
        assert!((agreement(&r.snapshots[0].1, &r.truth) - 1.0 / 3.0).abs() < 1e-12);
        // The first 12 points set to 0 are wrong on the 8 of them whose class is 1 or 2.
        assert!((agreement(&r.snapshots[1].1, &r.truth) - 16.0 / 24.0).abs() < 1e-12);
        assert_eq!(agreement(&r.snapshots[2].1, &r.truth), 1.0);
    }

    #[test]
    fn class_map_row_picks_first_and_last_snapshots() {
        let snaps: Vec<SnapshotData> = (0..7)
            .map(|e| SnapshotData {
                epoch: 10 * e,
                dims: vec![2, 2],
                t: Vec::new(),
                target: vec![0.0, 1.0, 2.0, 0.0],
                prediction: vec![e as f64 % 3.0; 4],
            })
            .collect();
        let r = class_map_row(&snaps, "x", 4);
        let epochs: Vec<f64> = r.snapshots.iter().map(|s| s.0).collect();
        assert_eq!(epochs, vec![0.0, 20.0, 40.0, 60.0]);
        assert_eq!(r.truth, vec![0.0, 1.0, 2.0, 0.0]);
    }

    #[test]
    fn png_cells_have_their_class_colour() {
        let tmp = tempfile::tempdir().unwrap();
        let d = data();
        let path = tmp.path().join("c.png");
        class_maps(&path, &d).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), class_maps_size(&d));
        // Centre of cell (a, b) of the true map (column 0) and of the last snapshot (column 3).
        let (n, m) = (6usize, 4usize);
        for col in [0usize, 3] {
            let r = class_panel_rect(0, col);
            for (a, b) in [(0usize, 0usize), (4, 3), (5, 1)] {
                let px = r.x0 + ((a as f64 + 0.5) * PANEL as f64 / n as f64) as i32;
                let py = r.y0 + (((m - 1 - b) as f64 + 0.5) * PANEL as f64 / m as f64) as i32;
                let o = (py as usize * info.width as usize + px as usize) * 3;
                let c = qualitative((a * m + b) % 3);
                assert_eq!(
                    &buf[o..o + 3],
                    &[c.0, c.1, c.2],
                    "col {col} cell ({a}, {b})"
                );
            }
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        let mut d = data();
        d.rows[0].snapshots[1].1.pop();
        let e = class_maps(Path::new("x.png"), &d).unwrap_err().to_string();
        assert!(e.contains("epoch 10"), "{e}");
        let mut d = data();
        d.classes = 9;
        assert!(class_maps(Path::new("x.png"), &d).is_err());
        assert_eq!(class_colour(3.0, 3), NO_CLASS);
        assert_eq!(class_colour(f64::NAN, 3), NO_CLASS);
        assert_eq!(class_colour(2.0, 3), qualitative(2));
    }
}
