//! Figures drawn from plain data (pure functions of what is stored on disk): per-band
//! convergence heatmaps ([`heatmap`]), grids of heatmaps sharing one colour scale ([`panel`]),
//! relative-error curves per band ([`curves`]), loss curves with shaded seed bands ([`loss`])
//! and fit / residual-spectrum snapshots ([`snapshots`]), class maps of 2D classification
//! runs ([`class_maps`]), and the figures of the quantities
//! claim verdicts are decided on: dot-and-whisker estimates per configuration
//! ([`estimates`]) and maps over a parameter grid ([`grid_map`]); predicted against measured
//! band decay rates of the kernel theory overlay ([`kernel_order`]), its eigenvalue spectra
//! ([`kernel_spectrum`]) and predicted against measured band errors ([`band_prediction`]).
//! [`from_record`] turns run records into these data structs ([`from_class`] those of
//! classification runs: accuracy, agreement, filtering, class maps), [`from_kernel`] a run's
//! kernel.json, [`from_report`] a report into the verdict figures' data, and [`runs`] draws
//! figure kinds straight from run directories.
//!
//! The output format follows the path's extension: `.png` (bitmap, encoded with `png`) or
//! `.svg` (vector; heatmap cells are embedded as one PNG image instead of one `<rect>` per
//! cell, so large heatmaps stay small). Text uses the embedded DejaVu Sans font: no system
//! font library is needed.

pub mod accuracy;
pub mod band_prediction;
pub mod class_maps;
pub mod colourmap;
pub mod curves;
pub mod estimates;
pub mod from_class;
pub mod from_kernel;
pub mod from_record;
pub mod from_report;
pub mod grid_map;
pub mod heatmap;
pub mod images;
pub mod kernel_order;
pub mod kernel_spectrum;
pub mod loss;
pub mod panel;
pub mod runs;
pub mod snapshots;
pub mod style;

pub use colourmap::{viridis, ColourScale, NAN_GREY};
pub use curves::{curves, Curve, CurvesData, Threshold};
pub use estimates::{estimates, BaselineBand, EstimatePoint, EstimatesData, Layout};
pub use grid_map::{grid_map, GridMapData, MapCell, MapPanel};
pub use heatmap::{heatmap, heatmap_layout, HeatmapData, HeatmapLayout, PixelRect, Strip};
pub use loss::{loss, LossData, LossMark, LossSeries};
pub use panel::panel;
pub use runs::{draw, standard_set, Kind, PlotOptions};
pub use snapshots::{snapshots, Snapshot, SnapshotData};

use std::path::Path;

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use style::perr;

/// Output format of a figure, chosen from the file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// `.png` -> Png, `.svg` -> Svg (case-insensitive); anything else is an error that names
    /// the path and the supported extensions.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => bail!(
                "cannot choose an image format for {}: the file name must end in .png or .svg",
                path.display()
            ),
        }
    }
}

/// A block of pixels to place over the figure after plotters has drawn it: `data_w` x `data_h`
/// RGB pixels stretched (nearest neighbour) onto the rectangle `rect`.
pub(crate) struct Raster {
    pub rect: PixelRect,
    pub data_w: u32,
    pub data_h: u32,
    pub rgb: Vec<u8>,
}

/// A figure: its pixel size and a drawing routine that works on any plotters backend and
/// returns the rasters (heatmap cells, colour bars) to composite on top.
pub(crate) trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<Raster>>;
}

/// Render `fig` to `path` (format from the extension), creating parent directories.
pub(crate) fn render(path: &Path, fig: &impl Figure) -> Result<()> {
    let format = Format::from_path(path)?;
    style::ensure_fonts();
    let (w, h) = fig.size();
    let bytes = match format {
        Format::Png => {
            let mut buf = vec![255u8; w as usize * h as usize * 3];
            let rasters = {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(perr)?;
                let r = fig.draw(&root)?;
                root.present().map_err(perr)?;
                r
            };
            for r in &rasters {
                blit(&mut buf, w, h, r);
            }
            encode_png(w, h, &buf)?
        }
        Format::Svg => {
            let mut svg = String::new();
            let rasters = {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(perr)?;
                let r = fig.draw(&root)?;
                root.present().map_err(perr)?;
                r
            };
            let mut images = String::new();
            for r in &rasters {
                let png = encode_png(r.data_w, r.data_h, &r.rgb)?;
                images.push_str(&format!(
                    "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
                     style=\"image-rendering:pixelated;image-rendering:crisp-edges\" \
                     href=\"data:image/png;base64,{}\"/>\n",
                    r.rect.x0,
                    r.rect.y0,
                    r.rect.width(),
                    r.rect.height(),
                    base64(&png)
                ));
            }
            let end = svg
                .rfind("</svg>")
                .context("SVG backend produced no closing </svg> tag")?;
            svg.insert_str(end, &images);
            svg.into_bytes()
        }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Copy a raster into an RGB buffer of width `w`, scaling it nearest-neighbour onto its rect.
fn blit(buf: &mut [u8], w: u32, h: u32, r: &Raster) {
    let (rw, rh) = (r.rect.width().max(1) as i64, r.rect.height().max(1) as i64);
    for py in r.rect.y0.max(0)..r.rect.y1.min(h as i32) {
        let sy = ((py - r.rect.y0) as i64 * r.data_h as i64 / rh) as usize;
        for px in r.rect.x0.max(0)..r.rect.x1.min(w as i32) {
            let sx = ((px - r.rect.x0) as i64 * r.data_w as i64 / rw) as usize;
            let s = (sy * r.data_w as usize + sx) * 3;
            let d = (py as usize * w as usize + px as usize) * 3;
            buf[d..d + 3].copy_from_slice(&r.rgb[s..s + 3]);
        }
    }
}

/// Encode an RGB8 buffer as PNG.
fn encode_png(w: u32, h: u32, rgb: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Default);
        let mut writer = enc.write_header().context("PNG header")?;
        writer.write_image_data(rgb).context("PNG data")?;
    }
    Ok(out)
}

/// Standard base64 (RFC 4648, with padding).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        s.push(T[(n >> 18) as usize & 63] as char);
        s.push(T[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// Greedy word wrap of `text` to lines of at most `max_px` pixels at size `px`.
pub(crate) fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f64,
    max_px: u32,
) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut cur = String::new();
        for word in para.split_whitespace() {
            let cand = if cur.is_empty() {
                word.to_string()
            } else {
                format!("{cur} {word}")
            };
            if !cur.is_empty() && style::text_width(area, &cand, px) > max_px {
                lines.push(std::mem::replace(&mut cur, word.to_string()));
            } else {
                cur = cand;
            }
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension() {
        assert_eq!(
            Format::from_path(Path::new("a/b.png")).unwrap(),
            Format::Png
        );
        assert_eq!(Format::from_path(Path::new("b.SVG")).unwrap(), Format::Svg);
        let e = Format::from_path(Path::new("fig.jpg"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fig.jpg") && e.contains(".png or .svg"), "{e}");
        assert!(Format::from_path(Path::new("noext")).is_err());
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
