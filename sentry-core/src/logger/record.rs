//! Building a log record from a template, its parameters and attributes, and capturing it:
//! what every logger function and macro ends in once logs are known to be on.

use super::param::LogParam;
use super::Attribute;
use crate::api::capture_log;
use crate::protocol::{Log, LogAttributes, LogLevel};

/// How many attributes the SDK may add to a log: environment, release, SDK name and version,
/// server address, three user fields.
const DEFAULT_ATTRIBUTES: usize = 8;

/// Builds the record and captures it. Only called once the gate said logs are enabled.
#[inline(never)]
pub fn capture(
    level: LogLevel,
    template: &str,
    params: &[&dyn LogParam],
    attributes: &[Attribute<'_>],
) {
    let templated = usize::from(!params.is_empty());
    let mut attrs = LogAttributes::with_capacity(
        templated + params.len() + attributes.len() + DEFAULT_ATTRIBUTES,
    );
    let body = if params.is_empty() {
        template.to_owned()
    } else {
        attrs.insert("sentry.message.template", template.to_owned());
        for (i, param) in params.iter().enumerate() {
            attrs.insert(super::template::parameter_key(i), param.to_log_value());
        }
        super::template::render(template, params)
    };
    for (key, value) in attributes {
        attrs.insert(*key, value.to_log_value());
    }
    let mut log = Log::new(level, body);
    log.attributes = attrs;
    capture_log(log);
}
