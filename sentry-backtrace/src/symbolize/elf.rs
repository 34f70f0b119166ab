//! The one ELF reader the symbolizer instantiates, shared by the symbol-table loader and the
//! DWARF reader.

/// ELF images of this process's word size. Parsing them as such, rather than through
/// `object::File`, links no Mach-O, PE, COFF or XCOFF readers.
pub(super) type Elf<'data, R> = object::read::elf::ElfFile<'data, ElfHeader, R>;
#[cfg(target_pointer_width = "64")]
type ElfHeader = object::elf::FileHeader64<object::Endianness>;
#[cfg(not(target_pointer_width = "64"))]
type ElfHeader = object::elf::FileHeader32<object::Endianness>;
