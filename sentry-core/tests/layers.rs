//! The modules of `sentry-core` form layers: a module uses only the modules of lower layers (and,
//! in the two layers whose modules name each other's types, the other module of its own layer).
//! This test reads every source file of the crate and fails on an upward edge, and on an import
//! through the crate root's re-exports (`crate::Client`), which hides the real edge.
//!
//! `ARCHITECTURE.md` ("Layers of sentry-core") explains the order; [`LAYERS`] is the same table.
//! A new module must be placed in it, or this test fails.
//!
//! What counts as an edge: every `crate::module` path in code (a `use`, an expression, a type, a
//! serde `with = "crate::..."` attribute), and `super::` paths that leave a top-level module.
//! What does not: comments (doc links may point anywhere), `#[cfg(test)]` items and files (a
//! unit test may use anything), and `$crate::` paths in macro bodies (they belong to the code
//! the macro expands in). The crate root (`lib.rs`) declares and re-exports; it is not checked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use the modules of earlier layers and of its own.
const LAYERS: &[&[&str]] = &[
    // Leaves: they use no other module of the crate, or only leaves listed before them.
    &["debug"],
    &["signal"],
    &["random"],
    &["time"],
    &["depth"],
    &["callback"],
    &["gate"],
    &["off_thread"],
    // The link to a continuous profiler: its id and the root-span hooks (tracing calls in).
    &["profiling"],
    // The wire.
    &["protocol"],
    &["hint"],
    &["propagation"],
    &["envelope"],
    &["client_reports"],
    // The cuts; the span as the SDK records it (the span layer builds it, the span buffer
    // holds it) and the span vectors kept from sent transactions (the worker gives them back).
    &["limits", "span_record", "span_pool"],
    &["dsn"],
    // Delivery.
    &["ratelimit"],
    &["batch", "logs", "metric_buffer"],
    // Release health (what the worker batches, request sessions per minute, and what the
    // client keeps, the application session) shares the finalizers' layer: neither uses the
    // other.
    &["finalize", "session"],
    &["transport"],
    // Options hold integrations; an integration's methods take the options.
    // How a transaction begins and is sampled (the options name the sampler's argument).
    &["sampling"],
    &["integration", "options"],
    // A scope holds its client; a client applies scopes.
    &["client", "scope", "span"],
    // What applications call.
    &["api"],
    // AI monitoring: spans with the `gen_ai.*` attributes, built on the verbs.
    &["gen_ai"],
    &["init"],
    &["backend"],
    &["logger"],
    &["metrics"],
    &["test"],
];

#[test]
fn modules_use_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = check(&src);
    assert!(
        problems.is_empty(),
        "layering of sentry-core broken (see ARCHITECTURE.md, \"Layers of sentry-core\"):\n{}",
        problems.join("\n")
    );
}

/// Every problem found in the crate whose sources are in `src`, one line each.
fn check(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let layer_of = layer_table(&mut problems);
    let lib = read(&src.join("lib.rs"));
    let declared = declared_modules(&Code::new(&lib).text);
    for module in &declared {
        if !layer_of.contains_key(module.as_str()) {
            problems.push(format!(
                "src/lib.rs: module `{module}` is in no layer; add it to LAYERS in \
                 tests/layers.rs and to the table in ARCHITECTURE.md"
            ));
        }
    }
    for module in layer_of.keys() {
        if !declared.iter().any(|m| m == module) {
            problems.push(format!(
                "tests/layers.rs: LAYERS names `{module}`, which src/lib.rs does not declare"
            ));
        }
    }
    let mut files = Vec::new();
    source_files(src, &mut files);
    files.sort();
    let macros = macro_homes(src, &files);
    let mut skipped = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(src).unwrap_or(file);
        let Some(module) = top_module(rel) else {
            continue; // lib.rs
        };
        if skipped.iter().any(|s: &PathBuf| s == file) {
            continue;
        }
        let code = strip_test_items(&Code::new(&read(file)), file, &mut skipped);
        let depth = module_depth(rel);
        for (line, target) in edges(&code, depth) {
            let here = format!("src/{}:{line}", rel.display());
            let target_module = if declared.contains(&target) {
                target
            } else if let Some(home) = macros.get(&target) {
                home.clone()
            } else {
                problems.push(format!(
                    "{here}: `{module}` reaches `crate::{target}` through the crate root's \
                     re-exports; import it from the module that defines it"
                ));
                continue;
            };
            if target_module == module {
                continue;
            }
            let (Some(&from), Some(&to)) = (
                layer_of.get(module.as_str()),
                layer_of.get(target_module.as_str()),
            ) else {
                continue; // reported above as a module in no layer
            };
            if to > from {
                problems.push(format!(
                    "{here}: `{module}` (layer {}) uses `crate::{target_module}` (layer {}, \
                     above it)",
                    from + 1,
                    to + 1,
                ));
            }
        }
    }
    problems
}

