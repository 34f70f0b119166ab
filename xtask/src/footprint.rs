//! `cargo xtask footprint [--report-only]`: what `sentry` with default features costs a hello
//! world, checked against the project's targets.
//!
//! The probe is the crate in `xtask/footprint-hello` (not a workspace member). It is copied into
//! a fresh temporary directory together with the workspace's `Cargo.lock`, so it builds with the
//! versions the workspace is tested with, and its path dependency is pointed back at this
//! checkout. Then:
//!
//! 1. **crates**: `cargo tree -e normal --prefix none`; every distinct `name vX.Y.Z` counts,
//!    proc-macro crates and the SDK's own crates included, the probe itself excluded (build
//!    dependencies, such as build-script helpers, are not counted);
//! 2. **clean release build**: `cargo fetch` (not timed), then `cargo build --release` into an
//!    empty target directory, timed by the wall clock;
//! 3. **stripped binary**: the release binary after `strip` when `strip` is installed, else
//!    rebuilt with `CARGO_PROFILE_RELEASE_STRIP=symbols`;
//! 4. **RSS growth** and **SDK threads**: the probe, run three times, prints `VmRSS` (and its
//!    anonymous and file-backed parts) before and after `sentry::init`, and the names of its
//!    threads; the median `VmRSS` growth counts.
//!
//! MB means 10^6 bytes. The build time depends on the machine and on what else it is doing: the
//! load average is printed next to it.

use std::collections::BTreeSet;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Unique crates in the dependency tree of the probe.
const MAX_CRATES: usize = 55;
/// Wall time of a clean release build.
const MAX_BUILD_SECS: f64 = 50.0;
/// Size of the stripped release binary.
const MAX_BINARY_BYTES: u64 = 3_200_000;
/// Resident memory added by `sentry::init`.
const MAX_RSS_GROWTH_BYTES: u64 = 1_000_000;
/// Threads the SDK runs after `init`.
const SDK_THREADS: usize = 1;
/// The name of that thread (the kernel shows the first 15 bytes).
const SDK_THREAD_NAME: &str = "sentry-transport";

/// The probe's package name, left out of the crate count.
const PROBE_PACKAGE: &str = "footprint-hello";
/// How the probe's manifest names the `sentry` crate, relative to its own directory.
const PROBE_SENTRY_PATH: &str = "\"../../sentry\"";
/// How many times the probe runs.
const PROBE_RUNS: usize = 3;

const FOOTPRINT_USAGE: &str = "usage: cargo xtask footprint [--report-only]";

/// One measured figure against its target.
struct Check {
    what: &'static str,
    value: String,
    target: String,
    ok: bool,
}

