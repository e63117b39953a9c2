//! Arbitrary input never panics.

use proptest::prelude::*;
use vedette_rules::{ast::Location, parse_addr, parse_cmp, parse_ports, parse_rule, parse_rules};

/// Fragments of real rule syntax, so the generator reaches deep into the parser.
const PIECES: &[&str] = &[
    "alert ",
    "tcp ",
    "http ",
    "any ",
    "$HOME_NET ",
    "[1.1.1.1,!2.2.2.0/24] ",
    "[80:,!443] ",
    "-> ",
    "<> ",
    "(",
    ")",
    ";",
    ":",
    ",",
    "\"",
    "\\",
    "|",
    "!",
    " ",
    "content:",
    "\"abc\"",
    "|41 42|",
    "nocase;",
    "depth:",
    "offset:",
    "distance:",
    "within:",
    "5",
    "-1",
    "65536",
    "http.uri;",
    "http_uri;",
    "to_lowercase;",
    "pcre:",
    "\"/a/U\"",
    "byte_test:",
    "byte_jump:",
    "byte_extract:",
    "byte_math:",
    "bytes 2, offset 0, oper +, rvalue 1, result r",
    "4,>,1,0,relative",
    "isdataat:",
    "bsize:",
    "urilen:",
    "absent",
    "prefilter;",
    "flow:",
    "established,to_server",
    "flowbits:",
    "set,a|b",
    "threshold:",
    "type limit, track by_src, count 1, seconds 1",
    "sid:",
    "1",
    "msg:",
    "fast_pattern",
    "startswith;",
    "flags:",
    "SA+",
    "dns.rrtype:",
    "AAAA",
    "stream_size:",
    "client,<,5",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse_rules(&data, "fuzz");
    }

    #[test]
    fn strings_never_panic(s in ".{0,512}") {
        let _ = parse_rules(s.as_bytes(), "fuzz");
        let _ = parse_rule(&s, Location::default());
        let _ = parse_addr(&s);
        let _ = parse_ports(&s);
        let _ = parse_cmp(&s);
    }

    #[test]
    fn rule_pieces_never_panic(idx in proptest::collection::vec(0..PIECES.len(), 0..60)) {
        let s: String = idx.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
        let _ = parse_rule(&s, Location::default());
        let rule = format!("alert tcp any any -> any any ({s} sid:1;)");
        let _ = parse_rule(&rule, Location::default());
    }
}
