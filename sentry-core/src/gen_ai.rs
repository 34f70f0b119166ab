//! AI monitoring: spans for AI agents, model calls and tool calls, with the `gen_ai.*`
//! attributes Sentry's AI Agents view reads.
//!
//! Each helper starts a child of the current span (as [`start_span`] does) with its operation,
//! name and attributes set; the caller adds what only it knows (token usage with
//! [`record_token_usage`], the response model, …) and finishes the span. There must be a
//! current span, typically a transaction made current with [`Span::enter`]: without one, or
//! with the SDK or tracing off, the span does nothing.
//!
//! | helper | `op` | name |
//! |---|---|---|
//! | [`start_invoke_agent_span`] | `gen_ai.invoke_agent` | `invoke_agent {agent}` |
//! | [`start_client_span`], [`start_chat_span`] | `gen_ai.{operation}` | `{operation} {model}` |
//! | [`start_execute_tool_span`] | `gen_ai.execute_tool` | `execute_tool {tool}` |
//!
//! # Examples
//!
//! ```
//! use sentry_core::test::with_captured_transactions_options;
//! use sentry_core::{gen_ai, ClientOptions, TransactionContext};
//!
//! let options = ClientOptions { traces_sample_rate: Some(1.0), ..Default::default() };
//! let transactions = with_captured_transactions_options(options, || {
//!     let _tx = sentry_core::start_transaction(TransactionContext::new("support", "task")).enter();
//!     let agent = gen_ai::start_invoke_agent_span("triage", Some("gpt-4o")).enter();
//!     {
//!         let chat = gen_ai::start_chat_span("openai", "gpt-4o");
//!         // ... call the model ...
//!         chat.set_data("gen_ai.response.model", "gpt-4o-2024-08-06");
//!         gen_ai::record_token_usage(&chat, Some(120), Some(100), Some(30), None, None);
//!         chat.finish();
//!     }
//!     drop(agent);
//! });
//! let spans = &transactions[0].spans;
//! let chat = spans.iter().find(|s| s.op.as_deref() == Some("gen_ai.chat")).unwrap();
//! assert_eq!(chat.description.as_deref(), Some("chat gpt-4o"));
//! assert_eq!(chat.data["gen_ai.usage.total_tokens"], 150u64.into());
//! ```

use std::cell::RefCell;
use std::fmt;

use sentry_minimal::Value;

use crate::api::trace::start_span;
use crate::span::Span;

/// `gen_ai.operation.name`.
const OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.request.model`.
const REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.pipeline.name`.
const PIPELINE_NAME: &str = "gen_ai.pipeline.name";

/// The operation of a call to an AI model (`gen_ai.operation.name` of a client span).
///
/// # Examples
///
/// ```
/// use sentry_core::gen_ai::ClientOperation;
///
/// assert_eq!(ClientOperation::Embeddings.as_str(), "embeddings");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientOperation {
    /// A chat completion (`chat`).
    Chat,
    /// Computing embeddings (`embeddings`).
    Embeddings,
    /// Multimodal content generation (`generate_content`).
    GenerateContent,
    /// A plain text completion (`text_completion`).
    TextCompletion,
}

impl ClientOperation {
    /// The name on the wire: `chat`, `embeddings`, `generate_content` or `text_completion`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClientOperation::Chat => "chat",
            ClientOperation::Embeddings => "embeddings",
            ClientOperation::GenerateContent => "generate_content",
            ClientOperation::TextCompletion => "text_completion",
        }
    }

    /// The span operation: `gen_ai.` and the name.
    const fn op(self) -> &'static str {
        match self {
            ClientOperation::Chat => "gen_ai.chat",
            ClientOperation::Embeddings => "gen_ai.embeddings",
            ClientOperation::GenerateContent => "gen_ai.generate_content",
            ClientOperation::TextCompletion => "gen_ai.text_completion",
        }
    }
}

