//! Classic BPF programs: tcpdump-syntax capture filters compiled by libpcap loaded at run time
//! (so vedette builds and runs without libpcap; only `--bpf` needs it), and the fanout program
//! that spreads packets over workers by a symmetric hash of the IP address pair.

use crate::live::LiveError;
use std::ffi::{c_char, c_int, c_uint, CStr, CString};
use vedette_types::LinkType;

/// Longest program the kernel accepts (BPF_MAXINSNS).
pub const MAX_BPF_INSNS: usize = 4096;

/// Longest filter expression accepted.
pub const MAX_FILTER_CHARS: usize = 65_536;

/// The libpcap file names tried, newest ABI first.
const LIBPCAP_NAMES: [&str; 3] = ["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"];

/// What to tell a user whose system has no libpcap.
const NO_LIBPCAP: &str = "BPF filters need libpcap at run time: apt-get install libpcap0.8";

/// A compiled classic BPF program.
#[derive(Clone, Debug)]
pub struct BpfProgram {
    insns: Vec<libc::sock_filter>,
}

/// libpcap's `struct bpf_program`.
#[repr(C)]
struct PcapProgram {
    bf_len: c_uint,
    bf_insns: *mut libc::sock_filter,
}

type OpenDead = unsafe extern "C" fn(c_int, c_int) -> *mut libc::c_void;
type Compile =
    unsafe extern "C" fn(*mut libc::c_void, *mut PcapProgram, *const c_char, c_int, u32) -> c_int;
type GetErr = unsafe extern "C" fn(*mut libc::c_void) -> *const c_char;
type FreeCode = unsafe extern "C" fn(*mut PcapProgram);
type Close = unsafe extern "C" fn(*mut libc::c_void);

/// libpcap's "netmask unknown" (only matters for `ip broadcast`).
const PCAP_NETMASK_UNKNOWN: u32 = 0xffff_ffff;

impl BpfProgram {
    /// Compiles a tcpdump-syntax `expr` for frames of `link` cut at `snaplen` bytes.
    pub fn compile(expr: &str, link: LinkType, snaplen: u32) -> Result<BpfProgram, LiveError> {
        if expr.len() > MAX_FILTER_CHARS {
            return Err(LiveError::Filter(format!(
                "BPF filter longer than {MAX_FILTER_CHARS} characters"
            )));
        }
        let cexpr = CString::new(expr)
            .map_err(|_| LiveError::Filter("BPF filter contains a NUL byte".into()))?;
        let dlt: c_int = match link {
            LinkType::ETHERNET => 1,
            // DLT_RAW as libpcap numbers it on Linux.
            _ => 12,
        };
        let lib = LIBPCAP_NAMES
            .iter()
            // SAFETY: loading libpcap runs its initialisers, which have no preconditions.
            .find_map(|n| unsafe { libloading::Library::new(n) }.ok())
            .ok_or_else(|| LiveError::Filter(NO_LIBPCAP.into()))?;
        let missing = |e: libloading::Error| LiveError::Filter(format!("{NO_LIBPCAP} ({e})"));
        // SAFETY: the symbol types match libpcap's documented C prototypes (pcap(3PCAP)).
        let (open_dead, compile, geterr, freecode, close) = unsafe {
            (
                lib.get::<OpenDead>(b"pcap_open_dead\0").map_err(missing)?,
                lib.get::<Compile>(b"pcap_compile\0").map_err(missing)?,
                lib.get::<GetErr>(b"pcap_geterr\0").map_err(missing)?,
                lib.get::<FreeCode>(b"pcap_freecode\0").map_err(missing)?,
                lib.get::<Close>(b"pcap_close\0").map_err(missing)?,
            )
        };
        let snap = c_int::try_from(snaplen).unwrap_or(c_int::MAX);
        // SAFETY: pcap_open_dead has no preconditions; NULL is checked.
        let p = unsafe { open_dead(dlt, snap) };
        if p.is_null() {
            return Err(LiveError::Filter("pcap_open_dead failed".into()));
        }
        let mut prog = PcapProgram {
            bf_len: 0,
            bf_insns: std::ptr::null_mut(),
        };
        // SAFETY: `p` is a live pcap handle, `prog` is writable, `cexpr` NUL-terminated.
        let rc = unsafe { compile(p, &mut prog, cexpr.as_ptr(), 1, PCAP_NETMASK_UNKNOWN) };
        let result = if rc != 0 {
            // SAFETY: pcap_geterr returns a NUL-terminated string owned by `p`, copied at once.
            let msg = unsafe { CStr::from_ptr(geterr(p)) }
                .to_string_lossy()
                .into_owned();
            Err(LiveError::Filter(format!("bad BPF filter '{expr}': {msg}")))
        } else if prog.bf_len as usize > MAX_BPF_INSNS || prog.bf_insns.is_null() {
            Err(LiveError::Filter(format!(
                "BPF filter '{expr}' compiles to more than {MAX_BPF_INSNS} instructions"
            )))
        } else {
            // SAFETY: on success libpcap filled `bf_len` instructions at `bf_insns`.
            let insns =
                unsafe { std::slice::from_raw_parts(prog.bf_insns, prog.bf_len as usize) }.to_vec();
            Ok(BpfProgram { insns })
        };
        // SAFETY: frees what pcap_compile allocated (a no-op when it failed) and the handle.
        unsafe {
            freecode(&mut prog);
            close(p);
        }
        result
    }

