//! Datasets: reading NSL-KDD, UNSW-NB15 and generic flow CSV files into columns, and the
//! encoder that turns raw columns (numbers and category strings) into the model's feature
//! vector. Every value is checked: a bad row is an error naming the file and line.

use crate::MlError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Largest number of classes a model may have (predictions use a stack buffer this big).
pub const MAX_CLASSES: usize = 64;
/// Default cap on rows read from one file (memory bound).
pub const DEFAULT_MAX_ROWS: usize = 20_000_000;
/// Default cap on columns of a CSV file.
pub const MAX_COLUMNS: usize = 4096;
/// A category column keeps at most this many values (most frequent first); the rest encode
/// as "unseen" (all zeros), so rare values cannot be memorised.
pub const MAX_CATEGORY_VALUES: usize = 64;
/// A category value seen fewer times than this in training encodes as "unseen".
pub const MIN_CATEGORY_COUNT: usize = 3;
/// A string column with more distinct values than this (addresses, ids) is dropped in
/// flows-csv training instead of one-hot encoded.
pub const MAX_DISTINCT_STRINGS: usize = 1000;

/// Input file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// NSL-KDD (`KDDTrain+.txt`): no header, 41 features, attack name, optional difficulty.
    NslKdd,
    /// UNSW-NB15 CSV partitions: header, `id` dropped, `attack_cat` and `label`.
    UnswNb15,
    /// Any CSV with a header, numeric or string feature columns, `label` (0/1 or a name) and
    /// optionally `attack_cat`.
    FlowsCsv,
}

impl Format {
    /// Parses `nsl-kdd`, `unsw-nb15` or `flows-csv`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "nsl-kdd" => Some(Format::NslKdd),
            "unsw-nb15" => Some(Format::UnswNb15),
            "flows-csv" => Some(Format::FlowsCsv),
            _ => None,
        }
    }
}

/// What the classes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassMode {
    /// normal vs attack.
    Binary,
    /// Attack categories (NSL-KDD: 5, UNSW-NB15: 10, flows-csv: `attack_cat` or `label` names).
    Category,
}

/// NSL-KDD's 41 feature names, in file order.
pub const NSL_KDD_COLUMNS: [&str; 41] = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
];

const NSL_KDD_CATEGORICAL: [&str; 3] = ["protocol_type", "service", "flag"];
const UNSW_CATEGORICAL: [&str; 3] = ["proto", "service", "state"];

/// NSL-KDD's five classes.
pub const NSL_KDD_CLASSES: [&str; 5] = ["normal", "DoS", "Probe", "R2L", "U2R"];
/// The identifying columns `vedette analyze --flow-features` writes before the features: a
/// flows-csv file that has all of them (an export) keeps them for the analyst, and training
/// skips them (an address or a flow id is not something a model should learn).
pub const FLOW_ID_COLUMNS: [&str; 10] = [
    "flow_id",
    "start",
    "end",
    "src_ip",
    "src_port",
    "dest_ip",
    "dest_port",
    "proto",
    "app_proto",
    "community_id",
];

/// UNSW-NB15's ten classes (`attack_cat`).
pub const UNSW_CLASSES: [&str; 10] = [
    "Normal",
    "Analysis",
    "Backdoor",
    "DoS",
    "Exploits",
    "Fuzzers",
    "Generic",
    "Reconnaissance",
    "Shellcode",
    "Worms",
];

/// The standard NSL-KDD/KDD'99 attack → category map (training and test attack names).
pub fn nsl_kdd_category(attack: &str) -> Option<&'static str> {
    Some(match attack {
        "normal" => "normal",
        "back" | "land" | "neptune" | "pod" | "smurf" | "teardrop" | "apache2" | "udpstorm"
        | "processtable" | "mailbomb" | "worm" => "DoS",
        "satan" | "ipsweep" | "nmap" | "portsweep" | "mscan" | "saint" => "Probe",
        "guess_passwd" | "ftp_write" | "imap" | "phf" | "multihop" | "warezmaster"
        | "warezclient" | "spy" | "xlock" | "xsnoop" | "snmpguess" | "snmpgetattack"
        | "httptunnel" | "sendmail" | "named" => "R2L",
        "buffer_overflow" | "loadmodule" | "rootkit" | "perl" | "sqlattack" | "xterm" | "ps" => {
            "U2R"
        }
        _ => return None,
    })
}

