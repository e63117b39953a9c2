//! TLS 1.2 and 1.3 record and handshake builders.
//!
//! Handshake messages that travel in clear (ClientHello, ServerHello, Certificate, ...) are
//! encoded exactly; everything that would be encrypted is random bytes of the right length
//! inside correctly framed records, which is what a passive observer sees.

use crate::rng::Rng;

/// Record content types.
pub mod content_type {
    /// ChangeCipherSpec.
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    /// Alert.
    pub const ALERT: u8 = 21;
    /// Handshake.
    pub const HANDSHAKE: u8 = 22;
    /// Application data.
    pub const APPLICATION_DATA: u8 = 23;
}

/// Handshake message types.
pub mod handshake_type {
    /// ClientHello.
    pub const CLIENT_HELLO: u8 = 1;
    /// ServerHello.
    pub const SERVER_HELLO: u8 = 2;
    /// Certificate.
    pub const CERTIFICATE: u8 = 11;
    /// ServerKeyExchange.
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    /// ServerHelloDone.
    pub const SERVER_HELLO_DONE: u8 = 14;
    /// ClientKeyExchange.
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
}

/// Protocol version numbers.
pub mod version {
    /// TLS 1.0 (legacy record version of ClientHello).
    pub const TLS10: u16 = 0x0301;
    /// TLS 1.2.
    pub const TLS12: u16 = 0x0303;
    /// TLS 1.3 (only inside supported_versions).
    pub const TLS13: u16 = 0x0304;
}

/// Cipher suites used by the generator.
pub mod cipher {
    /// TLS_AES_128_GCM_SHA256 (TLS 1.3).
    pub const TLS_AES_128_GCM_SHA256: u16 = 0x1301;
    /// TLS_AES_256_GCM_SHA384 (TLS 1.3).
    pub const TLS_AES_256_GCM_SHA384: u16 = 0x1302;
    /// TLS_CHACHA20_POLY1305_SHA256 (TLS 1.3).
    pub const TLS_CHACHA20_POLY1305_SHA256: u16 = 0x1303;
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
    pub const ECDHE_RSA_AES128_GCM_SHA256: u16 = 0xc02f;
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    pub const ECDHE_RSA_AES256_GCM_SHA384: u16 = 0xc030;
}

/// A browser-like TLS 1.2 cipher list (Firefox order, without the TLS 1.3 suites).
pub const TLS12_CIPHERS: &[u16] = &[
    0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d,
    0x002f, 0x0035,
];

/// TLS 1.3 suites offered ahead of [`TLS12_CIPHERS`] by a 1.3-capable client.
pub const TLS13_CIPHERS: &[u16] = &[0x1301, 0x1303, 0x1302];

/// Largest plaintext fragment of one record.
pub const MAX_FRAGMENT: usize = 16_384;

/// Frames `fragment` into records of type `ct` (splitting at 16 KiB).
pub fn record(ct: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fragment.len() + 5);
    let mut push = |part: &[u8]| {
        out.push(ct);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(part.len() as u16).to_be_bytes());
        out.extend_from_slice(part);
    };
    if fragment.is_empty() {
        push(&[]);
    }
    for part in fragment.chunks(MAX_FRAGMENT) {
        push(part);
    }
    out
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(msg_type);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

fn u16_vec(items: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() * 2 + 2);
    out.extend_from_slice(&((items.len() * 2) as u16).to_be_bytes());
    for i in items {
        out.extend_from_slice(&i.to_be_bytes());
    }
    out
}

fn ext(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn alpn_ext_data(protocols: &[String]) -> Vec<u8> {
    let mut list = Vec::new();
    for p in protocols {
        list.push(p.len().min(255) as u8);
        list.extend_from_slice(&p.as_bytes()[..p.len().min(255)]);
    }
    let mut data = (list.len() as u16).to_be_bytes().to_vec();
    data.extend_from_slice(&list);
    data
}

/// x25519 group id.
pub const GROUP_X25519: u16 = 0x001d;

/// A ClientHello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientHello {
    /// Client random.
    pub random: [u8; 32],
    /// Legacy session id (32 random bytes, as browsers send for middlebox compatibility).
    pub session_id: Vec<u8>,
    /// Server name for the SNI extension.
    pub sni: Option<String>,
    /// ALPN protocols offered.
    pub alpn: Vec<String>,
    /// Offer TLS 1.3 (supported_versions, key_share, psk_key_exchange_modes).
    pub tls13: bool,
    /// x25519 public key for key_share.
    pub key_share: [u8; 32],
}

