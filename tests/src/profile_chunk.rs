//! The checks Sentry (Relay's `relay-profiling`, sample format v2) makes on a `profile_chunk`
//! item, and a few of the SDK's own promises, field by field.
//!
//! Relay rejects a chunk whose item header lacks the `platform` its payload names, with no
//! samples, stacks or frames, with an index pointing past its stacks or frames, covering more
//! than 66 s, larger than 50 MB, or missing its metadata (`release`, ids, `client_sdk`, and
//! `debug_meta` images for a native platform).

use std::collections::HashSet;

/// The most seconds a chunk may cover.
pub const MAX_DURATION_SECONDS: f64 = 66.0;
/// The most bytes a chunk's payload may have.
pub const MAX_PAYLOAD_BYTES: usize = 50 * 1024 * 1024;

/// Checks one `profile_chunk` item: its header (as JSON) and its payload bytes. Every problem
/// found is listed.
///
/// # Errors
///
/// The problems, one sentence each.
///
/// # Examples
///
/// ```
/// use sentry_tests::profile_chunk::check_profile_chunk;
///
/// let header = serde_json::json!({"type": "profile_chunk", "platform": "rust"});
/// let problems = check_profile_chunk(&header, br#"{"version":"2","platform":"rust"}"#).unwrap_err();
/// assert!(problems.iter().any(|p| p.contains("samples")));
/// ```
pub fn check_profile_chunk(
    item_header: &serde_json::Value,
    payload: &[u8],
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if payload.len() > MAX_PAYLOAD_BYTES {
        problems.push(format!(
            "the payload is {} bytes, more than {MAX_PAYLOAD_BYTES}",
            payload.len()
        ));
    }
    if item_header["type"] != "profile_chunk" {
        problems.push(format!(
            "the item header's type is {}, not \"profile_chunk\"",
            item_header["type"]
        ));
    }
    let json: serde_json::Value = match serde_json::from_slice(payload) {
        Ok(json) => json,
        Err(err) => {
            problems.push(format!("the payload is not JSON: {err}"));
            return Err(problems);
        }
    };
    let platform = json["platform"].as_str().unwrap_or_default();
    if platform.is_empty() {
        problems.push("the payload has no platform".into());
    }
    match item_header["platform"].as_str() {
        Some(p) if p == platform => {}
        Some(p) => problems.push(format!(
            "the item header's platform {p:?} differs from the payload's {platform:?}"
        )),
        None => problems.push("the item header has no platform".into()),
    }
    if json["version"] != "2" {
        problems.push(format!("version is {}, not \"2\"", json["version"]));
    }
    for key in ["profiler_id", "chunk_id"] {
        let id = json[key].as_str().unwrap_or_default().replace('-', "");
        if id.len() != 32
            || !id.bytes().all(|b| b.is_ascii_hexdigit())
            || id.bytes().all(|b| b == b'0')
        {
            problems.push(format!("{key} is {}, not a UUID", json[key]));
        }
    }
    if json["release"].as_str().is_none_or(str::is_empty) {
        problems.push("release is missing".into());
    }
    for key in ["name", "version"] {
        if json["client_sdk"][key].as_str().is_none_or(str::is_empty) {
            problems.push(format!("client_sdk.{key} is missing"));
        }
    }
    let images = json["debug_meta"]["images"].as_array();
    if images.is_none_or(Vec::is_empty) {
        problems.push("debug_meta.images is empty (required on native platforms)".into());
    }
    for (i, image) in images.into_iter().flatten().enumerate() {
        for key in ["code_file", "debug_id", "image_addr"] {
            if image[key].as_str().is_none_or(str::is_empty) {
                problems.push(format!("debug_meta.images[{i}].{key} is missing"));
            }
        }
    }
    let profile = &json["profile"];
    let empty = Vec::new();
    let samples = profile["samples"].as_array().unwrap_or(&empty);
    let stacks = profile["stacks"].as_array().unwrap_or(&empty);
    let frames = profile["frames"].as_array().unwrap_or(&empty);
    for (name, list) in [("samples", samples), ("stacks", stacks), ("frames", frames)] {
        if list.is_empty() {
            problems.push(format!("profile.{name} is empty or missing"));
        }
    }
    for (i, frame) in frames.iter().enumerate() {
        let addr = frame["instruction_addr"].as_str().unwrap_or_default();
        let hex = addr.strip_prefix("0x").unwrap_or_default();
        if hex.is_empty() || u64::from_str_radix(hex, 16).is_err() {
            problems.push(format!(
                "frames[{i}].instruction_addr is {}, not a 0x… address",
                frame["instruction_addr"]
            ));
        }
    }
    for (i, stack) in stacks.iter().enumerate() {
        let Some(indices) = stack.as_array() else {
            problems.push(format!("stacks[{i}] is not a list"));
            continue;
        };
        if indices.is_empty() {
            problems.push(format!("stacks[{i}] is empty"));
        }
        for index in indices {
            if index.as_u64().is_none_or(|f| f as usize >= frames.len()) {
                problems.push(format!(
                    "stacks[{i}] points to frame {index}, which does not exist"
                ));
            }
        }
    }
    let threads = profile["thread_metadata"].as_object();
    let mut unnamed = HashSet::new();
    let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, sample) in samples.iter().enumerate() {
        if sample["stack_id"]
            .as_u64()
            .is_none_or(|s| s as usize >= stacks.len())
        {
            problems.push(format!(
                "samples[{i}].stack_id {} points to no stack",
                sample["stack_id"]
            ));
        }
        match sample["thread_id"].as_str() {
            Some(tid) => {
                if !threads.is_some_and(|t| t.contains_key(tid)) && unnamed.insert(tid.to_owned()) {
                    problems.push(format!("thread {tid} is not in thread_metadata"));
                }
            }
            None => problems.push(format!("samples[{i}].thread_id is not a string")),
        }
        match sample["timestamp"].as_f64() {
            Some(t) if t > 0.0 => {
                first = first.min(t);
                last = last.max(t);
            }
            _ => problems.push(format!("samples[{i}].timestamp is not a time in seconds")),
        }
    }
    if last - first > MAX_DURATION_SECONDS {
        problems.push(format!(
            "the samples cover {:.1} s, more than {MAX_DURATION_SECONDS}",
            last - first
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> serde_json::Value {
        serde_json::json!({
            "version": "2",
            "profiler_id": "71bba98d90b545c39f2ae9f1e8f2a4c6",
            "chunk_id": "3e1d1a0c8b0f4c9e9f5c2a1b0d9e8f7a",
            "platform": "rust",
            "release": "app@1",
            "environment": "production",
            "client_sdk": {"name": "sentry.rust", "version": "0.1.0"},
            "debug_meta": {"images": [{"type": "elf", "code_file": "/bin/app",
                "debug_id": "dfb8e43a-f242-3d73-a453-aeb6a777ef75", "image_addr": "0x1000",
                "image_size": 4096}]},
            "profile": {
                "samples": [
                    {"timestamp": 1700000000.0, "stack_id": 0, "thread_id": "1"},
                    {"timestamp": 1700000000.5, "stack_id": 1, "thread_id": "1"}
                ],
                "stacks": [[0, 1], [1]],
                "frames": [{"instruction_addr": "0x1100"}, {"instruction_addr": "0x1200"}],
                "thread_metadata": {"1": {"name": "main"}}
            }
        })
    }

    fn check(payload: &serde_json::Value) -> Result<(), Vec<String>> {
        let header = serde_json::json!({"type": "profile_chunk", "platform": "rust"});
        check_profile_chunk(&header, &serde_json::to_vec(payload).unwrap())
    }

    #[test]
    fn a_good_chunk_passes() {
        assert_eq!(check(&good()), Ok(()));
    }

    #[test]
    fn each_rule_is_checked() {
        type Change = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "stack_id",
                Box::new(|j| j["profile"]["samples"][1]["stack_id"] = 9.into()),
            ),
            (
                "frame 7",
                Box::new(|j| j["profile"]["stacks"][0][0] = 7.into()),
            ),
            (
                "profile.frames",
                Box::new(|j| j["profile"]["frames"] = serde_json::json!([])),
            ),
            (
                "cover",
                Box::new(|j| j["profile"]["samples"][1]["timestamp"] = 1700000067.0.into()),
            ),
            (
                "release",
                Box::new(|j| j["release"] = serde_json::Value::Null),
            ),
            (
                "debug_meta",
                Box::new(|j| j["debug_meta"]["images"] = serde_json::json!([])),
            ),
            ("platform", Box::new(|j| j["platform"] = "cocoa".into())),
            ("version", Box::new(|j| j["version"] = "1".into())),
            (
                "thread_metadata",
                Box::new(|j| j["profile"]["thread_metadata"] = serde_json::json!({})),
            ),
            (
                "instruction_addr",
                Box::new(|j| j["profile"]["frames"][0] = serde_json::json!({"function": "f"})),
            ),
        ];
        for (needle, change) in cases {
            let mut chunk = good();
            change(&mut chunk);
            let problems = check(&chunk).expect_err(needle);
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "{needle}: {problems:?}"
            );
        }
        let header = serde_json::json!({"type": "profile_chunk"});
        let problems =
            check_profile_chunk(&header, &serde_json::to_vec(&good()).unwrap()).unwrap_err();
        assert!(problems[0].contains("no platform"), "{problems:?}");
    }
}
