//! The TCP health check, in the manner of blackbox_exporter's tcp prober:
//! connect (optionally TLS with SNI and a CA file), optionally send a line
//! and wait for a reply matching a regex — all under one deadline.
//!
//! TLS is the one client TLS ([`sextant_tls::Connector`]), as the HTTP
//! check's: the peer's chain is reported even when rejected, and its expiry
//! judged in the same place (`expiry`).
//!
//! Metric names follow the OpenTelemetry tcpcheck receiver
//! (`tcpcheck.status`, `tcpcheck.duration`, in seconds where it uses
//! milliseconds), plus `tcpcheck.phase.duration{phase}` and, with TLS, the
//! certificate expiry as the HTTP check reports it
//! (`tcpcheck.tls.cert_remaining`, `tcpcheck.tls.cert_expiry`).

pub mod config;
mod judge;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use regex::Regex;
use rustls::pki_types::ServerName;
use sextant_tls::{Connector, HandshakeError, PeerCerts, TlsSetupError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant as Deadline, timeout_at};

pub use config::{TcpConfig, TcpError, TlsOptions};

use crate::report::Report;
use judge::{Observation, Outcome};

/// The `kind` of TCP reports.
pub const KIND: &str = "tcp";

/// A health check of one TCP (or TLS) port.
#[derive(Debug)]
pub struct TcpCheck {
    config: TcpConfig,
    expect: Option<Regex>,
    /// The TLS client and the name it verifies (with a `tls:` block).
    tls: Option<(Connector, ServerName<'static>)>,
    target: String,
}

impl TcpCheck {
    /// Validates `config` and, with TLS, loads the trusted roots and
    /// checks the name to verify. No connection is made until the first
    /// check.
    pub fn new(config: TcpConfig) -> Result<Self, TcpError> {
        let expect = config.prepare()?;
        let tls = match &config.tls {
            Some(opts) => {
                let invalid = |e: TlsSetupError| TcpError::InvalidConfig(e.to_string());
                let connector = Connector::new(&opts.settings()).map_err(invalid)?;
                Some((
                    connector,
                    opts.name_for(config.bare_host()).map_err(invalid)?,
                ))
            }
            None => None,
        };
        Ok(TcpCheck {
            target: config.target(),
            config,
            expect,
            tls,
        })
    }

    /// What reports name as their target, `tcp://host:port` or `tls://…`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// No password: this kind does not log in.
    pub fn secret(&self) -> Option<&crate::secret::Secret> {
        None
    }

    /// The settings this check runs with.
    pub fn config(&self) -> &TcpConfig {
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
        let mut phases = Vec::new();
        let mut certs = None;
        let outcome = self.run(deadline, &mut phases, &mut certs).await;
        let obs = Observation {
            outcome,
            phases,
            total: started.elapsed(),
            certs,
            now: crate::expiry::now(),
        };
        let regex = self.expect.as_ref().map(Regex::as_str);
        let exchanged = self.config.send.is_some() || self.expect.is_some();
        Report {
            kind: KIND,
            target: self.target.clone(),
            at_unix_nanos: at,
            start_unix_nanos: 0,
            duration: obs.total,
            operations: 1 + u32::from(exchanged),
            verdict: judge::judge(&obs, &self.config, regex),
            metrics: judge::metrics(&obs),
        }
    }

    fn timed_out(&self, during: &str) -> Outcome {
        Outcome::Unreachable(format!(
            "{during}: no answer within the check timeout of {:?}",
            self.config.timeout
        ))
    }

    async fn run(
        &self,
        deadline: Deadline,
        phases: &mut Vec<(&'static str, Duration)>,
        certs: &mut Option<PeerCerts>,
    ) -> Outcome {
        let host = self.config.bare_host();
        let t = Instant::now();
        let addr = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, self.config.port),
            Err(_) => {
                match timeout_at(deadline, tokio::net::lookup_host((host, self.config.port))).await
                {
                    Err(_) => return self.timed_out("resolve"),
                    Ok(Err(e)) => return Outcome::Unreachable(format!("resolve {host}: {e}")),
                    Ok(Ok(mut addrs)) => match addrs.next() {
                        Some(a) => a,
                        None => {
                            return Outcome::Unreachable(format!("resolve {host}: no addresses"));
                        }
                    },
                }
            }
        };
        phases.push(("resolve", t.elapsed()));
        let t = Instant::now();
        let tcp = match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return self.timed_out("connect"),
            Ok(Err(e)) => return Outcome::Unreachable(format!("connect {addr}: {e}")),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        phases.push(("connect", t.elapsed()));
        let Some((client, name)) = &self.tls else {
            return self.exchange(tcp, deadline, phases).await;
        };
        let t = Instant::now();
        let handshake = match timeout_at(deadline, client.handshake(name.clone(), tcp)).await {
            Err(_) => return self.timed_out("TLS handshake"),
            Ok(h) => h,
        };
        phases.push(("tls", t.elapsed()));
        *certs = Some(handshake.peer);
        match handshake.result {
            Ok(stream) => self.exchange(stream, deadline, phases).await,
            Err(HandshakeError::Rejected(why)) => Outcome::CertRejected(why),
            Err(HandshakeError::Failed(why)) => {
                Outcome::Unreachable(format!("TLS handshake: {why}"))
            }
        }
    }

    /// Sends `send` and reads until `expect` matches.
    async fn exchange<S>(
        &self,
        mut io: S,
        deadline: Deadline,
        phases: &mut Vec<(&'static str, Duration)>,
    ) -> Outcome
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let t = Instant::now();
        let mut reply_error = None;
        if let Some(send) = &self.config.send {
            let write = async {
                io.write_all(send.as_bytes()).await?;
                io.flush().await
            };
            match timeout_at(deadline, write).await {
                Err(_) => reply_error = Some("sending timed out".to_string()),
                Ok(Err(e)) => reply_error = Some(format!("send: {e}")),
                Ok(Ok(())) => {}
            }
        }
        let Some(re) = &self.expect else {
            if let Some(e) = reply_error {
                return Outcome::Unreachable(e);
            }
            return Outcome::Connected {
                matched: None,
                reply: String::new(),
                reply_error: None,
            };
        };
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 4096];
        let mut matched = false;
        while reply_error.is_none() {
            let room = self.config.max_reply_bytes - buf.len();
            let want = room.min(chunk.len());
            match timeout_at(deadline, io.read(&mut chunk[..want])).await {
                Err(_) => reply_error = Some("no match within the check timeout".to_string()),
                Ok(Err(e)) => reply_error = Some(format!("read: {e}")),
                Ok(Ok(0)) => reply_error = Some("peer closed the connection".to_string()),
                Ok(Ok(n)) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if re.is_match(&String::from_utf8_lossy(&buf)) {
                        matched = true;
                        break;
                    }
                    if buf.len() >= self.config.max_reply_bytes {
                        reply_error = Some(format!("read {} bytes without a match", buf.len()));
                    }
                }
            }
        }
        phases.push(("expect", t.elapsed()));
        let text = String::from_utf8_lossy(&buf);
        let mut reply: String = text.chars().take(64).collect();
        if text.chars().count() > 64 {
            reply.push('…');
        }
        Outcome::Connected {
            matched: Some(matched),
            reply,
            reply_error: if matched { None } else { reply_error },
        }
    }
}
