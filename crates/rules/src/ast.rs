//! The rule AST: what a Suricata rule says, with every option value parsed and checked, and
//! nothing about how it is matched. Content modifiers and sticky buffers are already resolved:
//! each detection item carries the buffer it inspects.

use std::net::IpAddr;

/// Where a rule came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// File name as given (or `<string>`).
    pub file: String,
    /// 1-based line of the rule's first line.
    pub line: u32,
}

/// A parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// What a match does.
    pub action: Action,
    /// The header's protocol.
    pub proto: Proto,
    /// Source addresses.
    pub src: AddrSpec,
    /// Source ports.
    pub src_ports: PortSpec,
    /// `<>`: the rule also matches with source and destination swapped.
    pub bidirectional: bool,
    /// Destination addresses.
    pub dst: AddrSpec,
    /// Destination ports.
    pub dst_ports: PortSpec,
    /// `sid`.
    pub sid: u32,
    /// `gid` (1 unless given).
    pub gid: u32,
    /// `rev` (0 unless given).
    pub rev: u32,
    /// `msg` with escapes removed.
    pub msg: String,
    /// `classtype` name.
    pub classtype: Option<String>,
    /// `priority`.
    pub priority: Option<u8>,
    /// `reference` values, as written (`type,id`).
    pub references: Vec<String>,
    /// `metadata` entries, each `key value` trimmed, in order (repeated keywords concatenated).
    pub metadata: Vec<String>,
    /// `target`.
    pub target: Option<Target>,
    /// Detection items in rule order, each bound to its buffer.
    pub items: Vec<Item>,
    /// Options that are not buffer inspections.
    pub opts: Vec<Opt>,
    /// Where the rule is.
    pub location: Location,
}

/// Rule action. `drop`/`reject*` are parsed and, in IDS mode, alert like `alert` with the action
/// recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `alert`
    Alert,
    /// `pass`
    Pass,
    /// `drop`
    Drop,
    /// `reject`, `rejectsrc`, `rejectdst`, `rejectboth`
    Reject,
}

/// The header's protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// `ip` (also `pkthdr`): every packet.
    Ip,
    /// `tcp`
    Tcp,
    /// `tcp-pkt`: TCP, packet payload only.
    TcpPkt,
    /// `tcp-stream`: TCP, stream only.
    TcpStream,
    /// `udp`
    Udp,
    /// `icmp` (v4 and v6, as Suricata)
    Icmp,
    /// `icmpv4` / `icmpv6`
    IcmpV4,
    /// `icmpv6`
    IcmpV6,
    /// An app-layer protocol name as header protocol (`http`, `dns`, `tls`, `ssh`, ...).
    App(AppName),
}

/// App-layer protocols that rules can name (header or `app-layer-protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppName {
    /// `http` / `http1`
    Http,
    /// `dns`
    Dns,
    /// `tls` / `ssl`
    Tls,
    /// `ssh`
    Ssh,
    /// `failed`: detection ran and found nothing.
    Failed,
    /// Known to Suricata but not parsed by vedette (ftp, smtp, smb, ...): such rules never match
    /// app-layer state; the name is kept for reporting.
    Other(OtherApp),
}

/// App-layer protocols vedette recognises by name but does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OtherApp {
    /// ftp / ftp-data
    Ftp,
    /// smtp
    Smtp,
    /// smb
    Smb,
    /// dcerpc
    Dcerpc,
    /// http2
    Http2,
    /// Anything else Suricata knows (imap, krb5, nfs, ntp, quic, rdp, sip, snmp, dhcp, ...).
    Misc,
}

/// An address expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddrSpec {
    /// `any`
    Any,
    /// `$NAME` (without the `$`), resolved when the rules are compiled.
    Var(String),
    /// An address or CIDR block (`10.0.0.0/8`, `::1`, `2001:db8::/32`); prefix 32/128 for a
    /// single address.
    Cidr(IpAddr, u8),
    /// `a.b.c.d-e.f.g.h`: an inclusive range.
    Range(IpAddr, IpAddr),
    /// `[x, y, ...]`
    List(Vec<AddrSpec>),
    /// `!x`
    Not(Box<AddrSpec>),
}

