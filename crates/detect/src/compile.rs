//! Rules to an immutable [`Engine`]: header sets resolved, checks grouped per buffer and
//! compiled, each rule given one prefilter pattern (its fast pattern) or put on the short list of
//! rules checked without one, and signatures ordered so flowbit setters run before readers.

use std::sync::Arc;

use hashbrown::HashMap;
use vedette_rules::ast::{
    self, Action, AddrSpec, AppName, Buffer, BufferSel, Check, Content, FlowOpts, Opt, PortSpec,
    Proto, Rule,
};
use vedette_rules::classification::Class;
use vedette_rules::threshold_config::Entry as ConfigEntry;
use vedette_types::Direction;

use crate::addr::{ip_set, port_set, IpSet, PortSet, Vars};
use crate::inspect::Program;
use crate::prefilter::{self, Prefilter, PrefilterBuilder};
use crate::threshold::ConfigRule;
use crate::txbuf::{buffer_info, Side, TxApp};
use crate::xbits::XbitOp;
use crate::CompileError;

/// Settings the compiler needs besides the rules.
#[derive(Clone, Debug)]
pub struct DetectConfig {
    /// Address and port variables.
    pub vars: Vars,
    /// Classification table (classtype → description, priority).
    pub classes: Vec<Class>,
    /// threshold.config entries.
    pub thresholds: Vec<ConfigEntry>,
    /// Most threshold/detection_filter counters per worker.
    pub max_threshold_entries: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            vars: Vars::suricata_defaults(),
            classes: vedette_rules::classification::builtin(),
            thresholds: Vec::new(),
            max_threshold_entries: 100_000,
        }
    }
}

/// What an alert says about its rule (EVE `alert` fields).
#[derive(Clone, Debug)]
pub struct SigInfo {
    /// Action as written.
    pub action: Action,
    /// `gid`
    pub gid: u32,
    /// `sid`
    pub sid: u32,
    /// `rev`
    pub rev: u32,
    /// `msg`
    pub msg: String,
    /// Classification description ("" when none).
    pub category: String,
    /// Priority (1 most severe).
    pub severity: u8,
    /// `metadata` grouped by key, in first-seen order: (key, values).
    pub metadata: Vec<(String, Vec<String>)>,
    /// `target`
    pub target: Option<ast::Target>,
    /// Where the rule was loaded from.
    pub location: ast::Location,
}

/// Header protocol requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProtoReq {
    Any,
    Tcp,
    Udp,
    Icmp,
    IcmpV4,
    IcmpV6,
}

impl ProtoReq {
    pub fn matches(self, p: u8) -> bool {
        match self {
            ProtoReq::Any => true,
            ProtoReq::Tcp => p == 6,
            ProtoReq::Udp => p == 17,
            ProtoReq::Icmp => p == 1 || p == 58,
            ProtoReq::IcmpV4 => p == 1,
            ProtoReq::IcmpV6 => p == 58,
        }
    }
}

/// Packet-level checks.
#[derive(Clone, Debug)]
pub(crate) enum PktCheck {
    Dsize(ast::Cmp),
    Ttl(ast::Cmp),
    Itype(ast::Cmp),
    Icode(ast::Cmp),
    IcmpId(u16),
    IcmpSeq(u16),
    Flags(ast::TcpFlags),
    Fragbits(ast::Fragbits),
    Fragoffset(ast::Cmp),
    IpId(u16),
    IpProto(ast::Cmp),
    Ipopts(Option<u8>),
    Sameip,
    Seq(u32),
    Ack(u32),
    Window(u16, bool),
    TcpMss(ast::Cmp),
    AppProto(AppName, bool),
    DecodeEvent(usize),
    AppLayerEvent(String),
    StreamSize(ast::StreamSide, ast::Cmp),
}

/// Transaction-level checks that are not buffers.
#[derive(Clone, Debug)]
pub(crate) enum TxCheck {
    SslVersion(u8, u8),
    SslState(u8, u8),
    TlsVersion(u16),
    CertChainLen(ast::Cmp),
    DnsOpcode(ast::Cmp),
    DnsRcode(ast::Cmp),
    DnsRrtype(ast::Cmp),
}

/// One buffer's checks.
pub(crate) struct BufCheck {
    pub sel: BufferSel,
    pub prog: Program,
    /// `absent` was given: Some(or_else).
    pub absent: Option<bool>,
}