impl ClientHello {
    /// A browser-like hello for `sni` offering h2 and http/1.1.
    pub fn new(rng: &mut Rng, sni: &str, tls13: bool) -> Self {
        ClientHello {
            random: rng.array32(),
            session_id: rng.bytes(32),
            sni: Some(sni.into()),
            alpn: vec!["h2".into(), "http/1.1".into()],
            tls13,
            key_share: rng.array32(),
        }
    }

    /// The handshake message (type 1).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(512);
        b.extend_from_slice(&version::TLS12.to_be_bytes());
        b.extend_from_slice(&self.random);
        b.push(self.session_id.len().min(32) as u8);
        b.extend_from_slice(&self.session_id[..self.session_id.len().min(32)]);
        let mut suites = Vec::new();
        if self.tls13 {
            suites.extend_from_slice(TLS13_CIPHERS);
        }
        suites.extend_from_slice(TLS12_CIPHERS);
        b.extend_from_slice(&u16_vec(&suites));
        b.extend_from_slice(&[1, 0]); // compression methods: null only

        let mut e = Vec::new();
        if let Some(name) = &self.sni {
            let mut entry = vec![0u8]; // host_name
            entry.extend_from_slice(&(name.len() as u16).to_be_bytes());
            entry.extend_from_slice(name.as_bytes());
            let mut data = (entry.len() as u16).to_be_bytes().to_vec();
            data.extend_from_slice(&entry);
            ext(&mut e, 0x0000, &data);
        }
        ext(&mut e, 0x0017, &[]); // extended_master_secret
        ext(&mut e, 0xff01, &[0]); // renegotiation_info (initial handshake)
        ext(
            &mut e,
            0x000a,
            &u16_vec(&[GROUP_X25519, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101]),
        );
        ext(&mut e, 0x000b, &[1, 0]); // ec_point_formats: uncompressed
        ext(&mut e, 0x0023, &[]); // session_ticket
        if !self.alpn.is_empty() {
            ext(&mut e, 0x0010, &alpn_ext_data(&self.alpn));
        }
        ext(&mut e, 0x0005, &[1, 0, 0, 0, 0]); // status_request: OCSP
        if self.tls13 {
            let mut ks = Vec::with_capacity(38);
            ks.extend_from_slice(&36u16.to_be_bytes());
            ks.extend_from_slice(&GROUP_X25519.to_be_bytes());
            ks.extend_from_slice(&32u16.to_be_bytes());
            ks.extend_from_slice(&self.key_share);
            ext(&mut e, 0x0033, &ks); // key_share
            ext(&mut e, 0x002b, &[4, 0x03, 0x04, 0x03, 0x03]); // supported_versions
        }
        ext(
            &mut e,
            0x000d,
            &u16_vec(&[
                0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203,
                0x0201,
            ]),
        ); // signature_algorithms
        if self.tls13 {
            ext(&mut e, 0x002d, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
        }
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
        handshake(handshake_type::CLIENT_HELLO, &b)
    }

    /// The hello in one handshake record (legacy record version 0x0301, as browsers use).
    pub fn to_record(&self) -> Vec<u8> {
        record(content_type::HANDSHAKE, version::TLS10, &self.encode())
    }
}

/// A ServerHello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHello {
    /// Server random.
    pub random: [u8; 32],
    /// Session id (TLS 1.3 echoes the client's).
    pub session_id: Vec<u8>,
    /// Chosen cipher suite.
    pub cipher: u16,
    /// Chosen ALPN protocol.
    pub alpn: Option<String>,
    /// TLS 1.3: the server's x25519 key share (also adds supported_versions 0x0304).
    pub tls13_key_share: Option<[u8; 32]>,
}

