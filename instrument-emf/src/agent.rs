//! The CloudWatch agent sink: EMF over TCP or UDP (`AWS_EMF_AGENT_ENDPOINT`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sink::Sink;

/// Why an agent endpoint could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// Not `tcp://host:port` or `udp://host:port`.
    #[error(
        "invalid CloudWatch agent endpoint {0:?}: expected tcp://host:port or udp://host:port"
    )]
    InvalidEndpoint(String),
    /// The host did not resolve.
    #[error("cannot resolve CloudWatch agent endpoint {endpoint:?}: {source}")]
    Resolve {
        /// The endpoint as given.
        endpoint: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// The sender thread could not start.
    #[error("cannot start the CloudWatch agent sender thread: {0}")]
    Thread(io::Error),
}

/// Tuning of an [`AgentSink`].
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Documents waiting to be sent at most; more are dropped and counted (default 10,000).
    pub queue_capacity: usize,
    /// Bytes of documents waiting to be sent at most; more are dropped and counted (default
    /// 32 MiB: 10,000 documents of up to 256 KB would be 2.5 GB).
    pub queue_bytes: usize,
    /// How long one write to the agent may block (default 1 s): an agent that accepts the
    /// connection but never reads cannot hold the sender, nor shutdown, for longer.
    pub write_timeout: Duration,
    /// First reconnection delay, doubled on each failure (default 50 ms).
    pub initial_backoff: Duration,
    /// Longest reconnection delay (default 5 s).
    pub max_backoff: Duration,
    /// How long `flush` and shutdown wait for the queue to drain (default 2 s).
    pub flush_timeout: Duration,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            queue_capacity: 10_000,
            queue_bytes: 32 << 20,
            write_timeout: Duration::from_secs(1),
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            flush_timeout: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicU64,
    /// Bytes of the documents in the queue.
    queued_bytes: AtomicU64,
    done: AtomicU64,
    sent: AtomicU64,
    lost: AtomicU64,
    lost_unreported: AtomicU64,
    reported: AtomicBool,
    closing: AtomicBool,
    idle: Mutex<()>,
    progress: Condvar,
}

impl Counters {
    fn lose(&self, n: u64, why: &dyn std::fmt::Display) {
        self.lost.fetch_add(n, Ordering::Relaxed);
        self.lost_unreported.fetch_add(n, Ordering::Relaxed);
        if !self.reported.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                io::stderr(),
                "instrument: EMF documents for the CloudWatch agent were lost ({why}); \
                 losses are counted in the instrument.dropped metric (reason sink_failure)"
            );
        }
    }

    fn finish(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
        let _guard = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        self.progress.notify_all();
    }
}

/// Sends EMF documents to the CloudWatch agent over TCP or UDP from a background thread.
///
/// * A bounded queue: when the agent is slower than the application, or away, documents past
///   the capacity are dropped and counted, never blocking the application.
/// * TCP reconnects with exponential backoff. Before each write it checks whether the agent
///   closed the connection, so a restarted agent does not swallow documents into a dead socket;
///   a document whose write fails is retried once on a fresh connection.
/// * UDP sends one document per datagram (documents are split to fit 64 KB).
/// * Everything lost is counted ([`AgentSink::lost`]), reported once on stderr, and reported
///   as `instrument.dropped{reason=sink_failure}` by the layer.
///
/// ```no_run
/// let sink = instrument_emf::AgentSink::connect("tcp://127.0.0.1:25888").unwrap();
/// # let _ = sink;
/// ```
#[derive(Debug)]
pub struct AgentSink {
    queue: Option<SyncSender<Vec<u8>>>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
    protocol: Protocol,
    options: AgentOptions,
}

impl AgentSink {
    /// Connects (lazily) to `endpoint`, `tcp://host:port` or `udp://host:port`.
    pub fn connect(endpoint: &str) -> Result<AgentSink, AgentError> {
        AgentSink::with_options(endpoint, AgentOptions::default())
    }