impl fmt::Display for ClientOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Starts a span for one invocation of an AI agent (op `gen_ai.invoke_agent`, name
/// `invoke_agent {agent_name}`), a child of the current span.
///
/// Sets `gen_ai.operation.name` (`invoke_agent`), `gen_ai.agent.name` and, when given,
/// `gen_ai.request.model` (the agent's default model). Enter it ([`Span::enter`]) so that the
/// model and tool calls of the agent become its children.
///
/// # Examples
///
/// ```
/// use sentry_core::gen_ai;
///
/// let agent = gen_ai::start_invoke_agent_span("weather", Some("claude-sonnet-4")).enter();
/// // ... the agent's model and tool calls ...
/// drop(agent);
/// ```
pub fn start_invoke_agent_span(agent_name: &str, model: Option<&str>) -> Span {
    let span = start_span("gen_ai.invoke_agent", &format!("invoke_agent {agent_name}"));
    if span.is_sampled() {
        span.set_data(OPERATION_NAME, "invoke_agent");
        span.set_data("gen_ai.agent.name", agent_name);
        if let Some(model) = model {
            span.set_data(REQUEST_MODEL, model);
        }
        set_pipeline_name(&span);
    }
    span
}

/// Starts a span for one call to an AI model (op `gen_ai.{operation}`, name
/// `{operation} {model}`), a child of the current span.
///
/// Sets `gen_ai.operation.name`, `gen_ai.provider.name` (such as `openai`, `anthropic`,
/// `gcp.gemini`) and `gen_ai.request.model`. Sentry also expects `gen_ai.response.model` (the
/// model that answered, which the caller sets with [`Span::set_data`]) and the token usage
/// ([`record_token_usage`]) on each call's span.
///
/// # Examples
///
/// ```
/// use sentry_core::gen_ai::{self, ClientOperation};
///
/// let span = gen_ai::start_client_span(ClientOperation::Embeddings, "openai", "text-embedding-3-small");
/// gen_ai::record_token_usage(&span, Some(12), None, None, None, None);
/// span.finish();
/// ```
pub fn start_client_span(operation: ClientOperation, provider: &str, model: &str) -> Span {
    let span = start_span(operation.op(), &format!("{operation} {model}"));
    if span.is_sampled() {
        span.set_data(OPERATION_NAME, operation.as_str());
        span.set_data("gen_ai.provider.name", provider);
        span.set_data(REQUEST_MODEL, model);
        set_pipeline_name(&span);
    }
    span
}

/// Starts a span for one chat completion (op `gen_ai.chat`, name `chat {model}`): the same as
/// [`start_client_span`] with [`ClientOperation::Chat`].
///
/// # Examples
///
/// ```
/// use sentry_core::gen_ai;
///
/// let span = gen_ai::start_chat_span("anthropic", "claude-sonnet-4");
/// span.set_data("gen_ai.response.model", "claude-sonnet-4-20250514");
/// gen_ai::record_token_usage(&span, Some(1200), None, Some(310), Some(200), None);
/// span.finish();
/// ```
pub fn start_chat_span(provider: &str, model: &str) -> Span {
    start_client_span(ClientOperation::Chat, provider, model)
}

/// Starts a span for one tool call made on behalf of an AI model (op `gen_ai.execute_tool`,
/// name `execute_tool {tool_name}`), a child of the current span.
///
/// Sets `gen_ai.operation.name` (`execute_tool`) and `gen_ai.tool.name`. The caller may add
/// `gen_ai.tool.description`, `gen_ai.tool.type`, `gen_ai.tool.call.arguments` and
/// `gen_ai.tool.call.result`.
///
/// # Examples
///
/// ```
/// use sentry_core::gen_ai;
///
/// let span = gen_ai::start_execute_tool_span("get_weather");
/// span.set_data("gen_ai.tool.type", "function");
/// span.finish();
/// ```
pub fn start_execute_tool_span(tool_name: &str) -> Span {
    let span = start_span("gen_ai.execute_tool", &format!("execute_tool {tool_name}"));
    if span.is_sampled() {
        span.set_data(OPERATION_NAME, "execute_tool");
        span.set_data("gen_ai.tool.name", tool_name);
        set_pipeline_name(&span);
    }
    span
}

/// Records the tokens one model call used on its span; counts that are `None` are not set.
///
/// - `input`: `gen_ai.usage.input_tokens`, all prompt tokens, cached ones included;
/// - `input_cached`: `gen_ai.usage.cache_read.input_tokens`, the part of `input` read from the
///   provider's cache;
/// - `output`: `gen_ai.usage.output_tokens`, all completion tokens, reasoning included;
/// - `output_reasoning`: `gen_ai.usage.reasoning.output_tokens`, the part of `output` spent
///   reasoning;
/// - `total`: `gen_ai.usage.total_tokens`; when `None` it is `input + output` if both are known.
///
/// Put the usage on each call's span rather than summing it on a parent: Sentry computes the
/// cost from the model and the tokens of each span.
///
/// # Examples
///
/// ```
/// use sentry_core::gen_ai;
///
/// let span = gen_ai::start_chat_span("openai", "gpt-4o-mini");
/// gen_ai::record_token_usage(&span, Some(500), Some(400), Some(80), None, None); // total: 580
/// ```
pub fn record_token_usage(
    span: &Span,
    input: Option<u64>,
    input_cached: Option<u64>,
    output: Option<u64>,
    output_reasoning: Option<u64>,
    total: Option<u64>,
) {
    if !span.is_sampled() {
        return;
    }
    let total = total.or_else(|| Some(input?.saturating_add(output?)));
    for (key, count) in [
        ("gen_ai.usage.input_tokens", input),
        ("gen_ai.usage.cache_read.input_tokens", input_cached),
        ("gen_ai.usage.output_tokens", output),
        ("gen_ai.usage.reasoning.output_tokens", output_reasoning),
        ("gen_ai.usage.total_tokens", total),
    ] {
        if let Some(count) = count {
            span.set_data(key, Value::from(count));
        }
    }
}

thread_local! {
    /// The name set by the innermost running `with_pipeline_name` of this thread.
    static PIPELINE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `body` with `name` as the AI pipeline name: the spans that this module's helpers start
/// inside `body`, on this thread, carry it as `gen_ai.pipeline.name`.
///
/// Calls nest (the innermost name wins) and the previous name is back when `body` returns or
/// unwinds. The name lives in a thread-local: it does not follow work `body` hands to other
/// threads or to async tasks, and an `async` block started inside `body` but polled later does
/// not see it; set it again there. With the SDK off, `body` just runs.
///
/// # Examples
///
/// ```
/// use sentry_core::gen_ai;
///
/// let answer = gen_ai::with_pipeline_name("summarize-tickets", || {
///     let span = gen_ai::start_chat_span("openai", "gpt-4o");
///     // ... call the model ...
///     span.finish();
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn with_pipeline_name<R>(name: &str, body: impl FnOnce() -> R) -> R {
    if !sentry_minimal::is_enabled() {
        return body();
    }
    let _restore = PipelineGuard {
        previous: replace_pipeline(Some(name.to_owned())),
    };
    body()
}

/// Puts the previous pipeline name back when dropped, also while unwinding.
struct PipelineGuard {
    previous: Option<String>,
}

impl Drop for PipelineGuard {
    fn drop(&mut self) {
        replace_pipeline(self.previous.take());
    }
}

/// Sets this thread's pipeline name and returns the one it replaces. Does nothing (returns
/// `None`) while the thread-local is being destroyed.
fn replace_pipeline(name: Option<String>) -> Option<String> {
    PIPELINE
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut current) => std::mem::replace(&mut *current, name),
            Err(_) => None,
        })
        .ok()
        .flatten()
}

