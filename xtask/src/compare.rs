//! `cargo xtask compare`: the calling thread's cost of the hot paths, ours against the official
//! `sentry` crate, measured side by side on this machine.
//!
//! The official crate is benchmarked by `compare/incumbent`, a crate outside the workspace with
//! its own lock file (building it downloads that crate and its dependencies, which is why CI
//! does not run this). Our side is our own benchmarks, filtered to the matching rows. The two
//! run interleaved, one benchmark target at a time (ours, then theirs; the next round in the
//! other order), for a few rounds with short measurement times, and the table reports the
//! median of the rounds: a machine whose load drifts moves both sides alike.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use crate::{cargo, describe, flush_stdout, root, run};

/// One compared path: our benchmark and the official crate's.
struct Row {
    /// What the row measures, as the table prints it.
    path: &'static str,
    /// Our benchmark target: package, `--bench` name.
    target: (&'static str, &'static str),
    /// Our criterion id.
    ours: &'static str,
    /// The official crate's criterion id (in `compare/incumbent/benches/incumbent.rs`).
    incumbent: &'static str,
}

const ROWS: [Row; 12] = [
    Row {
        path: "fork + enter + drop (push_scope)",
        target: ("sentry-core", "scopes"),
        ours: "enabled/fork_current_enter_drop",
        incumbent: "incumbent/push_scope_drop",
    },
    Row {
        path: "push_scope + drop, one call each",
        target: ("sentry-core", "scopes"),
        ours: "enabled/push_scope_drop",
        incumbent: "incumbent/push_scope_drop",
    },
    Row {
        path: "with_scope, no-op",
        target: ("sentry-core", "scopes"),
        ours: "enabled/with_scope_noop",
        incumbent: "incumbent/with_scope_noop",
    },
    Row {
        path: "with_scope + set_tag",
        target: ("sentry-core", "scopes"),
        ours: "enabled/with_scope_set_tag",
        incumbent: "incumbent/with_scope_set_tag",
    },
    Row {
        path: "add_breadcrumb (ring full)",
        target: ("sentry-core", "scopes"),
        ours: "enabled/add_breadcrumb",
        incumbent: "incumbent/add_breadcrumb",
    },
    Row {
        path: "capture_error (ours with stack)",
        target: ("sentry-backtrace", "capture"),
        ours: "calling_thread/capture_error_with_stack_deferred",
        incumbent: "incumbent/capture_error",
    },
    Row {
        path: "capture_error (ours without stack)",
        target: ("sentry-backtrace", "capture"),
        ours: "calling_thread/capture_error_without_stack",
        incumbent: "incumbent/capture_error",
    },
    Row {
        path: "capture_error, both with stack (official: attach_stacktrace)",
        target: ("sentry-backtrace", "capture"),
        ours: "calling_thread/capture_error_with_stack_deferred",
        incumbent: "incumbent/capture_error_attach_stacktrace",
    },
    Row {
        path: "capture_message, 10 tags + 100 breadcrumbs on the scopes",
        target: ("sentry-core", "scopes"),
        ours: "enabled/capture_message_10_tags_100_breadcrumbs",
        incumbent: "incumbent/capture_message_10_tags_100_breadcrumbs",
    },
    Row {
        path: "child span start + finish, sampled (official: tx.start_child)",
        target: ("sentry-core", "tracing"),
        ours: "tracing/child_span_start_finish",
        incumbent: "incumbent/child_span_start_finish",
    },
    Row {
        path: "#[instrument]ed call in a sampled tracing span (tracing layers)",
        target: ("sentry-log", "bridges"),
        ours: "bridges/tracing_span_sampled",
        incumbent: "incumbent/tracing_span_sampled",
    },
    Row {
        path: "log::debug! filtered out",
        target: ("sentry-log", "bridges"),
        ours: "bridges/log_debug_filtered",
        incumbent: "incumbent/log_debug_filtered",
    },
];

/// The manifest of the official crate's benchmark, relative to the workspace root.
const INCUMBENT_MANIFEST: &str = "compare/incumbent/Cargo.toml";

const USAGE: &str = "usage: cargo xtask compare [--rounds N] [--measurement-time SECONDS]";

struct Settings {
    rounds: u32,
    measurement_secs: u32,
}

