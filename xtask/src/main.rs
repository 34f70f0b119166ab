//! Project automation, run as `cargo xtask <command>`:
//!
//! - `demo`: run the demo application against an embedded receiver and print what arrived.
//! - `receive [--port N]`: run the receiver alone and print every envelope as it arrives.
//! - `ci`: everything CI checks, in order, stopping at the first failure.
//! - `bench [args]`: run the benchmarks.
//! - `footprint [--report-only]`: measure what `sentry` costs a hello world.
//! - `compare [--rounds N] [--measurement-time S]`: the hot paths, ours against the official
//!   `sentry` crate, side by side.
// A command-line tool: printing to stdout is its job.
#![allow(clippy::print_stdout)]
#![forbid(unsafe_code)]

use std::env;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

mod compare;
mod footprint;

use sentry_tests::display;
use sentry_tests::relay;
use sentry_tests::server::TestServer;

/// The port `cargo xtask receive` listens on unless told otherwise.
const DEFAULT_RECEIVE_PORT: u16 = 8970;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo               run the demo app (sentry/examples/demo.rs) against an embedded receiver
                     and print what Sentry would receive; with SENTRY_DSN set, report there instead
  receive [--port N] run the receiver alone on 127.0.0.1 (default port 8970) and print every
                     envelope as it arrives, until Ctrl-C
  ci                 venv for Relay, Spotlight sidecar (npm), fmt, clippy, tests (dev and
                     release profiles), each cargo feature of `sentry`, docs, dependency
                     check; stops at the first failure
  bench [ARGS]       cargo bench --workspace; ARGS go to the benchmark harness
                     (`cargo xtask bench -- ARGS` passes cargo options before the `--`)
  footprint [--report-only]
                     build the hello world in xtask/footprint-hello (default features) from
                     scratch and check it against the targets: crates, clean release build time,
                     stripped size, RSS growth and SDK threads after init; fails on a missed
                     target unless --report-only; slow (a clean build), not part of `ci`
  compare [--rounds N] [--measurement-time S]
                     the hot paths' calling-thread cost, ours against the official `sentry`
                     crate (compare/incumbent, downloaded on first use), interleaved for N rounds
                     (default 3) of S seconds a benchmark (default 2); prints
                     `path | ours | incumbent | ratio`; not part of `ci`
";

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let Some(command) = args.next() else {
        eprint!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest: Vec<String> = args.collect();
    let result = match command.as_str() {
        "ci" => ci(&rest),
        "demo" => demo(&rest),
        "receive" => receive(&rest),
        "bench" => bench(&rest),
        "footprint" => footprint::footprint(&rest),
        "compare" => compare::compare(&rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {command}: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root; every command runs there.
fn root() -> PathBuf {
    relay::workspace_root()
}

/// A `cargo` command run at the workspace root, with the same cargo that runs us.
fn cargo() -> Command {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command.current_dir(root());
    command
}

fn run(command: &mut Command) -> Result<(), String> {
    let status = command
        .status()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(command)))
    }
}

/// `cargo test --workspace`, as the user would type it.
fn describe(command: &Command) -> String {
    let program = command.get_program().to_string_lossy();
    let program = if program.ends_with("cargo") || program.ends_with("cargo.exe") {
        "cargo".into()
    } else {
        program
    };
    let mut text = program.into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

fn flush_stdout() {
    let _ = std::io::stdout().flush();
}

// ---------------------------------------------------------------------------------------------
// ci
// ---------------------------------------------------------------------------------------------

/// Test counts summed over every `test result:` line of `cargo test`.
#[derive(Default)]
struct TestCounts {
    passed: u64,
    failed: u64,
    ignored: u64,
    suites: u64,
}

impl TestCounts {
    /// Adds the counts of a line like
    /// `test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; ...`.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        self.suites += 1;
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(number), Some(label)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }
}

/// Runs `cargo test`, echoing its output while counting the tests.
fn run_tests(command: &mut Command, counts: &mut TestCounts) -> Result<(), String> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", describe(command)))?;
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            counts.add_line(&line);
            let _ = writeln!(out, "{line}");
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for cargo test: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(command)))
    }
}

/// Checks that `sentry-minimal` has no normal or build dependencies.
fn check_minimal_dependencies() -> Result<(), String> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed ({})", output.status));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed invalid JSON: {e}"))?;
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "sentry-minimal"))
        .ok_or("cargo metadata lists no sentry-minimal package")?;
    let offending: Vec<String> = package["dependencies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        // `kind` is null for normal dependencies, "build" or "dev" otherwise. Dev-dependencies
        // never reach users, so they are allowed.
        .filter(|dep| dep["kind"] != "dev")
        .map(|dep| {
            let kind = dep["kind"].as_str().unwrap_or("normal");
            format!("{} ({kind})", dep["name"].as_str().unwrap_or("?"))
        })
        .collect();
    if offending.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "sentry-minimal must have zero dependencies, has: {}",
            offending.join(", ")
        ))
    }
}

