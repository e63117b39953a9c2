//! Protocol transcripts: DNS messages built byte by byte, fed to the parser, checked as
//! records, events and Suricata-shaped JSON.

use super::eve::{self, EveOut};
use super::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use vedette_eve::{EventBatch, EventType};

const TS: Direction = Direction::ToServer;
const TC: Direction = Direction::ToClient;

// ---------------------------------------------------------------------------------------------
// Message builders

fn name(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for label in n.split('.').filter(|l| !l.is_empty()) {
        v.push(label.len() as u8);
        v.extend_from_slice(label.as_bytes());
    }
    v.push(0);
    v
}

fn hdr(id: u16, flags: u16, qd: u16, an: u16, ns: u16, ar: u16) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [id, flags, qd, an, ns, ar] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

fn question(n: &[u8], t: u16) -> Vec<u8> {
    let mut v = n.to_vec();
    v.extend_from_slice(&t.to_be_bytes());
    v.extend_from_slice(&1u16.to_be_bytes());
    v
}

fn rr(owner: &[u8], t: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut v = owner.to_vec();
    v.extend_from_slice(&t.to_be_bytes());
    v.extend_from_slice(&1u16.to_be_bytes());
    v.extend_from_slice(&ttl.to_be_bytes());
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
    v
}

/// A pointer to offset 12: the first question's name.
const PTR_Q: [u8; 2] = [0xc0, 0x0c];

fn query(id: u16, n: &str, t: u16) -> Vec<u8> {
    [hdr(id, 0x0100, 1, 0, 0, 0), question(&name(n), t)].concat()
}

fn tcp_framed(msg: &[u8]) -> Vec<u8> {
    [(msg.len() as u16).to_be_bytes().to_vec(), msg.to_vec()].concat()
}

// ---------------------------------------------------------------------------------------------
// Running the parser

/// A JSON writer with array elements, standing in for `JsonWriter` until it has them.
struct TestJson {
    buf: Vec<u8>,
    first: Vec<bool>,
}

impl TestJson {
    fn new() -> Self {
        TestJson {
            buf: b"{".to_vec(),
            first: vec![true],
        }
    }
    fn sep(&mut self) {
        if let Some(f) = self.first.last_mut() {
            if !*f {
                self.buf.push(b',');
            }
            *f = false;
        }
    }
    fn key(&mut self, k: &str) {
        self.sep();
        vedette_eve::escape_into(&mut self.buf, k.as_bytes());
        self.buf.push(b':');
    }
    fn finish(mut self) -> Value {
        self.buf.push(b'}');
        serde_json::from_slice(&self.buf)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.buf)))
    }
}

impl EveOut for TestJson {
    const ELEMENTS: bool = true;
    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        vedette_eve::escape_into(&mut self.buf, v.as_bytes());
    }
    fn u64(&mut self, k: &str, v: u64) {
        self.key(k);
        self.buf.extend_from_slice(v.to_string().as_bytes());
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
    }
    fn object(&mut self, k: &str) {
        self.key(k);
        self.buf.push(b'{');
        self.first.push(true);
    }
    fn close_object(&mut self) {
        self.buf.push(b'}');
        self.first.pop();
    }
    fn array(&mut self, k: &str) {
        self.key(k);
        self.buf.push(b'[');
        self.first.push(true);
    }
    fn close_array(&mut self) {
        self.buf.push(b']');
        self.first.pop();
    }
    fn elem_str(&mut self, v: &str) {
        self.sep();
        vedette_eve::escape_into(&mut self.buf, v.as_bytes());
    }
    fn elem_object(&mut self) {
        self.sep();
        self.buf.push(b'{');
        self.first.push(true);
    }
}

/// The `dns` object of one record, with every field.
fn dns_json(tx: &Tx) -> Value {
    let mut t = TestJson::new();
    eve::write(tx, &mut t);
    t.finish()["dns"].clone()
}

/// The whole record as the engine writes it through `JsonWriter` (without the header).
fn jsonwriter_record(tx: &Tx) -> Value {
    let mut batch = EventBatch::with_capacity(1024);
    let mut w = batch.begin(EventType::Dns);
    w.open();
    tx.write_eve(&mut w);
    w.finish();
    serde_json::from_slice(batch.record(0).unwrap()).unwrap()
}

