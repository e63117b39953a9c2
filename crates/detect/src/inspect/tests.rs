//! Keyword semantics on small buffers, checked against Suricata 7's behaviour.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use vedette_rules::ast::{
    ByteExtract, ByteJump, ByteMath, ByteOp, ByteTest, Check, Cmp, Content, Endian, IsDataAt,
    MathOp, Num, NumBase, Pcre, Transform,
};

use super::*;

// ---------- builders ----------

fn c(p: &str) -> Content {
    Content {
        pattern: p.as_bytes().to_vec(),
        ..Default::default()
    }
}

trait ContentExt {
    fn distance(self, d: i64) -> Self;
    fn within(self, w: i64) -> Self;
    fn depth(self, d: i64) -> Self;
    fn offset(self, o: i64) -> Self;
    fn var_depth(self, v: &str) -> Self;
    fn var_distance(self, v: &str) -> Self;
    fn var_offset(self, v: &str) -> Self;
    fn nocase(self) -> Self;
    fn neg(self) -> Self;
    fn startswith(self) -> Self;
    fn endswith(self) -> Self;
    fn ck(self) -> Check;
}

impl ContentExt for Content {
    fn distance(mut self, d: i64) -> Self {
        self.distance = Some(Num::Lit(d));
        self
    }
    fn within(mut self, w: i64) -> Self {
        self.within = Some(Num::Lit(w));
        self
    }
    fn depth(mut self, d: i64) -> Self {
        self.depth = Some(Num::Lit(d));
        self
    }
    fn offset(mut self, o: i64) -> Self {
        self.offset = Some(Num::Lit(o));
        self
    }
    fn var_depth(mut self, v: &str) -> Self {
        self.depth = Some(Num::Var(v.into()));
        self
    }
    fn var_distance(mut self, v: &str) -> Self {
        self.distance = Some(Num::Var(v.into()));
        self
    }
    fn var_offset(mut self, v: &str) -> Self {
        self.offset = Some(Num::Var(v.into()));
        self
    }
    fn nocase(mut self) -> Self {
        self.nocase = true;
        self
    }
    fn neg(mut self) -> Self {
        self.negated = true;
        self
    }
    fn startswith(mut self) -> Self {
        self.startswith = true;
        self
    }
    fn endswith(mut self) -> Self {
        self.endswith = true;
        self
    }
    fn ck(self) -> Check {
        Check::Content(self)
    }
}

fn pcre(pat: &str, flags: &str) -> Check {
    Check::Pcre(Pcre {
        pattern: pat.into(),
        caseless: flags.contains('i'),
        dotall: flags.contains('s'),
        multiline: flags.contains('m'),
        extended: flags.contains('x'),
        anchored: flags.contains('A'),
        dollar_endonly: flags.contains('E'),
        ungreedy: flags.contains('G'),
        relative: flags.contains('R'),
        override_limits: flags.contains('O'),
        negated: flags.contains('!'),
    })
}

fn bt(nbytes: u8, op: ByteOp, value: u64, offset: i64) -> ByteTest {
    ByteTest {
        nbytes,
        nbytes_var: None,
        op,
        negated: false,
        value: Num::Lit(value as i64),
        offset: Num::Lit(offset),
        relative: false,
        endian: Endian::Big,
        string: None,
        bitmask: None,
    }
}

fn bj(nbytes: u8, offset: i64) -> ByteJump {
    ByteJump {
        nbytes,
        nbytes_var: None,
        offset: Num::Lit(offset),
        relative: false,
        multiplier: 1,
        endian: Endian::Big,
        string: None,
        align: false,
        from_beginning: false,
        from_end: false,
        post_offset: 0,
        bitmask: None,
    }
}

fn be(nbytes: u8, offset: i32, name: &str) -> ByteExtract {
    ByteExtract {
        nbytes,
        offset,
        name: name.into(),
        relative: false,
        multiplier: 1,
        endian: Endian::Big,
        string: None,
        align: 0,
        bitmask: None,
    }
}

fn isdataat(pos: i64, negated: bool, relative: bool) -> Check {
    Check::IsDataAt(IsDataAt {
        pos: Num::Lit(pos),
        negated,
        relative,
    })
}

fn compile(checks: &[Check]) -> Program {
    let refs: Vec<&Check> = checks.iter().collect();
    Program::compile(&refs).expect("compiles")
}

fn run(checks: &[Check], buf: &[u8]) -> bool {
    compile(checks).matches(buf, &mut Scratch::default())
}

// ---------- content ----------

#[test]
fn content_plain_and_missing() {
    assert!(run(&[c("def").ck()], b"abcdefg"));
    assert!(!run(&[c("xyz").ck()], b"abcdefg"));
    assert!(!run(&[c("abc").ck()], b""));
    assert!(!run(&[c("abcdefgh").ck()], b"abcdefg"));
}

#[test]
fn content_offset_depth_window() {
    // depth counts from offset: window [2, 4).
    assert!(run(&[c("cd").offset(2).depth(2).ck()], b"abcdef"));
    assert!(!run(&[c("cd").offset(3).depth(2).ck()], b"abcdef"));
    assert!(!run(&[c("cd").depth(3).ck()], b"abcdef"));
    assert!(run(&[c("cd").depth(4).ck()], b"abcdef"));
    // depth beyond the buffer is clamped.
    assert!(run(&[c("ef").depth(100).ck()], b"abcdef"));
    // offset past the end never matches.
    assert!(!run(&[c("a").offset(10).ck()], b"abcdef"));
}