/// Runs the command; `Err` (a message) if a target is missed, unless `--report-only`.
pub(crate) fn footprint(args: &[String]) -> Result<(), String> {
    let mut report_only = false;
    for arg in args {
        match arg.as_str() {
            "--report-only" => report_only = true,
            other => return Err(format!("unknown argument {other:?} ({FOOTPRINT_USAGE})")),
        }
    }

    let work = TempDir::create()?;
    let probe = work.path.join("probe");
    prepare_probe(&probe)?;
    let target_dir = work.path.join("target");
    println!("footprint probe: {}", probe.display());
    super::flush_stdout();

    // 1. Crates.
    let tree =
        capture(cargo(&probe, &target_dir).args(["tree", "-e", "normal", "--prefix", "none"]))?;
    let crates = unique_crates(&tree, PROBE_PACKAGE);

    // 2. Clean release build.
    capture(cargo(&probe, &target_dir).arg("fetch"))?;
    let load_before = load_average();
    println!("building (clean, release)...");
    super::flush_stdout();
    let started = Instant::now();
    super::run(cargo(&probe, &target_dir).args(["build", "--release", "--quiet"]))?;
    let build_secs = started.elapsed().as_secs_f64();
    let load_after = load_average();
    let binary = target_dir.join("release").join(PROBE_PACKAGE);
    let unstripped = file_size(&binary)?;

    // 3. Stripped binary.
    let (stripped, strip_method) = stripped_size(&binary, &work.path, &probe, &target_dir)?;

    // 4. RSS growth and threads.
    let mut runs = Vec::with_capacity(PROBE_RUNS);
    for _ in 0..PROBE_RUNS {
        let output = capture(&mut Command::new(&binary))?;
        runs.push(ProbeReport::parse(&output)?);
    }
    let mut growths: Vec<u64> = runs.iter().map(ProbeReport::rss_growth_kib).collect();
    growths.sort_unstable();
    let growth_kib = growths[growths.len() / 2];
    let last = runs.last().ok_or("the probe did not run")?;
    let sdk_ok = runs.iter().all(|run| {
        run.sdk_threads.len() == SDK_THREADS
            && run
                .sdk_threads
                .iter()
                .all(|name| SDK_THREAD_NAME.starts_with(name.as_str()))
    });

    let checks = [
        Check {
            what: "crates (cargo tree -e normal)",
            value: crates.len().to_string(),
            target: format!("<= {MAX_CRATES}"),
            ok: crates.len() <= MAX_CRATES,
        },
        Check {
            what: "clean release build",
            value: format!(
                "{build_secs:.1} s (load average {load_before} before, {load_after} after)"
            ),
            target: format!("<= {MAX_BUILD_SECS:.0} s"),
            ok: build_secs <= MAX_BUILD_SECS,
        },
        Check {
            what: "stripped binary",
            value: format!(
                "{} ({strip_method}; {} unstripped)",
                megabytes(stripped),
                megabytes(unstripped)
            ),
            target: format!("<= {}", megabytes(MAX_BINARY_BYTES)),
            ok: stripped <= MAX_BINARY_BYTES,
        },
        Check {
            what: "RSS growth after init",
            value: format!(
                "{growth_kib} KiB = {} (VmRSS, median of {PROBE_RUNS}: {growths:?} KiB; \
                 last run: {} KiB before; anonymous {:+} KiB, file-backed {:+} KiB)",
                megabytes(growth_kib * 1024),
                last.rss_before_kib,
                last.rss_anon_kib.1 as i64 - last.rss_anon_kib.0 as i64,
                last.rss_file_kib.1 as i64 - last.rss_file_kib.0 as i64,
            ),
            target: format!("<= {}", megabytes(MAX_RSS_GROWTH_BYTES)),
            ok: growth_kib * 1024 <= MAX_RSS_GROWTH_BYTES,
        },
        Check {
            what: "SDK threads after init",
            value: format!(
                "{} {:?} ({} threads in all)",
                last.sdk_threads.len(),
                last.sdk_threads,
                last.threads
            ),
            target: format!("= {SDK_THREADS} ({SDK_THREAD_NAME})"),
            ok: sdk_ok,
        },
    ];

    println!();
    println!("crates ({}):", crates.len());
    println!("{}", wrap(&crates.iter().cloned().collect::<Vec<_>>(), 96));
    println!();
    println!("footprint of a hello world using `sentry` with default features:");
    for check in &checks {
        println!(
            "  {:<4} {:<30} {}  (target {})",
            if check.ok { "ok" } else { "MISS" },
            check.what,
            check.value,
            check.target
        );
    }
    super::flush_stdout();

    let missed: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.what).collect();
    if missed.is_empty() || report_only {
        Ok(())
    } else {
        Err(format!("targets missed: {}", missed.join(", ")))
    }
}