/// A port expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PortSpec {
    /// `any`
    Any,
    /// `$NAME` (without the `$`).
    Var(String),
    /// Inclusive range; a single port is `Range(p, p)`; `1024:` is `Range(1024, 65535)`.
    Range(u16, u16),
    /// `[x, y, ...]`
    List(Vec<PortSpec>),
    /// `!x`
    Not(Box<PortSpec>),
}

/// `target:src_ip|dest_ip`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `src_ip`
    Src,
    /// `dest_ip`
    Dst,
}

/// A numeric value that is either literal or the name of a `byte_extract`/`byte_math` variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Num {
    /// A literal.
    Lit(i64),
    /// A variable set earlier in the rule.
    Var(String),
}

/// An integer comparison as Suricata's numeric keywords write it: `N`, `!N`, `<N`, `<=N`,
/// `>N`, `>=N`, `N-M`, `N<>M` (both ranges exclusive), `!N-M`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `== a`
    Eq(u64),
    /// `!= a`
    Ne(u64),
    /// `< a`
    Lt(u64),
    /// `<= a`
    Le(u64),
    /// `> a`
    Gt(u64),
    /// `>= a`
    Ge(u64),
    /// `a < x < b`
    Between(u64, u64),
    /// not `a < x < b`
    NotBetween(u64, u64),
}

impl Cmp {
    /// Whether `x` satisfies the comparison.
    pub fn matches(&self, x: u64) -> bool {
        match *self {
            Cmp::Eq(a) => x == a,
            Cmp::Ne(a) => x != a,
            Cmp::Lt(a) => x < a,
            Cmp::Le(a) => x <= a,
            Cmp::Gt(a) => x > a,
            Cmp::Ge(a) => x >= a,
            Cmp::Between(a, b) => x > a && x < b,
            Cmp::NotBetween(a, b) => !(x > a && x < b),
        }
    }
}

/// The data a detection item inspects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buffer {
    /// Packet payload or reassembled stream (`pkt_data`, default).
    Payload,
    /// `file.data` / `file_data`: HTTP response body (request body to server), dechunked and
    /// decompressed.
    FileData,
    /// `http.uri` / `http_uri` / `uricontent`: normalised URI.
    HttpUri,
    /// `http.uri.raw` / `http_raw_uri`
    HttpUriRaw,
    /// `http.method` / `http_method`
    HttpMethod,
    /// `http.request_line`
    HttpRequestLine,
    /// `http.protocol`
    HttpProtocol,
    /// `http.header` / `http_header`: normalised headers of the direction.
    HttpHeader,
    /// `http.header.raw` / `http_raw_header`
    HttpHeaderRaw,
    /// `http.header_names`
    HttpHeaderNames,
    /// `http.cookie` / `http_cookie`
    HttpCookie,
    /// `http.user_agent` / `http_user_agent`
    HttpUserAgent,
    /// `http.host` / `http_host` (normalised, lower case)
    HttpHost,
    /// `http.host.raw` / `http_raw_host`
    HttpHostRaw,
    /// `http.accept`
    HttpAccept,
    /// `http.accept_enc`
    HttpAcceptEnc,
    /// `http.accept_lang`
    HttpAcceptLang,
    /// `http.connection`
    HttpConnection,
    /// `http.content_type`
    HttpContentType,
    /// `http.content_len`
    HttpContentLen,
    /// `http.referer`
    HttpReferer,
    /// `http.start`: request/response line plus headers
    HttpStart,
    /// `http.server`
    HttpServer,
    /// `http.location`
    HttpLocation,
    /// `http.request_header`: each request header as `name: value` (multi-buffer)
    HttpRequestHeader,
    /// `http.response_header`: each response header as `name: value` (multi-buffer)
    HttpResponseHeader,
    /// `http.request_body` / `http_client_body`
    HttpRequestBody,
    /// `http.response_body` / `http_server_body`
    HttpResponseBody,
    /// `http.stat_code` / `http_stat_code`
    HttpStatCode,
    /// `http.stat_msg` / `http_stat_msg`
    HttpStatMsg,
    /// `http.response_line`
    HttpResponseLine,
    /// `dns.query` / `dns_query` (multi-buffer: each query name)
    DnsQuery,
    /// `dns.queries.rrname` (Suricata 8; multi-buffer: question names of queries and responses)
    DnsQueriesRrname,
    /// `dns.answers.rrname` (Suricata 8; multi-buffer: owner names of a response's answers)
    DnsAnswersRrname,
    /// `dns.response.rrname` (Suricata 8; multi-buffer: every name of a response: questions,
    /// record owners, and names inside CNAME/NS/PTR/MX/SOA/SRV data)
    DnsResponseRrname,
    /// `tls.sni` / `tls_sni`
    TlsSni,
    /// `tls.cert_subject` / `tls_cert_subject`
    TlsCertSubject,
    /// `tls.cert_issuer` / `tls_cert_issuer`
    TlsCertIssuer,
    /// `tls.cert_serial` / `tls_cert_serial`
    TlsCertSerial,
    /// `tls.cert_fingerprint` / `tls_cert_fingerprint`
    TlsCertFingerprint,
    /// `tls.certs`: each certificate's DER (multi-buffer)
    TlsCerts,
    /// `tls.subjectaltname` (multi-buffer)
    TlsSubjectAltName,
    /// `ja3.hash` / `ja3_hash`
    Ja3Hash,
    /// `ja3.string` / `ja3_string`
    Ja3String,
    /// `ja3s.hash`
    Ja3sHash,
    /// `ja3s.string`
    Ja3sString,
    /// `ja4.hash`
    Ja4Hash,
}

