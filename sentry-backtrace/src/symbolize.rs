//! Turning instruction addresses into functions, files and lines.
//!
//! On Linux the SDK reads the images listed in `/proc/self/maps` itself (each loaded by the
//! `loader` module into memory of its own: the symbol table, and the DWARF through `addr2line`
//! when the build produces debug information), with a cache of its own; it never takes the
//! `backtrace` crate's global lock, which application threads need to capture stacks.
//! Elsewhere it asks the `backtrace` crate.
//!
//! Symbolication yields to the finalizer deadline (see the `cache` module): when someone waits
//! for the event and time runs out, frames are named from the symbol table alone, or keep
//! their addresses for Sentry to symbolicate.
//!
//! Images whose debug sections are compressed (`SHF_COMPRESSED` or `.zdebug_*`) are symbolized
//! from their symbol tables only: function names, but no file, line or inlined frames.

use sentry_core::protocol::{Addr, Frame};

use crate::images::LoadedImage;
use crate::names::{module_of, short_filename};

#[cfg(any(target_os = "linux", target_os = "android"))]
mod cache;
#[cfg(all(any(target_os = "linux", target_os = "android"), sentry_dwarf))]
mod dwarf;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod elf;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod loader;

/// Whether this build reads DWARF in-process, giving frames files, lines, inlined calls and
/// (through them) source context.
///
/// On Linux the DWARF reader is compiled in when the build profile produces debug information
/// (`debug` set to anything but `false`/`0`, as in the default `dev` and `test` profiles), when
/// `RUSTFLAGS` carries `-g` or `-C debuginfo`, or with this crate's `dwarf` feature. Without
/// it — a default `release` build, whose binary has no DWARF to read — frames are named from
/// the symbol table, and Sentry can still resolve files and lines from uploaded debug files
/// through the event's `debug_meta` images. Other platforms ask the `backtrace` crate, which
/// reads whatever the platform provides.
///
/// # Examples
///
/// ```
/// if sentry_backtrace::reads_debug_info() {
///     println!("frames get files and lines in-process");
/// }
/// ```
pub const fn reads_debug_info() -> bool {
    cfg!(any(
        sentry_dwarf,
        not(any(target_os = "linux", target_os = "android"))
    ))
}

/// One symbolized frame, before in-app rules and source context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Symbol {
    pub(crate) function: Option<String>,
    pub(crate) raw_function: Option<String>,
    pub(crate) abs_path: Option<String>,
    pub(crate) lineno: Option<u32>,
    pub(crate) colno: Option<u32>,
}

/// Resolves instruction addresses (innermost first) against `images` into frames, innermost
/// first: function names (demangled), and files and lines where the image carries DWARF that
/// this build reads (see [`reads_debug_info`]). Inlined calls expand to several frames sharing
/// one address; an address outside every image keeps only its `instruction_addr`.
///
/// Every address is looked up as a return address (the byte before it), which is what a stack
/// walk yields for all frames but the innermost one.
///
/// For addresses of this process, pass [`loaded_images`](crate::loaded_images); for another
/// process's, build its images with [`LoadedImage::from_range`].
///
/// # Examples
///
/// ```
/// let raw = sentry_backtrace::RawStack::capture();
/// let frames = sentry_backtrace::symbolize_addresses(raw.ips(), &sentry_backtrace::loaded_images());
/// assert!(frames.iter().any(|f| f.function.as_deref().is_some_and(|n| n.contains("main"))));
/// ```
pub fn symbolize_addresses(ips: &[u64], images: &[LoadedImage]) -> Vec<Frame> {
    symbolize(ips, images)
}

/// Resolves return addresses (innermost first) into frames (innermost first; inlined calls
/// expand to several frames sharing one address).
pub(crate) fn symbolize(ips: &[u64], images: &[LoadedImage]) -> Vec<Frame> {
    let mut out = Vec::with_capacity(ips.len() + 8);
    for &ip in ips {
        let image = images.iter().find(|i| i.contains(ip));
        let (symbols, symbol_addr) = match image {
            Some(image) => platform::resolve(ip, image),
            None => platform::resolve_unknown(ip),
        };
        let base = Frame {
            instruction_addr: Some(Addr(ip)),
            symbol_addr: symbol_addr.map(Addr),
            image_addr: image.map(|i| Addr(i.start)),
            package: image.map(|i| i.path.to_string_lossy().into_owned()),
            ..Frame::default()
        };
        if symbols.is_empty() {
            out.push(base);
            continue;
        }
        for symbol in symbols {
            out.push(to_frame(symbol, base.clone()));
        }
    }
    out
}

/// The name of the function whose code contains the return address `ip` (demangled, without
/// the hash): the outermost function of an inline chain, from the symbol table alone on Linux
/// (no DWARF is loaded for this). `None` for an address no symbol covers.
pub(crate) fn outer_name(ip: u64) -> Option<String> {
    let images = crate::images::images_covering(&[ip]);
    match images.iter().find(|i| i.contains(ip)) {
        Some(image) => platform::outer_name(ip, image),
        None => platform::resolve_unknown(ip).0.pop()?.function,
    }
}

