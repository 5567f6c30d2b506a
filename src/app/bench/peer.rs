//! Alternating A/B timing of bandwise and a peer program on the same work (the reference
//! task; benches/torch_peer.py is the PyTorch peer). Each pair times both sides one after the
//! other, the order alternating (A B, B A, ...), with the machine's background load sampled
//! before the pair while neither side runs. The ratio reported for a configuration is the
//! median of its pairs' ratios, and none is reported when any pair ran on a busy machine.

use super::{us_per_step, Workload};
use crate::analysis::aggregate::median;
use crate::experiment::config::Dtype;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What to time and how.
#[derive(Debug, Clone)]
pub struct PeerPlan {
    /// Shell command of the peer; bandwise appends `--n ... --dtype ... --hidden H --threads T
    /// --steps S --repeats 1 --json FILE` (the options of benches/torch_peer.py).
    pub peer_cmd: String,
    pub n: Vec<usize>,
    pub dtypes: Vec<Dtype>,
    /// Network width and threads, passed to the peer as `--hidden` and `--threads`.
    pub work: Workload,
    pub steps: u64,
    pub pairs: usize,
    /// Largest share of all cores that other processes may use before a pair (sampled over
    /// half a second) for the pair to count as quiet.
    pub max_busy: f64,
}

/// One configuration timed once on each side.
#[derive(Debug, Clone, Serialize)]
pub struct PairSample {
    pub pair: usize,
    pub n: usize,
    pub dtype: &'static str,
    /// Which side ran first in this pair.
    pub first: &'static str,
    pub bandwise_us_per_step: f64,
    pub peer_us_per_step: f64,
    /// peer / bandwise time: above 1 means bandwise is faster.
    pub ratio: f64,
    /// Share of all cores busy with other processes just before the pair (None: unknown).
    pub busy_share: Option<f64>,
    /// The 1-minute load average just before the pair.
    pub load_avg_1m: Option<f64>,
}

/// The pairs of one configuration, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct PeerSummary {
    pub n: usize,
    pub dtype: &'static str,
    pub pairs: usize,
    pub bandwise_us_median: f64,
    pub peer_us_median: f64,
    /// Median of the pairs' ratios; None when the machine was busy (see `refused`).
    pub ratio_median: Option<f64>,
    pub ratio_min: f64,
    pub ratio_max: f64,
}

/// Every sample, the summaries, and why ratios were withheld (if they were).
#[derive(Debug, Clone, Serialize)]
pub struct PeerOutcome {
    pub samples: Vec<PairSample>,
    pub summaries: Vec<PeerSummary>,
    pub refused: Option<String>,
}

/// CPU time counters (busy, total) over all cores from /proc/stat, in clock ticks.
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 5 {
        return None;
    }
    // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    let total: u64 = v.iter().take(8).sum();
    Some((total - v[3] - v[4], total))
}

/// Share of all cores used by other processes over `window` (this process sleeps meanwhile).
pub fn background_busy_share(window: Duration) -> Option<f64> {
    let (b0, t0) = cpu_ticks()?;
    std::thread::sleep(window);
    let (b1, t1) = cpu_ticks()?;
    (t1 > t0).then(|| (b1 - b0) as f64 / (t1 - t0) as f64)
}

/// The 1-minute load average (/proc/loadavg).
pub fn load_avg_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Run the peer once over every configuration; its microseconds per step by (n, dtype).
fn run_peer(plan: &PeerPlan, json: &Path) -> Result<Vec<(usize, String, f64)>> {
    let ns: Vec<String> = plan.n.iter().map(|n| n.to_string()).collect();
    let ds: Vec<&str> = plan.dtypes.iter().map(|d| d.name()).collect();
    let cmd = format!(
        "{} --n {} --dtype {} --hidden {} --threads {} --steps {} --repeats 1 --json {}",
        plan.peer_cmd,
        ns.join(" "),
        ds.join(" "),
        plan.work.hidden,
        plan.work.threads,
        plan.steps,
        json.display()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .output()
        .with_context(|| format!("cannot start the peer command `{cmd}`"))?;
    if !out.status.success() {
        bail!(
            "the peer command `{cmd}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = std::fs::read_to_string(json)
        .with_context(|| format!("the peer command `{cmd}` wrote no {}", json.display()))?;
    parse_peer_lines(&text).with_context(|| {
        format!(
            "{}: the peer's JSON lines (from `{cmd}`) need n, dtype and us_per_step_median",
            json.display()
        )
    })
}

/// (n, dtype, microseconds per step) of each plain (not with_eval) JSON line of the peer.
pub fn parse_peer_lines(text: &str) -> Result<Vec<(usize, String, f64)>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("line {}: not JSON", i + 1))?;
        if v["with_eval"].as_bool() == Some(true) {
            continue;
        }
        let (Some(n), Some(dtype), Some(us)) = (
            v["n"].as_u64(),
            v["dtype"].as_str(),
            v["us_per_step_median"].as_f64(),
        ) else {
            bail!("line {}: missing n, dtype or us_per_step_median", i + 1);
        };
        rows.push((n as usize, dtype.to_string(), us));
    }
    Ok(rows)
}