fn ci(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`ci` takes no arguments, got {arg:?}"));
    }
    let started = Instant::now();
    let mut done: Vec<(&str, Duration)> = Vec::new();
    let mut counts = TestCounts::default();
    let mut python = PathBuf::new();

    let steps: [&str; 8] = [
        "relay venv, Spotlight sidecar",
        "fmt",
        "clippy",
        "test",
        "test release profile (no DWARF)",
        "features of `sentry`",
        "doc",
        "sentry-minimal has zero dependencies",
    ];
    for (index, name) in steps.into_iter().enumerate() {
        println!("==> [{}/{}] {name}", index + 1, steps.len());
        flush_stdout();
        let step_started = Instant::now();
        let result = match index {
            // The Spotlight tests post to the real sidecar, installed with npm.
            0 => relay::relay_python()
                .map(|p| python = p)
                .map_err(|e| e.to_string())
                .and_then(|()| sentry_tests::spotlight::sidecar_package().map(drop)),
            1 => run(cargo().args(["fmt", "--all", "--", "--check"])),
            2 => run(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])),
            3 => run_tests(
                cargo()
                    .args(["test", "--workspace", "--no-fail-fast"])
                    .env(relay::PYTHON_ENV, &python),
                &mut counts,
            ),
            // A default `release` build has no debug information, so it compiles the symbol-table
            // path of the symbolizer instead of the DWARF reader: test what users ship.
            4 => run_tests(
                cargo().args([
                    "test",
                    "--release",
                    "--no-fail-fast",
                    "-p",
                    "sentry-backtrace",
                    "-p",
                    "sentry-panic",
                ]),
                &mut counts,
            ),
            5 => check_features(),
            6 => run(cargo()
                .args(["doc", "--workspace", "--no-deps", "--all-features"])
                .env("RUSTDOCFLAGS", "-D warnings")),
            _ => check_minimal_dependencies(),
        };
        let result = match result {
            Ok(()) if index == 3 && counts.passed == 0 => Err("cargo test ran no test".to_owned()),
            other => other,
        };
        let took = step_started.elapsed();
        if let Err(message) = result {
            if index == 3 || index == 4 {
                println!(
                    "tests: {} passed, {} failed, {} skipped",
                    counts.passed, counts.failed, counts.ignored
                );
            }
            for (name, took) in &done {
                println!("ci: ok     {name} ({:.1}s)", took.as_secs_f64());
            }
            println!("ci: FAILED {name} ({:.1}s)", took.as_secs_f64());
            flush_stdout();
            return Err(format!("step {:?} failed: {message}", name));
        }
        println!("ci: ok {name} ({:.1}s)", took.as_secs_f64());
        flush_stdout();
        done.push((name, took));
    }

    println!();
    for (name, took) in &done {
        println!("ci: ok {name:<40} {:>7.1}s", took.as_secs_f64());
    }
    println!(
        "ci: all {} steps passed in {:.1}s",
        done.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "tests: {} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.ignored
    );
    flush_stdout();
    Ok(())
}

/// The cargo features of `sentry`, each of which `ci` builds on its own.
const SENTRY_FEATURES: [&str; 15] = [
    "anyhow",
    "reqwest",
    "reqwest-blocking",
    "ureq",
    "transport",
    "native-tls",
    "brotli",
    "panic",
    "backtrace",
    "dwarf",
    "log",
    "tracing",
    "tower",
    "axum",
    "test",
];

/// Builds `sentry` with no features, with each feature alone, and with all of them, so a
/// feature that only compiles next to the defaults is caught.
fn check_features() -> Result<(), String> {
    let check = || {
        let mut command = cargo();
        command.args(["check", "--quiet", "-p", "sentry", "--all-targets"]);
        command
    };
    run(check().arg("--no-default-features"))?;
    for feature in SENTRY_FEATURES {
        println!("  feature {feature}");
        flush_stdout();
        run(check().args(["--no-default-features", "--features", feature]))?;
    }
    run(check().arg("--all-features"))?;
    // The workspace's tests turn the transport's `brotli` feature on; its fallback without the
    // feature is tested here, with the crate built alone.
    println!("  sentry-transport-http without optional features");
    flush_stdout();
    run(cargo().args(["test", "--quiet", "-p", "sentry-transport-http", "--lib"]))
}