struct Run {
    state: State,
    records: Vec<Value>,
    txs: Vec<Tx>,
    events: Vec<(Direction, &'static str)>,
}

impl Run {
    fn udp() -> Self {
        Run::with(State::new_udp(&Limits::default()))
    }
    fn tcp() -> Self {
        Run::with(State::new_tcp(&Limits::default()))
    }
    fn with(state: State) -> Self {
        Run {
            state,
            records: Vec::new(),
            txs: Vec::new(),
            events: Vec::new(),
        }
    }
    fn feed(&mut self, dir: Direction, data: &[u8]) -> &mut Self {
        let mut ev = AppEvents::default();
        self.state.parse(dir, data, &mut ev);
        self.events.extend(ev.iter());
        self.drain();
        self
    }
    fn gap(&mut self, dir: Direction, len: u64) -> &mut Self {
        let mut ev = AppEvents::default();
        self.state.gap(dir, len, &mut ev);
        self.events.extend(ev.iter());
        self
    }
    fn drain(&mut self) {
        let (records, txs) = (&mut self.records, &mut self.txs);
        self.state.drain(false, &mut |tx| {
            records.push(dns_json(tx));
            txs.push(tx.clone());
        });
    }
    fn event_names(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.1).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// EVE shape

#[test]
fn query_is_logged_in_suricata_v2_shape() {
    let mut r = Run::udp();
    r.feed(TS, &query(4926, "update.microsoft.com", 1));
    assert_eq!(
        r.records,
        vec![
            json!({"version":2,"type":"query","id":4926,"rrname":"update.microsoft.com",
                    "rrtype":"A","tx_id":0,"opcode":0})
        ]
    );
    // The engine's writer produces the same object for queries.
    assert_eq!(jsonwriter_record(&r.txs[0])["dns"], r.records[0]);
    assert!(r.events.is_empty());
}

fn a_answer(id: u16, n: &str, addr: [u8; 4]) -> Vec<u8> {
    [
        hdr(id, 0x8180, 1, 1, 0, 0),
        question(&name(n), 1),
        rr(&PTR_Q, 1, 300, &addr),
    ]
    .concat()
}

#[test]
fn answer_is_logged_in_suricata_v2_shape() {
    let mut r = Run::udp();
    r.feed(TS, &query(4926, "update.microsoft.com", 1));
    r.feed(
        TC,
        &a_answer(4926, "update.microsoft.com", [34, 133, 196, 125]),
    );
    assert_eq!(
        r.records[1],
        json!({"version":2,"type":"answer","id":4926,"flags":"8180","qr":true,"rd":true,
               "ra":true,"opcode":0,"rrname":"update.microsoft.com","rrtype":"A",
               "rcode":"NOERROR",
               "answers":[{"rrname":"update.microsoft.com","rrtype":"A","ttl":300,
                           "rdata":"34.133.196.125"}],
               "grouped":{"A":["34.133.196.125"]}})
    );
    let answer = &r.txs[1];
    assert!(answer.is_response());
    assert_eq!(answer.tx_id(), 1);
    assert_eq!(answer.query_tx_id(), Some(0));
    assert_eq!(answer.rcode(), 0);
    assert_eq!(answer.dns_id(), 4926);
}

#[test]
fn jsonwriter_output_is_valid_and_complete_as_far_as_it_can_go() {
    let mut r = Run::udp();
    r.feed(TC, &a_answer(7, "a.example", [1, 2, 3, 4]));
    let v = jsonwriter_record(&r.txs[0]);
    let full = &r.records[0];
    if <JsonWriter<'_> as EveOut>::ELEMENTS {
        assert_eq!(&v["dns"], full);
    } else {
        // Without array elements the record lists are left out; everything else is there.
        let mut expect = full.clone();
        let o = expect.as_object_mut().unwrap();
        o.remove("answers");
        o.remove("grouped");
        assert_eq!(v["dns"], expect);
    }
}

#[test]
fn nxdomain_with_soa_authority() {
    let soa_rdata = [
        name("ns-110.awsdns-13.com"),
        name("awsdns-hostmaster.amazon.com"),
        [1u32, 7200, 900, 1_209_600, 86_400]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect(),
    ]
    .concat();
    let msg = [
        hdr(0x8295, 0x8183, 1, 0, 1, 0),
        question(&name("dne.oisf.net"), 1),
        rr(&[0xc0, 0x10], 6, 899, &soa_rdata), // owner: "oisf.net" inside the question
    ]
    .concat();
    let mut r = Run::udp();
    r.feed(TC, &msg);
    assert_eq!(
        r.records,
        vec![
            json!({"version":2,"type":"answer","id":0x8295,"flags":"8183","qr":true,
            "rd":true,"ra":true,"opcode":0,"rrname":"dne.oisf.net","rrtype":"A",
            "rcode":"NXDOMAIN",
            "authorities":[{"rrname":"oisf.net","rrtype":"SOA","ttl":899,
                "soa":{"mname":"ns-110.awsdns-13.com","rname":"awsdns-hostmaster.amazon.com",
                       "serial":1,"refresh":7200,"retry":900,"expire":1209600,
                       "minimum":86400}}]})
        ]
    );
    assert!(r.events.is_empty());
}

#[test]
fn every_decoded_rdata_type_has_suricatas_format() {
    let v6 = [
        0x26, 0x06, 0x47, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xb6,
    ];
    let srv = [
        20u16.to_be_bytes().to_vec(),
        1u16.to_be_bytes().to_vec(),
        5060u16.to_be_bytes().to_vec(),
        name("sip-anycast-2.voice.google.com"),
    ]
    .concat();
    let mx = [10u16.to_be_bytes().to_vec(), name("mx1.example.com")].concat();
    let txt = b"\x05hello\x00\x03bye".to_vec();
    let sshfp = [1u8, 2, 0xab, 0xcd, 0xef].to_vec();
    let msg = [
        hdr(9, 0x8580, 1, 9, 1, 0),
        question(&name("example.com"), 255),
        rr(&PTR_Q, 28, 60, &v6),
        rr(&PTR_Q, 5, 60, &name("alias.example.com")),
        rr(&PTR_Q, 15, 60, &mx),
        rr(&PTR_Q, 16, 60, &txt),
        rr(&PTR_Q, 33, 60, &srv),
        rr(&PTR_Q, 12, 60, &name("host.example.com")),
        rr(&PTR_Q, 44, 60, &sshfp),
        rr(&PTR_Q, 65534, 60, b"\x01\x02"),
        rr(&PTR_Q, 1, 60, b""), // empty rdata: no record, as Suricata
        rr(&PTR_Q, 2, 60, &name("ns1.example.com")),
    ]
    .concat();
    let mut r = Run::udp();
    r.feed(TC, &msg);
    let d = &r.records[0];
    assert_eq!(d["aa"], true);
    assert_eq!(d["rrtype"], "ANY");
    let answers = d["answers"].as_array().unwrap();
    let get = |i: usize| answers[i].clone();
    assert_eq!(
        get(0),
        json!({"rrname":"example.com","rrtype":"AAAA","ttl":60,
                   "rdata":"2606:4700:0000:0000:0000:0000:0000:beb6"})
    );
    assert_eq!(get(1)["rdata"], "alias.example.com");
    assert_eq!(get(2)["rdata"], "mx1.example.com");
    // TXT: one entry per character-string, the empty one included.
    assert_eq!(
        (get(3)["rrtype"].clone(), get(3)["rdata"].clone()),
        (json!("TXT"), json!("hello"))
    );
    assert_eq!(get(4)["rdata"], "");
    assert_eq!(get(5)["rdata"], "bye");
    assert_eq!(
        get(6)["srv"],
        json!({"priority":20,"weight":1,"port":5060,"name":"sip-anycast-2.voice.google.com"})
    );
    assert_eq!(get(7)["rdata"], "host.example.com");
    assert_eq!(
        get(8)["sshfp"],
        json!({"fingerprint":"ab:cd:ef","algo":1,"type":2})
    );
    assert_eq!(
        get(9),
        json!({"rrname":"example.com","rrtype":"65534","ttl":60}),
        "unknown types: number as the name, rdata not decoded"
    );
    assert_eq!(answers.len(), 10);
    assert_eq!(
        d["grouped"],
        json!({"AAAA":["2606:4700:0000:0000:0000:0000:0000:beb6"],
               "CNAME":["alias.example.com"],"MX":["mx1.example.com"],
               "TXT":["hello","","bye"],
               "SRV":[{"priority":20,"weight":1,"port":5060,
                       "name":"sip-anycast-2.voice.google.com"}],
               "PTR":["host.example.com"],
               "SSHFP":[{"fingerprint":"ab:cd:ef","algo":1,"type":2}]})
    );
    assert_eq!(
        d["authorities"],
        json!([{"rrname":"example.com","rrtype":"NS","ttl":60,"rdata":"ns1.example.com"}])
    );
    // The typed view.
    let tx = &r.txs[0];
    let rd: Vec<Rdata<'_>> = tx.records(Section::Answer).map(|x| x.rdata()).collect();
    assert_eq!(rd[0], Rdata::Addr(&v6));
    assert_eq!(
        rd[2],
        Rdata::Mx {
            preference: 10,
            exchange: b"mx1.example.com"
        }
    );
    assert_eq!(rd[9], Rdata::Other { len: 2 });
}

#[test]
fn header_flags_rcodes_and_type_names() {
    // aa, tc, z set; rd, ra clear; SERVFAIL; unknown question type.
    let mut r = Run::udp();
    let msg = [
        hdr(1, 0x8000 | 0x0400 | 0x0200 | 0x0040 | 2, 1, 0, 0, 0),
        question(&name("x.y"), 64000),
    ]
    .concat();
    r.feed(TC, &msg);
    let d = &r.records[0];
    assert_eq!(d["flags"], "8642");
    assert_eq!(
        (
            d["qr"].clone(),
            d["aa"].clone(),
            d["tc"].clone(),
            d["z"].clone()
        ),
        (json!(true), json!(true), json!(true), json!(true))
    );
    assert!(d.get("rd").is_none() && d.get("ra").is_none());
    assert_eq!(d["rcode"], "SERVFAIL");
    assert_eq!(d["rrtype"], "64000");
    assert!(d.get("answers").is_none() && d.get("grouped").is_none());
    assert_eq!(r.event_names(), vec![events::Z_FLAG_SET]);

    assert_eq!(rcode_name(0x8185), "REFUSED");
    assert_eq!(rcode_name(0x800c), "12");
    assert_eq!(rrtype_name(3), "ND"); // Suricata 7's spelling
    assert_eq!(rrtype_name(65), "HTTPS");
}

#[test]
fn query_sent_to_the_client_is_an_answer_and_flags_are_unpadded() {
    let mut r = Run::udp();
    r.feed(TC, &query(5, "a.b", 1));
    assert_eq!(r.event_names(), vec![events::NOT_RESPONSE]);
    assert_eq!(r.records[0]["type"], "answer");
    assert_eq!(r.records[0]["flags"], "100");
    assert_eq!(r.records[0]["rd"], true);
    assert!(r.records[0].get("qr").is_none());
}

#[test]
fn response_sent_to_the_server_is_dropped() {
    let mut r = Run::udp();
    r.feed(TS, &a_answer(5, "a.b", [1, 1, 1, 1]));
    assert!(r.records.is_empty());
    assert_eq!(r.event_names(), vec![events::NOT_REQUEST]);
}

#[test]
fn z_flag_and_invalid_opcode_events() {
    let mut r = Run::udp();
    let msg = [
        hdr(3, 0x0100 | 0x0040 | (7 << 11), 1, 0, 0, 0),
        question(&name("z.example"), 1),
    ]
    .concat();
    r.feed(TS, &msg);
    assert_eq!(
        r.event_names(),
        vec![events::Z_FLAG_SET, events::INVALID_OPCODE]
    );
    assert_eq!(r.records[0]["z"], true);
    assert_eq!(r.records[0]["opcode"], 7);
    assert_eq!(r.txs[0].opcode(), 7);
}

#[test]
fn one_record_per_question_and_tx_ids_count_every_message() {
    let mut r = Run::udp();
    let q2 = [
        hdr(1, 0x0100, 2, 0, 0, 0),
        question(&name("a.example"), 1),
        question(&name("b.example"), 28),
    ]
    .concat();
    r.feed(TS, &q2);
    r.feed(TC, &a_answer(1, "a.example", [1, 2, 3, 4]));
    r.feed(TS, &query(2, "c.example", 1));
    // A response without questions: a transaction, but Suricata logs nothing for it.
    r.feed(TC, &hdr(2, 0x8180, 0, 0, 0, 0));
    r.feed(TS, &query(3, "d.example", 1));
    let summary: Vec<(String, Value, Value)> = r
        .records
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap().to_owned(),
                d["rrname"].clone(),
                d["tx_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("query".into(), json!("a.example"), json!(0)),
            ("query".into(), json!("b.example"), json!(0)),
            ("answer".into(), json!("a.example"), Value::Null),
            ("query".into(), json!("c.example"), json!(2)),
            ("query".into(), json!("d.example"), json!(4)),
        ]
    );
    assert_eq!(r.records[1]["rrtype"], "AAAA");
    assert_eq!((r.txs[0].record_index(), r.txs[1].record_index()), (0, 1));
    assert_eq!(r.txs[1].rrtype(), Some(28));
}

