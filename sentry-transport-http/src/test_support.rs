//! Fixtures for the crate's unit tests: options for a DSN, and a one-shot HTTP server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use sentry_core::client_reports::ClientReports;
use sentry_core::transport::TransportOptions;

pub(crate) fn options_for(dsn: &str) -> TransportOptions {
    let dsn = dsn.parse().expect("valid DSN");
    TransportOptions::new(dsn, Arc::new(ClientReports::new()))
}

/// An empty environment: no proxy variables.
pub(crate) fn no_env(_: &str) -> Option<String> {
    None
}

/// Whether `head` has the header line `name: value` (name compared case-insensitively).
pub(crate) fn has_header(head: &[String], name: &str, value: &str) -> bool {
    head.iter().any(|line| {
        line.split_once(':')
            .is_some_and(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim() == value)
    })
}

/// The request head (lines) and body one-shot server received.
pub(crate) type Received = thread::JoinHandle<(Vec<String>, Vec<u8>)>;

/// Answers one request with `response`; returns a DSN pointing at it and what it received.
pub(crate) fn answer_once(response: &'static str) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = Vec::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read");
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("length");
                }
            }
            head.push(line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        let mut stream = stream;
        stream.write_all(response.as_bytes()).expect("write");
        (head, body)
    });
    (format!("http://public@127.0.0.1:{port}/1"), handle)
}