fn parse_args(args: &[String]) -> Result<Settings, String> {
    let mut settings = Settings {
        rounds: 3,
        measurement_secs: 2,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, value.to_owned()),
            None => (
                arg.as_str(),
                args.next()
                    .ok_or_else(|| format!("{arg} needs a value ({USAGE})"))?
                    .clone(),
            ),
        };
        let number = value
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name} takes a positive whole number, got {value:?}"))?;
        match name {
            "--rounds" => settings.rounds = number,
            "--measurement-time" => settings.measurement_secs = number,
            _ => return Err(format!("unknown argument {arg:?} ({USAGE})")),
        }
    }
    Ok(settings)
}

/// Runs the comparison and prints the table.
pub(crate) fn compare(args: &[String]) -> Result<(), String> {
    let settings = parse_args(args)?;
    if !root().join(INCUMBENT_MANIFEST).is_file() {
        return Err(format!("{INCUMBENT_MANIFEST} is missing"));
    }

    println!("==> building the benchmarks (ours, and the official crate's: it is downloaded)");
    flush_stdout();
    for (package, bench) in targets() {
        run(cargo().args(["bench", "--no-run", "-p", package, "--bench", bench]))?;
    }
    run(incumbent_cargo().args(["--no-run"]))?;

    println!("load average before: {}", load_average());
    let mut ours: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut theirs: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 0..settings.rounds {
        for target in targets() {
            let rows: Vec<&Row> = ROWS.iter().filter(|r| r.target == target).collect();
            let our_filter = exact_filter(rows.iter().map(|r| r.ours));
            let their_filter = exact_filter(rows.iter().map(|r| r.incumbent));
            let mut ours_cmd = cargo();
            ours_cmd.args(["bench", "-p", target.0, "--bench", target.1]);
            let mut theirs_cmd = incumbent_cargo();
            let mut runs = [
                (&mut ours_cmd, our_filter, &mut ours, "ours"),
                (&mut theirs_cmd, their_filter, &mut theirs, "official"),
            ];
            // Alternate who goes first, so a drift in the machine's load favours neither.
            if round % 2 == 1 {
                runs.reverse();
            }
            for (command, filter, results, side) in runs {
                print!(
                    "round {}/{}: {} {} ... ",
                    round + 1,
                    settings.rounds,
                    side,
                    target.1
                );
                flush_stdout();
                let measured = run_bench(command, &filter, &settings)?;
                for (id, ns) in measured {
                    if let Some(row) = ROWS.iter().find(|r| r.ours == id || r.incumbent == id) {
                        let key = if side == "ours" {
                            row.ours
                        } else {
                            row.incumbent
                        };
                        results.entry(key).or_default().push(ns);
                    }
                }
                println!("done");
            }
        }
    }
    println!("load average after: {}", load_average());
    println!();
    print!("{}", table(&ours, &theirs)?);
    flush_stdout();
    Ok(())
}

/// Our benchmark targets, in the order of the table.
fn targets() -> Vec<(&'static str, &'static str)> {
    let mut targets: Vec<(&str, &str)> = Vec::new();
    for row in &ROWS {
        if !targets.contains(&row.target) {
            targets.push(row.target);
        }
    }
    targets
}

/// `cargo bench` of the official crate's benchmark, with its own lock file.
fn incumbent_cargo() -> Command {
    let mut command = cargo();
    command.args([
        "bench",
        "--locked",
        "--manifest-path",
        INCUMBENT_MANIFEST,
        "--bench",
        "incumbent",
    ]);
    command
}

/// A criterion filter matching exactly these ids (they hold no regex metacharacters).
fn exact_filter<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    format!("^({})$", ids.join("|"))
}

/// Runs one benchmark binary through cargo and returns each benchmark's time in nanoseconds.
fn run_bench(
    command: &mut Command,
    filter: &str,
    settings: &Settings,
) -> Result<Vec<(String, f64)>, String> {
    command
        .args(["--", "--color", "never", "--warm-up-time", "1"])
        .args(["--measurement-time", &settings.measurement_secs.to_string()])
        .arg(filter)
        .stdin(Stdio::null());
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", describe(command)))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}):\n{stdout}{}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let measured = parse_criterion(&stdout);
    if measured.is_empty() {
        return Err(format!(
            "{} measured nothing (filter {filter})",
            describe(command)
        ));
    }
    Ok(measured)
}