/// One column as read.
#[derive(Clone, Debug)]
pub enum ColumnData {
    /// Finite numbers.
    Num(Vec<f32>),
    /// Strings as codes into `dict`.
    Cat { codes: Vec<u32>, dict: Vec<String> },
}

/// A named column.
#[derive(Clone, Debug)]
pub struct Column {
    /// Header name (NSL-KDD: the standard names).
    pub name: String,
    /// Values, one per row.
    pub data: ColumnData,
}

/// A file read into columns plus one class label per row.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file read.
    pub source: PathBuf,
    /// Feature columns.
    pub columns: Vec<Column>,
    /// Class index of each row into `class_names`.
    pub labels: Vec<u32>,
    /// Class names; index 0 is the normal class.
    pub class_names: Vec<String>,
    /// File line of each row (for messages).
    pub lines: Vec<u64>,
}

impl Table {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The rows at `idx`, in that order (for splits and subsamples).
    pub fn select(&self, idx: &[usize]) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                data: match &c.data {
                    ColumnData::Num(v) => ColumnData::Num(idx.iter().map(|&i| v[i]).collect()),
                    ColumnData::Cat { codes, dict } => ColumnData::Cat {
                        codes: idx.iter().map(|&i| codes[i]).collect(),
                        dict: dict.clone(),
                    },
                },
            })
            .collect();
        Table {
            source: self.source.clone(),
            columns,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
            lines: idx.iter().map(|&i| self.lines[i]).collect(),
        }
    }
}

/// Options for reading a file.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// File format.
    pub format: Format,
    /// Binary or category labels.
    pub classes: ClassMode,
    /// Stop with an error past this many rows.
    pub max_rows: usize,
    /// flows-csv: columns that must be read as strings (categories), by name. When `None`,
    /// a column is a category when any value is not a number.
    pub categorical: Option<Vec<String>>,
}

impl ReadOptions {
    /// Defaults for a format and class mode.
    pub fn new(format: Format, classes: ClassMode) -> ReadOptions {
        ReadOptions {
            format,
            classes,
            max_rows: DEFAULT_MAX_ROWS,
            categorical: None,
        }
    }
}