#[test]
fn empty_query_has_no_record() {
    let mut r = Run::udp();
    r.feed(TS, &hdr(1, 0x0100, 0, 0, 0, 0));
    assert!(r.records.is_empty());
    assert!(r.events.is_empty());
}

#[test]
fn invalid_utf8_is_rendered_like_suricata() {
    // The NULL rdata of Suricata's dns-udp-null test.
    let mut r = Run::udp();
    let msg = [
        hdr(1, 0x8180, 1, 1, 0, 0),
        question(&name("n.example"), 10),
        rr(&PTR_Q, 10, 0, b"VACKD\x03\xc5\xe9\x01"),
    ]
    .concat();
    r.feed(TC, &msg);
    assert_eq!(r.records[0]["rrtype"], "NULL");
    assert_eq!(
        r.records[0]["answers"][0]["rdata"],
        "VACKD\u{3}\\xc5\\xe9\u{1}"
    );
    assert_eq!(eve::suri_str("é".as_bytes()), "é");
}

// ---------------------------------------------------------------------------------------------
// Names: compression, loops, limits

#[test]
fn compression_pointers_are_followed() {
    // Answer owner points into the question; the CNAME target ends with a pointer to
    // "example.com" inside the question (offset 12 + 4 = 16).
    let cname = [b"\x03www".to_vec(), vec![0xc0, 16]].concat();
    let msg = [
        hdr(1, 0x8180, 1, 2, 0, 0),
        question(&name("cdn.example.com"), 1),
        rr(&PTR_Q, 5, 10, &cname),
        rr(&[0xc0, 45], 1, 10, &[9, 9, 9, 9]), // owner: the CNAME target at offset 45
    ]
    .concat();
    let mut r = Run::udp();
    r.feed(TC, &msg);
    let d = &r.records[0];
    assert_eq!(d["answers"][0]["rdata"], "www.example.com");
    assert_eq!(d["answers"][1]["rrname"], "www.example.com");
    let tx = &r.txs[0];
    let names: Vec<&[u8]> = tx.all_names().collect();
    assert_eq!(
        names,
        vec![
            &b"cdn.example.com"[..],
            b"cdn.example.com",
            b"www.example.com",
            b"www.example.com"
        ]
    );
    let answers: Vec<&[u8]> = tx.answer_names().collect();
    assert_eq!(answers, vec![&b"cdn.example.com"[..], b"www.example.com"]);
}

