//! Pure decoding of one DNS message (RFC 1035 wire format) into a reusable [`Message`].
//!
//! No state, no events: the caller turns the returned [`Outcome`] into app-layer events. The
//! decoding rules follow Suricata 7's parser so the same messages are accepted, rejected and
//! logged the same way:
//! - a message is rejected when its header counts cannot fit (every counted entry needs at
//!   least 2 bytes), or when a question (any message) or an answer/authority record (responses)
//!   cannot be decoded; additional records of responses and the record sections of requests
//!   are decoded as far as they go (Suricata 7 does not look at them);
//! - names: at most `max_name_steps` labels plus pointers are followed (a pointer loop ends
//!   there), a pointer to itself is an immediate loop, a name longer than `max_name_len`
//!   bytes is truncated; when the end of the name's encoding is known (a pointer was
//!   followed) these are recoverable and flagged, otherwise the message is rejected;
//! - records with empty rdata are dropped, and a TXT record becomes one record per
//!   character-string, as Suricata logs them.
//!
//! Everything decoded goes into one byte arena per message (names, strings, raw rdata), so a
//! message costs a handful of allocations that are reused when the message is recycled.

/// Length of the fixed header.
pub(crate) const HEADER_LEN: usize = 12;

/// Name flag: the name was longer than the limit and was truncated.
pub(crate) const NAME_TRUNCATED: u8 = 1;
/// Name flag: a compression pointer pointed at itself.
pub(crate) const NAME_INFINITE_LOOP: u8 = 2;
/// Name flag: more labels and pointers than the limit.
pub(crate) const NAME_LABEL_LIMIT: u8 = 4;

/// Record type numbers the parser decodes.
pub(crate) mod rrtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const NULL: u16 = 10;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const SSHFP: u16 = 44;
}

/// The message could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bad;

/// Limits applied while decoding one message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DecodeLimits {
    pub max_name_len: usize,
    pub max_name_steps: usize,
    pub max_records: usize,
    pub max_decoded_bytes: usize,
}

/// The fixed header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Header {
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    /// Reads the header at the start of `b`.
    pub fn parse(b: &[u8]) -> Option<Header> {
        Some(Header {
            id: be16(b, 0)?,
            flags: be16(b, 2)?,
            qdcount: be16(b, 4)?,
            ancount: be16(b, 6)?,
            nscount: be16(b, 8)?,
            arcount: be16(b, 10)?,
        })
    }

    /// Suricata's sanity check: each counted question or record takes at least 2 bytes.
    pub fn plausible(&self, msg_len: usize) -> bool {
        let entries = usize::from(self.qdcount)
            + usize::from(self.ancount)
            + usize::from(self.nscount)
            + usize::from(self.arcount);
        2 * entries <= msg_len
    }

    /// The QR bit: this is a response.
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
}

/// A byte range in a message's arena.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn between(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            len: end.saturating_sub(start) as u32,
        }
    }

    /// The bytes of this span in `arena` (empty if out of range, which cannot happen for
    /// spans made by this module).
    pub fn get(self, arena: &[u8]) -> &[u8] {
        let start = self.start as usize;
        arena.get(start..start + self.len as usize).unwrap_or(&[])
    }
}

/// A decoded name: its bytes and whether it was truncated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Name {
    pub span: Span,
    pub truncated: bool,
}

/// One question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Question {
    pub name: Name,
    pub rrtype: u16,
    pub rrclass: u16,
}

/// Which section a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The answer section.
    Answer,
    /// The authority section.
    Authority,
    /// The additional section.
    Additional,
}

/// SOA rdata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Soa {
    pub mname: Name,
    pub rname: Name,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

/// Decoded rdata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RData {
    /// A or AAAA: the raw address bytes (any length; Suricata logs "" for a wrong length).
    Addr(Span),
    /// CNAME, NS, PTR.
    Name(Name),
    /// MX: preference and exchange.
    Mx { preference: u16, exchange: Name },
    /// One TXT character-string.
    Txt(Span),
    /// NULL: the raw bytes.
    Null(Span),
    /// SOA.
    Soa(Soa),
    /// SRV.
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: Name,
    },
    /// SSHFP.
    Sshfp {
        algo: u8,
        fp_type: u8,
        fingerprint: Span,
    },
    /// Any other type: not decoded, only its length is kept.
    Other { len: u16 },
}

/// One resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub section: Section,
    pub name: Name,
    pub rrtype: u16,
    pub rrclass: u16,
    pub ttl: u32,
    pub data: RData,
}

