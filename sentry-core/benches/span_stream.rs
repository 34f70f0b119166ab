//! Sustained span streaming: 10,000 spans per second (100 segments of 100 spans each) for
//! 5 seconds through a real transport worker whose sender discards the bytes, and what it
//! costs: the worker thread's CPU (read from `/proc/self/task/<tid>/stat`), the calling
//! thread's, and whether anything was dropped.
//!
//! `cargo bench -p sentry-core --bench span_stream` (Linux; elsewhere it prints the counts only).

#![allow(clippy::print_stdout)] // The figures are the output.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_core::envelope::{Envelope, EnvelopeItem, ItemType};
use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};
use sentry_core::{ClientOptions, TraceLifecycle, TransactionContext};

const SPANS_PER_SECOND: u64 = 10_000;
const SPANS_PER_SEGMENT: u64 = 100;
const SECONDS: u64 = 5;

/// CPU seconds (user + system) of a task of this process, from its `stat` file.
fn task_cpu(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (in parentheses, which may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}

/// The `stat` path of the worker thread: named `name` (its first 15 bytes, all the kernel
/// keeps), or else the one thread of this process other than the calling one (the process
/// has no other: the worker starts no helper while its sends are fast).
fn thread_stat(name: &str) -> Option<String> {
    let me = std::fs::read_link("/proc/thread-self").ok()?;
    let me = me.file_name()?.to_owned();
    let short = &name[..name.len().min(15)];
    let mut others = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let path = entry.ok()?.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim() == short {
            return Some(path.join("stat").to_string_lossy().into_owned());
        }
        if path.file_name() != Some(me.as_os_str()) {
            others.push(path);
        }
    }
    match others.as_slice() {
        [worker] => Some(worker.join("stat").to_string_lossy().into_owned()),
        _ => None,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that excludes this bench skips it.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"span_stream".contains(a.as_str()))
    {
        return;
    }
    let sent_spans = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let envelopes = Arc::new(AtomicU64::new(0));
    let factory = {
        let (sent_spans, dropped, envelopes) = (
            Arc::clone(&sent_spans),
            Arc::clone(&dropped),
            Arc::clone(&envelopes),
        );
        move |options: &TransportOptions| -> Arc<dyn Transport> {
            let (sent_spans, dropped, envelopes) = (
                Arc::clone(&sent_spans),
                Arc::clone(&dropped),
                Arc::clone(&envelopes),
            );
            let sender = move |_body: Vec<u8>, envelope: &Envelope| {
                for item in envelope.items() {
                    match item {
                        EnvelopeItem::Raw(raw) if raw.ty == ItemType::Span => {
                            envelopes.fetch_add(1, Ordering::Relaxed);
                            sent_spans.fetch_add(raw.item_count().unwrap_or(0), Ordering::Relaxed);
                        }
                        EnvelopeItem::ClientReport(report) => {
                            let n: u64 = report.discarded_events.iter().map(|d| d.quantity).sum();
                            dropped.fetch_add(n, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
                SendOutcome::status(200)
            };
            Arc::new(TransportWorker::spawn(sender, options).expect("the worker"))
        }
    };
    let guard = sentry_core::init(ClientOptions {
        dsn: Some("https://public@sentry.invalid/1".parse().expect("DSN")),
        transport: Some(Arc::new(factory)),
        traces_sample_rate: Some(1.0),
        trace_lifecycle: TraceLifecycle::Stream,
        release: Some("bench@1.0".into()),
        ..Default::default()
    });
    let worker = thread_stat(sentry_core::transport::WORKER_THREAD_NAME);

    let me = "/proc/thread-self/stat";
    let (worker_before, me_before, process_before) = (
        worker.as_deref().and_then(task_cpu),
        task_cpu(me),
        task_cpu("/proc/self/stat"),
    );
    let segments = SPANS_PER_SECOND / SPANS_PER_SEGMENT * SECONDS;
    let tick = Duration::from_secs(1) / (SPANS_PER_SECOND / SPANS_PER_SEGMENT) as u32;
    let start = Instant::now();
    let mut busy = Duration::ZERO;
    for n in 0..segments {
        let began = Instant::now();
        {
            let tx = sentry_core::start_transaction(TransactionContext::new(
                "GET /items",
                "http.server",
            ))
            .enter();
            tx.set_data("http.request.method", "GET");
            for i in 0..SPANS_PER_SEGMENT - 1 {
                let span = sentry_core::start_span("db.query", "SELECT * FROM items WHERE id = ?");
                span.set_data("db.system", "postgresql");
                span.set_data("row", i);
                span.finish();
            }
        }
        busy += began.elapsed();
        let next = start + tick * (n + 1) as u32;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let elapsed = start.elapsed();
    let (worker_after, me_after, process_after) = (
        worker.as_deref().and_then(task_cpu),
        task_cpu(me),
        task_cpu("/proc/self/stat"),
    );
    drop(guard); // close: the rest is flushed
    let total = segments * SPANS_PER_SEGMENT;
    println!(
        "span_stream: {total} spans in {elapsed:.2?} ({:.0} spans/s offered)",
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  delivered {} spans in {} envelopes, {} dropped",
        sent_spans.load(Ordering::Relaxed),
        envelopes.load(Ordering::Relaxed),
        dropped.load(Ordering::Relaxed)
    );
    println!(
        "  calling thread: {:.0} ns per span of wall time in the loop (preemption included)",
        busy.as_nanos() as f64 / total as f64
    );
    if let (Some(b), Some(a)) = (me_before, me_after) {
        println!(
            "  calling thread: {:.0} ns of CPU per span (segments included)",
            (a - b) * 1e9 / total as f64
        );
    }
    let cpu = |before: Option<f64>, after: Option<f64>| match (before, after) {
        (Some(b), Some(a)) => format!(
            "{:.2} s CPU, {:.1} % of one core",
            a - b,
            100.0 * (a - b) / elapsed.as_secs_f64()
        ),
        _ => "not measured (no /proc)".to_owned(),
    };
    println!("  worker thread: {}", cpu(worker_before, worker_after));
    println!("  calling thread: {}", cpu(me_before, me_after));
    println!("  process: {}", cpu(process_before, process_after));
}
