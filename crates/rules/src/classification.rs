//! The classification table (`classification.config`): classtype name to description and
//! default priority.

use crate::ast::Location;
use crate::lexer::{for_each_config_line, preview};

/// One `config classification:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    /// Short name used by `classtype` (lower case).
    pub name: String,
    /// Description (EVE `alert.category`).
    pub description: String,
    /// Default priority of rules with this classtype.
    pub priority: u8,
}

/// Suricata's default classification table, used when no classification file is configured.
pub fn builtin() -> Vec<Class> {
    const TABLE: &[(&str, &str, u8)] = &[
        ("not-suspicious", "Not Suspicious Traffic", 3),
        ("unknown", "Unknown Traffic", 3),
        ("bad-unknown", "Potentially Bad Traffic", 2),
        ("attempted-recon", "Attempted Information Leak", 2),
        ("successful-recon-limited", "Information Leak", 2),
        (
            "successful-recon-largescale",
            "Large Scale Information Leak",
            2,
        ),
        ("attempted-dos", "Attempted Denial of Service", 2),
        ("successful-dos", "Denial of Service", 2),
        ("attempted-user", "Attempted User Privilege Gain", 1),
        ("unsuccessful-user", "Unsuccessful User Privilege Gain", 1),
        ("successful-user", "Successful User Privilege Gain", 1),
        (
            "attempted-admin",
            "Attempted Administrator Privilege Gain",
            1,
        ),
        (
            "successful-admin",
            "Successful Administrator Privilege Gain",
            1,
        ),
        ("rpc-portmap-decode", "Decode of an RPC Query", 2),
        ("shellcode-detect", "Executable code was detected", 1),
        ("string-detect", "A suspicious string was detected", 3),
        (
            "suspicious-filename-detect",
            "A suspicious filename was detected",
            2,
        ),
        (
            "suspicious-login",
            "An attempted login using a suspicious username was detected",
            2,
        ),
        ("system-call-detect", "A system call was detected", 2),
        ("tcp-connection", "A TCP connection was detected", 4),
        ("trojan-activity", "A Network Trojan was detected", 1),
        (
            "unusual-client-port-connection",
            "A client was using an unusual port",
            2,
        ),
        ("network-scan", "Detection of a Network Scan", 3),
        (
            "denial-of-service",
            "Detection of a Denial of Service Attack",
            2,
        ),
        (
            "non-standard-protocol",
            "Detection of a non-standard protocol or event",
            2,
        ),
        (
            "protocol-command-decode",
            "Generic Protocol Command Decode",
            3,
        ),
        (
            "web-application-activity",
            "access to a potentially vulnerable web application",
            2,
        ),
        ("web-application-attack", "Web Application Attack", 1),
        ("misc-activity", "Misc activity", 3),
        ("misc-attack", "Misc Attack", 2),
        ("icmp-event", "Generic ICMP event", 3),
        (
            "inappropriate-content",
            "Inappropriate Content was Detected",
            1,
        ),
        (
            "policy-violation",
            "Potential Corporate Privacy Violation",
            1,
        ),
        (
            "default-login-attempt",
            "Attempt to login by a default username and password",
            2,
        ),
        (
            "targeted-activity",
            "Targeted Malicious Activity was Detected",
            1,
        ),
        ("exploit-kit", "Exploit Kit Activity Detected", 1),
        (
            "external-ip-check",
            "Device Retrieving External IP Address Detected",
            2,
        ),
        ("domain-c2", "Domain Observed Used for C2 Detected", 1),
        ("pup-activity", "Possibly Unwanted Program Detected", 2),
        (
            "credential-theft",
            "Successful Credential Theft Detected",
            1,
        ),
        (
            "social-engineering",
            "Possible Social Engineering Attempted",
            2,
        ),
        ("coin-mining", "Crypto Currency Mining Activity Detected", 2),
        (
            "command-and-control",
            "Malware Command and Control Activity Detected",
            1,
        ),
    ];
    TABLE
        .iter()
        .map(|&(name, description, priority)| Class {
            name: name.to_string(),
            description: description.to_string(),
            priority,
        })
        .collect()
}

/// Parses a classification file: `config classification: name,description,priority` lines,
/// `#` comments and blank lines. Bad lines (and duplicate names, where the first wins) are
/// reported with their location and skipped.
pub fn parse(text: &str, file: &str) -> (Vec<Class>, Vec<(Location, String)>) {
    let mut classes: Vec<Class> = Vec::new();
    let mut errors = Vec::new();
    for_each_config_line(text, file, &mut errors, |s| {
        let c = parse_line(s)?;
        if classes.iter().any(|k| k.name == c.name) {
            return Err(format!("duplicate classification `{}` ignored", c.name));
        }
        classes.push(c);
        Ok(())
    });
    (classes, errors)
}

fn parse_line(s: &str) -> Result<Class, String> {
    let rest = s
        .strip_prefix("config")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix("classification"))
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(|| format!("expected `config classification: ...`, got {}", preview(s)))?;
    // The description may contain commas: the name ends at the first, the priority follows the
    // last.
    let (name, rest) = rest
        .split_once(',')
        .ok_or("expected `name,description,priority`")?;
    let (description, prio) = rest
        .rsplit_once(',')
        .ok_or("expected `name,description,priority`")?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!("bad classification name {}", preview(name)));
    }
    let priority = prio
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|&p| p > 0)
        .ok_or_else(|| format!("priority must be 1 to 255, got {}", preview(prio.trim())))?;
    Ok(Class {
        name: name.to_ascii_lowercase(),
        description: description.trim().to_string(),
        priority,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table() {
        let b = builtin();
        assert_eq!(b.len(), 43);
        let t = b.iter().find(|c| c.name == "trojan-activity").unwrap();
        assert_eq!(
            (t.description.as_str(), t.priority),
            ("A Network Trojan was detected", 1)
        );
        assert_eq!(
            b.iter()
                .find(|c| c.name == "tcp-connection")
                .unwrap()
                .priority,
            4
        );
    }

    #[test]
    fn parse_file() {
        let text = "# c\n\nconfig classification: a-b,Desc, with comma , 2\n\
                    config classification:x,y\nconfig classification: A-B,dup,1\n\
                    nonsense\nconfig classification: z,zz,0\r\nconfig classification: q,qq,3\r\n";
        let (c, e) = parse(text, "c.config");
        assert_eq!(
            c,
            vec![
                Class {
                    name: "a-b".into(),
                    description: "Desc, with comma".into(),
                    priority: 2
                },
                Class {
                    name: "q".into(),
                    description: "qq".into(),
                    priority: 3
                },
            ]
        );
        let lines: Vec<u32> = e.iter().map(|(l, _)| l.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7]);
    }

    #[test]
    fn builtin_matches_shipped_file() {
        // The ET Open set ships a classification.config; every entry in it that Suricata also
        // ships must agree with the built-in table.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/rules/et-open");
        let Ok(text) = std::fs::read_to_string(dir.join("classification.config")) else {
            eprintln!("skipped: no et-open classification.config");
            return;
        };
        let (file, errors) = parse(&text, "classification.config");
        assert!(errors.is_empty(), "{errors:?}");
        let b = builtin();
        for c in &file {
            assert_eq!(b.iter().find(|x| x.name == c.name), Some(c));
        }
    }
}
