//! Accuracy in a default release build: the `profile_workload` example (no debug info, no
//! frame pointers) spends known shares of its CPU in `spin_a` (main thread) and `spin_b`
//! (a second thread); its samples, symbolized here, must attribute within 5 points of the
//! truth the workload measured, with call paths that reach `main` and the thread start.
//!
//! The example is built with `cargo build --release` into its own target directory under
//! `target/` (the running `cargo test` holds the lock of the main one), with the flags that
//! would add frame pointers or debug info removed from the environment.
//! `SENTRY_SAMPLER_ACCURACY_SECS` sets how long it runs (default 5 s: about 700 samples of
//! the two functions, so sampling noise stays well inside the 5 points).

#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use sentry_backtrace::{symbolize_addresses, LoadedImage};

struct Run {
    images: Vec<LoadedImage>,
    roles: HashMap<u64, String>,
    truth_a: f64,
    truth_b: f64,
    stats: String,
    samples: Vec<(u64, Vec<u64>)>,
    times: Vec<u128>,
    phases: Vec<(u128, u128)>,
}

fn target_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    base.join("sampler-release")
}

fn build_release_example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = target_dir();
    let status = Command::new(cargo)
        .args(["build", "--release", "--example", "profile_workload"])
        .args(["-p", "sentry-profiling", "--target-dir"])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // A default release build: nothing that adds frame pointers or debug info.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_PROFILE_RELEASE_DEBUG")
        .env_remove("CARGO_PROFILE_RELEASE_STRIP")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the release example builds");
    target.join("release/examples/profile_workload")
}

fn run(binary: &PathBuf) -> Run {
    let secs = std::env::var("SENTRY_SAMPLER_ACCURACY_SECS").unwrap_or_else(|_| "5".into());
    let output = Command::new(binary)
        .arg(&secs)
        .output()
        .expect("the example runs");
    assert!(
        output.status.success(),
        "the example exits 0: {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let mut run = Run {
        images: Vec::new(),
        roles: HashMap::new(),
        truth_a: 0.0,
        truth_b: 0.0,
        stats: String::new(),
        samples: Vec::new(),
        times: Vec::new(),
        phases: Vec::new(),
    };
    for line in text.lines() {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "image" => {
                let mut parts = rest.splitn(3, ' ');
                let start = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
                let end = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
                let path = parts.next().unwrap();
                run.images.push(LoadedImage::from_range(path, start, end));
            }
            "thread" => {
                let (tid, role) = rest.split_once(' ').unwrap();
                run.roles.insert(tid.parse().unwrap(), role.to_owned());
            }
            "truth" => {
                let (a, b) = rest.split_once(' ').unwrap();
                run.truth_a = a.parse().unwrap();
                run.truth_b = b.parse().unwrap();
            }
            "stats" => run.stats = rest.to_owned(),
            "phase" => {
                let (a, b) = rest.split_once(' ').unwrap();
                run.phases.push((a.parse().unwrap(), b.parse().unwrap()));
            }
            "sample" => {
                let (tid, rest) = rest.split_once(' ').unwrap();
                let (at, frames) = rest.split_once(' ').unwrap_or((rest, ""));
                run.times.push(at.parse().unwrap());
                let frames = frames
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|a| u64::from_str_radix(a, 16).unwrap())
                    .collect();
                run.samples.push((tid.parse().unwrap(), frames));
            }
            _ => {}
        }
    }
    run
}

/// Function names of one stack, innermost first (inlined frames expanded).
fn names(
    frames: &[u64],
    images: &[LoadedImage],
    cache: &mut HashMap<u64, Vec<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for &addr in frames {
        let resolved = cache.entry(addr).or_insert_with(|| {
            symbolize_addresses(&[addr], images)
                .into_iter()
                .filter_map(|f| f.function)
                .collect()
        });
        out.extend(resolved.iter().cloned());
    }
    out
}

fn reaches(names: &[String], entries: &[&str]) -> bool {
    // The outermost frames: the last few of the path.
    let outer = &names[names.len().saturating_sub(6)..];
    outer.iter().any(|n| entries.iter().any(|e| n.contains(e)))
}

#[test]
fn a_release_build_is_sampled_accurately_with_full_call_paths() {
    let binary = build_release_example();
    let data = std::fs::read(&binary).expect("the binary");
    let elf = object::File::parse(&*data).expect("an ELF file");
    use object::Object;
    assert!(
        elf.section_by_name(".debug_info").is_none(),
        "a default release build carries no DWARF debug info"
    );

    let run = run(&binary);
    let mut cache = HashMap::new();
    let (mut a, mut b) = (0usize, 0usize);
    let (mut a_full, mut b_full) = (0usize, 0usize);
    let mut per_role: HashMap<&str, usize> = HashMap::new();
    let (mut b_samples, mut b_agree) = (0usize, 0usize);
    for (i, (tid, frames)) in run.samples.iter().enumerate() {
        let Some(role) = run.roles.get(tid) else {
            continue;
        };
        *per_role.entry(role.as_str()).or_default() += 1;
        let names = names(frames, &run.images, &mut cache);
        if role == "b" {
            // Each stack of thread b must show what b was doing at the sample's time: in
            // `spin_b` exactly when the time falls in one of its spinning phases.
            let t = run.times[i];
            let spinning = run.phases.iter().any(|&(s, e)| s <= t && t < e);
            let in_spin_b = names.iter().any(|n| n.ends_with("spin_b"));
            b_samples += 1;
            if spinning == in_spin_b {
                b_agree += 1;
            }
        }
        if names.iter().any(|n| n.ends_with("spin_a")) {
            a += 1;
            // The main thread: its path ends in `main` (the program's, then libc's).
            if reaches(&names, &["main"]) {
                a_full += 1;
            }
        } else if names.iter().any(|n| n.ends_with("spin_b")) {
            b += 1;
            // A spawned thread: its path ends in the std thread start (then libc's).
            if reaches(&names, &["thread_start", "start_thread"]) {
                b_full += 1;
            }
        }
    }
    let secs: f64 = std::env::var("SENTRY_SAMPLER_ACCURACY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let context = format!(
        "a={a} (full {a_full}) b={b} (full {b_full}) per thread {per_role:?}; stats {}",
        run.stats
    );
    eprintln!("{context}; b's stacks agree with its phase: {b_agree} of {b_samples}");
    assert!(
        b_agree * 100 >= b_samples * 95,
        "b's stacks match its phases: {b_agree} of {b_samples}"
    );
    // Each thread is sampled at about 101 Hz; a loaded machine may slow the rounds.
    let expected = 101.0 * secs;
    assert!(
        per_role.get("a").copied().unwrap_or(0) as f64 > 0.4 * expected,
        "{context}"
    );
    assert!(
        per_role.get("b").copied().unwrap_or(0) as f64 > 0.4 * expected,
        "{context}"
    );

    let truth = run.truth_a / (run.truth_a + run.truth_b);
    let measured = a as f64 / (a + b) as f64;
    eprintln!(
        "spin_a share: truth {:.1} %, sampled {:.1} %",
        truth * 100.0,
        measured * 100.0
    );
    assert!(
        (measured - truth).abs() <= 0.05,
        "spin_a's share: sampled {measured:.3}, truth {truth:.3}; {context}"
    );
    assert!(
        a_full * 100 >= a * 95,
        "paths of spin_a reach main: {context}"
    );
    assert!(
        b_full * 100 >= b * 95,
        "paths of spin_b reach the thread start: {context}"
    );
}
