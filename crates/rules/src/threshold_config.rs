//! `threshold.config`: global `threshold`, `event_filter`, `suppress` and `rate_filter` lines.
//! A `gid` or `sid` of 0 means every rule, as in Suricata.

use crate::ast::{Action, AddrSpec, Location, Threshold, Track};
use crate::lexer::{for_each_config_line, preview, split_top};
use crate::parse::threshold_from_pairs;
use crate::{parse_addr, RuleError};

/// One threshold.config line.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// `threshold gen_id G, sig_id S, type T, track K, count N, seconds S`
    Threshold {
        /// Generator id (0 = all).
        gid: u32,
        /// Signature id (0 = all).
        sid: u32,
        /// The threshold.
        threshold: Threshold,
    },
    /// `suppress gen_id G, sig_id S[, track by_src|by_dst|by_either, ip ADDR]`
    Suppress {
        /// Generator id (0 = all).
        gid: u32,
        /// Signature id (0 = all).
        sid: u32,
        /// Which side `ip` is matched against; `None` suppresses every alert of the rule.
        track: Option<Track>,
        /// Addresses whose alerts are suppressed (may be a `$VAR` or a list).
        ip: Option<AddrSpec>,
    },
    /// `rate_filter gen_id G, sig_id S, track K, count N, seconds S, new_action A, timeout T`
    RateFilter {
        /// Generator id (0 = all).
        gid: u32,
        /// Signature id (0 = all).
        sid: u32,
        /// Tracking key.
        track: Track,
        /// Matches allowed per window before the action changes.
        count: u32,
        /// Window.
        seconds: u32,
        /// Action once the rate is exceeded.
        new_action: Action,
        /// How long the new action lasts, in seconds.
        timeout: u32,
    },
    /// `event_filter`: same settings as `threshold`.
    EventFilter {
        /// Generator id (0 = all).
        gid: u32,
        /// Signature id (0 = all).
        sid: u32,
        /// The threshold.
        threshold: Threshold,
    },
}

/// Parses a threshold.config file. Bad lines are reported with their location and skipped.
pub fn parse(text: &str, file: &str) -> (Vec<Entry>, Vec<(Location, String)>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for_each_config_line(text, file, &mut errors, |s| {
        entries.push(parse_line(s)?);
        Ok(())
    });
    (entries, errors)
}

