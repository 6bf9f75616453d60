//! The CloudWatch agent sink against real TCP and UDP listeners on 127.0.0.1.

mod emf_common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use emf_common::check;
use instrument_emf::{AgentOptions, AgentSink, Dropped, Encoder, Group, Metric, Sink, Unit};

/// `n` distinct valid EMF documents, each with a `seq` property.
fn documents(n: usize) -> Vec<Vec<u8>> {
    let encoder = Encoder::new("Agent");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    (0..n)
        .map(|i| {
            let seq = i.to_string();
            let group = Group {
                properties: vec![("seq", &seq)],
                metrics: vec![Metric {
                    name: "calls",
                    unit: Unit::Count,
                    resolution: 60,
                    values: &[1.0],
                }],
                ..Group::default()
            };
            let mut out = Vec::new();
            encoder.encode(&group, now, &Dropped::default(), &mut |d| out = d.to_vec());
            out
        })
        .collect()
}

fn fast() -> AgentOptions {
    AgentOptions {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        flush_timeout: Duration::from_secs(5),
        ..AgentOptions::default()
    }
}

/// Accepts connections and forwards every line to `lines`; closes after `limit` lines per
/// connection (None: never).
fn serve(listener: TcpListener, lines: mpsc::Sender<Vec<u8>>, limit: Option<usize>) {
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let mut reader = BufReader::new(stream);
            let mut n = 0;
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        let _ = lines.send(line);
                        n += 1;
                        if limit == Some(n) {
                            return; // drops the connection and the listener
                        }
                    }
                }
            }
        }
    });
}

fn collect(lines: &mpsc::Receiver<Vec<u8>>, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => got.push(line),
            Err(_) => break,
        }
    }
    got
}

#[test]
fn tcp_delivers_every_document_as_one_line() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    serve(listener, tx, None);
    let sink = AgentSink::with_options(&format!("tcp://{addr}"), fast()).unwrap();
    let docs = documents(500);
    for d in &docs {
        sink.write(d);
    }
    sink.flush();
    let got = collect(&rx, 500, Duration::from_secs(10));
    assert_eq!(got, docs);
    for line in &got {
        check(line);
    }
    assert_eq!(sink.sent(), 500);
    assert_eq!(sink.lost(), 0);
}

#[test]
fn tcp_survives_the_agent_restarting_and_counts_what_is_lost() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    // The first agent takes 100 documents, then goes away.
    serve(listener, tx.clone(), Some(100));
    let sink = AgentSink::with_options(&format!("tcp://{addr}"), fast()).unwrap();
    let docs = documents(300);
    for d in &docs[..100] {
        sink.write(d);
    }
    let first = collect(&rx, 100, Duration::from_secs(10));
    assert_eq!(first.len(), 100);
    // Agent down: documents queue up while the sink backs off and retries.
    std::thread::sleep(Duration::from_millis(50));
    for d in &docs[100..200] {
        sink.write(d);
    }
    std::thread::sleep(Duration::from_millis(200));
    // The agent comes back on the same port.
    let listener = TcpListener::bind(addr).expect("rebind the agent port");
    serve(listener, tx, None);
    for d in &docs[200..] {
        sink.write(d);
    }
    sink.flush();
    let rest = collect(&rx, 200, Duration::from_secs(10));
    let received = first.len() + rest.len();
    // Whatever did not arrive was counted as lost, and nothing else was.
    assert_eq!(
        received as u64 + sink.lost(),
        300,
        "received {received}, lost {}",
        sink.lost()
    );
    assert!(
        received >= 299,
        "at most the one in-flight document may be lost: {received}"
    );
    for line in first.iter().chain(&rest) {
        check(line);
    }
}

#[test]
fn tcp_agent_down_at_shutdown_waits_a_bounded_time_and_counts_every_loss() {
    // A port with nothing listening on it.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let options = AgentOptions {
        flush_timeout: Duration::from_millis(200),
        ..fast()
    };
    let sink = AgentSink::with_options(&format!("tcp://{addr}"), options).unwrap();
    let stats = sink.stats();
    for d in documents(20) {
        sink.write(&d);
    }
    let started = Instant::now();
    drop(sink); // flush with a bounded wait, then give up and count the rest
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stats.sent(), 0);
    assert_eq!(stats.lost(), 20);
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_blocking() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let options = AgentOptions {
        queue_capacity: 5,
        flush_timeout: Duration::from_millis(100),
        ..fast()
    };
    let sink = AgentSink::with_options(&format!("tcp://{addr}"), options).unwrap();
    let stats = sink.stats();
    let started = Instant::now();
    for d in documents(100) {
        sink.write(&d);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "writes never block"
    );
    drop(sink);
    assert_eq!(stats.sent() + stats.lost(), 100);
    assert_eq!(stats.lost(), 100);
}

#[test]
fn udp_sends_one_datagram_per_document() {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let addr = socket.local_addr().unwrap();
    let sink = AgentSink::with_options(&format!("udp://{addr}"), fast()).unwrap();
    assert!(sink.max_document_bytes() <= 65_507);
    let docs = documents(50);
    for d in &docs {
        sink.write(d);
    }
    sink.flush();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 70_000];
    while got.len() < docs.len() {
        let n = socket.recv(&mut buf).expect("datagram");
        got.push(buf[..n].to_vec());
    }
    assert_eq!(got, docs);
    assert_eq!(sink.lost(), 0);
}

#[test]
fn bad_endpoints_are_clear_errors() {
    for bad in [
        "http://127.0.0.1:1",
        "tcp://",
        "127.0.0.1:25888",
        "udp://nohostport",
    ] {
        let err = AgentSink::connect(bad).unwrap_err();
        assert!(err.to_string().contains(bad), "{err}");
    }
}

/// Issue 13 (6): an agent that accepts the connection but never reads cannot hang the sink's
/// drop (writes time out; the documents are counted as lost), and the queue is bounded by
/// bytes as well as by documents.
#[test]
fn an_agent_that_never_reads_cannot_hang_shutdown_and_the_queue_is_bounded_by_bytes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts, keeps the connections open, reads nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let options = AgentOptions {
        // More than loopback's socket buffers hold, so the sender's writes block.
        queue_bytes: 16 << 20,
        write_timeout: Duration::from_millis(200),
        flush_timeout: Duration::from_secs(1),
        ..fast()
    };
    let sink = AgentSink::with_options(&format!("tcp://{addr}"), options).unwrap();
    let stats = sink.stats();
    // 400 documents of 100 KB: 40 MB, ten times the byte bound and far more than the socket
    // buffers hold.
    let doc = {
        let mut d = br#"{"_aws":{}, "x":""#.to_vec();
        d.extend(std::iter::repeat_n(b'a', 100_000));
        d.extend_from_slice(b"\"}\n");
        d
    };
    for _ in 0..400 {
        sink.write(&doc);
    }
    assert!(
        stats.lost() >= 100,
        "the byte bound drops what does not fit: lost {}",
        stats.lost()
    );
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        drop(sink);
        let _ = done.send(());
    });
    assert!(
        finished.recv_timeout(Duration::from_secs(20)).is_ok(),
        "dropping the sink hung"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(
        stats.sent() + stats.lost(),
        400,
        "every document is either sent or counted as lost"
    );
}
