//! Records the version of the compiler building the application, for the `runtime` context,
//! and decides whether the DWARF reader is compiled in (`cfg(sentry_dwarf)`).
//!
//! The reader is only useful when the application's binary carries DWARF, which it does when
//! the build profile enables debug information (Cargo tells build scripts through `DEBUG`), when
//! `-g` / `-C debuginfo` is passed in `RUSTFLAGS`, or when the `dwarf` feature asks for it (for
//! builds that get their debug information some other way, such as a profile override for one
//! package). A release build without debug information then links no DWARF reader: its
//! binary has nothing for one to read.

use std::process::Command;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(sentry_dwarf)");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    if dwarf_wanted() {
        println!("cargo:rustc-cfg=sentry_dwarf");
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    println!("cargo:rustc-env=SENTRY_BACKTRACE_RUSTC_VERSION={version}");
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=SENTRY_BACKTRACE_TARGET={target}");
}

/// Whether the binary being built will carry DWARF worth reading.
fn dwarf_wanted() -> bool {
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    if std::env::var_os("CARGO_FEATURE_DWARF").is_some() || env("DEBUG") == "true" {
        return true;
    }
    // `CARGO_ENCODED_RUSTFLAGS` separates flags with 0x1f.
    let flags = env("CARGO_ENCODED_RUSTFLAGS");
    let flags: Vec<&str> = flags.split('\x1f').collect();
    flags.iter().enumerate().any(|(i, flag)| {
        let codegen = match flag.strip_prefix("-C") {
            Some("") => flags.get(i + 1).copied().unwrap_or(""),
            Some(rest) => rest,
            None => return *flag == "-g",
        };
        codegen
            .strip_prefix("debuginfo=")
            .is_some_and(|level| !matches!(level, "0" | "none"))
    })
}