/// A temporary directory, removed (with the build in it) when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn create() -> Result<Self, String> {
        let path = env::temp_dir().join(format!("sentry-footprint-{}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path)
                .map_err(|e| format!("cannot clear {}: {e}", path.display()))?;
        }
        fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Copies the probe into `dir`: its sources, its manifest with the `sentry` path made absolute,
/// and the workspace's lockfile.
fn prepare_probe(dir: &Path) -> Result<(), String> {
    let source = super::root().join("xtask").join("footprint-hello");
    let read = |path: &Path| {
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let write = |path: &Path, text: &str| {
        fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    fs::create_dir_all(dir.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;

    let manifest = read(&source.join("Cargo.toml"))?;
    let sentry = super::root().join("sentry");
    let manifest = point_at(&manifest, &sentry)?;
    write(&dir.join("Cargo.toml"), &manifest)?;
    write(
        &dir.join("src").join("main.rs"),
        &read(&source.join("src").join("main.rs"))?,
    )?;
    let lockfile = super::root().join("Cargo.lock");
    if lockfile.exists() {
        write(&dir.join("Cargo.lock"), &read(&lockfile)?)?;
    }
    Ok(())
}

/// The probe's manifest with its relative `sentry` path replaced by `sentry_dir`.
fn point_at(manifest: &str, sentry_dir: &Path) -> Result<String, String> {
    if !manifest.contains(PROBE_SENTRY_PATH) {
        return Err(format!(
            "the probe's Cargo.toml no longer names sentry as {PROBE_SENTRY_PATH}"
        ));
    }
    // A TOML basic string: escape what needs escaping.
    let absolute = sentry_dir
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    Ok(manifest.replace(PROBE_SENTRY_PATH, &format!("\"{absolute}\"")))
}

/// `cargo` (the one running us) in the probe's directory, building into `target_dir`.
fn cargo(probe: &Path, target_dir: &Path) -> Command {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command
        .current_dir(probe)
        .env("CARGO_TARGET_DIR", target_dir);
    command
}

/// Runs the command and returns its standard output; standard error goes to ours.
fn capture(command: &mut Command) -> Result<String, String> {
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", super::describe(command)))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({})",
            super::describe(command),
            output.status
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| format!("{} printed non-UTF-8", super::describe(command)))
}

/// The distinct `name vX.Y.Z` entries of `cargo tree --prefix none` output, without `exclude`.
fn unique_crates(tree: &str, exclude: &str) -> BTreeSet<String> {
    tree.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (name, version) = (words.next()?, words.next()?);
            (name != exclude && version.starts_with('v')).then(|| format!("{name} {version}"))
        })
        .collect()
}

fn file_size(path: &Path) -> Result<u64, String> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))
}

/// The size of the binary without symbols: `strip` on a copy if it is installed, else a
/// rebuild with the profile's `strip` setting.
fn stripped_size(
    binary: &Path,
    work: &Path,
    probe: &Path,
    target_dir: &Path,
) -> Result<(u64, &'static str), String> {
    let copy = work.join(format!("{PROBE_PACKAGE}.stripped"));
    fs::copy(binary, &copy).map_err(|e| format!("cannot copy {}: {e}", binary.display()))?;
    let stripped = Command::new("strip")
        .arg(&copy)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if stripped {
        return Ok((file_size(&copy)?, "strip"));
    }
    println!("`strip` is not available: rebuilding with CARGO_PROFILE_RELEASE_STRIP=symbols");
    super::flush_stdout();
    super::run(
        cargo(probe, target_dir)
            .args(["build", "--release", "--quiet"])
            .env("CARGO_PROFILE_RELEASE_STRIP", "symbols"),
    )?;
    Ok((file_size(binary)?, "profile strip = \"symbols\""))
}

/// The 1-minute load average, as the kernel prints it.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// What one run of the probe printed (memory in KiB).
#[derive(Debug, Default, PartialEq, Eq)]
struct ProbeReport {
    rss_before_kib: u64,
    rss_after_kib: u64,
    /// Private memory (heap, stacks), before and after.
    rss_anon_kib: (u64, u64),
    /// File-backed pages (the binary's code and read-only data as it runs), before and after.
    rss_file_kib: (u64, u64),
    threads: usize,
    sdk_threads: Vec<String>,
}

impl ProbeReport {
    fn parse(output: &str) -> Result<Self, String> {
        let mut report = ProbeReport::default();
        let mut seen = 0;
        for line in output.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key == "sdk_thread" {
                report.sdk_threads.push(value.to_owned());
                continue;
            }
            let slot = match key {
                "rss_before_kib" => &mut report.rss_before_kib,
                "rss_after_kib" => &mut report.rss_after_kib,
                "rss_anon_before_kib" => &mut report.rss_anon_kib.0,
                "rss_anon_after_kib" => &mut report.rss_anon_kib.1,
                "rss_file_before_kib" => &mut report.rss_file_kib.0,
                "rss_file_after_kib" => &mut report.rss_file_kib.1,
                "threads" => {
                    report.threads = value
                        .trim()
                        .parse()
                        .map_err(|_| format!("the probe printed a bad number: {line:?}"))?;
                    seen += 1;
                    continue;
                }
                _ => continue,
            };
            *slot = value
                .trim()
                .parse()
                .map_err(|_| format!("the probe printed a bad number: {line:?}"))?;
            seen += 1;
        }
        if seen < 3 || report.rss_before_kib == 0 || report.rss_after_kib == 0 {
            return Err(format!(
                "the probe did not report its memory and threads:\n{output}"
            ));
        }
        Ok(report)
    }

    fn rss_growth_kib(&self) -> u64 {
        self.rss_after_kib.saturating_sub(self.rss_before_kib)
    }
}

