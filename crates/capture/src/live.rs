//! Live capture on Linux: one AF_PACKET socket with a TPACKET_V3 receive ring per worker, all
//! joined in one fanout group.
//!
//! Zero-copy: packets are handed out as slices of the memory-mapped ring block the kernel filled;
//! the block goes back to the kernel once every packet in it was processed. The only copy is for
//! frames whose VLAN tag the kernel took out (it is put back into a per-socket scratch buffer of
//! `frame_bytes`, so decoding sees the frame as on the wire and as in a pcap).
//!
//! Fanout: by default a classic-BPF fanout program ([`FanoutMode::IpPair`]) picks the socket from
//! a symmetric hash of the IP address pair, the same rule `vedette analyze` shards by, so both
//! directions of a flow and every fragment of a datagram reach one worker whatever hash the NIC
//! computed. [`FanoutMode::Hash`] uses the kernel's flow hash instead (symmetric when the kernel
//! computes it, but a NIC's RSS hash can be one-directional).

use crate::bpf::{fanout_program, BpfProgram};
use crate::{KernelStats, Packet};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use vedette_types::{LinkType, Timestamp};

/// Errors opening or reading a live capture.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The process may not open packet sockets.
    #[error("capturing on {iface} needs CAP_NET_RAW: run as root or `setcap cap_net_raw,cap_net_admin+eip $(which vedette)`")]
    Permission {
        /// The interface.
        iface: String,
    },
    /// The interface does not exist.
    #[error("no such network interface: {0}")]
    NoInterface(String),
    /// The interface's link type is not one vedette decodes.
    #[error("{iface}: unsupported link type (ARPHRD {arphrd})")]
    LinkType {
        /// The interface.
        iface: String,
        /// Its ARPHRD_* type.
        arphrd: u32,
    },
    /// A ring or fanout setting is out of range.
    #[error("capture.live: {0}")]
    Config(String),
    /// A system call failed.
    #[error("{what} on {iface}: {source}")]
    Sys {
        /// The operation.
        what: &'static str,
        /// The interface.
        iface: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A BPF filter could not be compiled.
    #[error("{0}")]
    Filter(String),
}

/// How the kernel spreads packets over the sockets of a fanout group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanoutMode {
    /// vedette's classic-BPF program: a symmetric hash of the IP address pair.
    IpPair,
    /// PACKET_FANOUT_HASH with IPv4 defragmentation: the kernel's flow hash.
    Hash,
    /// PACKET_FANOUT_CPU: the CPU that received the packet (needs symmetric RSS on the NIC).
    Cpu,
}

/// Ring and socket settings of one live capture socket (all caps on kernel memory).
#[derive(Clone, Copy, Debug)]
pub struct LiveConfig {
    /// Bytes per ring block (a power of two multiple of the page size).
    pub block_bytes: u32,
    /// Blocks per ring; ring memory per worker is `block_bytes * block_count`.
    pub block_count: u32,
    /// Largest frame slot (also the snap length); a multiple of 16.
    pub frame_bytes: u32,
    /// Milliseconds after which the kernel hands over a block that is not full.
    pub block_timeout_ms: u32,
    /// Put the interface in promiscuous mode while capturing.
    pub promisc: bool,
    /// Fanout group id (unique per capture on a host).
    pub fanout_group: u16,
    /// Fanout mode; `None` for a socket outside any group (`sniff`).
    pub fanout: Option<FanoutMode>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            block_bytes: 1 << 20,
            block_count: 64,
            frame_bytes: 16384,
            block_timeout_ms: 100,
            promisc: false,
            fanout_group: 0,
            fanout: Some(FanoutMode::IpPair),
        }
    }
}

const ETH_P_ALL: u16 = 0x0003;
const ARPHRD_ETHER: u32 = 1;
const ARPHRD_LOOPBACK: u32 = 772;
const ARPHRD_NONE: u32 = 65534;

