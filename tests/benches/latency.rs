//! Delivery rate at internet latency: events per second through the client pipeline and the
//! HTTP transport to a loopback server that waits 0, 20, 50 or 100 ms before each answer, for
//! several `max_concurrent_requests`; and the CPU time the sending process spends per 10,000
//! events.
//!
//! Throughput over latency is a rate, not a per-call time, so this is a plain binary that
//! prints a table rather than a criterion benchmark. The server runs in a child process (this
//! binary, started again with `SENTRY_LATENCY_BENCH_SERVER` set), so that the CPU figures are
//! the sending side's alone.
//!
//! `cargo bench -p sentry-tests --bench latency` runs it; a harness filter that does not match
//! `latency` skips it (so `cargo xtask bench -- <filter>` runs only what it names).
#![allow(clippy::print_stdout)] // The table is the output.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::{Client, ClientOptions};
use sentry_tests::fixtures::typical_event;
use sentry_tests::server::{Behavior, TestServer};
use sentry_transport_http::HttpTransportFactory;

const SERVER_ENV: &str = "SENTRY_LATENCY_BENCH_SERVER";
const DELAYS_MS: [u64; 4] = [0, 20, 50, 100];
const CONCURRENCY: [usize; 5] = [1, 2, 4, 8, 16];
/// About how long one measurement runs.
const TARGET: Duration = Duration::from_millis(1500);
const CPU_EVENTS: usize = 10_000;

fn main() {
    if std::env::var_os(SERVER_ENV).is_some() {
        serve();
        return;
    }
    let filter = harness_filter(std::env::args().skip(1));
    if !"latency".contains(filter.as_str()) && !filter.contains("latency") {
        return;
    }
    let mut server = Server::start();
    println!("latency: events/s (10 KB error events, burst then flush), by delay per request");
    print!("{:>24}", "max_concurrent_requests");
    for delay in DELAYS_MS {
        print!("{:>10}", format!("{delay} ms"));
    }
    println!();
    for concurrency in CONCURRENCY {
        print!("{concurrency:>24}");
        for delay in DELAYS_MS {
            server.set_delay(delay);
            let events = events_for(concurrency, delay);
            // On the loopback a run is short and the machine's other work shows: best of 3.
            let runs = if delay == 0 { 3 } else { 1 };
            let elapsed = (0..runs)
                .map(|_| deliver(&server.dsn, concurrency, events).0)
                .min()
                .unwrap_or_default();
            let rate = events as f64 / elapsed.as_secs_f64();
            print!("{rate:>10.0}");
            let _ = std::io::stdout().flush();
        }
        println!();
    }
    server.set_delay(100);
    backlog_footprint(&server.dsn, 16);
    server.set_delay(0);
    println!("CPU time of the sending process per {CPU_EVENTS} events at 0 ms:");
    for concurrency in [1, 16] {
        let (elapsed, cpu) = deliver(&server.dsn, concurrency, CPU_EVENTS);
        println!(
            "  max_concurrent_requests {concurrency:>2}: {:.2} s CPU ({:.2} s wall, {:.0} events/s)",
            cpu.as_secs_f64(),
            elapsed.as_secs_f64(),
            CPU_EVENTS as f64 / elapsed.as_secs_f64()
        );
    }
}

