//! Docs that cannot drift from the binary.
//!
//! - Every command line written in README.md and docs/*.md (`bandwise SUB ...`,
//!   `cargo run --release -- SUB ...`, `cargo run --release --example NAME -- SUB ...`), in
//!   inline code or in shell code blocks, names a real subcommand and only real flags of it
//!   (checked against the clap definition, `bandwise::cli::command()`). A concrete command line
//!   is parsed in full by clap, so flag values with a fixed set (e.g. `--format`) are checked
//!   too; a synopsis (`[--out DIR]`, `md|json`, `DIR...`, `$SHELL_VAR`) has only its flags checked.
//! - docs/cli.md mentions every subcommand and every flag of the binary.
//! - Every example config in analyses/examples/ runs (with a few epochs, via `--set`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md.
fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// A documented command: where it is, and the words after the program name.
#[derive(Debug)]
struct Documented {
    place: String,
    text: String,
    synopsis: bool,
}

/// Split a shell line into words, honouring single and double quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// The prefixes that start a documented command line; the command's words follow.
const PREFIXES: &[&str] = &[
    "cargo run --release --example ",
    "cargo run --release -- ",
    "bandwise ",
];

/// Find the commands in one piece of code text (an inline span or a shell line).
fn commands_in(code: &str, place: &str, inline: bool, out: &mut Vec<Documented>) {
    let mut rest = code;
    while let Some((pos, prefix)) = PREFIXES
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, *p)))
        .min_by_key(|(i, p)| (*i, std::cmp::Reverse(p.len())))
    {
        // A word boundary before the prefix (not `foo_bandwise`, not a path `/bandwise`).
        let before = rest[..pos].chars().last();
        let after_prefix = &rest[pos + prefix.len()..];
        rest = after_prefix;
        if before.is_some_and(|c| c.is_alphanumeric() || "_/-.".contains(c)) {
            continue;
        }
        let mut text = after_prefix;
        if prefix.contains("--example") {
            // `cargo run --release --example NAME -- SUB ...`
            match text.split_once(" -- ") {
                Some((_, t)) => text = t,
                None => continue,
            }
        }
        // A command ends at a shell operator or a comment (a synopsis in prose keeps its `|`).
        let mut end = text.len();
        for stop in [" # ", " && ", " ; ", " > ", " 2>", "; "] {
            if let Some(i) = text.find(stop) {
                end = end.min(i);
            }
        }
        if !inline {
            if let Some(i) = text.find(" | ") {
                end = end.min(i);
            }
        }
        let text = text[..end].trim();
        let Some(first) = text.split_whitespace().next() else {
            continue;
        };
        // Only `bandwise SUB`, where SUB is a lowercase word (not prose like "bandwise is").
        if !first.chars().all(|c| c.is_ascii_lowercase()) {
            continue;
        }
        // A bare `bandwise SUB` in prose names the subcommand; only that is checked.
        let synopsis = !text.contains(' ')
            || text.contains('[')
            || text.contains("...")
            || text.contains('|')
            || text.contains('<')
            || text.contains('$');
        out.push(Documented {
            place: place.to_string(),
            text: text.to_string(),
            synopsis,
        });
        rest = &after_prefix[end.min(after_prefix.len())..];
    }
}