    /// Builds a program from raw instructions.
    pub fn from_insns(insns: Vec<libc::sock_filter>) -> BpfProgram {
        BpfProgram { insns }
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// True for an empty program.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The kernel's view of the program (valid while `self` lives).
    pub(crate) fn as_fprog(&self) -> libc::sock_fprog {
        libc::sock_fprog {
            len: self.insns.len() as u16,
            // The kernel only reads through this pointer during setsockopt.
            filter: self.insns.as_ptr().cast_mut(),
        }
    }
}

const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JA: u16 = 0x05; // BPF_JMP | BPF_JA
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const RET_A: u16 = 0x16; // BPF_RET | BPF_A
const TAX: u16 = 0x07; // BPF_MISC | BPF_TAX
const TXA: u16 = 0x87; // BPF_MISC | BPF_TXA
const XOR_X: u16 = 0xac; // BPF_ALU | BPF_XOR | BPF_X
const MUL_K: u16 = 0x24; // BPF_ALU | BPF_MUL | BPF_K
const RSH_K: u16 = 0x74; // BPF_ALU | BPF_RSH | BPF_K

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Loads a 32-bit word at `off` bytes into the network header, wherever the link header ends.
fn ld_net(off: u32) -> libc::sock_filter {
    ins(LD_W_ABS, 0, 0, (libc::SKF_NET_OFF as u32).wrapping_add(off))
}

/// The fanout program: XOR of the source and destination address words (IPv4 or IPv6), mixed
/// by a multiply, so both directions (and every fragment) of a conversation pick the same
/// socket. Non-IP packets go to the first socket.
pub fn fanout_program() -> BpfProgram {
    let proto = (libc::SKF_AD_OFF + libc::SKF_AD_PROTOCOL) as u32;
    let mut p = vec![
        ins(LD_W_ABS, 0, 0, proto), // 0: A = ethertype
        ins(JEQ_K, 1, 0, 0x0800),   // 1: IPv4 -> 3
        ins(JEQ_K, 6, 5, 0x86dd),   // 2: IPv6 -> 9, else -> 8
        ld_net(12),                 // 3: IPv4 source
        ins(TAX, 0, 0, 0),          // 4
        ld_net(16),                 // 5: IPv4 destination
        ins(XOR_X, 0, 0, 0),        // 6
        ins(JA, 0, 0, 25),          // 7: -> 33 (mix)
        ins(RET_K, 0, 0, 0),        // 8: not IP
        ld_net(8),                  // 9: IPv6 source, first word
        ins(TAX, 0, 0, 0),          // 10
    ];
    // 11..=31: the other seven address words of source and destination.
    for w in 1..8u32 {
        p.push(ld_net(8 + 4 * w));
        p.push(ins(XOR_X, 0, 0, 0));
        p.push(ins(TAX, 0, 0, 0));
    }
    p.push(ins(TXA, 0, 0, 0)); // 32
    p.push(ins(MUL_K, 0, 0, 0x9e37_79b1)); // 33: mix
    p.push(ins(TAX, 0, 0, 0));
    p.push(ins(RSH_K, 0, 0, 16));
    p.push(ins(XOR_X, 0, 0, 0));
    p.push(ins(RET_A, 0, 0, 0));
    BpfProgram { insns: p }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fanout_program_jumps_land_where_commented() {
        let p = fanout_program();
        assert_eq!(p.len(), 38);
        let at = |i: usize| p.insns.get(i).copied().map(|x| x.code);
        assert_eq!(at(33), Some(MUL_K));
        assert_eq!(at(8), Some(RET_K));
        assert_eq!(at(9), Some(LD_W_ABS));
        assert_eq!(at(32), Some(TXA));
    }

    #[test]
    fn filters_compile_when_libpcap_is_present_and_errors_are_clear() {
        match BpfProgram::compile("udp port 53", LinkType::ETHERNET, 65535) {
            Ok(p) => {
                assert!(p.len() > 4);
                let e = BpfProgram::compile("udp port banana", LinkType::ETHERNET, 65535)
                    .expect_err("bad filter");
                assert!(e.to_string().contains("bad BPF filter"), "{e}");
            }
            Err(e) => assert!(e.to_string().contains("libpcap"), "{e}"),
        }
    }
}