#[test]
fn content_startswith_endswith() {
    assert!(run(&[c("abc").startswith().ck()], b"abcdef"));
    assert!(!run(&[c("bcd").startswith().ck()], b"abcdef"));
    assert!(run(&[c("def").endswith().ck()], b"abcdef"));
    assert!(!run(&[c("cde").endswith().ck()], b"abcdef"));
    // The occurrence at the end counts even when an earlier one exists.
    assert!(run(&[c("ab").endswith().ck()], b"abxxab"));
    // endswith with a relative window that stops before the end cannot match.
    assert!(!run(
        &[c("a").ck(), c("b").distance(0).within(1).endswith().ck()],
        b"abxb"
    ));
}

#[test]
fn content_nocase() {
    assert!(run(&[c("HeLLo").nocase().ck()], b"say hello!"));
    assert!(!run(&[c("HeLLo").ck()], b"say hello!"));
    assert!(run(&[c("12-ab").nocase().ck()], b"x12-AB"));
    assert!(run(&[c("123").nocase().ck()], b"0123"));
    assert!(run(&[c("hello").nocase().endswith().ck()], b"say HELLO"));
}

#[test]
fn relative_distance_and_negative_distance() {
    // cursor after "cd" is 4; distance -3 searches from 1.
    assert!(run(&[c("cd").ck(), c("bc").distance(-3).ck()], b"abcdef"));
    assert!(!run(&[c("cd").ck(), c("bc").distance(-2).ck()], b"abcdef"));
    // A negative distance larger than the cursor clamps at 0.
    assert!(run(&[c("b").ck(), c("ab").distance(-100).ck()], b"abcdef"));
    // distance:0 finds anything after the previous match.
    assert!(run(&[c("abc").ck(), c("f").distance(0).ck()], b"abcdef"));
    assert!(!run(&[c("def").ck(), c("a").distance(0).ck()], b"abcdef"));
}

#[test]
fn relative_within_includes_distance() {
    // "abc" ends at 3; distance 2 starts at 5; within 3 allows matches ending by 8.
    assert!(run(
        &[c("abc").ck(), c("def").distance(2).within(3).ck()],
        b"abcXYdef"
    ));
    assert!(!run(
        &[c("abc").ck(), c("def").distance(2).within(2).ck()],
        b"abcXYdef"
    ));
    assert!(!run(
        &[c("abc").ck(), c("def").distance(1).within(3).ck()],
        b"abcXYdef"
    ));
    // within alone: match must end within 4 bytes of the previous match.
    assert!(run(&[c("abc").ck(), c("X").within(1).ck()], b"abcXYdef"));
    assert!(!run(&[c("abc").ck(), c("Y").within(1).ck()], b"abcXYdef"));
}

#[test]
fn first_relative_content_is_relative_to_zero() {
    assert!(run(&[c("abc").within(3).ck()], b"abcdef"));
    assert!(!run(&[c("bcd").within(3).ck()], b"abcdef"));
    assert!(run(&[c("cd").distance(2).ck()], b"abcdef"));
}

#[test]
fn suricata_distance_within_test_rule() {
    // alert-distance-within-1: DullBoy exactly one byte after the first content.
    let checks = [
        c("AllWorkAndNoPlayMakesWill").ck(),
        c("DullBoy").distance(1).within(7).ck(),
    ];
    assert!(run(&checks, b"AllWorkAndNoPlayMakesWill DullBoy"));
    assert!(!run(&checks, b"AllWorkAndNoPlayMakesWill  DullBoy"));
}

#[test]
fn backtracking_to_a_later_occurrence() {
    let checks = [c("abc").ck(), c("Y").distance(0).within(1).ck()];
    assert!(run(&checks, b"abcXdefabcYdef"));
    assert!(!run(&checks, b"abcXdefabcZdef"));
    // Three levels: the middle content retries too.
    let checks = [
        c("a").ck(),
        c("b").distance(0).within(2).ck(),
        c("c").distance(0).within(1).ck(),
    ];
    assert!(run(&checks, b"a_bXa_bc"));
}

#[test]
fn backtracking_through_relative_byte_test() {
    // The first "len" is followed by 1, the second by 9: byte_test relative retries content.
    let mut t = bt(1, ByteOp::Eq, 9, 0);
    t.relative = true;
    assert!(run(
        &[c("len").ck(), Check::ByteTest(t)],
        b"len\x01xxlen\x09"
    ));
}

#[test]
fn negated_relative_content_backtracks_its_anchor() {
    // content:"abc"; content:!"X"; distance:0; within:1 — the second abc is not followed by X.
    let checks = [c("abc").ck(), c("X").neg().distance(0).within(1).ck()];
    assert!(run(&checks, b"abcXabcY"));
    assert!(!run(&checks, b"abcXabcX"));
}

