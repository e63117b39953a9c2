//! Whole-file behaviour of `parse_rules`: comments, continuation lines, CRLF, bad lines.

use vedette_rules::{ast::Location, parse_rule, parse_rules, RuleError, MAX_RULE_BYTES};

#[test]
fn file_structure() {
    let mut text = b"# comment\r\n\r\n   \n".to_vec();
    text.extend_from_slice(
        b"alert tcp any any -> any any (msg:\"one\"; \\\r\n  content:\"a\"; sid:1;)\r\n",
    );
    text.extend_from_slice(b"#alert tcp any any -> any any (sid:9;)\n");
    text.extend_from_slice(b"alert tcp any any -> any any (msg:\"\xff\xfe\"; sid:2;)\n");
    text.extend_from_slice(b"alert tcp any any -> any any (sid:3; nosuchkeyword;)\n");
    text.extend_from_slice(b"garbage\n");
    text.extend_from_slice(b"  alert udp any any -> any any (sid:4;)");
    let p = parse_rules(&text, "x.rules");
    let sids: Vec<u32> = p.rules.iter().map(|r| r.sid).collect();
    assert_eq!(sids, vec![1, 4]);
    assert_eq!(
        p.rules[0].location,
        Location {
            file: "x.rules".into(),
            line: 4
        }
    );
    assert_eq!(p.rules[0].msg, "one");
    assert_eq!(p.rules[1].location.line, 10);
    let errs: Vec<(u32, &RuleError)> = p.errors.iter().map(|(l, e)| (l.line, e)).collect();
    assert_eq!(errs.len(), 3);
    assert!(matches!(errs[0], (7, RuleError::Syntax(_))));
    assert!(matches!(errs[1], (8, RuleError::Unsupported { .. })));
    assert!(matches!(errs[2], (9, RuleError::Syntax(_))));
}

#[test]
fn long_lines_and_many_rules() {
    // A 1 MB line is rejected with a reason; the next rule still parses.
    let mut text = vec![b'a'; 1 << 20];
    text.extend_from_slice(b"\nalert tcp any any -> any any (sid:1;)\n");
    let p = parse_rules(&text, "big");
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.errors.len(), 1);
    assert!(p.errors[0]
        .1
        .to_string()
        .contains(&MAX_RULE_BYTES.to_string()));

    // A continuation chain longer than the limit is one error too.
    let mut text = Vec::new();
    for _ in 0..20_000 {
        text.extend_from_slice(b"content:\"aaaa\"; \\\n");
    }
    text.extend_from_slice(b"sid:1;)\nalert tcp any any -> any any (sid:2;)\n");
    let p = parse_rules(&text, "cont");
    assert_eq!((p.rules.len(), p.errors.len()), (1, 1));
    assert_eq!(p.rules[0].location.line, 20_002);

    let mut text = String::new();
    for i in 1..=100_000 {
        text.push_str(&format!(
            "alert tcp any any -> any 80 (msg:\"r{i}\"; content:\"x{i}\"; sid:{i};)\n"
        ));
    }
    let p = parse_rules(text.as_bytes(), "many");
    assert_eq!((p.rules.len(), p.errors.len()), (100_000, 0));
}

#[test]
fn unbalanced_quotes_and_junk() {
    for s in [
        r#"alert tcp any any -> any any (msg:"x; sid:1;)"#,
        r#"alert tcp any any -> any any (content:"x\"; sid:1;)"#,
        r#"alert tcp any any -> any any (content:x"; sid:1;)"#,
        "alert tcp any any -> any any (content:\"\u{0}\u{7f}\"; sid:)",
        "\u{feff}\u{200b}",
    ] {
        assert!(parse_rule(s, Location::default()).is_err(), "{s}");
    }
}