/// A transform applied to a sticky buffer before inspection, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transform {
    /// `to_lowercase`
    ToLowercase,
    /// `to_uppercase`
    ToUppercase,
    /// `strip_whitespace`
    StripWhitespace,
    /// `compress_whitespace`
    CompressWhitespace,
    /// `url_decode`
    UrlDecode,
    /// `dotprefix`
    Dotprefix,
    /// `to_md5`
    ToMd5,
    /// `to_sha1`
    ToSha1,
    /// `to_sha256`
    ToSha256,
    /// `header_lowercase`
    HeaderLowercase,
    /// `strip_pseudo_headers`
    StripPseudoHeaders,
}

/// A buffer plus the transforms applied to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufferSel {
    /// The buffer.
    pub buffer: Buffer,
    /// Transforms, in order (empty for most rules).
    pub transforms: Vec<Transform>,
}

/// One detection item and the buffer it inspects.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Buffer (with transforms).
    pub buf: BufferSel,
    /// What is checked.
    pub check: Check,
    /// `prefilter` was given right after this item.
    pub prefilter: bool,
}

/// A check on a buffer.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// `content` with its modifiers.
    Content(Content),
    /// `pcre`
    Pcre(Pcre),
    /// `byte_test`
    ByteTest(ByteTest),
    /// `byte_jump`
    ByteJump(ByteJump),
    /// `byte_extract`
    ByteExtract(ByteExtract),
    /// `byte_math`
    ByteMath(ByteMath),
    /// `isdataat`
    IsDataAt(IsDataAt),
    /// `bsize`: the buffer's length.
    Bsize(Cmp),
    /// `urilen` (on http.uri, or http.uri.raw with `raw`).
    Urilen(Cmp),
    /// `absent`: the buffer does not exist (`absent` alone) or `absent: or_else`.
    Absent {
        /// `or_else`: also match when the buffer exists (then later checks decide).
        or_else: bool,
    },
}

/// `fast_pattern` on a content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FastPattern {
    /// `fast_pattern:only` (legacy; same as plain fast_pattern today).
    pub only: bool,
    /// `fast_pattern:offset,length`: only this part goes to the prefilter.
    pub chop: Option<(u16, u16)>,
}

/// `content` and its modifiers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Content {
    /// The bytes, with `|hex|` and escapes decoded. Never empty.
    pub pattern: Vec<u8>,
    /// `content:!"..."`
    pub negated: bool,
    /// `nocase`
    pub nocase: bool,
    /// `rawbytes` (accepted, no effect: vedette has no normalised payload buffer)
    pub rawbytes: bool,
    /// `depth`
    pub depth: Option<Num>,
    /// `offset`
    pub offset: Option<Num>,
    /// `distance` (relative to the previous match)
    pub distance: Option<Num>,
    /// `within` (relative to the previous match)
    pub within: Option<Num>,
    /// `startswith`: anchored at the start of the buffer (depth = length).
    pub startswith: bool,
    /// `endswith`: must end at the end of the buffer.
    pub endswith: bool,
    /// `fast_pattern`
    pub fast_pattern: Option<FastPattern>,
}

