//! Loading one image's symbol table (and, where the build produces DWARF, its debug
//! information) into memory the SDK owns.
//!
//! The ELF file is parsed with `object` through a read cache (headers, section headers and the
//! symbol tables only). The symbol table — `.symtab`, or `.dynsym` when the file has none — is
//! copied into one string buffer plus a sorted index, so nothing borrows from the file
//! afterwards and the file is closed.
//!
//! The DWARF half lives in the `dwarf` module and is compiled only when the application's build
//! profile produces debug information (see `build.rs` and `ARCHITECTURE.md`): a release build
//! without `debug` has no DWARF to read, so its symbolizer names functions from the symbol table
//! and links no DWARF reader.

use std::fs::File;
use std::path::Path;

use object::{
    Object, ObjectSection, ObjectSymbol, ObjectSymbolTable, ReadCache, SymbolKind, SymbolScope,
};

#[cfg(sentry_dwarf)]
use super::dwarf::DwarfInfo;
use super::Symbol;
use crate::sort::heap_sort_by_key;

/// ELF images of this process's word size. Parsing them as such, rather than through
/// `object::File`, links no Mach-O, PE, COFF or XCOFF readers.
pub(super) type Elf<'data, R> = object::read::elf::ElfFile<'data, ElfHeader, R>;
#[cfg(target_pointer_width = "64")]
type ElfHeader = object::elf::FileHeader64<object::Endianness>;
#[cfg(not(target_pointer_width = "64"))]
type ElfHeader = object::elf::FileHeader32<object::Endianness>;

/// Everything needed to symbolize addresses of one image, in the file's own address terms.
pub(super) struct ImageDebugInfo {
    symbols: SymbolTable,
    #[cfg(sentry_dwarf)]
    dwarf: Option<DwarfInfo>,
}

impl std::fmt::Debug for ImageDebugInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("ImageDebugInfo");
        s.field("symbols", &self.symbols.entries.len());
        #[cfg(sentry_dwarf)]
        s.field("dwarf", &self.dwarf.is_some());
        s.finish()
    }
}

impl ImageDebugInfo {
    /// Reads the symbol table (and debug information, when compiled in) of the ELF file at
    /// `path`. `None` if the file cannot be opened or is not an object file; an image without
    /// usable DWARF still gets its symbol table.
    pub(super) fn load(path: &Path) -> Option<Self> {
        let file = File::open(path).ok()?;
        let cache = ReadCache::new(&file);
        let object = Elf::parse(&cache).ok()?;
        let symbols = SymbolTable::of(&object);
        Some(ImageDebugInfo {
            symbols,
            #[cfg(sentry_dwarf)]
            dwarf: DwarfInfo::load(&object, &file, path),
        })
    }

    /// The symbol-table entry containing `probe`: its address and (mangled) name.
    pub(super) fn symbol(&self, probe: u64) -> Option<(u64, &str)> {
        self.symbols.containing(probe)
    }

    /// The frames DWARF describes at `probe`, innermost (most inlined) first. Empty without
    /// DWARF, on malformed DWARF, or when the DWARF reader is not compiled in.
    pub(super) fn frames(&self, probe: u64) -> Vec<Symbol> {
        #[cfg(sentry_dwarf)]
        if let Some(dwarf) = &self.dwarf {
            return dwarf.frames(probe);
        }
        let _ = probe;
        Vec::new()
    }

    /// Whether DWARF was found and loaded for this image.
    #[cfg(test)]
    pub(super) fn has_dwarf(&self) -> bool {
        #[cfg(sentry_dwarf)]
        return self.dwarf.is_some();
        #[cfg(not(sentry_dwarf))]
        return false;
    }
}

/// An image's symbol table, owned: every name in one buffer, entries sorted by address.
///
/// Built like `object`'s symbol map (which this replaces, to link one small sort instead of its
/// two): defined, named code and data symbols; where several share an address, a symbol of known
/// kind wins over one of unknown kind, then one with a size over one without, then the widest
/// visibility, then the later entry. The end of every section is an entry with an empty name, so
/// (removed once built) so that a symbol without a size reaches at most to the end of its
/// section.
#[derive(Debug, Default)]
struct SymbolTable {
    names: String,
    entries: Vec<SymbolEntry>,
}