#[test]
fn pointer_to_itself_in_a_question_is_malformed_and_ends() {
    let msg = [hdr(1, 0x0100, 1, 0, 0, 0), vec![0xc0, 0x0c, 0, 1, 0, 1]].concat();
    let mut r = Run::udp();
    r.feed(TS, &msg);
    assert!(r.records.is_empty());
    assert_eq!(r.event_names(), vec![events::MALFORMED_DATA]);
    assert_eq!(probe(&msg, TS), Probe::No);
}

#[test]
fn pointer_loop_in_a_record_is_cut_and_flagged() {
    // Layout: question 12..21; record at 21 whose owner points into a loop of two pointers
    // placed after the record (at 35 -> 37 -> 35 ...); its CNAME rdata points to "a.b".
    let mut msg = [hdr(1, 0x8180, 1, 1, 0, 0), question(&name("a.b"), 1)].concat();
    let loop_at = (msg.len() + 2 + 10 + 2) as u8;
    msg.extend_from_slice(&[0xc0, loop_at]);
    msg.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0, 1, 0, 2]);
    msg.extend_from_slice(&PTR_Q);
    assert_eq!(msg.len(), usize::from(loop_at));
    msg.extend_from_slice(&[0xc0, loop_at + 2, 0xc0, loop_at]);
    let mut r = Run::udp();
    r.feed(TC, &msg);
    assert_eq!(
        r.event_names(),
        vec![events::NAME_TOO_LONG, events::TOO_MANY_LABELS],
        "the loop is ended by the step limit and the name marked truncated"
    );
    let ans = &r.records[0]["answers"][0];
    assert_eq!(ans["rrname"], "");
    assert_eq!(ans["rrname_truncated"], true);
    assert_eq!(ans["rdata"], "a.b");
}

