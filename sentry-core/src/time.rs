//! Time on the wire: RFC 3339 strings, float seconds and HTTP dates.
//!
//! Sentry accepts timestamps either as RFC 3339 strings in UTC or as (fractional) seconds since
//! the Unix epoch. The SDK writes float seconds in payloads and RFC 3339 in the envelope's
//! `sent_at` header, and reads either. HTTP dates appear in the `Retry-After` response header.
//!
//! The calendar arithmetic is the proleptic Gregorian calendar in UTC, written out here so the
//! SDK needs no date-time crate. Leap seconds do not exist for Unix time, so none are modelled.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1–12, `day` 1–31).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Shift the year to start in March so the leap day is the last day of the "year".
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both values are small and positive by construction.
    (year, month as u32, day as u32)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Seconds and sub-second microseconds relative to the epoch, floored (so the microseconds are
/// always in `0..1_000_000`, also before 1970).
fn split_micros(t: SystemTime) -> (i64, u32) {
    let micros: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i128,
        // Before the epoch: round towards negative infinity.
        Err(e) => {
            let d = e.duration();
            let whole = d.as_micros() as i128;
            if d.subsec_nanos() % 1000 != 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    };
    let secs = micros.div_euclid(1_000_000);
    let sub = micros.rem_euclid(1_000_000);
    (
        i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
        sub as u32,
    )
}

/// The time at `secs` seconds plus `micros` microseconds after the epoch (negative: before it).
pub(crate) fn from_unix(secs: i64, nanos: u32) -> Option<SystemTime> {
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(secs.unsigned_abs(), nanos))
    } else {
        let back = UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))?;
        back.checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

/// Formats a time as an RFC 3339 string in UTC with microsecond precision, such as
/// `2024-05-01T12:00:00.123456Z`. This is the form of the envelope's `sent_at` header.
pub fn format_rfc3339(t: SystemTime) -> String {
    Rfc3339(t).to_string()
}

/// A [`Display`](fmt::Display) adapter writing a time as [`format_rfc3339`] does, without an
/// intermediate `String`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rfc3339(pub(crate) SystemTime);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, micros) = split_micros(self.0);
        let days = secs.div_euclid(SECS_PER_DAY);
        let secs_of_day = secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60,
        )
    }
}

/// Seconds since the Unix epoch as a float, the form Sentry payloads use for timestamps.
/// Times before 1970 give negative numbers.
pub(crate) fn timestamp_f64(t: SystemTime) -> f64 {
    // Whole microseconds: an integer below 2^53 is exact in an f64, so the value read back
    // (rounded to the microsecond) is exactly the value written.
    let micros = |d: std::time::Duration| d.as_secs() as f64 * 1e6 + f64::from(d.subsec_micros());
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => micros(d) / 1e6,
        Err(e) => -micros(e.duration()) / 1e6,
    }
}

/// The time `secs` seconds after the epoch, rounded to the microsecond (the precision the SDK
/// writes). `None` for non-finite or out-of-range numbers.
pub(crate) fn from_timestamp_f64(secs: f64) -> Option<SystemTime> {
    if !secs.is_finite() {
        return None;
    }
    let micros = (secs * 1_000_000.0).round();
    // ±2^62 µs is far beyond any real timestamp, and keeps the cast exact.
    if micros.abs() > 4.6e18 {
        return None;
    }
    let micros = micros as i64;
    from_unix(
        micros.div_euclid(1_000_000),
        (micros.rem_euclid(1_000_000) as u32) * 1000,
    )
}