/// Time both sides `plan.pairs` times, alternating which goes first.
pub fn alternate(plan: &PeerPlan, scratch: &Path) -> Result<PeerOutcome> {
    if plan.pairs == 0 {
        bail!("--pairs must be at least 1");
    }
    let json = scratch.join("peer.jsonl");
    let mut samples = Vec::new();
    let mut busy_pairs = Vec::new();
    for pair in 0..plan.pairs {
        let busy_share = background_busy_share(Duration::from_millis(500));
        let load = load_avg_1m();
        if busy_share.is_none_or(|b| b > plan.max_busy) {
            busy_pairs.push((pair, busy_share));
        }
        let ours_first = pair % 2 == 0;
        let mut ours = Vec::new();
        let mut peer = Vec::new();
        for side in if ours_first { [0, 1] } else { [1, 0] } {
            if side == 0 {
                for &n in &plan.n {
                    for &d in &plan.dtypes {
                        ours.push((n, d, us_per_step(n, d, plan.work, plan.steps, 1)?[0]));
                    }
                }
            } else {
                peer = run_peer(plan, &json)?;
            }
        }
        for (n, d, us) in ours {
            let Some(&(_, _, peer_us)) = peer.iter().find(|(pn, pd, _)| *pn == n && pd == d.name())
            else {
                bail!(
                    "the peer command `{}` gave no line for n = {n}, dtype {}",
                    plan.peer_cmd,
                    d.name()
                );
            };
            samples.push(PairSample {
                pair,
                n,
                dtype: d.name(),
                first: if ours_first { "bandwise" } else { "peer" },
                bandwise_us_per_step: us,
                peer_us_per_step: peer_us,
                ratio: peer_us / us,
                busy_share,
                load_avg_1m: load,
            });
        }
    }
    let refused = (!busy_pairs.is_empty()).then(|| {
        let list: Vec<String> = busy_pairs
            .iter()
            .map(|(p, b)| match b {
                Some(b) => format!("pair {} ({:.0}% busy)", p + 1, 100.0 * b),
                None => format!("pair {} (load unknown: no /proc/stat)", p + 1),
            })
            .collect();
        format!(
            "the machine was busy before {} of {} pairs ({}; limit {:.0}% of all cores used by other processes): no ratio is reported; rerun on a quiet machine",
            busy_pairs.len(),
            plan.pairs,
            list.join(", "),
            100.0 * plan.max_busy
        )
    });
    let mut summaries = Vec::new();
    for &n in &plan.n {
        for &d in &plan.dtypes {
            let mine: Vec<&PairSample> = samples
                .iter()
                .filter(|s| s.n == n && s.dtype == d.name())
                .collect();
            let ratios: Vec<f64> = mine.iter().map(|s| s.ratio).collect();
            let ours: Vec<f64> = mine.iter().map(|s| s.bandwise_us_per_step).collect();
            let theirs: Vec<f64> = mine.iter().map(|s| s.peer_us_per_step).collect();
            summaries.push(PeerSummary {
                n,
                dtype: d.name(),
                pairs: mine.len(),
                bandwise_us_median: median(&ours),
                peer_us_median: median(&theirs),
                ratio_median: refused.is_none().then(|| median(&ratios)),
                ratio_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
                ratio_max: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            });
        }
    }
    Ok(PeerOutcome {
        samples,
        summaries,
        refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn peer_lines_skip_eval_rows_and_name_missing_fields() {
        let text = r#"{"n": 1024, "dtype": "f32", "us_per_step_median": 1250.0}
{"n": 1024, "dtype": "f32", "with_eval": true, "us_per_step_median": 1500.0}

{"n": 256, "dtype": "f64", "us_per_step_median": 700.5}"#;
        let rows = parse_peer_lines(text).unwrap();
        assert_eq!(
            rows,
            vec![(1024, "f32".into(), 1250.0), (256, "f64".into(), 700.5)]
        );
        let err = parse_peer_lines(r#"{"n": 1}"#).unwrap_err().to_string();
        assert!(
            err.contains("line 1") && err.contains("us_per_step_median"),
            "{err}"
        );
        assert!(parse_peer_lines("not json").is_err());
    }

    #[test]
    fn busy_share_is_a_fraction() {
        if let Some(b) = background_busy_share(Duration::from_millis(50)) {
            assert!((0.0..=1.0).contains(&b), "{b}");
        }
    }

    /// A fake peer (a shell script printing fixed times) runs through the whole protocol:
    /// pairs alternate, every configuration gets a sample per pair, the ratio is peer/ours.
    #[test]
    fn alternates_with_a_scripted_peer() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("peer.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\n# the last argument is the JSON file\nfor a; do out=$a; done\n\
             echo '{\"n\": 64, \"dtype\": \"f32\", \"us_per_step_median\": 1000000.0}' > \"$out\"\n",
        )
        .unwrap();
        let plan = PeerPlan {
            peer_cmd: format!("sh {}", script.display()),
            n: vec![64],
            dtypes: vec![Dtype::F32],
            work: Workload::REFERENCE,
            steps: 5,
            pairs: 2,
            max_busy: 1.0,
        };
        let out = alternate(&plan, dir.path()).unwrap();
        assert_eq!(out.samples.len(), 2);
        assert_eq!(out.samples[0].first, "bandwise");
        assert_eq!(out.samples[1].first, "peer");
        for s in &out.samples {
            assert!((s.ratio - 1e6 / s.bandwise_us_per_step).abs() < 1e-6 * s.ratio);
        }
        assert!(out.summaries[0].ratio_median.unwrap() > 1.0);
        // A peer without the configuration's line is an error that says which.
        let plan = PeerPlan {
            n: vec![128],
            ..plan
        };
        let err = alternate(&plan, dir.path()).unwrap_err().to_string();
        assert!(err.contains("n = 128"), "{err}");
    }
}
