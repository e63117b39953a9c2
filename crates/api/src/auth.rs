//! Bearer-token check and the security headers every response carries.

use subtle::ConstantTimeEq as _;

/// Content-Security-Policy of every response: only our own scripts, styles and API.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
form-action 'none'";

/// Whether the `Authorization` header value carries `token` (constant-time in the token).
pub fn bearer_matches(header: Option<&[u8]>, token: &str) -> bool {
    let Some(value) = header else {
        return false;
    };
    let Some(given) = value.strip_prefix(b"Bearer ") else {
        return false;
    };
    // Lengths differ: still compare something of the expected length so timing says little.
    if given.len() != token.len() {
        let _ = token.as_bytes().ct_eq(token.as_bytes());
        return false;
    }
    given.ct_eq(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer() {
        assert!(bearer_matches(Some(b"Bearer s3cret"), "s3cret"));
        assert!(!bearer_matches(Some(b"Bearer s3cre"), "s3cret"));
        assert!(!bearer_matches(Some(b"Bearer s3creT"), "s3cret"));
        assert!(!bearer_matches(Some(b"Basic s3cret"), "s3cret"));
        assert!(!bearer_matches(None, "s3cret"));
    }
}