#[test]
fn pointer_to_itself_inside_rdata_is_an_infinite_loop_event() {
    // The CNAME rdata is a pointer to itself: Suricata sees the loop on the second visit,
    // after a pointer was followed, so the record survives with an empty name.
    let q = question(&name("a.b"), 1);
    let mut msg = [hdr(1, 0x8180, 1, 1, 0, 0), q].concat();
    msg.extend_from_slice(&PTR_Q);
    msg.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0, 1, 0, 2]);
    let at = msg.len() as u8;
    msg.extend_from_slice(&[0xc0, at]);
    // Trailing bytes: the rdata is not the message's tail (when it is, the loop is seen at
    // once and the message is malformed, as for a question).
    msg.extend_from_slice(&[0, 0]);
    let mut r = Run::udp();
    r.feed(TC, &msg);
    assert_eq!(r.event_names(), vec![events::INFINITE_LOOP]);
    assert_eq!(r.records[0]["answers"][0]["rdata"], "");
}

#[test]
fn pointer_beyond_the_message_is_malformed() {
    let msg = [hdr(1, 0x0100, 1, 0, 0, 0), vec![0xc0, 0xff, 0, 1, 0, 1]].concat();
    let mut r = Run::udp();
    r.feed(TS, &msg);
    assert_eq!(r.event_names(), vec![events::MALFORMED_DATA]);
}

#[test]
fn reserved_label_types_are_malformed() {
    for t in [0x40u8, 0x80] {
        let msg = [hdr(1, 0x0100, 1, 0, 0, 0), vec![t, 0, 0, 1, 0, 1]].concat();
        let mut r = Run::udp();
        r.feed(TS, &msg);
        assert_eq!(r.event_names(), vec![events::MALFORMED_DATA]);
    }
}

#[test]
fn long_names_are_truncated_to_the_limit() {
    // 20 labels of 63 bytes, in the question itself (no pointer): truncated, walk continues.
    let long: String = (0..20)
        .map(|i| format!("{}.", char::from(b'a' + i).to_string().repeat(63)))
        .collect();
    let mut r = Run::udp();
    r.feed(TS, &query(1, &long, 1));
    assert_eq!(r.event_names(), vec![events::NAME_TOO_LONG]);
    let d = &r.records[0];
    assert_eq!(d["rrname"].as_str().unwrap().len(), DEFAULT_MAX_NAME_LEN);
    assert_eq!(d["rrname_truncated"], true);
    assert_eq!(
        r.txs[0].query_names().next().unwrap().len(),
        DEFAULT_MAX_NAME_LEN
    );
}

#[test]
fn too_many_labels_without_a_pointer_is_malformed() {
    let many: String = "a.".repeat(300);
    let mut r = Run::udp();
    r.feed(TS, &query(1, &many, 1));
    assert_eq!(r.event_names(), vec![events::MALFORMED_DATA]);
}

#[test]
fn root_name_is_empty() {
    let mut r = Run::udp();
    r.feed(TS, &[hdr(1, 0, 1, 0, 0, 0), question(&[0], 2)].concat());
    assert_eq!(r.records[0]["rrname"], "");
    assert_eq!(r.records[0]["rrtype"], "NS");
}

// ---------------------------------------------------------------------------------------------
// Truncated and hostile messages

#[test]
fn every_truncation_of_a_response_is_handled() {
    let full = [
        hdr(1, 0x8180, 1, 2, 1, 1),
        question(&name("www.example.com"), 1),
        rr(&PTR_Q, 5, 1, &name("web.example.com")),
        rr(&PTR_Q, 1, 1, &[1, 2, 3, 4]),
        rr(&PTR_Q, 2, 1, &name("ns.example.com")),
        rr(&[0], 41, 0, &[0, 10, 0, 0]),
    ]
    .concat();
    for cut in 0..full.len() {
        let mut r = Run::udp();
        r.feed(TC, full.get(..cut).unwrap());
        // Cut in the additional section: still logged (Suricata 7 does not read it).
        let in_additionals = cut >= full.len() - 15;
        if in_additionals {
            assert_eq!(r.records.len(), 1, "cut {cut}");
            assert_eq!(
                r.event_names(),
                vec![events::INVALID_ADDITIONALS],
                "cut {cut}"
            );
        } else if cut > 0 {
            assert!(r.records.is_empty(), "cut {cut}");
            assert_eq!(r.event_names(), vec![events::MALFORMED_DATA], "cut {cut}");
        }
    }
    let mut r = Run::udp();
    r.feed(TC, &full);
    assert!(r.events.is_empty());
    assert_eq!(r.txs[0].records(Section::Additional).count(), 1);
}

#[test]
fn implausible_counts_are_malformed() {
    let mut r = Run::udp();
    r.feed(
        TS,
        &[hdr(1, 0x0100, 1, 0xffff, 0, 0), question(&name("a.b"), 1)].concat(),
    );
    assert_eq!(r.event_names(), vec![events::MALFORMED_DATA]);
}

#[test]
fn request_record_sections_are_best_effort() {
    // A query with a broken answer section: Suricata 7 reads only the questions.
    let msg = [
        hdr(1, 0x0100, 1, 1, 0, 0),
        question(&name("a.b"), 1),
        vec![0xc0],
    ]
    .concat();
    let mut r = Run::udp();
    r.feed(TS, &msg);
    assert_eq!(r.records.len(), 1);
    assert!(r.events.is_empty());
}

// ---------------------------------------------------------------------------------------------
// TCP