impl ServerHello {
    /// The handshake message (type 2).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(128);
        b.extend_from_slice(&version::TLS12.to_be_bytes());
        b.extend_from_slice(&self.random);
        b.push(self.session_id.len().min(32) as u8);
        b.extend_from_slice(&self.session_id[..self.session_id.len().min(32)]);
        b.extend_from_slice(&self.cipher.to_be_bytes());
        b.push(0);
        let mut e = Vec::new();
        match &self.tls13_key_share {
            Some(key) => {
                let mut ks = Vec::with_capacity(36);
                ks.extend_from_slice(&GROUP_X25519.to_be_bytes());
                ks.extend_from_slice(&32u16.to_be_bytes());
                ks.extend_from_slice(key);
                ext(&mut e, 0x0033, &ks);
                ext(&mut e, 0x002b, &version::TLS13.to_be_bytes());
            }
            None => {
                ext(&mut e, 0xff01, &[0]);
                ext(&mut e, 0x0017, &[]);
                ext(&mut e, 0x000b, &[1, 0]);
                if let Some(p) = &self.alpn {
                    ext(&mut e, 0x0010, &alpn_ext_data(std::slice::from_ref(p)));
                }
            }
        }
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
        handshake(handshake_type::SERVER_HELLO, &b)
    }
}

/// A Certificate message carrying a chain of DER certificates, leaf first.
pub fn certificate(chain: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in chain {
        list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(c);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend_from_slice(&list);
    handshake(handshake_type::CERTIFICATE, &body)
}

/// An ECDHE ServerKeyExchange over x25519 signed with rsa_pkcs1_sha256 (random signature).
pub fn server_key_exchange(rng: &mut Rng) -> Vec<u8> {
    let mut b = Vec::with_capacity(300);
    b.push(3); // named_curve
    b.extend_from_slice(&GROUP_X25519.to_be_bytes());
    b.push(32);
    b.extend_from_slice(&rng.array32());
    b.extend_from_slice(&0x0401u16.to_be_bytes());
    b.extend_from_slice(&256u16.to_be_bytes());
    b.extend_from_slice(&rng.bytes(256));
    handshake(handshake_type::SERVER_KEY_EXCHANGE, &b)
}

/// ServerHelloDone.
pub fn server_hello_done() -> Vec<u8> {
    handshake(handshake_type::SERVER_HELLO_DONE, &[])
}

/// An x25519 ClientKeyExchange.
pub fn client_key_exchange(rng: &mut Rng) -> Vec<u8> {
    let mut b = vec![32u8];
    b.extend_from_slice(&rng.array32());
    handshake(handshake_type::CLIENT_KEY_EXCHANGE, &b)
}

/// A ChangeCipherSpec record.
pub fn change_cipher_spec() -> Vec<u8> {
    record(content_type::CHANGE_CIPHER_SPEC, version::TLS12, &[1])
}

/// One AES-GCM protected TLS 1.2 record of type `ct` for `plaintext_len` bytes: 8-byte
/// explicit nonce, ciphertext and 16-byte tag, all random.
pub fn encrypted_record_tls12(rng: &mut Rng, ct: u8, plaintext_len: usize) -> Vec<u8> {
    let len = plaintext_len.min(MAX_FRAGMENT);
    record(ct, version::TLS12, &rng.bytes(8 + len + 16))
}

/// One TLS 1.3 protected record (outer type application_data) for `plaintext_len` bytes
/// plus the inner content type byte and a 16-byte tag.
pub fn encrypted_record_tls13(rng: &mut Rng, plaintext_len: usize) -> Vec<u8> {
    let len = plaintext_len.min(MAX_FRAGMENT);
    record(
        content_type::APPLICATION_DATA,
        version::TLS12,
        &rng.bytes(len + 1 + 16),
    )
}

/// Application data of `len` plaintext bytes as a run of full-size protected records.
pub fn application_data(rng: &mut Rng, len: usize, tls13: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + len / MAX_FRAGMENT * 40 + 40);
    let mut left = len.max(1);
    while left > 0 {
        let n = left.min(MAX_FRAGMENT);
        if tls13 {
            out.extend_from_slice(&encrypted_record_tls13(rng, n));
        } else {
            out.extend_from_slice(&encrypted_record_tls12(
                rng,
                content_type::APPLICATION_DATA,
                n,
            ));
        }
        left -= n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_lengths_are_consistent() {
        let mut rng = Rng::new(1);
        let rec = ClientHello::new(&mut rng, "www.example.com", true).to_record();
        assert_eq!(rec[0], content_type::HANDSHAKE);
        let rec_len = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
        assert_eq!(rec_len + 5, rec.len());
        let hs_len = (usize::from(rec[6]) << 16) | (usize::from(rec[7]) << 8) | usize::from(rec[8]);
        assert_eq!(hs_len + 4, rec_len);
        let hay = rec.windows(15).any(|w| w == b"www.example.com");
        assert!(hay);
    }
}
