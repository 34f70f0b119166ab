//! The binary images loaded in the process (Linux: from `/proc/self/maps`), with the
//! identifiers Sentry needs to find their debug files.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sentry_core::protocol::{Addr, DebugImage, NativeDebugImage, SortedMap};

/// One image (executable or shared library) mapped into the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// The file, as the kernel names it.
    pub path: PathBuf,
    /// Where its first byte is mapped.
    pub start: u64,
    /// The end of its last mapping.
    pub end: u64,
    /// Identity of the file (device and inode), to cache per file version.
    pub(crate) key: (String, u64),
}

impl LoadedImage {
    /// An image described by someone else: the file `path`, mapped at `start..end` in the
    /// process whose addresses will be resolved against it (for example an image of a
    /// profile's or an event's `debug_meta`, to symbolize another process's addresses).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_backtrace::LoadedImage;
    ///
    /// let image = LoadedImage::from_range("/usr/bin/app", 0x5555_0000_0000, 0x5555_0001_0000);
    /// assert!(image.contains(0x5555_0000_1234));
    /// assert!(!image.contains(0x5555_0001_0000));
    /// ```
    pub fn from_range(path: impl Into<PathBuf>, start: u64, end: u64) -> LoadedImage {
        let path = path.into();
        // The cache keys images by file identity; a file named from outside is keyed by its
        // path and its inode (0 when it cannot be read, so it is still keyed by path).
        let inode = file_inode(&path);
        let key = (format!("path:{}", path.to_string_lossy()), inode);
        LoadedImage {
            path,
            start,
            end,
            key,
        }
    }

    /// `true` if `addr` lies inside the image.
    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }
}

#[cfg(unix)]
fn file_inode(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| m.ino()).unwrap_or(0)
}

#[cfg(not(unix))]
fn file_inode(_path: &std::path::Path) -> u64 {
    0
}

/// What is read once from an image file: how it is laid out and how it is identified.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ImageInfo {
    /// The GNU build id.
    pub(crate) build_id: Option<Vec<u8>>,
    /// The address the file's first byte would have if it were loaded at its preferred
    /// addresses (the `p_vaddr - p_offset` of the segment mapping offset 0).
    pub(crate) file_vaddr: u64,
    /// The architecture name Sentry uses.
    pub(crate) arch: Option<&'static str>,
}

/// The images mapped now, code-bearing only, sorted by address. Empty where the platform has
/// no `/proc/self/maps`.
pub fn loaded_images() -> Vec<LoadedImage> {
    match std::fs::read_to_string("/proc/self/maps") {
        Ok(maps) => parse_maps(&maps),
        Err(_) => Vec::new(),
    }
}

/// The loaded images, re-read when the cached list is older than [`IMAGES_MAX_AGE`] or does
/// not cover one of `addrs` (a library loaded since). Reading `/proc/self/maps` costs tens of
/// microseconds; most events reuse the list.
pub(crate) fn images_covering(addrs: &[u64]) -> Arc<Vec<LoadedImage>> {
    type Cached = Option<(Instant, Arc<Vec<LoadedImage>>)>;
    static CACHED: Mutex<Cached> = Mutex::new(None);
    let mut guard = CACHED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((at, images)) = guard.as_ref() {
        let fresh = at.elapsed() < IMAGES_MAX_AGE;
        if fresh && addrs.iter().all(|a| images.iter().any(|i| i.contains(*a))) {
            return Arc::clone(images);
        }
    }
    let images = Arc::new(loaded_images());
    *guard = Some((Instant::now(), Arc::clone(&images)));
    images
}

/// How long a list of loaded images is reused.
const IMAGES_MAX_AGE: Duration = Duration::from_secs(1);