/// Flowbit operations with names interned.
#[derive(Clone, Debug)]
pub(crate) enum BitOp {
    Set(Vec<u32>),
    Unset(Vec<u32>),
    Toggle(Vec<u32>),
    IsSet(Vec<u32>, bool),
    IsNotSet(Vec<u32>, bool),
}

/// When a signature is inspected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Every packet (payload rules see the packet's payload or stream data).
    Packet,
    /// App-layer transactions of `app` in `dir` (None: both directions), once the buffers are
    /// complete at `level`.
    Tx {
        app: TxApp,
        dir: Option<Direction>,
        level: u8,
    },
}

/// A compiled signature.
pub(crate) struct Sig {
    pub proto: ProtoReq,
    pub app: Option<AppName>,
    pub src: Arc<IpSet>,
    pub dst: Arc<IpSet>,
    pub sport: Arc<PortSet>,
    pub dport: Arc<PortSet>,
    pub bidir: bool,
    pub flow: FlowOpts,
    pub pkt: Vec<PktCheck>,
    pub tx: Vec<TxCheck>,
    pub bufs: Vec<BufCheck>,
    pub bits: Vec<BitOp>,
    pub xbits: Vec<XbitOp>,
    pub noalert: bool,
    pub stage: Stage,
    pub threshold: Option<ast::Threshold>,
    pub detection_filter: Option<ast::DetectionFilter>,
    pub config: Vec<ConfigRule>,
    /// Has a `decode-event` check: also inspected on packets without a valid IP header.
    pub decoder_event: bool,
}

/// A prefilter plus the rules that have no pattern, for one inspection group.
#[derive(Default)]
pub(crate) struct Group {
    /// One prefilter per buffer (with transforms) of the group.
    pub prefilters: Vec<(BufferSel, Prefilter)>,
    /// Rules checked without a prefilter match.
    pub always: Vec<u32>,
}

/// Packet rules without a pattern, split the way Suricata groups signatures (protocol, then
/// destination port), so a packet only meets the few that can apply to it.
#[derive(Default)]
pub(crate) struct PacketAlways {
    /// Any IP protocol.
    pub any: Vec<u32>,
    /// By protocol class (tcp, udp, icmp), rules without a short port list.
    pub by_proto: [Vec<u32>; 3],
    /// TCP and UDP rules with a short destination port list, by port.
    pub by_port: [HashMap<u16, Vec<u32>>; 2],
    /// Rules whose source is a short address list (IP reputation), by source address.
    pub by_src: HashMap<std::net::IpAddr, Vec<u32>>,
    /// Rules whose destination is a short address list, by destination address.
    pub by_dst: HashMap<std::net::IpAddr, Vec<u32>>,
}

/// Most addresses for which a rule is indexed by address.
const MAX_INDEXED_ADDRS: usize = 4096;

/// Most destination ports for which a rule is indexed by port.
const MAX_INDEXED_PORTS: usize = 64;

impl PacketAlways {
    fn add(&mut self, sig: &Sig, i: u32) {
        if !sig.bidir {
            if let Some(addrs) = sig.src.few(MAX_INDEXED_ADDRS) {
                for a in addrs {
                    self.by_src.entry(a).or_default().push(i);
                }
                return;
            }
            if let Some(addrs) = sig.dst.few(MAX_INDEXED_ADDRS) {
                for a in addrs {
                    self.by_dst.entry(a).or_default().push(i);
                }
                return;
            }
        }
        let class = match sig.proto {
            ProtoReq::Tcp => 0,
            ProtoReq::Udp => 1,
            ProtoReq::Icmp | ProtoReq::IcmpV4 | ProtoReq::IcmpV6 => 2,
            ProtoReq::Any => {
                self.any.push(i);
                return;
            }
        };
        if class < 2 && !sig.bidir {
            if let (Some(ports), Some(map)) = (
                sig.dport.few(MAX_INDEXED_PORTS),
                self.by_port.get_mut(class),
            ) {
                for p in ports {
                    map.entry(p).or_default().push(i);
                }
                return;
            }
        }
        if let Some(v) = self.by_proto.get_mut(class) {
            v.push(i);
        }
    }

