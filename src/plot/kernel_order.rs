//! Predicted against measured band decay rates (the kernel theory overlay): one point per band
//! and run, coloured by configuration (later series smaller, so coinciding points nest), with
//! the identity line; the legend gives each configuration's rank correlation.

use std::path::Path;

use anyhow::{bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::heatmap::draw_caption;
use super::style::{
    self, bold, legend, perr, qualitative, text, LegendEntry, AXIS_PX, CAPTION_PX, TITLE_PX,
};
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

const W: u32 = 1000;
const H: u32 = 700;
const LEFT: i32 = 95;
const TOP: i32 = 56;
const LEGEND_W: i32 = 280;
const X_AREA: i32 = 58;
const CAPTION_AREA: i32 = 70;

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

struct OrderFigure<'a>(&'a KernelOrderData);

impl Figure for OrderFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>> {
        let d = self.0;
        text(
            root,
            &d.title,
            &style::fit_bold(root, &d.title, TITLE_PX, W - 20),
            (W as i32 / 2, 14),
            HPos::Center,
            VPos::Top,
        )?;
        let pts = || {
            d.series
                .iter()
                .flat_map(|s| &s.points)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let xs: Vec<f64> = pts().map(|p| p.0).collect();
        let ys: Vec<f64> = pts().map(|p| p.1).collect();
        let both: Vec<f64> = xs.iter().chain(&ys).copied().collect();
        let (lo, hi) = style::lin_range(&both).unwrap_or((0.0, 1.0));
        let plot_w = W as i32 - LEFT - LEGEND_W;
        let plot_h = H as i32 - TOP - CAPTION_AREA;
        let area = root
            .clone()
            .shrink((0, TOP), ((LEFT + plot_w) as u32, plot_h as u32));
        // Ticks at round-off distance from 0 (e.g. -2.2e-16) read as 0.
        let snap = |v: &f64| {
            if v.abs() < 1e-9 * (hi - lo) {
                "0".to_string()
            } else {
                style::fmt_tick(*v)
            }
        };
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(X_AREA as u32)
            .y_label_area_size(LEFT as u32)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(perr)?;
        chart
            .configure_mesh()
            .x_desc(d.x_label.as_str())
            .x_labels(6)
            .label_style(style::font(AXIS_PX))
            .axis_desc_style(style::font(AXIS_PX))
            .x_label_formatter(&snap)
            .y_label_formatter(&snap)
            .draw()
            .map_err(perr)?;
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
                        .map(|&(x, y)| Circle::new((x, y), radius, colour.filled())),
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
        let (px, py) = chart.plotting_area().get_pixel_range();
        style::vtext(root, &d.y_label, AXIS_PX, (16, (py.start + py.end) / 2))?;
        text(
            root,
            "configuration",
            &bold(CAPTION_PX),
            (px.end + 16, TOP),
            HPos::Left,
            VPos::Top,
        )?;
        legend(root, &entries, (px.end + 16, TOP + 24))?;
        draw_caption(
            root,
            &d.caption,
            20,
            H as i32 - CAPTION_AREA + 8,
            W as i32 - 40,
        )?;
        Ok(vec![])
    }
}
