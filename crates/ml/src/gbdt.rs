//! Histogram gradient-boosted trees: features quantised to at most 256 bins, trees grown
//! leaf-wise (best gain first) under depth and leaf limits, second-order gains with L2
//! regularisation, minimum child hessian, shrinkage, row and feature subsampling, and early
//! stopping on a validation set. Binary logistic loss, or softmax with one tree per class and
//! round. Histograms are built in parallel over features (rayon), and the sibling of each
//! split gets its histogram by subtraction.

use crate::rng::Rng;
use crate::tree::{Node, Tree, LEAF};
use crate::Boosted;
use rayon::prelude::*;

/// GBDT hyper-parameters.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GbdtParams {
    /// Maximum boosting rounds.
    pub rounds: usize,
    /// Shrinkage.
    pub learning_rate: f32,
    /// Maximum depth of a tree.
    pub max_depth: u32,
    /// Maximum leaves of a tree.
    pub max_leaves: usize,
    /// Minimum sum of hessians in a child.
    pub min_child_weight: f64,
    /// Minimum rows in a child.
    pub min_child_rows: u32,
    /// L2 regularisation of leaf weights.
    pub lambda: f64,
    /// Minimum gain to split.
    pub min_gain: f64,
    /// Fraction of rows per round.
    pub subsample: f64,
    /// Fraction of features per tree.
    pub colsample: f64,
    /// Stop after this many rounds without validation improvement.
    pub early_stopping: usize,
    /// Maximum bins per feature (at most 256).
    pub max_bins: usize,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            rounds: 300,
            learning_rate: 0.1,
            max_depth: 8,
            max_leaves: 31,
            min_child_weight: 1.0,
            min_child_rows: 10,
            lambda: 1.0,
            min_gain: 0.0,
            subsample: 0.8,
            colsample: 0.8,
            early_stopping: 20,
            max_bins: 256,
        }
    }
}

/// Quantised features: per feature, the split thresholds and each row's bin (column-major).
pub(crate) struct Binned {
    pub thresholds: Vec<Vec<f32>>,
    pub bins: Vec<u8>,
    pub rows: usize,
}

/// Thresholds for one feature: midpoints between distinct values (or between quantiles
/// when there are more distinct values than bins).
fn feature_thresholds(mut vals: Vec<f32>, max_bins: usize) -> Vec<f32> {
    vals.sort_unstable_by(f32::total_cmp);
    let mut distinct: Vec<(f32, usize)> = Vec::new();
    for v in vals {
        match distinct.last_mut() {
            Some((last, c)) if *last == v => *c += 1,
            _ => distinct.push((v, 1)),
        }
    }
    if distinct.len() <= 1 {
        return Vec::new();
    }
    let mid = |a: f32, b: f32| {
        let m = a + (b - a) / 2.0;
        if m >= b {
            a
        } else {
            m
        }
    };
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| mid(w[0].0, w[1].0)).collect();
    }
    // Equal-frequency cut points.
    let total: usize = distinct.iter().map(|d| d.1).sum();
    let per_bin = total as f64 / max_bins as f64;
    let mut out = Vec::new();
    let mut acc = 0usize;
    let mut next = per_bin;
    for w in distinct.windows(2) {
        acc += w[0].1;
        if acc as f64 >= next {
            out.push(mid(w[0].0, w[1].0));
            while next <= acc as f64 {
                next += per_bin;
            }
            if out.len() + 1 >= max_bins {
                break;
            }
        }
    }
    out
}

