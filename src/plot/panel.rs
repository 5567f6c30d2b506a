//! A grid of heatmaps (e.g. one per p of the PAdam family, plus the cyclic schedule) that
//! share ONE colour scale and ONE colour bar, each panel titled with its configuration.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::colourmap::ColourScale;
use super::heatmap::{
    downsample_note, draw_block, draw_caption, draw_colour_bar, validate, BlockGeom, BlockStyle,
    HeatmapData, PixelRect,
};
use super::style::{bold, TICK_PX};
use super::{render, Figure, Raster};

const COLS_MAX: usize = 3;
const LEFT: i32 = 150;
const PLOT_W: i32 = 330;
const GAP_X: i32 = 24;
const TOP: i32 = 56;
const PANEL_TITLE: i32 = 30;
const STRIP_H: i32 = 48;
const STRIP_GAP: i32 = 10;
const CELLS_H: i32 = 300;
const X_LABEL_AREA: i32 = 54;
const GAP_Y: i32 = 18;
const CB_W: i32 = 24;
const RIGHT: i32 = 175;
const CAPTION_AREA: i32 = 70;

/// Draw `panels` as a grid (up to 3 per row) into `path` (.png or .svg), all coloured by
/// `scale`, with one colour bar labelled by the first panel's `value_label`, and the figure
/// title `title`. Each panel's own `title` names its configuration (e.g. "p = 0.25"); the
/// distinct panel captions are printed once under the grid.
pub fn panel(path: &Path, panels: &[HeatmapData], scale: &ColourScale, title: &str) -> Result<()> {
    super::Format::from_path(path)?;
    scale.validate()?;
    if panels.is_empty() {
        bail!("panel {title:?}: no heatmaps to draw (panels is empty)");
    }
    for p in panels {
        validate(p)?;
    }
    let cols = panels.len().min(COLS_MAX);
    let rows = panels.len().div_ceil(cols);
    let n_strips = panels.iter().map(|p| p.strips.len()).max().unwrap_or(0) as i32;
    let block_h = PANEL_TITLE + n_strips * (STRIP_H + STRIP_GAP) + CELLS_H + X_LABEL_AREA + GAP_Y;
    let w = cols as i32 * (LEFT + PLOT_W + GAP_X) + RIGHT;
    let h = TOP + rows as i32 * block_h + CAPTION_AREA;
    render(
        path,
        &PanelFigure {
            panels,
            scale,
            title,
            cols,
            n_strips,
            block_h,
            size: (w as u32, h as u32),
        },
    )
}

struct PanelFigure<'a> {
    panels: &'a [HeatmapData],
    scale: &'a ColourScale,
    title: &'a str,
    cols: usize,
    n_strips: i32,
    block_h: i32,
    size: (u32, u32),
}

impl Figure for PanelFigure<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let (w, h) = (self.size.0 as i32, self.size.1 as i32);
        super::style::title(root, self.title, w as u32)?;
        let mut rasters = Vec::new();
        let mut per_col = 1;
        let rows = self.panels.len().div_ceil(self.cols);
        for (i, d) in self.panels.iter().enumerate() {
            let (r, c) = ((i / self.cols) as i32, (i % self.cols) as i32);
            let x0 = c * (LEFT + PLOT_W + GAP_X) + LEFT;
            let y0 = TOP + r * self.block_h;
            super::style::text(
                root,
                &d.title,
                &bold(TICK_PX + 1.0),
                (x0 + PLOT_W / 2, y0 + 4),
                HPos::Center,
                VPos::Top,
            )?;
            let strips: Vec<PixelRect> = (0..d.strips.len() as i32)
                .map(|k| {
                    let sy = y0 + PANEL_TITLE + k * (STRIP_H + STRIP_GAP);
                    PixelRect {
                        x0,
                        x1: x0 + PLOT_W,
                        y0: sy,
                        y1: sy + STRIP_H,
                    }
                })
                .collect();
            let cy = y0 + PANEL_TITLE + self.n_strips * (STRIP_H + STRIP_GAP);
            let geom = BlockGeom {
                strips,
                cells: PixelRect {
                    x0,
                    x1: x0 + PLOT_W,
                    y0: cy,
                    y1: cy + CELLS_H,
                },
                left: LEFT,
                x_label_area: X_LABEL_AREA,
            };
            let style = BlockStyle {
                band_labels: true,
                y_desc: c == 0,
                x_desc: r as usize == rows - 1 || i + self.cols >= self.panels.len(),
            };
            let (raster, k) = draw_block(root, d, self.scale, &geom, &style)?;
            per_col = per_col.max(k);
            rasters.push(raster);
        }
        let grid_bottom = TOP + rows as i32 * self.block_h - GAP_Y;
        let bar = PixelRect {
            x0: w - RIGHT + 20,
            x1: w - RIGHT + 20 + CB_W,
            y0: TOP + PANEL_TITLE,
            y1: grid_bottom - X_LABEL_AREA,
        };
        rasters.push(draw_colour_bar(
            root,
            self.scale,
            &self.panels[0].value_label,
            bar,
        )?);
        let mut captions: Vec<&str> = Vec::new();
        for p in self.panels {
            if !p.caption.is_empty() && !captions.contains(&p.caption.as_str()) {
                captions.push(&p.caption);
            }
        }
        let mut caption = captions.join(" ");
        if let Some(note) = downsample_note(per_col, self.scale) {
            caption = format!("{caption} {note}");
        }
        draw_caption(root, caption.trim(), 20, grid_bottom + 8, w - 40)?;
        let _ = h;
        Ok(rasters)
    }
}
