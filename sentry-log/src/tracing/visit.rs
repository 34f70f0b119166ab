//! Reading `tracing` fields with their types.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use sentry_core::protocol::Exception;
use sentry_core::Value;
use tracing_core::field::{Field, Visit};

use crate::capture::exception_chain;

/// The field `tracing`'s macros put the formatted message in.
const MESSAGE: &str = "message";

/// Collects the fields of an event or a span: the message, the other fields with their types,
/// and the exception chain of the first `&dyn Error` field (only when `want_exception`, since it
/// costs a walk of the chain).
#[derive(Default)]
pub(crate) struct FieldVisitor {
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(Cow<'static, str>, Value)>,
    pub(crate) exception: Option<Vec<Exception>>,
    pub(crate) want_exception: bool,
}

impl FieldVisitor {
    pub(crate) fn new(want_exception: bool) -> Self {
        FieldVisitor {
            want_exception,
            ..FieldVisitor::default()
        }
    }

    fn push(&mut self, field: &Field, value: Value) {
        self.fields.push((Cow::Borrowed(field.name()), value));
    }
}

impl Visit for FieldVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Value::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::I64);
        self.push(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value =
            u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::U64);
        self.push(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == MESSAGE && self.message.is_none() {
            self.message = Some(value.to_owned());
        } else {
            self.push(field, Value::String(value.to_owned()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.want_exception && self.exception.is_none() {
            self.exception = Some(exception_chain(value));
        }
        self.push(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == MESSAGE && self.message.is_none() {
            self.message = Some(format!("{value:?}"));
        } else {
            self.push(field, Value::String(format!("{value:?}")));
        }
    }
}