fn message(e: RuleError) -> String {
    match e {
        RuleError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

fn num(key: &str, v: &str) -> Result<u32, String> {
    v.trim()
        .parse::<u32>()
        .map_err(|_| format!("`{key}` must be a number, got {}", preview(v)))
}

fn parse_line(s: &str) -> Result<Entry, String> {
    let (kind, rest) = s
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((s, ""));
    let kind = kind.to_ascii_lowercase();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in split_top(rest, b',')? {
        let part = part.trim();
        if part.is_empty() {
            return Err("empty setting".to_string());
        }
        let (k, v) = part
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((part, ""));
        let k = k.to_ascii_lowercase();
        if pairs.iter().any(|(p, _)| *p == k) {
            return Err(format!("`{k}` given twice"));
        }
        pairs.push((k, v.trim().to_string()));
    }
    let take = |pairs: &mut Vec<(String, String)>, key: &str| -> Option<String> {
        let i = pairs.iter().position(|(k, _)| k == key)?;
        Some(pairs.remove(i).1)
    };
    let gid = num(
        "gen_id",
        &take(&mut pairs, "gen_id").ok_or("missing `gen_id`")?,
    )?;
    let sid = num(
        "sig_id",
        &take(&mut pairs, "sig_id").ok_or("missing `sig_id`")?,
    )?;
    match kind.as_str() {
        "threshold" | "event_filter" => {
            let threshold = threshold_from_pairs(&kind, &pairs).map_err(message)?;
            Ok(if kind == "threshold" {
                Entry::Threshold {
                    gid,
                    sid,
                    threshold,
                }
            } else {
                Entry::EventFilter {
                    gid,
                    sid,
                    threshold,
                }
            })
        }
        "suppress" => {
            let track = match take(&mut pairs, "track").as_deref() {
                None => None,
                Some("by_src") => Some(Track::BySrc),
                Some("by_dst") => Some(Track::ByDst),
                Some("by_either") => Some(Track::ByEither),
                Some(other) => {
                    return Err(format!(
                        "suppress track must be by_src, by_dst or by_either, got {}",
                        preview(other)
                    ))
                }
            };
            let ip = take(&mut pairs, "ip")
                .map(|a| parse_addr(&a))
                .transpose()
                .map_err(message)?;
            if let Some((k, _)) = pairs.first() {
                return Err(format!("unknown setting `{k}`"));
            }
            if track.is_some() != ip.is_some() {
                return Err("suppress needs both `track` and `ip`, or neither".to_string());
            }
            Ok(Entry::Suppress {
                gid,
                sid,
                track,
                ip,
            })
        }
        "rate_filter" => {
            let track = match take(&mut pairs, "track").ok_or("missing `track`")?.as_str() {
                "by_src" => Track::BySrc,
                "by_dst" => Track::ByDst,
                "by_rule" => Track::ByRule,
                "by_both" => Track::ByBoth,
                other => return Err(format!("unknown track {}", preview(other))),
            };
            let count = num(
                "count",
                &take(&mut pairs, "count").ok_or("missing `count`")?,
            )?;
            let seconds = num(
                "seconds",
                &take(&mut pairs, "seconds").ok_or("missing `seconds`")?,
            )?;
            let new_action = match take(&mut pairs, "new_action")
                .ok_or("missing `new_action`")?
                .as_str()
            {
                "alert" => Action::Alert,
                "drop" => Action::Drop,
                "pass" => Action::Pass,
                "reject" | "rejectsrc" | "rejectdst" | "rejectboth" => Action::Reject,
                other => return Err(format!("unknown new_action {}", preview(other))),
            };
            let timeout = num(
                "timeout",
                &take(&mut pairs, "timeout").ok_or("missing `timeout`")?,
            )?;
            if let Some((k, _)) = pairs.first() {
                return Err(format!("unknown setting `{k}`"));
            }
            Ok(Entry::RateFilter {
                gid,
                sid,
                track,
                count,
                seconds,
                new_action,
                timeout,
            })
        }
        other => Err(format!(
            "expected threshold, event_filter, suppress or rate_filter, got {}",
            preview(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::ThresholdKind;

    #[test]
    fn all_kinds() {
        let text = "\
# comment
threshold gen_id 1, sig_id 10, type limit, track by_src, count 1, seconds 60
event_filter gen_id 1, sig_id 0, type both, track by_dst, count 5, seconds 10
suppress gen_id 1, sig_id 2002087
suppress gen_id 0, sig_id 0, track by_either, ip [10.0.0.0/8, 192.168.1.1]
suppress gen_id 1, sig_id 5, track by_src, ip $HOME_NET
rate_filter gen_id 1, sig_id 1000, track by_rule, count 100, seconds 60, \\
  new_action drop, timeout 30
";
        let (e, errs) = parse(text, "t.config");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(e.len(), 6);
        assert_eq!(
            e[0],
            Entry::Threshold {
                gid: 1,
                sid: 10,
                threshold: Threshold {
                    kind: ThresholdKind::Limit,
                    track: Track::BySrc,
                    count: 1,
                    seconds: 60
                }
            }
        );
        assert!(matches!(e[1], Entry::EventFilter { sid: 0, .. }));
        assert_eq!(
            e[2],
            Entry::Suppress {
                gid: 1,
                sid: 2002087,
                track: None,
                ip: None
            }
        );
        assert!(
            matches!(&e[3], Entry::Suppress { track: Some(Track::ByEither), ip: Some(AddrSpec::List(l)), .. } if l.len() == 2)
        );
        assert!(
            matches!(&e[4], Entry::Suppress { ip: Some(AddrSpec::Var(v)), .. } if v == "HOME_NET")
        );
        assert_eq!(
            e[5],
            Entry::RateFilter {
                gid: 1,
                sid: 1000,
                track: Track::ByRule,
                count: 100,
                seconds: 60,
                new_action: Action::Drop,
                timeout: 30
            }
        );
    }

    #[test]
    fn errors_have_lines() {
        let text = "threshold gen_id 1, sig_id 1, type nope, track by_src, count 1, seconds 1\n\
                    suppress gen_id 1, sig_id 1, track by_src\n\
                    bogus\n\
                    rate_filter gen_id 1, sig_id 1, track by_rule, count 1, seconds 1, new_action x, timeout 1\n\
                    threshold sig_id 1, type limit, track by_src, count 1, seconds 1\n\
                    suppress gen_id 1, sig_id 1, track by_src, ip 300.1.1.1\n\
                    suppress gen_id 1, sig_id 1, sig_id 2\n";
        let (e, errs) = parse(text, "t");
        assert!(e.is_empty());
        assert_eq!(
            errs.iter().map(|(l, _)| l.line).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5, 6, 7]
        );
    }
}
