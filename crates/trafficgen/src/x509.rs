//! A minimal DER encoder and a hand-built X.509 v3 certificate.
//!
//! The certificates are syntactically valid (real parsers such as OpenSSL accept them) but
//! the key and signature are random bytes: nothing here is cryptographically meaningful.

use crate::calendar::civil_from_unix;
use crate::rng::Rng;

/// DER tag numbers (universal class) and constructed forms used here.
pub mod tag {
    /// BOOLEAN.
    pub const BOOLEAN: u8 = 0x01;
    /// INTEGER.
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING.
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING.
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL.
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER.
    pub const OID: u8 = 0x06;
    /// UTF8String.
    pub const UTF8_STRING: u8 = 0x0c;
    /// PrintableString.
    pub const PRINTABLE_STRING: u8 = 0x13;
    /// UTCTime.
    pub const UTC_TIME: u8 = 0x17;
    /// GeneralizedTime.
    pub const GENERALIZED_TIME: u8 = 0x18;
    /// SEQUENCE (constructed).
    pub const SEQUENCE: u8 = 0x30;
    /// SET (constructed).
    pub const SET: u8 = 0x31;
}

/// Encodes one TLV with a definite, minimal length.
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements.
pub fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    der(tag::SEQUENCE, &items.concat())
}

/// An OBJECT IDENTIFIER from its arcs (the first two arcs must be valid: 0..=2 and < 40).
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let first = match arcs {
        [a, b, ..] => a * 40 + b,
        [a] => a * 40,
        [] => 0,
    };
    let mut push_arc = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        body.extend_from_slice(&tmp);
    };
    push_arc(first);
    for &a in arcs.iter().skip(2) {
        push_arc(a);
    }
    der(tag::OID, &body)
}

/// A non-negative INTEGER from big-endian magnitude bytes (minimal encoding).
pub fn uint(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let mut body = Vec::with_capacity(bytes.len() + 1);
    let mag = &bytes[skip.min(bytes.len())..];
    if !matches!(mag.first(), Some(&b) if b & 0x80 == 0) {
        // A leading zero keeps the value positive (and encodes zero itself).
        body.push(0);
    }
    body.extend_from_slice(mag);
    der(tag::INTEGER, &body)
}

/// A BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + 1);
    body.push(0);
    body.extend_from_slice(bytes);
    der(tag::BIT_STRING, &body)
}

/// Time in the form RFC 5280 requires: UTCTime through 2049, GeneralizedTime after.
pub fn x509_time(unix_secs: i64) -> Vec<u8> {
    let c = civil_from_unix(unix_secs);
    if (1950..2050).contains(&c.year) {
        let s = format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            c.year % 100,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second
        );
        der(tag::UTC_TIME, s.as_bytes())
    } else {
        let s = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        );
        der(tag::GENERALIZED_TIME, s.as_bytes())
    }
}

const OID_CN: &[u64] = &[2, 5, 4, 3];
const OID_C: &[u64] = &[2, 5, 4, 6];
const OID_O: &[u64] = &[2, 5, 4, 10];
const OID_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 1];
const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113_549, 1, 1, 11];
const OID_SKI: &[u64] = &[2, 5, 29, 14];
const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const OID_SAN: &[u64] = &[2, 5, 29, 17];
const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const OID_AKI: &[u64] = &[2, 5, 29, 35];
const OID_EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const OID_SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];

/// A distinguished name: C (PrintableString), O and CN (UTF8String), one RDN each.
pub fn name(country: &str, org: &str, common_name: &str) -> Vec<u8> {
    let rdn = |o: &[u64], t: u8, v: &str| der(tag::SET, &seq(&[oid(o), der(t, v.as_bytes())]));
    seq(&[
        rdn(OID_C, tag::PRINTABLE_STRING, country),
        rdn(OID_O, tag::UTF8_STRING, org),
        rdn(OID_CN, tag::UTF8_STRING, common_name),
    ])
}

fn sha256_rsa() -> Vec<u8> {
    seq(&[oid(OID_SHA256_RSA), der(tag::NULL, &[])])
}

fn extension(id: &[u64], critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(id)];
    // DER forbids encoding the DEFAULT FALSE.
    if critical {
        parts.push(der(tag::BOOLEAN, &[0xff]));
    }
    parts.push(der(tag::OCTET_STRING, &value));
    seq(&parts)
}

/// What goes into a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertSpec {
    /// Subject common name (the server name for a leaf).
    pub subject_cn: String,
    /// Subject organisation.
    pub subject_org: String,
    /// Issuer common name.
    pub issuer_cn: String,
    /// Issuer organisation.
    pub issuer_org: String,
    /// Serial number magnitude (big-endian).
    pub serial: Vec<u8>,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// DNS names for subjectAltName (empty: no SAN extension).
    pub dns_names: Vec<String>,
    /// A CA certificate (basicConstraints CA:TRUE, keyCertSign) rather than a TLS leaf.
    pub is_ca: bool,
    /// Subject key identifier (20 bytes).
    pub key_id: [u8; 20],
    /// Issuer's key identifier, for authorityKeyIdentifier.
    pub issuer_key_id: [u8; 20],
}

