//! The claims a report judges, their rules in words, and the shape of a verdict (the data; the
//! judging is in [`super::verdict`]).

use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::Value;

/// A claim the report can judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    C2,
    C3,
    C4,
    C5,
    C6,
}

impl Claim {
    pub const ALL: [Claim; 5] = [Claim::C2, Claim::C3, Claim::C4, Claim::C5, Claim::C6];

    /// Parse "c2", "C3", "c4", "c5", "c6".
    pub fn parse(s: &str) -> Result<Claim> {
        match s.to_ascii_lowercase().as_str() {
            "c2" => Ok(Claim::C2),
            "c3" => Ok(Claim::C3),
            "c4" => Ok(Claim::C4),
            "c5" => Ok(Claim::C5),
            "c6" => Ok(Claim::C6),
            _ => bail!("unknown claim `{s}`: the report judges c2, c3 and c6 on regression runs, c4, c5 and c6 on classification runs"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Claim::C2 => "C2",
            Claim::C3 => "C3",
            Claim::C4 => "C4",
            Claim::C5 => "C5",
            Claim::C6 => "C6",
        }
    }

    /// Judged on regression runs (band records): C2, C3, C6.
    pub fn on_regression(self) -> bool {
        matches!(self, Claim::C2 | Claim::C3 | Claim::C6)
    }

    /// Judged on classification runs (accuracy records): C4, C5, C6.
    pub fn on_classification(self) -> bool {
        matches!(self, Claim::C4 | Claim::C5 | Claim::C6)
    }

    pub fn statement(self) -> &'static str {
        match self {
            Claim::C2 => "adaptive methods (p > 0) emphasise low frequencies, SGD (p = 0) is near-neutral, and negative p amplifies high frequencies",
            Claim::C3 => "cyclic p broadens spectral coverage (and improves cross-band fusion)",
            Claim::C4 => "cyclic p induces early decision-boundary alignment: accuracy improves while loss is still high",
            Claim::C5 => "cyclic p reduces test error at identical learning-rate strategies",
            Claim::C6 => "cyclic p matches the baseline's result at a quarter of the training cost",
        }
    }
}

/// Rule of C2.
pub const C2_RULE: &str = "Guards first: if any fixed-p configuration of the task fails a validity guard, the verdict is `invalid setting`. The rule below is applied three times: to the matched-loss slope at 10% of the initial train loss (this one decides), and to the decay-rate index over the full window and over the first half of the budget (checks). If the two index windows give different outcomes the verdict is `inconclusive (window-sensitive)`; if they agree but differ from the matched-loss outcome it is `inconclusive` (the measures disagree); otherwise the common outcome. Rule, for a measure m over the fixed-p configurations of one task (>= 3 distinct p): supported if the Spearman rank correlation between p and the mean index is >= 0.8 AND the 95% interval of the index at the largest p lies entirely above that at the smallest p; not supported if the interval at the smallest p lies entirely above that at the largest p (the opposite order, no overlap); inconclusive otherwise (including overlapping or undefined intervals, < 2 seeds at an extreme, or < 3 distinct p); here `index` stands for m. The p = 0 index and whether its interval contains 0 are reported but do not enter the verdict.";
/// Rule of C3.
pub const C3_RULE: &str = "Guards first: if the cyclic configuration or a baseline fails a validity guard, the verdict is `invalid setting`. Baselines: fixed p = 0 (the paper's), fixed p = 0.5 (Adam's exponent) and the strongest non-cyclic configuration of the task (lowest median final test loss; may coincide with one of the others). Coverage score (mean log10 relative band error over the budget, lower = covered earlier) of the cyclic configuration minus that of each baseline, each with a Welch 95% interval: supported if every interval lies entirely below 0; not supported if any lies entirely above 0; inconclusive otherwise. Cross-band fusion is not measured by this rule.";
/// Rule of C6.
pub const C6_RULE: &str = "Guards first (cyclic configuration and baselines; failure = `invalid setting`). Judged against every baseline: the paper's (sgd, else padam p = 0) and the strongest non-cyclic configuration of the task (lowest median final test loss); supported only if supported against both, not supported if not supported against either, inconclusive otherwise. Per baseline: L* = median final test loss of the baseline (same task; sgd, else padam p = 0) over its completed seeds; B = the baseline's budget. Per seed of the cyclic configuration, f = (first epoch with test_loss <= L*) / B; a diverged seed counts as never reaching L*. Supported if every seed reaches L* and the upper end of the 95% interval of mean f is <= 0.25; not supported if the lower end is > 0.25, or if more than half of the seeds never reach L* within a budget >= 0.25 B; inconclusive otherwise.";

/// The verdict of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Supported,
    NotSupported,
    Inconclusive,
    /// The records hold no configurations the claim's rule applies to.
    NotEvaluated,
    /// A configuration the verdict would rest on failed a validity guard.
    InvalidSetting,
    /// The outcome changes between the full and the first-half decay window.
    WindowSensitive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Supported => "supported",
            Outcome::NotSupported => "not supported",
            Outcome::Inconclusive => "inconclusive",
            Outcome::NotEvaluated => "not evaluated",
            Outcome::InvalidSetting => "invalid setting",
            Outcome::WindowSensitive => "inconclusive (window-sensitive)",
        }
    }
}

/// One verdict with everything needed to check it by hand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub claim: &'static str,
    pub statement: &'static str,
    /// The configurations or task it concerns.
    pub subject: String,
    pub measured: String,
    pub comparison: String,
    pub rule: &'static str,
    /// Numbers with their spread over seeds.
    pub evidence: Vec<String>,
    pub outcome: Outcome,
    /// The same evidence as structured numbers (per configuration and per comparison; guard
    /// failures; which measure decided). Field names are documented in docs/report.md.
    pub data: Value,
}

/// A "not evaluated" verdict of `claim` under `rule`, saying why.
pub fn not_evaluated(claim: Claim, rule: &'static str, why: &str) -> Verdict {
    Verdict {
        claim: claim.name(),
        statement: claim.statement(),
        subject: "-".into(),
        measured: "-".into(),
        comparison: "-".into(),
        rule,
        evidence: vec![why.to_string()],
        outcome: Outcome::NotEvaluated,
        data: Value::Null,
    }
}
