//! Loading one image's symbol table into memory the SDK owns.
//!
//! The ELF file is parsed with `object` through a read cache (headers and section headers),
//! and the symbol and string tables are read whole, in one read each: `object` looks every
//! name up separately, which through a read cache is a system call per symbol (175 ms for the
//! 40,000 symbols of a 65 MB debug test binary, against a few ms from memory). The table —
//! `.symtab`, or `.dynsym` when the file has none — is copied into one string buffer plus a
//! sorted index, so nothing borrows from the file afterwards and the file is closed.
//!
//! The DWARF lives in the `dwarf` module, compiled only when the application's build profile
//! produces debug information (see `build.rs` and `ARCHITECTURE.md`), and is loaded apart from
//! the symbol table (see the `cache` module): a symbol table takes milliseconds to load, the
//! DWARF of a large debug build seconds.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

use object::{
    Object, ObjectSection, ObjectSymbol, ObjectSymbolTable, ReadCache, ReadRef, SymbolKind,
    SymbolScope,
};

use super::elf::Elf;
use crate::sort::heap_sort_by_key;

/// The sections the symbol table is read from: read whole, in one read each.
const SYMBOL_SECTIONS: [&str; 4] = [".symtab", ".strtab", ".dynsym", ".dynstr"];

/// A file seen through a read cache, except for a few ranges held in memory.
struct InMemory<'a> {
    cache: &'a ReadCache<&'a File>,
    /// Each range's file offset and bytes.
    ranges: Vec<(u64, Vec<u8>)>,
}

impl<'a> InMemory<'a> {
    /// Reads the file ranges of `sections` of `object` into memory.
    fn read<R: ReadRef<'a>>(
        cache: &'a ReadCache<&'a File>,
        file: &File,
        object: &Elf<'a, R>,
        sections: &[&str],
    ) -> Self {
        let mut ranges = Vec::new();
        for name in sections {
            let Some((offset, size)) = object
                .section_by_name(name)
                .and_then(|section| section.file_range())
            else {
                continue;
            };
            let Ok(size) = usize::try_from(size) else {
                continue;
            };
            let mut bytes = vec![0; size];
            if file.read_exact_at(&mut bytes, offset).is_ok() {
                ranges.push((offset, bytes));
            }
        }
        InMemory { cache, ranges }
    }

    /// The bytes of `range` if one of the ranges in memory starts it, up to that range's end.
    fn held(&self, range: &Range<u64>) -> Option<&[u8]> {
        self.ranges.iter().find_map(|(start, bytes)| {
            let from = usize::try_from(range.start.checked_sub(*start)?).ok()?;
            if from > bytes.len() {
                return None;
            }
            let to = usize::try_from(range.end.saturating_sub(*start))
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            bytes.get(from..to)
        })
    }
}

impl<'a> ReadRef<'a> for &'a InMemory<'a> {
    fn len(self) -> Result<u64, ()> {
        self.cache.len()
    }

    fn read_bytes_at(self, offset: u64, size: u64) -> Result<&'a [u8], ()> {
        let end = offset.checked_add(size).ok_or(())?;
        match self.held(&(offset..end)) {
            Some(bytes) if bytes.len() as u64 == size => Ok(bytes),
            _ => self.cache.read_bytes_at(offset, size),
        }
    }

    fn read_bytes_at_until(self, range: Range<u64>, delimiter: u8) -> Result<&'a [u8], ()> {
        let Some(bytes) = self.held(&range) else {
            return self.cache.read_bytes_at_until(range, delimiter);
        };
        // String tables end their strings with NUL, and std's search for it is optimized even
        // in a debug build of the application.
        if delimiter == 0 {
            return std::ffi::CStr::from_bytes_until_nul(bytes)
                .map(std::ffi::CStr::to_bytes)
                .map_err(|_| ());
        }
        let end = bytes.iter().position(|&b| b == delimiter).ok_or(())?;
        Ok(&bytes[..end])
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
pub(super) struct SymbolTable {
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
    /// Lower wins among candidates at one address (below 2^32).
    preference: u64,
    size: u64,
    name: &'data str,
}

/// The preference of a section's end: every symbol at that address wins over it.
const SECTION_END: u64 = u32::MAX as u64;

