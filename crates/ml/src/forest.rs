//! Random forest (bootstrap samples, Gini splits over binned features, `sqrt(d)` features
//! tried per node, leaves holding class distributions) and isolation forest (random
//! feature, uniform random split between the node's minimum and maximum, sub-samples of
//! `psi` rows, depth limit `ceil(log2 psi)`, leaves holding depth + c(size)). Trees are
//! grown in parallel, each from its own seeded generator, so results do not depend on
//! thread scheduling.

use crate::gbdt::Binned;
use crate::rng::Rng;
use crate::tree::{Node, Tree, LEAF};
use crate::{avg_path_length, Forest, Isolation};
use rayon::prelude::*;

/// Random forest hyper-parameters.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Maximum depth.
    pub max_depth: u32,
    /// Minimum rows in a leaf.
    pub min_leaf: u32,
    /// Features tried per node (0 = sqrt(d)).
    pub max_features: usize,
    /// Rows drawn (with replacement) per tree, as a fraction of the data.
    pub sample_fraction: f64,
    /// Weight classes inversely to their frequency.
    pub balanced: bool,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            trees: 100,
            max_depth: 24,
            min_leaf: 2,
            max_features: 0,
            sample_fraction: 1.0,
            balanced: false,
        }
    }
}

/// Isolation forest hyper-parameters.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IsolationParams {
    /// Number of trees.
    pub trees: usize,
    /// Rows per tree (psi).
    pub sample_size: usize,
}

impl Default for IsolationParams {
    fn default() -> Self {
        IsolationParams {
            trees: 200,
            sample_size: 256,
        }
    }
}

fn gini_impurity(counts: &[f64], total: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    1.0 - counts
        .iter()
        .map(|c| (c / total) * (c / total))
        .sum::<f64>()
}

struct RfGrower<'a> {
    binned: &'a Binned,
    y: &'a [u32],
    w: &'a [f64],
    k: usize,
    d: usize,
    p: &'a ForestParams,
    mtry: usize,
}

impl RfGrower<'_> {
    fn grow(&self, rows: &mut [u32], rng: &mut Rng) -> Tree {
        let mut nodes: Vec<Node> = Vec::new();
        let mut leaf: Vec<f32> = Vec::new();
        // Depth-first with an explicit stack: (node index, start, end, depth).
        nodes.push(Node::leaf(0, 0.0));
        let mut stack = vec![(0usize, 0usize, rows.len(), 0u32)];
        let n = self.binned.rows;
        let mut hist = vec![0f64; 256 * self.k];
        let mut counts = vec![0f64; self.k];
        let mut left = vec![0f64; self.k];
        let mut feats: Vec<usize> = (0..self.d).collect();
        let mut scratch: Vec<u32> = Vec::new();
        while let Some((node, start, end, depth)) = stack.pop() {
            let r = &mut rows[start..end];
            counts.fill(0.0);
            for &i in r.iter() {
                counts[self.y[i as usize] as usize] += self.w[i as usize];
            }
            let total: f64 = counts.iter().sum();
            let value = if total > 0.0 {
                1.0 - (counts[0] / total) as f32
            } else {
                0.0
            };
            nodes[node].value = value;
            let pure = counts.iter().filter(|&&c| c > 0.0).count() <= 1;
            let mut best: Option<(f64, usize, usize)> = None;
            if !pure && depth < self.p.max_depth && r.len() >= 2 * self.p.min_leaf as usize {
                let parent = gini_impurity(&counts, total);
                // Partial Fisher-Yates: the first mtry entries are a random feature subset.
                for j in 0..self.mtry.min(self.d) {
                    let s = j + rng.below(self.d - j);
                    feats.swap(j, s);
                }
                for &f in feats.iter().take(self.mtry) {
                    let col = &self.binned.bins[f * n..(f + 1) * n];
                    hist.fill(0.0);
                    let mut nbins = 0usize;
                    for &i in r.iter() {
                        let b = col[i as usize] as usize;
                        nbins = nbins.max(b + 1);
                        hist[b * self.k + self.y[i as usize] as usize] += self.w[i as usize];
                    }
                    left.fill(0.0);
                    let mut lw = 0.0;
                    for b in 0..nbins.saturating_sub(1) {
                        let hb = &hist[b * self.k..(b + 1) * self.k];
                        let mut bw = 0.0;
                        for (l, &c) in left.iter_mut().zip(hb) {
                            *l += c;
                            bw += c;
                        }
                        if bw == 0.0 {
                            continue;
                        }
                        lw += bw;
                        let rw = total - lw;
                        if lw <= 0.0 || rw <= 0.0 {
                            continue;
                        }
                        let mut sl = 0.0;
                        let mut sr = 0.0;
                        for (l, c) in left.iter().zip(&counts) {
                            sl += (l / lw) * (l / lw);
                            let rc = c - l;
                            sr += (rc / rw) * (rc / rw);
                        }
                        let imp = (lw * (1.0 - sl) + rw * (1.0 - sr)) / total;
                        let gain = parent - imp;
                        if gain > 1e-12 && best.is_none_or(|(g, _, _)| gain > g) {
                            best = Some((gain, f, b));
                        }
                    }
                }
            }
            let mut split_done = false;
            if let Some((_, f, b)) = best {
                let col = &self.binned.bins[f * n..(f + 1) * n];
                scratch.clear();
                let mut wpos = 0;
                for i in 0..r.len() {
                    let v = r[i];
                    if col[v as usize] as usize <= b {
                        r[wpos] = v;
                        wpos += 1;
                    } else {
                        scratch.push(v);
                    }
                }
                r[wpos..].copy_from_slice(&scratch);
                let min_leaf = self.p.min_leaf as usize;
                if wpos >= min_leaf && r.len() - wpos >= min_leaf {
                    let l = nodes.len();
                    nodes.push(Node::leaf(0, 0.0));
                    nodes.push(Node::leaf(0, 0.0));
                    let th = self.binned.thresholds[f]
                        .get(b)
                        .copied()
                        .unwrap_or(f32::MAX);
                    nodes[node] = Node {
                        feature: f as u32,
                        split: th,
                        left: l as u32,
                        right: l as u32 + 1,
                        value,
                    };
                    stack.push((l + 1, start + wpos, end, depth + 1));
                    stack.push((l, start, start + wpos, depth + 1));
                    split_done = true;
                }
            }
            if !split_done {
                let li = (leaf.len() / self.k) as u32;
                for c in &counts {
                    leaf.push(if total > 0.0 { (c / total) as f32 } else { 0.0 });
                }
                nodes[node] = Node::leaf(li, value);
            }
        }
        Tree { nodes, leaf }
    }
}