    /// Calls `f` with each rule that may apply to a packet of `proto` from `src` to `dst`,
    /// `dport`.
    pub fn each(
        &self,
        proto: u8,
        src: std::net::IpAddr,
        dst: std::net::IpAddr,
        dport: u16,
        f: &mut dyn FnMut(u32),
    ) {
        self.any.iter().for_each(|&i| f(i));
        if let Some(v) = self.by_src.get(&src) {
            v.iter().for_each(|&i| f(i));
        }
        if let Some(v) = self.by_dst.get(&dst) {
            v.iter().for_each(|&i| f(i));
        }
        let class = match proto {
            6 => 0,
            17 => 1,
            1 | 58 => 2,
            _ => return,
        };
        if let Some(v) = self.by_proto.get(class) {
            v.iter().for_each(|&i| f(i));
        }
        if let Some(v) = self.by_port.get(class).and_then(|m| m.get(&dport)) {
            v.iter().for_each(|&i| f(i));
        }
    }
}

/// The compiled rule set, shared by all workers.
pub struct Engine {
    pub(crate) sigs: Vec<Sig>,
    pub(crate) infos: Vec<SigInfo>,
    /// Packet rules with a pattern: one prefilter per buffer.
    pub(crate) packet: Vec<(BufferSel, Prefilter)>,
    /// Packet rules without one.
    pub(crate) packet_always: PacketAlways,
    /// Per (app, direction): transaction groups.
    pub(crate) tx: [[Group; 2]; 3],
    pub(crate) flowbits: usize,
    pub(crate) max_threshold_entries: usize,
    pub(crate) has_packet_rules: bool,
}

/// Why a rule was not loaded.
#[derive(Clone, Debug)]
pub struct LoadIssue {
    /// Where.
    pub location: ast::Location,
    /// The rule's sid when it parsed.
    pub sid: Option<u32>,
    /// The reason.
    pub error: CompileError,
}

/// Result of loading rules.
pub struct LoadReport {
    /// Rules compiled.
    pub loaded: usize,
    /// Rules skipped (unsupported keyword or invalid for the engine).
    pub skipped: Vec<LoadIssue>,
    /// Warnings that did not stop a rule (unknown classtype, duplicate sid...).
    pub warnings: Vec<LoadIssue>,
}

struct Interner {
    map: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        let n = self.map.len() as u32;
        *self.map.entry(s.to_string()).or_insert(n)
    }
    fn ids(&mut self, v: &[String]) -> Vec<u32> {
        v.iter().map(|s| self.id(s)).collect()
    }
}

/// Caches for shared header sets (most rules use the same few variables).
#[derive(Default)]
struct SetCache {
    ips: HashMap<AddrSpec, Arc<IpSet>>,
    ports: HashMap<PortSpec, Arc<PortSet>>,
}

impl SetCache {
    fn ip(&mut self, s: &AddrSpec, vars: &Vars) -> Result<Arc<IpSet>, CompileError> {
        if let Some(v) = self.ips.get(s) {
            return Ok(v.clone());
        }
        let v = Arc::new(ip_set(s, vars)?);
        self.ips.insert(s.clone(), v.clone());
        Ok(v)
    }
    fn port(&mut self, s: &PortSpec, vars: &Vars) -> Result<Arc<PortSet>, CompileError> {
        if let Some(v) = self.ports.get(s) {
            return Ok(v.clone());
        }
        let v = Arc::new(port_set(s, vars)?);
        self.ports.insert(s.clone(), v.clone());
        Ok(v)
    }
}

fn tx_app(a: AppName) -> Option<TxApp> {
    match a {
        AppName::Http => Some(TxApp::Http),
        AppName::Dns => Some(TxApp::Dns),
        AppName::Tls => Some(TxApp::Tls),
        _ => None,
    }
}

/// A rule compiled but not yet placed in groups.
struct Compiled {
    sig: Sig,
    info: SigInfo,
    fast: Option<(BufferSel, Vec<u8>)>,
    sets_bits: bool,
    reads_bits: bool,
}

