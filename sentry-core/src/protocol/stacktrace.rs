//! Stack traces and their frames.

use sentry_minimal::{Map, SortedMap};
use serde::{Deserialize, Serialize};

use super::minimal_serde::{sorted_map, wire};
use super::Addr;

/// A stack trace: frames ordered from the outermost caller to the innermost callee, so the
/// frame that crashed or captured comes **last**.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Addr, Frame, Stacktrace};
///
/// let trace = Stacktrace {
///     frames: vec![
///         Frame { function: Some("main".into()), ..Frame::default() },
///         Frame {
///             function: Some("my_app::load".into()),
///             filename: Some("src/load.rs".into()),
///             lineno: Some(12),
///             in_app: Some(true),
///             instruction_addr: Some(Addr(0x1000)),
///             ..Frame::default()
///         },
///     ],
///     ..Stacktrace::default()
/// };
/// let json = serde_json::to_value(&trace).unwrap();
/// assert_eq!(json["frames"][1]["instruction_addr"], "0x1000");
/// assert_eq!(json["frames"][0], serde_json::json!({"function": "main"}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stacktrace {
    /// The frames, outermost caller first and innermost callee (the crashing frame) last.
    #[serde(default)]
    pub frames: Vec<Frame>,
    /// CPU register values at the innermost frame, by register name.
    #[serde(
        default,
        with = "sorted_map",
        skip_serializing_if = "SortedMap::is_empty"
    )]
    pub registers: SortedMap<String, Addr>,
}

impl Stacktrace {
    /// `true` if there are no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }
}

/// One frame of a [`Stacktrace`].
///
/// A frame needs at least one of `filename`, `function` or `instruction_addr`. Unset fields are
/// not written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// The (demangled) function name, possibly trimmed for grouping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The function name as it came from the symbolizer, before trimming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_function: Option<String>,
    /// The module path, such as `my_app::parser`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The binary or library containing the frame (native), or its package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The source file relative to the project root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The absolute path of the source file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_path: Option<String>,
    /// The line number, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u64>,
    /// The column number, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colno: Option<u64>,
    /// Source lines before `context_line`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_context: Vec<String>,
    /// The source line of `lineno`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_line: Option<String>,
    /// Source lines after `context_line`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_context: Vec<String>,
    /// Whether the frame belongs to the application (as opposed to a dependency or the
    /// standard library).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
    /// Local variables.
    #[serde(default, with = "wire", skip_serializing_if = "Map::is_empty")]
    pub vars: Map,
    /// The address of the instruction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_addr: Option<Addr>,
    /// The start address of the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol_addr: Option<Addr>,
    /// The load address of the image containing the frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_addr: Option<Addr>,
    /// How addresses are to be read: `"abs"` (default), `"rel:{image index}"`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr_mode: Option<String>,
    /// The platform of this frame, when it differs from the event's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Marks the first frame of an asynchronous call chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_start: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_fields_are_not_written() {
        let frame = Frame::default();
        assert_eq!(serde_json::to_value(&frame).unwrap(), json!({}));
        assert_eq!(
            serde_json::to_value(Stacktrace::default()).unwrap(),
            json!({"frames": []})
        );
    }

    #[test]
    fn full_frame_round_trips() {
        let mut frame = Frame {
            function: Some("f".into()),
            raw_function: Some("f::h1234".into()),
            module: Some("m".into()),
            package: Some("/usr/bin/app".into()),
            filename: Some("src/main.rs".into()),
            abs_path: Some("/src/main.rs".into()),
            lineno: Some(1),
            colno: Some(2),
            pre_context: vec!["a".into()],
            context_line: Some("b".into()),
            post_context: vec!["c".into()],
            in_app: Some(false),
            vars: Map::new(),
            instruction_addr: Some(Addr(1)),
            symbol_addr: Some(Addr(2)),
            image_addr: Some(Addr(3)),
            addr_mode: Some("abs".into()),
            platform: Some("native".into()),
            stack_start: Some(true),
        };
        frame.vars.insert("x".into(), 1.into());
        let trace = Stacktrace {
            frames: vec![frame],
            registers: [("rip".to_owned(), Addr(0x10))].into_iter().collect(),
        };
        let json = serde_json::to_value(&trace).unwrap();
        assert_eq!(json["registers"], json!({"rip": "0x10"}));
        assert_eq!(json["frames"][0].as_object().map(|o| o.len()), Some(19));
        let back: Stacktrace = serde_json::from_value(json).unwrap();
        assert_eq!(back, trace);
    }
}
