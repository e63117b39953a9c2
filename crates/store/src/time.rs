//! EVE timestamps (`2024-01-02T03:04:05.123456+0000`) to microseconds since the Unix epoch, and
//! durations such as `1h` for `--since`.

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |a, &b| a * 10 + i64::from(b - b'0')))
}

/// Parses an EVE timestamp; `None` when it is not one. Accepts a fraction of 0–9 digits and a
/// `+HHMM`, `+HH:MM` or `Z` zone.
pub fn parse_eve_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !matches!(b.get(10), Some(b'T' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let year = digits(b.get(0..4)?)?;
    let month = digits(b.get(5..7)?)?;
    let day = digits(b.get(8..10)?)?;
    let hour = digits(b.get(11..13)?)?;
    let minute = digits(b.get(14..16)?)?;
    let sec = digits(b.get(17..19)?)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if sec > 60 {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut micros = 0i64;
    if let Some((&b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        let (f, tail) = frac.split_at(n);
        let mut scaled = 0i64;
        for i in 0..6 {
            scaled = scaled * 10 + f.get(i).map_or(0, |c| i64::from(c - b'0'));
        }
        micros = scaled;
        rest = tail;
    }
    let offset_secs = match rest {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let zone: Vec<u8> = zone.iter().copied().filter(|&c| c != b':').collect();
            if zone.len() != 4 {
                return None;
            }
            let hh = digits(zone.get(0..2)?)?;
            let mm = digits(zone.get(2..4)?)?;
            let off = hh * 3600 + mm * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + sec - offset_secs;
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

/// Parses a duration like `90s`, `15m`, `1h`, `7d` (a bare number is seconds) into seconds.
pub fn parse_duration_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn eve_timestamps_parse_to_epoch_micros() {
        assert_eq!(
            parse_eve_timestamp("1970-01-01T00:00:00.000000+0000"),
            Some(0)
        );
        assert_eq!(
            parse_eve_timestamp("2024-02-29T12:34:56.789012+0000"),
            Some(1_709_210_096_789_012)
        );
        // The same instant written with another zone.
        assert_eq!(
            parse_eve_timestamp("2024-02-29T14:34:56.789012+0200"),
            Some(1_709_210_096_789_012)
        );
        assert_eq!(
            parse_eve_timestamp("2024-02-29T12:34:56Z"),
            Some(1_709_210_096_000_000)
        );
        for bad in [
            "",
            "2024-13-01T00:00:00",
            "yesterday",
            "2024-01-01T00:00:00+01",
            "2024-01-01T00:00:00.5x",
        ] {
            assert_eq!(parse_eve_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("1h"), Some(3600));
        assert_eq!(parse_duration_secs("90"), Some(90));
        assert_eq!(parse_duration_secs("7d"), Some(604_800));
        assert_eq!(parse_duration_secs("1y"), None);
        assert_eq!(parse_duration_secs("h"), None);
    }
}
