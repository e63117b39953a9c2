//! Import of scikit-learn models exported to ONNX.

use crate::{MlError, Model};
use std::path::Path;

/// Import options.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Feature names in input order (default f0, f1, ...).
    pub feature_names: Vec<String>,
    /// Model name.
    pub name: Option<String>,
    /// Index of the normal class.
    pub normal_class: usize,
}

/// Converts an ONNX model into a vedette model.
pub fn import(path: &Path, _o: &ImportOptions) -> Result<Model, MlError> {
    Err(MlError::Onnx {
        file: path.to_path_buf(),
        reason: "not implemented yet".into(),
    })
}
