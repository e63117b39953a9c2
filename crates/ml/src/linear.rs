//! Logistic (softmax for more than two classes) regression on standardised features with
//! L2 regularisation and optional balanced class weights, fitted by mini-batch Adam over
//! shuffled epochs (seeded).

use crate::rng::Rng;
use crate::Linear;

/// Logistic regression hyper-parameters.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LogisticParams {
    /// Passes over the data.
    pub epochs: usize,
    /// Rows per gradient step.
    pub batch: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// L2 penalty on the weights (not the bias).
    pub l2: f32,
    /// Weight classes inversely to their frequency.
    pub balanced: bool,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            epochs: 15,
            batch: 256,
            learning_rate: 0.01,
            l2: 1e-4,
            balanced: true,
        }
    }
}

/// Standardised values are clipped to this many standard deviations, so heavy-tailed
/// counters (bytes) cannot dominate.
const CLIP: f32 = 10.0;

pub(crate) fn train(
    x: &[f32],
    y: &[u32],
    d: usize,
    k: usize,
    p: &LogisticParams,
    seed: u64,
) -> Linear {
    let n = y.len();
    let outputs = if k == 2 { 1 } else { k };
    let mut mean = vec![0f64; d];
    let mut sq = vec![0f64; d];
    for i in 0..n {
        for j in 0..d {
            let v = f64::from(x[i * d + j]);
            mean[j] += v;
            sq[j] += v * v;
        }
    }
    let mean: Vec<f32> = mean.iter().map(|m| (m / n as f64) as f32).collect();
    let scale: Vec<f32> = sq
        .iter()
        .zip(&mean)
        .map(|(s, &m)| {
            let var = s / n as f64 - f64::from(m) * f64::from(m);
            let sd = var.max(0.0).sqrt() as f32;
            if sd > 1e-6 {
                sd
            } else {
                1.0
            }
        })
        .collect();
    let mut counts = vec![0f32; k];
    for &c in y {
        counts[c as usize] += 1.0;
    }
    let cw: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if p.balanced {
                n as f32 / (k as f32 * c.max(1.0))
            } else {
                1.0
            }
        })
        .collect();
    let mut w = vec![0f32; outputs * d];
    let mut b = vec![0f32; outputs];
    let (mut mw, mut vw) = (vec![0f32; w.len()], vec![0f32; w.len()]);
    let (mut mb, mut vb) = (vec![0f32; outputs], vec![0f32; outputs]);
    let mut gw = vec![0f32; w.len()];
    let mut gb = vec![0f32; outputs];
    let mut z = vec![0f32; outputs.max(2)];
    let mut xs = vec![0f32; d];
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed);
    let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let mut step = 0i32;
    for _ in 0..p.epochs {
        rng.shuffle(&mut order);
        for batch in order.chunks(p.batch.max(1)) {
            gw.fill(0.0);
            gb.fill(0.0);
            let mut wsum = 0.0;
            for &i in batch {
                let row = &x[i * d..(i + 1) * d];
                for j in 0..d {
                    xs[j] = ((row[j] - mean[j]) / scale[j]).clamp(-CLIP, CLIP);
                }
                for o in 0..outputs {
                    let wo = &w[o * d..(o + 1) * d];
                    z[o] = b[o] + wo.iter().zip(&xs).map(|(a, c)| a * c).sum::<f32>();
                }
                let cwi = cw[y[i] as usize];
                wsum += cwi;
                if outputs == 1 {
                    let pr = 1.0 / (1.0 + (-z[0]).exp());
                    let e = (pr - if y[i] == 1 { 1.0 } else { 0.0 }) * cwi;
                    for j in 0..d {
                        gw[j] += e * xs[j];
                    }
                    gb[0] += e;
                } else {
                    let m = z[..outputs]
                        .iter()
                        .copied()
                        .fold(f32::NEG_INFINITY, f32::max);
                    let mut s = 0.0;
                    for v in z[..outputs].iter_mut() {
                        *v = (*v - m).exp();
                        s += *v;
                    }
                    for o in 0..outputs {
                        let pr = z[o] / s;
                        let e = (pr - if y[i] as usize == o { 1.0 } else { 0.0 }) * cwi;
                        let g = &mut gw[o * d..(o + 1) * d];
                        for j in 0..d {
                            g[j] += e * xs[j];
                        }
                        gb[o] += e;
                    }
                }
            }
            let inv = 1.0 / wsum.max(1e-12);
            step += 1;
            let c1 = 1.0 - b1.powi(step);
            let c2 = 1.0 - b2.powi(step);
            for j in 0..w.len() {
                let g = gw[j] * inv + p.l2 * w[j];
                mw[j] = b1 * mw[j] + (1.0 - b1) * g;
                vw[j] = b2 * vw[j] + (1.0 - b2) * g * g;
                w[j] -= p.learning_rate * (mw[j] / c1) / ((vw[j] / c2).sqrt() + eps);
            }
            for o in 0..outputs {
                let g = gb[o] * inv;
                mb[o] = b1 * mb[o] + (1.0 - b1) * g;
                vb[o] = b2 * vb[o] + (1.0 - b2) * g * g;
                b[o] -= p.learning_rate * (mb[o] / c1) / ((vb[o] / c2).sqrt() + eps);
            }
        }
    }
    Linear {
        clip: CLIP,
        mean,
        scale,
        weights: w,
        bias: b,
        outputs,
    }
}
