//! Debug information: the binary images loaded in the process, for symbolication.

use sentry_minimal::Map;
use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

use super::minimal_serde::{value_from_json, Ser};
use super::Addr;

/// Debug information for symbolicating native stack traces (`debug_meta`).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Addr, DebugImage, DebugMeta, NativeDebugImage};
///
/// let meta = DebugMeta {
///     images: vec![DebugImage::Elf(NativeDebugImage {
///         code_file: "/usr/bin/app".into(),
///         debug_id: "dfb8e43a-f242-3d73-a453-aeb6a777ef75".into(),
///         code_id: Some("3ae4b8df42f2733da453aeb6a777ef75".into()),
///         image_addr: Addr(0x5555_5555_0000),
///         image_size: 4096,
///         arch: Some("x86_64".into()),
///         ..NativeDebugImage::default()
///     })],
/// };
/// let json = serde_json::to_value(&meta).unwrap();
/// assert_eq!(json["images"][0]["type"], "elf");
/// assert_eq!(json["images"][0]["image_addr"], "0x555555550000");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DebugMeta {
    /// The loaded images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<DebugImage>,
}

impl DebugMeta {
    /// `true` if there are no images.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}

/// One loaded image, tagged with its format (`"type"`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DebugImage {
    /// An ELF image (Linux, Android, BSD): `"type": "elf"`.
    Elf(NativeDebugImage),
    /// A Mach-O image (macOS, iOS): `"type": "macho"`.
    MachO(NativeDebugImage),
    /// A PE image (Windows): `"type": "pe"`.
    Pe(NativeDebugImage),
    /// Any other kind of image, written as is.
    Other(Map),
}

impl DebugImage {
    /// The `"type"` written for this image; `None` for [`DebugImage::Other`].
    pub fn type_name(&self) -> Option<&'static str> {
        match self {
            DebugImage::Elf(_) => Some("elf"),
            DebugImage::MachO(_) => Some("macho"),
            DebugImage::Pe(_) => Some("pe"),
            DebugImage::Other(_) => None,
        }
    }
}

/// A native image (ELF, Mach-O or PE).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeDebugImage {
    /// The path of the image file.
    pub code_file: String,
    /// The debug identifier: a UUID, optionally followed by `-{age}`. For ELF it is the first 16
    /// bytes of the GNU build id read as a little-endian UUID.
    pub debug_id: String,
    /// The platform-specific code identifier (the full hex build id for ELF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<String>,
    /// The path of the debug file, when it differs from `code_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_file: Option<String>,
    /// Where the image is loaded in memory.
    pub image_addr: Addr,
    /// The size of the image in memory, in bytes.
    #[serde(default)]
    pub image_size: u64,
    /// The preferred load address written in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_vmaddr: Option<Addr>,
    /// The CPU architecture, such as `"x86_64"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
}

#[derive(Serialize)]
struct Tagged<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(flatten)]
    inner: &'a NativeDebugImage,
}

impl Serialize for DebugImage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DebugImage::Elf(image) | DebugImage::MachO(image) | DebugImage::Pe(image) => Tagged {
                ty: self.type_name().unwrap_or("elf"),
                inner: image,
            }
            .serialize(s),
            DebugImage::Other(map) => Ser(map).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for DebugImage {
    /// Reads an image by its `"type"`; unknown types, and native images that do not fit
    /// [`NativeDebugImage`], are kept as [`DebugImage::Other`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let object = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let native = || {
            let mut fields = object.clone();
            fields.remove("type");
            serde_json::from_value::<NativeDebugImage>(serde_json::Value::Object(fields)).ok()
        };
        let parsed = match object.get("type").and_then(|t| t.as_str()) {
            Some("elf") => native().map(DebugImage::Elf),
            Some("macho") => native().map(DebugImage::MachO),
            Some("pe") => native().map(DebugImage::Pe),
            _ => None,
        };
        Ok(parsed.unwrap_or_else(|| {
            DebugImage::Other(
                object
                    .into_iter()
                    .map(|(k, v)| (k, value_from_json(v)))
                    .collect(),
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn images_round_trip() {
        let native = NativeDebugImage {
            code_file: "/lib/libc.so.6".into(),
            debug_id: "dfb8e43a-f242-3d73-a453-aeb6a777ef75".into(),
            code_id: Some("3ae4b8df".into()),
            debug_file: None,
            image_addr: Addr(0x1000),
            image_size: 200,
            image_vmaddr: Some(Addr(0)),
            arch: Some("x86_64".into()),
        };
        let mut wasm = Map::new();
        wasm.insert("type".into(), "wasm".into());
        let meta = DebugMeta {
            images: vec![
                DebugImage::Elf(native.clone()),
                DebugImage::MachO(native.clone()),
                DebugImage::Pe(native),
                DebugImage::Other(wasm),
            ],
        };
        let json = serde_json::to_value(&meta).unwrap();
        assert_eq!(
            json["images"][0],
            json!({"type": "elf", "code_file": "/lib/libc.so.6",
                   "debug_id": "dfb8e43a-f242-3d73-a453-aeb6a777ef75", "code_id": "3ae4b8df",
                   "image_addr": "0x1000", "image_size": 200, "image_vmaddr": "0x0",
                   "arch": "x86_64"})
        );
        assert_eq!(json["images"][1]["type"], "macho");
        assert_eq!(json["images"][2]["type"], "pe");
        assert_eq!(json["images"][3], json!({"type": "wasm"}));
        assert_eq!(serde_json::from_value::<DebugMeta>(json).unwrap(), meta);
        // An ELF image missing required fields is kept, not rejected.
        let odd: DebugImage = serde_json::from_value(json!({"type": "elf"})).unwrap();
        assert!(matches!(odd, DebugImage::Other(_)));
    }
}
