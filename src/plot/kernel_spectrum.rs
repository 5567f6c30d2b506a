//! The eigenvalue spectrum of the kernel theory overlay: one panel per configuration, log
//! eigenvalue against eigen-index, K_P's eigenvalues coloured by their eigenvector's dominant
//! band and K's (P = I) overlaid as grey rings, all panels on one shared scale. Eigenvalues
//! below `floor_ratio` x the largest (round-off, including the slightly negative ones) are
//! not drawn; the caption should say so.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::heatmap::draw_caption;
use super::style::{self, bold, fit_bold, font, perr, series_colour, text, AXIS_PX, CAPTION_PX};
use super::{render, Figure, Raster};

/// One configuration's spectra at one checkpoint.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpectrumPanel {
    /// Panel title, e.g. "padam p = 0.25, epoch 10".
    pub title: String,
    /// Eigenvalues of K_P, largest first.
    pub preconditioned: Vec<f64>,
    /// Dominant band (index into [`KernelSpectrumData::band_labels`]) of each K_P eigenvector.
    pub dominant: Vec<usize>,
    /// Eigenvalues of K (P = I), largest first.
    pub plain: Vec<f64>,
}

/// Everything the spectrum figure shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelSpectrumData {
    pub title: String,
    pub caption: String,
    /// Band labels, lowest band first.
    pub band_labels: Vec<String>,
    /// The catch-all band, drawn grey.
    pub rest_band: Option<usize>,
    /// Eigenvalues below this fraction of the panel's largest are not drawn.
    pub floor_ratio: f64,
    pub panels: Vec<SpectrumPanel>,
}

/// (1-based eigen-index, eigenvalue) points of one spectrum.
type Points = Vec<(f64, f64)>;

const COLS_MAX: usize = 3;
const CELL_W: i32 = 330;
const CELL_H: i32 = 330;
const LEFT: i32 = 34;
const TOP: i32 = 56;
const PANEL_TITLE: i32 = 28;
const Y_AREA: u32 = 62;
const X_AREA: u32 = 50;
const GAP_Y: i32 = 12;
const LEGEND_W: i32 = 200;
const CAPTION_AREA: i32 = 74;
const REST_GREY: RGBColor = RGBColor(150, 150, 150);
const PLAIN_GREY: RGBColor = RGBColor(40, 40, 40);
const DOT_R: i32 = 4;
const RING_R: i32 = 6;

/// Colour of band `b` of `n` (the rest band grey).
pub fn band_colour(b: usize, n: usize, rest: Option<usize>) -> RGBColor {
    if Some(b) == rest {
        return REST_GREY;
    }
    let n_coloured = n - usize::from(rest.is_some_and(|r| r < n));
    let i = if rest.is_some_and(|r| r < b) {
        b - 1
    } else {
        b
    };
    series_colour(i, n_coloured)
}

/// The points of one spectrum drawn on a log axis: (1-based index, eigenvalue) for every
/// eigenvalue at least `floor_ratio` x the largest.
pub fn drawn_points(eigenvalues: &[f64], floor_ratio: f64) -> Vec<(f64, f64)> {
    let top = eigenvalues.iter().copied().fold(f64::NAN, f64::max);
    if !(top.is_finite() && top > 0.0) {
        return Vec::new();
    }
    eigenvalues
        .iter()
        .enumerate()
        .filter(|(_, &l)| l.is_finite() && l >= floor_ratio * top && l > 0.0)
        .map(|(i, &l)| ((i + 1) as f64, l))
        .collect()
}

/// Draw `data` into `path` (.png or .svg). Errors on no panels, mismatched dominant-band
/// lengths or band indices, or no positive eigenvalue.
pub fn kernel_spectrum(path: &Path, data: &KernelSpectrumData) -> Result<()> {
    super::Format::from_path(path)?;
    if data.panels.is_empty() {
        bail!("spectrum figure {:?}: no panels to draw", data.title);
    }
    for p in &data.panels {
        if p.dominant.len() != p.preconditioned.len() {
            bail!(
                "spectrum figure {:?}: panel {:?} has {} eigenvalues but {} dominant bands",
                data.title,
                p.title,
                p.preconditioned.len(),
                p.dominant.len()
            );
        }
        if let Some(b) = p.dominant.iter().find(|&&b| b >= data.band_labels.len()) {
            bail!(
                "spectrum figure {:?}: panel {:?} names band {b} but there are {} band labels",
                data.title,
                p.title,
                data.band_labels.len()
            );
        }
    }
    if data
        .panels
        .iter()
        .all(|p| drawn_points(&p.preconditioned, data.floor_ratio).is_empty())
    {
        bail!(
            "spectrum figure {:?}: no positive eigenvalue to draw on a log axis",
            data.title
        );
    }
    render(path, &SpectrumFigure(data))
}

struct SpectrumFigure<'a>(&'a KernelSpectrumData);

impl SpectrumFigure<'_> {
    fn grid(&self) -> (usize, usize) {
        let n = self.0.panels.len();
        let cols = n.clamp(1, COLS_MAX);
        (cols, n.div_ceil(cols))
    }

    /// Panel cell size: one panel alone gets a larger cell (room for title and caption).
    fn cell(&self) -> (i32, i32) {
        if self.0.panels.len() == 1 {
            (640, 420)
        } else {
            (CELL_W, CELL_H)
        }
    }
}

