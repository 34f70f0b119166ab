//! [`LogParam`]: values that can be a log's template parameter or attribute.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::rc::Rc;
use std::sync::Arc;

use crate::protocol::LogValue;

/// A value the [`logger`](crate::logger) API accepts as a template parameter or an attribute
/// value: it knows its typed attribute value ([`LogValue`]) and how it reads in a log body.
///
/// Implemented for strings, booleans, `char`, integers, floats, [`LogValue`] and references to
/// them. Wrap anything else that implements `Display` in [`DisplayParam`], or `Debug` in
/// [`DebugParam`]; the logger macros do the `Display` wrapping for you.
///
/// Nothing is converted, formatted or allocated until the SDK has checked that logs are
/// enabled, so passing a parameter costs nothing when they are not.
///
/// # Examples
///
/// ```
/// use sentry_core::logger::{DisplayParam, LogParam};
/// use sentry_core::protocol::LogValue;
///
/// assert_eq!(42u16.to_log_value(), LogValue::I64(42));
/// let addr: std::net::IpAddr = "127.0.0.1".parse().unwrap();
/// assert_eq!(DisplayParam(&addr).to_log_value(), LogValue::String("127.0.0.1".into()));
/// let mut body = String::new();
/// true.write_body(&mut body);
/// assert_eq!(body, "true");
/// ```
pub trait LogParam {
    /// The typed attribute value (see [`LogValue`] for which type each Rust type gets).
    fn to_log_value(&self) -> LogValue;

    /// Appends the value as it reads in a log body.
    fn write_body(&self, body: &mut String);
}

impl LogParam for str {
    fn to_log_value(&self) -> LogValue {
        LogValue::String(Cow::Owned(self.to_owned()))
    }

    fn write_body(&self, body: &mut String) {
        body.push_str(self);
    }
}

macro_rules! param_via_str {
    ($($t:ty),*) => {$(
        impl LogParam for $t {
            fn to_log_value(&self) -> LogValue {
                LogValue::String(Cow::Owned(str::to_owned(self)))
            }

            fn write_body(&self, body: &mut String) {
                body.push_str(self);
            }
        }
    )*};
}
param_via_str!(String, Cow<'_, str>, Arc<str>, Rc<str>);

macro_rules! param_via_from {
    ($($t:ty),*) => {$(
        impl LogParam for $t {
            fn to_log_value(&self) -> LogValue {
                LogValue::from(*self)
            }

            fn write_body(&self, body: &mut String) {
                // Writing to a String cannot fail.
                let _ = write!(body, "{self}");
            }
        }
    )*};
}
param_via_from!(
    bool, char, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

impl LogParam for LogValue {
    fn to_log_value(&self) -> LogValue {
        self.clone()
    }

    fn write_body(&self, body: &mut String) {
        let _ = write!(body, "{self}");
    }
}

impl<T: LogParam + ?Sized> LogParam for &T {
    fn to_log_value(&self) -> LogValue {
        (**self).to_log_value()
    }

    fn write_body(&self, body: &mut String) {
        (**self).write_body(body);
    }
}

impl<T: LogParam + ?Sized> LogParam for &mut T {
    fn to_log_value(&self) -> LogValue {
        (**self).to_log_value()
    }

    fn write_body(&self, body: &mut String) {
        (**self).write_body(body);
    }
}

impl<T: LogParam + ?Sized> LogParam for Box<T> {
    fn to_log_value(&self) -> LogValue {
        (**self).to_log_value()
    }

    fn write_body(&self, body: &mut String) {
        (**self).write_body(body);
    }
}

/// Any `Display` value as a [`LogParam`]: a `string` attribute with its `Display` text.
///
/// ```
/// use sentry_core::logger::{self, DisplayParam};
///
/// let path = std::path::Path::new("/etc/app.toml");
/// logger::warn("cannot read {}", &[&DisplayParam(&path.display())], &[]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DisplayParam<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Display + ?Sized> LogParam for DisplayParam<'_, T> {
    fn to_log_value(&self) -> LogValue {
        LogValue::String(Cow::Owned(self.0.to_string()))
    }

    fn write_body(&self, body: &mut String) {
        let _ = write!(body, "{}", self.0);
    }
}

/// Any `Debug` value as a [`LogParam`]: a `string` attribute with its `Debug` text.
///
/// ```
/// use sentry_core::logger::{DebugParam, LogParam};
///
/// let pair = (1, "a");
/// let mut body = String::new();
/// DebugParam(&pair).write_body(&mut body);
/// assert_eq!(body, r#"(1, "a")"#);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DebugParam<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Debug + ?Sized> LogParam for DebugParam<'_, T> {
    fn to_log_value(&self) -> LogValue {
        LogValue::String(Cow::Owned(format!("{:?}", self.0)))
    }

    fn write_body(&self, body: &mut String) {
        let _ = write!(body, "{:?}", self.0);
    }
}

/// Picks, for the logger macros, a value's own [`LogParam`] impl when it has one and
/// [`DisplayParam`] otherwise ("autoref specialization": the method of [`ViaParam`] is found
/// one auto-reference earlier than the one of [`ViaDisplay`]).
#[doc(hidden)]
#[derive(Debug)]
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait ViaParam {
    type Param;
    fn __sentry_param(&self) -> Self::Param;
}

impl<'a, T: LogParam + ?Sized> ViaParam for Wrap<'a, T> {
    type Param = &'a T;
    fn __sentry_param(&self) -> &'a T {
        self.0
    }
}

#[doc(hidden)]
pub trait ViaDisplay {
    type Param;
    fn __sentry_param(&self) -> Self::Param;
}

impl<'a, T: fmt::Display + ?Sized> ViaDisplay for &Wrap<'a, T> {
    type Param = DisplayParam<'a, T>;
    fn __sentry_param(&self) -> DisplayParam<'a, T> {
        DisplayParam(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_and_body(p: &dyn LogParam) -> (LogValue, String) {
        let mut body = String::new();
        p.write_body(&mut body);
        (p.to_log_value(), body)
    }

    #[test]
    fn types_and_bodies() {
        let s = String::from("s");
        let cases: [(&dyn LogParam, LogValue, &str); 9] = [
            (&"x", LogValue::String("x".into()), "x"),
            (&s, LogValue::String("s".into()), "s"),
            (&-3i8, LogValue::I64(-3), "-3"),
            (&3u32, LogValue::I64(3), "3"),
            (&3u64, LogValue::String("3".into()), "3"),
            (&2.5f32, LogValue::F64(2.5), "2.5"),
            (&false, LogValue::Bool(false), "false"),
            (&LogValue::I64(1), LogValue::I64(1), "1"),
            (&DebugParam(&"q"), LogValue::String("\"q\"".into()), "\"q\""),
        ];
        for (param, value, body) in cases {
            assert_eq!(value_and_body(param), (value, body.to_owned()));
        }
    }

    #[test]
    // The extra borrow is the point: it is what the macros write.
    #[allow(clippy::needless_borrow)]
    fn autoref_picks_the_typed_impl_first() {
        struct OnlyDisplay;
        impl fmt::Display for OnlyDisplay {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("shown")
            }
        }
        let typed = &(&Wrap(&7i64)).__sentry_param() as &dyn LogParam;
        assert_eq!(typed.to_log_value(), LogValue::I64(7));
        let shown = &(&Wrap(&OnlyDisplay)).__sentry_param() as &dyn LogParam;
        assert_eq!(shown.to_log_value(), LogValue::String("shown".into()));
    }
}