/// A decoded message. Reused: [`Message::clear`] keeps the allocations.
#[derive(Clone, Debug, Default)]
pub(crate) struct Message {
    pub header: Header,
    pub arena: Vec<u8>,
    pub questions: Vec<Question>,
    pub records: Vec<Record>,
}

/// What decoding a message noticed besides its content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// `NAME_*` flags of the names in the sections Suricata decodes.
    pub name_flags: u8,
    /// Some questions or records were not kept (record or byte limit).
    pub over_limit: bool,
    /// The additional section of a response could not be decoded.
    pub invalid_additionals: bool,
}

impl Message {
    /// Forgets the content, keeping the allocations.
    pub fn clear(&mut self) {
        self.header = Header::default();
        self.arena.clear();
        self.questions.clear();
        self.records.clear();
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.questions.capacity() * std::mem::size_of::<Question>()
            + self.records.capacity() * std::mem::size_of::<Record>()
    }

    /// The bytes of a span.
    pub fn bytes(&self, span: Span) -> &[u8] {
        span.get(&self.arena)
    }

    /// Decodes `msg` into `self` (which is cleared first). `as_response` selects which
    /// sections must decode (see the module docs); it is the direction's expectation, not
    /// the QR bit.
    pub fn decode(
        &mut self,
        msg: &[u8],
        as_response: bool,
        lim: &DecodeLimits,
    ) -> Result<Outcome, Bad> {
        self.clear();
        let header = Header::parse(msg).ok_or(Bad)?;
        if !header.plausible(msg.len()) {
            return Err(Bad);
        }
        self.header = header;
        let mut out = Outcome::default();
        let mut pos = HEADER_LEN;
        for _ in 0..header.qdcount {
            let start = self.arena.len();
            let (p, name) = parse_name(msg, pos, msg.len(), &mut self.arena, lim)?;
            let rrtype = be16(msg, p).ok_or(Bad)?;
            let rrclass = be16(msg, p + 2).ok_or(Bad)?;
            pos = p + 4;
            out.name_flags |= name.1;
            if self.questions.len() < lim.max_records && self.arena.len() <= lim.max_decoded_bytes {
                self.questions.push(Question {
                    name: name.0,
                    rrtype,
                    rrclass,
                });
            } else {
                self.arena.truncate(start);
                out.over_limit = true;
            }
        }
        let sections = [
            (Section::Answer, header.ancount),
            (Section::Authority, header.nscount),
            (Section::Additional, header.arcount),
        ];
        for (section, count) in sections {
            let required = as_response && section != Section::Additional;
            let mut flags = 0u8;
            match self.parse_records(msg, pos, count, section, lim, &mut flags, &mut out) {
                Ok(p) => {
                    pos = p;
                    if required {
                        out.name_flags |= flags;
                    }
                }
                Err(Bad) if required => return Err(Bad),
                Err(Bad) => {
                    // Suricata 7 does not decode this section: keep what decoded, stop here.
                    if as_response {
                        out.invalid_additionals = true;
                    }
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Decodes `count` records starting at `pos`; returns the position after them. On error
    /// the records of this section decoded so far are kept.
    #[allow(clippy::too_many_arguments)] // one section's inputs and outputs, all distinct
    fn parse_records(
        &mut self,
        msg: &[u8],
        mut pos: usize,
        count: u16,
        section: Section,
        lim: &DecodeLimits,
        flags: &mut u8,
        out: &mut Outcome,
    ) -> Result<usize, Bad> {
        let mut kept = 0usize;
        for _ in 0..count {
            let mark = self.arena.len();
            let records_mark = self.records.len();
            let r = self.parse_record(msg, pos, section, lim, flags);
            match r {
                Ok(p) => pos = p,
                Err(Bad) => {
                    self.arena.truncate(mark);
                    self.records.truncate(records_mark);
                    return Err(Bad);
                }
            }
            let added = self.records.len() - records_mark;
            if added == 0 {
                // Empty rdata: Suricata keeps no record; drop the owner name too.
                self.arena.truncate(mark);
                continue;
            }
            if kept + added > lim.max_records || self.arena.len() > lim.max_decoded_bytes {
                self.arena.truncate(mark);
                self.records.truncate(records_mark);
                out.over_limit = true;
                continue;
            }
            kept += added;
        }
        Ok(pos)
    }

    /// Decodes one record at `pos` (pushing 0, 1 or, for TXT, several records); returns the
    /// position after it.
    fn parse_record(
        &mut self,
        msg: &[u8],
        pos: usize,
        section: Section,
        lim: &DecodeLimits,
        flags: &mut u8,
    ) -> Result<usize, Bad> {
        let (p, (name, f)) = parse_name(msg, pos, msg.len(), &mut self.arena, lim)?;
        *flags |= f;
        let rrtype = be16(msg, p).ok_or(Bad)?;
        let rrclass = be16(msg, p + 2).ok_or(Bad)?;
        let ttl = be32(msg, p + 4).ok_or(Bad)?;
        let rdlen = be16(msg, p + 8).ok_or(Bad)?;
        let rd_start = p + 10;
        let rd_end = rd_start + usize::from(rdlen);
        let rdata = msg.get(rd_start..rd_end).ok_or(Bad)?;
        if rdata.is_empty() {
            return Ok(rd_end);
        }
        let push = |arena_data: RData, records: &mut Vec<Record>| {
            records.push(Record {
                section,
                name,
                rrtype,
                rrclass,
                ttl,
                data: arena_data,
            })
        };
        let data = match rrtype {
            rrtype::A | rrtype::AAAA => RData::Addr(self.copy(rdata)),
            rrtype::CNAME | rrtype::NS | rrtype::PTR => {
                let (_, (n, f)) = parse_name(msg, rd_start, rd_end, &mut self.arena, lim)?;
                *flags |= f;
                RData::Name(n)
            }
            rrtype::MX => {
                let preference = be16(rdata, 0).ok_or(Bad)?;
                let (_, (n, f)) = parse_name(msg, rd_start + 2, rd_end, &mut self.arena, lim)?;
                *flags |= f;
                RData::Mx {
                    preference,
                    exchange: n,
                }
            }
            rrtype::SOA => {
                let (p1, (mname, f1)) = parse_name(msg, rd_start, rd_end, &mut self.arena, lim)?;
                let (p2, (rname, f2)) = parse_name(msg, p1, rd_end, &mut self.arena, lim)?;
                *flags |= f1 | f2;
                // The numbers must lie inside the rdata; a name that left it through a
                // pointer resumes inside it.
                let nums = msg.get(p2..rd_end).ok_or(Bad)?;
                RData::Soa(Soa {
                    mname,
                    rname,
                    serial: be32(nums, 0).ok_or(Bad)?,
                    refresh: be32(nums, 4).ok_or(Bad)?,
                    retry: be32(nums, 8).ok_or(Bad)?,
                    expire: be32(nums, 12).ok_or(Bad)?,
                    minimum: be32(nums, 16).ok_or(Bad)?,
                })
            }
            rrtype::SRV => {
                let priority = be16(rdata, 0).ok_or(Bad)?;
                let weight = be16(rdata, 2).ok_or(Bad)?;
                let port = be16(rdata, 4).ok_or(Bad)?;
                let (_, (target, f)) = parse_name(msg, rd_start + 6, rd_end, &mut self.arena, lim)?;
                *flags |= f;
                RData::Srv {
                    priority,
                    weight,
                    port,
                    target,
                }
            }
            rrtype::TXT => {
                // One record per character-string. The first must decode; decoding stops
                // quietly at a later string that does not fit.
                let mut rest = rdata;
                let mut n = 0usize;
                while let Some((&len, tail)) = rest.split_first() {
                    let Some(s) = tail.get(..usize::from(len)) else {
                        break;
                    };
                    rest = tail.get(usize::from(len)..).unwrap_or(&[]);
                    let span = self.copy(s);
                    push(RData::Txt(span), &mut self.records);
                    n += 1;
                }
                if n == 0 {
                    return Err(Bad);
                }
                return Ok(rd_end);
            }
            rrtype::NULL => RData::Null(self.copy(rdata)),
            rrtype::SSHFP => {
                let (&algo, tail) = rdata.split_first().ok_or(Bad)?;
                let (&fp_type, fp) = tail.split_first().ok_or(Bad)?;
                RData::Sshfp {
                    algo,
                    fp_type,
                    fingerprint: self.copy(fp),
                }
            }
            _ => RData::Other { len: rdlen },
        };
        push(data, &mut self.records);
        Ok(rd_end)
    }

    fn copy(&mut self, b: &[u8]) -> Span {
        let start = self.arena.len();
        self.arena.extend_from_slice(b);
        Span::between(start, self.arena.len())
    }
}

/// Where a decoded name goes: the message arena, or nowhere (probing only validates).
pub(crate) trait NameOut {
    fn len(&self) -> usize;
    fn push(&mut self, b: u8);
    fn extend(&mut self, b: &[u8]);
    fn truncate(&mut self, len: usize);
}

impl NameOut for Vec<u8> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn push(&mut self, b: u8) {
        Vec::push(self, b);
    }
    fn extend(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
}

/// Counts a name's bytes without keeping them.
#[derive(Default)]
pub(crate) struct Discard(pub usize);

impl NameOut for Discard {
    fn len(&self) -> usize {
        self.0
    }
    fn push(&mut self, _b: u8) {
        self.0 += 1;
    }
    fn extend(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
    fn truncate(&mut self, len: usize) {
        self.0 = self.0.min(len);
    }
}

/// Decodes the name starting at `start`, whose labels (before any pointer) must end by `end`;
/// pointers may go anywhere in `msg`. Appends the dotted name to `out` and returns the
/// position after the name's encoding, the name and its `NAME_*` flags.
///
/// Loops cannot hang: every label and pointer counts as a step and decoding stops after
/// `max_name_steps`; the name kept never exceeds `max_name_len` bytes.
pub(crate) fn parse_name<O: NameOut>(
    msg: &[u8],
    start: usize,
    end: usize,
    out: &mut O,
    lim: &DecodeLimits,
) -> Result<(usize, (Name, u8)), Bad> {
    let base = out.len();
    let mut pos = start;
    let mut bound = end.min(msg.len());
    let mut pivot: Option<usize> = None;
    let mut steps = 0usize;
    let mut flags = 0u8;
    loop {
        // Running off the end of the input ends the name (the caller then fails to read
        // what follows, if anything must follow).
        if pos >= bound {
            break;
        }
        let len = *msg.get(pos).ok_or(Bad)?;
        if len == 0 {
            pos += 1;
            break;
        }
        match len & 0xc0 {
            0x00 => {
                let l = usize::from(len);
                if pos + 1 + l > bound {
                    return Err(Bad);
                }
                let label = msg.get(pos + 1..pos + 1 + l).ok_or(Bad)?;
                if flags & NAME_TRUNCATED == 0 {
                    if out.len() > base {
                        out.push(b'.');
                    }
                    out.extend(label);
                }
                pos += 1 + l;
            }
            0xc0 => {
                if pos + 2 > bound {
                    return Err(Bad);
                }
                let low = *msg.get(pos + 1).ok_or(Bad)?;
                let offset = usize::from(u16::from_be_bytes([len, low]) & 0x3fff);
                if offset > msg.len() {
                    return Err(Bad);
                }
                // Suricata detects a pointer to itself only when decoding the message's
                // tail (not inside rdata); elsewhere the step limit ends the loop.
                if offset == pos && bound == msg.len() {
                    flags |= NAME_INFINITE_LOOP;
                    if pivot.is_some() {
                        break;
                    }
                    return Err(Bad);
                }
                if pivot.is_none() {
                    pivot = Some(pos + 2);
                }
                pos = offset;
                bound = msg.len();
            }
            // 0x40 and 0x80: extended and reserved label types.
            _ => return Err(Bad),
        }
        steps += 1;
        if steps > lim.max_name_steps {
            flags |= NAME_LABEL_LIMIT;
            if pivot.is_some() {
                flags |= NAME_TRUNCATED;
                break;
            }
            return Err(Bad);
        }
        if out.len() - base > lim.max_name_len {
            out.truncate(base + lim.max_name_len);
            flags |= NAME_TRUNCATED;
            // Without a pointer the end of the encoding is still ahead: keep walking.
            if pivot.is_some() {
                break;
            }
        }
    }
    // The step limit can end the walk right after a label that went past the cap.
    if out.len() - base > lim.max_name_len {
        out.truncate(base + lim.max_name_len);
        flags |= NAME_TRUNCATED;
    }
    let name = Name {
        span: Span::between(base, out.len()),
        truncated: flags & NAME_TRUNCATED != 0,
    };
    Ok((pivot.unwrap_or(pos), (name, flags)))
}

/// Big-endian u16 at `pos`.
pub(crate) fn be16(b: &[u8], pos: usize) -> Option<u16> {
    let s = b.get(pos..pos.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

/// Big-endian u32 at `pos`.
fn be32(b: &[u8], pos: usize) -> Option<u32> {
    let s = b.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}
