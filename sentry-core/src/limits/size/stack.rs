//! Sizing exceptions, threads, stack traces and frames.

use super::{Sizer, ADDR, NUMBER};
use crate::limits::SYMBOLICATION_ALLOWANCE;
use crate::protocol::{Exception, Frame, Mechanism, Stacktrace, Thread, ThreadId};

impl Sizer {
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

    pub(super) fn mechanism(&mut self, mechanism: &Mechanism) {
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

    pub(super) fn thread_id(&mut self, id: &ThreadId) {
        match id {
            ThreadId::Int(_) => self.add(NUMBER),
            ThreadId::String(s) => self.str(s),
        }
    }

    pub(super) fn thread(&mut self, thread: &Thread) {
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

    pub(super) fn stacktrace(&mut self, stacktrace: &Stacktrace) {
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

    pub(super) fn frame(&mut self, frame: &Frame) {
        if is_bare(frame) {
            // A frame captured on this thread and not yet symbolicated: what the full walk
            // below adds for it, without looking at each absent field.
            self.add(2);
            self.field("instruction_addr");
            self.add(ADDR + SYMBOLICATION_ALLOWANCE);
            return;
        }
        self.frame_fields(frame);
    }

    /// Every field of `frame`, present or not.
    fn frame_fields(&mut self, frame: &Frame) {
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
}

/// `true` for a frame that carries its instruction address and nothing else (a raw stack's
/// frame before the worker symbolicates it).
fn is_bare(frame: &Frame) -> bool {
    let Frame {
        function,
        raw_function,
        module,
        package,
        filename,
        abs_path,
        lineno,
        colno,
        pre_context,
        context_line,
        post_context,
        in_app,
        vars,
        instruction_addr,
        symbol_addr,
        image_addr,
        addr_mode,
        platform,
        stack_start,
    } = frame;
    instruction_addr.is_some()
        && function.is_none()
        && raw_function.is_none()
        && module.is_none()
        && package.is_none()
        && filename.is_none()
        && abs_path.is_none()
        && lineno.is_none()
        && colno.is_none()
        && pre_context.is_empty()
        && context_line.is_none()
        && post_context.is_empty()
        && in_app.is_none()
        && vars.is_empty()
        && symbol_addr.is_none()
        && image_addr.is_none()
        && addr_mode.is_none()
        && platform.is_none()
        && stack_start.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Addr;

    /// A bare frame's short cut counts what the walk of every field counts.
    #[test]
    fn bare_frames_size_as_the_full_walk_does() {
        let bare = Frame {
            instruction_addr: Some(Addr(0x1000)),
            ..Frame::default()
        };
        assert!(is_bare(&bare));
        let mut fast = Sizer::new(false, usize::MAX);
        fast.frame(&bare);
        let mut full = Sizer::new(false, usize::MAX);
        full.frame_fields(&bare);
        assert_eq!(fast.upper_bound(), full.upper_bound());
        for other in [
            Frame {
                stack_start: Some(false),
                ..bare.clone()
            },
            Frame {
                function: Some("main".into()),
                ..bare.clone()
            },
            Frame::default(),
        ] {
            assert!(!is_bare(&other), "{other:?}");
        }
    }
}