impl Binned {
    /// Learns thresholds from (a sample of) `x` and bins it.
    pub fn fit(x: &[f32], d: usize, max_bins: usize, rng: &mut Rng) -> Binned {
        let n = x.len() / d.max(1);
        let sample: Vec<usize> = if n > 100_000 {
            (0..100_000).map(|_| rng.below(n)).collect()
        } else {
            (0..n).collect()
        };
        let max_bins = max_bins.clamp(2, 256);
        let thresholds: Vec<Vec<f32>> = (0..d)
            .into_par_iter()
            .map(|f| feature_thresholds(sample.iter().map(|&i| x[i * d + f]).collect(), max_bins))
            .collect();
        let mut b = Binned {
            thresholds,
            bins: Vec::new(),
            rows: 0,
        };
        b.bins = b.bin(x, d);
        b.rows = n;
        b
    }

    /// Bins rows with these thresholds (column-major).
    pub fn bin(&self, x: &[f32], d: usize) -> Vec<u8> {
        let n = x.len() / d.max(1);
        let mut bins = vec![0u8; n * d];
        bins.par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(f, col)| {
                let t = &self.thresholds[f];
                for (i, b) in col.iter_mut().enumerate() {
                    let v = x[i * d + f];
                    *b = t.partition_point(|&th| v > th) as u8;
                }
            });
        bins
    }
}

#[derive(Clone, Copy, Default)]
struct Bin {
    g: f64,
    h: f64,
    n: u32,
}

#[derive(Clone, Copy)]
struct Split {
    gain: f64,
    feature: usize,
    bin: usize,
}

struct OpenLeaf {
    node: usize,
    start: usize,
    end: usize,
    g: f64,
    h: f64,
    depth: u32,
    hist: Vec<Bin>,
    best: Option<Split>,
}

const NB: usize = 256;

struct Grower<'a> {
    p: &'a GbdtParams,
    bins: &'a [u8],
    n: usize,
    features: &'a [usize],
    d: usize,
    g: &'a [f32],
    h: &'a [f32],
}