impl Engine {
    /// Compiles `rules`; rules the engine cannot evaluate exactly are skipped and reported.
    pub fn build(rules: Vec<Rule>, cfg: &DetectConfig) -> (Engine, LoadReport) {
        let mut report = LoadReport {
            loaded: 0,
            skipped: Vec::new(),
            warnings: Vec::new(),
        };
        let classes: HashMap<&str, &Class> =
            cfg.classes.iter().map(|c| (c.name.as_str(), c)).collect();
        // Class names are lower case (Suricata compares them without case).
        let mut config_rules: HashMap<(u32, u32), Vec<ConfigRule>> = HashMap::new();
        let mut global_config: Vec<ConfigRule> = Vec::new();
        let mut sets = SetCache::default();
        for e in &cfg.thresholds {
            let (gid, sid, rule) = match config_rule(e, &cfg.vars, &mut sets) {
                Ok(x) => x,
                Err(error) => {
                    report.warnings.push(LoadIssue {
                        location: ast::Location::default(),
                        sid: None,
                        error,
                    });
                    continue;
                }
            };
            if sid == 0 {
                global_config.push(rule);
            } else {
                config_rules.entry((gid, sid)).or_default().push(rule);
            }
        }
        let mut bits = Interner {
            map: HashMap::new(),
        };
        let mut seen: HashMap<(u32, u32), ast::Location> = HashMap::new();
        let mut compiled = Vec::with_capacity(rules.len());
        for rule in rules {
            let location = rule.location.clone();
            let sid = rule.sid;
            if let Some(first) = seen.get(&(rule.gid, rule.sid)) {
                report.skipped.push(LoadIssue {
                    location,
                    sid: Some(sid),
                    error: CompileError::DuplicateSid(first.file.clone(), first.line),
                });
                continue;
            }
            match compile_rule(rule, cfg, &classes, &mut bits, &mut sets) {
                Ok((mut c, warn)) => {
                    seen.insert((c.info.gid, c.info.sid), location.clone());
                    if let Some(w) = warn {
                        report.warnings.push(LoadIssue {
                            location,
                            sid: Some(sid),
                            error: w,
                        });
                    }
                    if let Some(v) = config_rules.get(&(c.info.gid, c.info.sid)) {
                        c.sig.config.extend(v.iter().cloned());
                    }
                    c.sig.config.extend(global_config.iter().cloned());
                    compiled.push(c);
                }
                Err(error) => report.skipped.push(LoadIssue {
                    location,
                    sid: Some(sid),
                    error,
                }),
            }
        }
        // Suricata's order: flowbit setters before readers, then by priority; stable otherwise.
        compiled.sort_by_key(|c| {
            let bits_rank = match (c.sets_bits, c.reads_bits) {
                (true, false) => 0,
                (true, true) => 1,
                (false, true) => 2,
                (false, false) => 3,
            };
            (bits_rank, c.info.severity)
        });
        report.loaded = compiled.len();
        let mut packet = PrefilterBuilder::default();
        let mut packet_always = Vec::new();
        let mut tx: [[(PrefilterBuilder, Vec<u32>); 2]; 3] = Default::default();
        let mut sigs = Vec::with_capacity(compiled.len());
        let mut infos = Vec::with_capacity(compiled.len());
        for (i, c) in compiled.into_iter().enumerate() {
            let i = i as u32;
            match c.sig.stage {
                Stage::Packet => match &c.fast {
                    Some((sel, pat)) => packet.add(sel, pat, i),
                    None => packet_always.push(i),
                },
                Stage::Tx { app, dir, .. } => {
                    let dirs: &[Direction] = match dir {
                        Some(Direction::ToServer) => &[Direction::ToServer],
                        Some(Direction::ToClient) => &[Direction::ToClient],
                        None => &[Direction::ToServer, Direction::ToClient],
                    };
                    for d in dirs {
                        if let Some(g) = tx.get_mut(app.index()).and_then(|a| a.get_mut(d.index()))
                        {
                            match &c.fast {
                                // A fast pattern in a buffer of the other side cannot be seen
                                // from this direction's buffers: check without prefilter.
                                Some((sel, pat)) if buffer_usable(sel.buffer, *d) => {
                                    g.0.add(sel, pat, i)
                                }
                                _ => g.1.push(i),
                            }
                        }
                    }
                }
            }
            sigs.push(c.sig);
            infos.push(c.info);
        }
        let has_packet_rules = !packet_always.is_empty() || !packet.is_empty();
        let mut always_index = PacketAlways::default();
        for &i in &packet_always {
            if let Some(sig) = sigs.get(i as usize) {
                always_index.add(sig, i);
            }
        }
        // Every automaton at once, so that their builds share the cores.
        let mut builders = vec![packet];
        let mut always_lists = Vec::with_capacity(6);
        for per_app in tx {
            for (b, always) in per_app {
                builders.push(b);
                always_lists.push(always);
            }
        }
        let mut built = prefilter::build_all(builders).into_iter();
        let packet = built.next().unwrap_or_default();
        let mut always_lists = always_lists.into_iter();
        let tx: [[Group; 2]; 3] = std::array::from_fn(|_| {
            std::array::from_fn(|_| Group {
                prefilters: built.next().unwrap_or_default(),
                always: always_lists.next().unwrap_or_default(),
            })
        });
        let engine = Engine {
            sigs,
            infos,
            packet,
            packet_always: always_index,
            tx,
            flowbits: bits.map.len(),
            max_threshold_entries: cfg.max_threshold_entries,
            has_packet_rules,
        };
        (engine, report)
    }