impl Content {
    /// True when `distance` or `within` ties this content to the previous match.
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

/// `pcre:"/.../flags"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pcre {
    /// The pattern between the slashes, unescaped only as far as the rule syntax requires.
    pub pattern: String,
    /// `!` before the pattern.
    pub negated: bool,
    /// `i`
    pub caseless: bool,
    /// `s`
    pub dotall: bool,
    /// `m`
    pub multiline: bool,
    /// `x`
    pub extended: bool,
    /// `A`
    pub anchored: bool,
    /// `E`
    pub dollar_endonly: bool,
    /// `G`
    pub ungreedy: bool,
    /// `R`: start after the previous match.
    pub relative: bool,
    /// `O`: no match limits (Suricata's; vedette keeps a hard cap anyway).
    pub override_limits: bool,
}

/// Byte order of `byte_*` keywords.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Endian {
    /// `big` (default)
    #[default]
    Big,
    /// `little`
    Little,
    /// `dce`: taken from the DCE/RPC header (unsupported by vedette; parsed for reporting).
    Dce,
}

/// `string,<base>` of `byte_*` keywords: the bytes are ASCII digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumBase {
    /// `hex`
    Hex,
    /// `dec`
    Dec,
    /// `oct`
    Oct,
}

/// `byte_test` operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOp {
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `=`
    Eq,
    /// `&`: any of the value's bits set
    And,
    /// `^`: bitwise xor non-zero
    Xor,
}

/// `byte_test:nbytes,[!]op,value,offset[,relative][,endian][,string,base][,bitmask N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteTest {
    /// 1..=8 bytes binary, 0..=23 as string (0: every digit from the offset on, as Suricata).
    pub nbytes: u8,
    /// The byte count comes from this byte_extract/byte_math variable (`nbytes` is then 0).
    pub nbytes_var: Option<String>,
    /// Operator.
    pub op: ByteOp,
    /// `!op`
    pub negated: bool,
    /// Value compared against.
    pub value: Num,
    /// Offset (may be negative with `relative`).
    pub offset: Num,
    /// `relative`
    pub relative: bool,
    /// Byte order.
    pub endian: Endian,
    /// `string,<base>`
    pub string: Option<NumBase>,
    /// `bitmask`
    pub bitmask: Option<u64>,
}

/// `byte_jump:nbytes,offset[,relative][,multiplier N][,endian][,string,base][,align]
/// [,from_beginning|from_end][,post_offset N][,bitmask N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteJump {
    /// Bytes to read: 1..=8 binary, 0..=23 as string (0: every digit from the offset on).
    pub nbytes: u8,
    /// The byte count comes from this byte_extract/byte_math variable (`nbytes` is then 0).
    pub nbytes_var: Option<String>,
    /// Offset.
    pub offset: Num,
    /// `relative`
    pub relative: bool,
    /// `multiplier`
    pub multiplier: u32,
    /// Byte order.
    pub endian: Endian,
    /// `string,<base>`
    pub string: Option<NumBase>,
    /// `align`: round the jump up to a multiple of 4.
    pub align: bool,
    /// `from_beginning`
    pub from_beginning: bool,
    /// `from_end`
    pub from_end: bool,
    /// `post_offset`
    pub post_offset: i32,
    /// `bitmask`
    pub bitmask: Option<u64>,
}

/// `byte_extract:nbytes,offset,name[,relative][,multiplier N][,endian][,string,base][,align N]
/// [,bitmask N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteExtract {
    /// Bytes to read.
    pub nbytes: u8,
    /// Offset.
    pub offset: i32,
    /// Variable name.
    pub name: String,
    /// `relative`
    pub relative: bool,
    /// `multiplier`
    pub multiplier: u32,
    /// Byte order.
    pub endian: Endian,
    /// `string,<base>`
    pub string: Option<NumBase>,
    /// `align N` (2 or 4)
    pub align: u8,
    /// `bitmask`
    pub bitmask: Option<u64>,
}

/// `byte_math` operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

/// `byte_math:bytes N, offset N, oper OP, rvalue V, result NAME[, relative][, endian E]
/// [, string B][, dce][, bitmask N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteMath {
    /// Bytes to read.
    pub nbytes: u8,
    /// Offset.
    pub offset: i32,
    /// Operator.
    pub op: MathOp,
    /// Right-hand value.
    pub rvalue: Num,
    /// Result variable.
    pub result: String,
    /// `relative`
    pub relative: bool,
    /// Byte order.
    pub endian: Endian,
    /// `string`
    pub string: Option<NumBase>,
    /// `bitmask`
    pub bitmask: Option<u64>,
}