/// Sets `gen_ai.pipeline.name` on `span` when a pipeline name is set on this thread.
fn set_pipeline_name(span: &Span) {
    let name = PIPELINE
        .try_with(|cell| cell.try_borrow().ok().and_then(|name| name.clone()))
        .ok()
        .flatten();
    if let Some(name) = name {
        span.set_data(PIPELINE_NAME, name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ClientOptions;
    use crate::protocol::{Event, Span as WireSpan};
    use crate::sampling::TransactionContext;
    use crate::test::with_captured_transactions_options;

    fn traced(f: impl FnOnce()) -> Vec<Event> {
        let options = ClientOptions {
            traces_sample_rate: Some(1.0),
            ..Default::default()
        };
        with_captured_transactions_options(options, || {
            let _tx =
                crate::api::trace::start_transaction(TransactionContext::new("agent run", "task"))
                    .enter();
            f();
        })
    }

    fn only_span(transactions: &[Event]) -> &WireSpan {
        assert_eq!(transactions.len(), 1);
        assert_eq!(
            transactions[0].spans.len(),
            1,
            "{:?}",
            transactions[0].spans
        );
        &transactions[0].spans[0]
    }

    fn data(span: &WireSpan) -> Vec<(String, String)> {
        span.data
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn invoke_agent_span() {
        let tx = traced(|| start_invoke_agent_span("triage", Some("gpt-4o")).finish());
        let span = only_span(&tx);
        assert_eq!(span.op.as_deref(), Some("gen_ai.invoke_agent"));
        assert_eq!(span.description.as_deref(), Some("invoke_agent triage"));
        assert_eq!(
            data(span),
            pairs(&[
                ("gen_ai.agent.name", r#""triage""#),
                ("gen_ai.operation.name", r#""invoke_agent""#),
                ("gen_ai.request.model", r#""gpt-4o""#),
            ])
        );

        let tx = traced(|| start_invoke_agent_span("triage", None).finish());
        assert!(!only_span(&tx).data.contains_key(REQUEST_MODEL));
    }

    #[test]
    fn client_spans() {
        let tx = traced(|| start_chat_span("openai", "gpt-4o-mini").finish());
        let span = only_span(&tx);
        assert_eq!(span.op.as_deref(), Some("gen_ai.chat"));
        assert_eq!(span.description.as_deref(), Some("chat gpt-4o-mini"));
        assert_eq!(
            data(span),
            pairs(&[
                ("gen_ai.operation.name", r#""chat""#),
                ("gen_ai.provider.name", r#""openai""#),
                ("gen_ai.request.model", r#""gpt-4o-mini""#),
            ])
        );

        let tx = traced(|| {
            start_client_span(
                ClientOperation::Embeddings,
                "openai",
                "text-embedding-3-small",
            )
            .finish()
        });
        let span = only_span(&tx);
        assert_eq!(span.op.as_deref(), Some("gen_ai.embeddings"));
        assert_eq!(
            span.description.as_deref(),
            Some("embeddings text-embedding-3-small")
        );
        assert_eq!(
            span.data.get(OPERATION_NAME),
            Some(&Value::from("embeddings"))
        );
    }

    #[test]
    fn execute_tool_span() {
        let tx = traced(|| start_execute_tool_span("get_weather").finish());
        let span = only_span(&tx);
        assert_eq!(span.op.as_deref(), Some("gen_ai.execute_tool"));
        assert_eq!(
            span.description.as_deref(),
            Some("execute_tool get_weather")
        );
        assert_eq!(
            data(span),
            pairs(&[
                ("gen_ai.operation.name", r#""execute_tool""#),
                ("gen_ai.tool.name", r#""get_weather""#),
            ])
        );
    }

    #[test]
    fn token_usage() {
        let usage = |input, cached, output, reasoning, total| {
            let tx = traced(|| {
                let span = start_chat_span("openai", "gpt-4o");
                record_token_usage(&span, input, cached, output, reasoning, total);
                span.finish();
            });
            let span = only_span(&tx);
            [
                "gen_ai.usage.input_tokens",
                "gen_ai.usage.cache_read.input_tokens",
                "gen_ai.usage.output_tokens",
                "gen_ai.usage.reasoning.output_tokens",
                "gen_ai.usage.total_tokens",
            ]
            .map(|key| span.data.get(key).map(|v| v.to_string()))
        };
        let n = |v: &str| Some(v.to_owned());
        assert_eq!(
            usage(Some(120), Some(100), Some(30), Some(10), None),
            [n("120"), n("100"), n("30"), n("10"), n("150")]
        );
        // An explicit total wins.
        assert_eq!(
            usage(Some(1), None, Some(2), None, Some(9)),
            [n("1"), None, n("2"), None, n("9")]
        );
        // No total without both parts.
        assert_eq!(
            usage(Some(5), None, None, None, None),
            [n("5"), None, None, None, None]
        );
        assert_eq!(
            usage(None, None, None, None, None),
            [None, None, None, None, None]
        );
    }

    #[test]
    fn pipeline_name_on_spans_started_inside() {
        let tx = traced(|| {
            with_pipeline_name("outer", || {
                start_execute_tool_span("a").finish();
                with_pipeline_name("inner", || start_chat_span("p", "m").finish());
                start_invoke_agent_span("b", None).finish();
            });
            start_execute_tool_span("c").finish();
        });
        let pipeline = |name: &str| {
            tx[0]
                .spans
                .iter()
                .find(|s| s.description.as_deref() == Some(name))
                .and_then(|s| s.data.get(PIPELINE_NAME))
                .map(|v| v.to_string())
        };
        assert_eq!(pipeline("execute_tool a").as_deref(), Some(r#""outer""#));
        assert_eq!(pipeline("chat m").as_deref(), Some(r#""inner""#));
        assert_eq!(pipeline("invoke_agent b").as_deref(), Some(r#""outer""#));
        assert_eq!(pipeline("execute_tool c"), None);
    }

    #[test]
    fn pipeline_name_is_restored_after_a_panic() {
        let tx = traced(|| {
            with_pipeline_name("outer", || {
                let caught = std::panic::catch_unwind(|| {
                    with_pipeline_name("inner", || panic!("model call failed"))
                });
                assert!(caught.is_err());
                start_execute_tool_span("after").finish();
            });
        });
        assert_eq!(
            only_span(&tx).data.get(PIPELINE_NAME),
            Some(&Value::from("outer"))
        );
    }

    #[test]
    fn spans_are_children_of_the_entered_agent() {
        let tx = traced(|| {
            let agent = start_invoke_agent_span("planner", None).enter();
            start_chat_span("anthropic", "claude").finish();
            drop(agent);
        });
        let spans = &tx[0].spans;
        let agent = spans
            .iter()
            .find(|s| s.op.as_deref() == Some("gen_ai.invoke_agent"))
            .unwrap();
        let chat = spans
            .iter()
            .find(|s| s.op.as_deref() == Some("gen_ai.chat"))
            .unwrap();
        assert_eq!(chat.parent_span_id, Some(agent.span_id));
    }

    #[test]
    fn without_a_transaction_nothing_is_recorded() {
        let options = ClientOptions {
            traces_sample_rate: Some(1.0),
            ..Default::default()
        };
        let tx = with_captured_transactions_options(options, || {
            let span = start_chat_span("openai", "gpt-4o");
            assert!(!span.is_sampled());
            record_token_usage(&span, Some(1), None, Some(1), None, None);
            span.finish();
        });
        assert!(tx.is_empty());
    }

    #[test]
    fn client_operations_have_their_wire_names() {
        for operation in [
            ClientOperation::Chat,
            ClientOperation::Embeddings,
            ClientOperation::GenerateContent,
            ClientOperation::TextCompletion,
        ] {
            assert_eq!(operation.op(), format!("gen_ai.{operation}"));
        }
    }
}
