//! vedette's own log messages (tracing): to stderr, or to a size-rotated file as text or JSON
//! lines.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where and how to log.
pub struct LogOptions<'a> {
    /// Level filter (RUST_LOG overrides).
    pub level: &'a str,
    /// Log file; `None` logs to stderr.
    pub file: Option<&'a Path>,
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Rotate the file at this size.
    pub max_bytes: u64,
    /// Rotated files kept (`<file>.1` is the newest).
    pub keep: u32,
}

/// A log file renamed to `<file>.1` (shifting older ones up to `<file>.<keep>`) once it
/// reaches `max_bytes`; rotation happens between two messages.
struct RotatingFile {
    path: PathBuf,
    file: Option<File>,
    written: u64,
    max_bytes: u64,
    keep: u32,
}

impl RotatingFile {
    fn open(path: &Path, max_bytes: u64, keep: u32) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let written = file.metadata().map_or(0, |m| m.len());
        Ok(RotatingFile {
            path: path.to_owned(),
            file: Some(file),
            written,
            max_bytes: max_bytes.max(1024),
            keep,
        })
    }

    fn numbered(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file = None;
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.numbered(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(self.numbered(n), self.numbered(n + 1));
            }
            std::fs::rename(&self.path, self.numbered(1))?;
        }
        self.file = Some(File::create(&self.path)?);
        self.written = 0;
        Ok(())
    }

    fn write_message(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        if let Some(f) = &mut self.file {
            f.write_all(buf)?;
            self.written += buf.len() as u64;
        }
        Ok(())
    }
}

/// One formatted message, handed to the file whole when dropped so rotation never splits it.
struct Message {
    target: Arc<Mutex<RotatingFile>>,
    buf: Vec<u8>,
}

impl Write for Message {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        if let Ok(mut f) = self.target.lock() {
            // A log write that fails has nowhere better to be reported.
            let _ = f.write_message(&self.buf);
        }
    }
}

#[derive(Clone)]
struct FileWriter(Arc<Mutex<RotatingFile>>);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for FileWriter {
    type Writer = Message;
    fn make_writer(&'a self) -> Message {
        Message {
            target: Arc::clone(&self.0),
            buf: Vec::with_capacity(256),
        }
    }
}

/// Installs the global subscriber. A log file that cannot be opened is an error.
pub fn init(o: &LogOptions<'_>) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(o.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = match (o.file, o.json) {
        (None, false) => builder.with_writer(std::io::stderr).try_init(),
        (None, true) => builder.json().with_writer(std::io::stderr).try_init(),
        (Some(path), json) => {
            let file = RotatingFile::open(path, o.max_bytes, o.keep)
                .map_err(|e| anyhow::anyhow!("cannot open log file {}: {e}", path.display()))?;
            let w = FileWriter(Arc::new(Mutex::new(file)));
            let b = builder.with_ansi(false).with_writer(w);
            if json {
                b.json().try_init()
            } else {
                b.try_init()
            }
        }
    };
    // Already installed (tests): keep the first.
    let _ = result;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn log_files_rotate_whole_messages_and_keep_n() {
        let dir = std::env::temp_dir().join(format!("vedette-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("vedette.log");
        let mut f = RotatingFile::open(&path, 1024, 2).unwrap();
        let msg = [b'x'; 99];
        let mut line = msg.to_vec();
        line.push(b'\n');
        for _ in 0..50 {
            f.write_message(&line).unwrap();
        }
        for p in [path.clone(), f.numbered(1), f.numbered(2)] {
            let len = std::fs::metadata(&p).unwrap().len();
            assert!(len <= 1024 && len % 100 == 0, "{}: {len}", p.display());
        }
        assert!(!f.numbered(3).exists(), "only two rotated files are kept");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