// ---------------------------------------------------------------------------------------------
// demo
// ---------------------------------------------------------------------------------------------

fn demo_command() -> Command {
    let mut command = cargo();
    // The profiler runs on Linux only; elsewhere the demo is built without it.
    let features = if cfg!(target_os = "linux") {
        "tracing,profiling"
    } else {
        "tracing"
    };
    command.args([
        "run",
        "--quiet",
        "-p",
        "sentry",
        "--features",
        features,
        "--example",
        "demo",
    ]);
    command
}

fn demo(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`demo` takes no arguments, got {arg:?}"));
    }
    if let Some(dsn) = env::var("SENTRY_DSN")
        .ok()
        .filter(|dsn| !dsn.trim().is_empty())
    {
        println!(
            "SENTRY_DSN is set: the demo reports to {}, not to the local receiver.",
            redact(&dsn)
        );
        flush_stdout();
        return run(&mut demo_command());
    }

    let server = TestServer::start();
    println!(
        "receiver listening on {} (SENTRY_DSN={})",
        server.url(),
        server.dsn()
    );
    println!("running the demo: {}", describe(&demo_command()));
    flush_stdout();
    let mut command = demo_command();
    command.env("SENTRY_DSN", server.dsn());
    // The demo shows every item type: on Linux, where the profiler runs, it profiles itself
    // unless the variable says otherwise (`SENTRY_PROFILE_SESSION_SAMPLE_RATE=0` turns it off).
    if cfg!(target_os = "linux") && env::var_os("SENTRY_PROFILE_SESSION_SAMPLE_RATE").is_none() {
        command.env("SENTRY_PROFILE_SESSION_SAMPLE_RATE", "1");
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run the demo: {e}"))?;
    // Let requests still on their way land.
    server.wait_idle(Duration::from_millis(500), Duration::from_secs(5));

    let requests = server.requests();
    println!();
    println!(
        "──── what Sentry would receive: {} request(s) ────",
        requests.len()
    );
    for request in &requests {
        println!();
        print!("{}", display::format_request(request));
    }
    println!();
    println!("{}", display::summary(&requests));
    flush_stdout();

    if !status.success() {
        return Err(format!("the demo failed ({status})"));
    }
    if requests.is_empty() {
        return Err("nothing arrived at the receiver".to_owned());
    }
    Ok(())
}

/// The DSN without its secret parts, for printing.
fn redact(dsn: &str) -> String {
    match (dsn.find("://"), dsn.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &dsn[..scheme_end], &dsn[at + 1..])
        }
        _ => dsn.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// receive
// ---------------------------------------------------------------------------------------------

fn receive(args: &[String]) -> Result<(), String> {
    let mut port = DEFAULT_RECEIVE_PORT;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = if arg == "--port" {
            args.next().ok_or("--port needs a value")?.as_str()
        } else if let Some(value) = arg.strip_prefix("--port=") {
            value
        } else {
            return Err(format!(
                "unknown argument {arg:?} (usage: cargo xtask receive [--port N])"
            ));
        };
        port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
    }
    let server = TestServer::bind(("127.0.0.1", port)).map_err(|e| {
        format!("cannot listen on 127.0.0.1:{port}: {e} (choose another with --port N)")
    })?;
    println!("receiving on {}", server.url());
    println!("point an app at it: SENTRY_DSN={}", server.dsn());
    println!("Ctrl-C to stop");
    flush_stdout();
    loop {
        server.wait_for_request_count(1, Duration::from_secs(1));
        for request in server.take_requests() {
            println!();
            print!("{}", display::format_request(&request));
            flush_stdout();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// bench
// ---------------------------------------------------------------------------------------------

fn bench(args: &[String]) -> Result<(), String> {
    let mut command = cargo();
    command.args(["bench", "--workspace"]);
    if args.iter().any(|a| a == "--") {
        // The caller separated cargo's options from the harness's.
        command.args(args);
    } else if !args.is_empty() {
        // Harness arguments only: give them to the benchmark targets alone, since the libtest
        // harness of the library targets would reject criterion's options.
        command.args(["--bench", "*", "--"]).args(args);
    }
    run(&mut command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_test_result_lines() {
        let mut counts = TestCounts::default();
        counts.add_line("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s");
        counts.add_line("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.50s");
        counts.add_line("test foo ... ok");
        assert_eq!(
            (counts.passed, counts.failed, counts.ignored, counts.suites),
            (15, 2, 1, 2)
        );
    }

    #[test]
    fn redacts_dsn_keys() {
        assert_eq!(
            redact("https://key@o1.ingest.example/42"),
            "https://***@o1.ingest.example/42"
        );
        assert_eq!(redact("not a dsn"), "not a dsn");
    }
}