impl Figure for SpectrumFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let (cols, rows) = self.grid();
        let (cell_w, cell_h) = self.cell();
        (
            (LEFT + cols as i32 * cell_w + LEGEND_W) as u32,
            (TOP + rows as i32 * (cell_h + GAP_Y) + CAPTION_AREA) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        let (w, h) = self.size();
        let (cols, rows) = self.grid();
        let (cell_w, cell_h) = self.cell();
        style::title(root, &d.title, w)?;
        // Per panel: the drawn (index, eigenvalue) points of K_P and of K.
        let pts: Vec<(Points, Points)> = d
            .panels
            .iter()
            .map(|p| {
                (
                    drawn_points(&p.preconditioned, d.floor_ratio),
                    drawn_points(&p.plain, d.floor_ratio),
                )
            })
            .collect();
        let ys: Vec<f64> = pts
            .iter()
            .flat_map(|(a, b)| a.iter().chain(b).map(|p| p.1))
            .collect();
        let (ylo, yhi) = style::log_range(&ys).unwrap_or((1e-12, 1.0));
        let xmax = pts
            .iter()
            .flat_map(|(a, b)| a.iter().chain(b).map(|p| p.0))
            .fold(1.0, f64::max);
        let n_bands = d.band_labels.len();
        for (k, (p, (kp, plain))) in d.panels.iter().zip(&pts).enumerate() {
            let (c, r) = ((k % cols) as i32, (k / cols) as i32);
            let (x0, y0) = (LEFT + c * cell_w, TOP + r * (cell_h + GAP_Y));
            text(
                root,
                &p.title,
                &fit_bold(root, &p.title, CAPTION_PX + 1.0, (cell_w - 20) as u32),
                (x0 + Y_AREA as i32 + (cell_w - Y_AREA as i32) / 2, y0 + 4),
                HPos::Center,
                VPos::Top,
            )?;
            let area = root.clone().shrink(
                (x0, y0 + PANEL_TITLE),
                ((cell_w - 14) as u32, (cell_h - PANEL_TITLE) as u32),
            );
            let mut chart = style::log_y_chart(
                &area,
                (0.0, xmax + 1.0),
                (ylo, yhi),
                "eigen-index (1 = largest)",
                (X_AREA, Y_AREA),
            )?;
            chart
                .draw_series(
                    plain
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), RING_R, PLAIN_GREY.stroke_width(1))),
                )
                .map_err(perr)?;
            chart
                .draw_series(kp.iter().map(|&(x, y)| {
                    let b = p.dominant[x as usize - 1];
                    Circle::new((x, y), DOT_R, band_colour(b, n_bands, d.rest_band).filled())
                }))
                .map_err(perr)?;
        }
        // The shared y title, centred on the grid.
        let grid_mid = TOP + rows as i32 * (cell_h + GAP_Y) / 2;
        style::vtext(
            root,
            "eigenvalue λ (fall per update lr_eff·λ)",
            AXIS_PX,
            (14, grid_mid),
        )?;
        let lx = LEFT + cols as i32 * cell_w + 8;
        text(
            root,
            "K_P, dominant band",
            &bold(CAPTION_PX),
            (lx, TOP + PANEL_TITLE),
            HPos::Left,
            VPos::Top,
        )?;
        // Marker legend: a dot per band (K_P), a ring for K.
        let row = (CAPTION_PX * 1.5) as i32;
        let y0 = TOP + PANEL_TITLE + 24;
        for b in 0..n_bands {
            let cy = y0 + row * b as i32 + row / 2;
            root.draw(&Circle::new(
                (lx + 8, cy),
                DOT_R,
                band_colour(b, n_bands, d.rest_band).filled(),
            ))
            .map_err(perr)?;
            text(
                root,
                &d.band_labels[b],
                &font(CAPTION_PX),
                (lx + 24, cy),
                HPos::Left,
                VPos::Center,
            )?;
        }
        let cy = y0 + row * n_bands as i32 + row;
        root.draw(&Circle::new(
            (lx + 8, cy),
            RING_R,
            PLAIN_GREY.stroke_width(1),
        ))
        .map_err(perr)?;
        text(
            root,
            "K (P = I)",
            &font(CAPTION_PX),
            (lx + 24, cy),
            HPos::Left,
            VPos::Center,
        )?;
        draw_caption(
            root,
            &d.caption,
            20,
            h as i32 - CAPTION_AREA + 8,
            w as i32 - 40,
        )?;
        Ok(vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_above_the_floor_only_one_based() {
        let p = drawn_points(&[10.0, 1.0, 1e-12, -1e-15, f64::NAN], 1e-6);
        assert_eq!(p, vec![(1.0, 10.0), (2.0, 1.0)]);
        assert!(drawn_points(&[-1.0, 0.0], 1e-6).is_empty());
    }

    #[test]
    fn rest_band_is_grey_and_others_follow_the_series_colours() {
        assert_eq!(band_colour(2, 3, Some(2)), REST_GREY);
        assert_eq!(band_colour(0, 3, Some(2)), series_colour(0, 2));
        assert_eq!(band_colour(1, 3, Some(2)), series_colour(1, 2));
        assert_eq!(band_colour(1, 2, None), series_colour(1, 2));
    }
}
