//! The read-only walk over an event: its JSON size, and whether anything in it exceeds a limit.
//!
//! The walk mirrors what the serializer writes, field by field, and errs on the large side:
//! numbers count their longest form, timestamps and addresses a fixed width, and a stack frame
//! not yet symbolicated [`SYMBOLICATION_ALLOWANCE`] more. In *raw* mode a string counts its
//! bytes plus the quotes; escaping (`\n`, `\u0001`, …) can add up to five bytes per byte, so
//! [`Sizer::upper_bound`] adds that worst case. Only when the worst case is over a limit does a
//! caller walk again in *exact* mode, which counts the escapes. A typical event is far from the
//! limits and is walked once, without reading its strings.

use sentry_minimal::{Breadcrumb, Map, User, Value};

use super::{MAX_BREADTH, SYMBOLICATION_ALLOWANCE};
use crate::depth::{DEPTH_MARKER, MAX_DEPTH};
use crate::protocol::{
    ClientSdkInfo, Context, DebugImage, Event, Exception, Frame, Mechanism, Request, Stacktrace,
    Thread, ThreadId,
};

/// The widest a number is written: `-9223372036854775808`, `1.7976931348623157e308`.
const NUMBER: usize = 24;
/// A timestamp as float seconds.
const TIMESTAMP: usize = NUMBER;
/// An RFC 3339 timestamp in quotes.
const RFC3339: usize = 40;
/// An address in quotes: `"0x` and 16 hex digits `"`.
const ADDR: usize = 20;

/// Walks data and adds up its JSON size, noting values over the limits.
///
/// The counts are `u64` added with wrapping: no walk over data held in memory comes near 2^64
/// bytes, and a plain add keeps the walk's dependency chain short (a saturating add per field
/// made it twice as slow).
#[derive(Debug, Clone)]
pub(crate) struct Sizer {
    bytes: u64,
    strings: u64,
    exact: bool,
    max_chars: usize,
    over: bool,
}

impl Sizer {
    /// A walk that checks strings against `max_chars` characters (`usize::MAX`: no check).
    /// `exact` counts the bytes JSON escaping adds to strings.
    pub(crate) fn new(exact: bool, max_chars: usize) -> Sizer {
        Sizer {
            bytes: 0,
            strings: 0,
            exact,
            max_chars,
            over: false,
        }
    }

    /// The size walked so far. In raw mode it leaves out escaping.
    pub(crate) fn bytes(&self) -> usize {
        usize::try_from(self.bytes).unwrap_or(usize::MAX)
    }

    /// At least the serialized size: exact mode's count, or raw mode's with every string byte
    /// escaped to six.
    pub(crate) fn upper_bound(&self) -> usize {
        let bound = if self.exact {
            self.bytes
        } else {
            self.bytes.saturating_add(self.strings.saturating_mul(5))
        };
        usize::try_from(bound).unwrap_or(usize::MAX)
    }

    /// Whether something walked exceeds the depth, breadth or string length limit.
    pub(crate) fn over_limits(&self) -> bool {
        self.over
    }

    #[inline]
    fn add(&mut self, n: usize) {
        self.bytes = self.bytes.wrapping_add(n as u64);
    }

    /// A string that the limits do not apply to.
    #[inline]
    pub(crate) fn str(&mut self, s: &str) {
        let escapes = if self.exact { escaped_extra(s) } else { 0 };
        self.add(2 + escapes);
        self.add(s.len());
        self.strings = self.strings.wrapping_add(s.len() as u64);
    }

    /// A string subject to `max_value_length`.
    #[inline]
    pub(crate) fn limited(&mut self, s: &str) {
        self.str(s);
        // A string has at most as many characters as bytes: count only the long ones.
        if s.len() > self.max_chars && s.chars().count() > self.max_chars {
            self.over = true;
        }
    }

    /// `"name":` and the comma after the field.
    #[inline]
    fn field(&mut self, name: &str) {
        self.add(name.len() + 4);
    }