#[derive(Clone, Copy, Debug)]
struct SymbolEntry {
    address: u64,
    /// 0 only for a last entry without a size: it reaches to the end of the address space.
    size: u64,
    name_start: u32,
    name_len: u32,
}

/// A symbol-table entry before duplicates at one address are resolved.
struct Candidate<'data> {
    address: u64,
    /// Lower wins among candidates at one address.
    rank: u64,
    size: u64,
    name: &'data str,
}

impl SymbolTable {
    fn of<'data, R: object::ReadRef<'data>>(object: &Elf<'data, R>) -> Self {
        let Some(table) = object
            .symbol_table()
            .or_else(|| object.dynamic_symbol_table())
        else {
            return SymbolTable::default();
        };
        let mut candidates = Vec::new();
        for symbol in table.symbols() {
            let name = match symbol.name() {
                Ok(name) if symbol.is_definition() && !name.is_empty() => name,
                _ => continue,
            };
            let kind = match symbol.kind() {
                SymbolKind::Text | SymbolKind::Data => 0,
                SymbolKind::Unknown => 1,
                _ => continue,
            };
            let scope = match symbol.scope() {
                SymbolScope::Dynamic => 0,
                SymbolScope::Linkage => 1,
                SymbolScope::Compilation => 2,
                SymbolScope::Unknown => 3,
            };
            let size = symbol.size();
            let preference = (kind * 2 + u64::from(size == 0)) * 4 + scope;
            let later_first =
                u64::from(u32::MAX - u32::try_from(symbol.index().0).unwrap_or(u32::MAX));
            candidates.push(Candidate {
                address: symbol.address(),
                rank: preference << 32 | later_first,
                size,
                name,
            });
        }
        for section in object.sections() {
            candidates.push(Candidate {
                address: section.address().saturating_add(section.size()),
                rank: u64::MAX,
                size: 0,
                name: "",
            });
        }
        heap_sort_by_key(&mut candidates, |c| (c.address, c.rank));
        let mut table = SymbolTable::default();
        for candidate in candidates {
            if table
                .entries
                .last()
                .is_some_and(|last| last.address == candidate.address)
            {
                continue;
            }
            let (Ok(name_start), Ok(name_len)) = (
                u32::try_from(table.names.len()),
                u32::try_from(candidate.name.len()),
            ) else {
                break;
            };
            table.names.push_str(candidate.name);
            table.entries.push(SymbolEntry {
                address: candidate.address,
                size: candidate.size,
                name_start,
                name_len,
            });
        }
        // A symbol without a size reaches to the next entry; then the section ends have done
        // their part.
        let mut next = None;
        for entry in table.entries.iter_mut().rev() {
            if let (0, Some(next)) = (entry.size, next) {
                entry.size = next - entry.address;
            }
            next = Some(entry.address);
        }
        table.entries.retain(|entry| entry.name_len > 0);
        table
    }

    /// The entry at or before `probe` that contains it.
    fn containing(&self, probe: u64) -> Option<(u64, &str)> {
        let index = match self.entries.binary_search_by_key(&probe, |e| e.address) {
            Ok(index) => index,
            Err(index) => index.checked_sub(1)?,
        };
        let entry = self.entries.get(index)?;
        if entry.size != 0 && probe.wrapping_sub(entry.address) >= entry.size {
            return None;
        }
        let start = entry.name_start as usize;
        let name = self.names.get(start..start + entry.name_len as usize)?;
        Some((entry.address, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(u64, u64, &str)]) -> SymbolTable {
        let mut table = SymbolTable::default();
        for &(address, size, name) in entries {
            table.entries.push(SymbolEntry {
                address,
                size,
                name_start: table.names.len() as u32,
                name_len: name.len() as u32,
            });
            table.names.push_str(name);
        }
        table
    }

    #[test]
    fn symbol_lookup_respects_sizes() {
        let table = table(&[(0x100, 0x10, "a"), (0x120, 0, "b"), (0x200, 0x8, "c")]);
        assert_eq!(table.containing(0xff), None);
        assert_eq!(table.containing(0x100), Some((0x100, "a")));
        assert_eq!(table.containing(0x10f), Some((0x100, "a")));
        assert_eq!(
            table.containing(0x110),
            None,
            "past the end of a sized symbol"
        );
        assert_eq!(
            table.containing(0x1ff),
            Some((0x120, "b")),
            "unsized: to the next"
        );
        assert_eq!(table.containing(0x207), Some((0x200, "c")));
        assert_eq!(table.containing(0x208), None);
        assert_eq!(SymbolTable::default().containing(0x100), None);
    }

    #[test]
    fn loads_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let info = ImageDebugInfo::load(&exe).expect("the test binary is an ELF file");
        assert_eq!(
            info.has_dwarf(),
            cfg!(sentry_dwarf),
            "tests are built with debug information, and read it when the reader is compiled in"
        );
        assert!(!info.symbols.entries.is_empty());
        assert!(info
            .symbols
            .entries
            .windows(2)
            .all(|w| w[0].address <= w[1].address));
    }