/// `bytes` in MB (10^6 bytes), two decimals.
fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// The words joined by commas, in indented lines of at most `width` characters.
fn wrap(words: &[String], width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::from(" ");
    for (index, word) in words.iter().enumerate() {
        let piece = if index + 1 < words.len() {
            format!(" {word},")
        } else {
            format!(" {word}")
        };
        if line.len() + piece.len() > width && line.len() > 1 {
            lines.push(line);
            line = String::from(" ");
        }
        line.push_str(&piece);
    }
    lines.push(line);
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_unique_crates_without_the_probe() {
        let tree = "\
footprint-hello v0.0.0 (/tmp/x/probe)
sentry v0.1.0 (/src/sentry)
serde v1.0.229
serde_derive v1.0.229 (proc-macro)
serde v1.0.229 (*)
getrandom v0.2.17
getrandom v0.3.4

";
        let crates = unique_crates(tree, PROBE_PACKAGE);
        let expected: BTreeSet<String> = [
            "getrandom v0.2.17",
            "getrandom v0.3.4",
            "sentry v0.1.0",
            "serde v1.0.229",
            "serde_derive v1.0.229",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(crates, expected);
    }

    #[test]
    fn parses_the_probe_output() {
        let report = ProbeReport::parse(
            "rss_before_kib=2000\nrss_after_kib=2600\nrss_anon_before_kib=200\n\
             rss_anon_after_kib=240\nrss_file_before_kib=1800\nrss_file_after_kib=2360\n\
             threads=2\nsdk_thread=sentry-transpor\n",
        )
        .unwrap();
        assert_eq!(report.rss_growth_kib(), 600);
        assert_eq!(report.rss_anon_kib, (200, 240));
        assert_eq!(report.rss_file_kib, (1800, 2360));
        assert_eq!(report.threads, 2);
        assert_eq!(report.sdk_threads, ["sentry-transpor"]);
        assert!(SDK_THREAD_NAME.starts_with(report.sdk_threads[0].as_str()));
        assert!(ProbeReport::parse("hello\n").is_err());
        assert!(ProbeReport::parse("rss_before_kib=x\nrss_after_kib=1\nthreads=1\n").is_err());
    }

    #[test]
    fn points_the_probe_at_this_checkout() {
        let manifest = "[dependencies]\nsentry = { path = \"../../sentry\" }\n";
        let pointed = point_at(manifest, Path::new("/src/sdk/sentry")).unwrap();
        assert_eq!(
            pointed,
            "[dependencies]\nsentry = { path = \"/src/sdk/sentry\" }\n"
        );
        assert!(point_at("[dependencies]\n", Path::new("/x")).is_err());
        // The committed probe still has the expected shape.
        let committed = fs::read_to_string(
            super::super::root()
                .join("xtask")
                .join("footprint-hello")
                .join("Cargo.toml"),
        )
        .unwrap();
        assert!(committed.contains(PROBE_SENTRY_PATH));
        assert!(committed.contains(&format!("name = \"{PROBE_PACKAGE}\"")));
    }

    #[test]
    fn formats_sizes_and_lists() {
        assert_eq!(megabytes(3_200_000), "3.20 MB");
        let words: Vec<String> = ["a v1", "b v2", "c v3"].map(str::to_owned).to_vec();
        assert_eq!(wrap(&words, 100), "  a v1, b v2, c v3");
        assert_eq!(wrap(&words, 8), "  a v1,\n  b v2,\n  c v3");
    }
}
