//! Reading inswapper's `emap`: the last initializer of the ONNX graph, as insightface reads it
//! (`onnx.load(path).graph.initializer[-1]`).
//!
//! A small protobuf walker rather than a generated ONNX binding: the file is 554 MB and only one
//! 1 MB tensor is needed, so the walker seeks past everything else instead of decoding the
//! whole model into memory.

use std::{
    fs::File,
    io::{BufReader, Read, Seek, SeekFrom},
    path::Path,
};

use super::SwapError;

/// ONNX `TensorProto.DataType` values this reader accepts.
const FLOAT: u64 = 1;
const FLOAT16: u64 = 10;

/// A float tensor read from a model file.
#[derive(Debug, Clone, PartialEq)]
pub struct Initializer {
    pub dims: Vec<i64>,
    pub data: Vec<f32>,
}

/// Reads the last initializer of the model at `path` as f32.
///
/// # Errors
/// [`SwapError::Emap`] when the file cannot be read, is not an ONNX model, has no initializer,
/// or stores it in a way this reader does not handle (external data, non-float types).
pub fn read_last_initializer(path: &Path) -> Result<Initializer, SwapError> {
    let fail = |source: std::io::Error| SwapError::Emap { path: path.to_path_buf(), source };
    // What this reader finds wrong in the file, as the reading error it is.
    let invalid = |text: String| fail(std::io::Error::new(std::io::ErrorKind::InvalidData, text));
    let file = File::open(path).map_err(fail)?;
    let len = file.metadata().map_err(fail)?.len();
    let mut reader = ProtoReader { inner: BufReader::new(file) };
    let graph = reader
        .find_last(0, len, 7)
        .map_err(fail)?
        .ok_or_else(|| invalid("not an ONNX model: it has no graph".into()))?;
    let (start, size) = reader
        .find_last(graph.0, graph.0 + graph.1, 5)
        .map_err(fail)?
        .ok_or_else(|| invalid("the graph has no initializer".into()))?;
    reader.inner.seek(SeekFrom::Start(start)).map_err(fail)?;
    let mut bytes = vec![0u8; size as usize];
    reader.inner.read_exact(&mut bytes).map_err(fail)?;
    parse_tensor(&bytes).map_err(invalid)
}

struct ProtoReader<R> {
    inner: R,
}

impl<R: Read + Seek> ProtoReader<R> {
    fn varint(&mut self) -> std::io::Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let mut byte = [0u8];
            self.inner.read_exact(&mut byte)?;
            value |= u64::from(byte[0] & 0x7f) << shift;
            if byte[0] & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "varint too long"))
    }

    /// The (offset, length) of the last length-delimited field `field` in `start..end`.
    fn find_last(&mut self, start: u64, end: u64, field: u64) -> std::io::Result<Option<(u64, u64)>> {
        let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        self.inner.seek(SeekFrom::Start(start))?;
        let mut position = start;
        let mut found = None;
        while position < end {
            let key = self.varint()?;
            let skip = match key & 7 {
                0 => {
                    self.varint()?;
                    0
                }
                1 => 8,
                2 => {
                    let len = self.varint()?;
                    let here = self.inner.stream_position()?;
                    if key >> 3 == field {
                        found = Some((here, len));
                    }
                    len
                }
                5 => 4,
                _ => return Err(bad("unsupported protobuf wire type")),
            };
            position = self.inner.seek(SeekFrom::Current(skip as i64))?;
        }
        if position != end {
            return Err(bad("truncated protobuf message"));
        }
        Ok(found)
    }
}

/// Reads one varint from `bytes` at `at`, moving `at` past it.
fn varint_at(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at).ok_or("truncated tensor")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".into())
}

/// Reads a packed run of varints.
fn packed_varints(body: &[u8]) -> Result<Vec<u64>, String> {
    let mut at = 0;
    let mut values = Vec::new();
    while at < body.len() {
        values.push(varint_at(body, &mut at)?);
    }
    Ok(values)
}

fn le_f32(c: &[u8]) -> f32 {
    f32::from_le_bytes([c[0], c[1], c[2], c[3]])
}

/// Parses a `TensorProto` held in memory.
fn parse_tensor(bytes: &[u8]) -> Result<Initializer, String> {
    let mut dims = Vec::new();
    let mut data_type = 0;
    let mut floats = Vec::new();
    let mut int32s = Vec::new();
    let mut raw: Option<&[u8]> = None;
    let mut external = false;
    let mut at = 0;
    while at < bytes.len() {
        let key = varint_at(bytes, &mut at)?;
        let field = key >> 3;
        match key & 7 {
            0 => {
                let v = varint_at(bytes, &mut at)?;
                match field {
                    1 => dims.push(v as i64),
                    2 => data_type = v,
                    5 => int32s.push(v),
                    14 => external = v == 1,
                    _ => {}
                }
            }
            2 => {
                let len = varint_at(bytes, &mut at)? as usize;
                let body = bytes.get(at..at + len).ok_or("truncated tensor")?;
                at += len;
                match field {
                    1 => dims.extend(packed_varints(body)?.into_iter().map(|v| v as i64)),
                    4 => floats.extend(body.chunks_exact(4).map(le_f32)),
                    5 => int32s.extend(packed_varints(body)?),
                    9 => raw = Some(body),
                    _ => {}
                }
            }
            1 => at += 8,
            5 => {
                if field == 4 {
                    floats.push(le_f32(bytes.get(at..at + 4).ok_or("truncated tensor")?));
                }
                at += 4;
            }
            _ => return Err("unsupported protobuf wire type".into()),
        }
    }
    if external {
        return Err("the initializer is stored as external data, which is not supported".into());
    }
    let data = match (data_type, raw) {
        (FLOAT, Some(raw)) => raw.chunks_exact(4).map(le_f32).collect(),
        (FLOAT, None) => floats,
        (FLOAT16, Some(raw)) => raw.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
        (FLOAT16, None) => int32s.iter().map(|&v| half::f16::from_bits(v as u16).to_f32()).collect(),
        (other, _) => return Err(format!("the initializer has data type {other}, expected float or float16")),
    };
    let expected: i64 = dims.iter().product();
    if expected as usize != data.len() {
        return Err(format!("the initializer has {} values for shape {dims:?}", data.len()));
    }
    Ok(Initializer { dims, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.onnx");
        std::fs::write(&path, b"\xff\xff\xff").unwrap();
        let err = read_last_initializer(&path).unwrap_err().to_string();
        assert!(err.contains("junk.onnx"), "{err}");
    }

    #[test]
    fn parses_a_raw_float_tensor() {
        // dims [2], data_type 1, raw_data = [1.0, 2.0]
        let mut t = vec![0x08, 0x02, 0x10, 0x01, 0x4a, 0x08];
        t.extend(1.0f32.to_le_bytes());
        t.extend(2.0f32.to_le_bytes());
        assert_eq!(parse_tensor(&t).unwrap(), Initializer { dims: vec![2], data: vec![1.0, 2.0] });
    }
}
