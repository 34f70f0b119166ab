//! Reading a `log` record's key-values with their types.

use std::borrow::Cow;

use log::kv::{self, Key, VisitSource, VisitValue};
use sentry_core::protocol::Exception;
use sentry_core::Value;

use crate::capture::exception_chain;

/// The key whose error value becomes an event's exception.
pub(crate) const ERROR_KEY: &str = "error";

/// Collects key-values: typed values, and the exception chain of an `error` key holding an
/// error (only when `want_exception`, since it costs a walk of the chain).
pub(crate) struct KvCollector {
    pub(crate) fields: Vec<(Cow<'static, str>, Value)>,
    pub(crate) exception: Option<Vec<Exception>>,
    /// Whether an `error` key holds an error. `log` lends the error only for the duration of
    /// the visit, so the bridge fetches it again (see [`error_value`]) for the hooks' hint.
    pub(crate) has_error: bool,
    want_exception: bool,
}

impl KvCollector {
    pub(crate) fn collect(source: &dyn kv::Source, want_exception: bool) -> KvCollector {
        let mut collector = KvCollector {
            fields: Vec::new(),
            exception: None,
            has_error: false,
            want_exception,
        };
        if source.count() > 0 {
            collector.fields.reserve(source.count());
            // Our visitor never fails.
            let _ = source.visit(&mut collector);
        }
        collector
    }
}

impl<'kvs> VisitSource<'kvs> for KvCollector {
    fn visit_pair(&mut self, key: Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        if !self.has_error && key.as_str() == ERROR_KEY {
            if let Some(error) = value.to_borrowed_error() {
                self.has_error = true;
                if self.want_exception {
                    self.exception = Some(exception_chain(error));
                }
            }
        }
        let mut typed = Typed(Value::Null);
        // Our visitor never fails; a value that cannot be visited stays null.
        let _ = value.visit(&mut typed);
        self.fields
            .push((Cow::Owned(key.as_str().to_owned()), typed.0));
        Ok(())
    }
}

/// The value of the `error` key, kept by the caller so that the error it holds can be
/// borrowed (`kv::Value::to_borrowed_error` lends it for as long as the value lives).
pub(crate) fn error_value<'kvs>(source: &'kvs dyn kv::Source) -> Option<kv::Value<'kvs>> {
    source.get(Key::from_str(ERROR_KEY))
}

/// Turns one value into a [`Value`] of the same type; anything else becomes its text.
struct Typed(Value);

impl<'v> VisitValue<'v> for Typed {
    fn visit_any(&mut self, value: kv::Value<'_>) -> Result<(), kv::Error> {
        self.0 = Value::String(value.to_string());
        Ok(())
    }

    fn visit_null(&mut self) -> Result<(), kv::Error> {
        self.0 = Value::Null;
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.0 = Value::U64(value);
        Ok(())
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.0 = Value::I64(value);
        Ok(())
    }

    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        self.0 = u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::U64);
        Ok(())
    }

    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        self.0 = i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::I64);
        Ok(())
    }

    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        self.0 = Value::F64(value);
        Ok(())
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.0 = Value::Bool(value);
        Ok(())
    }

    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.0 = Value::String(value.to_owned());
        Ok(())
    }

    fn visit_char(&mut self, value: char) -> Result<(), kv::Error> {
        self.0 = Value::String(value.to_string());
        Ok(())
    }

    fn visit_error(&mut self, err: &(dyn std::error::Error + 'static)) -> Result<(), kv::Error> {
        self.0 = Value::String(err.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_types() {
        let err = "x".parse::<u8>().unwrap_err();
        let kvs: [(&str, kv::Value<'_>); 8] = [
            ("i", kv::Value::from(-3i32)),
            ("u", kv::Value::from(7u64)),
            ("f", kv::Value::from(1.5f64)),
            ("b", kv::Value::from(true)),
            ("s", kv::Value::from("text")),
            ("c", kv::Value::from('c')),
            ("d", kv::Value::from_debug(&(1, 2))),
            (ERROR_KEY, kv::Value::from_dyn_error(&err)),
        ];
        let collected = KvCollector::collect(&kvs, true);
        let values: Vec<_> = collected.fields.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(
            values,
            [
                Value::I64(-3),
                Value::U64(7),
                Value::F64(1.5),
                Value::Bool(true),
                Value::from("text"),
                Value::from("c"),
                Value::from("(1, 2)"),
                Value::from(err.to_string()),
            ]
        );
        let exception = collected.exception.expect("the error key holds an error");
        assert_eq!(
            exception[0].value.as_deref(),
            Some(err.to_string().as_str())
        );
        assert!(collected.has_error);
        let value = error_value(&kvs).unwrap();
        assert!(value
            .to_borrowed_error()
            .unwrap()
            .is::<std::num::ParseIntError>());
        // Not asked for: not built.
        let unwanted = KvCollector::collect(&kvs, false);
        assert!(unwanted.exception.is_none() && unwanted.has_error);
    }
}
