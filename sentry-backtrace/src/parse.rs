//! Reading the text of `std::backtrace::Backtrace` (and of panic messages printed with
//! `RUST_BACKTRACE`) back into frames.

use sentry_core::protocol::{Addr, Frame, Stacktrace};

use crate::names::{module_of, short_filename, strip_hash};
use crate::resolve::resolve_config;
use crate::source::add_source_context;
use crate::trim::trim_stack;

/// Parses the text of a `std::backtrace::Backtrace` (its `Display` output, as printed by
/// `{}` or `{:#}`) into a stack trace, outermost caller first. The frames of the backtrace's
/// own capture are trimmed, frames are marked in-app with the current rules, and source context
/// is added when the files exist. Returns `None` if the text has no frames (such as
/// `"disabled backtrace"`).
///
/// # Examples
///
/// ```
/// let text = "\
///    0: std::backtrace::Backtrace::create
///              at /rustc/90b35a623/library/std/src/backtrace.rs:331:13
///    1: my_app::load_config::h0123456789abcdef
///              at ./src/config.rs:12:9
///    2: my_app::main
///              at ./src/main.rs:4:5
///    3: <unknown>
/// ";
/// let trace = sentry_backtrace::parse_std_backtrace(text).unwrap();
/// let last = trace.frames.last().unwrap();
/// assert_eq!(last.function.as_deref(), Some("my_app::load_config"));
/// assert_eq!(last.module.as_deref(), Some("my_app"));
/// assert_eq!(last.lineno, Some(12));
/// assert_eq!(last.colno, Some(9));
/// assert_eq!(trace.frames.len(), 3);
///
/// let real = std::backtrace::Backtrace::force_capture();
/// let parsed = sentry_backtrace::parse_std_backtrace(&real.to_string());
/// assert!(parsed.is_some_and(|t| !t.frames.is_empty()));
/// ```
pub fn parse_std_backtrace(text: &str) -> Option<Stacktrace> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(location) = trimmed.strip_prefix("at ") {
            if let Some(frame) = frames.last_mut() {
                if frame.abs_path.is_none() {
                    apply_location(frame, location);
                }
            }
            continue;
        }
        let Some((index, rest)) = trimmed.split_once(": ") else {
            continue;
        };
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let mut rest = rest.trim();
        let mut frame = Frame::default();
        // `0x55d8c0f3f1a1 - name` (older formats and unresolved frames).
        if let Some((addr, name)) = rest.split_once(" - ") {
            if let Ok(addr) = addr.trim().parse::<Addr>() {
                frame.instruction_addr = Some(addr);
                rest = name.trim();
            }
        } else if let Ok(addr) = rest.parse::<Addr>() {
            frame.instruction_addr = Some(addr);
            rest = "";
        }
        if !rest.is_empty() && rest != "<unknown>" {
            let function = strip_hash(rest).to_owned();
            frame.module = module_of(&function);
            frame.function = Some(function);
        }
        if frame.function.is_none() && frame.instruction_addr.is_none() {
            // `<unknown>` without an address: keep the frame visible.
            frame.function = Some("<unknown>".to_owned());
        }
        frames.push(frame);
    }
    if frames.is_empty() {
        return None;
    }
    frames.reverse();
    trim_stack(&mut frames, None);
    let config = resolve_config();
    for frame in &mut frames {
        if frame.function.as_deref() == Some("<unknown>") {
            frame.in_app = Some(false);
        } else {
            frame.in_app = config
                .in_app
                .classify(frame.function.as_deref(), frame.abs_path.as_deref());
        }
        if config.source_context {
            add_source_context(frame);
        }
    }
    Some(Stacktrace {
        frames,
        ..Stacktrace::default()
    })
}

/// `path:line:col`, `path:line` or `path` (paths may contain `:` on Windows).
fn apply_location(frame: &mut Frame, location: &str) {
    let mut path = location.trim();
    let mut numbers: Vec<u64> = Vec::new();
    while numbers.len() < 2 {
        match path.rsplit_once(':') {
            Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => {
                match tail.parse() {
                    Ok(n) => numbers.push(n),
                    Err(_) => break,
                }
                path = head;
            }
            _ => break,
        }
    }
    numbers.reverse();
    let (line, col) = match numbers.as_slice() {
        [line, col] => (Some(*line), Some(*col)),
        [line] => (Some(*line), None),
        _ => (None, None),
    };
    frame.lineno = line.filter(|&l| l > 0);
    frame.colno = col.filter(|&c| c > 0);
    frame.filename = Some(short_filename(path));
    frame.abs_path = Some(path.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_windows_paths() {
        let text = "   0:     0x55d8c0f3f1a1 - app::f\n             at C:\\ws\\app\\src\\lib.rs:7\n   1:     0x10 - <unknown>\n";
        let trace = parse_std_backtrace(text).unwrap();
        assert_eq!(trace.frames.len(), 2);
        let f = &trace.frames[1];
        assert_eq!(f.instruction_addr, Some(Addr(0x55d8c0f3f1a1)));
        assert_eq!(f.abs_path.as_deref(), Some("C:\\ws\\app\\src\\lib.rs"));
        assert_eq!(f.lineno, Some(7));
        assert_eq!(f.colno, None);
        assert_eq!(trace.frames[0].instruction_addr, Some(Addr(0x10)));
        assert!(trace.frames[0].function.is_none());
    }

    #[test]
    fn nothing_to_parse() {
        assert!(parse_std_backtrace("disabled backtrace").is_none());
        assert!(parse_std_backtrace("").is_none());
    }
}