/// A tiny cursor over ASCII text for the date parsers.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor {
            bytes: s.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn eat_if(&mut self, pred: impl Fn(u8) -> bool) -> Option<u8> {
        let b = self.peek().filter(|&b| pred(b))?;
        self.pos += 1;
        Some(b)
    }

    fn spaces(&mut self) -> usize {
        let start = self.pos;
        while self.eat(b' ').is_some() {}
        self.pos - start
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..n {
            let d = self.eat_if(|b| b.is_ascii_digit())?;
            value = value * 10 + u32::from(d - b'0');
        }
        Some(value)
    }

    /// One or more ASCII letters.
    fn word(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.eat_if(|b| b.is_ascii_alphabetic()).is_some() {}
        if self.pos == start {
            return None;
        }
        std::str::from_utf8(&self.bytes[start..self.pos]).ok()
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

fn month_from_name(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let index = MONTHS.iter().position(|m| name.eq_ignore_ascii_case(m))?;
    u32::try_from(index + 1).ok()
}

/// Combines validated calendar fields into a time.
fn make_time(
    (year, month, day): (i64, u32, u32),
    (hour, minute, second): (u32, u32, u32),
    nanos: u32,
    offset_secs: i64,
) -> Option<SystemTime> {
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * SECS_PER_DAY
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second)
        - offset_secs;
    from_unix(secs, nanos)
}

/// `HH:MM:SS`
fn parse_clock(c: &mut Cursor<'_>) -> Option<(u32, u32, u32)> {
    let hour = c.digits(2)?;
    c.eat(b':')?;
    let minute = c.digits(2)?;
    c.eat(b':')?;
    let second = c.digits(2)?;
    Some((hour, minute, second))
}

/// Parses an RFC 3339 timestamp such as `2024-05-01T12:00:00.123456Z` or
/// `2024-05-01T14:00:00+02:00`.
///
/// Fractional seconds of any length are accepted (digits beyond nanoseconds are dropped); `t`/`z`
/// and a space instead of `T` are accepted too. A missing offset is read as UTC, which is how
/// Sentry treats it.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let mut c = Cursor::new(s.trim());
    let year = c.digits(4)?;
    c.eat(b'-')?;
    let month = c.digits(2)?;
    c.eat(b'-')?;
    let day = c.digits(2)?;
    c.eat_if(|b| matches!(b, b'T' | b't' | b' '))?;
    let (hour, minute, second) = parse_clock(&mut c)?;
    let mut nanos = 0u32;
    if c.eat(b'.').is_some() {
        let mut scale = 100_000_000u32;
        let mut any = false;
        while let Some(d) = c.eat_if(|b| b.is_ascii_digit()) {
            nanos += u32::from(d - b'0') * scale;
            scale /= 10;
            any = true;
        }
        if !any {
            return None;
        }
    }
    let offset_secs = match c.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            c.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let hours = c.digits(2)?;
            c.eat(b':')?;
            let minutes = c.digits(2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = i64::from(hours * 3600 + minutes * 60);
            if sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        Some(_) => return None,
    };
    if !c.at_end() {
        return None;
    }
    make_time(
        (i64::from(year), month, day),
        (hour, minute, second),
        nanos,
        offset_secs,
    )
}

/// Parses an HTTP date, as used by the `Retry-After` header.
///
/// Accepts IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form HTTP servers may
/// generate; Relay itself sends `Retry-After` as seconds. The obsolete RFC 850 and asctime forms
/// give `None`, like anything else, and the caller falls back to its default delay. The weekday
/// name is not checked against the date.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    parse_imf_fixdate(s.trim())
}