    /// Number of rules loaded.
    pub fn len(&self) -> usize {
        self.sigs.len()
    }

    /// True when no rule was loaded.
    pub fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }

    /// The rule behind signature index `i`.
    pub fn info(&self, i: u32) -> Option<&SigInfo> {
        self.infos.get(i as usize)
    }
}

fn buffer_usable(b: Buffer, d: Direction) -> bool {
    match buffer_info(b) {
        Some((_, Side::Request, _)) => d == Direction::ToServer,
        Some((_, Side::Response, _)) => d == Direction::ToClient,
        _ => true,
    }
}

fn config_rule(
    e: &ConfigEntry,
    vars: &Vars,
    sets: &mut SetCache,
) -> Result<(u32, u32, ConfigRule), CompileError> {
    Ok(match e {
        ConfigEntry::Threshold {
            gid,
            sid,
            threshold,
        }
        | ConfigEntry::EventFilter {
            gid,
            sid,
            threshold,
        } => (*gid, *sid, ConfigRule::Threshold(*threshold)),
        ConfigEntry::Suppress {
            gid,
            sid,
            track,
            ip,
        } => {
            let by = match (track, ip) {
                (Some(t), Some(ip)) => Some((*t, (*sets.ip(ip, vars)?).clone())),
                _ => None,
            };
            (*gid, *sid, ConfigRule::Suppress(by))
        }
        ConfigEntry::RateFilter {
            gid,
            sid,
            track,
            count,
            seconds,
            new_action,
            timeout,
        } => (
            *gid,
            *sid,
            ConfigRule::Rate {
                track: *track,
                count: *count,
                seconds: *seconds,
                new_action: *new_action,
                timeout: *timeout,
            },
        ),
    })
}