impl Grower<'_> {
    fn weight(&self, g: f64, h: f64) -> f32 {
        (-g / (h + self.p.lambda)) as f32 * self.p.learning_rate
    }

    fn build_hist(&self, rows: &[u32]) -> Vec<Bin> {
        let mut hist = vec![Bin::default(); self.d * NB];
        let used = self.features;
        hist.par_chunks_mut(NB).enumerate().for_each(|(f, hb)| {
            if used.binary_search(&f).is_err() {
                return;
            }
            let col = &self.bins[f * self.n..(f + 1) * self.n];
            for &r in rows {
                let r = r as usize;
                let b = &mut hb[col[r] as usize];
                b.g += f64::from(self.g[r]);
                b.h += f64::from(self.h[r]);
                b.n += 1;
            }
        });
        hist
    }

    fn best_split(&self, hist: &[Bin], g: f64, h: f64, n: u32) -> Option<Split> {
        let p = self.p;
        let parent = g * g / (h + p.lambda);
        let mut best: Option<Split> = None;
        for &f in self.features {
            let hb = &hist[f * NB..(f + 1) * NB];
            let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0u32);
            for (b, bin) in hb.iter().enumerate().take(NB - 1) {
                gl += bin.g;
                hl += bin.h;
                nl += bin.n;
                if nl == 0 {
                    continue;
                }
                let nr = n - nl;
                if nr < p.min_child_rows {
                    break;
                }
                let (gr, hr) = (g - gl, h - hl);
                if nl < p.min_child_rows || hl < p.min_child_weight || hr < p.min_child_weight {
                    continue;
                }
                let gain = gl * gl / (hl + p.lambda) + gr * gr / (hr + p.lambda) - parent;
                if gain > p.min_gain && best.is_none_or(|s| gain > s.gain) {
                    best = Some(Split {
                        gain,
                        feature: f,
                        bin: b,
                    });
                }
            }
        }
        best
    }

    /// Grows one tree over `idx` (rows of this round); returns the tree and each node's
    /// split bin (for evaluation on binned rows).
    fn grow(&self, idx: &mut [u32], thresholds: &[Vec<f32>]) -> (Tree, Vec<u8>) {
        let (g, h) = idx.iter().fold((0.0, 0.0), |(g, h), &r| {
            (
                g + f64::from(self.g[r as usize]),
                h + f64::from(self.h[r as usize]),
            )
        });
        let mut nodes = vec![Node::leaf(0, self.weight(g, h))];
        let mut split_bins = vec![0u8];
        let hist = self.build_hist(idx);
        let best = self.best_split(&hist, g, h, idx.len() as u32);
        let mut open = vec![OpenLeaf {
            node: 0,
            start: 0,
            end: idx.len(),
            g,
            h,
            depth: 0,
            hist,
            best,
        }];
        let mut closed: Vec<usize> = Vec::new();
        let mut scratch: Vec<u32> = Vec::new();
        while open.len() + closed.len() < self.p.max_leaves {
            // The open leaf with the largest gain.
            let Some((pos, _)) = open
                .iter()
                .enumerate()
                .filter(|(_, l)| l.best.is_some() && l.depth < self.p.max_depth)
                .max_by(|a, b| {
                    let ga = a.1.best.map_or(0.0, |s| s.gain);
                    let gb = b.1.best.map_or(0.0, |s| s.gain);
                    ga.total_cmp(&gb)
                })
            else {
                break;
            };
            let leaf = open.swap_remove(pos);
            let Some(split) = leaf.best else { break };
            // Stable partition of the leaf's rows.
            let col = &self.bins[split.feature * self.n..(split.feature + 1) * self.n];
            let rows = &mut idx[leaf.start..leaf.end];
            scratch.clear();
            let mut w = 0;
            for i in 0..rows.len() {
                let r = rows[i];
                if col[r as usize] as usize <= split.bin {
                    rows[w] = r;
                    w += 1;
                } else {
                    scratch.push(r);
                }
            }
            rows[w..].copy_from_slice(&scratch);
            let mid = leaf.start + w;
            let (mut gl, mut hl) = (0.0, 0.0);
            for &r in &idx[leaf.start..mid] {
                gl += f64::from(self.g[r as usize]);
                hl += f64::from(self.h[r as usize]);
            }
            let (gr, hr) = (leaf.g - gl, leaf.h - hl);
            let left_node = nodes.len();
            nodes.push(Node::leaf(0, self.weight(gl, hl)));
            nodes.push(Node::leaf(0, self.weight(gr, hr)));
            split_bins.push(0);
            split_bins.push(0);
            let th = thresholds[split.feature]
                .get(split.bin)
                .copied()
                .unwrap_or(f32::MAX);
            nodes[leaf.node] = Node {
                feature: split.feature as u32,
                split: th,
                left: left_node as u32,
                right: left_node as u32 + 1,
                value: nodes[leaf.node].value,
            };
            split_bins[leaf.node] = split.bin as u8;
            let (ls, le, rs, re) = (leaf.start, mid, mid, leaf.end);
            let left_small = le - ls <= re - rs;
            let small_hist = if left_small {
                self.build_hist(&idx[ls..le])
            } else {
                self.build_hist(&idx[rs..re])
            };
            let mut big_hist = leaf.hist;
            for (b, s) in big_hist.iter_mut().zip(&small_hist) {
                b.g -= s.g;
                b.h -= s.h;
                b.n -= s.n;
            }
            let (lh, rh) = if left_small {
                (small_hist, big_hist)
            } else {
                (big_hist, small_hist)
            };
            let depth = leaf.depth + 1;
            for (node, start, end, g, h, hist) in [
                (left_node, ls, le, gl, hl, lh),
                (left_node + 1, rs, re, gr, hr, rh),
            ] {
                let best = if depth < self.p.max_depth {
                    self.best_split(&hist, g, h, (end - start) as u32)
                } else {
                    None
                };
                if best.is_some() {
                    open.push(OpenLeaf {
                        node,
                        start,
                        end,
                        g,
                        h,
                        depth,
                        hist,
                        best,
                    });
                } else {
                    closed.push(node);
                }
            }
        }
        // Number the leaves.
        let mut leaf_vals = Vec::new();
        for n in nodes.iter_mut() {
            if n.feature == LEAF {
                n.left = leaf_vals.len() as u32;
                leaf_vals.push(n.value);
            }
        }
        (
            Tree {
                nodes,
                leaf: leaf_vals,
            },
            split_bins,
        )
    }
}