fn parse_gmt_suffix(c: &mut Cursor<'_>) -> Option<()> {
    if c.spaces() != 1 || !c.word()?.eq_ignore_ascii_case("GMT") || !c.at_end() {
        return None;
    }
    Some(())
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn parse_imf_fixdate(s: &str) -> Option<SystemTime> {
    let mut c = Cursor::new(s);
    c.word()?;
    c.eat(b',')?;
    c.spaces();
    let day = c.digits(2)?;
    c.spaces();
    let month = month_from_name(c.word()?)?;
    c.spaces();
    let year = c.digits(4)?;
    c.spaces();
    let (hour, minute, second) = parse_clock(&mut c)?;
    parse_gmt_suffix(&mut c)?;
    make_time((i64::from(year), month, day), (hour, minute, second), 0, 0)
}

/// Reads a timestamp written as float or integer seconds, or as an RFC 3339 string.
struct TimestampVisitor;

impl serde::de::Visitor<'_> for TimestampVisitor {
    type Value = SystemTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a timestamp (seconds since the epoch, or an RFC 3339 string)")
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<SystemTime, E> {
        from_timestamp_f64(v).ok_or_else(|| E::custom(format_args!("timestamp out of range: {v}")))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SystemTime, E> {
        from_unix(v, 0).ok_or_else(|| E::custom(format_args!("timestamp out of range: {v}")))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SystemTime, E> {
        UNIX_EPOCH
            .checked_add(Duration::from_secs(v))
            .ok_or_else(|| E::custom(format_args!("timestamp out of range: {v}")))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SystemTime, E> {
        timestamp_from_str(v).ok_or_else(|| E::custom(format_args!("invalid timestamp: {v:?}")))
    }
}

/// A timestamp written as a string: RFC 3339, or seconds since the epoch as text.
pub(crate) fn timestamp_from_str(v: &str) -> Option<SystemTime> {
    parse_rfc3339(v).or_else(|| v.trim().parse::<f64>().ok().and_then(from_timestamp_f64))
}

/// Deserializes one timestamp (float seconds, integer seconds or RFC 3339 string).
fn deserialize_any_timestamp<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<SystemTime, D::Error> {
    d.deserialize_any(TimestampVisitor)
}

/// Wraps a timestamp for `Option` handling in the `*_opt` helpers.
struct AnyTimestamp(SystemTime);

impl<'de> serde::Deserialize<'de> for AnyTimestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_any_timestamp(d).map(AnyTimestamp)
    }
}

/// Serde helpers for a [`SystemTime`] written as float seconds since the epoch.
///
/// Use with `#[serde(with = "crate::time::seconds")]`. Deserialization accepts float or
/// integer seconds and RFC 3339 strings.
pub(crate) mod seconds {
    use std::time::SystemTime;

    /// Writes float seconds since the epoch.
    pub(crate) fn serialize<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(super::timestamp_f64(*t))
    }

    /// Reads float or integer seconds, or an RFC 3339 string.
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<SystemTime, D::Error> {
        super::deserialize_any_timestamp(d)
    }
}

/// Like [`seconds`], for an `Option<SystemTime>` (`None` is written as `null`; pair it with
/// `skip_serializing_if = "Option::is_none"` and `default`).
pub(crate) mod seconds_opt {
    use std::time::SystemTime;

    use serde::Deserialize;

    /// Writes float seconds since the epoch, or `null`.
    pub(crate) fn serialize<S: serde::Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&super::timestamp_f64(*t)),
            None => s.serialize_none(),
        }
    }

    /// Reads float or integer seconds, an RFC 3339 string, or `null`.
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        Ok(Option::<super::AnyTimestamp>::deserialize(d)?.map(|t| t.0))
    }
}

/// Serde helpers for a [`SystemTime`] written as an RFC 3339 string (see [`format_rfc3339`]).
///
/// Deserialization accepts float or integer seconds too.
pub(crate) mod rfc3339 {
    use std::time::SystemTime;

    /// Writes an RFC 3339 string in UTC.
    pub(crate) fn serialize<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&super::Rfc3339(*t))
    }

    /// Reads an RFC 3339 string, or float or integer seconds.
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<SystemTime, D::Error> {
        super::deserialize_any_timestamp(d)
    }
}

/// Like [`rfc3339`], for an `Option<SystemTime>`.
pub(crate) mod rfc3339_opt {
    use std::time::SystemTime;

    use serde::Deserialize;