fn compile_rule(
    rule: Rule,
    cfg: &DetectConfig,
    classes: &HashMap<&str, &Class>,
    bits: &mut Interner,
    sets: &mut SetCache,
) -> Result<(Compiled, Option<CompileError>), CompileError> {
    let mut warning = None;
    let (proto, header_app) = match rule.proto {
        Proto::Ip => (ProtoReq::Any, None),
        Proto::Tcp | Proto::TcpPkt | Proto::TcpStream => (ProtoReq::Tcp, None),
        Proto::Udp => (ProtoReq::Udp, None),
        Proto::Icmp => (ProtoReq::Icmp, None),
        Proto::IcmpV4 => (ProtoReq::IcmpV4, None),
        Proto::IcmpV6 => (ProtoReq::IcmpV6, None),
        Proto::App(a) => {
            let p = match a {
                AppName::Dns => ProtoReq::Any,
                _ => ProtoReq::Tcp,
            };
            (p, Some(a))
        }
    };
    let unparsed = match header_app {
        Some(AppName::Ssh) => Some("ssh".to_string()),
        Some(AppName::Other(o)) => Some(format!("{o:?}").to_ascii_lowercase()),
        _ => None,
    };
    if let Some(name) = unparsed {
        return Err(CompileError::Unsupported(format!(
            "app-layer protocol {name} is not parsed by vedette"
        )));
    }
    let src = sets.ip(&rule.src, &cfg.vars)?;
    let dst = sets.ip(&rule.dst, &cfg.vars)?;
    let sport = sets.port(&rule.src_ports, &cfg.vars)?;
    let dport = sets.port(&rule.dst_ports, &cfg.vars)?;

    let mut flow = FlowOpts::default();
    let mut pkt = Vec::new();
    let mut txc = Vec::new();
    let mut bitops = Vec::new();
    let mut xbits = Vec::new();
    let mut noalert = false;
    let mut threshold = None;
    let mut detection_filter = None;
    let mut tx_opt_app: Option<TxApp> = None;
    for o in &rule.opts {
        match o {
            Opt::Flow(f) => flow = *f,
            Opt::Xbits(x) => xbits.push(XbitOp {
                cmd: x.cmd,
                // xbits live in their own namespace.
                id: bits.id(&format!("\0xbits:{}", x.name)),
                track: x.track,
                expire_ns: i64::from(x.expire) * 1_000_000_000,
            }),
            Opt::Flowbits(fb) => match fb {
                ast::Flowbits::Set(n) => bitops.push(BitOp::Set(bits.ids(n))),
                ast::Flowbits::Unset(n) => bitops.push(BitOp::Unset(bits.ids(n))),
                ast::Flowbits::Toggle(n) => bitops.push(BitOp::Toggle(bits.ids(n))),
                ast::Flowbits::IsSet { names, all } => {
                    bitops.push(BitOp::IsSet(bits.ids(names), *all))
                }
                ast::Flowbits::IsNotSet { names, all } => {
                    bitops.push(BitOp::IsNotSet(bits.ids(names), *all))
                }
                ast::Flowbits::NoAlert => noalert = true,
            },
            Opt::Threshold(t) => threshold = Some(*t),
            Opt::DetectionFilter(d) => detection_filter = Some(*d),
            Opt::NoAlert => noalert = true,
            Opt::Dsize(c) => pkt.push(PktCheck::Dsize(*c)),
            Opt::Ttl(c) => pkt.push(PktCheck::Ttl(*c)),
            Opt::Itype(c) => pkt.push(PktCheck::Itype(*c)),
            Opt::Icode(c) => pkt.push(PktCheck::Icode(*c)),
            Opt::IcmpId(v) => pkt.push(PktCheck::IcmpId(*v)),
            Opt::IcmpSeq(v) => pkt.push(PktCheck::IcmpSeq(*v)),
            Opt::Flags(f) => pkt.push(PktCheck::Flags(*f)),
            Opt::Fragbits(f) => pkt.push(PktCheck::Fragbits(*f)),
            Opt::Fragoffset(c) => pkt.push(PktCheck::Fragoffset(*c)),
            Opt::IpId(v) => pkt.push(PktCheck::IpId(*v)),
            Opt::IpProto(c) => pkt.push(PktCheck::IpProto(*c)),
            Opt::Ipopts(v) => pkt.push(PktCheck::Ipopts(*v)),
            Opt::Sameip => pkt.push(PktCheck::Sameip),
            Opt::Seq(v) => pkt.push(PktCheck::Seq(*v)),
            Opt::Ack(v) => pkt.push(PktCheck::Ack(*v)),
            Opt::Window { size, negated } => pkt.push(PktCheck::Window(*size, *negated)),
            Opt::TcpMss(c) => pkt.push(PktCheck::TcpMss(*c)),
            Opt::AppLayerProtocol { proto, negated } => {
                pkt.push(PktCheck::AppProto(*proto, *negated))
            }
            Opt::DecodeEvent(name) => {
                let idx = decode_event_index(name).ok_or_else(|| {
                    CompileError::Unsupported(format!("decode-event {name} is not raised"))
                })?;
                pkt.push(PktCheck::DecodeEvent(idx));
            }
            Opt::AppLayerEvent(name) => pkt.push(PktCheck::AppLayerEvent(app_event_name(name))),
            Opt::StreamEvent(name) => {
                return Err(CompileError::Unsupported(format!(
                    "stream-event:{name} (stream events are not raised)"
                )))
            }
            Opt::SslVersion { bits, negated } => {
                txc.push(TxCheck::SslVersion(*bits, *negated));
                tx_opt_app = Some(TxApp::Tls);
            }
            Opt::SslState { bits, negated } => {
                txc.push(TxCheck::SslState(*bits, *negated));
                tx_opt_app = Some(TxApp::Tls);
            }
            Opt::TlsVersion(v) => {
                txc.push(TxCheck::TlsVersion(*v));
                tx_opt_app = Some(TxApp::Tls);
            }
            Opt::TlsCertChainLen(c) => {
                txc.push(TxCheck::CertChainLen(*c));
                tx_opt_app = Some(TxApp::Tls);
            }
            Opt::DnsOpcode(c) => {
                txc.push(TxCheck::DnsOpcode(*c));
                tx_opt_app = Some(TxApp::Dns);
            }
            Opt::DnsRcode(c) => {
                txc.push(TxCheck::DnsRcode(*c));
                tx_opt_app = Some(TxApp::Dns);
            }
            Opt::DnsRrtype(c) => {
                txc.push(TxCheck::DnsRrtype(*c));
                tx_opt_app = Some(TxApp::Dns);
            }
            Opt::StreamSize { side, cmp } => pkt.push(PktCheck::StreamSize(*side, *cmp)),
            Opt::Ignored(_) => {}
        }
    }

    // Group items per buffer (with transforms), keeping rule order inside each group.
    let mut groups: Vec<(BufferSel, Vec<&Check>, Option<bool>)> = Vec::new();
    for it in &rule.items {
        let pos = match groups.iter().position(|g| g.0 == it.buf) {
            Some(p) => p,
            None => {
                groups.push((it.buf.clone(), Vec::new(), None));
                groups.len() - 1
            }
        };
        if let Some(g) = groups.get_mut(pos) {
            match &it.check {
                Check::Absent { or_else } => g.2 = Some(*or_else),
                c => g.1.push(c),
            }
        }
    }
    let mut bufs = Vec::with_capacity(groups.len());
    let mut tx_app_found: Option<TxApp> = tx_opt_app;
    let mut has_payload = false;
    let mut dir_req = false;
    let mut dir_resp = false;
    let mut level = [0u8; 2];
    for (sel, checks, absent) in groups {
        let prog = Program::compile(&checks).map_err(|e| CompileError::Inspect(e.to_string()))?;
        match buffer_info(sel.buffer) {
            None => has_payload = true,
            Some((app, side, lvl)) => {
                if let Some(prev) = tx_app_found {
                    if prev != app {
                        return Err(CompileError::Unsupported(
                            "buffers of two app-layer protocols in one rule".into(),
                        ));
                    }
                }
                tx_app_found = Some(app);
                match side {
                    Side::Request => {
                        dir_req = true;
                        level[0] = level[0].max(lvl);
                    }
                    Side::Response => {
                        dir_resp = true;
                        level[1] = level[1].max(lvl);
                    }
                    Side::Either => {
                        level[0] = level[0].max(lvl);
                        level[1] = level[1].max(lvl);
                    }
                }
            }
        }
        bufs.push(BufCheck { sel, prog, absent });
    }
    // A rule mixing payload content with app-layer buffers is a transaction rule whose payload
    // part is matched against the packet that brings the transaction to inspection, as
    // Suricata checks packet matches on a rule's first inspection of a transaction.
    let mixed = has_payload && tx_app_found.is_some();
    let header_tx = header_app.and_then(tx_app);
    let stage = match tx_app_found {
        Some(app) => {
            if let Some(h) = header_tx {
                if h != app {
                    return Err(CompileError::Invalid(
                        "buffers do not belong to the header's protocol".into(),
                    ));
                }
            }
            // The certificate chain is only seen from the server.
            let resp_opt = txc.iter().any(|c| matches!(c, TxCheck::CertChainLen(_)));
            let dir = if flow.to_server {
                Some(Direction::ToServer)
            } else if flow.to_client || dir_resp || resp_opt {
                Some(Direction::ToClient)
            } else if dir_req {
                Some(Direction::ToServer)
            } else {
                None
            };
            if dir == Some(Direction::ToServer) && dir_resp {
                return Err(CompileError::Invalid(
                    "to_server rule inspects response buffers".into(),
                ));
            }
            let lvl = match dir {
                Some(Direction::ToServer) => level[0],
                Some(Direction::ToClient) => level[1].max(1),
                None => level[0].max(level[1]),
            };
            Stage::Tx {
                app,
                dir,
                level: lvl.max(1),
            }
        }
        None => Stage::Packet,
    };
    let fast = pick_fast_pattern(&rule.items, mixed);
    let decoder_event = pkt.iter().any(|c| matches!(c, PktCheck::DecodeEvent(_)));
    let (category, severity) = match &rule.classtype {
        Some(ct) => match classes.get(ct.to_ascii_lowercase().as_str()) {
            Some(c) => (c.description.clone(), c.priority),
            None => {
                warning = Some(CompileError::Invalid(format!("unknown classtype {ct}")));
                (String::new(), 3)
            }
        },
        None => (String::new(), 3),
    };
    let severity = rule.priority.unwrap_or(severity);
    let sets_bits = bitops
        .iter()
        .any(|b| matches!(b, BitOp::Set(_) | BitOp::Unset(_) | BitOp::Toggle(_)))
        || xbits.iter().any(|x| !x.is_check());
    let reads_bits = bitops
        .iter()
        .any(|b| matches!(b, BitOp::IsSet(..) | BitOp::IsNotSet(..)))
        || xbits.iter().any(XbitOp::is_check);
    let mut metadata: Vec<(String, Vec<String>)> = Vec::new();
    for m in &rule.metadata {
        let (k, v) = match m.split_once(' ') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (m.trim(), ""),
        };
        match metadata.iter_mut().find(|(key, _)| key == k) {
            Some((_, vals)) => vals.push(v.to_string()),
            None => metadata.push((k.to_string(), vec![v.to_string()])),
        }
    }
    let sig = Sig {
        proto,
        app: header_app,
        src,
        dst,
        sport,
        dport,
        bidir: rule.bidirectional,
        flow,
        pkt,
        tx: txc,
        bufs,
        bits: bitops,
        xbits,
        noalert,
        stage,
        threshold,
        detection_filter,
        config: Vec::new(),
        decoder_event,
    };
    let info = SigInfo {
        action: rule.action,
        gid: rule.gid,
        sid: rule.sid,
        rev: rule.rev,
        msg: rule.msg,
        category,
        severity,
        metadata,
        target: rule.target,
        location: rule.location,
    };
    Ok((
        Compiled {
            sig,
            info,
            fast,
            sets_bits,
            reads_bits,
        },
        warning,
    ))
}