fn data_err(path: &Path, line: u64, reason: impl Into<String>) -> MlError {
    MlError::Data {
        file: path.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

fn is_normal_name(s: &str) -> bool {
    let t = s.trim();
    t == "0" || t.eq_ignore_ascii_case("normal") || t.eq_ignore_ascii_case("benign")
}

/// Which raw fields are features, the label, the attack category, and the expected width.
type Layout = (Vec<(usize, String)>, usize, Option<usize>, Option<usize>);

/// Reads a dataset file.
pub fn read_table(path: &Path, opts: &ReadOptions) -> Result<Table, MlError> {
    let file = std::fs::File::open(path).map_err(|e| MlError::Io {
        file: path.to_path_buf(),
        source: e,
    })?;
    let has_header = opts.format != Format::NslKdd;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let mut records = rdr.records();
    let header: Vec<String> = if has_header {
        match records.next() {
            None => return Err(data_err(path, 1, "empty file (no header row)")),
            Some(Err(e)) => return Err(csv_err(path, e)),
            Some(Ok(r)) => r
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let h = if i == 0 {
                        h.trim_start_matches('\u{feff}')
                    } else {
                        h
                    };
                    h.trim().to_string()
                })
                .collect(),
        }
    } else {
        Vec::new()
    };
    if header.len() > MAX_COLUMNS {
        return Err(data_err(
            path,
            1,
            format!("{} columns (limit {MAX_COLUMNS})", header.len()),
        ));
    }
    // Which raw field is which feature / label.
    let (feature_fields, label_field, cat_field, width): Layout = match opts.format {
        Format::NslKdd => (
            NSL_KDD_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, n)| (i, n.to_string()))
                .collect(),
            41,
            None,
            None,
        ),
        Format::UnswNb15 | Format::FlowsCsv => {
            let find = |n: &str| header.iter().position(|h| h.eq_ignore_ascii_case(n));
            let label =
                find("label").ok_or_else(|| data_err(path, 1, "header has no `label` column"))?;
            let cat = find("attack_cat");
            if opts.format == Format::UnswNb15 && cat.is_none() {
                return Err(data_err(path, 1, "header has no `attack_cat` column"));
            }
            let mut seen = std::collections::HashSet::new();
            for h in &header {
                if !seen.insert(h.as_str()) {
                    return Err(data_err(path, 1, format!("duplicate column `{h}`")));
                }
            }
            // A file written by `--flow-features` (it has every identifying column) keeps them
            // for the analyst; other CSVs may use a name like `proto` as a real feature.
            let vedette_export = opts.format == Format::FlowsCsv
                && FLOW_ID_COLUMNS.iter().all(|c| find(c).is_some());
            let feats = header
                .iter()
                .enumerate()
                .filter(|(i, h)| {
                    *i != label
                        && Some(*i) != cat
                        && !h.eq_ignore_ascii_case("id")
                        && !(vedette_export
                            && FLOW_ID_COLUMNS.iter().any(|c| h.eq_ignore_ascii_case(c)))
                })
                .map(|(i, h)| (i, h.clone()))
                .collect();
            (feats, label, cat, Some(header.len()))
        }
    };
    let categorical: Vec<bool> = feature_fields
        .iter()
        .map(|(_, name)| match opts.format {
            Format::NslKdd => NSL_KDD_CATEGORICAL.contains(&name.as_str()),
            Format::UnswNb15 => UNSW_CATEGORICAL.contains(&name.as_str()),
            Format::FlowsCsv => opts
                .categorical
                .as_ref()
                .is_some_and(|c| c.iter().any(|n| n == name)),
        })
        .collect();

    // Read every record (strings), checking widths.
    let mut rows: Vec<csv::StringRecord> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_err(path, e))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() == 1 && rec.get(0).is_some_and(str::is_empty) {
            continue; // blank line
        }
        match width {
            Some(w) if rec.len() != w => {
                return Err(data_err(
                    path,
                    line,
                    format!("{} fields, the header has {w}", rec.len()),
                ))
            }
            None if rec.len() != 42 && rec.len() != 43 => {
                return Err(data_err(
                    path,
                    line,
                    format!(
                        "{} fields (NSL-KDD rows have 41 features, the label and optionally the difficulty)",
                        rec.len()
                    ),
                ))
            }
            _ => {}
        }
        if rows.len() >= opts.max_rows {
            return Err(data_err(
                path,
                line,
                format!("more than {} rows (raise the row limit)", opts.max_rows),
            ));
        }
        rows.push(rec);
        lines.push(line);
    }
    if rows.is_empty() {
        return Err(data_err(path, 1, "no data rows"));
    }

    // Labels.
    let mut class_names: Vec<String> = match (opts.format, opts.classes) {
        (_, ClassMode::Binary) => vec!["normal".into(), "attack".into()],
        (Format::NslKdd, ClassMode::Category) => {
            NSL_KDD_CLASSES.iter().map(|s| s.to_string()).collect()
        }
        (Format::UnswNb15, ClassMode::Category) => {
            UNSW_CLASSES.iter().map(|s| s.to_string()).collect()
        }
        (Format::FlowsCsv, ClassMode::Category) => vec!["normal".into()],
    };
    let mut labels = Vec::with_capacity(rows.len());
    for (rec, &line) in rows.iter().zip(&lines) {
        let label = rec.get(label_field).unwrap_or("");
        let cat = cat_field.and_then(|i| rec.get(i)).unwrap_or("");
        let class = match opts.format {
            Format::NslKdd => {
                let name = label.trim_end_matches('.');
                let category = nsl_kdd_category(name).ok_or_else(|| {
                    data_err(
                        path,
                        line,
                        format!("unknown NSL-KDD attack name `{name}` (not in the category map)"),
                    )
                })?;
                match opts.classes {
                    ClassMode::Binary => u32::from(category != "normal"),
                    ClassMode::Category => NSL_KDD_CLASSES
                        .iter()
                        .position(|c| *c == category)
                        .unwrap_or(0) as u32,
                }
            }
            Format::UnswNb15 => {
                let attack = match label {
                    "0" => false,
                    "1" => true,
                    _ => {
                        return Err(data_err(
                            path,
                            line,
                            format!("`label` must be 0 or 1, got `{label}`"),
                        ))
                    }
                };
                match opts.classes {
                    ClassMode::Binary => u32::from(attack),
                    ClassMode::Category => {
                        let c = if !attack || cat.is_empty() || cat == "-" {
                            "Normal"
                        } else if cat.eq_ignore_ascii_case("backdoors") {
                            "Backdoor"
                        } else {
                            cat
                        };
                        UNSW_CLASSES
                            .iter()
                            .position(|k| k.eq_ignore_ascii_case(c))
                            .ok_or_else(|| {
                                data_err(path, line, format!("unknown attack_cat `{cat}`"))
                            })? as u32
                    }
                }
            }
            Format::FlowsCsv => {
                let normal =
                    is_normal_name(label) && (cat.is_empty() || cat == "-" || is_normal_name(cat));
                match opts.classes {
                    ClassMode::Binary => u32::from(!normal),
                    ClassMode::Category => {
                        if normal {
                            0
                        } else {
                            let name = if cat_field.is_some() && !cat.is_empty() && cat != "-" {
                                cat
                            } else {
                                label
                            };
                            if let Some(p) = class_names.iter().position(|c| c == name) {
                                p as u32
                            } else {
                                if class_names.len() >= MAX_CLASSES {
                                    return Err(data_err(
                                        path,
                                        line,
                                        format!("more than {MAX_CLASSES} classes"),
                                    ));
                                }
                                class_names.push(name.to_string());
                                (class_names.len() - 1) as u32
                            }
                        }
                    }
                }
            }
        };
        labels.push(class);
    }
    // flows-csv classes in a stable order (normal first, then by name).
    if opts.format == Format::FlowsCsv && opts.classes == ClassMode::Category {
        let mut order: Vec<usize> = (1..class_names.len()).collect();
        order.sort_by(|&a, &b| class_names[a].cmp(&class_names[b]));
        let mut remap = vec![0u32; class_names.len()];
        let mut sorted = vec![class_names[0].clone()];
        for (new, &old) in order.iter().enumerate() {
            remap[old] = (new + 1) as u32;
            sorted.push(class_names[old].clone());
        }
        for l in &mut labels {
            *l = remap[*l as usize];
        }
        class_names = sorted;
    }

    // Columns.
    let mut columns = Vec::with_capacity(feature_fields.len());
    for ((field, name), &is_cat) in feature_fields.iter().zip(&categorical) {
        let mut is_cat = is_cat;
        if opts.format == Format::FlowsCsv && opts.categorical.is_none() {
            is_cat = rows
                .iter()
                .any(|r| r.get(*field).unwrap_or("").parse::<f32>().is_err());
        }
        let data = if is_cat {
            let mut dict: Vec<String> = Vec::new();
            let mut index: HashMap<String, u32> = HashMap::new();
            let mut codes = Vec::with_capacity(rows.len());
            for r in &rows {
                let v = r.get(*field).unwrap_or("");
                let code = match index.get(v) {
                    Some(&c) => c,
                    None => {
                        let c = dict.len() as u32;
                        dict.push(v.to_string());
                        index.insert(v.to_string(), c);
                        c
                    }
                };
                codes.push(code);
            }
            ColumnData::Cat { codes, dict }
        } else {
            let mut vals = Vec::with_capacity(rows.len());
            for (r, &line) in rows.iter().zip(&lines) {
                let v = r.get(*field).unwrap_or("");
                let x: f32 = v.parse().map_err(|_| {
                    data_err(
                        path,
                        line,
                        format!("column `{name}`: `{v}` is not a number"),
                    )
                })?;
                if !x.is_finite() {
                    return Err(data_err(
                        path,
                        line,
                        format!("column `{name}`: `{v}` is not finite (NaN and infinities are rejected)"),
                    ));
                }
                vals.push(x);
            }
            ColumnData::Num(vals)
        };
        columns.push(Column {
            name: name.clone(),
            data,
        });
    }
    Ok(Table {
        source: path.to_path_buf(),
        columns,
        labels,
        class_names,
        lines,
    })
}

