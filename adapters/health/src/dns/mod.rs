//! The DNS health check, in the manner of blackbox_exporter's dns prober:
//! one query to one server over UDP, retried over TCP when the answer is
//! truncated, judged on its rcode, answer count and an answer regex.
//!
//! The wire format is our own small encoder/decoder ([`wire`]: seven record
//! types, name compression, every read bounds-checked, fuzzed by property
//! tests) rather than a resolver crate: a check needs one question and one
//! answer, not a resolver. The UDP socket is an ephemeral client socket
//! `connect`ed to the server, never a listener.
//!
//! Metric names follow blackbox_exporter in OTel style: `dnscheck.duration`
//! (`probe_dns_duration_seconds`), `dnscheck.rrs{section}`
//! (`probe_dns_answer_rrs` …), `dnscheck.serial` (`probe_dns_serial`), and
//! `dnscheck.rcode{rcode}`.

pub mod config;
mod judge;
pub mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use regex::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant as Deadline, timeout_at};

pub use config::{DnsConfig, DnsError};
pub use wire::RecordType;

use crate::report::Report;
use judge::Observation;
use wire::Message;

/// The `kind` of DNS reports.
pub const KIND: &str = "dns";

/// A health check of one name on one DNS server.
#[derive(Debug)]
pub struct DnsCheck {
    config: DnsConfig,
    server: SocketAddr,
    regex: Option<Regex>,
    target: String,
}

impl DnsCheck {
    /// Validates `config`. No packet is sent until the first check.
    pub fn new(config: DnsConfig) -> Result<Self, DnsError> {
        let (server, regex) = config.prepare()?;
        Ok(DnsCheck {
            target: config.target(),
            config,
            server,
            regex,
        })
    }

    /// What reports name as their target, `dns://server/name?type=A`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// No password: this kind does not log in.
    pub fn secret(&self) -> Option<&crate::secret::Secret> {
        None
    }

    /// The settings this check runs with.
    pub fn config(&self) -> &DnsConfig {
        &self.config
    }

    /// Runs one check. Never fails and never takes (much) longer than
    /// `config.timeout`: every problem is a verdict with its reason.
    pub async fn check(&self) -> Report {
        let started = Instant::now();
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let deadline = Deadline::from_std(started + self.config.timeout);
        let id: u16 = rand::random();
        let mut operations = 1;
        let mut transport = "udp";
        let mut answer = self.udp(id, deadline).await;
        if matches!(&answer, Ok(m) if m.truncated) {
            transport = "tcp";
            operations += 1;
            answer = self.tcp(id, deadline).await;
        }
        let obs = Observation {
            answer,
            transport,
            total: started.elapsed(),
        };
        Report {
            kind: KIND,
            target: self.target.clone(),
            at_unix_nanos: at,
            start_unix_nanos: 0,
            duration: obs.total,
            operations,
            verdict: judge::judge(&obs, &self.config, self.regex.as_ref()),
            metrics: judge::metrics(&obs),
        }
    }

    fn query(&self, id: u16) -> Result<Vec<u8>, String> {
        wire::encode_query(id, &self.config.name, self.config.record_type)
            .map_err(|e| format!("encoding the query: {e}"))
    }

    fn timed_out(&self, transport: &str) -> String {
        format!(
            "no answer from {} over {transport} within the check timeout of {:?}",
            self.server, self.config.timeout
        )
    }

    async fn udp(&self, id: u16, deadline: Deadline) -> Result<Message, String> {
        let query = self.query(id)?;
        let local: SocketAddr = if self.server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local)
            .await
            .map_err(|e| format!("udp socket: {e}"))?;
        socket
            .connect(self.server)
            .await
            .map_err(|e| format!("udp connect {}: {e}", self.server))?;
        match timeout_at(deadline, socket.send(&query)).await {
            Err(_) => return Err(self.timed_out("udp")),
            Ok(Err(e)) => return Err(format!("udp send to {}: {e}", self.server)),
            Ok(Ok(_)) => {}
        }
        let mut buf = vec![0u8; 4096];
        loop {
            let n = match timeout_at(deadline, socket.recv(&mut buf)).await {
                Err(_) => return Err(self.timed_out("udp")),
                Ok(Err(e)) => return Err(format!("udp receive from {}: {e}", self.server)),
                Ok(Ok(n)) => n,
            };
            // Stray or forged datagrams (wrong id, garbage) are skipped.
            match wire::decode(&buf[..n]) {
                Ok(m) if m.id == id => return Ok(m),
                _ => continue,
            }
        }
    }

    async fn tcp(&self, id: u16, deadline: Deadline) -> Result<Message, String> {
        let query = self.query(id)?;
        let exchange = async {
            let mut tcp = TcpStream::connect(self.server)
                .await
                .map_err(|e| format!("tcp connect {}: {e}", self.server))?;
            let len = u16::try_from(query.len()).map_err(|_| "query too long".to_string())?;
            let mut framed = len.to_be_bytes().to_vec();
            framed.extend(&query);
            tcp.write_all(&framed)
                .await
                .map_err(|e| format!("tcp send: {e}"))?;
            let len = tcp
                .read_u16()
                .await
                .map_err(|e| format!("tcp receive: {e}"))?;
            let mut buf = vec![0u8; usize::from(len)];
            tcp.read_exact(&mut buf)
                .await
                .map_err(|e| format!("tcp receive: {e}"))?;
            let m = wire::decode(&buf).map_err(|e| format!("tcp answer: {e}"))?;
            if m.id != id {
                return Err(format!("tcp answer has id {}, not {id}", m.id));
            }
            Ok(m)
        };
        match timeout_at(deadline, exchange).await {
            Err(_) => Err(self.timed_out("tcp")),
            Ok(r) => r,
        }
    }
}