#[test]
fn negated_content_windows() {
    assert!(run(&[c("evil").neg().ck()], b"good stuff"));
    assert!(!run(&[c("evil").neg().ck()], b"an evil thing"));
    // Outside the window the pattern does not count.
    assert!(run(&[c("ef").neg().depth(4).ck()], b"abcdef"));
    assert!(!run(&[c("cd").neg().depth(4).ck()], b"abcdef"));
    assert!(run(&[c("ab").neg().offset(1).ck()], b"abcdef"));
    // Empty window: the negation holds.
    assert!(run(&[c("a").neg().offset(10).ck()], b"abc"));
    assert!(run(&[c("a").neg().ck()], b""));
    // Negated relative content does not move the cursor.
    let checks = [
        c("ab").ck(),
        c("zz").neg().distance(0).ck(),
        c("c").distance(0).within(1).ck(),
    ];
    assert!(run(&checks, b"abcd"));
}

#[test]
fn negated_endswith() {
    // detect-content-ends-with-negated-03's host check.
    let chk = [c(".google.com").neg().endswith().ck()];
    assert!(run(&chk, b"www.example.com"));
    assert!(!run(&chk, b"www.google.com"));
    // The pattern present but not at the end satisfies the negation.
    assert!(run(&chk, b"www.google.com.evil.org"));
    // Suricata only looks at the first occurrence: "abc" first ends at 3, not at the end.
    assert!(run(&[c("abc").neg().endswith().ck()], b"abcabc"));
}

#[test]
fn content_variables_feed_depth_offset_distance() {
    let ex = |name: &str| Check::ByteExtract(be(1, 0, name));
    // len = 5; window [1, 1+5) holds "hello".
    let checks = [ex("len"), c("hello").var_depth("len").offset(1).ck()];
    assert!(run(&checks, b"\x05hello world"));
    let checks = [ex("len"), c("hello").var_depth("len").ck()];
    assert!(!run(&checks, b"\x05hello world"));
    // byte_extract moves the cursor to 1; distance 6 starts the search at 7.
    let checks = [ex("skip"), c("world").var_distance("skip").ck()];
    assert!(run(&checks, b"\x06hello world"));
    let checks = [ex("skip"), c("world").var_distance("skip").within(5).ck()];
    assert!(run(&checks, b"\x06hello world"));
    let checks = [ex("skip"), c("world").var_distance("skip").within(5).ck()];
    assert!(!run(&checks, b"\x05hello world"));
    let checks = [ex("off"), c("o").var_offset("off").depth(1).ck()];
    assert!(run(&checks, b"\x05hello world"));
}

// ---------- pcre ----------

#[test]
fn pcre_basic_flags() {
    assert!(run(&[pcre("fo+bar", "")], b"xxfooobar"));
    assert!(!run(&[pcre("FOOBAR", "")], b"foobar"));
    assert!(run(&[pcre("FOOBAR", "i")], b"foobar"));
    assert!(run(&[pcre("a.b", "s")], b"a\nb"));
    assert!(!run(&[pcre("a.b", "")], b"a\nb"));
    assert!(run(&[pcre("^b", "m")], b"a\nb"));
    assert!(!run(&[pcre("^b", "")], b"a\nb"));
    assert!(run(&[pcre("a b # comment", "x")], b"ab"));
    assert!(run(&[pcre("a b # comment", "xA")], b"ab"));
    // A: anchored at the start.
    assert!(!run(&[pcre("b", "A")], b"ab"));
    assert!(run(&[pcre("a|b", "A")], b"ab"));
    // E: $ only at the very end.
    assert!(run(&[pcre("b$", "")], b"ab\n"));
    assert!(!run(&[pcre("b$", "E")], b"ab\n"));
    assert!(run(&[pcre("b$", "E")], b"ab"));
    // Negated.
    assert!(run(&[pcre("zz", "!")], b"ab"));
    assert!(!run(&[pcre("ab", "!")], b"ab"));
    // Named captures compile (variables are not stored).
    assert!(run(&[pcre("(?P<pkt_foo>b+)", "")], b"abb"));
}

#[test]
fn pcre_ungreedy_moves_cursor_to_shorter_match() {
    // Greedy a.*b ends at the last b; ungreedy at the first: the next content sees the rest.
    let greedy = [pcre("a.*b", ""), c("X").distance(0).within(1).ck()];
    let lazy = [pcre("a.*b", "G"), c("X").distance(0).within(1).ck()];
    assert!(!run(&greedy, b"a1bX2b"));
    assert!(run(&lazy, b"a1bX2b"));
}

#[test]
fn pcre_relative_after_content() {
    assert!(run(&[c("xyz").ck(), pcre("^\\d+", "R")], b"abc123 xyz456"));
    assert!(!run(&[c("abc").ck(), pcre("^xyz", "R")], b"abc123 xyz456"));
    assert!(run(&[c("abc").ck(), pcre("xyz", "R")], b"abc123 xyz456"));
    // Relative pcre does not see bytes before the cursor.
    assert!(!run(&[c("456").ck(), pcre("abc", "R")], b"abc123 xyz456"));
}