/// `isdataat:[!]N[,relative][,rawbytes]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsDataAt {
    /// Position.
    pub pos: Num,
    /// `!`
    pub negated: bool,
    /// `relative`
    pub relative: bool,
}

/// `flow:` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowOpts {
    /// `established`
    pub established: bool,
    /// `not_established`
    pub not_established: bool,
    /// `stateless`
    pub stateless: bool,
    /// `to_server` / `from_client`
    pub to_server: bool,
    /// `to_client` / `from_server`
    pub to_client: bool,
    /// `only_stream`
    pub only_stream: bool,
    /// `no_stream`
    pub no_stream: bool,
    /// `only_frag`
    pub only_frag: bool,
    /// `no_frag`
    pub no_frag: bool,
}

/// `flowbits` commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flowbits {
    /// `set,name` (names joined by `|` set each)
    Set(Vec<String>),
    /// `unset,name`
    Unset(Vec<String>),
    /// `toggle,name`
    Toggle(Vec<String>),
    /// `isset,a|b` (any) or `isset,a&b` (all)
    IsSet {
        /// Names.
        names: Vec<String>,
        /// `&` (all) rather than `|` (any).
        all: bool,
    },
    /// `isnotset,a|b` (any not set) or `isnotset,a&b` (none set)
    IsNotSet {
        /// Names.
        names: Vec<String>,
        /// `&` rather than `|`.
        all: bool,
    },
    /// `noalert`
    NoAlert,
}

/// `xbits:cmd,name,track <ip_src|ip_dst|ip_pair>[,expire N]`: bits kept per host or host pair
/// across flows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xbits {
    /// The command.
    pub cmd: XbitCmd,
    /// Bit name.
    pub name: String,
    /// Whose bit.
    pub track: XbitTrack,
    /// Lifetime of a set bit in seconds (`expire`; Suricata's default is 30).
    pub expire: u32,
}

/// `xbits` commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XbitCmd {
    /// `set`
    Set,
    /// `unset`
    Unset,
    /// `toggle`
    Toggle,
    /// `isset`
    IsSet,
    /// `isnotset`
    IsNotSet,
}

/// Whose `xbits` a rule reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XbitTrack {
    /// The packet's source address.
    IpSrc,
    /// The packet's destination address.
    IpDst,
    /// The address pair, either way round.
    IpPair,
}

/// How `threshold`, `detection_filter` and threshold.config entries count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Track {
    /// `by_src`
    BySrc,
    /// `by_dst`
    ByDst,
    /// `by_rule`
    ByRule,
    /// `by_both`
    ByBoth,
    /// `by_flow`
    ByFlow,
    /// `by_either` (threshold.config `suppress` only): the IP may be source or destination.
    ByEither,
}

/// `threshold:type X, track T, count N, seconds S[, multiplier M]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdKind {
    /// `threshold`: alert every `count`-th match in the window.
    Threshold,
    /// `limit`: at most `count` alerts per window.
    Limit,
    /// `both`: one alert when `count` is reached within the window.
    Both,
    /// `backoff`: alert at count 1, then every `multiplier` × previous.
    Backoff {
        /// Multiplier.
        multiplier: u32,
    },
}

/// A `threshold` option (or a threshold.config `threshold` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    /// Type.
    pub kind: ThresholdKind,
    /// Tracking key.
    pub track: Track,
    /// Count.
    pub count: u32,
    /// Window in seconds (0 for backoff).
    pub seconds: u32,
}

/// `detection_filter:track T, count N, seconds S[, unique_on src_port|dst_port]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectionFilter {
    /// Tracking key.
    pub track: Track,
    /// Matches before alerts start.
    pub count: u32,
    /// Window.
    pub seconds: u32,
    /// `unique_on`: count distinct source (`true`) or destination ports.
    pub unique_on: Option<UniqueOn>,
}

/// `unique_on` of `detection_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UniqueOn {
    /// `src_port`
    SrcPort,
    /// `dst_port`
    DstPort,
}

/// TCP flag set of `flags` / `tcp.flags`: `[!|*|+]FLAGS[,IGNORED]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFlags {
    /// Flags named (bits as in the TCP header; `1` = CWR 0x80, `2` = ECE 0x40).
    pub flags: u8,
    /// Modifier.
    pub modifier: FlagsMod,
    /// Bits ignored in the comparison.
    pub ignore: u8,
}

