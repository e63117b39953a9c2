//! Rule text (`vedette_rules::parse_rules`), the same bytes as one rule and as address, port
//! and comparison expressions, and as classification / threshold.config files. No panic; every
//! accepted rule keeps the AST's promises (sid above 0, non-empty contents, at most one
//! fast_pattern).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_rules::ast::{Check, Location};
use vedette_rules::{
    classification, parse_addr, parse_cmp, parse_ports, parse_rule, parse_rules, threshold_config,
};

fuzz_target!(|data: &[u8]| {
    let parsed = parse_rules(data, "fuzz.rules");
    let lines = data.split(|&b| b == b'\n').count();
    assert!(parsed.rules.len() + parsed.errors.len() <= lines);
    for rule in &parsed.rules {
        assert!(rule.sid > 0);
        let mut fast = 0;
        for item in &rule.items {
            if let Check::Content(c) = &item.check {
                assert!(!c.pattern.is_empty());
                fast += usize::from(c.fast_pattern.is_some());
            }
        }
        assert!(fast <= 1);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_rule(s, Location::default());
        let _ = parse_addr(s);
        let _ = parse_ports(s);
        let _ = parse_cmp(s);
        let _ = classification::parse(s, "fuzz.config");
        let _ = threshold_config::parse(s, "fuzz.config");
    }
});