    /// A copy of this test binary with its debug sections compressed (`SHF_COMPRESSED` for
    /// `zlib`, `.zdebug_*` for `zlib-gnu`): names from the symbol table, no DWARF. Needs
    /// binutils' `objcopy`; without it there is nothing to test against.
    #[test]
    #[cfg(sentry_dwarf)]
    fn compressed_debug_sections_fall_back_to_the_symbol_table() {
        let exe = std::env::current_exe().unwrap();
        let plain = ImageDebugInfo::load(&exe).unwrap();
        assert!(plain.has_dwarf());
        let sample = plain.symbols.entries[plain.symbols.entries.len() / 2];
        let mut tested = 0;
        for style in ["zlib", "zlib-gnu"] {
            let copy = std::env::temp_dir()
                .join(format!("sentry-backtrace-{style}-{}", std::process::id()));
            let made = std::process::Command::new("objcopy")
                .arg(format!("--compress-debug-sections={style}"))
                .arg(&exe)
                .arg(&copy)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            let loaded = made.then(|| ImageDebugInfo::load(&copy));
            let _ = std::fs::remove_file(&copy);
            let Some(loaded) = loaded else {
                continue;
            };
            let compressed = loaded.expect("still an ELF file");
            assert!(!compressed.has_dwarf(), "{style}");
            assert!(compressed.frames(sample.address).is_empty(), "{style}");
            assert_eq!(
                compressed.symbols.entries.len(),
                plain.symbols.entries.len(),
                "{style}"
            );
            assert_eq!(
                compressed.symbol(sample.address),
                plain.symbol(sample.address),
                "{style}"
            );
            tested += 1;
        }
        if tested == 0 {
            eprintln!("objcopy cannot compress debug sections here; nothing tested");
        }
    }

    /// The table names every address as `object`'s own symbol map (which it replaces) does.
    #[test]
    fn agrees_with_the_object_crates_symbol_map() {
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(&exe).unwrap();
        let object = Elf::parse(&*data).unwrap();
        let ours = SymbolTable::of(&object);
        let theirs = object.symbol_map();
        assert!(theirs.symbols().len() > 1_000);
        assert_eq!(ours.entries.len(), theirs.symbols().len());
        for symbol in theirs.symbols() {
            let probes = [
                symbol.address(),
                symbol.address() + symbol.size().saturating_sub(1),
            ];
            for probe in probes {
                assert_eq!(
                    ours.containing(probe),
                    Some((symbol.address(), symbol.name())),
                    "{probe:#x}"
                );
            }
        }
    }

    #[test]
    fn missing_and_foreign_files_load_nothing() {
        assert!(ImageDebugInfo::load(Path::new("/nonexistent/image.so")).is_none());
        let text = std::env::temp_dir().join(format!(
            "sentry-backtrace-not-elf-{}.txt",
            std::process::id()
        ));
        std::fs::write(&text, b"not an object file").unwrap();
        let loaded = ImageDebugInfo::load(&text);
        std::fs::remove_file(&text).unwrap();
        assert!(loaded.is_none());
    }
}