/// Output of a tree on binned row `r` of a column-major bin matrix with `n` rows.
fn binned_output(t: &Tree, split_bins: &[u8], bins: &[u8], n: usize, r: usize) -> f32 {
    let mut i = 0usize;
    loop {
        let node = &t.nodes[i];
        if node.feature == LEAF {
            return t.leaf[node.left as usize];
        }
        let b = bins[node.feature as usize * n + r];
        i = if b <= split_bins[i] {
            node.left
        } else {
            node.right
        } as usize;
    }
}

fn loss(f: &[f32], y: &[u32], k_out: usize) -> f64 {
    let n = y.len();
    if n == 0 {
        return 0.0;
    }
    let total: f64 = (0..n)
        .into_par_iter()
        .map(|i| {
            if k_out == 1 {
                let p = 1.0 / (1.0 + (-f64::from(f[i])).exp());
                let p = p.clamp(1e-15, 1.0 - 1e-15);
                if y[i] == 1 {
                    -p.ln()
                } else {
                    -(1.0 - p).ln()
                }
            } else {
                let row = &f[i * k_out..(i + 1) * k_out];
                let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let s: f64 = row.iter().map(|&v| f64::from(v - m).exp()).sum();
                let zy = f64::from(row[y[i] as usize] - m);
                s.ln() - zy
            }
        })
        .sum();
    total / n as f64
}

