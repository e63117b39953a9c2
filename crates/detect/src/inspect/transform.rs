//! Sticky-buffer transforms (`to_lowercase`, `url_decode`, `to_sha256`, ...) with Suricata 7's
//! byte-level behaviour, applied in rule order into reusable buffers.

use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;
use vedette_rules::ast::Transform;

/// Per-worker buffers for [`transform`]; they grow to the largest buffer seen and are reused.
#[derive(Debug, Default)]
pub struct TransformScratch {
    a: Vec<u8>,
    b: Vec<u8>,
}

/// Applies transforms in order; returns the transformed bytes (borrowing `input` when `ts` is
/// empty, else a buffer inside scratch).
pub fn transform<'a>(
    ts: &[Transform],
    input: &'a [u8],
    scratch: &'a mut TransformScratch,
) -> &'a [u8] {
    let Some((first, rest)) = ts.split_first() else {
        return input;
    };
    let TransformScratch { a, b } = scratch;
    apply(*first, input, a);
    for t in rest {
        apply(*t, a, b);
        std::mem::swap(a, b);
    }
    a
}

/// C `isspace` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// One transform from `input` into `out` (cleared first).
fn apply(t: Transform, input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    match t {
        Transform::ToLowercase => out.extend(input.iter().map(u8::to_ascii_lowercase)),
        Transform::ToUppercase => out.extend(input.iter().map(u8::to_ascii_uppercase)),
        Transform::StripWhitespace => out.extend(input.iter().copied().filter(|&c| !is_space(c))),
        Transform::CompressWhitespace => {
            // A run of whitespace keeps its first character as it is (not turned into ' ').
            let mut prev_space = false;
            for &c in input {
                let sp = is_space(c);
                if !(sp && prev_space) {
                    out.push(c);
                }
                prev_space = sp;
            }
        }
        Transform::UrlDecode => url_decode(input, out),
        Transform::Dotprefix => {
            // Suricata leaves an empty buffer empty.
            if !input.is_empty() {
                out.push(b'.');
                out.extend_from_slice(input);
            }
        }
        // Hashes apply to empty buffers too (the digest of nothing), as in Suricata 7.
        Transform::ToMd5 => out.extend_from_slice(&Md5::digest(input)),
        Transform::ToSha1 => out.extend_from_slice(&Sha1::digest(input)),
        Transform::ToSha256 => out.extend_from_slice(&Sha256::digest(input)),
        Transform::HeaderLowercase => {
            // Lowercase each line's name part: up to the first ':' of a line.
            let mut in_value = false;
            for &c in input {
                if in_value {
                    out.push(c);
                    if c == b'\n' {
                        in_value = false;
                    }
                } else {
                    if c == b':' {
                        in_value = true;
                    }
                    out.push(c.to_ascii_lowercase());
                }
            }
        }
        Transform::StripPseudoHeaders => {
            // Drop lines (with their '\n') that start with ':' (HTTP/2 pseudo-headers).
            for line in input.split_inclusive(|&c| c == b'\n') {
                if line.first() != Some(&b':') {
                    out.extend_from_slice(line);
                }
            }
        }
    }
}

/// `%XX` to the byte and `+` to space; an invalid or truncated escape is kept as written.
fn url_decode(input: &[u8], out: &mut Vec<u8>) {
    // 0: plain; 1: after '%'; 2: after '%' and one hex digit (held in `held`).
    let mut state = 0u8;
    let mut held = 0u8;
    for &c in input {
        match state {
            0 if c == b'%' => state = 1,
            0 => out.push(if c == b'+' { b' ' } else { c }),
            _ => match hex_val(c) {
                Some(_) if state == 1 => {
                    held = c;
                    state = 2;
                }
                Some(v) => {
                    out.push((hex_val(held).unwrap_or(0) << 4) | v);
                    state = 0;
                }
                None => {
                    out.push(b'%');
                    if state == 2 {
                        out.push(held);
                    }
                    out.push(c);
                    state = 0;
                }
            },
        }
    }
    if state > 0 {
        out.push(b'%');
        if state == 2 {
            out.push(held);
        }
    }
}