/// The prefilter pattern: the content marked `fast_pattern`, else the longest positive content
/// (first on ties), as Suricata picks it.
/// The rule's prefilter pattern. `tx_only`: a mixed rule is prefiltered on its transaction
/// buffers, since the transaction prefilters never see the packet payload.
fn pick_fast_pattern(items: &[ast::Item], tx_only: bool) -> Option<(BufferSel, Vec<u8>)> {
    let contents = items.iter().filter_map(|it| match &it.check {
        Check::Content(c) if !c.negated => {
            let packet_part = tx_only && it.buf.buffer == Buffer::Payload;
            (!packet_part).then_some((&it.buf, c))
        }
        _ => None,
    });
    // Buffers whose values repeat across most traffic (methods, status codes, protocol
    // strings) make poor prefilters: like Suricata's buffer priorities, any other buffer wins.
    let weak = |b: Buffer| {
        matches!(
            b,
            Buffer::HttpMethod | Buffer::HttpStatCode | Buffer::HttpProtocol | Buffer::HttpStatMsg
        )
    };
    let mut best: Option<(&BufferSel, &Content)> = None;
    for (sel, c) in contents {
        if c.fast_pattern.is_some() {
            best = Some((sel, c));
            break;
        }
        let better = match best {
            None => true,
            Some((bsel, b)) => match (weak(bsel.buffer), weak(sel.buffer)) {
                (true, false) => true,
                (false, true) => false,
                _ => c.pattern.len() > b.pattern.len(),
            },
        };
        if better {
            best = Some((sel, c));
        }
    }
    let (sel, c) = best?;
    let pat = match c.fast_pattern.and_then(|f| f.chop) {
        Some((off, len)) => c
            .pattern
            .get(usize::from(off)..usize::from(off) + usize::from(len))
            .unwrap_or(&c.pattern)
            .to_vec(),
        None => c.pattern.clone(),
    };
    Some((sel.clone(), pat))
}

fn decode_event_index(name: &str) -> Option<usize> {
    // Rules write `ipv4.trunc_pkt`; events are named `decoder.ipv4.trunc_pkt`.
    let want = name.trim().to_ascii_lowercase();
    vedette_decode::DecodeEvent::ALL
        .iter()
        .find(|e| {
            let n = e.name();
            n == want || n.strip_prefix("decoder.") == Some(want.as_str())
        })
        .map(|e| e.index())
}

fn app_event_name(name: &str) -> String {
    // `http.invalid_content_length_field_in_response` → the event as parsers raise it.
    let n = name.trim();
    let ev = n.split_once('.').map(|(_, e)| e).unwrap_or(n);
    ev.to_ascii_uppercase()
}