/// The benchmarks criterion reported on stdout: `id  time:   [low estimate high]`, the id on the
/// line before when it is long. Returns each id with its estimate in nanoseconds.
fn parse_criterion(stdout: &str) -> Vec<(String, f64)> {
    let mut measured = Vec::new();
    let mut previous = "";
    for line in stdout.lines() {
        if let Some((head, rest)) = line.split_once("time:") {
            let id = match head.trim() {
                "" => previous.trim(),
                id => id,
            };
            let values: Vec<&str> = rest
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split_whitespace()
                .collect();
            // Three values, each a number and a unit; the middle one is the estimate.
            if let [_, _, number, unit, _, _] = values.as_slice() {
                if let Some(ns) = nanoseconds(number, unit) {
                    if !id.is_empty() {
                        measured.push((id.to_owned(), ns));
                    }
                }
            }
        }
        if !line.trim().is_empty() {
            previous = line;
        }
    }
    measured
}

fn nanoseconds(number: &str, unit: &str) -> Option<f64> {
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "ps" => 1e-3,
        "ns" => 1.0,
        "µs" | "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(number * scale)
}

/// The median and the range of a row's rounds.
fn summary(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let upper = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        *sorted.get(upper)?
    } else {
        (sorted.get(upper.checked_sub(1)?)? + sorted.get(upper)?) / 2.0
    };
    Some((median, *sorted.first()?, *sorted.last()?))
}

fn format_ns(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else if ns >= 10.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.2} ns")
    }
}

/// The Markdown table: median of the rounds (range), and the ratio of the medians.
fn table(
    ours: &BTreeMap<&str, Vec<f64>>,
    theirs: &BTreeMap<&str, Vec<f64>>,
) -> Result<String, String> {
    let mut text = String::from(
        "| path | ours | incumbent | ratio (incumbent / ours) |\n|---|---:|---:|---:|\n",
    );
    for row in &ROWS {
        let mine = ours.get(row.ours).and_then(|v| summary(v));
        let other = theirs.get(row.incumbent).and_then(|v| summary(v));
        let (Some(mine), Some(other)) = (mine, other) else {
            return Err(format!(
                "no figures for {:?} ({} / {})",
                row.path, row.ours, row.incumbent
            ));
        };
        text.push_str(&format!(
            "| {} | {} ({}–{}) | {} ({}–{}) | {:.2} |\n",
            row.path,
            format_ns(mine.0),
            format_ns(mine.1),
            format_ns(mine.2),
            format_ns(other.0),
            format_ns(other.1),
            format_ns(other.2),
            other.0 / mine.0
        ));
    }
    Ok(text)
}

/// The 1, 5 and 15 minute load averages, where the system tells them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_criterion_output() {
        let stdout = "\
incumbent/capture_error time:   [3.8524 µs 4.0187 µs 4.2012 µs]
Found 4 outliers among 100 measurements (4.00%)
  2 (2.00%) high mild
calling_thread/capture_error_with_stack_deferred
                        time:   [5.1 µs 5.5 µs 5.9 µs]
                        change: [-1.0% +0.5% +2.0%] (p = 0.50 > 0.05)
bridges/log_debug_filtered
                        time:   [629.34 ps 654.61 ps 679.05 ps]
";
        let measured = parse_criterion(stdout);
        let ids: Vec<&str> = measured.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "incumbent/capture_error",
                "calling_thread/capture_error_with_stack_deferred",
                "bridges/log_debug_filtered"
            ]
        );
        assert!((measured[0].1 - 4018.7).abs() < 1e-6);
        assert!((measured[1].1 - 5500.0).abs() < 1e-6);
        assert!((measured[2].1 - 0.65461).abs() < 1e-9);
    }

    #[test]
    fn medians_and_filters() {
        assert_eq!(summary(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(summary(&[4.0, 1.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(summary(&[]), None);
        assert_eq!(exact_filter(["c", "a/b", "c"].into_iter()), "^(a/b|c)$");
        assert!(parse_args(&["--rounds".into(), "0".into()]).is_err());
        let settings = parse_args(&["--rounds=5".into()]).expect("valid");
        assert_eq!((settings.rounds, settings.measurement_secs), (5, 2));
    }
}
