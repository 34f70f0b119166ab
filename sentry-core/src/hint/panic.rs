//! [`PanicHint`]: the panic a fatal event was made from.

use std::any::{Any, TypeId};

/// The panic an event was made from, as the panic integration hands it to the hooks (see
/// [`Hint::panic`](crate::Hint::panic)).
///
/// The hooks run on a helper thread, not on the panicking thread (Rust aborts the process if
/// code panics while a panic hook runs), and the payload is only lent to the panic hook, so it
/// cannot be passed on. The hint holds what can honestly be carried across: the message as the
/// event was built with it, where the panic happened, and the payload's type, which can be
/// compared with a type of yours but not read.
///
/// # Examples
///
/// ```
/// use std::any::TypeId;
/// use sentry_core::hint::PanicHint;
///
/// struct Shutdown;
/// let hint = PanicHint::new("shutting down", TypeId::of::<Shutdown>())
///     .with_location("src/main.rs", 12, 5);
/// assert!(hint.payload_is::<Shutdown>());
/// assert!(!hint.payload_is::<String>());
/// assert_eq!(hint.message(), "shutting down");
/// assert_eq!(hint.location(), Some(("src/main.rs", 12, 5)));
/// ```
#[derive(Clone, Debug)]
pub struct PanicHint {
    message: String,
    payload_type: TypeId,
    location: Option<(String, u32, u32)>,
}

impl PanicHint {
    /// A hint for a panic with this message, whose payload has the type `payload_type`
    /// (`Any::type_id` of the payload).
    pub fn new(message: impl Into<String>, payload_type: TypeId) -> Self {
        PanicHint {
            message: message.into(),
            payload_type,
            location: None,
        }
    }

    /// This hint with the panic's location: file, line and column.
    #[must_use]
    pub fn with_location(mut self, file: impl Into<String>, line: u32, column: u32) -> Self {
        self.location = Some((file.into(), line, column));
        self
    }

    /// The panic's message: the `&str` or `String` payload, or the description the panic
    /// integration made of another payload.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the panic happened: file, line and column.
    pub fn location(&self) -> Option<(&str, u32, u32)> {
        self.location
            .as_ref()
            .map(|(file, line, column)| (file.as_str(), *line, *column))
    }

    /// `true` if the payload is a `T`. `panic!` with a literal gives a `&'static str`, with
    /// format arguments a `String` (or a `&'static str` when the compiler could fold them into
    /// a constant); `std::panic::panic_any(value)` gives `value`'s type.
    pub fn payload_is<T: Any>(&self) -> bool {
        self.payload_type == TypeId::of::<T>()
    }

    /// The type of the payload, for comparisons with `TypeId::of`.
    pub fn payload_type_id(&self) -> TypeId {
        self.payload_type
    }
}