impl SymbolTable {
    /// Reads the symbol table of the ELF file at `path`. `None` if the file cannot be opened
    /// or is not an ELF file of this process's word size; empty if it has no symbols.
    pub(super) fn load(path: &Path) -> Option<Self> {
        let file = File::open(path).ok()?;
        let cache = ReadCache::new(&file);
        let headers = Elf::parse(&cache).ok()?;
        let in_memory = InMemory::read(&cache, &file, &headers, &SYMBOL_SECTIONS);
        let object = Elf::parse(&in_memory).ok()?;
        Some(SymbolTable::of(&object))
    }

    /// The number of symbols.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

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
            candidates.push(Candidate {
                address: symbol.address(),
                preference,
                size,
                name,
            });
        }
        for section in object.sections() {
            candidates.push(Candidate {
                address: section.address().saturating_add(section.size()),
                preference: SECTION_END,
                size: 0,
                name: "",
            });
        }
        // Sorted as one integer each, which carries the candidate's place: in a debug build
        // of the application, where this code is not optimized, comparing tuples and moving
        // whole candidates took twice as long (70 ms for 40,000 symbols).
        let Ok(count) = u32::try_from(candidates.len()) else {
            return SymbolTable::default();
        };
        let mut order: Vec<u128> = candidates
            .iter()
            .zip(0..count)
            .map(|(c, index)| {
                // Among equal addresses: lower preference first, then the later entry.
                u128::from(c.address) << 64 | u128::from(c.preference) << 32 | u128::from(!index)
            })
            .collect();
        heap_sort_by_key(&mut order, |key| *key);
        let mut table = SymbolTable::default();
        for key in order {
            // The low 32 bits are the candidate's place, inverted.
            let Some(candidate) = candidates.get(!(key as u32) as usize) else {
                continue;
            };
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

    /// The entry at or before `probe` that contains it: its address and (mangled) name.
    pub(super) fn containing(&self, probe: u64) -> Option<(u64, &str)> {
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
        let table = SymbolTable::load(&exe).expect("the test binary is an ELF file");
        assert!(table.len() > 1_000);
        assert!(table
            .entries
            .windows(2)
            .all(|w| w[0].address <= w[1].address));
    }

    /// Reading the symbol and string tables whole gives the table a parse of the whole file
    /// gives.
    #[test]
    fn reading_the_tables_whole_changes_nothing() {
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(&exe).unwrap();
        let whole = SymbolTable::of(&Elf::parse(&*data).unwrap());
        let loaded = SymbolTable::load(&exe).unwrap();
        assert_eq!(loaded.names, whole.names);
        assert_eq!(loaded.len(), whole.len());
        for (a, b) in loaded.entries.iter().zip(&whole.entries) {
            assert_eq!((a.address, a.size), (b.address, b.size));
        }
    }

    /// A copy of this test binary with its debug sections compressed (`SHF_COMPRESSED` for
    /// `zlib`, `.zdebug_*` for `zlib-gnu`): the symbol table is read as before, and the DWARF
    /// reader declines it. Needs binutils' `objcopy`; without it there is nothing to test
    /// against.
    #[test]
    #[cfg(sentry_dwarf)]
    fn compressed_debug_sections_fall_back_to_the_symbol_table() {
        use super::super::dwarf::DwarfInfo;

        let exe = std::env::current_exe().unwrap();
        let plain = SymbolTable::load(&exe).unwrap();
        assert!(DwarfInfo::load_file(&exe).is_some());
        let sample = plain.entries[plain.entries.len() / 2];
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
            let loaded = made.then(|| (SymbolTable::load(&copy), DwarfInfo::load_file(&copy)));
            let _ = std::fs::remove_file(&copy);
            let Some((table, dwarf)) = loaded else {
                continue;
            };
            let table = table.expect("still an ELF file");
            assert!(dwarf.is_none(), "{style}");
            assert_eq!(table.len(), plain.len(), "{style}");
            assert_eq!(
                table.containing(sample.address),
                plain.containing(sample.address),
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
        assert!(SymbolTable::load(Path::new("/nonexistent/image.so")).is_none());
        let text = std::env::temp_dir().join(format!(
            "sentry-backtrace-not-elf-{}.txt",
            std::process::id()
        ));
        std::fs::write(&text, b"not an object file").unwrap();
        let loaded = SymbolTable::load(&text);
        std::fs::remove_file(&text).unwrap();
        assert!(loaded.is_none());
    }
}
