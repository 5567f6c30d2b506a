//! `bandwise spectrum FILE`: the band table of one signal (a debugging aid, and a building
//! block for analysing predictions from other tools).

use crate::base::signal_io::read_signal;
use crate::record::{num, Csv};
use crate::spectral::{Band, BandLayout, EpochSpectrum, LayoutSpec, SpectralMonitor};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct SpectrumArgs {
    /// The signal: .npy (1D array) or .csv (a column of numbers), sampled on t = n/N.
    file: PathBuf,
    /// CSV column: a header name or a 0-based index (required when the CSV has several columns).
    #[arg(long, value_name = "NAME|INDEX")]
    column: Option<String>,
    /// Band layout: octave | uniform:B | edges:e1,e2,... | peaks:k1,k2,...[/half_width]
    #[arg(long, default_value = "octave")]
    layout: String,
    /// A target on the same grid: FILE is then taken as a prediction and the table shows the
    /// residual (FILE - target) with relative band errors.
    #[arg(long)]
    target: Option<PathBuf>,
}

/// Parse a `--layout` value: the band layout and the peak frequencies it names.
pub fn parse_layout(s: &str) -> Result<(LayoutSpec, Vec<usize>)> {
    let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
    let nums = |r: &str| -> Result<Vec<f64>> {
        r.split(',')
            .filter(|x| !x.is_empty())
            .map(|x| {
                x.trim()
                    .parse::<f64>()
                    .with_context(|| format!("--layout: `{x}` is not a number"))
            })
            .collect()
    };
    Ok(match kind {
        "octave" => (LayoutSpec::Octave, vec![]),
        "uniform" => (LayoutSpec::Uniform { bands: rest.parse().context("--layout uniform:B needs a band count, e.g. uniform:8")? }, vec![]),
        "edges" => (LayoutSpec::Edges { edges: nums(rest)? }, vec![]),
        "peaks" => {
            let (ks, hw) = rest.split_once('/').unwrap_or((rest, "0"));
            let half_width = hw.parse().context("--layout peaks:k1,k2/half_width needs an integer half-width >= 0")?;
            let peaks = ks
                .split(',')
                .filter(|k| !k.is_empty())
                .map(|k| match k.trim().parse::<usize>() {
                    Ok(k) if k >= 1 => Ok(k),
                    _ => Err(anyhow::anyhow!("--layout peaks: `{k}` is not a frequency; peaks are integers >= 1 (bins of the DFT), e.g. peaks:1,4,16")),
                })
                .collect::<Result<Vec<usize>>>()?;
            (LayoutSpec::Peaks { half_width }, peaks)
        }
        other => bail!("--layout `{other}` is not a layout; use octave, uniform:B, edges:e1,e2,... or peaks:k1,k2,..."),
    })
}

/// The bands of `layout` (a `--layout` value) and the band measures of `signal` against
/// `target` (all zeros: the measures of the signal itself), both sampled on t = n/N.
pub fn band_spectrum(
    signal: &[f64],
    target: &[f64],
    layout: &str,
) -> Result<(Vec<Band>, EpochSpectrum)> {
    let n = signal.len();
    if target.len() != n {
        bail!(
            "the target has {} samples but the signal has {n}: both must be on the same grid",
            target.len()
        );
    }
    let (spec, peaks) = parse_layout(layout)?;
    let layout = BandLayout::build(&spec, n, &peaks)?;
    let bands = layout.bands.clone();
    let mut monitor = SpectralMonitor::new(target, layout, &[]);
    let mut out = monitor.new_epoch_spectrum();
    monitor.analyze(signal, &mut out);
    Ok((bands, out))
}

pub fn run(args: SpectrumArgs) -> Result<()> {
    let signal = read_signal(&args.file, args.column.as_deref())?;
    let n = signal.len();
    if n < 4 {
        bail!(
            "{}: {n} samples; at least 4 are needed",
            args.file.display()
        );
    }
    let target = match &args.target {
        Some(p) => {
            let t = read_signal(p, args.column.as_deref())?;
            if t.len() != n {
                bail!(
                    "--target {} has {} samples but {} has {n}: both must be on the same grid",
                    p.display(),
                    t.len(),
                    args.file.display()
                );
            }
            t
        }
        None => vec![0.0; n],
    };
    let (bands, out) = band_spectrum(&signal, &target, &args.layout)?;
    let what = if args.target.is_some() {
        "residual (FILE - target)"
    } else {
        "signal"
    };
    let mut csv = Csv::new(
        vec![
            format!("bandwise {} spectrum of {} ({what}), N = {n}", env!("CARGO_PKG_VERSION"), args.file.display()),
            "DFT unnormalised, one-sided bins 0..N/2; energy = (1/N^2) sum_{k in b} w_k |X_k|^2 (w = 1 at DC and Nyquist, else 2); energies sum to mean(x^2)".into(),
            format!("mean(x^2) = {}", num(out.mse)),
        ],
        &["band", "label", "f_lo", "f_hi", "energy", "share", "target_energy", "rel_error"],
    );
    for (b, band) in bands.iter().enumerate() {
        csv.row(&[
            b.to_string(),
            band.label.clone(),
            num(band.f_lo),
            num(band.f_hi),
            num(out.residual_energy[b]),
            num(out.share[b]),
            num(out.target_energy[b]),
            num(out.rel_error[b]),
        ]);
    }
    out!("{}", csv.render());
    Ok(())
}