/// Parses `/proc/<pid>/maps`: groups the mappings of each file and keeps files with an
/// executable mapping.
pub(crate) fn parse_maps(maps: &str) -> Vec<LoadedImage> {
    struct Acc {
        start: u64,
        end: u64,
        executable: bool,
        key: (String, u64),
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_path: SortedMap<String, Acc> = SortedMap::new();
    for line in maps.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms), Some(_offset), Some(dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        // The path is the rest of the line and may contain spaces.
        let Some(path_start) = line.find('/') else {
            continue;
        };
        let path = line[path_start..].trim_end();
        let Ok(inode) = inode.parse::<u64>() else {
            continue;
        };
        if inode == 0 {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        else {
            continue;
        };
        let executable = perms.contains('x');
        match by_path.get_mut(path) {
            Some(acc) => {
                acc.start = acc.start.min(start);
                acc.end = acc.end.max(end);
                acc.executable |= executable;
            }
            None => {
                order.push(path.to_owned());
                by_path.insert(
                    path.to_owned(),
                    Acc {
                        start,
                        end,
                        executable,
                        key: (dev.to_owned(), inode),
                    },
                );
            }
        }
    }
    let mut images: Vec<LoadedImage> = order
        .into_iter()
        .filter_map(|path| {
            let acc = by_path.remove(&path)?;
            acc.executable.then(|| LoadedImage {
                path: PathBuf::from(path),
                start: acc.start,
                end: acc.end,
                key: acc.key,
            })
        })
        .collect();
    crate::sort::heap_sort_by_key(&mut images, |i| i.start);
    images
}

/// The file to open for an image: the kernel marks replaced files with ` (deleted)`; the
/// running executable can still be read through `/proc/self/exe`.
pub(crate) fn openable_path(image: &LoadedImage) -> PathBuf {
    let text = image.path.to_string_lossy();
    if let Some(original) = text.strip_suffix(" (deleted)") {
        let is_exe = std::env::current_exe()
            .ok()
            .is_some_and(|exe| exe.to_string_lossy().trim_end_matches(" (deleted)") == original);
        if is_exe {
            return PathBuf::from("/proc/self/exe");
        }
    }
    image.path.clone()
}

/// Image information, read once per file version.
pub(crate) fn image_info(image: &LoadedImage) -> Option<Arc<ImageInfo>> {
    type Infos = SortedMap<(String, u64), Option<Arc<ImageInfo>>>;
    static CACHE: Mutex<Option<Infos>> = Mutex::new(None);
    let mut guard = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = guard.get_or_insert_with(SortedMap::new);
    if let Some(info) = cache.get(&image.key) {
        return info.clone();
    }
    if cache.len() >= 512 {
        cache.clear();
    }
    let info = read_image_info(image).map(Arc::new);
    cache.insert(image.key.clone(), info.clone());
    info
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_image_info(image: &LoadedImage) -> Option<ImageInfo> {
    use object::read::elf::{ElfFile32, ElfFile64};
    use object::{Architecture, Object, ObjectSegment, ReadCache};

    let file = std::fs::File::open(openable_path(image)).ok()?;
    let cache = ReadCache::new(file);
    let data = &cache;
    fn from_file<'a, F: Object<'a>>(file: &F) -> ImageInfo {
        let file_vaddr = file
            .segments()
            .find(|s| s.file_range().0 == 0)
            .map(|s| s.address())
            .unwrap_or(0);
        let arch = match file.architecture() {
            Architecture::X86_64 | Architecture::X86_64_X32 => Some("x86_64"),
            Architecture::I386 => Some("x86"),
            Architecture::Aarch64 => Some("arm64"),
            Architecture::Arm => Some("arm"),
            Architecture::Riscv64 => Some("riscv64"),
            Architecture::PowerPc64 => Some("ppc64"),
            Architecture::S390x => Some("s390x"),
            _ => None,
        };
        ImageInfo {
            build_id: file.build_id().ok().flatten().map(<[u8]>::to_vec),
            file_vaddr,
            arch,
        }
    }
    if let Ok(elf) = ElfFile64::<object::Endianness, _>::parse(data) {
        return Some(from_file(&elf));
    }
    ElfFile32::<object::Endianness, _>::parse(data)
        .ok()
        .map(|elf| from_file(&elf))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn read_image_info(_image: &LoadedImage) -> Option<ImageInfo> {
    None
}

/// The Sentry debug id of an ELF build id: its first 16 bytes (zero-padded) read as a
/// little-endian UUID (the first three fields byte-swapped).
///
/// # Examples
///
/// ```
/// let build_id = [0x3a, 0xe4, 0xb8, 0xdf, 0x42, 0xf2, 0x73, 0x3d, 0xa4, 0x53, 0xae, 0xb6,
///                 0xa7, 0x77, 0xef, 0x75, 0x01, 0x02, 0x03, 0x04];
/// assert_eq!(sentry_backtrace::debug_id_from_build_id(&build_id), "dfb8e43a-f242-3d73-a453-aeb6a777ef75");
/// ```
pub fn debug_id_from_build_id(build_id: &[u8]) -> String {
    let mut b = [0u8; 16];
    let n = build_id.len().min(16);
    b[..n].copy_from_slice(&build_id[..n]);
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    let hex = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The loaded images as `debug_meta` entries (ELF images with a build id).
///
/// # Examples
///
/// ```
/// let images = sentry_backtrace::debug_images();
/// if cfg!(target_os = "linux") {
///     assert!(!images.is_empty());
/// }
/// ```
pub fn debug_images() -> Vec<DebugImage> {
    debug_images_of(&loaded_images())
}

pub(crate) fn debug_images_of(images: &[LoadedImage]) -> Vec<DebugImage> {
    images
        .iter()
        .filter_map(|image| {
            let info = image_info(image)?;
            let build_id = info.build_id.as_deref().filter(|id| !id.is_empty())?;
            Some(DebugImage::Elf(NativeDebugImage {
                code_file: image.path.to_string_lossy().into_owned(),
                debug_id: debug_id_from_build_id(build_id),
                code_id: Some(hex(build_id)),
                debug_file: None,
                image_addr: Addr(image.start),
                image_size: image.end - image.start,
                image_vmaddr: Some(Addr(info.file_vaddr)),
                arch: info.arch.map(str::to_owned),
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
555555554000-555555556000 r--p 00000000 08:01 1234 /usr/bin/my app
555555556000-555555558000 r-xp 00020000 08:01 1234 /usr/bin/my app
555555558000-555555559000 rw-p 00040000 08:01 1234 /usr/bin/my app
7f0000000000-7f0000001000 rw-p 00000000 00:00 0
7f0000010000-7f0000020000 r--p 00000000 08:01 99 /usr/share/locale/archive
7f0000100000-7f0000200000 r-xp 00000000 08:01 42 /lib/libc.so.6
7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]
";

    #[test]
    fn maps_group_by_file_and_keep_code() {
        let images = parse_maps(MAPS);
        assert_eq!(images.len(), 2, "{images:?}");
        assert_eq!(images[0].path, PathBuf::from("/usr/bin/my app"));
        assert_eq!(images[0].start, 0x555555554000);
        assert_eq!(images[0].end, 0x555555559000);
        assert!(images[0].contains(0x555555557000));
        assert_eq!(images[1].path, PathBuf::from("/lib/libc.so.6"));
    }

    #[test]
    fn debug_ids() {
        assert_eq!(
            debug_id_from_build_id(&[1, 2, 3]),
            "00030201-0000-0000-0000-000000000000"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_an_executable_with_a_build_id() {
        let images = loaded_images();
        let exe = std::env::current_exe().unwrap();
        let me = images
            .iter()
            .find(|i| i.path == exe)
            .expect("executable mapped");
        let info = image_info(me).expect("readable ELF");
        assert!(info.arch.is_some());
        let debug = debug_images_of(&images);
        assert!(!debug.is_empty());
    }
}