#[test]
fn pcre_moves_cursor_and_backtracks() {
    // The first letter 'a' is followed by X; the pcre retries and 'b' is followed by 'c'.
    let checks = [pcre("[a-z]", ""), c("c").distance(0).within(1).ck()];
    assert!(run(&checks, b"aXbc"));
    assert!(!run(&checks, b"aXbYdZ"));
}

#[test]
fn pcre_limit_is_no_match_quickly() {
    let p = compile(&[pcre("(a+)+b", "")]);
    let buf = [b'a'; 30];
    let mut st = Scratch::default();
    let t = Instant::now();
    assert!(!p.matches(&buf, &mut st));
    assert!(t.elapsed() < Duration::from_secs(2));
    // No required literal to short-cut the search: this one really hits the match limit.
    let p = compile(&[pcre("(a+)+[bc]", "")]);
    let t = Instant::now();
    assert!(!p.matches(&buf, &mut st));
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(st.stats.pcre_errors, 1);
    // O raises the limit but keeps one.
    let p = compile(&[pcre("(a+)+[bc]", "O")]);
    let t = Instant::now();
    assert!(!p.matches(&buf, &mut st));
    assert!(t.elapsed() < Duration::from_secs(10));
}

// ---------- byte_test ----------

#[test]
fn byte_test_binary_and_bitmask() {
    // detect-bytetest-01: 0x48 & 0xf8 = 0x48, shifted right by 3 = 9.
    let buf = b"HTTP/1.1";
    let with_mask = |mut t: ByteTest, m: u64| {
        t.bitmask = Some(m);
        Check::ByteTest(t)
    };
    assert!(run(&[with_mask(bt(1, ByteOp::Eq, 9, 0), 0xf8)], buf));
    assert!(run(&[with_mask(bt(1, ByteOp::Gt, 8, 0), 0xf8)], buf));
    assert!(run(&[with_mask(bt(1, ByteOp::Lt, 0xa, 0), 0xf8)], buf));
    let mut ne = bt(1, ByteOp::Eq, 0x48, 0);
    ne.negated = true;
    assert!(run(&[with_mask(ne, 0xf8)], buf));
    assert!(run(&[with_mask(bt(2, ByteOp::Eq, 0x90a, 0), 0xf8f8)], buf));
    // Plain comparisons and endianness.
    assert!(run(&[Check::ByteTest(bt(2, ByteOp::Eq, 0x4854, 0))], buf));
    let mut le = bt(2, ByteOp::Eq, 0x5448, 0);
    le.endian = Endian::Little;
    assert!(run(&[Check::ByteTest(le)], buf));
    assert!(run(&[Check::ByteTest(bt(1, ByteOp::And, 0x40, 0))], buf));
    assert!(!run(&[Check::ByteTest(bt(1, ByteOp::And, 0x01, 0))], buf));
    assert!(run(&[Check::ByteTest(bt(1, ByteOp::Xor, 0x40, 0))], buf));
    assert!(run(&[Check::ByteTest(bt(1, ByteOp::Ge, 0x48, 0))], buf));
    assert!(run(&[Check::ByteTest(bt(1, ByteOp::Le, 0x48, 0))], buf));
    // Reading past the end: no match.
    assert!(!run(&[Check::ByteTest(bt(4, ByteOp::Gt, 0, 6))], buf));
    assert!(!run(&[Check::ByteTest(bt(1, ByteOp::Gt, 0, -1))], buf));
}

#[test]
fn byte_test_string_forms() {
    let s = |nbytes, op, value, offset, base| {
        let mut t = bt(nbytes, op, value, offset);
        t.string = Some(base);
        Check::ByteTest(t)
    };
    assert!(run(&[s(3, ByteOp::Eq, 123, 4, NumBase::Dec)], b"len=123;"));
    assert!(run(&[s(3, ByteOp::Gt, 100, 4, NumBase::Dec)], b"len=123;"));
    // Digits stop at the first non-digit, like strtoull.
    assert!(run(&[s(5, ByteOp::Eq, 123, 4, NumBase::Dec)], b"len=123;x"));
    assert!(!run(&[s(3, ByteOp::Eq, 0, 0, NumBase::Dec)], b"len=123;"));
    assert!(run(&[s(2, ByteOp::Eq, 0xff, 0, NumBase::Hex)], b"ff"));
    assert!(run(&[s(4, ByteOp::Eq, 0x1f, 0, NumBase::Hex)], b"0x1f"));
    assert!(run(&[s(3, ByteOp::Eq, 0o17, 0, NumBase::Oct)], b"017"));
    // nbytes 0 in string form reads every digit from the offset on.
    assert!(run(&[s(0, ByteOp::Eq, 12345, 1, NumBase::Dec)], b"x12345;"));
    assert!(!run(&[s(0, ByteOp::Eq, 1, 0, NumBase::Dec)], b"x12345;"));
}

#[test]
fn byte_test_relative_negative_offset() {
    // "bc" ends at 4; offset -3 reads index 1.
    let mut t = bt(1, ByteOp::Eq, b'a' as u64, -3);
    t.relative = true;
    assert!(run(&[c("bc").ck(), Check::ByteTest(t.clone())], b"xabcd"));
    t.offset = Num::Lit(-2);
    assert!(!run(&[c("bc").ck(), Check::ByteTest(t.clone())], b"xabcd"));
    // Before the buffer start: no match.
    t.offset = Num::Lit(-5);
    assert!(!run(&[c("bc").ck(), Check::ByteTest(t.clone())], b"xabcd"));
    // Relative with nothing left after the cursor: no match.
    t.offset = Num::Lit(0);
    assert!(!run(&[c("cd").ck(), Check::ByteTest(t)], b"xabcd"));
}

