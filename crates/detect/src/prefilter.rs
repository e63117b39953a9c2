//! Multi-pattern prefilter: one Aho-Corasick automaton per buffer over the rules' fast patterns
//! (case-folded, so one pass serves case-sensitive and `nocase` patterns alike; every candidate
//! is verified in full afterwards). A search yields each candidate rule once.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use hashbrown::HashMap;
use vedette_rules::ast::BufferSel;

/// Patterns and their rules for one buffer, before building.
#[derive(Default)]
struct Pending {
    patterns: Vec<Vec<u8>>,
    index: HashMap<Vec<u8>, u32>,
    sigs: Vec<Vec<u32>>,
}

/// Collects patterns per buffer.
#[derive(Default)]
pub(crate) struct PrefilterBuilder {
    by_buffer: Vec<(BufferSel, Pending)>,
}

impl PrefilterBuilder {
    /// Registers rule `sig` under `pattern` in buffer `sel`.
    pub fn add(&mut self, sel: &BufferSel, pattern: &[u8], sig: u32) {
        let pos = match self.by_buffer.iter().position(|(s, _)| s == sel) {
            Some(p) => p,
            None => {
                self.by_buffer.push((sel.clone(), Pending::default()));
                self.by_buffer.len() - 1
            }
        };
        let Some((_, p)) = self.by_buffer.get_mut(pos) else {
            return;
        };
        let key = pattern.to_ascii_lowercase();
        let id = match p.index.get(&key) {
            Some(id) => *id,
            None => {
                let id = p.patterns.len() as u32;
                p.index.insert(key.clone(), id);
                p.patterns.push(key);
                p.sigs.push(Vec::new());
                id
            }
        };
        if let Some(v) = p.sigs.get_mut(id as usize) {
            v.push(sig);
        }
    }

    /// True when no pattern was added.
    pub fn is_empty(&self) -> bool {
        self.by_buffer.is_empty()
    }
}

fn build_one(p: Pending) -> Option<Prefilter> {
    // A DFA is fastest to search; beyond a few thousand patterns its build time and memory
    // grow, and the contiguous NFA is the better trade.
    let kind = if p.patterns.len() <= 2_000 {
        AhoCorasickKind::DFA
    } else {
        AhoCorasickKind::ContiguousNFA
    };
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(kind))
        .build(&p.patterns)
        .ok()?;
    Some(Prefilter { ac, sigs: p.sigs })
}

/// Builds the automata of several builders at once, on up to one thread per core (building
/// dominates rule loading), largest first. Returns one list per builder, in order.
pub(crate) fn build_all(builders: Vec<PrefilterBuilder>) -> Vec<Vec<(BufferSel, Prefilter)>> {
    let groups = builders.len();
    let mut jobs: Vec<(usize, usize, BufferSel, Pending)> = Vec::new();
    for (g, b) in builders.into_iter().enumerate() {
        for (k, (sel, mut p)) in b.by_buffer.into_iter().enumerate() {
            p.index = HashMap::new();
            jobs.push((g, k, sel, p));
        }
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(j.3.patterns.iter().map(Vec::len).sum::<usize>()));
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(jobs.len().max(1));
    let queue = std::sync::Mutex::new(jobs.into_iter());
    let mut built: Vec<(usize, usize, BufferSel, Prefilter)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let next = queue.lock().ok().and_then(|mut q| q.next());
                        let Some((g, k, sel, p)) = next else { break };
                        if let Some(pf) = build_one(p) {
                            out.push((g, k, sel, pf));
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    built.sort_by_key(|b| (b.0, b.1));
    let mut out: Vec<Vec<(BufferSel, Prefilter)>> = (0..groups).map(|_| Vec::new()).collect();
    for (g, _, sel, pf) in built {
        if let Some(v) = out.get_mut(g) {
            v.push((sel, pf));
        }
    }
    out
}

/// One buffer's automaton.
pub(crate) struct Prefilter {
    ac: AhoCorasick,
    sigs: Vec<Vec<u32>>,
}

impl Prefilter {
    /// Number of patterns.
    pub fn patterns(&self) -> usize {
        self.sigs.len()
    }

    /// Adds every rule whose pattern occurs in `hay` to `out` (each once, via `seen`).
    pub fn candidates(&self, hay: &[u8], seen: &mut Seen, out: &mut Vec<u32>) {
        for m in self.ac.find_overlapping_iter(hay) {
            let pid = m.pattern().as_usize();
            if !seen.first_pattern(pid) {
                continue;
            }
            if let Some(list) = self.sigs.get(pid) {
                for &s in list {
                    if seen.first_sig(s) {
                        out.push(s);
                    }
                }
            }
        }
        seen.next_search();
    }
}

/// Generation-stamped sets (no clearing between packets): which rules are already candidates in
/// this inspection, and which patterns were already seen in this search.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    sig_gen: u32,
    sigs: Vec<u32>,
    pat_gen: u32,
    pats: Vec<u32>,
}

impl Seen {
    /// Sized for `sigs` rules and `pats` patterns in the largest automaton.
    pub fn new(sigs: usize, pats: usize) -> Self {
        Seen {
            sig_gen: 1,
            sigs: vec![0; sigs],
            pat_gen: 1,
            pats: vec![0; pats],
        }
    }

    /// Starts a new inspection (forget candidate rules).
    pub fn next_inspection(&mut self) {
        self.sig_gen = self.sig_gen.wrapping_add(1);
        if self.sig_gen == 0 {
            self.sigs.iter_mut().for_each(|x| *x = 0);
            self.sig_gen = 1;
        }
    }

    fn next_search(&mut self) {
        self.pat_gen = self.pat_gen.wrapping_add(1);
        if self.pat_gen == 0 {
            self.pats.iter_mut().for_each(|x| *x = 0);
            self.pat_gen = 1;
        }
    }

    /// Marks rule `s`; true the first time in this inspection.
    pub fn first_sig(&mut self, s: u32) -> bool {
        match self.sigs.get_mut(s as usize) {
            Some(g) if *g != self.sig_gen => {
                *g = self.sig_gen;
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    fn first_pattern(&mut self, p: usize) -> bool {
        match self.pats.get_mut(p) {
            Some(g) if *g != self.pat_gen => {
                *g = self.pat_gen;
                true
            }
            Some(_) => false,
            None => true,
        }
    }
}
