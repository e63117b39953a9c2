//! Byte builders for TLS records and handshake messages used by the tests.

pub(super) const HANDSHAKE: u8 = 22;
pub(super) const CCS: u8 = 20;
pub(super) const ALERT: u8 = 21;
pub(super) const APPDATA: u8 = 23;
pub(super) const HEARTBEAT: u8 = 24;

/// TLS records of type `ct` carrying `body`, split at 16 KiB.
pub(super) fn rec(ct: u8, ver: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunks: Vec<&[u8]> = body.chunks(16_384).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    for c in chunks {
        out.push(ct);
        out.extend_from_slice(&ver.to_be_bytes());
        out.extend_from_slice(&(c.len() as u16).to_be_bytes());
        out.extend_from_slice(c);
    }
    out
}

/// A handshake message: type, 24-bit length, body.
pub(super) fn hs(t: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![t];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

fn u16s(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn with_len16(b: &[u8]) -> Vec<u8> {
    let mut out = (b.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(b);
    out
}

fn with_len8(b: &[u8]) -> Vec<u8> {
    let mut out = vec![b.len() as u8];
    out.extend_from_slice(b);
    out
}

pub(super) fn ext_sni(name: &[u8]) -> (u16, Vec<u8>) {
    let mut entry = vec![0u8];
    entry.extend_from_slice(&with_len16(name));
    (0, with_len16(&entry))
}

pub(super) fn ext_groups(g: &[u16]) -> (u16, Vec<u8>) {
    (10, with_len16(&u16s(g)))
}

pub(super) fn ext_point_formats(p: &[u8]) -> (u16, Vec<u8>) {
    (11, with_len8(p))
}

pub(super) fn ext_sigalgs(s: &[u16]) -> (u16, Vec<u8>) {
    (13, with_len16(&u16s(s)))
}

pub(super) fn ext_alpn(names: &[&[u8]]) -> (u16, Vec<u8>) {
    let list: Vec<u8> = names.iter().flat_map(|n| with_len8(n)).collect();
    (16, with_len16(&list))
}

pub(super) fn ext_versions_client(v: &[u16]) -> (u16, Vec<u8>) {
    (43, with_len8(&u16s(v)))
}

pub(super) fn ext_versions_server(v: u16) -> (u16, Vec<u8>) {
    (43, v.to_be_bytes().to_vec())
}

pub(super) fn ext_empty(t: u16) -> (u16, Vec<u8>) {
    (t, Vec::new())
}

/// A ClientHello body.
#[derive(Clone)]
pub(super) struct Ch {
    pub(super) version: u16,
    pub(super) random: [u8; 32],
    pub(super) session_id: Vec<u8>,
    pub(super) ciphers: Vec<u16>,
    pub(super) compression: Vec<u8>,
    /// `None`: no extension block at all.
    pub(super) exts: Option<Vec<(u16, Vec<u8>)>>,
}

impl Default for Ch {
    fn default() -> Self {
        Ch {
            version: 0x0303,
            random: [7; 32],
            session_id: vec![0x11; 32],
            ciphers: vec![0x1301, 0x1302, 0xc02f, 0x002f],
            compression: vec![0],
            exts: Some(vec![
                ext_sni(b"example.com"),
                ext_groups(&[29, 23]),
                ext_point_formats(&[0]),
                ext_sigalgs(&[0x0403, 0x0804]),
                ext_alpn(&[b"h2", b"http/1.1"]),
                ext_empty(35),
                ext_versions_client(&[0x0304, 0x0303]),
                (51, vec![0, 0]),
            ]),
        }
    }
}

impl Ch {
    pub(super) fn body(&self) -> Vec<u8> {
        let mut b = self.version.to_be_bytes().to_vec();
        b.extend_from_slice(&self.random);
        b.extend_from_slice(&with_len8(&self.session_id));
        b.extend_from_slice(&with_len16(&u16s(&self.ciphers)));
        b.extend_from_slice(&with_len8(&self.compression));
        if let Some(exts) = &self.exts {
            let mut block = Vec::new();
            for (t, data) in exts {
                block.extend_from_slice(&t.to_be_bytes());
                block.extend_from_slice(&with_len16(data));
            }
            b.extend_from_slice(&with_len16(&block));
        }
        b
    }

    /// The ClientHello in one handshake record (record version TLS 1.0, as browsers send).
    pub(super) fn record(&self) -> Vec<u8> {
        rec(HANDSHAKE, 0x0301, &hs(1, &self.body()))
    }

    /// A ClientHello rebuilt from a JA3 string: extension bodies are made up to carry the
    /// string's groups and point formats.
    pub(super) fn from_ja3(ja3: &str) -> Ch {
        let f: Vec<&str> = ja3.split(',').collect();
        let nums = |s: &str| -> Vec<u16> {
            s.split('-')
                .filter(|x| !x.is_empty())
                .map(|x| x.parse().unwrap())
                .collect()
        };
        let groups = nums(f[3]);
        let pfs: Vec<u8> = nums(f[4]).iter().map(|&x| x as u8).collect();
        let exts_list = nums(f[2]);
        let exts = if f[2].is_empty() && groups.is_empty() {
            None
        } else {
            Some(
                exts_list
                    .iter()
                    .map(|&t| match t {
                        0 => ext_sni(b"example.com"),
                        10 => ext_groups(&groups),
                        11 => ext_point_formats(&pfs),
                        13 => ext_sigalgs(&[0x0403]),
                        16 => ext_alpn(&[b"h2"]),
                        43 => ext_versions_client(&[0x0304, 0x0303]),
                        t => ext_empty(t),
                    })
                    .collect(),
            )
        };
        Ch {
            version: f[0].parse().unwrap(),
            ciphers: nums(f[1]),
            exts,
            ..Ch::default()
        }
    }
}

/// A ServerHello body (TLS 1.2 layout).
pub(super) fn sh_body(
    version: u16,
    session_id: &[u8],
    cipher: u16,
    exts: &[(u16, Vec<u8>)],
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[9; 32]);
    b.extend_from_slice(&with_len8(session_id));
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let mut block = Vec::new();
    for (t, data) in exts {
        block.extend_from_slice(&t.to_be_bytes());
        block.extend_from_slice(&with_len16(data));
    }
    b.extend_from_slice(&with_len16(&block));
    b
}

/// A Certificate message body (TLS <= 1.2).
pub(super) fn certificate_body(chain: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in chain {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
    }
    let mut b = (list.len() as u32).to_be_bytes()[1..].to_vec();
    b.extend_from_slice(&list);
    b
}

/// A TLS 1.2 session: client flight, server flight with `chain`, client finish, server finish,
/// one application data exchange. Returns (direction is to-server, bytes) in order.
pub(super) fn tls12_session(chain: &[&[u8]]) -> Vec<(bool, Vec<u8>)> {
    let v = 0x0303;
    let mut server = rec(
        HANDSHAKE,
        v,
        &hs(
            2,
            &sh_body(
                v,
                &[0x22; 32],
                0xc02f,
                &[(0xff01, vec![0]), ext_empty(11), ext_alpn(&[b"h2"])],
            ),
        ),
    );
    server.extend(rec(HANDSHAKE, v, &hs(11, &certificate_body(chain))));
    server.extend(rec(HANDSHAKE, v, &hs(12, &[1; 100])));
    server.extend(rec(HANDSHAKE, v, &hs(14, &[])));
    let mut client2 = rec(HANDSHAKE, v, &hs(16, &[3; 66]));
    client2.extend(rec(CCS, v, &[1]));
    client2.extend(rec(HANDSHAKE, v, &[0xee; 40]));
    let mut server2 = rec(CCS, v, &[1]);
    server2.extend(rec(HANDSHAKE, v, &[0xdd; 40]));
    vec![
        (true, Ch::default().record()),
        (false, server),
        (true, client2),
        (false, server2),
        (true, rec(APPDATA, v, &[0xaa; 300])),
        (false, rec(APPDATA, v, &[0xbb; 2000])),
    ]
}

/// A TLS 1.3 session (middlebox compatibility mode).
pub(super) fn tls13_session() -> Vec<(bool, Vec<u8>)> {
    let v = 0x0303;
    let sh = sh_body(
        v,
        &[0x11; 32],
        0x1301,
        &[ext_versions_server(0x0304), (51, vec![0, 29, 0, 1, 5])],
    );
    let mut server = rec(HANDSHAKE, v, &hs(2, &sh));
    server.extend(rec(CCS, v, &[1]));
    server.extend(rec(APPDATA, v, &[0x5a; 3000]));
    let mut client2 = rec(CCS, v, &[1]);
    client2.extend(rec(APPDATA, v, &[0x5b; 53]));
    vec![
        (true, Ch::default().record()),
        (false, server),
        (true, client2),
        (true, rec(APPDATA, v, &[0x5c; 100])),
        (false, rec(APPDATA, v, &[0x5d; 1000])),
    ]
}