// ---------- byte_jump ----------

#[test]
fn byte_jump_basic_multiplier_align_post_offset() {
    let next_a = || c("A").distance(0).within(1).ck();
    // 2 bytes read at 0 (value 2), then skip 2: cursor 4.
    assert!(run(&[Check::ByteJump(bj(2, 0)), next_a()], b"\x00\x02xxA"));
    assert!(!run(&[Check::ByteJump(bj(2, 0)), next_a()], b"\x00\x01xxA"));
    let mut m = bj(1, 0);
    m.multiplier = 2;
    assert!(run(&[Check::ByteJump(m), next_a()], b"\x02xxxxA"));
    let mut al = bj(1, 0);
    al.align = true;
    // value 1 rounds up to 4: cursor 1 + 4 = 5.
    assert!(run(&[Check::ByteJump(al), next_a()], b"\x01xxxxA"));
    let mut po = bj(1, 0);
    po.post_offset = -1;
    assert!(run(&[Check::ByteJump(po), next_a()], b"\x03xxAx"));
    let mut fb = bj(1, 2);
    fb.from_beginning = true;
    assert!(run(&[Check::ByteJump(fb), next_a()], b"xx\x03Axx"));
    // Beyond the end: no match; exactly at the end: match, nothing left.
    assert!(!run(&[Check::ByteJump(bj(1, 0))], b"\x05abc"));
    assert!(run(
        &[Check::ByteJump(bj(1, 0)), isdataat(1, true, true)],
        b"\x03abc"
    ));
    // Before the start clamps to the start.
    let mut back = bj(1, 0);
    back.post_offset = -100;
    assert!(run(
        &[Check::ByteJump(back), c("\x00").within(1).ck()],
        b"\x00zz"
    ));
}

#[test]
fn byte_count_from_a_variable() {
    // detect-bytejump-02: the length byte says how many bytes hold the jump.
    let mut j = bj(0, 0);
    j.nbytes_var = Some("n".into());
    j.relative = true;
    let checks = [
        Check::ByteExtract(be(1, 0, "n")),
        Check::ByteJump(j.clone()),
        c("A").distance(0).within(1).ck(),
    ];
    // n = 2: read 0x0003 after it, skip 3.
    assert!(run(&checks, b"\x02\x00\x03xxxA"));
    assert!(!run(&checks, b"\x02\x00\x02xxxA"));
    // A count a literal could not have (9 binary bytes) fails the keyword.
    assert!(!run(&checks, b"\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00A"));
    let mut t = bt(0, ByteOp::Eq, 7, 0);
    t.nbytes_var = Some("n".into());
    t.relative = true;
    let test = [Check::ByteExtract(be(1, 0, "n")), Check::ByteTest(t)];
    assert!(run(&test, b"\x03\x00\x00\x07"));
    assert!(!run(&test, b"\x02\x00\x00\x07"));
}

#[test]
fn byte_jump_suricata_from_end_string() {
    // detect-bytejump-01.
    let payload = b"Question?13When will the pandemic end?";
    let mut j = bj(2, 0);
    j.relative = true;
    j.string = Some(NumBase::Dec);
    j.from_end = true;
    j.post_offset = -26;
    let checks = [
        c("Question?").ck(),
        Check::ByteJump(j.clone()),
        c("pandemic").distance(0).ck(),
    ];
    assert!(run(&checks, payload));
    j.nbytes = 0;
    j.post_offset = -3;
    let checks = [
        c("Question?").ck(),
        Check::ByteJump(j),
        c("pandemic").distance(0).ck(),
    ];
    assert!(!run(&checks, payload));
}

// ---------- byte_extract / byte_math ----------

#[test]
fn byte_extract_forms_and_cursor() {
    let mut e = be(2, 0, "n");
    e.string = Some(NumBase::Dec);
    e.multiplier = 2;
    let mut t = bt(1, ByteOp::Eq, 0, 0);
    t.value = Num::Var("n".into());
    t.offset = Num::Lit(4);
    // n = 12 * 2 = 24 = 0x18 at offset 4.
    assert!(run(
        &[Check::ByteExtract(e.clone()), Check::ByteTest(t)],
        b"12xx\x18"
    ));
    // Cursor sits after the extracted bytes.
    assert!(run(
        &[Check::ByteExtract(e.clone()), c("xx").within(2).ck()],
        b"12xx"
    ));
    let mut al = be(1, 0, "a");
    al.align = 4;
    let mut t = bt(1, ByteOp::Eq, 0, 1);
    t.value = Num::Var("a".into());
    assert!(run(
        &[Check::ByteExtract(al), Check::ByteTest(t)],
        b"\x05\x08"
    ));
    let mut rel = be(1, 0, "r");
    rel.relative = true;
    assert!(run(
        &[c("ab").ck(), Check::ByteExtract(rel.clone())],
        b"ab\x01"
    ));
    assert!(!run(&[c("ab").ck(), Check::ByteExtract(rel)], b"ab"));
}