/// Module name → layer index; a module listed twice is a problem.
fn layer_table(problems: &mut Vec<String>) -> BTreeMap<&'static str, usize> {
    let mut layer_of = BTreeMap::new();
    for (index, layer) in LAYERS.iter().enumerate() {
        for &module in *layer {
            if layer_of.insert(module, index).is_some() {
                problems.push(format!("tests/layers.rs: `{module}` is in LAYERS twice"));
            }
        }
    }
    layer_of
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`client/logs.rs` → `client`); `None` for `lib.rs`.
fn top_module(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    if rel.components().count() == 1 {
        let name = first.strip_suffix(".rs")?;
        (name != "lib").then(|| name.to_owned())
    } else {
        Some(first.to_owned())
    }
}

/// How many `super::` a file's code needs to reach the crate root, less one: 0 for `api.rs` and
/// `client/mod.rs`, 1 for `client/logs.rs`.
fn module_depth(rel: &Path) -> usize {
    let parts = rel.components().count();
    let is_mod = rel.file_name().is_some_and(|n| n == "mod.rs");
    parts - 1 - usize::from(is_mod)
}

/// The modules `lib.rs` declares (`mod x;`, `pub mod x;`, `pub(crate) mod x;`), in order.
fn declared_modules(lib: &str) -> Vec<String> {
    let mut modules = Vec::new();
    for line in lib.lines() {
        let line = line.trim();
        let rest = line
            .strip_prefix("pub(crate) mod ")
            .or_else(|| line.strip_prefix("pub mod "))
            .or_else(|| line.strip_prefix("mod "));
        if let Some(name) = rest.and_then(|r| r.strip_suffix(';')) {
            modules.push(name.trim().to_owned());
        }
    }
    modules
}

/// Which module defines each `macro_rules!` macro (exported macros live at the crate root but
/// belong to the module that writes them).
fn macro_homes(src: &Path, files: &[PathBuf]) -> BTreeMap<String, String> {
    let mut homes = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap_or(file);
        let Some(module) = top_module(rel) else {
            continue;
        };
        for line in Code::new(&read(file)).text.lines() {
            if let Some(rest) = line.trim().strip_prefix("macro_rules!") {
                let name: String = rest
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                homes.insert(name, module.clone());
            }
        }
    }
    homes
}

/// Source text prepared for scanning: comments replaced by spaces (line breaks kept, so line
/// numbers hold), and which bytes are inside string or character literals. Literals are kept:
/// a serde attribute's `with = "crate::time::seconds"` is a real edge.
struct Code {
    text: String,
    literal: Vec<bool>,
}