/// Threads and resident memory of this process idle, under a backlog at `concurrency`
/// requests (small events, so that the queue's own memory hardly counts), and after it.
fn backlog_footprint(dsn: &str, concurrency: usize) {
    let client = Client::new(ClientOptions {
        dsn: Some(dsn.parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        max_concurrent_requests: concurrency,
        ..Default::default()
    });
    client.capture_event(Default::default(), None);
    assert!(client.flush(Some(Duration::from_secs(10))));
    let idle = (threads(), rss_kib());
    for _ in 0..(concurrency * 10) {
        client.capture_event(Default::default(), None);
    }
    std::thread::sleep(Duration::from_millis(500));
    let busy = (threads(), rss_kib());
    assert!(client.flush(Some(Duration::from_secs(30))));
    std::thread::sleep(Duration::from_millis(1500));
    let after = (threads(), rss_kib());
    println!(
        "threads / RSS at 100 ms, max_concurrent_requests {concurrency}: idle {} / {} KiB, \
         backlog {} / {} KiB, 1.5 s after {} / {} KiB",
        idle.0, idle.1, busy.0, busy.1, after.0, after.1
    );
    client.close(Some(Duration::from_secs(5)));
}

/// A field of `/proc/self/status` in its unit (KiB for memory), 0 where it cannot be read.
fn status_field(name: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}

fn threads() -> u64 {
    status_field("Threads:")
}

fn rss_kib() -> u64 {
    status_field("VmRSS:")
}

/// The filter among the harness arguments `cargo bench` passes on: the first argument that is
/// neither an option nor the value of one of criterion's options that take a value.
fn harness_filter(args: impl Iterator<Item = String>) -> String {
    const WITH_VALUE: [&str; 16] = [
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--color",
        "--output-format",
        "--plotting-backend",
        "--format",
        "--logfile",
    ];
    let mut args = args;
    while let Some(arg) = args.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            return arg;
        }
    }
    String::new()
}

/// How many events make a measurement of about [`TARGET`].
fn events_for(concurrency: usize, delay_ms: u64) -> usize {
    if delay_ms == 0 {
        return 3000;
    }
    let per_second = concurrency as f64 * 1000.0 / delay_ms as f64;
    ((per_second * TARGET.as_secs_f64()) as usize).clamp(20, 3000)
}

/// Captures `events` events and flushes; returns the wall time and the process's CPU time.
fn deliver(dsn: &str, concurrency: usize, events: usize) -> (Duration, Duration) {
    let client = Client::new(ClientOptions {
        dsn: Some(dsn.parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        queue_capacity: events.max(1000),
        max_concurrent_requests: concurrency,
        ..Default::default()
    });
    // Warm up: the connection and the first send.
    client.capture_event(typical_event(0), None);
    assert!(client.flush(Some(Duration::from_secs(10))));
    let cpu = cpu_time();
    let start = Instant::now();
    for i in 0..events {
        client.capture_event(typical_event(i), None);
    }
    assert!(client.flush(Some(Duration::from_secs(120))), "flushed");
    let elapsed = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu);
    let dropped = client.client_reports().take().map_or(0, |r| r.total());
    assert_eq!(dropped, 0, "nothing dropped");
    client.close(Some(Duration::from_secs(5)));
    (elapsed, cpu)
}

/// The CPU time (user and system) of this process so far, from `/proc/self/stat`; zero where
/// that file does not exist.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces) start at field 3.
    let Some(rest) = stat.rfind(')').map(|at| &stat[at + 2..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15, indexes 11 and 12 here; USER_HZ is 100 on Linux.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// The server child process, driven through its standard input.
struct Server {
    child: Child,
    stdin: ChildStdin,
    dsn: String,
}

impl Server {
    fn start() -> Server {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .env(SERVER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("server process");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut dsn = String::new();
        stdout.read_line(&mut dsn).expect("the server's DSN");
        Server {
            child,
            stdin,
            dsn: dsn.trim().to_owned(),
        }
    }

    fn set_delay(&mut self, delay_ms: u64) {
        writeln!(self.stdin, "{delay_ms}").expect("server alive");
        self.stdin.flush().expect("server alive");
        // Applied by the server's reading thread; give it a moment.
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child: a loopback server whose per-request delay is read from standard input (one
/// number of milliseconds a line), forgetting what it received every 100 ms to bound memory.
fn serve() {
    let server = Arc::new(TestServer::start());
    println!("{}", server.dsn());
    let _ = std::io::stdout().flush();
    let clearer = Arc::clone(&server);
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(100));
        clearer.clear();
    });
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let delay = line.trim().parse::<u64>().unwrap_or(0);
        server.set_behavior(if delay == 0 {
            Behavior::ok()
        } else {
            Behavior::slow(Duration::from_millis(delay), Behavior::ok())
        });
    }
}