    #[inline]
    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.field(name);
            self.str(value);
        }
    }

    fn number(&mut self, name: &str, present: bool) {
        if present {
            self.field(name);
            self.add(NUMBER);
        }
    }

    fn flag(&mut self, name: &str, present: bool) {
        if present {
            self.field(name);
            self.add(5);
        }
    }

    /// A value stored `depth` maps and arrays deep in its data bag (0 for the value under a
    /// bag's key). A map or array at [`MAX_DEPTH`] is counted as the marker it is written as,
    /// without looking inside.
    pub(crate) fn value(&mut self, value: &Value, depth: usize) {
        match value {
            Value::Null => self.add(4),
            Value::Bool(_) => self.add(5),
            Value::I64(n) => self.add(signed_len(*n)),
            Value::U64(n) => self.add(unsigned_len(*n)),
            Value::F64(_) => self.add(NUMBER),
            Value::String(s) => self.limited(s),
            Value::Array(_) | Value::Map(_) if depth >= MAX_DEPTH => {
                self.over = true;
                self.str(DEPTH_MARKER);
            }
            Value::Array(items) => {
                if items.len() > MAX_BREADTH {
                    self.over = true;
                }
                self.add(2 + items.len());
                for item in items {
                    self.value(item, depth + 1);
                }
            }
            Value::Map(map) => self.entries(map, depth + 1, 2),
            // `Value` is non-exhaustive; a future variant is written as its JSON text.
            #[allow(unreachable_patterns)]
            other => self.str(&other.to_string()),
        }
    }

    /// A data bag (`extra`, breadcrumb `data`, a context's fields, …): a map whose values are
    /// at depth 0.
    pub(crate) fn bag(&mut self, map: &Map) {
        self.entries(map, 0, 2);
    }

    /// The entries of a map whose values are at `depth`, plus `braces` bytes around them.
    fn entries(&mut self, map: &Map, depth: usize, braces: usize) {
        if map.len() > MAX_BREADTH {
            self.over = true;
        }
        self.add(braces + map.len() * 2);
        for (key, value) in map {
            self.limited(key);
            self.value(value, depth);
        }
    }

    /// A whole event.
    pub(crate) fn event(&mut self, event: &Event) {
        self.add(2);
        self.field("event_id");
        self.add(34);
        self.field("level");
        self.add(9);
        self.field("platform");
        self.str(&event.platform);
        self.field("timestamp");
        self.add(TIMESTAMP);
        self.opt("logger", event.logger.as_deref());
        self.opt("transaction", event.transaction.as_deref());
        self.opt("server_name", event.server_name.as_deref());
        self.opt("release", event.release.as_deref());
        self.opt("dist", event.dist.as_deref());
        self.opt("environment", event.environment.as_deref());
        if let Some(message) = &event.message {
            self.field("logentry");
            self.add(2);
            self.field("formatted");
            self.limited(message);
        }
        if !event.exception.is_empty() {
            self.values_wrapper("exception", event.exception.len());
            for exception in &event.exception {
                self.exception(exception);
            }
        }
        if !event.threads.is_empty() {
            self.values_wrapper("threads", event.threads.len());
            for thread in &event.threads {
                self.thread(thread);
            }
        }
        if let Some(stacktrace) = &event.stacktrace {
            self.field("stacktrace");
            self.stacktrace(stacktrace);
        }
        if !event.breadcrumbs.is_empty() {
            self.values_wrapper("breadcrumbs", event.breadcrumbs.len());
            for crumb in &event.breadcrumbs {
                self.breadcrumb(crumb);
            }
        }
        if !event.tags.is_empty() {
            self.field("tags");
            self.add(2 + event.tags.len() * 2);
            for (key, value) in &event.tags {
                self.str(key);
                self.str(value);
            }
        }
        if !event.extra.is_empty() {
            self.field("extra");
            self.bag(&event.extra);
        }
        if !event.contexts.is_empty() {
            self.field("contexts");
            self.add(2 + event.contexts.len() * 2);
            for (name, context) in &event.contexts {
                self.str(name);
                self.context(context);
            }
        }
        if let Some(user) = &event.user {
            self.field("user");
            self.user(user);
        }
        if let Some(request) = &event.request {
            self.field("request");
            self.request(request);
        }
        if !event.fingerprint.is_empty() {
            self.field("fingerprint");
            self.add(2 + event.fingerprint.len());
            for part in &event.fingerprint {
                self.str(part);
            }
        }
        if !event.modules.is_empty() {
            self.field("modules");
            self.add(2 + event.modules.len() * 2);
            for (name, version) in &event.modules {
                self.str(name);
                self.str(version);
            }
        }
        if let Some(sdk) = &event.sdk {
            self.field("sdk");
            self.sdk(sdk);
        }
        if let Some(debug_meta) = &event.debug_meta {
            self.field("debug_meta");
            self.add(2);
            self.field("images");
            self.add(2 + debug_meta.images.len());
            for image in &debug_meta.images {
                self.debug_image(image);
            }
        }
    }

    /// `"name":{"values":[` … `]}` around `count` items, with their commas.
    fn values_wrapper(&mut self, name: &str, count: usize) {
        self.field(name);
        self.add(2);
        self.field("values");
        self.add(2 + count);
    }

    pub(crate) fn exception(&mut self, exception: &Exception) {
        self.add(2);
        self.field("type");
        self.str(&exception.ty);
        if let Some(value) = &exception.value {
            self.field("value");
            self.limited(value);
        }
        self.opt("module", exception.module.as_deref());
        if let Some(stacktrace) = &exception.stacktrace {
            self.field("stacktrace");
            self.stacktrace(stacktrace);
        }
        if let Some(mechanism) = &exception.mechanism {
            self.field("mechanism");
            self.mechanism(mechanism);
        }
        if let Some(id) = &exception.thread_id {
            self.field("thread_id");
            self.thread_id(id);
        }
    }

    fn mechanism(&mut self, mechanism: &Mechanism) {
        self.add(2);
        self.field("type");
        self.str(&mechanism.ty);
        self.flag("handled", mechanism.handled.is_some());
        self.flag("synthetic", mechanism.synthetic);
        self.opt("description", mechanism.description.as_deref());
        self.opt("help_link", mechanism.help_link.as_deref());
        if !mechanism.data.is_empty() {
            self.field("data");
            self.bag(&mechanism.data);
        }
        if let Some(meta) = &mechanism.meta {
            // {"signal":{"number":…,"code":…,"name":…,"code_name":…},"errno":{"number":…,"name":…}}
            self.field("meta");
            self.add(128);
            if let Some(signal) = &meta.signal {
                self.opt("name", signal.name.as_deref());
                self.opt("code_name", signal.code_name.as_deref());
            }
            if let Some(errno) = &meta.errno {
                self.opt("name", errno.name.as_deref());
            }
        }
        self.number("exception_id", mechanism.exception_id.is_some());
        self.number("parent_id", mechanism.parent_id.is_some());
        self.opt("source", mechanism.source.as_deref());
        self.flag("is_exception_group", mechanism.is_exception_group);
    }

    fn thread_id(&mut self, id: &ThreadId) {
        match id {
            ThreadId::Int(_) => self.add(NUMBER),
            ThreadId::String(s) => self.str(s),
        }
    }

    fn thread(&mut self, thread: &Thread) {
        self.add(2);
        if let Some(id) = &thread.id {
            self.field("id");
            self.thread_id(id);
        }
        self.opt("name", thread.name.as_deref());
        self.flag("crashed", thread.crashed);
        self.flag("current", thread.current);
        self.flag("main", thread.main);
        self.opt("state", thread.state.as_deref());
        if let Some(stacktrace) = &thread.stacktrace {
            self.field("stacktrace");
            self.stacktrace(stacktrace);
        }
    }

    fn stacktrace(&mut self, stacktrace: &Stacktrace) {
        self.add(2);
        self.field("frames");
        self.add(2 + stacktrace.frames.len());
        for frame in &stacktrace.frames {
            self.frame(frame);
        }
        if !stacktrace.registers.is_empty() {
            self.field("registers");
            self.add(2 + stacktrace.registers.len() * 2);
            for name in stacktrace.registers.keys() {
                self.str(name);
                self.add(ADDR);
            }
        }
    }

    fn frame(&mut self, frame: &Frame) {
        self.add(2);
        self.opt("function", frame.function.as_deref());
        self.opt("raw_function", frame.raw_function.as_deref());
        self.opt("module", frame.module.as_deref());
        self.opt("package", frame.package.as_deref());
        self.opt("filename", frame.filename.as_deref());
        self.opt("abs_path", frame.abs_path.as_deref());
        self.number("lineno", frame.lineno.is_some());
        self.number("colno", frame.colno.is_some());
        for (name, lines) in [
            ("pre_context", &frame.pre_context),
            ("post_context", &frame.post_context),
        ] {
            if !lines.is_empty() {
                self.field(name);
                self.add(2 + lines.len());
                for line in lines {
                    self.str(line);
                }
            }
        }
        self.opt("context_line", frame.context_line.as_deref());
        self.flag("in_app", frame.in_app.is_some());
        if !frame.vars.is_empty() {
            self.field("vars");
            self.bag(&frame.vars);
        }
        for (name, addr) in [
            ("instruction_addr", frame.instruction_addr),
            ("symbol_addr", frame.symbol_addr),
            ("image_addr", frame.image_addr),
        ] {
            if addr.is_some() {
                self.field(name);
                self.add(ADDR);
            }
        }
        self.opt("addr_mode", frame.addr_mode.as_deref());
        self.opt("platform", frame.platform.as_deref());
        self.flag("stack_start", frame.stack_start.is_some());
        if frame.function.is_none() && frame.instruction_addr.is_some() {
            self.add(SYMBOLICATION_ALLOWANCE);
        }
    }

    pub(crate) fn breadcrumb(&mut self, crumb: &Breadcrumb) {
        self.add(2);
        self.field("timestamp");
        self.add(TIMESTAMP);
        self.field("type");
        self.str(&crumb.ty);
        self.opt("category", crumb.category.as_deref());
        if let Some(message) = &crumb.message {
            self.field("message");
            self.limited(message);
        }
        if !crumb.data.is_empty() {
            self.field("data");
            self.bag(&crumb.data);
        }
        self.field("level");
        self.add(9);
        self.opt("origin", crumb.origin.as_deref());
    }

    fn context(&mut self, context: &Context) {
        // Typed contexts are written with their "type"; so may an `Other` map be.
        self.field("type");
        self.add(9);
        match context {
            Context::Os(c) => {
                self.strings_of(&[
                    ("name", c.name.as_deref()),
                    ("version", c.version.as_deref()),
                    ("build", c.build.as_deref()),
                    ("kernel_version", c.kernel_version.as_deref()),
                    ("raw_description", c.raw_description.as_deref()),
                ]);
                self.bag(&c.other);
            }
            Context::Runtime(c) => {
                self.strings_of(&[
                    ("name", c.name.as_deref()),
                    ("version", c.version.as_deref()),
                    ("build", c.build.as_deref()),
                    ("raw_description", c.raw_description.as_deref()),
                ]);
                self.bag(&c.other);
            }
            Context::Device(c) => {
                self.strings_of(&[
                    ("name", c.name.as_deref()),
                    ("family", c.family.as_deref()),
                    ("model", c.model.as_deref()),
                    ("model_id", c.model_id.as_deref()),
                    ("arch", c.arch.as_deref()),
                    ("cpu_description", c.cpu_description.as_deref()),
                ]);
                for (name, present) in [
                    ("processor_count", c.processor_count.is_some()),
                    ("processor_frequency", c.processor_frequency.is_some()),
                    ("memory_size", c.memory_size.is_some()),
                    ("free_memory", c.free_memory.is_some()),
                    ("usable_memory", c.usable_memory.is_some()),
                ] {
                    self.number(name, present);
                }
                if c.boot_time.is_some() {
                    self.field("boot_time");
                    self.add(RFC3339);
                }
                self.bag(&c.other);
            }
            Context::App(c) => {
                if c.app_start_time.is_some() {
                    self.field("app_start_time");
                    self.add(RFC3339);
                }
                self.strings_of(&[
                    ("device_app_hash", c.device_app_hash.as_deref()),
                    ("build_type", c.build_type.as_deref()),
                    ("app_identifier", c.app_identifier.as_deref()),
                    ("app_name", c.app_name.as_deref()),
                    ("app_version", c.app_version.as_deref()),
                    ("app_build", c.app_build.as_deref()),
                ]);
                self.number("app_memory", c.app_memory.is_some());
                self.bag(&c.other);
            }
            Context::Trace(c) => {
                self.field("trace_id");
                self.add(34);
                self.field("span_id");
                self.add(18);
                if c.parent_span_id.is_some() {
                    self.field("parent_span_id");
                    self.add(18);
                }
                self.opt("op", c.op.as_deref());
                if let Some(status) = c.status {
                    self.field("status");
                    self.str(status.as_str());
                }
                self.opt("origin", c.origin.as_deref());
                if !c.data.is_empty() {
                    self.field("data");
                    self.bag(&c.data);
                }
                self.bag(&c.other);
            }
            Context::Other(map) => self.bag(map),
        }
    }

    fn strings_of(&mut self, fields: &[(&str, Option<&str>)]) {
        for (name, value) in fields {
            self.opt(name, *value);
        }
    }

    fn user(&mut self, user: &User) {
        self.strings_of(&[
            ("id", user.id.as_deref()),
            ("email", user.email.as_deref()),
            ("username", user.username.as_deref()),
            ("ip_address", user.ip_address.as_deref()),
        ]);
        // The other keys are written inline, in the user's own braces.
        self.bag(&user.other);
    }

    fn request(&mut self, request: &Request) {
        self.add(2);
        self.strings_of(&[
            ("method", request.method.as_deref()),
            ("url", request.url.as_deref()),
            ("query_string", request.query_string.as_deref()),
            ("cookies", request.cookies.as_deref()),
        ]);
        if let Some(data) = &request.data {
            self.field("data");
            self.value(data, 0);
        }
        for (name, map) in [("headers", &request.headers), ("env", &request.env)] {
            if !map.is_empty() {
                self.field(name);
                self.add(2 + map.len() * 2);
                for (key, value) in map {
                    self.str(key);
                    self.str(value);
                }
            }
        }
    }

    fn sdk(&mut self, sdk: &ClientSdkInfo) {
        self.add(2);
        self.field("name");
        self.str(&sdk.name);
        self.field("version");
        self.str(&sdk.version);
        self.field("integrations");
        self.add(2 + sdk.integrations.len());
        for name in &sdk.integrations {
            self.str(name);
        }
        self.field("packages");
        self.add(2 + sdk.packages.len());
        for package in &sdk.packages {
            self.add(2);
            self.field("name");
            self.str(&package.name);
            self.field("version");
            self.str(&package.version);
        }
    }

    fn debug_image(&mut self, image: &DebugImage) {
        match image {
            DebugImage::Elf(native) | DebugImage::MachO(native) | DebugImage::Pe(native) => {
                self.add(2);
                self.field("type");
                self.add(7);
                self.field("code_file");
                self.str(&native.code_file);
                self.field("debug_id");
                self.str(&native.debug_id);
                self.opt("code_id", native.code_id.as_deref());
                self.opt("debug_file", native.debug_file.as_deref());
                self.field("image_addr");
                self.add(ADDR);
                self.number("image_size", true);
                if native.image_vmaddr.is_some() {
                    self.field("image_vmaddr");
                    self.add(ADDR);
                }
                self.opt("arch", native.arch.as_deref());
            }
            DebugImage::Other(map) => self.bag(map),
        }
    }
}

