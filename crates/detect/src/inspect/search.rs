//! Single-pattern search for `content`, prepared at compile time: memchr's memmem for exact
//! patterns, a one-pattern ASCII-case-insensitive Aho-Corasick automaton for `nocase` (linear
//! time even on adversarial buffers, and no allocation per search).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use memchr::memmem;

/// A prepared content pattern.
#[derive(Debug)]
pub(super) struct ContentSearch {
    pattern: Box<[u8]>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Boxed: a Finder is several times larger than the Aho-Corasick handle.
    Exact(Box<memmem::Finder<'static>>),
    Nocase(Option<AhoCorasick>),
}

impl ContentSearch {
    pub(super) fn new(pattern: &[u8], nocase: bool) -> ContentSearch {
        // Case only matters for letters; a nocase pattern without letters is an exact one.
        let kind = if nocase && pattern.iter().any(u8::is_ascii_alphabetic) {
            // Building can only fail on size limits no single short pattern reaches; on failure
            // the slower scalar search below is used.
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostFirst)
                .build([pattern])
                .ok();
            Kind::Nocase(ac)
        } else {
            Kind::Exact(Box::new(memmem::Finder::new(pattern).into_owned()))
        };
        ContentSearch {
            pattern: pattern.into(),
            kind,
        }
    }

    /// Pattern length in bytes.
    pub(super) fn len(&self) -> usize {
        self.pattern.len()
    }

    /// Start of the first occurrence in `hay`.
    pub(super) fn find(&self, hay: &[u8]) -> Option<usize> {
        if hay.len() < self.pattern.len() {
            return None;
        }
        match &self.kind {
            Kind::Exact(f) => f.find(hay),
            Kind::Nocase(Some(ac)) => ac.find(Input::new(hay)).map(|m| m.start()),
            Kind::Nocase(None) => {
                let n = self.pattern.len();
                hay.windows(n)
                    .position(|w| w.eq_ignore_ascii_case(&self.pattern))
            }
        }
    }

    /// Whether the pattern occurs at exactly `hay[at..]`.
    pub(super) fn is_at(&self, hay: &[u8], at: usize) -> bool {
        let Some(w) = at
            .checked_add(self.pattern.len())
            .and_then(|end| hay.get(at..end))
        else {
            return false;
        };
        match self.kind {
            Kind::Exact(_) => w == &*self.pattern,
            Kind::Nocase(_) => w.eq_ignore_ascii_case(&self.pattern),
        }
    }
}