    /// Like [`connect`](Self::connect), tuned.
    pub fn with_options(endpoint: &str, options: AgentOptions) -> Result<AgentSink, AgentError> {
        let (protocol, rest) = if let Some(rest) = endpoint.strip_prefix("tcp://") {
            (Protocol::Tcp, rest)
        } else if let Some(rest) = endpoint.strip_prefix("udp://") {
            (Protocol::Udp, rest)
        } else {
            return Err(AgentError::InvalidEndpoint(endpoint.into()));
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || !rest.contains(':') {
            return Err(AgentError::InvalidEndpoint(endpoint.into()));
        }
        let addr = rest
            .to_socket_addrs()
            .map_err(|source| AgentError::Resolve {
                endpoint: endpoint.into(),
                source,
            })?
            .next()
            .ok_or_else(|| AgentError::InvalidEndpoint(endpoint.into()))?;
        let (queue, received) = mpsc::sync_channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let sender = Sender {
            addr,
            protocol,
            counters: counters.clone(),
            options: options.clone(),
            tcp: None,
            udp: None,
        };
        let thread = std::thread::Builder::new()
            .name("instrument-emf-agent".into())
            .spawn(move || sender.run(received))
            .map_err(AgentError::Thread)?;
        Ok(AgentSink {
            queue: Some(queue),
            counters,
            thread: Some(thread),
            protocol,
            options,
        })
    }

    /// Counters that stay readable after the sink is dropped (to check a shutdown's losses).
    pub fn stats(&self) -> AgentStats {
        AgentStats(self.counters.clone())
    }

    /// Documents delivered to the agent's socket.
    pub fn sent(&self) -> u64 {
        self.counters.sent.load(Ordering::Relaxed)
    }

    /// Documents lost (queue full, agent unreachable at shutdown, failed writes).
    pub fn lost(&self) -> u64 {
        self.counters.lost.load(Ordering::Relaxed)
    }

    fn wait_idle(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut guard = self.counters.idle.lock().unwrap_or_else(|e| e.into_inner());
        while self.counters.done.load(Ordering::Relaxed)
            < self.counters.queued.load(Ordering::Relaxed)
        {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            guard = self
                .counters
                .progress
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Sink for AgentSink {
    fn write(&self, document: &[u8]) {
        let Some(queue) = &self.queue else {
            return;
        };
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        let bytes = document.len() as u64;
        let before = self
            .counters
            .queued_bytes
            .fetch_add(bytes, Ordering::Relaxed);
        if before + bytes > self.options.queue_bytes as u64 {
            self.counters
                .queued_bytes
                .fetch_sub(bytes, Ordering::Relaxed);
            self.counters.lose(1, &"the agent queue is full (bytes)");
            self.counters.finish(1);
            return;
        }
        match queue.try_send(document.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.counters
                    .queued_bytes
                    .fetch_sub(bytes, Ordering::Relaxed);
                self.counters.lose(1, &"the agent queue is full");
                self.counters.finish(1);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.counters
                    .queued_bytes
                    .fetch_sub(bytes, Ordering::Relaxed);
                self.counters.lose(1, &"the agent sender thread stopped");
                self.counters.finish(1);
            }
        }
    }

    fn flush(&self) {
        self.wait_idle(self.options.flush_timeout);
    }

    /// Waits (bounded) for the queue to drain, then stops the sender: what it could not
    /// deliver is counted as lost and reported, as a drop would (under `init()` the sink is
    /// never dropped).
    fn shutdown(&self) {
        self.wait_idle(self.options.flush_timeout);
        self.counters.closing.store(true, Ordering::Relaxed);
        // The sender gives up within its closing deadline (one write), then counts the rest.
        self.wait_idle(self.options.write_timeout * 2);
    }

    fn max_document_bytes(&self) -> usize {
        match self.protocol {
            Protocol::Tcp => crate::encoder::MAX_DOCUMENT_BYTES,
            // A UDP datagram carries at most 65,507 bytes of payload over IPv4.
            Protocol::Udp => 65_000,
        }
    }

    fn take_lost(&self) -> u64 {
        self.counters.lost_unreported.swap(0, Ordering::Relaxed)
    }
}

impl Drop for AgentSink {
    fn drop(&mut self) {
        self.wait_idle(self.options.flush_timeout);
        self.counters.closing.store(true, Ordering::Relaxed);
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Delivery counters of an [`AgentSink`], shared with it.
#[derive(Debug, Clone)]
pub struct AgentStats(Arc<Counters>);

impl AgentStats {
    /// Documents delivered to the agent's socket.
    pub fn sent(&self) -> u64 {
        self.0.sent.load(Ordering::Relaxed)
    }

    /// Documents lost.
    pub fn lost(&self) -> u64 {
        self.0.lost.load(Ordering::Relaxed)
    }
}

struct Sender {
    addr: SocketAddr,
    protocol: Protocol,
    counters: Arc<Counters>,
    options: AgentOptions,
    tcp: Option<TcpStream>,
    udp: Option<UdpSocket>,
}

impl Sender {
    fn run(mut self, received: Receiver<Vec<u8>>) {
        let mut backoff = self.options.initial_backoff;
        let mut retry_at: Option<Instant> = None;
        let mut pending: Option<Vec<u8>> = None;
        let mut closing = false;
        let mut closing_deadline = None;
        loop {
            if !closing && self.counters.closing.load(Ordering::Relaxed) {
                closing = true;
                // The sink waited a flush timeout for the queue already: one more write at most.
                closing_deadline = Some(Instant::now() + self.options.write_timeout);
            }
            if pending.is_none() {
                let next = if closing {
                    received
                        .try_recv()
                        .map_err(|_| RecvTimeoutError::Disconnected)
                } else {
                    received.recv_timeout(Duration::from_millis(200))
                };
                match next {
                    Ok(doc) => {
                        self.counters
                            .queued_bytes
                            .fetch_sub(doc.len() as u64, Ordering::Relaxed);
                        pending = Some(doc);
                    }
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => {
                        // The sink was dropped; everything queued has been taken.
                        return;
                    }
                }
            }
            if let Some(at) = retry_at {
                let now = Instant::now();
                if now < at {
                    std::thread::sleep((at - now).min(Duration::from_millis(50)));
                    if let Some(deadline) = closing_deadline {
                        if Instant::now() >= deadline {
                            self.give_up(&mut pending, &received);
                            return;
                        }
                    }
                    continue;
                }
            }
            let Some(doc) = pending.take() else { continue };
            match self.send(&doc) {
                Ok(()) => {
                    self.counters.sent.fetch_add(1, Ordering::Relaxed);
                    self.counters.finish(1);
                    backoff = self.options.initial_backoff;
                    retry_at = None;
                }
                Err(err) if self.protocol == Protocol::Udp => {
                    self.counters.lose(1, &err);
                    self.counters.finish(1);
                }
                Err(_) => {
                    // Keep the document, retry after a growing delay.
                    pending = Some(doc);
                    retry_at = Some(Instant::now() + backoff);
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    fn give_up(&mut self, pending: &mut Option<Vec<u8>>, received: &Receiver<Vec<u8>>) {
        let mut n = u64::from(pending.take().is_some());
        while let Ok(doc) = received.try_recv() {
            self.counters
                .queued_bytes
                .fetch_sub(doc.len() as u64, Ordering::Relaxed);
            n += 1;
        }
        if n > 0 {
            self.counters.lose(
                n,
                &"the agent was unreachable when the application shut down",
            );
            self.counters.finish(n);
        }
    }

    fn send(&mut self, doc: &[u8]) -> io::Result<()> {
        match self.protocol {
            Protocol::Udp => {
                if self.udp.is_none() {
                    let bind: SocketAddr = if self.addr.is_ipv4() {
                        ([0, 0, 0, 0], 0).into()
                    } else {
                        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                    };
                    self.udp = Some(UdpSocket::bind(bind)?);
                }
                let socket = self.udp.as_ref().ok_or(io::ErrorKind::NotConnected)?;
                socket.send_to(doc, self.addr).map(|_| ())
            }
            Protocol::Tcp => {
                if let Some(stream) = &self.tcp {
                    if peer_closed(stream) {
                        self.tcp = None;
                    }
                }
                if let Some(stream) = &mut self.tcp {
                    if stream.write_all(doc).is_ok() {
                        return Ok(());
                    }
                    self.tcp = None;
                }
                // One fresh connection per attempt; the caller backs off on failure.
                let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1))?;
                let _ = stream.set_nodelay(true);
                // A write that blocks longer fails, and the document is retried or, at
                // shutdown, given up and counted.
                stream.set_write_timeout(Some(
                    self.options.write_timeout.max(Duration::from_millis(1)),
                ))?;
                stream.write_all(doc)?;
                self.tcp = Some(stream);
                Ok(())
            }
        }
    }
}

/// Whether the agent closed its end: it never sends anything, so a readable socket with no
/// data means end of stream.
fn peer_closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let closed = match (&*stream).read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    };
    let _ = stream.set_nonblocking(false);
    closed
}
