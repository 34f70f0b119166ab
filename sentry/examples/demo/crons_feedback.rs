//! The demo's cron monitor and user feedback: a job run under `monitor` (an `in_progress`
//! check-in, then `ok` with its duration), then an error and the feedback a user left about
//! it, linked through `last_event_id`.

use std::time::Duration;

use sentry::protocol::{Feedback, MonitorConfig, MonitorSchedule};

/// Runs the job under a monitor, captures an error and the user's feedback about it. The SDK
/// must be initialised.
pub(crate) fn run() {
    let schedule = match MonitorSchedule::crontab("*/15 * * * *") {
        Ok(schedule) => schedule,
        Err(err) => {
            eprintln!("demo: {err}");
            return;
        }
    };
    let config = MonitorConfig {
        checkin_margin: Some(2),
        max_runtime: Some(5),
        timezone: Some("Europe/Vienna".into()),
        ..MonitorConfig::new(schedule)
    };
    let rows = sentry::monitor("demo-cleanup", Some(config), || {
        std::thread::sleep(Duration::from_millis(120));
        Ok::<u32, std::io::Error>(17)
    });
    eprintln!("demo: cleanup job removed {rows:?} rows");

    // A request fails; its handler returns the error's id to the client...
    let err = "seventeen".parse::<u32>().unwrap_err();
    sentry::capture_error(&err);
    let error_id = sentry::last_event_id();
    // ...whose error page asks the user what happened and posts the answer back.
    let feedback_id = sentry::capture_feedback(Feedback {
        name: Some("Demo User".into()),
        contact_email: Some("demo@example.com".into()),
        url: Some("https://demo.example.com/import".into()),
        associated_event_id: error_id,
        ..Feedback::new("I uploaded my file and the import stopped with an error.")
    });
    eprintln!("demo: feedback {feedback_id} about event {error_id:?}");
}