/// An estimate of an event's serialized size, without serializing it: what the transport
/// queue counts against `queue_max_bytes`. Strings count their bytes (without escaping), so
/// this is close to the memory the event's content takes too.
pub(crate) fn estimated_event_size(event: &Event) -> usize {
    let mut sizer = Sizer::new(false, usize::MAX);
    sizer.event(event);
    sizer.bytes()
}

/// The bytes JSON escaping adds to `s`: one for `"`, `\` and the control characters with a
/// short escape, five for the other control characters (`\u0001`).
fn escaped_extra(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum()
}

fn unsigned_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |digits| digits as usize + 1)
}

fn signed_len(n: i64) -> usize {
    unsigned_len(n.unsigned_abs()) + usize::from(n < 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_count_their_digits() {
        for n in [0i64, 7, -7, 10, 99, -100, i64::MAX, i64::MIN] {
            assert_eq!(signed_len(n), n.to_string().len(), "{n}");
        }
        for n in [0u64, 9, 10, u64::MAX] {
            assert_eq!(unsigned_len(n), n.to_string().len(), "{n}");
        }
    }

    #[test]
    fn escapes_are_counted_as_serde_json_writes_them() {
        for s in [
            "plain",
            "quote\" back\\",
            "tab\tnl\ncr\r",
            "\u{1}\u{1f}\u{8}\u{c}",
            "é…",
        ] {
            let written = serde_json::to_string(s).unwrap().len();
            assert_eq!(s.len() + 2 + escaped_extra(s), written, "{s:?}");
        }
    }
}