/// A generated certificate and the identifiers a child certificate needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cert {
    /// DER bytes.
    pub der: Vec<u8>,
    /// Subject key identifier.
    pub key_id: [u8; 20],
}

/// Builds a DER X.509 v3 certificate with an RSA-2048 public key and sha256WithRSAEncryption
/// signature, both random bytes.
pub fn build_certificate(spec: &CertSpec, rng: &mut Rng) -> Cert {
    let version = der(0xa0, &uint(&[2])); // [0] EXPLICIT Version v3
    let mut modulus = rng.bytes(256);
    if let Some(b) = modulus.first_mut() {
        *b |= 0x80; // a full 2048-bit modulus
    }
    if let Some(b) = modulus.last_mut() {
        *b |= 1; // RSA moduli are odd
    }
    let rsa_key = seq(&[uint(&modulus), uint(&[0x01, 0x00, 0x01])]);
    let spki = seq(&[
        seq(&[oid(OID_RSA), der(tag::NULL, &[])]),
        bit_string(&rsa_key),
    ]);

    let mut exts = Vec::new();
    if spec.is_ca {
        exts.push(extension(
            OID_BASIC_CONSTRAINTS,
            true,
            seq(&[der(tag::BOOLEAN, &[0xff])]),
        ));
        // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110 with 1 unused bit.
        exts.push(extension(
            OID_KEY_USAGE,
            true,
            der(tag::BIT_STRING, &[1, 0x06]),
        ));
    } else {
        exts.push(extension(OID_BASIC_CONSTRAINTS, true, seq(&[])));
        // digitalSignature (bit 0) and keyEncipherment (bit 2): 0b1010_0000, 5 unused bits.
        exts.push(extension(
            OID_KEY_USAGE,
            true,
            der(tag::BIT_STRING, &[5, 0xa0]),
        ));
        exts.push(extension(
            OID_EXT_KEY_USAGE,
            false,
            seq(&[oid(OID_SERVER_AUTH)]),
        ));
    }
    if !spec.dns_names.is_empty() {
        let names: Vec<Vec<u8>> = spec
            .dns_names
            .iter()
            .map(|n| der(0x82, n.as_bytes())) // [2] IMPLICIT IA5String dNSName
            .collect();
        exts.push(extension(OID_SAN, false, seq(&names)));
    }
    exts.push(extension(
        OID_SKI,
        false,
        der(tag::OCTET_STRING, &spec.key_id),
    ));
    exts.push(extension(
        OID_AKI,
        false,
        seq(&[der(0x80, &spec.issuer_key_id)]), // [0] IMPLICIT keyIdentifier
    ));

    let tbs = seq(&[
        version,
        uint(&spec.serial),
        sha256_rsa(),
        name("US", &spec.issuer_org, &spec.issuer_cn),
        seq(&[x509_time(spec.not_before), x509_time(spec.not_after)]),
        name("US", &spec.subject_org, &spec.subject_cn),
        spki,
        der(0xa3, &seq(&exts)), // [3] EXPLICIT Extensions
    ]);
    let signature = rng.bytes(256);
    Cert {
        der: seq(&[tbs, sha256_rsa(), bit_string(&signature)]),
        key_id: spec.key_id,
    }
}

/// A random positive 16-byte serial number.
pub fn random_serial(rng: &mut Rng) -> Vec<u8> {
    let mut s = rng.bytes(16);
    if let Some(b) = s.first_mut() {
        // Positive, and with a non-zero top byte so the encoding is exactly 16 bytes.
        *b = (*b & 0x7f) | 0x10;
    }
    s
}

/// A random 20-byte key identifier.
pub fn random_key_id(rng: &mut Rng) -> [u8; 20] {
    let mut k = [0u8; 20];
    rng.fill(&mut k);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(der(0x04, &[0; 3]), vec![4, 3, 0, 0, 0]);
        assert_eq!(&der(0x04, &[0; 200])[..3], &[4, 0x81, 200]);
        assert_eq!(&der(0x04, &[0; 300])[..4], &[4, 0x82, 1, 44]);
        assert_eq!(
            oid(&[1, 2, 840, 113_549, 1, 1, 11]),
            vec![6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11]
        );
        assert_eq!(uint(&[0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(uint(&[0, 0, 5]), vec![2, 1, 5]);
        assert_eq!(uint(&[]), vec![2, 1, 0]);
    }
}