fn to_frame(symbol: Symbol, mut frame: Frame) -> Frame {
    frame.module = symbol.function.as_deref().and_then(module_of);
    frame.filename = symbol.abs_path.as_deref().map(short_filename);
    frame.abs_path = symbol.abs_path;
    frame.lineno = symbol.lineno.filter(|&l| l > 0).map(u64::from);
    frame.colno = symbol.colno.filter(|&c| c > 0).map(u64::from);
    frame.raw_function = symbol
        .raw_function
        .filter(|raw| Some(raw) != symbol.function.as_ref());
    frame.function = symbol.function;
    frame
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod platform {
    use super::cache;
    use super::Symbol;
    use crate::images::{image_info, LoadedImage};
    use crate::names::demangle;

    /// An address outside every image in `/proc/self/maps` (JIT code, a mapping that has
    /// gone): nothing on disk describes it, so the frame keeps its address only. (Asking the
    /// `backtrace` crate would find nothing more, and would link a second DWARF reader.)
    pub(super) fn resolve_unknown(_ip: u64) -> (Vec<Symbol>, Option<u64>) {
        (Vec::new(), None)
    }

    pub(super) fn outer_name(ip: u64, image: &LoadedImage) -> Option<String> {
        let info = image_info(image)?;
        let bias = image.start.wrapping_sub(info.file_vaddr);
        let probe = ip.saturating_sub(1).wrapping_sub(bias);
        let entry = cache::entry(image);
        let (_, name) = entry.symbols()?.containing(probe)?;
        Some(demangle(name))
    }

    pub(super) fn resolve(ip: u64, image: &LoadedImage) -> (Vec<Symbol>, Option<u64>) {
        let Some(info) = image_info(image) else {
            return (Vec::new(), None);
        };
        // The runtime address minus the load bias gives the address in the file's terms; the
        // return address minus one lies inside the call instruction.
        let bias = image.start.wrapping_sub(info.file_vaddr);
        let probe = ip.saturating_sub(1).wrapping_sub(bias);
        let entry = cache::entry(image);
        let table = entry.symbols().and_then(|table| table.containing(probe));
        let symbol_addr = table.map(|(address, _)| address.wrapping_add(bias));
        let table_name = table.map(|(_, name)| name.to_owned());
        let mut symbols = entry.frames(probe);
        // Without debug information (or for the outermost function of an inline chain that
        // DWARF left unnamed), the symbol table still names the function.
        match symbols.last_mut() {
            Some(outer) if outer.function.is_none() => {
                outer.function = table_name.as_deref().map(demangle);
                outer.raw_function = table_name;
            }
            None if table_name.is_some() => symbols.push(Symbol {
                function: table_name.as_deref().map(demangle),
                raw_function: table_name,
                ..Symbol::default()
            }),
            _ => {}
        }
        (symbols, symbol_addr)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod platform {
    use super::Symbol;
    use crate::images::LoadedImage;

    pub(super) fn resolve(ip: u64, _image: &LoadedImage) -> (Vec<Symbol>, Option<u64>) {
        resolve_unknown(ip)
    }

    pub(super) fn outer_name(ip: u64, _image: &LoadedImage) -> Option<String> {
        resolve_unknown(ip).0.pop()?.function
    }

    /// Asks the `backtrace` crate (on platforms without our own symbolizer).
    pub(super) fn resolve_unknown(ip: u64) -> (Vec<Symbol>, Option<u64>) {
        let mut symbols = Vec::new();
        let mut symbol_addr = None;
        backtrace::resolve(ip as usize as *mut std::ffi::c_void, |s| {
            let raw = s.name().and_then(|n| n.as_str().map(str::to_owned));
            let function = s.name().map(|n| format!("{n:#}"));
            if symbol_addr.is_none() {
                symbol_addr = s.addr().map(|a| a as usize as u64);
            }
            symbols.push(Symbol {
                function: function.filter(|f| !f.is_empty()),
                raw_function: raw,
                abs_path: s.filename().map(|p| p.to_string_lossy().into_owned()),
                lineno: s.lineno(),
                colno: s.colno(),
            });
        });
        (symbols, symbol_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::RawStack;

    #[inline(never)]
    fn marker_function_for_symbolization() -> RawStack {
        let stack = RawStack::capture();
        // Work after the call, so an optimized build cannot make it a tail call (which would
        // leave this function out of the stack).
        std::hint::black_box(&stack);
        stack
    }

    #[test]
    fn resolves_own_frames() {
        let stack = marker_function_for_symbolization();
        let images = crate::images::loaded_images();
        let frames = symbolize(stack.ips(), &images);
        let me = frames
            .iter()
            .find(|f| {
                f.function
                    .as_deref()
                    .is_some_and(|n| n.ends_with("marker_function_for_symbolization"))
            })
            .unwrap_or_else(|| panic!("{frames:#?}"));
        // Files and lines come from DWARF, read when the profile produces it (the test
        // profile does; `cargo test --release` does not).
        if cfg!(sentry_dwarf) {
            assert!(me.abs_path.as_deref().unwrap().ends_with("symbolize.rs"));
            assert!(me.lineno.is_some());
        }
        assert_eq!(
            me.module.as_deref(),
            Some("sentry_backtrace::symbolize::tests")
        );
        assert!(me.symbol_addr.is_some());
        if cfg!(target_os = "linux") {
            assert!(me.image_addr.is_some());
            assert!(me.package.is_some());
        }
        assert!(frames
            .iter()
            .all(|f| f.function.as_deref().is_none_or(|n| !n.contains("::h"))));
    }
}