#[test]
fn tcp_message_split_at_every_position() {
    let q = tcp_framed(&query(77, "split.example", 1));
    let a = tcp_framed(&a_answer(77, "split.example", [5, 6, 7, 8]));
    for cut in 0..=q.len() {
        let mut r = Run::tcp();
        r.feed(TS, q.get(..cut).unwrap());
        if cut < q.len() {
            assert!(r.records.is_empty());
        }
        r.feed(TS, q.get(cut..).unwrap());
        r.feed(TC, &a);
        assert_eq!(r.records.len(), 2, "cut {cut}");
        assert_eq!(r.records[0]["rrname"], "split.example");
        assert_eq!(r.records[1]["answers"][0]["rdata"], "5.6.7.8");
        assert!(r.events.is_empty());
    }
}

#[test]
fn tcp_byte_by_byte_and_several_messages_per_call() {
    let stream: Vec<u8> = (0..5)
        .flat_map(|i| tcp_framed(&query(i, &format!("q{i}.example"), 1)))
        .chain([0, 0]) // a zero length is skipped, as Suricata does
        .chain(tcp_framed(&query(9, "last.example", 16)))
        .collect();
    let mut r = Run::tcp();
    r.feed(TS, &stream);
    assert_eq!(r.records.len(), 6);
    let mut r2 = Run::tcp();
    for b in &stream {
        r2.feed(TS, std::slice::from_ref(b));
    }
    assert_eq!(r2.records, r.records);
    assert_eq!(r.records[5]["rrtype"], "TXT");
    assert_eq!(r.records[5]["tx_id"], 5);
}

#[test]
fn tcp_gap_inside_a_message_skips_to_its_end() {
    let m1 = tcp_framed(&query(1, "one.example", 1));
    let m2 = tcp_framed(&query(2, "two.example", 1));
    let mut r = Run::tcp();
    r.feed(TS, m1.get(..6).unwrap());
    r.gap(TS, 4);
    r.feed(TS, &[m1.get(10..).unwrap(), &m2].concat());
    let names: Vec<Value> = r.records.iter().map(|d| d["rrname"].clone()).collect();
    assert_eq!(names, vec![json!("two.example")]);
    assert!(r.events.is_empty());
}

#[test]
fn tcp_gap_at_an_unknown_place_resyncs_on_a_dns_message() {
    let m2 = tcp_framed(&query(2, "two.example", 1));
    let mut r = Run::tcp();
    r.gap(TS, 100);
    r.feed(TS, b"garbage that is not dns at all....."); // dropped
    r.feed(TS, &m2);
    let names: Vec<Value> = r.records.iter().map(|d| d["rrname"].clone()).collect();
    assert_eq!(names, vec![json!("two.example")]);
}

#[test]
fn tcp_malformed_message_stops_the_direction() {
    let bad = tcp_framed(&[hdr(1, 0x0100, 1, 0, 0, 0), vec![0x40, 0, 0, 1, 0, 1]].concat());
    let good = tcp_framed(&query(2, "ok.example", 1));
    let mut r = Run::tcp();
    r.feed(TS, &[bad, good.clone()].concat());
    r.feed(TS, &good);
    assert!(r.records.is_empty());
    assert_eq!(r.event_names(), vec![events::MALFORMED_DATA]);
    // The other direction is still inspected.
    r.feed(TC, &tcp_framed(&a_answer(2, "ok.example", [1, 1, 1, 1])));
    assert_eq!(r.records.len(), 1);
}

#[test]
fn tcp_message_over_the_limit_is_skipped() {
    let limits = Limits {
        max_tcp_message: 40,
        ..Limits::default()
    };
    let big = tcp_framed(&query(1, &"x".repeat(50), 1));
    let small = tcp_framed(&query(2, "s.example", 1));
    let mut r = Run::with(State::new_tcp(&limits));
    // Split the big one across calls, with the small one right after it.
    let stream = [big, small].concat();
    r.feed(TS, stream.get(..1).unwrap());
    r.feed(TS, stream.get(1..30).unwrap());
    r.feed(TS, stream.get(30..).unwrap());
    assert_eq!(r.event_names(), vec![events::STATE_MEMCAP_REACHED]);
    assert_eq!(r.records.len(), 1);
    assert_eq!(r.records[0]["rrname"], "s.example");
    assert!(r.state.heap_bytes() < 4096);
}

// ---------------------------------------------------------------------------------------------
// Limits

#[test]
fn records_over_the_limit_are_not_kept() {
    let limits = Limits {
        max_records: 3,
        ..Limits::default()
    };
    let mut msg = hdr(1, 0x8180, 1, 5, 1, 0);
    msg.extend(question(&name("a.b"), 1));
    for i in 0..5 {
        msg.extend(rr(&PTR_Q, 1, 1, &[10, 0, 0, i]));
    }
    msg.extend(rr(&PTR_Q, 2, 1, &name("ns.a.b")));
    let mut r = Run::with(State::new_udp(&limits));
    r.feed(TC, &msg);
    assert_eq!(r.event_names(), vec![events::STATE_MEMCAP_REACHED]);
    assert_eq!(r.records[0]["answers"].as_array().unwrap().len(), 3);
    // The section after the cut one is still decoded.
    assert_eq!(r.records[0]["authorities"][0]["rdata"], "ns.a.b");
}

