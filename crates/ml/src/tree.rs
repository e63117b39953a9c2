//! Flat binary decision trees shared by every tree model (GBDT, random forest, isolation
//! forest, imported ONNX tree ensembles), their evaluation and path attribution.

use serde::{Deserialize, Serialize};

/// `Node::feature` of a leaf.
pub(crate) const LEAF: u32 = u32::MAX;

/// One node. Internal: `x[feature] <= split` goes to `left`, else (and NaN) to `right`.
/// Leaf: `feature == LEAF` and `left` is the leaf's index into [`Tree::leaf`] (times the
/// ensemble's leaf width). `value` is the node's output had the tree stopped here (used by
/// path attribution: a split's contribution is the change of `value` it causes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Node {
    pub feature: u32,
    pub split: f32,
    pub left: u32,
    pub right: u32,
    pub value: f32,
}

impl Node {
    pub fn leaf(leaf_index: u32, value: f32) -> Node {
        Node {
            feature: LEAF,
            split: 0.0,
            left: leaf_index,
            right: 0,
            value,
        }
    }
}

/// A tree: nodes in an array where children always come after their parent (so a walk
/// terminates), and the leaf outputs (`width` values per leaf).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    pub leaf: Vec<f32>,
}

/// The file form of a tree: one array per node field (compact JSON).
#[derive(Serialize, Deserialize)]
pub(crate) struct TreeFile {
    feature: Vec<u32>,
    split: Vec<f32>,
    left: Vec<u32>,
    right: Vec<u32>,
    value: Vec<f32>,
    leaf: Vec<f32>,
}

#[inline]
fn feat(x: &[f32], f: u32) -> f32 {
    // Validated models index below n_features; a short input reads missing features as 0.
    x.get(f as usize).copied().unwrap_or(0.0)
}

impl Tree {
    /// Index of the leaf `x` falls into.
    #[inline]
    pub fn leaf_index(&self, x: &[f32]) -> usize {
        let mut i = 0usize;
        loop {
            let Some(n) = self.nodes.get(i) else {
                return 0;
            };
            if n.feature == LEAF {
                return n.left as usize;
            }
            i = if feat(x, n.feature) <= n.split {
                n.left
            } else {
                n.right
            } as usize;
        }
    }

    /// The single output of a width-1 tree.
    #[inline]
    pub fn output(&self, x: &[f32]) -> f32 {
        self.leaf.get(self.leaf_index(x)).copied().unwrap_or(0.0)
    }

    /// The leaf's `width` outputs.
    #[inline]
    pub fn outputs(&self, x: &[f32], width: usize) -> &[f32] {
        let i = self.leaf_index(x) * width;
        self.leaf.get(i..i + width).unwrap_or(&[])
    }

    /// Depth of the leaf `x` falls into and that leaf's index.
    #[inline]
    pub fn depth_and_leaf(&self, x: &[f32]) -> (u32, usize) {
        let mut i = 0usize;
        let mut depth = 0;
        loop {
            let Some(n) = self.nodes.get(i) else {
                return (depth, 0);
            };
            if n.feature == LEAF {
                return (depth, n.left as usize);
            }
            depth += 1;
            i = if feat(x, n.feature) <= n.split {
                n.left
            } else {
                n.right
            } as usize;
        }
    }

