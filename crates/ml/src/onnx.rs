//! Import of scikit-learn models exported to ONNX (skl2onnx): the graph's classifier
//! operator is converted into vedette's own model structures, so an imported model is
//! validated like any model file and scores at native speed without an ONNX runtime in the
//! packet path.
//!
//! Supported operators (domain `ai.onnx.ml`): `TreeEnsembleClassifier` (decision trees,
//! random and extra-trees forests, gradient boosting; post_transform NONE, LOGISTIC or
//! SOFTMAX; BRANCH_LEQ/LT/GTE/GT nodes) and `LinearClassifier` (logistic regression: binary,
//! or multinomial with SOFTMAX). Around them only `ZipMap`, `Cast`, `Identity` and the L1
//! `Normalizer` skl2onnx appends are accepted; anything else (scalers, neural networks) is
//! an error naming the operator.

use crate::data::{ClassMode, ColumnSpec, Encoder};
use crate::tree::{Node, Tree, LEAF};
use crate::{Body, Boosted, Linear, MlError, Model, ModelKind, Post, MAX_CLASSES};
use std::collections::HashMap;
use std::path::Path;

/// Largest ONNX file read.
pub const MAX_ONNX_BYTES: u64 = 256 * 1024 * 1024;
/// Largest number of tree nodes in one ensemble.
pub const MAX_NODES: usize = 10_000_000;

/// Import options.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Feature names in input order (default f0, f1, ...).
    pub feature_names: Vec<String>,
    /// Model name (default: the file name).
    pub name: Option<String>,
    /// Index of the normal class among the ONNX model's classes.
    pub normal_class: usize,
}

// The subset of onnx.proto that import reads (field numbers from the ONNX specification).
#[derive(Clone, PartialEq, prost::Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "11")]
    input: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(string, tag = "7")]
    domain: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct AttributeProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(float, tag = "2")]
    f: f32,
    #[prost(int64, tag = "3")]
    i: i64,
    #[prost(bytes = "vec", tag = "4")]
    s: Vec<u8>,
    #[prost(float, repeated, tag = "7")]
    floats: Vec<f32>,
    #[prost(int64, repeated, tag = "8")]
    ints: Vec<i64>,
    #[prost(bytes = "vec", repeated, tag = "9")]
    strings: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ValueInfoProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TypeProto {
    #[prost(message, optional, tag = "1")]
    tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    elem_type: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<ShapeProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ShapeProto {
    #[prost(message, repeated, tag = "1")]
    dim: Vec<DimProto>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DimProto {
    #[prost(int64, tag = "1")]
    dim_value: i64,
    #[prost(string, tag = "2")]
    dim_param: String,
}

struct Attrs<'a>(&'a [AttributeProto]);

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&AttributeProto> {
        self.0.iter().find(|a| a.name == name)
    }
    fn ints(&self, name: &str) -> &[i64] {
        self.get(name).map_or(&[], |a| a.ints.as_slice())
    }
    fn floats(&self, name: &str) -> &[f32] {
        self.get(name).map_or(&[], |a| a.floats.as_slice())
    }
    fn string(&self, name: &str) -> String {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
            .unwrap_or_default()
    }
    fn strings(&self, name: &str) -> Vec<String> {
        self.get(name).map_or(Vec::new(), |a| {
            a.strings
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
    }
    /// Class labels as strings (int64 or string labels).
    fn class_labels(&self) -> Vec<String> {
        let mut ints = self.ints("classlabels_int64s");
        if ints.is_empty() {
            ints = self.ints("classlabels_ints");
        }
        if !ints.is_empty() {
            return ints.iter().map(|i| i.to_string()).collect();
        }
        self.strings("classlabels_strings")
    }
}

/// Converts an ONNX model into a vedette model.
pub fn import(path: &Path, o: &ImportOptions) -> Result<Model, MlError> {
    let bad = |reason: String| MlError::Onnx {
        file: path.to_path_buf(),
        reason,
    };
    let bytes = crate::file::read_capped(path, MAX_ONNX_BYTES)?
        .ok_or_else(|| bad(format!("larger than {MAX_ONNX_BYTES} bytes")))?;
    let name = o.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "onnx".into())
    });
    import_bytes(&bytes, o, name).map_err(bad)
}