#[test]
fn decoded_bytes_per_message_are_capped() {
    let limits = Limits {
        max_message_bytes: 200,
        ..Limits::default()
    };
    // 40 answers whose owner expands to a 100-byte name through one pointer each.
    let long = format!("{}.{}", "a".repeat(50), "b".repeat(49));
    let mut msg = hdr(1, 0x8180, 1, 40, 0, 0);
    msg.extend(question(&name(&long), 1));
    for _ in 0..40 {
        msg.extend(rr(&PTR_Q, 1, 1, &[1, 2, 3, 4]));
    }
    let mut r = Run::with(State::new_udp(&limits));
    r.feed(TC, &msg);
    assert_eq!(r.event_names(), vec![events::STATE_MEMCAP_REACHED]);
    let kept = r.records[0]
        .get("answers")
        .map_or(0, |a| a.as_array().unwrap().len());
    assert_eq!(kept, 0, "the first answer already goes over the cap");
    assert_eq!(r.records[0]["rrname"].as_str().unwrap().len(), 100);
}

#[test]
fn unanswered_queries_are_bounded_and_flood_is_reported_once() {
    let limits = Limits {
        max_pending_queries: 4,
        ..Limits::default()
    };
    let mut r = Run::with(State::new_udp(&limits));
    for id in 0..10 {
        r.feed(TS, &query(id, "f.example", 1));
    }
    assert_eq!(r.event_names(), vec![events::FLOODED]);
    assert_eq!(r.records.len(), 10, "every query is still logged");
    // Query 0 was forgotten, query 9 is matched.
    r.feed(TC, &a_answer(0, "f.example", [1, 1, 1, 1]));
    r.feed(TC, &a_answer(9, "f.example", [1, 1, 1, 1]));
    assert_eq!(r.txs[10].query_tx_id(), None);
    assert_eq!(r.txs[11].query_tx_id(), Some(9));
}

#[test]
fn undrained_messages_are_bounded() {
    let limits = Limits {
        max_queued_messages: 3,
        ..Limits::default()
    };
    let mut st = State::new_tcp(&limits);
    let stream: Vec<u8> = (0..5)
        .flat_map(|i| tcp_framed(&query(i, "q.example", 1)))
        .collect();
    let mut ev = AppEvents::default();
    st.parse(TS, &stream, &mut ev);
    let names: Vec<&str> = ev.iter().map(|e| e.1).collect();
    assert_eq!(names, vec![events::STATE_MEMCAP_REACHED; 2]);
    let mut ids = Vec::new();
    st.drain(true, &mut |tx| ids.push(tx.dns_id()));
    assert_eq!(ids, vec![2, 3, 4], "the oldest are dropped");
}

#[test]
fn default_limits_are_documented_values() {
    let l = Limits::default();
    assert_eq!(l.max_name_len, 1025);
    assert_eq!(l.max_name_steps, 255);
    assert_eq!(l.max_records, 500);
    assert_eq!(l.max_tcp_message, 65_535);
    assert_eq!(l.max_pending_queries, 256);
}

// ---------------------------------------------------------------------------------------------
// Probing