/// Trains boosted trees on `x` (row-major, `d` features) with labels `y` in `0..k`,
/// stopping early on the validation rows `(vx, vy)` when given. Returns the model and the
/// rounds kept.
pub(crate) fn train(
    x: &[f32],
    y: &[u32],
    d: usize,
    k: usize,
    valid: Option<(&[f32], &[u32])>,
    p: &GbdtParams,
    seed: u64,
) -> (Boosted, usize) {
    let n = y.len();
    let k_out = if k == 2 { 1 } else { k };
    let mut rng = Rng::new(seed);
    let binned = Binned::fit(x, d, p.max_bins, &mut rng);
    let vbins = valid.map(|(vx, _)| binned.bin(vx, d));
    let vn = valid.map_or(0, |(_, vy)| vy.len());

    // Base scores: log-odds / log-priors.
    let mut counts = vec![0f64; k];
    for &c in y {
        counts[c as usize] += 1.0;
    }
    let base: Vec<f32> = if k_out == 1 {
        let p1 = (counts[1] / n as f64).clamp(1e-6, 1.0 - 1e-6);
        vec![(p1 / (1.0 - p1)).ln() as f32]
    } else {
        counts
            .iter()
            .map(|&c| ((c.max(1.0)) / n as f64).ln() as f32)
            .collect()
    };
    let mut f: Vec<f32> = (0..n).flat_map(|_| base.iter().copied()).collect();
    let mut vf: Vec<f32> = (0..vn).flat_map(|_| base.iter().copied()).collect();
    let mut g = vec![0f32; n];
    let mut h = vec![0f32; n];
    let mut trees: Vec<Tree> = Vec::new();
    let mut tree_output: Vec<u32> = Vec::new();
    let mut best_loss = f64::INFINITY;
    let mut best_round = 0usize;
    let mut probs = vec![0f32; n * k_out];

    for round in 0..p.rounds {
        // Probabilities for gradients.
        if k_out == 1 {
            probs
                .par_iter_mut()
                .zip(&f)
                .for_each(|(p, &z)| *p = 1.0 / (1.0 + (-z).exp()));
        } else {
            probs
                .par_chunks_mut(k_out)
                .zip(f.par_chunks(k_out))
                .for_each(|(p, z)| {
                    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut s = 0.0;
                    for (pi, &zi) in p.iter_mut().zip(z) {
                        *pi = (zi - m).exp();
                        s += *pi;
                    }
                    for pi in p.iter_mut() {
                        *pi /= s;
                    }
                });
        }
        let mut idx: Vec<u32> = if p.subsample < 1.0 {
            (0..n as u32).filter(|_| rng.f64() < p.subsample).collect()
        } else {
            (0..n as u32).collect()
        };
        for out in 0..k_out {
            let mut feats: Vec<usize> = (0..d).filter(|_| rng.f64() < p.colsample).collect();
            if feats.is_empty() {
                feats.push(rng.below(d));
            }
            g.par_iter_mut()
                .zip(h.par_iter_mut())
                .enumerate()
                .for_each(|(i, (gi, hi))| {
                    let pr = probs[i * k_out + out];
                    let yi = if k_out == 1 {
                        y[i] == 1
                    } else {
                        y[i] as usize == out
                    };
                    *gi = pr - if yi { 1.0 } else { 0.0 };
                    *hi = (pr * (1.0 - pr)).max(1e-6);
                });
            let grower = Grower {
                p,
                bins: &binned.bins,
                n,
                features: &feats,
                d,
                g: &g,
                h: &h,
            };
            let (tree, split_bins) = grower.grow(&mut idx, &binned.thresholds);
            f.par_chunks_mut(k_out).enumerate().for_each(|(r, fr)| {
                fr[out] += binned_output(&tree, &split_bins, &binned.bins, n, r);
            });
            if let Some(vb) = &vbins {
                vf.par_chunks_mut(k_out).enumerate().for_each(|(r, fr)| {
                    fr[out] += binned_output(&tree, &split_bins, vb, vn, r);
                });
            }
            trees.push(tree);
            tree_output.push(out as u32);
        }
        if let Some((_, vy)) = valid {
            let l = loss(&vf, vy, k_out);
            if l < best_loss - 1e-7 {
                best_loss = l;
                best_round = round + 1;
            } else if round + 1 - best_round >= p.early_stopping {
                break;
            }
        } else {
            best_round = round + 1;
        }
        tracing::debug!(round, "boosting round done");
    }
    trees.truncate(best_round * k_out);
    tree_output.truncate(best_round * k_out);
    (
        Boosted {
            trees,
            tree_output,
            base,
            post: crate::Post::Logistic,
        },
        best_round,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_split_distinct_values() {
        assert_eq!(feature_thresholds(vec![1.0, 0.0, 1.0], 256), vec![0.5]);
        assert!(feature_thresholds(vec![3.0; 10], 256).is_empty());
        let t = feature_thresholds((0..10_000).map(|i| i as f32).collect(), 16);
        assert!(t.len() <= 15 && t.len() >= 10, "{}", t.len());
    }

    #[test]
    fn learns_xor() {
        // XOR of two features is not linearly separable; depth-2 trees get it.
        let mut rng = Rng::new(1);
        let n = 2000;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let a = rng.f64() as f32;
            let b = rng.f64() as f32;
            x.extend([a, b]);
            y.push(u32::from((a > 0.5) != (b > 0.5)));
        }
        let p = GbdtParams {
            rounds: 50,
            ..GbdtParams::default()
        };
        let (m, rounds) = train(&x, &y, 2, 2, None, &p, 7);
        assert_eq!(rounds, 50);
        let mut correct = 0;
        for i in 0..n {
            let z: f32 = m.base[0]
                + m.trees
                    .iter()
                    .map(|t| t.output(&x[i * 2..i * 2 + 2]))
                    .sum::<f32>();
            if u32::from(z > 0.0) == y[i] {
                correct += 1;
            }
        }
        assert!(correct as f64 / n as f64 > 0.97, "{correct}");
    }
}