impl Code {
    fn new(source: &str) -> Code {
        let bytes = source.as_bytes();
        let mut text = bytes.to_vec();
        let mut literal = vec![false; bytes.len()];
        let ident =
            |i: usize| i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            let end = if rest.starts_with(b"//") {
                let end = i + rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                blank(&mut text, i, end);
                end
            } else if rest.starts_with(b"/*") {
                let mut depth = 0usize;
                let mut j = i;
                while j < bytes.len() {
                    if bytes[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if bytes[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut text, i, j);
                j
            } else if rest[0] == b'"' {
                let end = i + quoted_len(rest, b'"');
                literal[i..end].fill(true);
                end
            } else if rest[0] == b'r' && !ident(i) || rest.starts_with(b"br") && !ident(i) {
                let start = if rest[0] == b'b' { i + 2 } else { i + 1 };
                let hashes = bytes[start..].iter().take_while(|&&b| b == b'#').count();
                if bytes.get(start + hashes) == Some(&b'"') {
                    let mut close = vec![b'"'];
                    close.extend(std::iter::repeat_n(b'#', hashes));
                    let body = start + hashes + 1;
                    let end = bytes[body..]
                        .windows(close.len())
                        .position(|w| w == close.as_slice())
                        .map_or(bytes.len(), |p| body + p + close.len());
                    literal[i..end].fill(true);
                    end
                } else {
                    i + 1
                }
            } else if rest[0] == b'\'' {
                match char_literal_len(rest) {
                    Some(len) => {
                        literal[i..i + len].fill(true);
                        i + len
                    }
                    None => i + 1, // a lifetime
                }
            } else {
                i + 1
            };
            i = end;
        }
        Code {
            text: String::from_utf8(text).expect("comments blanked with ASCII spaces"),
            literal,
        }
    }
}

/// Replaces `text[start..end]` by spaces, keeping line breaks.
fn blank(text: &mut [u8], start: usize, end: usize) {
    for byte in &mut text[start..end] {
        if *byte != b'\n' {
            *byte = b' ';
        }
    }
}

/// The length of the literal `s` starts with, delimited by `quote`, escapes included.
fn quoted_len(s: &[u8], quote: u8) -> usize {
    let mut escaped = false;
    for (index, &b) in s.iter().enumerate().skip(1) {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            _ if b == quote => return index + 1,
            _ => {}
        }
    }
    s.len()
}

/// The length of the character literal `s` starts with; `None` when the quote starts a
/// lifetime or a label instead.
fn char_literal_len(s: &[u8]) -> Option<usize> {
    if s.get(1) == Some(&b'\\') {
        return Some(quoted_len(s, b'\''));
    }
    let text = std::str::from_utf8(&s[1..s.len().min(6)])
        .unwrap_or_else(|e| std::str::from_utf8(&s[1..1 + e.valid_up_to()]).unwrap_or(""));
    let c = text.chars().next()?;
    (s.get(1 + c.len_utf8()) == Some(&b'\'')).then(|| 2 + c.len_utf8())
}

/// `code` with every `#[cfg(test)]` item blanked out (line breaks kept). A `#[cfg(test)] mod x;`
/// declaration adds the file of `x` to `skipped`.
fn strip_test_items(code: &Code, file: &Path, skipped: &mut Vec<PathBuf>) -> Code {
    const MARK: &str = "#[cfg(test)]";
    let mut text = code.text.clone().into_bytes();
    let mut from = 0;
    while let Some(found) = code.text[from..].find(MARK) {
        let start = from + found;
        if code.literal[start] {
            from = start + MARK.len();
            continue;
        }
        let end = item_end(code, start);
        let declaration = code.text[start + MARK.len()..end].trim();
        if let Some(name) = declaration
            .strip_prefix("mod ")
            .and_then(|d| d.strip_suffix(';'))
        {
            let dir = file.parent().unwrap_or(Path::new("."));
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let base = if stem == "mod" {
                dir.to_path_buf()
            } else {
                dir.join(stem)
            };
            skipped.push(base.join(format!("{}.rs", name.trim())));
            skipped.push(base.join(name.trim()).join("mod.rs"));
        }
        blank(&mut text, start, end);
        from = end;
    }
    Code {
        text: String::from_utf8(text).expect("blanked with ASCII spaces"),
        literal: code.literal.clone(),
    }
}

/// Where the item whose attribute is at `start` ends: after its `;` or after the `}` that
/// closes its first `{`, whichever comes first (literals skipped).
fn item_end(code: &Code, start: usize) -> usize {
    let bytes = code.text.as_bytes();
    let mut depth = 0usize;
    for (i, &byte) in bytes.iter().enumerate().skip(start) {
        if code.literal[i] {
            continue;
        }
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            b';' if depth == 0 => return i + 1,
            _ => {}
        }
    }
    bytes.len()
}