// Offsets in the TPACKET_V3 block descriptor and packet header (linux/if_packet.h); read as
// bytes so no struct is ever cast over kernel-written memory.
const BLK_STATUS: usize = 8;
const BLK_NUM_PKTS: usize = 12;
const BLK_FIRST_PKT: usize = 16;
const PKT_NEXT: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_STATUS: usize = 20;
const PKT_MAC: usize = 24;
const PKT_VLAN_TCI: usize = 32;
const PKT_VLAN_TPID: usize = 36;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;

fn rd_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

fn rd_u16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_ne_bytes)
}

/// The link type vedette decodes for an interface, from its ARPHRD type in sysfs.
pub fn interface_link_type(iface: &str) -> Result<LinkType, LiveError> {
    if iface.is_empty() || iface.contains('/') || iface.len() >= libc::IFNAMSIZ {
        return Err(LiveError::NoInterface(iface.to_owned()));
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{iface}/type"))
        .map_err(|_| LiveError::NoInterface(iface.to_owned()))?;
    let arphrd: u32 = text.trim().parse().unwrap_or(u32::MAX);
    match arphrd {
        // Linux loopback frames carry a (zeroed) Ethernet header.
        ARPHRD_ETHER | ARPHRD_LOOPBACK => Ok(LinkType::ETHERNET),
        ARPHRD_NONE => Ok(LinkType::RAW),
        _ => Err(LiveError::LinkType {
            iface: iface.to_owned(),
            arphrd,
        }),
    }
}

fn ifindex(iface: &str) -> Result<i32, LiveError> {
    let name =
        std::ffi::CString::new(iface).map_err(|_| LiveError::NoInterface(iface.to_owned()))?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
    let idx = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if idx == 0 {
        return Err(LiveError::NoInterface(iface.to_owned()));
    }
    i32::try_from(idx).map_err(|_| LiveError::NoInterface(iface.to_owned()))
}

/// One AF_PACKET socket with its mapped TPACKET_V3 ring.
pub struct LiveSocket {
    fd: OwnedFd,
    ring: *mut u8,
    ring_len: usize,
    block_bytes: usize,
    block_count: usize,
    next_block: usize,
    link_type: LinkType,
    iface: String,
    stats: KernelStats,
    /// Frame rebuilt with its VLAN tag (bounded by `frame_bytes` + 4).
    scratch: Vec<u8>,
}

// SAFETY: the ring mapping belongs to this socket alone; moving the owner to another thread moves
// the only access path with it.
unsafe impl Send for LiveSocket {}

impl LiveSocket {
    /// Opens a socket on `iface`, maps its ring, attaches `filter` and joins the fanout group.
    pub fn open(
        iface: &str,
        cfg: &LiveConfig,
        filter: Option<&BpfProgram>,
    ) -> Result<LiveSocket, LiveError> {
        let link_type = interface_link_type(iface)?;
        let idx = ifindex(iface)?;
        check_config(cfg)?;
        let sys = |what: &'static str| LiveError::Sys {
            what,
            iface: iface.to_owned(),
            source: std::io::Error::last_os_error(),
        };
        // Protocol 0: nothing is received until bind, so the filter is in place first.
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            let e = std::io::Error::last_os_error();
            if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) {
                return Err(LiveError::Permission {
                    iface: iface.to_owned(),
                });
            }
            return Err(LiveError::Sys {
                what: "socket(AF_PACKET)",
                iface: iface.to_owned(),
                source: e,
            });
        }
        // SAFETY: `raw` is a fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version)
            .map_err(|_| sys("PACKET_VERSION"))?;
        if let Some(f) = filter {
            attach_filter(&fd, f).map_err(|_| sys("SO_ATTACH_FILTER"))?;
        }
        let req = libc::tpacket_req3 {
            tp_block_size: cfg.block_bytes,
            tp_block_nr: cfg.block_count,
            tp_frame_size: cfg.frame_bytes,
            tp_frame_nr: (cfg.block_bytes / cfg.frame_bytes) * cfg.block_count,
            tp_retire_blk_tov: cfg.block_timeout_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)
            .map_err(|_| sys("PACKET_RX_RING"))?;
        let ring_len = cfg.block_bytes as usize * cfg.block_count as usize;
        // SAFETY: maps the ring the kernel just allocated for this descriptor; the result is
        // checked against MAP_FAILED and unmapped in Drop.
        let ring = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ring_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_LOCKED | libc::MAP_POPULATE,
                fd.as_raw_fd(),
                0,
            )
        };
        // MAP_LOCKED can fail under RLIMIT_MEMLOCK; retry without it.
        let ring = if ring == libc::MAP_FAILED {
            // SAFETY: as above, without locking the pages.
            unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    ring_len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_POPULATE,
                    fd.as_raw_fd(),
                    0,
                )
            }
        } else {
            ring
        };
        if ring == libc::MAP_FAILED {
            return Err(sys("mmap of the ring"));
        }
        let sock = LiveSocket {
            fd,
            ring: ring.cast(),
            ring_len,
            block_bytes: cfg.block_bytes as usize,
            block_count: cfg.block_count as usize,
            next_block: 0,
            link_type,
            iface: iface.to_owned(),
            stats: KernelStats::default(),
            scratch: Vec::with_capacity(cfg.frame_bytes as usize + 4),
        };
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value before the fields are set.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = idx;
        // SAFETY: `sll` is a valid sockaddr_ll and the length passed is its size.
        let rc = unsafe {
            libc::bind(
                sock.fd.as_raw_fd(),
                std::ptr::addr_of!(sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(sys("bind"));
        }
        if cfg.promisc {
            // SAFETY: packet_mreq is plain data; zero is valid for unused fields.
            let mut mreq: libc::packet_mreq = unsafe { std::mem::zeroed() };
            mreq.mr_ifindex = idx;
            mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
            setsockopt(
                &sock.fd,
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                &mreq,
            )
            .map_err(|_| sys("PACKET_ADD_MEMBERSHIP (promiscuous)"))?;
        }
        if let Some(fanout) = cfg.fanout {
            let (mode, program) = match fanout {
                FanoutMode::IpPair => (libc::PACKET_FANOUT_CBPF, Some(fanout_program())),
                FanoutMode::Hash => (
                    libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG,
                    None,
                ),
                FanoutMode::Cpu => (libc::PACKET_FANOUT_CPU, None),
            };
            let arg = (u32::from(cfg.fanout_group) | (mode << 16)) as libc::c_int;
            setsockopt(&sock.fd, libc::SOL_PACKET, libc::PACKET_FANOUT, &arg)
                .map_err(|_| sys("PACKET_FANOUT"))?;
            if let Some(p) = program {
                let prog = p.as_fprog();
                setsockopt(&sock.fd, libc::SOL_PACKET, libc::PACKET_FANOUT_DATA, &prog)
                    .map_err(|_| sys("PACKET_FANOUT_DATA (fanout program)"))?;
            }
        }
        Ok(sock)
    }

    /// Link type of the frames this socket returns.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Waits up to `timeout_ms` for the next filled block, hands each of its packets to `f`,
    /// then returns the block to the kernel. Returns the number of packets (0 on timeout or
    /// when interrupted by a signal).
    pub fn next_block<F: FnMut(&Packet<'_>)>(
        &mut self,
        timeout_ms: i32,
        mut f: F,
    ) -> Result<usize, LiveError> {
        if !self.block_ready() {
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN | libc::POLLERR,
                revents: 0,
            };
            // SAFETY: one valid pollfd, count 1.
            let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    return Ok(0);
                }
                return Err(LiveError::Sys {
                    what: "poll",
                    iface: self.iface.clone(),
                    source: e,
                });
            }
            if !self.block_ready() {
                return Ok(0);
            }
        }
        let base = self.next_block * self.block_bytes;
        // SAFETY: the block lies inside the mapping (`next_block < block_count`), and while its
        // status says TP_STATUS_USER the kernel does not write to it; the slice is dropped before
        // the status is handed back below.
        let block: &[u8] =
            unsafe { std::slice::from_raw_parts(self.ring.add(base), self.block_bytes) };
        let n = rd_u32(block, BLK_NUM_PKTS) as usize;
        let mut off = rd_u32(block, BLK_FIRST_PKT) as usize;
        let link_type = self.link_type;
        let mut done = 0;
        for _ in 0..n {
            let Some(hdr) = block.get(off..off + 40) else {
                break;
            };
            let snap = rd_u32(hdr, PKT_SNAPLEN) as usize;
            let mac = rd_u16(hdr, PKT_MAC) as usize;
            let Some(data) = block.get(off + mac..off + mac + snap) else {
                break;
            };
            let ts = Timestamp::from_parts(i64::from(rd_u32(hdr, PKT_SEC)), rd_u32(hdr, PKT_NSEC));
            let status = rd_u32(hdr, PKT_STATUS);
            let orig_len = rd_u32(hdr, PKT_LEN);
            let tci = rd_u32(hdr, PKT_VLAN_TCI) as u16;
            let has_vlan =
                status & TP_STATUS_VLAN_VALID != 0 && link_type == LinkType::ETHERNET && tci != 0;
            if has_vlan && data.len() >= 12 {
                // The kernel moved the tag into the header: put it back where it was.
                let tpid = if status & TP_STATUS_VLAN_TPID_VALID != 0 {
                    rd_u16(hdr, PKT_VLAN_TPID)
                } else {
                    0x8100
                };
                self.scratch.clear();
                self.scratch
                    .extend_from_slice(data.get(..12).unwrap_or(&[]));
                self.scratch.extend_from_slice(&tpid.to_be_bytes());
                self.scratch.extend_from_slice(&tci.to_be_bytes());
                self.scratch
                    .extend_from_slice(data.get(12..).unwrap_or(&[]));
                f(&Packet {
                    ts,
                    data: &self.scratch,
                    orig_len: orig_len.saturating_add(4),
                    link_type,
                });
            } else {
                f(&Packet {
                    ts,
                    data,
                    orig_len,
                    link_type,
                });
            }
            done += 1;
            let next = rd_u32(hdr, PKT_NEXT) as usize;
            if next == 0 {
                break;
            }
            off += next;
        }
        self.status(self.next_block)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.next_block = (self.next_block + 1) % self.block_count;
        Ok(done)
    }

    fn status(&self, block: usize) -> &AtomicU32 {
        // SAFETY: the status word is 4-byte aligned inside the mapping (blocks are page aligned);
        // the kernel and this process both access it as an atomic 32-bit word.
        unsafe {
            &*self
                .ring
                .add(block * self.block_bytes + BLK_STATUS)
                .cast::<AtomicU32>()
        }
    }

    fn block_ready(&self) -> bool {
        self.status(self.next_block).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// Kernel counters since the socket was opened (the kernel resets them on each read, so
    /// they are accumulated here).
    pub fn stats(&mut self) -> KernelStats {
        let mut st = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `st` is writable for `len` bytes and `len` is passed by pointer as required.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                std::ptr::addr_of_mut!(st).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            // tp_packets already includes the drops.
            self.stats.packets += u64::from(st.tp_packets);
            self.stats.drops += u64::from(st.tp_drops);
            self.stats.freezes += u64::from(st.tp_freeze_q_cnt);
        }
        self.stats
    }
}

impl Drop for LiveSocket {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region mapped in `open`; no slice of it outlives `&mut self`.
        unsafe {
            libc::munmap(self.ring.cast(), self.ring_len);
        }
    }
}

fn check_config(cfg: &LiveConfig) -> Result<(), LiveError> {
    let bad = |m: &str| Err(LiveError::Config(m.to_owned()));
    if !cfg.block_bytes.is_power_of_two() || cfg.block_bytes < 4096 || cfg.block_bytes > 1 << 28 {
        return bad("block_bytes must be a power of two between 4096 and 256 MiB");
    }
    if cfg.block_count == 0 || cfg.block_count > 65536 {
        return bad("block_count must be 1..=65536");
    }
    if cfg.frame_bytes < 128 || cfg.frame_bytes & 15 != 0 || cfg.frame_bytes > cfg.block_bytes {
        return bad("frame_bytes must be a multiple of 16, at least 128 and at most block_bytes");
    }
    Ok(())
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, v: &T) -> Result<(), ()> {
    // SAFETY: `v` points to a live value of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(())
    }
}

fn attach_filter(fd: &OwnedFd, f: &BpfProgram) -> Result<(), ()> {
    let prog = f.as_fprog();
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
}
