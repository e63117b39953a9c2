//! PNG plots of an evaluation: the ROC curve and the confusion matrix.
//!
//! Drawn with embedded-graphics into an in-memory RGB canvas and encoded with `png`: its
//! fonts are bitmaps compiled into the binary, so plotting needs no font files, no system
//! font configuration and no network at run time.

use crate::metrics::Report;
use crate::MlError;
use embedded_graphics::mono_font::ascii::{FONT_10X20, FONT_6X10, FONT_7X13};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Line, PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};
use std::path::Path;

/// An RGB image that embedded-graphics draws into.
struct Canvas {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32) -> Canvas {
        Canvas {
            w,
            h,
            px: vec![255; (w * h * 3) as usize],
        }
    }

    fn text(&mut self, s: &str, x: i32, y: i32, font: &MonoFont<'_>, align: Alignment) {
        let style = MonoTextStyle::new(font, Rgb888::BLACK);
        let ts = TextStyleBuilder::new()
            .alignment(align)
            .baseline(Baseline::Middle)
            .build();
        let _ = Text::with_text_style(s, Point::new(x, y), style, ts).draw(self);
    }

    fn line(&mut self, a: (i32, i32), b: (i32, i32), color: Rgb888, width: u32) {
        let _ = Line::new(Point::new(a.0, a.1), Point::new(b.0, b.1))
            .into_styled(PrimitiveStyle::with_stroke(color, width))
            .draw(self);
    }

    fn rect(&mut self, x: i32, y: i32, w: u32, h: u32, fill: Rgb888) {
        let _ = Rectangle::new(Point::new(x, y), Size::new(w, h))
            .into_styled(PrimitiveStyle::with_fill(fill))
            .draw(self);
    }

    fn save(&self, path: &Path) -> Result<(), MlError> {
        let io = |e: std::io::Error| MlError::Io {
            file: path.to_path_buf(),
            source: e,
        };
        let enc_err = |e: png::EncodingError| MlError::Io {
            file: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), self.w, self.h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(enc_err)?;
        writer.write_image_data(&self.px).map_err(enc_err)?;
        writer.finish().map_err(enc_err)
    }
}

impl OriginDimensions for Canvas {
    fn size(&self) -> Size {
        Size::new(self.w, self.h)
    }
}

impl DrawTarget for Canvas {
    type Color = Rgb888;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            if p.x >= 0 && p.y >= 0 && (p.x as u32) < self.w && (p.y as u32) < self.h {
                let i = ((p.y as u32 * self.w + p.x as u32) * 3) as usize;
                if let Some(px) = self.px.get_mut(i..i + 3) {
                    px.copy_from_slice(&[c.r(), c.g(), c.b()]);
                }
            }
        }
        Ok(())
    }
}

/// Keeps ASCII (the bitmap fonts have no other glyphs).
fn ascii(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(max)
        .collect()
}

/// Writes the ROC curve of the "not normal" score as a PNG.
pub fn roc_png(r: &Report, path: &Path, title: &str) -> Result<(), MlError> {
    let (w, h) = (640u32, 560u32);
    let mut c = Canvas::new(w, h);
    let (x0, y0, pw, ph) = (80i32, 60i32, 520i32, 420i32);
    let to_px = |fpr: f64, tpr: f64| {
        (
            x0 + (fpr * f64::from(pw)).round() as i32,
            y0 + ph - (tpr * f64::from(ph)).round() as i32,
        )
    };
    let grid = Rgb888::new(225, 225, 225);
    for i in 0..=5 {
        let v = f64::from(i) / 5.0;
        let (gx, _) = to_px(v, 0.0);
        let (_, gy) = to_px(0.0, v);
        c.line((gx, y0), (gx, y0 + ph), grid, 1);
        c.line((x0, gy), (x0 + pw, gy), grid, 1);
        c.text(
            &format!("{v:.1}"),
            gx,
            y0 + ph + 14,
            &FONT_7X13,
            Alignment::Center,
        );
        c.text(&format!("{v:.1}"), x0 - 8, gy, &FONT_7X13, Alignment::Right);
    }
    c.line((x0, y0 + ph), (x0 + pw, y0), Rgb888::new(160, 160, 160), 1);
    c.line((x0, y0), (x0, y0 + ph), Rgb888::BLACK, 1);
    c.line((x0, y0 + ph), (x0 + pw, y0 + ph), Rgb888::BLACK, 1);
    let blue = Rgb888::new(31, 119, 180);
    let mut prev: Option<(i32, i32)> = None;
    for &(fpr, tpr) in &r.roc_curve {
        let p = to_px(fpr, tpr);
        if let Some(q) = prev {
            c.line(q, p, blue, 2);
        }
        prev = Some(p);
    }
    c.text(
        &ascii(&format!("ROC {title} (AUC {:.4})", r.detection.roc_auc), 60),
        (w / 2) as i32,
        25,
        &FONT_10X20,
        Alignment::Center,
    );
    c.text(
        "false-positive rate (normal flagged)",
        x0 + pw / 2,
        y0 + ph + 40,
        &FONT_7X13,
        Alignment::Center,
    );
    c.text("TPR", 20, y0 + ph / 2, &FONT_7X13, Alignment::Left);
    c.save(path)
}

/// Writes the confusion matrix (rows true, columns predicted; colour = share of the row)
/// as a PNG heat map with counts.
pub fn confusion_png(r: &Report, path: &Path, title: &str) -> Result<(), MlError> {
    let k = r.classes.len().max(1) as u32;
    let cell = (560 / k).clamp(24, 90);
    let label_w = 120u32;
    let (x0, y0) = (label_w as i32 + 10, 90i32);
    let w = x0 as u32 + cell * k + 30;
    let h = y0 as u32 + cell * k + 50;
    let mut c = Canvas::new(w.max(420), h);
    let font = if cell >= 60 { &FONT_7X13 } else { &FONT_6X10 };
    for (t, row) in r.confusion.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (p, &v) in row.iter().enumerate() {
            let share = if total > 0 {
                v as f64 / total as f64
            } else {
                0.0
            };
            let shade = (255.0 - share * 200.0) as u8;
            let color = Rgb888::new(shade, shade, 255);
            let x = x0 + (p as u32 * cell) as i32;
            let y = y0 + (t as u32 * cell) as i32;
            c.rect(x, y, cell - 1, cell - 1, color);
            let s = if v >= 100_000 {
                format!("{}k", v / 1000)
            } else {
                v.to_string()
            };
            c.text(
                &s,
                x + cell as i32 / 2,
                y + cell as i32 / 2,
                font,
                Alignment::Center,
            );
        }
    }
    for (i, name) in r.classes.iter().enumerate() {
        let mid = (i as u32 * cell + cell / 2) as i32;
        c.text(&ascii(name, 16), x0 - 6, y0 + mid, font, Alignment::Right);
        let short = ascii(name, (cell / 6).max(3) as usize);
        c.text(&short, x0 + mid, y0 - 10, font, Alignment::Center);
    }
    c.text(
        &ascii(&format!("confusion {title}"), 60),
        (w.max(420) / 2) as i32,
        20,
        &FONT_10X20,
        Alignment::Center,
    );
    c.text(
        "rows: true class, columns: predicted",
        (w.max(420) / 2) as i32,
        50,
        &FONT_7X13,
        Alignment::Center,
    );
    c.save(path)
}