/// Every documented command of a Markdown file: inline code spans of prose, and lines of
/// shell code blocks (fences without a language, or sh/bash/console), `\` continuations joined.
fn documented_commands(path: &Path) -> Vec<Documented> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    let mut pending = String::new();
    let mut pending_line = 0;
    let mut prose = String::new();
    let mut prose_line = 0;
    let lines: Vec<&str> = text.lines().collect();
    let flush_prose = |prose: &mut String, line: usize, out: &mut Vec<Documented>| {
        // Inline spans may wrap across lines of a paragraph.
        let joined = prose.replace('\n', " ");
        for (i, span) in joined.split('`').enumerate() {
            if i % 2 == 1 {
                commands_in(span, &format!("{name}:{line}"), true, out);
            }
        }
        prose.clear();
    };
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(lang) = trimmed.strip_prefix("```") {
            flush_prose(&mut prose, prose_line, &mut out);
            fence = match fence {
                None => Some(lang.trim().to_string()),
                Some(_) => None,
            };
            continue;
        }
        match &fence {
            Some(lang) if ["", "sh", "bash", "console", "shell"].contains(&lang.as_str()) => {
                if pending.is_empty() {
                    pending_line = i + 1;
                }
                let l = trimmed.trim_start_matches("$ ");
                match l.strip_suffix('\\') {
                    Some(head) => pending.push_str(head),
                    None => {
                        pending.push_str(l);
                        commands_in(&pending, &format!("{name}:{pending_line}"), false, &mut out);
                        pending.clear();
                    }
                }
            }
            Some(_) => {}
            None => {
                if trimmed.is_empty() {
                    flush_prose(&mut prose, prose_line, &mut out);
                } else {
                    if prose.is_empty() {
                        prose_line = i + 1;
                    }
                    prose.push_str(line);
                    prose.push('\n');
                }
            }
        }
    }
    flush_prose(&mut prose, prose_line, &mut out);
    out
}

fn long_flags(cmd: &clap::Command) -> Vec<String> {
    let mut flags: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    flags.extend(["help".to_string(), "version".to_string()]);
    flags
}

/// Check one documented command against the clap definition; an error message names it.
fn check(cli: &clap::Command, d: &Documented) -> Result<(), String> {
    // Shell variables (`--seed $s`) stand for a valid value.
    let words: Vec<String> = shell_words(&d.text)
        .into_iter()
        .map(|w| if w.starts_with('$') { "0".into() } else { w })
        .collect();
    let sub_name = &words[0];
    let Some(sub) = cli.find_subcommand(sub_name) else {
        return Err(format!(
            "{}: `{}`: `{sub_name}` is not a subcommand",
            d.place, d.text
        ));
    };
    let known = long_flags(sub);
    for w in &words[1..] {
        let w = w.trim_start_matches('[').trim_start_matches('(');
        let Some(flag) = w.strip_prefix("--") else {
            continue;
        };
        let flag: String = flag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !known.contains(&flag) {
            return Err(format!(
                "{}: `{}`: `{sub_name}` has no flag --{flag} (it has: --{})",
                d.place,
                d.text,
                known.join(", --")
            ));
        }
    }
    if !d.synopsis {
        let mut argv = vec!["bandwise".to_string()];
        argv.extend(words);
        cli.clone()
            .try_get_matches_from(&argv)
            .map_err(|e| format!("{}: `{}` does not parse:\n{e}", d.place, d.text))?;
    }
    Ok(())
}

#[test]
fn every_documented_command_line_matches_the_cli() {
    let cli = bandwise::cli::command();
    let mut errors = Vec::new();
    let mut n = 0;
    let mut per_file = Vec::new();
    for file in doc_files() {
        let found = documented_commands(&file);
        per_file.push((file.clone(), found.len()));
        for d in &found {
            n += 1;
            if let Err(e) = check(&cli, d) {
                errors.push(e);
            }
        }
    }
    eprintln!("{n} documented commands checked: {per_file:?}");
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
    // The extraction itself works: the README has its worked examples.
    let readme = per_file
        .iter()
        .find(|(f, _)| f.ends_with("README.md"))
        .unwrap();
    assert!(
        readme.1 >= 10,
        "only {} commands found in README.md",
        readme.1
    );
    assert!(n >= 40, "only {n} documented commands found");
}

