//! Maps of a per-configuration quantity over a two-parameter grid (e.g. p x lr): one panel
//! per quantity (preference index, final test loss), each with its own colour scale fitted to
//! the cells it shows. Every cell prints its value; a cell whose seeds all diverged is grey
//! and says so (never coloured as a number), a cell with some diverged seeds says how many.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::colourmap::{luminance, ColourScale, NAN_GREY};
use super::heatmap::draw_caption;
use super::style::{bold, fmt_tick, font, perr, text, vtext, AXIS_PX, CAPTION_PX, TICK_PX};
use super::{render, Figure, Raster};

/// One cell: the mean over the seeds that completed, how many did, how many diverged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapCell {
    /// NaN = undefined (no completed seed, or the quantity is undefined).
    pub mean: f64,
    pub n: usize,
    pub n_diverged: usize,
}

impl MapCell {
    /// No grid point was run here.
    pub const EMPTY: MapCell = MapCell {
        mean: f64::NAN,
        n: 0,
        n_diverged: 0,
    };
}

/// One quantity over the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct MapPanel {
    pub title: String,
    /// Colour-bar title, with units.
    pub colour_label: String,
    /// Log colour scale (positive quantities spanning decades, e.g. a loss).
    pub log: bool,
    /// cells[row][col]: rows follow `y_ticks`, columns `x_ticks`.
    pub cells: Vec<Vec<MapCell>>,
}

/// Everything a grid map shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridMapData {
    pub title: String,
    pub caption: String,
    pub x_label: String,
    pub y_label: String,
    pub x_ticks: Vec<String>,
    pub y_ticks: Vec<String>,
    pub panels: Vec<MapPanel>,
}

const TOP: i32 = 62;
const PANEL_TITLE: i32 = 34;
const LEFT: i32 = 130;
const CELL_W: i32 = 96;
const CELL_H: i32 = 62;
const X_AREA: i32 = 92;
const CB_GAP: i32 = 18;
const CB_W: i32 = 22;
const CB_RIGHT: i32 = 110;
const GAP: i32 = 30;

/// The colour scale of a panel, fitted to its defined cells (exactly their min and max, so it
/// spans no range the data do not occupy), and the colour-bar note saying so.
pub fn panel_scale(p: &MapPanel) -> (ColourScale, String) {
    let vals: Vec<f64> = p
        .cells
        .iter()
        .flatten()
        .map(|c| c.mean)
        .filter(|v| v.is_finite() && (!p.log || *v > 0.0))
        .collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return (ColourScale::linear(0.0, 1.0), "no defined cell".into());
    }
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if p.log {
        (lo / 1.5, hi * 1.5)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let scale = if p.log {
        ColourScale::log(lo, hi)
    } else {
        ColourScale::linear(lo, hi)
    };
    let kind = if p.log { "log" } else { "linear" };
    (
        scale,
        format!(
            "{kind} scale, data range {} .. {}",
            fmt_val(lo),
            fmt_val(hi)
        ),
    )
}

fn fmt_val(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e4) {
        format!("{v:.1e}")
    } else {
        format!("{v:.2}")
    }
}

/// Draw `data` into `path` (.png or .svg). Errors on no panels, an empty grid or cells that do
/// not match the ticks.
pub fn grid_map(path: &Path, data: &GridMapData) -> Result<()> {
    super::Format::from_path(path)?;
    let (nx, ny) = (data.x_ticks.len(), data.y_ticks.len());
    if data.panels.is_empty() || nx == 0 || ny == 0 {
        bail!(
            "grid map {:?}: needs at least one panel and a non-empty grid (got {} panels, {nx} x {ny})",
            data.title,
            data.panels.len()
        );
    }
    for p in &data.panels {
        if p.cells.len() != ny || p.cells.iter().any(|r| r.len() != nx) {
            bail!(
                "grid map {:?}: panel {:?} cells are not {ny} rows x {nx} columns (the tick counts)",
                data.title,
                p.title
            );
        }
    }
    render(path, &MapFigure(data))
}

struct MapFigure<'a>(&'a GridMapData);