/// Every path in `code` that names a top-level item of the crate: `crate::name`, or a run of
/// `super::` that climbs to the crate root, as (line number, name). `{a, b}` groups give one
/// edge per name. `depth` is how many modules the file's code sits below its top-level module
/// (0 for `api.rs` and `client/mod.rs`, 1 for `client/logs.rs`); inline `mod x { … }` blocks
/// add theirs.
fn edges(code: &Code, depth: usize) -> Vec<(usize, String)> {
    let bytes = code.text.as_bytes();
    let mut found = Vec::new();
    // For each open brace: whether it opened an inline module.
    let mut braces: Vec<bool> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
        }
        if !code.literal[i] && b == b'{' {
            braces.push(opens_module(&code.text[..i]));
        } else if !code.literal[i] && b == b'}' {
            braces.pop();
        }
        let after_ident =
            i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'$'));
        let starts = |prefix: &str| bytes[i..].starts_with(prefix.as_bytes());
        if !after_ident && starts("crate::") {
            for name in path_heads(&code.text[i + "crate::".len()..]) {
                found.push((line, name));
            }
            i += "crate::".len();
            continue;
        }
        if !after_ident && starts("super::") {
            let supers = bytes[i..]
                .chunks("super::".len())
                .take_while(|chunk| *chunk == b"super::")
                .count();
            let inline = braces.iter().filter(|&&module| module).count();
            if supers == depth + inline + 1 {
                for name in path_heads(&code.text[i + "super::".len() * supers..]) {
                    found.push((line, name));
                }
            }
            i += "super::".len() * supers;
            continue;
        }
        i += 1;
    }
    found
}

/// Whether the `{` that follows `before` opens an inline module (`mod name {`).
fn opens_module(before: &str) -> bool {
    let before = before.trim_end();
    let name_start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |p| p + 1);
    let keyword = before[..name_start].trim_end();
    name_start < before.len()
        && keyword.ends_with("mod")
        && !keyword[..keyword.len() - 3]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// The first segments of the paths that follow `crate::`: `api::x` → `api`,
/// `{api, client::Client}` → `api`, `client`.
fn path_heads(after: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(group) = after.strip_prefix('{') {
        let end = group.find('}').unwrap_or(group.len());
        group[..end]
            .split(',')
            .map(ident)
            .filter(|name| !name.is_empty() && name != "self")
            .collect()
    } else {
        let name = ident(after);
        if name.is_empty() {
            Vec::new()
        } else {
            vec![name]
        }
    }
}

/// The check, on a made-up crate: it names the file, the line and the upward edge.
#[test]
fn reports_upward_edges_and_root_reexports() {
    let dir = std::env::temp_dir().join(format!("sentry-layers-{}", std::process::id()));
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create dir");
        fs::write(path, text).expect("write");
    };
    let _ = fs::remove_dir_all(&dir);
    let mut lib = String::new();
    for module in LAYERS.iter().flat_map(|layer| layer.iter()) {
        let _ = writeln!(lib, "mod {module};");
        write(&format!("{module}.rs"), "\n");
    }
    lib.push_str("pub use client::Client;\n");
    write("lib.rs", &lib);
    write(
        "time.rs",
        "use std::fmt;\n// crate::api in a comment is no edge\nfn f() { crate::protocol::json::x(); }\n",
    );
    write(
        "protocol.rs",
        "#[serde(with = \"crate::time::seconds\")]\nstruct S;\n#[cfg(test)]\nmod tests {\n    use crate::test::x;\n}\n",
    );
    write("envelope.rs", "use crate::{protocol::Event, Client};\n");
    write("client.rs", "use crate::scope::Scope;\n");
    write("scope.rs", "use crate::client::Client;\n");
    write(
        "api.rs",
        "use crate::client::Client;\nfn g() { super::logger::enabled(); }\n",
    );
    write("debug.rs", "macro_rules! sentry_debug { () => {} }\n");
    write("signal.rs", "fn h() { crate::sentry_debug!(); }\n");
    let problems = check(&dir);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(
        problems,
        [
            "src/api.rs:2: `api` (layer 24) uses `crate::logger` (layer 28, above it)",
            "src/envelope.rs:1: `envelope` reaches `crate::Client` through the crate root's \
             re-exports; import it from the module that defines it",
            "src/time.rs:3: `time` (layer 4) uses `crate::protocol` (layer 10, above it)",
        ],
    );
}
