//! A Lambda Runtime API served on 127.0.0.1 for the real `lambda_runtime` to poll: the
//! documented protocol (`/2018-06-01/runtime/invocation/next`, `/{id}/response`, `/{id}/error`,
//! `/init/error`) with the `Lambda-Runtime-*` headers, one thread per connection, HTTP/1.1
//! keep-alive, `Content-Length` and chunked request bodies.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// One invocation to hand out.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    /// Unix milliseconds.
    pub deadline_ms: u64,
    pub function_arn: String,
    pub trace_id: Option<String>,
    pub event: Value,
}

impl Invocation {
    /// An invocation of `event` with a deadline 30 s away and a trace ID of its own.
    pub fn new(request_id: &str, event: Value) -> Invocation {
        Invocation {
            request_id: request_id.to_string(),
            deadline_ms: now_ms() + 30_000,
            function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:booking".to_string(),
            trace_id: Some(format!(
                "Root=1-6740c2a0-{:0>24};Parent=3f2e1d0c9b8a7968;Sampled=1",
                request_id.replace('-', "")
            )),
            event,
        }
    }

    /// The same, with a deadline `ms` milliseconds from now.
    pub fn with_deadline_in(mut self, ms: u64) -> Invocation {
        self.deadline_ms = now_ms() + ms;
        self
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// What the runtime reported for an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response { request_id: String, body: Value },
    Error { request_id: String, body: Value },
    InitError { body: Value },
}

impl Outcome {
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Outcome::Response { request_id, .. } | Outcome::Error { request_id, .. } => {
                Some(request_id)
            }
            Outcome::InitError { .. } => None,
        }
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Invocation>,
    outcomes: Vec<Outcome>,
    closed: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// The server; stops handing out invocations when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Shared,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let shared: Shared = Arc::default();
        let accept_shared = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if accept_shared.0.lock().unwrap().closed {
                    return;
                }
                let shared = accept_shared.clone();
                std::thread::spawn(move || serve(stream, shared));
            }
        });
        RuntimeApi { addr, shared }
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    pub fn push(&self, invocation: Invocation) {
        let (lock, cv) = &*self.shared;
        lock.lock().unwrap().queue.push_back(invocation);
        cv.notify_all();
    }

    /// Everything reported so far.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.shared.0.lock().unwrap().outcomes.clone()
    }

    /// Waits until `n` outcomes were reported (panics after `timeout`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Outcome> {
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut state = lock.lock().unwrap();
        while state.outcomes.len() < n {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| {
                    panic!(
                        "the runtime reported {} of {n} outcomes within {timeout:?}: {:?}",
                        state.outcomes.len(),
                        state.outcomes
                    )
                });
            state = cv.wait_timeout(state, left).unwrap().0;
        }
        state.outcomes.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        lock.lock().unwrap().closed = true;
        cv.notify_all();
        // Wake the accept loop so it sees `closed`.
        let _ = TcpStream::connect(self.addr);
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut content_length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().ok()?;
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(content_length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request { method, path, body })
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> bool {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).is_ok()
}

fn serve(stream: TcpStream, shared: Shared) {
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let path = req.path.trim_start_matches("/2018-06-01/runtime");
        let ok = match (req.method.as_str(), path) {
            ("GET", "/invocation/next") => {
                let (lock, cv) = &*shared;
                let mut state = lock.lock().unwrap();
                let invocation = loop {
                    if state.closed {
                        return;
                    }
                    if let Some(i) = state.queue.pop_front() {
                        break i;
                    }
                    state = cv.wait(state).unwrap();
                };
                drop(state);
                let mut headers = vec![
                    ("content-type".to_string(), "application/json".to_string()),
                    (
                        "lambda-runtime-aws-request-id".to_string(),
                        invocation.request_id.clone(),
                    ),
                    (
                        "lambda-runtime-deadline-ms".to_string(),
                        invocation.deadline_ms.to_string(),
                    ),
                    (
                        "lambda-runtime-invoked-function-arn".to_string(),
                        invocation.function_arn.clone(),
                    ),
                ];
                if let Some(trace) = &invocation.trace_id {
                    headers.push(("lambda-runtime-trace-id".to_string(), trace.clone()));
                }
                let body = serde_json::to_vec(&invocation.event).unwrap();
                respond(&mut writer, "200 OK", &headers, &body)
            }
            ("POST", "/init/error") => {
                record(
                    &shared,
                    Outcome::InitError {
                        body: json(&req.body),
                    },
                );
                respond(&mut writer, "202 Accepted", &[], b"{}")
            }
            ("POST", p) if p.starts_with("/invocation/") => {
                let rest = &p["/invocation/".len()..];
                let (request_id, kind) = rest.rsplit_once('/').unwrap_or((rest, ""));
                let request_id = request_id.to_string();
                let body = json(&req.body);
                match kind {
                    "response" => record(&shared, Outcome::Response { request_id, body }),
                    "error" => record(&shared, Outcome::Error { request_id, body }),
                    _ => {}
                }
                respond(&mut writer, "202 Accepted", &[], b"{}")
            }
            _ => respond(&mut writer, "404 Not Found", &[], b"{}"),
        };
        if !ok {
            return;
        }
    }
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
}

fn record(shared: &Shared, outcome: Outcome) {
    let (lock, cv) = &**shared;
    lock.lock().unwrap().outcomes.push(outcome);
    cv.notify_all();
}