/// Trains a random forest on row-major `x` (`d` features), labels in `0..k`.
pub(crate) fn train_random_forest(
    x: &[f32],
    y: &[u32],
    d: usize,
    k: usize,
    p: &ForestParams,
    seed: u64,
) -> Forest {
    let rng = Rng::new(seed);
    let binned = Binned::fit(x, d, 256, &mut rng.derive(u64::MAX));
    let n = y.len();
    let mut counts = vec![0f64; k];
    for &c in y {
        counts[c as usize] += 1.0;
    }
    let w: Vec<f64> = y
        .iter()
        .map(|&c| {
            if p.balanced {
                n as f64 / (k as f64 * counts[c as usize].max(1.0))
            } else {
                1.0
            }
        })
        .collect();
    let mtry = if p.max_features == 0 {
        ((d as f64).sqrt().round() as usize).max(1)
    } else {
        p.max_features.min(d)
    };
    let grower = RfGrower {
        binned: &binned,
        y,
        w: &w,
        k,
        d,
        p,
        mtry,
    };
    let m = ((n as f64 * p.sample_fraction) as usize).max(1);
    let trees = (0..p.trees)
        .into_par_iter()
        .map(|t| {
            let mut r = rng.derive(t as u64);
            let mut rows: Vec<u32> = (0..m).map(|_| r.below(n) as u32).collect();
            rows.sort_unstable();
            grower.grow(&mut rows, &mut r)
        })
        .collect();
    Forest { trees }
}

/// Trains an isolation forest on row-major `x` (`d` features).
pub(crate) fn train_isolation(x: &[f32], d: usize, p: &IsolationParams, seed: u64) -> Isolation {
    let n = x.len() / d.max(1);
    let psi = p.sample_size.min(n).max(2);
    let max_depth = (psi as f64).log2().ceil() as u32;
    let rng = Rng::new(seed);
    let trees = (0..p.trees)
        .into_par_iter()
        .map(|t| {
            let mut r = rng.derive(t as u64);
            // Sample psi distinct rows (partial shuffle of indices when n is small, else
            // rejection-free draws with replacement, as n >> psi makes repeats rare).
            let rows: Vec<usize> = if n <= 4 * psi {
                let mut all: Vec<usize> = (0..n).collect();
                r.shuffle(&mut all);
                all.truncate(psi);
                all
            } else {
                (0..psi).map(|_| r.below(n)).collect()
            };
            isolation_tree(x, d, rows, max_depth, &mut r)
        })
        .collect();
    Isolation {
        trees,
        c_n: avg_path_length(psi as f64) as f32,
    }
}

fn isolation_tree(x: &[f32], d: usize, mut rows: Vec<usize>, max_depth: u32, r: &mut Rng) -> Tree {
    let mut nodes = vec![Node::leaf(0, 0.0)];
    let mut leaf = Vec::new();
    let mut stack = vec![(0usize, 0usize, rows.len(), 0u32)];
    while let Some((node, start, end, depth)) = stack.pop() {
        let part = &mut rows[start..end];
        let mut split = None;
        if depth < max_depth && part.len() > 1 {
            // Try features in random order until one is not constant here.
            let first = r.below(d);
            for j in 0..d {
                let f = (first + j) % d;
                let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
                for &i in part.iter() {
                    let v = x[i * d + f];
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                if hi > lo {
                    let mut s = lo + (r.f64() as f32) * (hi - lo);
                    if s >= hi {
                        s = lo;
                    }
                    split = Some((f, s));
                    break;
                }
            }
        }
        match split {
            Some((f, s)) => {
                let mut w = 0;
                for i in 0..part.len() {
                    if x[part[i] * d + f] <= s {
                        part.swap(i, w);
                        w += 1;
                    }
                }
                let l = nodes.len();
                nodes.push(Node::leaf(0, 0.0));
                nodes.push(Node::leaf(0, 0.0));
                nodes[node] = Node {
                    feature: f as u32,
                    split: s,
                    left: l as u32,
                    right: l as u32 + 1,
                    value: 0.0,
                };
                stack.push((l + 1, start + w, end, depth + 1));
                stack.push((l, start, start + w, depth + 1));
            }
            None => {
                let li = leaf.len() as u32;
                leaf.push(depth as f32 + avg_path_length(part.len() as f64) as f32);
                nodes[node] = Node::leaf(li, 0.0);
            }
        }
    }
    debug_assert!(nodes.iter().all(|n| n.feature == LEAF || n.left > 0));
    Tree { nodes, leaf }
}