    /// Adds `weight * (value(child) - value(node))` to `contrib[feature]` for each split on
    /// the path of `x` (Saabas path attribution).
    pub fn attribute(&self, x: &[f32], weight: f32, add: &mut impl FnMut(usize, f32)) {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.feature == LEAF {
                return;
            }
            let next = if feat(x, n.feature) <= n.split {
                n.left
            } else {
                n.right
            } as usize;
            let child_value = self.nodes.get(next).map_or(n.value, |c| c.value);
            add(n.feature as usize, weight * (child_value - n.value));
            i = next;
        }
    }

    /// Adds `weight` to `contrib[feature]` for each split on the path of `x`.
    pub fn count_splits(&self, x: &[f32], weight: f32, add: &mut impl FnMut(usize, f32)) {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.feature == LEAF {
                return;
            }
            add(n.feature as usize, weight);
            i = if feat(x, n.feature) <= n.split {
                n.left
            } else {
                n.right
            } as usize;
        }
    }

    /// Checks every index so that evaluation can neither loop nor read out of range: children
    /// come strictly after their parent and inside the array, each node is reached once,
    /// features are below `n_features`, leaf indices inside `leaf` (with `width` values each),
    /// numbers finite.
    pub fn validate(&self, n_features: usize, width: usize) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("tree has no nodes".into());
        }
        let n = self.nodes.len();
        let mut seen = vec![false; n];
        if let Some(s) = seen.first_mut() {
            *s = true;
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if !seen.get(i).copied().unwrap_or(false) {
                return Err(format!("node {i} is not reachable from the root"));
            }
            if !node.value.is_finite() {
                return Err(format!("node {i} has a non-finite value"));
            }
            if node.feature == LEAF {
                let start = node.left as usize * width;
                if width == 0 || start + width > self.leaf.len() {
                    return Err(format!(
                        "leaf node {i} points to leaf {} outside the {} leaf values",
                        node.left,
                        self.leaf.len()
                    ));
                }
                continue;
            }
            if node.feature as usize >= n_features {
                return Err(format!(
                    "node {i} splits on feature {} but the model has {n_features} features",
                    node.feature
                ));
            }
            if node.split.is_nan() {
                return Err(format!("node {i} has a NaN split"));
            }
            for child in [node.left as usize, node.right as usize] {
                if child <= i || child >= n {
                    return Err(format!(
                        "node {i} has child {child} (must be after the node and below {n})"
                    ));
                }
                let Some(s) = seen.get_mut(child) else {
                    return Err(format!("node {i} child {child} out of range"));
                };
                if *s {
                    return Err(format!("node {child} has two parents"));
                }
                *s = true;
            }
        }
        if self.leaf.iter().any(|v| !v.is_finite()) {
            return Err("non-finite leaf value".into());
        }
        Ok(())
    }

    pub fn to_file(&self) -> TreeFile {
        TreeFile {
            feature: self.nodes.iter().map(|n| n.feature).collect(),
            split: self.nodes.iter().map(|n| n.split).collect(),
            left: self.nodes.iter().map(|n| n.left).collect(),
            right: self.nodes.iter().map(|n| n.right).collect(),
            value: self.nodes.iter().map(|n| n.value).collect(),
            leaf: self.leaf.clone(),
        }
    }

    pub fn from_file(f: TreeFile) -> Result<Tree, String> {
        let n = f.feature.len();
        if f.split.len() != n || f.left.len() != n || f.right.len() != n || f.value.len() != n {
            return Err("tree node arrays differ in length".into());
        }
        let nodes = (0..n)
            .map(|i| Node {
                feature: f.feature[i],
                split: f.split[i],
                left: f.left[i],
                right: f.right[i],
                value: f.value[i],
            })
            .collect();
        Ok(Tree {
            nodes,
            leaf: f.leaf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> Tree {
        Tree {
            nodes: vec![
                Node {
                    feature: 0,
                    split: 1.0,
                    left: 1,
                    right: 2,
                    value: 0.5,
                },
                Node::leaf(0, 0.1),
                Node::leaf(1, 0.9),
            ],
            leaf: vec![0.1, 0.9],
        }
    }

    #[test]
    fn walks_and_attributes() {
        let t = stump();
        assert_eq!(t.output(&[0.5]), 0.1);
        assert_eq!(t.output(&[1.5]), 0.9);
        assert_eq!(t.output(&[f32::NAN]), 0.9);
        let mut c = [0.0f32];
        t.attribute(&[2.0], 1.0, &mut |f, v| c[f] += v);
        assert!((c[0] - 0.4).abs() < 1e-6);
        assert!(t.validate(1, 1).is_ok());
    }

    #[test]
    fn rejects_cycles_and_bad_indices() {
        let mut t = stump();
        t.nodes[0].left = 0;
        assert!(t.validate(1, 1).unwrap_err().contains("child 0"));
        let mut t = stump();
        t.nodes[0].right = 1;
        assert!(t.validate(1, 1).unwrap_err().contains("two parents"));
        let mut t = stump();
        t.nodes[0].feature = 7;
        assert!(t.validate(1, 1).unwrap_err().contains("feature 7"));
        let mut t = stump();
        t.nodes[2].left = 99;
        assert!(t.validate(1, 1).unwrap_err().contains("leaf 99"));
        let mut t = stump();
        t.nodes[1].value = f32::INFINITY;
        assert!(t.validate(1, 1).is_err());
    }
}
