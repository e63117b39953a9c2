//! Certificate messages: the chain (kept as DER, bounded) and the first certificate decoded
//! with x509-parser into Suricata's string formats.

use super::events as ev;
use super::handshake::Reader;
use super::record::Ctx;
use sha1::{Digest, Sha1};
use vedette_types::Direction;
use x509_parser::error::X509Error;
use x509_parser::extensions::GeneralName;

/// The first certificate of a chain, as Suricata logs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject DN, RDNs in certificate order joined by ", " (`C=US, O=Example, CN=host`),
    /// multi-valued RDNs joined by " + ".
    pub subject: String,
    /// Issuer DN, same format.
    pub issuer: String,
    /// Serial number: the DER bytes as uppercase hex pairs joined by ':' (`00:97:E6`).
    pub serial: String,
    /// SHA-1 of the DER: lowercase hex pairs joined by ':'.
    pub fingerprint: String,
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
    /// DNS names of the subjectAltName extension.
    pub sans: Vec<String>,
}

/// Handles a Certificate message (TLS <= 1.2 layout; the 1.3 one is encrypted). Only the
/// first Certificate message of each direction is used.
pub(super) fn on_certificate(ctx: &mut Ctx<'_>, body: &[u8]) {
    let tx = &mut *ctx.tx;
    let (seen, chain, info) = match ctx.dir {
        Direction::ToClient => (
            &mut tx.progress.certificate,
            &mut tx.server_chain,
            &mut tx.server_cert,
        ),
        Direction::ToServer => (
            &mut tx.client_cert_seen,
            &mut tx.client_chain,
            &mut tx.client_cert,
        ),
    };
    if *seen {
        return;
    }
    *seen = true;
    let dir = ctx.dir;
    let events = &mut *ctx.events;
    let mut r = Reader::new(body);
    let list = r.u24().and_then(|n| r.take(n));
    let Some(list) = list else {
        events.push(dir, ev::INVALID_CERTIFICATE);
        return;
    };
    let mut r = Reader::new(list);
    while !r.is_empty() {
        let Some(der) = r.u24().and_then(|n| r.take(n)) else {
            events.push(dir, ev::INVALID_CERTIFICATE);
            return;
        };
        if chain.len() >= ctx.limits.max_certs {
            events.push(dir, ev::TOO_MANY_CERTIFICATES);
            return;
        }
        if chain.is_empty() {
            match decode(der) {
                Ok(c) => *info = Some(c),
                Err(e) => events.push(dir, e),
            }
        }
        chain.push(der.to_vec());
    }
}

/// Decodes one DER certificate; `Err` names Suricata's event for the failure.
pub(super) fn decode(der: &[u8]) -> Result<CertInfo, &'static str> {
    let cert = match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => cert,
        Err(x509_parser::nom::Err::Incomplete(_)) => return Err(ev::CERTIFICATE_INVALID_LENGTH),
        Err(x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e)) => {
            return Err(error_event(&e))
        }
    };
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            if let GeneralName::DNSName(s) = name {
                sans.push((*s).to_owned());
            }
        }
    }
    let validity = cert.validity();
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_sep(cert.raw_serial(), true),
        fingerprint: hex_sep(&Sha1::digest(der), false),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        sans,
    })
}

/// Suricata's mapping of x509 decoding errors to events.
fn error_event(e: &X509Error) -> &'static str {
    match e {
        X509Error::InvalidVersion => ev::CERTIFICATE_INVALID_VERSION,
        X509Error::InvalidSerial => ev::CERTIFICATE_INVALID_SERIAL,
        X509Error::InvalidAlgorithmIdentifier => ev::CERTIFICATE_INVALID_ALGORITHMIDENTIFIER,
        X509Error::InvalidX509Name => ev::CERTIFICATE_INVALID_X509NAME,
        X509Error::InvalidDate => ev::CERTIFICATE_INVALID_DATE,
        X509Error::InvalidExtensions => ev::CERTIFICATE_INVALID_EXTENSIONS,
        X509Error::Der(_) => ev::CERTIFICATE_INVALID_DER,
        _ => ev::INVALID_CERTIFICATE,
    }
}

/// Hex pairs joined by ':'.
pub(super) fn hex_sep(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 0x0f)]));
    }
    s
}