#[test]
fn byte_math_result_feeds_byte_test() {
    let m = ByteMath {
        nbytes: 2,
        offset: 0,
        op: MathOp::Add,
        rvalue: Num::Lit(1),
        result: "r".into(),
        relative: false,
        endian: Endian::Big,
        string: None,
        bitmask: None,
    };
    let mut t = bt(2, ByteOp::Eq, 0, 2);
    t.value = Num::Var("r".into());
    assert!(run(
        &[Check::ByteMath(m.clone()), Check::ByteTest(t.clone())],
        b"\x00\x10\x00\x11"
    ));
    assert!(!run(
        &[Check::ByteMath(m.clone()), Check::ByteTest(t.clone())],
        b"\x00\x10\x00\x12"
    ));
    let mut div = m.clone();
    div.op = MathOp::Div;
    div.rvalue = Num::Lit(0);
    assert!(!run(&[Check::ByteMath(div)], b"\x00\x10"));
    let mut shl = m;
    shl.op = MathOp::Shl;
    shl.rvalue = Num::Lit(200);
    assert!(run(&[Check::ByteMath(shl)], b"\x00\x10"));
}

// ---------- isdataat, bsize, urilen, absent ----------

#[test]
fn isdataat_absolute_and_relative_edges() {
    assert!(run(&[isdataat(2, false, false)], b"abc"));
    assert!(!run(&[isdataat(3, false, false)], b"abc"));
    assert!(run(&[isdataat(3, true, false)], b"abc"));
    // Relative: cursor + pos <= len.
    assert!(run(&[c("b").ck(), isdataat(1, false, true)], b"abc"));
    assert!(!run(&[c("b").ck(), isdataat(2, false, true)], b"abc"));
    assert!(run(&[c("c").ck(), isdataat(1, true, true)], b"abc"));
    assert!(!run(&[c("b").ck(), isdataat(1, true, true)], b"abc"));
    // Backtracking finds the occurrence with nothing after it.
    assert!(run(&[c("b").ck(), isdataat(1, true, true)], b"abcab"));
    // Variable position.
    let checks = [
        Check::ByteExtract(be(1, 0, "p")),
        Check::IsDataAt(IsDataAt {
            pos: Num::Var("p".into()),
            negated: false,
            relative: false,
        }),
    ];
    assert!(run(&checks, b"\x02bc"));
    assert!(!run(&checks, b"\x03bc"));
}

#[test]
fn bsize_urilen_absent() {
    assert!(run(&[Check::Bsize(Cmp::Eq(3))], b"abc"));
    assert!(!run(&[Check::Bsize(Cmp::Gt(3))], b"abc"));
    assert!(run(
        &[Check::Bsize(Cmp::Between(1, 5)), c("b").ck()],
        b"abc"
    ));
    assert!(run(&[Check::Bsize(Cmp::Eq(0))], b""));
    assert!(run(&[Check::Urilen(Cmp::Lt(10))], b"/index"));
    let p = compile(&[Check::Absent { or_else: false }]);
    assert_eq!(p.absent(), Some(false));
    assert!(!p.matches(b"x", &mut Scratch::default()));
    let p = compile(&[Check::Absent { or_else: true }, c("x").ck()]);
    assert_eq!(p.absent(), Some(true));
    assert!(p.matches(b"x", &mut Scratch::default()));
    assert!(!p.matches(b"y", &mut Scratch::default()));
    let empty = compile(&[]);
    assert!(empty.is_empty());
    assert!(empty.matches(b"", &mut Scratch::default()));
}

// ---------- limits and errors ----------

#[test]
fn recursion_limit_gives_up() {
    // Every "a" retries; with no "b" after any, the search space is enormous.
    let mut checks = vec![c("a").ck()];
    for _ in 0..8 {
        checks.push(c("a").distance(0).within(200).ck());
    }
    checks.push(c("b").distance(0).within(1).ck());
    let p = compile(&checks);
    let buf = vec![b'a'; 200];
    let mut st = Scratch::default();
    let t = Instant::now();
    assert!(!p.matches(&buf, &mut st));
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(st.stats.recursion_limit_hits, 1);
}

#[test]
fn compile_errors() {
    let compile_err = |checks: &[Check]| {
        let refs: Vec<&Check> = checks.iter().collect();
        Program::compile(&refs).expect_err("must not compile")
    };
    let e = compile_err(&[pcre("(unclosed", "")]);
    assert!(matches!(e, CompileError::Pcre { .. }), "{e}");
    assert!(e.to_string().contains("(unclosed"));
    let mut dce = bt(4, ByteOp::Eq, 1, 0);
    dce.endian = Endian::Dce;
    assert!(e_is_dce(&compile_err(&[Check::ByteTest(dce)])));
    assert!(matches!(
        compile_err(&[Check::ByteTest(bt(9, ByteOp::Eq, 1, 0))]),
        CompileError::NbytesOutOfRange { .. }
    ));
    let mut long = bt(24, ByteOp::Eq, 1, 0);
    long.string = Some(NumBase::Dec);
    assert!(matches!(
        compile_err(&[Check::ByteTest(long)]),
        CompileError::NbytesOutOfRange { .. }
    ));
    assert!(matches!(
        compile_err(&[c("x").var_depth("nope").ck()]),
        CompileError::UnknownVariable(n) if n == "nope"
    ));
    // A variable must be defined before it is used.
    assert!(matches!(
        compile_err(&[
            c("x").var_offset("late").ck(),
            Check::ByteExtract(be(1, 0, "late"))
        ]),
        CompileError::UnknownVariable(_)
    ));
}

