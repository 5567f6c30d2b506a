//! Predicted against measured band decay rates (the kernel theory overlay): one point per band
//! and run, coloured by configuration (later series smaller, so coinciding points nest), with
//! the identity line; the legend gives each configuration's rank correlation.
//!
//! The axes span the bulk of the points (2nd to 98th percentile of all coordinates, see
//! [`bulk_range`]), so that a few large rates do not squeeze the rest into a corner; points
//! beyond are drawn at the edge as hollow triangles, and the figure says how many.

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

/// The axis range (same for x and y) covering the bulk of `values`: from the 2nd to the 98th
/// percentile, widened to include 0 and padded by 5%; all values when there are fewer than 50.
pub fn bulk_range(values: &[f64]) -> (f64, f64) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 50 {
        return style::lin_range(&v).unwrap_or((0.0, 1.0));
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.02).min(0.0), at(0.98).max(0.0));
    style::lin_range(&[lo, hi]).unwrap_or((0.0, 1.0))
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
        let (lo, hi) = bulk_range(&both);
        let outside = pts()
            .filter(|(x, y)| !(lo..=hi).contains(x) || !(lo..=hi).contains(y))
            .count();
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
            let finite = || {
                s.points
                    .iter()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
            };
            let inside = |x: f64, y: f64| (lo..=hi).contains(&x) && (lo..=hi).contains(&y);
            chart
                .draw_series(
                    finite()
                        .filter(|&&(x, y)| inside(x, y))
                        .map(|&(x, y)| Circle::new((x, y), radius, colour.filled())),
                )
                .map_err(perr)?;
            chart
                .draw_series(finite().filter(|&&(x, y)| !inside(x, y)).map(|&(x, y)| {
                    TriangleMarker::new(
                        (x.clamp(lo, hi), y.clamp(lo, hi)),
                        radius + 2,
                        colour.stroke_width(2),
                    )
                }))
                .map_err(perr)?;
            entries.push(LegendEntry {
                label: s.label.clone(),
                colour,
                dashed: false,
                shaded: false,
            });
        }
        if outside > 0 {
            entries.push(LegendEntry {
                label: format!("{outside} beyond the axes (triangles at the edge)"),
                colour: grey,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_range_leaves_out_the_few_largest() {
        // 100 values in [0, 1e-3] and two at 0.02: the range stops near 1e-3.
        let mut v: Vec<f64> = (0..100).map(|i| i as f64 * 1e-5).collect();
        v.extend([0.02, 0.015]);
        let (lo, hi) = bulk_range(&v);
        assert!(lo < 0.0 && lo > -1e-4, "{lo}");
        assert!(hi > 9e-4 && hi < 1.2e-3, "{hi}");
        // Few values: all of them.
        let (lo, hi) = bulk_range(&[0.0, 1.0, 5.0]);
        assert!(lo < 0.0 && hi > 5.0);
    }
}