impl MapFigure<'_> {
    fn panel_w(&self) -> i32 {
        LEFT + self.0.x_ticks.len() as i32 * CELL_W + CB_GAP + CB_W + CB_RIGHT
    }
}

impl Figure for MapFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.0.panels.len() as i32;
        let w = n * self.panel_w() + (n - 1) * GAP + 20;
        let cells_h = self.0.y_ticks.len() as i32 * CELL_H;
        let lines =
            (self.0.caption.chars().count() as f64 / ((w as f64 - 40.0) / 8.0)).ceil() as i32 + 1;
        let cap = (lines as f64 * CAPTION_PX * 1.35) as i32 + 14;
        (
            w.max(700) as u32,
            (TOP + PANEL_TITLE + cells_h + X_AREA + cap) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        let (w, _) = self.size();
        super::style::title(root, &d.title, w)?;
        let (nx, ny) = (d.x_ticks.len() as i32, d.y_ticks.len() as i32);
        for (pi, p) in d.panels.iter().enumerate() {
            let x0 = 10 + pi as i32 * (self.panel_w() + GAP);
            let cx0 = x0 + LEFT;
            let cy0 = TOP + PANEL_TITLE;
            text(
                root,
                &p.title,
                &bold(AXIS_PX),
                (cx0 + nx * CELL_W / 2, TOP + 4),
                HPos::Center,
                VPos::Top,
            )?;
            let (scale, note) = panel_scale(p);
            for (r, row) in p.cells.iter().enumerate() {
                // Row 0 at the bottom (smallest y tick lowest, as on an axis).
                let y = cy0 + (ny - 1 - r as i32) * CELL_H;
                for (c, cell) in row.iter().enumerate() {
                    let x = cx0 + c as i32 * CELL_W;
                    let all_diverged = cell.n == 0 && cell.n_diverged > 0;
                    let defined = cell.mean.is_finite() && !all_diverged;
                    let fill = if defined {
                        scale.colour(cell.mean)
                    } else {
                        NAN_GREY
                    };
                    root.draw(&Rectangle::new(
                        [(x, y), (x + CELL_W, y + CELL_H)],
                        fill.filled(),
                    ))
                    .map_err(perr)?;
                    root.draw(&Rectangle::new(
                        [(x, y), (x + CELL_W, y + CELL_H)],
                        WHITE.stroke_width(1),
                    ))
                    .map_err(perr)?;
                    let ink = if luminance(fill) > 0.35 { BLACK } else { WHITE };
                    let (line1, line2) = if all_diverged {
                        (
                            "diverged".to_string(),
                            format!("{}/{}", cell.n_diverged, cell.n_diverged),
                        )
                    } else if !defined {
                        let l = if cell.n == 0 { "not run" } else { "undefined" };
                        (l.to_string(), String::new())
                    } else if cell.n_diverged > 0 {
                        (fmt_val(cell.mean), format!("{} div.", cell.n_diverged))
                    } else {
                        (fmt_val(cell.mean), String::new())
                    };
                    if all_diverged {
                        // Diagonal hatch: no number here.
                        root.draw(&PathElement::new(
                            vec![(x + 4, y + CELL_H - 4), (x + CELL_W - 4, y + 4)],
                            RGBColor(150, 150, 150).stroke_width(1),
                        ))
                        .map_err(perr)?;
                    }
                    let mid = y + CELL_H / 2;
                    let dy = if line2.is_empty() { 0 } else { 10 };
                    text(
                        root,
                        &line1,
                        &font(TICK_PX).color(&ink),
                        (x + CELL_W / 2, mid - dy),
                        HPos::Center,
                        VPos::Center,
                    )?;
                    if !line2.is_empty() {
                        text(
                            root,
                            &line2,
                            &font(CAPTION_PX - 1.0).color(&ink),
                            (x + CELL_W / 2, mid + 11),
                            HPos::Center,
                            VPos::Center,
                        )?;
                    }
                }
            }
            for (i, t) in d.x_ticks.iter().enumerate() {
                text(
                    root,
                    t,
                    &font(TICK_PX),
                    (cx0 + i as i32 * CELL_W + CELL_W / 2, cy0 + ny * CELL_H + 6),
                    HPos::Center,
                    VPos::Top,
                )?;
            }
            text(
                root,
                &d.x_label,
                &font(AXIS_PX),
                (cx0 + nx * CELL_W / 2, cy0 + ny * CELL_H + 32),
                HPos::Center,
                VPos::Top,
            )?;
            for (i, t) in d.y_ticks.iter().enumerate() {
                let y = cy0 + (ny - 1 - i as i32) * CELL_H + CELL_H / 2;
                text(
                    root,
                    t,
                    &font(TICK_PX),
                    (cx0 - 8, y),
                    HPos::Right,
                    VPos::Center,
                )?;
            }
            vtext(root, &d.y_label, AXIS_PX, (x0 + 18, cy0 + ny * CELL_H / 2))?;
            // Colour bar (drawn as thin rectangles) with ticks at the ends and middle.
            let bx = cx0 + nx * CELL_W + CB_GAP;
            let bh = ny * CELL_H;
            let steps = 64;
            for s in 0..steps {
                let t0 = s as f64 / steps as f64;
                let yb = cy0 + bh - ((s + 1) * bh) / steps;
                let ye = cy0 + bh - (s * bh) / steps;
                root.draw(&Rectangle::new(
                    [(bx, yb), (bx + CB_W, ye)],
                    super::colourmap::viridis(t0 + 0.5 / steps as f64).filled(),
                ))
                .map_err(perr)?;
            }
            root.draw(&Rectangle::new(
                [(bx, cy0), (bx + CB_W, cy0 + bh)],
                BLACK.stroke_width(1),
            ))
            .map_err(perr)?;
            for t in [0.0, 0.5, 1.0] {
                let v = if scale.log {
                    10f64.powf(scale.min.log10() + t * (scale.max.log10() - scale.min.log10()))
                } else {
                    scale.min + t * (scale.max - scale.min)
                };
                let y = cy0 + bh - (t * bh as f64) as i32;
                text(
                    root,
                    &fmt_tick_short(v),
                    &font(CAPTION_PX),
                    (bx + CB_W + 4, y),
                    HPos::Left,
                    VPos::Center,
                )?;
            }
            vtext(
                root,
                &p.colour_label,
                CAPTION_PX,
                (bx + CB_W + 86, cy0 + bh / 2),
            )?;
            text(
                root,
                &format!("colour: {note}"),
                &font(CAPTION_PX).color(&RGBColor(60, 60, 60)),
                (cx0 + nx * CELL_W / 2, cy0 + ny * CELL_H + 58),
                HPos::Center,
                VPos::Top,
            )?;
        }
        let cap_y = TOP + PANEL_TITLE + ny * CELL_H + X_AREA;
        draw_caption(root, &d.caption, 20, cap_y, w as i32 - 40)?;
        Ok(vec![])
    }
}

fn fmt_tick_short(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e4) {
        format!("{v:.1e}")
    } else {
        fmt_tick((v * 100.0).round() / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(mean: f64) -> MapCell {
        MapCell {
            mean,
            n: 2,
            n_diverged: 0,
        }
    }

    #[test]
    fn scale_fits_the_defined_cells_only() {
        let p = MapPanel {
            title: "loss".into(),
            colour_label: "loss".into(),
            log: true,
            cells: vec![
                vec![cell(2e-3), cell(5e-3)],
                vec![
                    cell(4e-2),
                    MapCell {
                        mean: f64::NAN,
                        n: 0,
                        n_diverged: 2,
                    },
                ],
            ],
        };
        let (s, note) = panel_scale(&p);
        assert!(s.log && (s.min - 2e-3).abs() < 1e-15 && (s.max - 4e-2).abs() < 1e-15);
        assert!(
            note.contains("log scale") && note.contains("2.0e-3"),
            "{note}"
        );
        let lin = MapPanel {
            log: false,
            cells: vec![vec![cell(-0.2), cell(0.7)]],
            ..p
        };
        let (s, _) = panel_scale(&lin);
        assert_eq!((s.min, s.max, s.log), (-0.2, 0.7, false));
    }
}