    /// Writes an RFC 3339 string in UTC, or `null`.
    pub(crate) fn serialize<S: serde::Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&super::Rfc3339(*t).to_string()),
            None => s.serialize_none(),
        }
    }

    /// Reads an RFC 3339 string, float or integer seconds, or `null`.
    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        Ok(Option::<super::AnyTimestamp>::deserialize(d)?.map(|t| t.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, micros * 1000)
    }

    #[test]
    fn civil_round_trip_over_many_years() {
        // Every day from 1600 to 2400 maps back to itself.
        let start = days_from_civil(1600, 1, 1);
        let end = days_from_civil(2400, 12, 31);
        let mut expected = (1600, 1, 1);
        for days in start..=end {
            let date = civil_from_days(days);
            assert_eq!(date, expected);
            assert_eq!(days_from_civil(date.0, date.1, date.2), days);
            let (y, m, d) = expected;
            expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_rfc3339(at(1_714_564_800, 123_456)),
            "2024-05-01T12:00:00.123456Z"
        );
        // Leap day, end of day.
        assert_eq!(
            format_rfc3339(at(951_868_799, 999_999)),
            "2000-02-29T23:59:59.999999Z"
        );
        // Sub-microsecond digits are truncated.
        assert_eq!(
            format_rfc3339(UNIX_EPOCH + Duration::new(1, 999)),
            "1970-01-01T00:00:01.000000Z"
        );
        // Before the epoch.
        assert_eq!(
            format_rfc3339(UNIX_EPOCH - Duration::from_micros(1)),
            "1969-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn parses_rfc3339() {
        let t = at(1_714_564_800, 123_456);
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00.123456Z"), Some(t));
        assert_eq!(parse_rfc3339("2024-05-01t12:00:00.123456z"), Some(t));
        assert_eq!(parse_rfc3339("2024-05-01 12:00:00.123456+00:00"), Some(t));
        assert_eq!(parse_rfc3339("2024-05-01T13:30:00.123456+01:30"), Some(t));
        assert_eq!(parse_rfc3339("2024-05-01T10:00:00.123456-02:00"), Some(t));
        assert_eq!(
            parse_rfc3339("2024-05-01T12:00:00Z"),
            Some(at(1_714_564_800, 0))
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T12:00:00.5"),
            Some(at(1_714_564_800, 500_000))
        );
        assert_eq!(
            parse_rfc3339("2024-05-01T12:00:00.123456789Z"),
            Some(UNIX_EPOCH + Duration::new(1_714_564_800, 123_456_789))
        );
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00ZZ",
            "2024-05-01T12:00:00+0100",
            "24-05-01T12:00:00Z",
            "２０２４-05-01T12:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc3339_round_trips() {
        for t in [
            UNIX_EPOCH,
            at(1, 1),
            at(1_714_564_800, 123_456),
            at(4_102_444_800, 999_999),
        ] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        }
    }

    #[test]
    fn sub_microsecond_times_round_trip_exactly() {
        for nanos in [0u32, 499, 500, 999, 123_456_789, 999_999_999] {
            let t = UNIX_EPOCH + Duration::new(1_795_000_000, nanos);
            let truncated = UNIX_EPOCH + Duration::new(1_795_000_000, nanos / 1000 * 1000);
            assert_eq!(
                from_timestamp_f64(timestamp_f64(t)),
                Some(truncated),
                "{nanos} ns"
            );
        }
    }

    #[test]
    fn float_seconds() {
        let t = at(1_714_564_800, 123_456);
        assert_eq!(timestamp_f64(t), 1_714_564_800.123_456);
        assert_eq!(from_timestamp_f64(timestamp_f64(t)), Some(t));
        assert_eq!(timestamp_f64(UNIX_EPOCH - Duration::from_millis(500)), -0.5);
        assert_eq!(
            from_timestamp_f64(-0.5),
            Some(UNIX_EPOCH - Duration::from_millis(500))
        );
        assert_eq!(from_timestamp_f64(f64::INFINITY), None);
        assert_eq!(from_timestamp_f64(1e300), None);
    }

    #[test]
    fn parses_http_dates() {
        let expected = Some(at(784_111_777, 0));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
        assert_eq!(parse_http_date(" Sun, 06 Nov 1994 08:49:37 GMT "), expected);
        assert_eq!(
            parse_http_date("Thu, 01 Jan 2037 00:00:00 GMT"),
            Some(at(2_114_380_800, 0))
        );
        for bad in [
            "",
            "120",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Ü, 06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Stamps {
        #[serde(with = "seconds")]
        a: SystemTime,
        #[serde(with = "seconds_opt", default, skip_serializing_if = "Option::is_none")]
        b: Option<SystemTime>,
        #[serde(with = "rfc3339")]
        c: SystemTime,
        #[serde(with = "rfc3339_opt", default, skip_serializing_if = "Option::is_none")]
        d: Option<SystemTime>,
    }

    #[test]
    fn serde_helpers() {
        let t = at(1_714_564_800, 123_456);
        let stamps = Stamps {
            a: t,
            b: Some(t),
            c: t,
            d: None,
        };
        let json = serde_json::to_value(&stamps).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "a": 1_714_564_800.123_456,
                "b": 1_714_564_800.123_456,
                "c": "2024-05-01T12:00:00.123456Z",
            })
        );
        let back: Stamps = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, stamps);

        // Every accepted input form.
        let parsed: Stamps = serde_json::from_str(
            r#"{"a": 1714564800, "b": "2024-05-01T12:00:00.123456Z", "c": 1714564800.123456, "d": null}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.a, at(1_714_564_800, 0));
        assert_eq!(parsed.b, Some(t));
        assert_eq!(parsed.c, t);
        assert_eq!(parsed.d, None);

        assert!(serde_json::from_str::<Stamps>(r#"{"a": "later", "c": 0}"#).is_err());
        assert!(serde_json::from_str::<Stamps>(r#"{"a": true, "c": 0}"#).is_err());
    }

    /// The worked examples of this module's functions.
    #[test]
    fn documented_examples() {
        {
            use crate::time::{format_rfc3339, parse_http_date, parse_rfc3339, timestamp_f64};
            use std::time::{Duration, UNIX_EPOCH};

            let t = UNIX_EPOCH + Duration::from_micros(1_714_564_800_123_456);
            assert_eq!(format_rfc3339(t), "2024-05-01T12:00:00.123456Z");
            assert_eq!(parse_rfc3339("2024-05-01T12:00:00.123456Z"), Some(t));
            assert_eq!(timestamp_f64(t), 1_714_564_800.123456);

            let date = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
            assert_eq!(date, UNIX_EPOCH + Duration::from_secs(784_111_777));
        }
        {
            use std::time::UNIX_EPOCH;
            assert_eq!(
                crate::time::format_rfc3339(UNIX_EPOCH),
                "1970-01-01T00:00:00.000000Z"
            );
        }
        {
            use std::time::{Duration, UNIX_EPOCH};
            let t = UNIX_EPOCH + Duration::from_millis(1500);
            assert_eq!(crate::time::timestamp_f64(t), 1.5);
        }
        {
            use crate::time::from_timestamp_f64;
            use std::time::{Duration, UNIX_EPOCH};
            assert_eq!(
                from_timestamp_f64(1.5),
                Some(UNIX_EPOCH + Duration::from_millis(1500))
            );
            assert_eq!(from_timestamp_f64(f64::NAN), None);
        }
        {
            use crate::time::{format_rfc3339, parse_rfc3339};
            let t = parse_rfc3339("2024-05-01T14:00:00+02:00").unwrap();
            assert_eq!(format_rfc3339(t), "2024-05-01T12:00:00.000000Z");
            assert_eq!(parse_rfc3339("yesterday"), None);
        }
        {
            use crate::time::parse_http_date;
            let a = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
            assert!(a.is_some());
            assert_eq!(parse_http_date("soon"), None);
        }
    }
}