fn e_is_dce(e: &CompileError) -> bool {
    matches!(e, CompileError::DceUnsupported { .. }) && e.to_string().contains("dce not supported")
}

#[test]
fn scratch_is_reusable_across_programs() {
    let a = compile(&[Check::ByteExtract(be(1, 0, "x")), c("b").ck()]);
    let b = compile(&[c("zz").ck()]);
    let mut st = Scratch::default();
    for _ in 0..3 {
        assert!(a.matches(b"\x01b", &mut st));
        assert!(!b.matches(b"\x01b", &mut st));
    }
}

// ---------- transforms ----------

fn tf(ts: &[Transform], input: &[u8]) -> Vec<u8> {
    let mut s = TransformScratch::default();
    transform(ts, input, &mut s).to_vec()
}

#[test]
fn transforms_like_suricata() {
    use Transform::*;
    assert_eq!(tf(&[], b"AbC"), b"AbC");
    assert_eq!(tf(&[ToLowercase], b"AbC1"), b"abc1");
    assert_eq!(tf(&[ToUppercase], b"AbC1"), b"ABC1");
    assert_eq!(tf(&[StripWhitespace], b" a \t b\r\n"), b"ab");
    assert_eq!(tf(&[CompressWhitespace], b"a \t b\n\nc "), b"a b\nc ");
    assert_eq!(
        tf(
            &[UrlDecode],
            b"Suricata%20is+%27%61wesome%21%27%25%30%30%ZZ%4"
        ),
        b"Suricata is 'awesome!'%00%ZZ%4"
    );
    assert_eq!(tf(&[UrlDecode], b"%"), b"%");
    assert_eq!(tf(&[Dotprefix], b"example.com"), b".example.com");
    assert_eq!(tf(&[Dotprefix], b""), b"");
    assert_eq!(tf(&[ToMd5], b"abc").len(), 16);
    assert_eq!(tf(&[ToSha1], b"abc").len(), 20);
    assert_eq!(
        tf(&[ToSha256], b"abc"),
        [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad
        ]
    );
    assert_eq!(
        tf(&[HeaderLowercase], b"Header1: Value1\nHEADER2:Value2\n"),
        b"header1: Value1\nheader2:Value2\n"
    );
    assert_eq!(
        tf(
            &[StripPseudoHeaders],
            b"Header1: Value1\n:method:get\nheader2:Value2"
        ),
        b"Header1: Value1\nheader2:Value2"
    );
    // Chains apply in order.
    assert_eq!(tf(&[ToLowercase, Dotprefix], b"WWW.X.COM"), b".www.x.com");
    assert_eq!(
        tf(&[StripWhitespace, ToUppercase, Dotprefix], b"a b"),
        b".AB"
    );
}

#[test]
fn transformed_buffer_inspection() {
    let mut ts = TransformScratch::default();
    let buf = transform(&[Transform::Dotprefix], b"maps.microsoft.com", &mut ts);
    assert!(run(&[c(".microsoft.com").endswith().ck()], buf));
    let buf = transform(&[Transform::Dotprefix], b"fakemicrosoft.com", &mut ts);
    assert!(!run(&[c(".microsoft.com").endswith().ck()], buf));
}

// ---------- property: no panics ----------

fn num() -> impl Strategy<Value = Num> {
    prop_oneof![
        4 => (-20i64..40).prop_map(Num::Lit),
        1 => prop_oneof![Just("v0"), Just("v1")].prop_map(|s| Num::Var(s.into())),
    ]
}

fn base() -> impl Strategy<Value = Option<NumBase>> {
    prop_oneof![
        Just(None),
        Just(Some(NumBase::Dec)),
        Just(Some(NumBase::Hex)),
        Just(Some(NumBase::Oct))
    ]
}

fn endian() -> impl Strategy<Value = Endian> {
    prop_oneof![Just(Endian::Big), Just(Endian::Little)]
}

fn mask() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![Just(None), (0u64..0x1_0000).prop_map(Some)]
}

fn byte_op() -> impl Strategy<Value = ByteOp> {
    prop_oneof![
        Just(ByteOp::Lt),
        Just(ByteOp::Gt),
        Just(ByteOp::Le),
        Just(ByteOp::Ge),
        Just(ByteOp::Eq),
        Just(ByteOp::And),
        Just(ByteOp::Xor)
    ]
}

fn math_op() -> impl Strategy<Value = MathOp> {
    prop_oneof![
        Just(MathOp::Add),
        Just(MathOp::Sub),
        Just(MathOp::Mul),
        Just(MathOp::Div),
        Just(MathOp::Shl),
        Just(MathOp::Shr)
    ]
}