#[test]
fn the_checker_rejects_what_the_cli_lacks() {
    let cli = bandwise::cli::command();
    let doc = |text: &str, synopsis: bool| Documented {
        place: "t".into(),
        text: text.into(),
        synopsis,
    };
    assert!(check(&cli, &doc("report runs/x --format term", false)).is_ok());
    assert!(check(&cli, &doc("report runs/x --format tex", false)).is_err());
    assert!(check(&cli, &doc("report DIR... [--colour c]", true)).is_err());
    assert!(check(&cli, &doc("repot runs/x", false)).is_err());
    assert!(check(&cli, &doc("run c.toml --set train.epochs=3", false)).is_ok());
    let mut found = Vec::new();
    commands_in(
        "bandwise run a.toml --seed $s --out x # comment --nope",
        "t",
        false,
        &mut found,
    );
    commands_in(
        "cargo run --release --example lion -- optimizers",
        "t",
        false,
        &mut found,
    );
    let texts: Vec<&str> = found.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(texts, ["run a.toml --seed $s --out x", "optimizers"]);
    assert!(check(&cli, &found[0]).is_ok());
}

#[test]
fn the_cli_reference_covers_every_subcommand_and_flag() {
    let text = std::fs::read_to_string(root().join("docs/cli.md")).unwrap();
    let mut missing = Vec::new();
    for sub in bandwise::cli::command().get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        if !text.contains(&format!("bandwise {name}")) {
            missing.push(format!("subcommand `{name}`"));
        }
        for a in sub.get_arguments() {
            if let Some(long) = a.get_long() {
                if long != "help" && !text.contains(&format!("--{long}")) {
                    missing.push(format!("`{name} --{long}`"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/cli.md does not mention: {}",
        missing.join(", ")
    );
}

fn bandwise(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bandwise"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every config in analyses/examples/ runs as documented (`run`, or `sweep` for a spec), with
/// its budget cut to a few epochs by `--set`.
#[test]
fn every_example_config_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut configs: Vec<PathBuf> = std::fs::read_dir(root().join("analyses/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 5, "{configs:?}");
    for cfg in &configs {
        let text = std::fs::read_to_string(cfg).unwrap();
        let stem = cfg.file_stem().unwrap().to_string_lossy().into_owned();
        let out = tmp.path().join(&stem);
        let (cfg_s, out_s) = (cfg.to_str().unwrap(), out.to_str().unwrap());
        let is_sweep = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("[base") || l.starts_with("base =") || l.starts_with("[[axis]]")
        });
        let sub = if is_sweep { "sweep" } else { "run" };
        let (ok, stderr) = bandwise(&[
            sub,
            cfg_s,
            "--out",
            out_s,
            "--quiet",
            "--set",
            "train.epochs=4",
        ]);
        assert!(ok, "bandwise {sub} {}: {stderr}", cfg.display());
        let run_dir = if is_sweep {
            std::fs::read_dir(out.join("runs"))
                .unwrap()
                .next()
                .expect("a sweep run")
                .unwrap()
                .path()
        } else {
            out.clone()
        };
        let run_json = std::fs::read_to_string(run_dir.join("run.json")).unwrap();
        assert!(run_json.contains("\"completed\""), "{}", cfg.display());
    }
}

/// `run --set` reaches the config, and a bad path is named with a suggestion.
#[test]
fn run_set_overrides_fields_and_names_bad_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let (ok, stderr) = bandwise(&[
        "run",
        "analyses/examples/adam.toml",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--set",
        "train.epochs=3",
        "--set",
        "optimizer.lr=0.01",
    ]);
    assert!(ok, "{stderr}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["config"]["train"]["epochs"], 3);
    assert_eq!(run["config"]["optimizer"]["lr"], 0.01);
    let (ok, stderr) = bandwise(&[
        "run",
        "analyses/examples/adam.toml",
        "--out",
        tmp.path().join("bad").to_str().unwrap(),
        "--set",
        "train.epoch=3",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("train.epoch") && stderr.contains("did you mean `epochs`"),
        "{stderr}"
    );
}
