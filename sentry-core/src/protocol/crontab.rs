//! Checking a crontab expression before it becomes a monitor's schedule.
//!
//! Sentry creates or updates a monitor from the `monitor_config` of a check-in; a schedule it
//! cannot read leaves the monitor without one, and the job's check-ins go nowhere. So the SDK
//! reads the expression when the schedule is built and says what is wrong instead.
//!
//! Accepted: five fields separated by whitespace (minute, hour, day of month, month, day of
//! week), each a comma-separated list of `*`, `N`, `A-B`, `*/S`, `A-B/S` or `A/S`, values in
//! the field's range (minute 0–59, hour 0–23, day 1–31, month 1–12 or `JAN`–`DEC`, weekday
//! 0–7 or `SUN`–`SAT`, 7 being Sunday too; names in any case), ranges not reversed, steps at
//! least 1; or one of the aliases `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
//! `@midnight`, `@hourly`.

/// The aliases Sentry's crontab reader knows.
const ALIASES: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One of the five fields: its name, its range, and the names it accepts (the first name
/// standing for `first_name_value`).
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    first_name_value: u32,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        first_name_value: 0,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        first_name_value: 0,
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        first_name_value: 0,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
        first_name_value: 1,
    },
    Field {
        name: "day of week",
        min: 0,
        max: 7,
        names: &WEEKDAYS,
        first_name_value: 0,
    },
];

/// Checks `expr`; the error says which field is wrong and why.
pub(crate) fn check(expr: &str) -> Result<(), String> {
    let expr = expr.trim();
    if expr.starts_with('@') {
        let lower = expr.to_ascii_lowercase();
        return if ALIASES.contains(&lower.as_str()) {
            Ok(())
        } else {
            Err(format!(
                "unknown alias `{expr}` (known: {})",
                ALIASES.join(", ")
            ))
        };
    }
    let parts: Vec<&str> = expr.split_whitespace().collect();
    if parts.len() != FIELDS.len() {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            parts.len()
        ));
    }
    for (part, field) in parts.iter().zip(FIELDS.iter()) {
        check_field(part, field).map_err(|why| format!("{} field `{part}`: {why}", field.name))?;
    }
    Ok(())
}

fn check_field(text: &str, field: &Field) -> Result<(), String> {
    for item in text.split(',') {
        if item.is_empty() {
            return Err("empty list entry".to_owned());
        }
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => (base, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            let step = number(step).ok_or_else(|| format!("step `{step}` is not a number"))?;
            if step == 0 || step > field.max {
                return Err(format!("step {step} is outside 1–{}", field.max));
            }
        }
        if base == "*" {
            continue;
        }
        match base.split_once('-') {
            Some((from, to)) => {
                let from = value(from, field)?;
                let to = value(to, field)?;
                if from > to {
                    return Err(format!("range {from}-{to} is reversed"));
                }
            }
            None => {
                value(base, field)?;
            }
        }
    }
    Ok(())
}

/// A value of `field`: a number in its range or one of its names.
fn value(text: &str, field: &Field) -> Result<u32, String> {
    if let Some(n) = number(text) {
        return if (field.min..=field.max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{n} is outside {}–{}", field.min, field.max))
        };
    }
    let upper = text.to_ascii_uppercase();
    match field.names.iter().position(|name| *name == upper) {
        Some(index) => Ok(field.first_name_value + index as u32),
        None if field.names.is_empty() => Err(format!("`{text}` is not a number")),
        None => Err(format!(
            "`{text}` is neither a number nor one of {}",
            field.names.join(", ")
        )),
    }
}

/// A decimal number of at most a few digits (no sign, no spaces).
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn good_expressions() {
        for expr in [
            "* * * * *",
            "0 * * * *",
            "*/15 * * * *",
            "0 0 * * 0",
            "0 0 * * 7",
            "5,10,15-20 1-5/2 1,15 JAN-MAR MON-FRI",
            "0 9 * jun,Dec sun",
            "  0   3 * * *  ",
            "5/10 * * * *",
            "59 23 31 12 6",
            "@daily",
            "@HOURLY",
            "@weekly",
            "@monthly",
            "@yearly",
            "@annually",
            "@midnight",
        ] {
            assert_eq!(check(expr), Ok(()), "{expr}");
        }
    }

    #[test]
    fn bad_expressions() {
        for (expr, why) in [
            ("", "expected 5 fields"),
            ("* * * *", "found 4"),
            ("* * * * * *", "found 6"),
            ("60 * * * *", "minute field `60`: 60 is outside 0–59"),
            ("* 24 * * *", "hour field"),
            ("* * 0 * *", "day of month field `0`"),
            ("* * 32 * *", "day of month field"),
            ("* * * 13 *", "month field"),
            ("* * * 0 *", "month field"),
            ("* * * * 8", "day of week field"),
            ("* * * FOO *", "neither a number nor one of JAN"),
            ("* * * * MON-FOO", "day of week field"),
            ("*/0 * * * *", "step 0"),
            ("*/x * * * *", "step `x` is not a number"),
            ("10-5 * * * *", "range 10-5 is reversed"),
            ("1,,2 * * * *", "empty list entry"),
            ("-1 * * * *", "minute field"),
            ("a * * * *", "`a` is not a number"),
            ("* * * JAN *x", "day of week field"),
            ("@every_minute", "unknown alias"),
            ("@reboot", "unknown alias"),
            ("99999 * * * *", "minute field"),
        ] {
            match check(expr) {
                Ok(()) => panic!("{expr:?} was accepted"),
                Err(err) => assert!(err.contains(why), "{expr:?}: {err}"),
            }
        }
    }
}