/// Modifier of `flags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagsMod {
    /// exactly these (after ignoring)
    Exact,
    /// `+`: at least these
    Plus,
    /// `*`: any of these
    Any,
    /// `!`: not exactly these
    Not,
}

/// `fragbits:[!|*|+]MDR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragbits {
    /// Bits: 0x4 = R (reserved), 0x2 = D (don't fragment), 0x1 = M (more fragments).
    pub bits: u8,
    /// Modifier.
    pub modifier: FlagsMod,
}

/// Options that are not buffer inspections.
#[derive(Clone, Debug, PartialEq)]
pub enum Opt {
    /// `flow`
    Flow(FlowOpts),
    /// `flowbits`
    Flowbits(Flowbits),
    /// `xbits`
    Xbits(Xbits),
    /// `threshold`
    Threshold(Threshold),
    /// `detection_filter`
    DetectionFilter(DetectionFilter),
    /// `noalert`
    NoAlert,
    /// `dsize`
    Dsize(Cmp),
    /// `ttl`
    Ttl(Cmp),
    /// `itype`
    Itype(Cmp),
    /// `icode`
    Icode(Cmp),
    /// `icmp_id`
    IcmpId(u16),
    /// `icmp_seq`
    IcmpSeq(u16),
    /// `flags` / `tcp.flags`
    Flags(TcpFlags),
    /// `fragbits`
    Fragbits(Fragbits),
    /// `fragoffset:[!|<|>]N`
    Fragoffset(Cmp),
    /// `id` (IPv4 identification)
    IpId(u16),
    /// `ip_proto:[!|<|>]N` (names like `tcp` resolved to numbers)
    IpProto(Cmp),
    /// `ipopts:name` (`rr`, `eol`, `nop`, `ts`, `sec`, `esec`, `lsrr`, `lsrre`, `ssrr`, `satid`,
    /// `any`): the IPv4 option type byte, or `None` for `any`.
    Ipopts(Option<u8>),
    /// `sameip`
    Sameip,
    /// `seq`
    Seq(u32),
    /// `ack`
    Ack(u32),
    /// `window:[!]N`
    Window {
        /// Value.
        size: u16,
        /// `!`
        negated: bool,
    },
    /// `tcp.mss`
    TcpMss(Cmp),
    /// `app-layer-protocol:[!]name`
    AppLayerProtocol {
        /// Protocol.
        proto: AppName,
        /// `!`
        negated: bool,
    },
    /// `decode-event:<layer>.<name>` (Suricata's decoder event name, e.g. `ipv4.trunc_pkt`).
    DecodeEvent(String),
    /// `app-layer-event:<proto>.<name>`.
    AppLayerEvent(String),
    /// `stream-event:<name>`.
    StreamEvent(String),
    /// `ssl_version:[!]v[,v...]` bits: sslv2=1, sslv3=2, tls1.0=4, tls1.1=8, tls1.2=16,
    /// tls1.3=32.
    SslVersion {
        /// Bits required (any of).
        bits: u8,
        /// Bits that must not be the version.
        negated: u8,
    },
    /// `ssl_state:[!]client_hello|server_hello|client_keyx|server_keyx|unknown` (bits in that
    /// order; negated bits separately).
    SslState {
        /// Any of these states seen.
        bits: u8,
        /// None of these.
        negated: u8,
    },
    /// `tls.version:1.2` etc. (`0x0303` form).
    TlsVersion(u16),
    /// `tls.cert_chain_len`
    TlsCertChainLen(Cmp),
    /// `dns.opcode:[!]N`
    DnsOpcode(Cmp),
    /// `dns.rcode`
    DnsRcode(Cmp),
    /// `dns.rrtype`
    DnsRrtype(Cmp),
    /// `stream_size:side,op,N`.
    StreamSize {
        /// `server`, `client`, `both` or `either`.
        side: StreamSide,
        /// Comparison.
        cmp: Cmp,
    },
    /// A keyword accepted and without effect in IDS mode (`tag`, `replace`, `filestore`...):
    /// the keyword's name, for `rules check`.
    Ignored(&'static str),
}

/// `stream_size` side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamSide {
    /// server
    Server,
    /// client
    Client,
    /// both
    Both,
    /// either
    Either,
}