fn import_bytes(bytes: &[u8], o: &ImportOptions, name: String) -> Result<Model, String> {
    let model = <ModelProto as prost::Message>::decode(bytes)
        .map_err(|e| format!("not an ONNX protobuf file: {e}"))?;
    let graph = model.graph.ok_or("the model has no graph")?;
    let mut classifier: Option<&NodeProto> = None;
    for n in &graph.node {
        match n.op_type.as_str() {
            "TreeEnsembleClassifier" | "LinearClassifier" => {
                if classifier.replace(n).is_some() {
                    return Err("more than one classifier operator in the graph".into());
                }
            }
            "ZipMap" | "Cast" | "Identity" => {}
            "Normalizer" => {
                let norm = Attrs(&n.attribute).string("norm");
                if norm != "L1" {
                    return Err(format!("Normalizer with norm {norm} is not supported"));
                }
            }
            other => {
                return Err(format!(
                    "operator {other} is not supported (import converts TreeEnsembleClassifier and LinearClassifier graphs; put scaling inside the model or train without it)"
                ))
            }
        }
    }
    let node = classifier.ok_or("no TreeEnsembleClassifier or LinearClassifier in the graph")?;
    // Feature count from the input shape [N, d].
    let declared = graph
        .input
        .first()
        .and_then(|i| i.r#type.as_ref())
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .and_then(|s| s.dim.get(1))
        .map(|d| d.dim_value)
        .filter(|&d| d > 0);
    let a = Attrs(&node.attribute);
    let classes = a.class_labels();
    let k = classes.len();
    if !(2..=MAX_CLASSES).contains(&k) {
        return Err(format!("{k} classes (must be 2..={MAX_CLASSES})"));
    }
    if o.normal_class >= k {
        return Err(format!(
            "normal class {} but the model has {k} classes",
            o.normal_class
        ));
    }
    let (kind, body, d_used) = match node.op_type.as_str() {
        "TreeEnsembleClassifier" => tree_ensemble(&a, k)?,
        _ => linear(&a, k)?,
    };
    let d = match declared {
        Some(d) => {
            let d = usize::try_from(d).map_err(|_| "bad input shape")?;
            if d < d_used {
                return Err(format!(
                    "input has {d} features but the model reads feature {}",
                    d_used - 1
                ));
            }
            d
        }
        None => d_used,
    };
    if d == 0 || d > crate::file::MAX_FEATURES {
        return Err(format!("{d} features"));
    }
    let names: Vec<String> = if o.feature_names.is_empty() {
        (0..d).map(|i| format!("f{i}")).collect()
    } else if o.feature_names.len() == d {
        o.feature_names.clone()
    } else {
        return Err(format!(
            "{} feature names given, the model has {d} inputs",
            o.feature_names.len()
        ));
    };
    let mut m = Model {
        name,
        kind,
        encoder: Encoder {
            columns: names
                .iter()
                .map(|n| ColumnSpec::Numeric { name: n.clone() })
                .collect(),
        },
        feature_names: names,
        class_names: classes,
        class_mode: if k == 2 {
            ClassMode::Binary
        } else {
            ClassMode::Category
        },
        format: None,
        threshold: 0.5,
        body,
        info: serde_json::json!({"imported": "onnx", "operator": node.op_type}),
    };
    if o.normal_class != 0 {
        move_class_first(&mut m, o.normal_class)?;
    }
    // Final check through the same validation as model files.
    let mut buf = Vec::new();
    crate::file::write_to(&m, &mut buf).map_err(|e| e.to_string())?;
    crate::file::from_bytes(&buf).map_err(|e| format!("converted model is invalid: {e}"))
}

fn next_down(x: f32) -> f32 {
    if x.is_nan() || x == f32::NEG_INFINITY {
        return x;
    }
    if x == 0.0 {
        return -f32::from_bits(1);
    }
    let b = x.to_bits();
    f32::from_bits(if x > 0.0 { b - 1 } else { b + 1 })
}

/// One ONNX tree: node id → (mode, feature, value, true id, false id).
type OnnxTree = HashMap<i64, (String, i64, f32, i64, i64)>;

fn tree_ensemble(a: &Attrs<'_>, k: usize) -> Result<(ModelKind, Body, usize), String> {
    let tids = a.ints("nodes_treeids");
    let nids = a.ints("nodes_nodeids");
    let feats = a.ints("nodes_featureids");
    let vals = a.floats("nodes_values");
    let modes = a.strings("nodes_modes");
    let tru = a.ints("nodes_truenodeids");
    let fal = a.ints("nodes_falsenodeids");
    let n = tids.len();
    if n == 0 || n > MAX_NODES {
        return Err(format!("{n} tree nodes"));
    }
    if [
        nids.len(),
        feats.len(),
        vals.len(),
        modes.len(),
        tru.len(),
        fal.len(),
    ]
    .iter()
    .any(|&l| l != n)
    {
        return Err("tree node attributes differ in length".into());
    }
    let mut trees: std::collections::BTreeMap<i64, OnnxTree> = Default::default();
    for i in 0..n {
        trees.entry(tids[i]).or_default().insert(
            nids[i],
            (modes[i].clone(), feats[i], vals[i], tru[i], fal[i]),
        );
    }
    // Leaf weights: (tree, node) -> [(class, weight)].
    let ct = a.ints("class_treeids");
    let cn = a.ints("class_nodeids");
    let ci = a.ints("class_ids");
    let cw = a.floats("class_weights");
    if ct.len() != cn.len() || ct.len() != ci.len() || ct.len() != cw.len() {
        return Err("class weight attributes differ in length".into());
    }
    let mut weights: HashMap<(i64, i64), Vec<(usize, f32)>> = HashMap::new();
    let mut used_classes = std::collections::BTreeSet::new();
    for j in 0..ct.len() {
        let c = usize::try_from(ci[j])
            .ok()
            .filter(|&c| c < k)
            .ok_or("class id out of range")?;
        used_classes.insert(c);
        weights.entry((ct[j], cn[j])).or_default().push((c, cw[j]));
    }
    let post_transform = a.string("post_transform");
    let base = a.floats("base_values");
    // One score (binary with weights for a single class) or one per class.
    let single = k == 2 && used_classes.len() == 1;
    let outputs = if single { 1 } else { k };
    let post = match post_transform.as_str() {
        "" | "NONE" => Post::Identity,
        "LOGISTIC" if single => Post::Logistic,
        "SOFTMAX" if !single => Post::Logistic,
        other => return Err(format!("post_transform {other} is not supported here")),
    };
    let mut out_trees = Vec::new();
    let mut tree_output = Vec::new();
    let mut max_feature = 0usize;
    for (&tid, nodes) in &trees {
        // Classes this tree scores.
        let mut tree_classes = std::collections::BTreeSet::new();
        for &id in nodes.keys() {
            if let Some(w) = weights.get(&(tid, id)) {
                tree_classes.extend(w.iter().map(|&(c, _)| c));
            }
        }
        for &c in &tree_classes {
            let out = if single { 0 } else { c };
            let t = convert_tree(tid, nodes, &weights, c, &mut max_feature)?;
            out_trees.push(t);
            tree_output.push(out as u32);
        }
    }
    let base: Vec<f32> = if single {
        // Binary with one score column: it is the second class's score, whatever class id
        // the weights carry (the ONNX runtime convention skl2onnx relies on).
        vec![base.first().copied().unwrap_or(0.0)]
    } else if base.is_empty() {
        vec![0.0; outputs]
    } else if base.len() == k {
        base.to_vec()
    } else {
        return Err(format!("{} base values for {k} classes", base.len()));
    };
    // Random forests sum probabilities (Identity); anything with a transform is boosting.
    let kind = if post == Post::Identity {
        ModelKind::RandomForest
    } else {
        ModelKind::Gbdt
    };
    Ok((
        kind,
        Body::Boosted(Boosted {
            trees: out_trees,
            tree_output,
            base,
            post,
        }),
        max_feature + 1,
    ))
}

fn negate(t: &mut Tree) {
    for v in &mut t.leaf {
        *v = -*v;
    }
    for n in &mut t.nodes {
        n.value = -n.value;
    }
}

/// One ONNX tree's scores for class `c`, renumbered breadth-first from the root so that
/// children follow parents (a cycle or a missing node is an error).
fn convert_tree(
    tid: i64,
    nodes: &OnnxTree,
    weights: &HashMap<(i64, i64), Vec<(usize, f32)>>,
    c: usize,
    max_feature: &mut usize,
) -> Result<Tree, String> {
    // The root is the node no other node points to.
    let mut children = std::collections::HashSet::new();
    for (mode, _, _, t, f) in nodes.values() {
        if mode != "LEAF" {
            children.insert(*t);
            children.insert(*f);
        }
    }
    let root = nodes
        .keys()
        .copied()
        .filter(|id| !children.contains(id))
        .min()
        .ok_or_else(|| format!("tree {tid} has no root (cycle)"))?;
    let mut out: Vec<Node> = Vec::new();
    let mut leaf = Vec::new();
    let mut queue = std::collections::VecDeque::from([(root, 0usize)]);
    let mut seen = std::collections::HashSet::new();
    out.push(Node::leaf(0, 0.0));
    while let Some((id, at)) = queue.pop_front() {
        if !seen.insert(id) {
            return Err(format!("tree {tid}: node {id} reached twice"));
        }
        let (mode, feat, val, t, f) = nodes
            .get(&id)
            .ok_or_else(|| format!("tree {tid}: node {id} does not exist"))?;
        if mode == "LEAF" {
            let w: f32 = weights
                .get(&(tid, id))
                .map(|ws| ws.iter().filter(|&&(cc, _)| cc == c).map(|&(_, w)| w).sum())
                .unwrap_or(0.0);
            out[at] = Node::leaf(leaf.len() as u32, w);
            leaf.push(w);
            continue;
        }
        let feature = usize::try_from(*feat).map_err(|_| "negative feature id")?;
        *max_feature = (*max_feature).max(feature);
        // vedette nodes send x <= split left; map each comparison onto that.
        let (split, left, right) = match mode.as_str() {
            "BRANCH_LEQ" => (*val, *t, *f),
            "BRANCH_LT" => (next_down(*val), *t, *f),
            "BRANCH_GT" => (*val, *f, *t),
            "BRANCH_GTE" => (next_down(*val), *f, *t),
            other => return Err(format!("tree {tid}: node mode {other} is not supported")),
        };
        let l = out.len();
        out.push(Node::leaf(0, 0.0));
        out.push(Node::leaf(0, 0.0));
        if out.len() > MAX_NODES {
            return Err("too many nodes".into());
        }
        out[at] = Node {
            feature: u32::try_from(feature).map_err(|_| "feature id too large")?,
            split,
            left: l as u32,
            right: l as u32 + 1,
            value: 0.0,
        };
        queue.push_back((left, l));
        queue.push_back((right, l + 1));
    }
    // Internal node values (for attribution): the mean of the two children, bottom-up.
    for i in (0..out.len()).rev() {
        if out[i].feature != LEAF {
            let (l, r) = (out[i].left as usize, out[i].right as usize);
            out[i].value = (out[l].value + out[r].value) / 2.0;
        }
    }
    Ok(Tree { nodes: out, leaf })
}

fn linear(a: &Attrs<'_>, k: usize) -> Result<(ModelKind, Body, usize), String> {
    let coef = a.floats("coefficients");
    let icpt = a.floats("intercepts");
    let rows = icpt.len();
    if rows == 0 || !coef.len().is_multiple_of(rows) {
        return Err("coefficients do not divide into the intercepts' rows".into());
    }
    let d = coef.len() / rows;
    let post = a.string("post_transform");
    let (weights, bias, outputs) = if k == 2 && rows == 1 {
        (coef.to_vec(), icpt.to_vec(), 1)
    } else if k == 2 && rows == 2 && (post == "LOGISTIC" || post == "SOFTMAX") {
        if post == "LOGISTIC" {
            // skl2onnx's binary logistic regression: rows (-w, w), then an L1 normaliser;
            // sigmoid(z)/(sigmoid(z)+sigmoid(-z)) = sigmoid(z).
            (coef[d..].to_vec(), icpt[1..].to_vec(), 1)
        } else {
            // softmax of (z0, z1) = sigmoid(z1 - z0).
            let w = (0..d).map(|j| coef[d + j] - coef[j]).collect();
            (w, vec![icpt[1] - icpt[0]], 1)
        }
    } else if rows == k && post == "SOFTMAX" {
        (coef.to_vec(), icpt.to_vec(), k)
    } else {
        return Err(format!(
            "LinearClassifier with {rows} rows, {k} classes and post_transform {post} is not supported (binary, or multinomial with SOFTMAX)"
        ));
    };
    if rows == 1 && post != "LOGISTIC" {
        return Err(format!(
            "single-row LinearClassifier with post_transform {post}"
        ));
    }
    Ok((
        ModelKind::Logistic,
        Body::Linear(Linear {
            mean: vec![0.0; d],
            scale: vec![1.0; d],
            weights,
            bias,
            outputs,
            clip: 0.0,
        }),
        d,
    ))
}

/// Makes class `normal` index 0 (vedette's normal class), keeping the others in order.
fn move_class_first(m: &mut Model, normal: usize) -> Result<(), String> {
    let k = m.class_names.len();
    let order: Vec<usize> = std::iter::once(normal)
        .chain((0..k).filter(|&c| c != normal))
        .collect();
    let new_of_old: Vec<usize> = {
        let mut v = vec![0; k];
        for (new, &old) in order.iter().enumerate() {
            v[old] = new;
        }
        v
    };
    m.class_names = order.iter().map(|&c| m.class_names[c].clone()).collect();
    match &mut m.body {
        Body::Boosted(b) if b.base.len() == 1 => {
            // Binary, single score for class 1 and normal is class 1: negate.
            if b.post != Post::Logistic {
                return Err("cannot move the normal class of this model".into());
            }
            b.base[0] = -b.base[0];
            for t in &mut b.trees {
                negate(t);
            }
        }
        Body::Boosted(b) => {
            b.base = order.iter().map(|&c| b.base[c]).collect();
            for o in &mut b.tree_output {
                *o = new_of_old[*o as usize] as u32;
            }
        }
        Body::Linear(l) if l.outputs == 1 => {
            for w in &mut l.weights {
                *w = -*w;
            }
            l.bias[0] = -l.bias[0];
        }
        Body::Linear(l) => {
            let d = l.mean.len();
            l.weights = order
                .iter()
                .flat_map(|&c| l.weights[c * d..(c + 1) * d].to_vec())
                .collect();
            l.bias = order.iter().map(|&c| l.bias[c]).collect();
        }
        _ => return Err("cannot move the normal class of this model".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"\x08\x07",
            &[0xff; 64],
            b"\x3a\xff\xff\xff\xff\x0f",
        ] {
            let r = import_bytes(bytes, &ImportOptions::default(), "x".into());
            assert!(r.is_err());
        }
    }
}
