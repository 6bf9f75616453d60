//! Reading log streams: files, stdin or bytes, cut into chunks of whole lines that worker
//! threads process in parallel.

use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// Where lines come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file.
    Path(PathBuf),
    /// Standard input.
    Stdin,
    /// Bytes in memory, with the name `@logStream` shows for them.
    Bytes {
        /// The stream's name.
        name: String,
        /// The lines.
        data: Arc<[u8]>,
    },
}

impl Input {
    /// Bytes in memory (tests, embedding).
    ///
    /// ```
    /// let input = instrument_query::Input::bytes("app.log", "{\"a\":1}\n");
    /// assert_eq!(input.name(), "app.log");
    /// ```
    pub fn bytes(name: &str, data: impl AsRef<[u8]>) -> Input {
        Input::Bytes {
            name: name.to_owned(),
            data: Arc::from(data.as_ref()),
        }
    }

    /// The stream's name: the file name, `stdin`, or the given name.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            Input::Stdin => "stdin".into(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }

    fn reader(&self) -> Result<Box<dyn Read + Send>> {
        Ok(match self {
            Input::Path(p) => Box::new(std::fs::File::open(p).map_err(|source| Error::Io {
                path: p.display().to_string(),
                source,
            })?),
            Input::Stdin => Box::new(std::io::stdin()),
            Input::Bytes { data, .. } => Box::new(std::io::Cursor::new(data.clone())),
        })
    }
}

/// A piece of input: whole lines, the stream's name, its number in reading order and the
/// 1-based line number of its first line within its stream.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub(crate) id: u64,
    pub(crate) stream: Arc<str>,
    pub(crate) first_line: u64,
    pub(crate) data: Vec<u8>,
}

const CHUNK: usize = 1 << 20;

/// Reads `inputs` in order, sending chunks to `send`.
pub(crate) fn read_chunks(inputs: &[Input], send: &mut dyn FnMut(Chunk)) -> Result<()> {
    let mut id = 0;
    for input in inputs {
        let stream: Arc<str> = Arc::from(input.name());
        let path = match input {
            Input::Path(p) => p.display().to_string(),
            _ => input.name(),
        };
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut reader = input.reader()?;
        let mut carry: Vec<u8> = Vec::new();
        let mut line = 1;
        loop {
            let mut buf = std::mem::take(&mut carry);
            let start = buf.len();
            buf.resize(start + CHUNK, 0);
            let mut filled = start;
            while filled < buf.len() {
                let n = reader.read(&mut buf[filled..]).map_err(io)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            buf.truncate(filled);
            let eof = filled < start + CHUNK;
            if !eof {
                match memchr::memrchr(b'\n', &buf) {
                    Some(cut) => {
                        carry = buf[cut + 1..].to_vec();
                        buf.truncate(cut + 1);
                    }
                    None => {
                        // A line longer than a chunk: keep reading until it ends.
                        carry = buf;
                        continue;
                    }
                }
            }
            if !buf.is_empty() {
                let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                send(Chunk {
                    id,
                    stream: stream.clone(),
                    first_line: line,
                    data: buf,
                });
                id += 1;
                line += lines;
            }
            if eof {
                break;
            }
        }
    }
    Ok(())
}

/// Runs `work` on every chunk of `inputs` on `threads` worker threads; each worker starts from
/// `init()` and the workers' states are returned for merging.
pub(crate) fn parallel<S: Send>(
    inputs: &[Input],
    threads: usize,
    init: &(dyn Fn() -> S + Sync),
    work: &(dyn Fn(&mut S, &Chunk) + Sync),
) -> Result<Vec<S>> {
    let threads = threads.max(1);
    let (tx, rx) = sync_channel::<Chunk>(threads * 2);
    let rx: Mutex<Receiver<Chunk>> = Mutex::new(rx);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = &rx;
                scope.spawn(move || {
                    let mut state = init();
                    loop {
                        let next = rx.lock().map(|r| r.recv());
                        match next {
                            Ok(Ok(chunk)) => work(&mut state, &chunk),
                            _ => return state,
                        }
                    }
                })
            })
            .collect();
        let read = read_chunks(inputs, &mut |chunk| {
            let _ = tx.send(chunk);
        });
        drop(tx);
        let states: Vec<S> = workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        read.map(|()| states)
    })
}

/// Splits a chunk into lines (without `\n` / `\r\n`), with their index in the chunk.
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut start = 0;
    let mut index = 0;
    std::iter::from_fn(move || {
        if start >= data.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
        let mut line = &data[start..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        start = end + 1;
        index += 1;
        Some((index - 1, line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_hold_whole_lines_and_count_them() {
        let text: String = (0..300_000).map(|i| format!("line {i}\n")).collect();
        let mut seen = Vec::new();
        read_chunks(&[Input::bytes("t", &text)], &mut |c| {
            assert!(c.data.ends_with(b"\n"));
            seen.push((c.first_line, lines(&c.data).count() as u64));
        })
        .unwrap();
        assert!(seen.len() > 1);
        let mut expected = 1;
        for (first, n) in &seen {
            assert_eq!(*first, expected);
            expected += n;
        }
        assert_eq!(expected - 1, 300_000);
    }

    #[test]
    fn a_line_longer_than_a_chunk_stays_whole() {
        let long = "x".repeat(3 * CHUNK + 17);
        let text = format!("a\n{long}\nb");
        let mut got = Vec::new();
        read_chunks(&[Input::bytes("t", &text)], &mut |c| {
            got.extend(lines(&c.data).map(|(i, l)| (c.first_line + i, l.len())));
        })
        .unwrap();
        assert_eq!(got, vec![(1, 1), (2, long.len()), (3, 1)]);
    }

    #[test]
    fn lines_strip_crlf_and_keep_a_last_line_without_newline() {
        let got: Vec<&[u8]> = lines(b"a\r\nb\nc").map(|(_, l)| l).collect();
        assert_eq!(got, vec![&b"a"[..], b"b", b"c"]);
    }
}
