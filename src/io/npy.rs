//! `.npy` matrices: read 2-D float32/float64 (little-endian, C order), write float32.

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// A dense row-major matrix read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyMatrix {
    /// Values, row-major, converted to f32.
    pub data: Vec<f32>,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
}

fn malformed(path: &Path, message: impl Into<String>) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        location: "header".into(),
        message: message.into(),
    }
}

/// A `.npy` matrix's values as they are kept: half floats (`<f2`) stay half (half the memory
/// of f32), single and double precision become f32.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyValues {
    /// `<f4` or `<f8` values.
    F32(Vec<f32>),
    /// `<f2` values.
    F16(Vec<half::f16>),
}

/// Reads a 2-D `<f2`, `<f4` or `<f8` matrix (half floats widened to f32).
pub fn read_npy(path: &Path) -> Result<NpyMatrix> {
    let (values, rows, cols) = read_npy_values(path)?;
    let data = match values {
        NpyValues::F32(v) => v,
        NpyValues::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
    };
    Ok(NpyMatrix { data, rows, cols })
}

/// Reads a 2-D `<f2`, `<f4` or `<f8` matrix as `(values, rows, cols)`, half floats kept half,
/// streaming the body straight into the one buffer (the file is never held twice in memory).
pub fn read_npy_values(path: &Path) -> Result<(NpyValues, usize, usize)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    // Magic, version and header length first, then the header itself.
    let mut prefix = vec![0u8; 12.min(file_len)];
    reader
        .read_exact(&mut prefix)
        .map_err(|e| Error::io(path, e))?;
    let header_len = header_length(path, &prefix)?;
    let mut head = prefix;
    head.resize(header_len.0 + header_len.1, 0);
    if head.len() > 12 {
        reader
            .read_exact(&mut head[12..])
            .map_err(|e| Error::io(path, e))?;
    }
    let h = parse_header(path, &head)?;
    check_body_len(path, &h, file_len.saturating_sub(h.offset))?;
    let mut buf = vec![0u8; (1 << 20) / h.width * h.width];
    let mut left = h.rows * h.cols * h.width;
    let mut chunks = |each: &mut dyn FnMut(&[u8])| -> Result<()> {
        while left > 0 {
            let take = left.min(buf.len());
            reader
                .read_exact(&mut buf[..take])
                .map_err(|e| Error::io(path, e))?;
            each(&buf[..take]);
            left -= take;
        }
        Ok(())
    };
    let values = if h.width == 2 {
        let mut data = Vec::with_capacity(h.rows * h.cols);
        chunks(&mut |b| {
            data.extend(
                b.chunks_exact(2)
                    .map(|b| half::f16::from_le_bytes([b[0], b[1]])),
            )
        })?;
        NpyValues::F16(data)
    } else {
        let mut data = Vec::with_capacity(h.rows * h.cols);
        chunks(&mut |b| convert(b, h.width, &mut data))?;
        NpyValues::F32(data)
    };
    Ok((values, h.rows, h.cols))
}

/// The shape of a `.npy` matrix and whether it holds half floats, from its header alone:
/// `(rows, cols, half)`. What a memory budget checks before the body is read.
pub fn npy_shape(path: &Path) -> Result<(usize, usize, bool)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::new();
    file.take(1 << 16)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    let h = parse_header(path, &head)?;
    Ok((h.rows, h.cols, h.width == 2))
}

/// Parses the bytes of a `.npy` file; `path` only names the file in errors.
pub fn parse_npy(path: &Path, bytes: &[u8]) -> Result<NpyMatrix> {
    let h = parse_header(path, bytes)?;
    let body = &bytes[h.offset..];
    check_body_len(path, &h, body.len())?;
    let mut data = Vec::with_capacity(h.rows * h.cols);
    convert(body, h.width, &mut data);
    Ok(NpyMatrix {
        data,
        rows: h.rows,
        cols: h.cols,
    })
}

struct Header {
    rows: usize,
    cols: usize,
    /// Bytes per value: 2 (`<f2`), 4 (`<f4`) or 8 (`<f8`).
    width: usize,
    /// Where the data starts.
    offset: usize,
}

/// `(start of the header text, its length)` from the first bytes of the file.
fn header_length(path: &Path, bytes: &[u8]) -> Result<(usize, usize)> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(malformed(path, "not a .npy file (bad magic)"));
    }
    match bytes[6] {
        1 => Ok((10, u16::from_le_bytes([bytes[8], bytes[9]]) as usize)),
        2 | 3 if bytes.len() >= 12 => Ok((
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        )),
        major => Err(malformed(path, format!("unsupported .npy version {major}"))),
    }
}

fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let (start, header_len) = header_length(path, bytes)?;
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| malformed(path, "truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| malformed(path, "header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| malformed(path, "no 'descr'"))?;
    let fortran =
        dict_value(header, "fortran_order").ok_or_else(|| malformed(path, "no 'fortran_order'"))?;
    let shape = dict_value(header, "shape").ok_or_else(|| malformed(path, "no 'shape'"))?;
    if fortran.trim() != "False" {
        return Err(malformed(
            path,
            "Fortran-order arrays are not supported; save with np.ascontiguousarray",
        ));
    }
    let dims: Vec<usize> = shape
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| malformed(path, format!("bad shape {shape}")))
        })
        .collect::<Result<_>>()?;
    let [rows, cols] = dims[..] else {
        return Err(malformed(
            path,
            format!("expected a 2-D matrix (rows x dims), got shape {shape}"),
        ));
    };
    let width = match descr.trim().trim_matches('\'') {
        "<f2" => 2,
        "<f4" => 4,
        "<f8" => 8,
        other => {
            return Err(malformed(
                path,
                format!(
                    "dtype {other:?} is not supported (expected float16 '<f2', float32 '<f4' or float64 '<f8')"
                ),
            ))
        }
    };
    Ok(Header {
        rows,
        cols,
        width,
        offset: start + header_len,
    })
}

fn check_body_len(path: &Path, h: &Header, len: usize) -> Result<()> {
    let expected = h.rows * h.cols * h.width;
    if len != expected {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            location: "data".into(),
            message: format!(
                "shape ({}, {}) needs {expected} bytes, file has {len}",
                h.rows, h.cols
            ),
        });
    }
    Ok(())
}

fn convert(bytes: &[u8], width: usize, out: &mut Vec<f32>) {
    if width == 2 {
        out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
        );
    } else if width == 4 {
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    } else {
        out.extend(
            bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("chunk of 8")) as f32),
        );
    }
}

/// The text after `'key':` in a numpy header dict, up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

/// Writes a row-major f32 matrix as `.npy` (version 1.0) to any writer.
pub fn write_npy<W: Write>(
    mut out: W,
    data: &[f32],
    rows: usize,
    cols: usize,
) -> std::io::Result<()> {
    assert_eq!(
        data.len(),
        rows * cols,
        "write_npy: buffer is not rows x cols"
    );
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Pad so that magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    let mut buf = Vec::with_capacity(data.len() * 4);
    for x in data {
        buf.extend_from_slice(&x.to_le_bytes());
    }
    out.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut bytes = Vec::new();
        write_npy(&mut bytes, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3).unwrap();
        assert_eq!(
            (10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64,
            0
        );
        let m = parse_npy(Path::new("x.npy"), &bytes).unwrap();
        assert_eq!((m.rows, m.cols), (2, 3));
        assert_eq!(m.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    fn with_header(dict: &str, body: &[u8]) -> Vec<u8> {
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        v.extend_from_slice(dict.as_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn reads_half_floats() {
        let vals = [1.0f32, -0.5, 0.25, 65504.0];
        let body: Vec<u8> = vals
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        let f2 = with_header(
            "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }\n",
            &body,
        );
        let m = parse_npy(Path::new("h.npy"), &f2).unwrap();
        assert_eq!((m.rows, m.cols), (2, 2));
        assert_eq!(m.data, vals.to_vec());
        // A body one value short is named, not read past.
        let short = with_header(
            "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }\n",
            &body[..6],
        );
        let err = parse_npy(Path::new("h.npy"), &short)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs 8 bytes, file has 6"), "{err}");
    }

    #[test]
    fn rejects_1d_and_ints() {
        let one_d = with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n",
            &[0; 12],
        );
        let err = parse_npy(Path::new("v.npy"), &one_d)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2-D"), "{err}");
        let ints = with_header(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }\n",
            &[0; 8],
        );
        let err = parse_npy(Path::new("i.npy"), &ints)
            .unwrap_err()
            .to_string();
        assert!(err.contains("<i8"), "{err}");
        let fortran = with_header(
            "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }\n",
            &[0; 4],
        );
        let err = parse_npy(Path::new("f.npy"), &fortran)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Fortran"), "{err}");
    }

    #[test]
    fn rejects_truncated_data() {
        let mut bytes = Vec::new();
        write_npy(&mut bytes, &[1.0, 2.0], 1, 2).unwrap();
        bytes.pop();
        let err = parse_npy(Path::new("t.npy"), &bytes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs 8 bytes"), "{err}");
    }
}