#[test]
fn probing() {
    let q = query(1, "www.example.com", 1);
    assert_eq!(probe(&q, TS), Probe::Yes);
    assert_eq!(probe(&a_answer(1, "x.y", [1, 2, 3, 4]), TC), Probe::Yes);
    assert_eq!(probe(&q[..11], TS), Probe::No);
    assert_eq!(probe(&q[..q.len() - 1], TS), Probe::No);
    assert_eq!(
        probe(&hdr(1, 0x0100, 0, 0, 0, 0), TS),
        Probe::No,
        "no question"
    );
    let mut bad_class = q.clone();
    *bad_class.last_mut().unwrap() = 77;
    assert_eq!(probe(&bad_class, TS), Probe::No);
    assert_eq!(
        probe(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", TS),
        Probe::No
    );
    assert_eq!(
        probe(&[0x16, 3, 1, 0, 0xc8, 1, 0, 0, 0xc4, 3, 3, 0, 0, 0], TS),
        Probe::No
    );

    let framed = tcp_framed(&q);
    assert_eq!(probe_tcp(&framed, TS), Probe::Yes);
    assert_eq!(probe_tcp(&framed[..1], TS), Probe::NeedMore);
    assert_eq!(probe_tcp(&framed[..10], TS), Probe::NeedMore);
    assert_eq!(probe_tcp(&framed[..20], TS), Probe::NeedMore);
    assert_eq!(
        probe_tcp(&[0, 5, 1, 2, 3, 4, 5], TS),
        Probe::No,
        "too short for a header"
    );
    assert_eq!(probe_tcp(b"GET / HTTP/1.1\r\n", TS), Probe::No);
    // A long first name seen only in part (the engine probes at most 64 bytes).
    let long = tcp_framed(&query(1, &format!("{}.example.com", "a".repeat(60)), 1));
    assert_eq!(probe_tcp(&long[..64], TS), Probe::Yes);
    assert_eq!(probe_tcp(&long[..25], TS), Probe::NeedMore);
    assert_eq!(message_direction(&q, false), Some(TS));
    assert_eq!(
        message_direction(&a_answer(1, "x.y", [1, 2, 3, 4]), false),
        Some(TC)
    );
    assert_eq!(message_direction(&framed, true), Some(TS));
    assert_eq!(message_direction(&framed[..3], true), None);
    // Implausible counts seen in part.
    let mut junk = framed.clone();
    junk[6] = 0xff;
    assert_eq!(probe_tcp(&junk[..20], TS), Probe::No);
}

// ---------------------------------------------------------------------------------------------
// Robustness

fn hostile_limits() -> Limits {
    Limits {
        max_name_len: 100,
        max_name_steps: 20,
        max_records: 8,
        max_message_bytes: 2048,
        max_tcp_message: 512,
        max_pending_queries: 8,
        max_queued_messages: 8,
        max_queued_bytes: 16 * 1024,
    }
}

/// What a state may hold at most under `l`, by construction.
fn heap_bound(l: &Limits) -> usize {
    l.max_queued_bytes
        + 2 * (l.max_tcp_message + 2)
        + SPARE_TXS * 4 * KEEP_BUFFER_BYTES
        + 2 * (l.max_pending_queries + 1) * std::mem::size_of::<(u16, u64)>()
        + 2 * (l.max_queued_messages + 1) * std::mem::size_of::<Tx>()
}

/// Bytes that are DNS-like enough to reach deep into the decoder: a real message with
/// some bytes overwritten.
fn mutated_message() -> impl Strategy<Value = Vec<u8>> {
    let base = [
        hdr(1, 0x8180, 1, 3, 1, 1),
        question(&name("www.example.com"), 1),
        rr(
            &PTR_Q,
            5,
            1,
            &[b"\x03web".to_vec(), vec![0xc0, 16]].concat(),
        ),
        rr(&PTR_Q, 16, 1, b"\x02hi\x05there"),
        rr(&PTR_Q, 33, 1, &[0, 1, 0, 2, 0, 3, 0xc0, 12]),
        rr(
            &PTR_Q,
            6,
            1,
            &[vec![0xc0, 12, 0xc0, 16], vec![0; 20]].concat(),
        ),
        rr(&[0], 41, 0, &[]),
    ]
    .concat();
    proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6).prop_map(
        move |edits| {
            let mut m = base.clone();
            for (i, b) in edits {
                let at = i.index(m.len());
                m[at] = b;
            }
            m
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_datagrams_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600),
                                     to_client in any::<bool>()) {
        let dir = if to_client { TC } else { TS };
        let l = hostile_limits();
        let mut st = State::new_udp(&l);
        let mut ev = AppEvents::default();
        let _ = probe(&data, dir);
        st.parse(dir, &data, &mut ev);
        prop_assert!(st.heap_bytes() <= heap_bound(&l));
        st.drain(true, &mut |tx| { let _ = dns_json(tx); });
    }

    #[test]
    fn mutated_messages_never_panic(msg in mutated_message(), to_client in any::<bool>()) {
        let dir = if to_client { TC } else { TS };
        let mut st = State::new_udp(&Limits::default());
        let mut ev = AppEvents::default();
        st.parse(dir, &msg, &mut ev);
        st.drain(true, &mut |tx| {
            let _ = dns_json(tx);
            let _ = jsonwriter_record(tx);
            let _ = tx.all_names().count();
        });
    }

    #[test]
    fn random_tcp_streams_never_panic(
        chunks in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300), 0u64..40), 0..12),
        seed in mutated_message(),
    ) {
        let l = hostile_limits();
        let mut st = State::new_tcp(&l);
        let mut ev = AppEvents::default();
        // Start with a real message so the stream is framed at first, then random bytes
        // and gaps.
        st.parse(TS, &tcp_framed(&seed), &mut ev);
        for (to_client, data, gap) in chunks {
            let dir = if to_client { TC } else { TS };
            let _ = probe_tcp(&data, dir);
            if gap % 5 == 0 {
                st.gap(dir, gap, &mut ev);
            }
            st.parse(dir, &data, &mut ev);
            prop_assert!(st.heap_bytes() <= heap_bound(&l));
            ev.clear();
        }
        st.drain(true, &mut |tx| { let _ = dns_json(tx); });
    }

    #[test]
    fn tcp_split_points_do_not_change_the_result(
        msgs in proptest::collection::vec(mutated_message(), 1..4),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let stream: Vec<u8> = msgs.iter().flat_map(|m| tcp_framed(m)).collect();
        let mut whole = Run::tcp();
        whole.feed(TC, &stream);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut split = Run::tcp();
        let mut from = 0;
        for p in points.into_iter().chain([stream.len()]) {
            split.feed(TC, &stream[from..p]);
            from = p;
        }
        prop_assert_eq!(&whole.records, &split.records);
        // One call records at most MAX_APP_EVENTS events; compare when none were dropped.
        if whole.events.len() < crate::MAX_APP_EVENTS {
            prop_assert_eq!(&whole.events, &split.events);
        }
    }
}

/// Found by fuzzing: the step limit ended a name walk right after a label that took the name
/// past `max_name_len`, and the name was kept untruncated.
#[test]
fn name_cut_by_step_limit_still_honours_max_name_len() {
    let limits = Limits {
        max_name_len: 10,
        max_name_steps: 2,
        ..Limits::default()
    };
    let mut msg = hdr(0x0102, 0x0100, 1, 0, 0, 0);
    msg.extend_from_slice(b"\x08aaaaaaaa\xc0\x1b\x00\x01\x00\x01");
    msg.extend_from_slice(b"\x08bbbbbbbb\x00");
    let mut st = State::new_udp(&limits);
    let mut ev = AppEvents::default();
    st.parse(TS, &msg, &mut ev);
    let mut lens = Vec::new();
    st.drain(true, &mut |tx| {
        lens.extend(tx.questions().map(|(n, _, _)| n.len()));
    });
    assert!(!lens.is_empty());
    assert!(lens.iter().all(|l| *l <= 10), "{lens:?}");
}
