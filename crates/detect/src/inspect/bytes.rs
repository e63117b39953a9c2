//! Reading numbers out of buffers the way Suricata's byte_* keywords do: binary big/little
//! endian, or ASCII digits with C `strtoull` rules (leading whitespace, optional sign, `0x`
//! prefix in base 16, stop at the first non-digit, overflow is an error).

use super::compile::{Form, Order};

/// Reads `nbytes` at `buf[pos..]` as `form`. Returns the value and how many bytes were
/// consumed (`nbytes` for binary; the characters `strtoull` used for strings), or `None` when
/// Suricata reports no value (out of bounds, no digits, overflow, binary wider than 8 bytes).
///
/// `nbytes == 0` (byte_jump only) reads 0 in binary form; in string form Suricata hands
/// `strtoull` an unbounded string, which here means digits up to the buffer end.
pub(super) fn extract(buf: &[u8], pos: usize, nbytes: usize, form: Form) -> Option<(u64, usize)> {
    let bytes = if nbytes == 0 && matches!(form, Form::String(_)) {
        buf.get(pos..)?
    } else {
        buf.get(pos..pos.checked_add(nbytes)?)?
    };
    match form {
        Form::Binary(order) => {
            if nbytes > 8 {
                return None;
            }
            let mut v: u64 = 0;
            match order {
                Order::Big => bytes.iter().for_each(|&b| v = (v << 8) | u64::from(b)),
                Order::Little => bytes
                    .iter()
                    .rev()
                    .for_each(|&b| v = (v << 8) | u64::from(b)),
            }
            Some((v, nbytes))
        }
        Form::String(radix) => strtoull(bytes, radix),
    }
}

/// C's `strtoull` on a string cut at `s.len()` (Suricata copies nbytes into a NUL-terminated
/// buffer first). Returns `None` when no digits were converted or the value overflowed (ERANGE).
fn strtoull(s: &[u8], radix: u32) -> Option<(u64, usize)> {
    let mut i = 0;
    // isspace in the C locale.
    while s
        .get(i)
        .is_some_and(|&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        i += 1;
    }
    let mut neg = false;
    if let Some(&c) = s.get(i) {
        if c == b'+' || c == b'-' {
            neg = c == b'-';
            i += 1;
        }
    }
    // "0x" is a prefix only when a hex digit follows; otherwise the "0" is the number.
    if radix == 16
        && s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        match v
            .checked_mul(u64::from(radix))
            .and_then(|x| x.checked_add(u64::from(d)))
        {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start || overflow {
        return None;
    }
    // strtoull negates in unsigned arithmetic: "-1" is u64::MAX.
    let v = if neg { v.wrapping_neg() } else { v };
    Some((v, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_like_c() {
        assert_eq!(strtoull(b"123abc", 10), Some((123, 3)));
        assert_eq!(strtoull(b"  42", 10), Some((42, 4)));
        assert_eq!(strtoull(b"0x1f", 16), Some((31, 4)));
        assert_eq!(strtoull(b"0xg", 16), Some((0, 1)));
        assert_eq!(strtoull(b"777", 8), Some((511, 3)));
        assert_eq!(strtoull(b"8", 8), None);
        assert_eq!(strtoull(b"abc", 10), None);
        assert_eq!(strtoull(b"-1", 10), Some((u64::MAX, 2)));
        assert_eq!(strtoull(b"99999999999999999999", 10), None);
        assert_eq!(strtoull(b"", 10), None);
    }

    #[test]
    fn binary_orders() {
        let b = [1u8, 2, 3, 4];
        assert_eq!(
            extract(&b, 0, 2, Form::Binary(Order::Big)),
            Some((0x0102, 2))
        );
        assert_eq!(
            extract(&b, 1, 3, Form::Binary(Order::Little)),
            Some((0x040302, 3))
        );
        assert_eq!(extract(&b, 3, 2, Form::Binary(Order::Big)), None);
        assert_eq!(extract(&b, usize::MAX, 2, Form::Binary(Order::Big)), None);
    }
}