fn csv_err(path: &Path, e: csv::Error) -> MlError {
    let line = e.position().map_or(0, |p| p.line());
    data_err(path, line, format!("malformed CSV: {e}"))
}

/// How one raw column becomes model features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ColumnSpec {
    /// One feature: the number.
    Numeric {
        /// Column name.
        name: String,
    },
    /// One 0/1 feature per kept value (`name=value`); an unseen value sets none of them.
    OneHot {
        /// Column name.
        name: String,
        /// Kept values.
        values: Vec<String>,
    },
}

/// The mapping from raw columns to the feature vector, stored in the model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    /// Columns in feature order.
    pub columns: Vec<ColumnSpec>,
}

/// A table encoded as a dense row-major matrix.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// `rows * n_features` values.
    pub x: Vec<f32>,
    /// Features per row.
    pub n_features: usize,
    /// Class of each row (in the model's class order).
    pub y: Vec<u32>,
}

impl Matrix {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.n_features..(i + 1) * self.n_features]
    }
}

impl Encoder {
    /// Learns the encoding from training data: numbers pass through; each category column
    /// keeps its values seen at least [`MIN_CATEGORY_COUNT`] times (at most
    /// [`MAX_CATEGORY_VALUES`], most frequent first). String columns with more than
    /// [`MAX_DISTINCT_STRINGS`] distinct values are dropped (identifiers, addresses).
    pub fn fit(table: &Table) -> Encoder {
        let mut columns = Vec::new();
        for c in &table.columns {
            match &c.data {
                ColumnData::Num(_) => columns.push(ColumnSpec::Numeric {
                    name: c.name.clone(),
                }),
                ColumnData::Cat { codes, dict } => {
                    if dict.len() > MAX_DISTINCT_STRINGS {
                        tracing::warn!(
                            column = %c.name,
                            distinct = dict.len(),
                            "dropping a string column with too many distinct values"
                        );
                        continue;
                    }
                    let mut counts = vec![0usize; dict.len()];
                    for &k in codes {
                        counts[k as usize] += 1;
                    }
                    let mut order: Vec<usize> = (0..dict.len())
                        .filter(|&k| counts[k] >= MIN_CATEGORY_COUNT)
                        .collect();
                    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(dict[a].cmp(&dict[b])));
                    order.truncate(MAX_CATEGORY_VALUES);
                    columns.push(ColumnSpec::OneHot {
                        name: c.name.clone(),
                        values: order.iter().map(|&k| dict[k].clone()).collect(),
                    });
                }
            }
        }
        Encoder { columns }
    }

    /// Names of the encoded features (`name` or `name=value`).
    pub fn feature_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.columns {
            match c {
                ColumnSpec::Numeric { name } => out.push(name.clone()),
                ColumnSpec::OneHot { name, values } => {
                    out.extend(values.iter().map(|v| format!("{name}={v}")))
                }
            }
        }
        out
    }

    /// Names of the raw columns the encoder reads, and which are categories.
    pub fn raw_columns(&self) -> Vec<(String, bool)> {
        self.columns
            .iter()
            .map(|c| match c {
                ColumnSpec::Numeric { name } => (name.clone(), false),
                ColumnSpec::OneHot { name, .. } => (name.clone(), true),
            })
            .collect()
    }

    /// Encodes a table. `classes` are the model's class names: the table's labels are mapped
    /// by name (a class the model does not know is an error).
    pub fn encode(&self, table: &Table, classes: &[String]) -> Result<Matrix, MlError> {
        let n = table.len();
        let names = self.feature_names();
        let d = names.len();
        let mut x = vec![0f32; n * d];
        let mut offset = 0usize;
        for spec in &self.columns {
            let name = match spec {
                ColumnSpec::Numeric { name } | ColumnSpec::OneHot { name, .. } => name,
            };
            let col = table
                .columns
                .iter()
                .find(|c| &c.name == name)
                .ok_or_else(|| MlError::Data {
                    file: table.source.clone(),
                    line: 1,
                    reason: format!("the model needs column `{name}`, which the data lacks"),
                })?;
            match (spec, &col.data) {
                (ColumnSpec::Numeric { .. }, ColumnData::Num(v)) => {
                    for (i, &val) in v.iter().enumerate() {
                        x[i * d + offset] = val;
                    }
                    offset += 1;
                }
                (ColumnSpec::Numeric { .. }, ColumnData::Cat { codes, dict }) => {
                    // Read as strings (flows-csv autodetect): every value must still parse.
                    for (i, &k) in codes.iter().enumerate() {
                        let s = &dict[k as usize];
                        let val: f32 =
                            s.parse()
                                .ok()
                                .filter(|v: &f32| v.is_finite())
                                .ok_or_else(|| MlError::Data {
                                    file: table.source.clone(),
                                    line: table.lines[i],
                                    reason: format!(
                                        "column `{name}`: `{s}` is not a finite number"
                                    ),
                                })?;
                        x[i * d + offset] = val;
                    }
                    offset += 1;
                }
                (ColumnSpec::OneHot { values, .. }, data) => {
                    let lookup: HashMap<&str, usize> = values
                        .iter()
                        .enumerate()
                        .map(|(j, v)| (v.as_str(), j))
                        .collect();
                    match data {
                        ColumnData::Cat { codes, dict } => {
                            let map: Vec<Option<usize>> = dict
                                .iter()
                                .map(|s| lookup.get(s.as_str()).copied())
                                .collect();
                            for (i, &k) in codes.iter().enumerate() {
                                if let Some(j) = map[k as usize] {
                                    x[i * d + offset + j] = 1.0;
                                }
                            }
                        }
                        ColumnData::Num(v) => {
                            for (i, val) in v.iter().enumerate() {
                                if let Some(&j) = lookup.get(val.to_string().as_str()) {
                                    x[i * d + offset + j] = 1.0;
                                }
                            }
                        }
                    }
                    offset += values.len();
                }
            }
        }
        let mut remap = Vec::with_capacity(table.class_names.len());
        for c in &table.class_names {
            remap.push(classes.iter().position(|m| m == c));
        }
        let mut y = Vec::with_capacity(n);
        for (i, &l) in table.labels.iter().enumerate() {
            match remap.get(l as usize).copied().flatten() {
                Some(k) => y.push(k as u32),
                None => {
                    return Err(MlError::Data {
                        file: table.source.clone(),
                        line: table.lines[i],
                        reason: format!(
                            "class `{}` is not one of the model's classes ({})",
                            table.class_names[l as usize],
                            classes.join(", ")
                        ),
                    })
                }
            }
        }
        Ok(Matrix {
            x,
            n_features: d,
            y,
        })
    }
}