fn cmp() -> impl Strategy<Value = Cmp> {
    (0u64..20, 0u64..20, 0u8..8).prop_map(|(a, b, k)| match k {
        0 => Cmp::Eq(a),
        1 => Cmp::Ne(a),
        2 => Cmp::Lt(a),
        3 => Cmp::Le(a),
        4 => Cmp::Gt(a),
        5 => Cmp::Ge(a),
        6 => Cmp::Between(a, b),
        _ => Cmp::NotBetween(a, b),
    })
}

fn content_check() -> impl Strategy<Value = Check> {
    (
        proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'B'), Just(b'1')], 1..4),
        any::<[bool; 4]>(),
        proptest::option::of(num()),
        proptest::option::of(num()),
        proptest::option::of(num()),
        proptest::option::of(num()),
    )
        .prop_map(|(pattern, f, depth, offset, distance, within)| {
            Check::Content(Content {
                pattern,
                negated: f[0],
                nocase: f[1],
                startswith: f[2] && depth.is_none(),
                endswith: f[3],
                depth,
                offset,
                distance,
                within,
                ..Default::default()
            })
        })
}

fn check() -> impl Strategy<Value = Check> {
    prop_oneof![
        4 => content_check(),
        1 => (
            prop_oneof![Just("a+"), Just("^B"), Just("(a|1)+$"), Just("a.?1"), Just("")],
            "[isAEGR!O]{0,3}"
        )
            .prop_map(|(p, f)| pcre(p, &f)),
        1 => (1u8..6, byte_op(), any::<bool>(), num(), num(), any::<bool>(), endian(), base(),
              mask())
            .prop_map(|(nbytes, op, negated, value, offset, relative, endian, string, bitmask)| {
                Check::ByteTest(ByteTest {
                    nbytes, nbytes_var: None, op, negated, value, offset, relative, endian,
                    string, bitmask,
                })
            }),
        1 => (0u8..6, num(), any::<[bool; 4]>(), 0u32..4, endian(), base(), -10i32..10,
              mask())
            .prop_map(|(nbytes, offset, f, multiplier, endian, string, post_offset, bitmask)| {
                Check::ByteJump(ByteJump {
                    nbytes, nbytes_var: None, offset, relative: f[0], multiplier, endian, string,
                    align: f[1],
                    from_beginning: f[2] && !f[3], from_end: f[3], post_offset, bitmask,
                })
            }),
        1 => (1u8..6, -5i32..10, prop_oneof![Just("v0"), Just("v1")], any::<bool>(), 1u32..4,
              endian(), base(), prop_oneof![Just(0u8), Just(2), Just(4)], mask())
            .prop_map(|(nbytes, offset, name, relative, multiplier, endian, string, align,
                        bitmask)| {
                Check::ByteExtract(ByteExtract {
                    nbytes, offset, name: name.into(), relative, multiplier, endian, string,
                    align, bitmask,
                })
            }),
        1 => (1u8..10, -5i32..10, math_op(), num(), prop_oneof![Just("v0"), Just("v1")],
              any::<bool>(), endian(), base(), mask())
            .prop_map(|(nbytes, offset, op, rvalue, result, relative, endian, string,
                        bitmask)| {
                Check::ByteMath(ByteMath {
                    nbytes, offset, op, rvalue, result: result.into(), relative, endian, string,
                    bitmask,
                })
            }),
        1 => (num(), any::<bool>(), any::<bool>())
            .prop_map(|(pos, negated, relative)| Check::IsDataAt(IsDataAt {
                pos, negated, relative,
            })),
        1 => cmp().prop_map(Check::Bsize),
        1 => cmp().prop_map(Check::Urilen),
        1 => any::<bool>().prop_map(|or_else| Check::Absent { or_else }),
    ]
}

fn transform_strategy() -> impl Strategy<Value = Transform> {
    use Transform::*;
    prop_oneof![
        Just(ToLowercase),
        Just(ToUppercase),
        Just(StripWhitespace),
        Just(CompressWhitespace),
        Just(UrlDecode),
        Just(Dotprefix),
        Just(ToMd5),
        Just(ToSha1),
        Just(ToSha256),
        Just(HeaderLowercase),
        Just(StripPseudoHeaders),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matches_never_panics(
        checks in proptest::collection::vec(check(), 0..7),
        buf in proptest::collection::vec(
            prop_oneof![
                Just(b'a'), Just(b'B'), Just(b'1'), Just(b' '), Just(b'%'), Just(b'\n'),
                any::<u8>()
            ],
            0..48,
        ),
        ts in proptest::collection::vec(transform_strategy(), 0..3),
    ) {
        let refs: Vec<&Check> = checks.iter().collect();
        if let Ok(p) = Program::compile(&refs) {
            let mut tscratch = TransformScratch::default();
            let input = transform(&ts, &buf, &mut tscratch);
            let mut st = Scratch::default();
            let first = p.matches(input, &mut st);
            // Deterministic, and scratch state does not leak between runs.
            prop_assert_eq!(first, p.matches(input, &mut st));
        }
    }
}

#[test]
fn program_is_shareable_between_workers() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Program>();
    assert_send_sync::<Scratch>();
}
