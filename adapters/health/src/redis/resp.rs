//! A minimal RESP2 client: commands out as arrays of bulk strings, replies
//! parsed incrementally from a buffer with hard limits, so nothing a server
//! (or something posing as one) sends can make the check allocate without
//! bound, recurse deeply, or panic. A [`Connection`] runs over any byte
//! stream: plain TCP, or TCP wrapped in TLS.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Largest reply accepted, all framing included.
pub const MAX_REPLY_BYTES: usize = 1 << 20;
/// Deepest nesting of arrays accepted.
const MAX_DEPTH: usize = 4;
/// Most elements in one array.
const MAX_ELEMENTS: i64 = 4096;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `+OK`.
    Simple(String),
    /// `-ERR …`: the server's error line.
    Error(String),
    /// `:42`.
    Integer(i64),
    /// `$n` bulk string; None for the null bulk `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*n`; None for the null array `*-1`.
    Array(Option<Vec<Reply>>),
}

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RespError {
    /// The bytes are not RESP2.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The reply is over [`MAX_REPLY_BYTES`].
    #[error("reply larger than {MAX_REPLY_BYTES} bytes")]
    TooLarge,
    /// The server closed the connection.
    #[error("connection closed by the server")]
    Closed,
    /// A socket error.
    #[error("I/O error: {0}")]
    Io(String),
    /// No (complete) answer before the deadline.
    #[error("no answer within the check timeout of {0:?}")]
    Timeout(Duration),
    /// The TLS handshake failed; the text says why.
    #[error("TLS error: {0}")]
    Tls(String),
}

fn protocol(why: impl Into<String>) -> RespError {
    RespError::Protocol(why.into())
}

/// Encodes a command as a RESP array of bulk strings.
pub(crate) fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The line starting at `at` (without CRLF) and the offset after it; None
/// when the buffer does not hold the whole line yet.
fn line(buf: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, RespError> {
    let rest = buf.get(at..).unwrap_or_default();
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(end) => Ok(Some((&rest[..end], at + end + 2))),
        None if rest.len() > 64 * 1024 => Err(protocol("line longer than 64 KiB")),
        None => Ok(None),
    }
}

fn integer(text: &[u8]) -> Result<i64, RespError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| protocol(format!("bad length or integer {:?}", lossy(text))))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parses one reply from the start of `buf`: `Ok(None)` when more bytes are
/// needed, else the reply and how many bytes it took.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, RespError> {
    parse_at(buf, 0, 0)
}

fn parse_at(buf: &[u8], at: usize, depth: usize) -> Result<Option<(Reply, usize)>, RespError> {
    let Some((head, next)) = line(buf, at)? else {
        return Ok(None);
    };
    let Some((&kind, body)) = head.split_first() else {
        return Err(protocol("empty line"));
    };
    let reply = match kind {
        b'+' => (Reply::Simple(lossy(body)), next),
        b'-' => (Reply::Error(lossy(body)), next),
        b':' => (Reply::Integer(integer(body)?), next),
        b'$' => {
            let len = integer(body)?;
            if len == -1 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            let len = usize::try_from(len).map_err(|_| protocol("negative bulk length"))?;
            if len > MAX_REPLY_BYTES {
                return Err(RespError::TooLarge);
            }
            let end = next + len;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(protocol("bulk string not terminated by CRLF"));
            }
            (Reply::Bulk(Some(buf[next..end].to_vec())), end + 2)
        }
        b'*' => {
            let count = integer(body)?;
            if count == -1 {
                return Ok(Some((Reply::Array(None), next)));
            }
            if !(0..=MAX_ELEMENTS).contains(&count) {
                return Err(protocol(format!("array of {count} elements")));
            }
            if depth >= MAX_DEPTH {
                return Err(protocol("arrays nested too deeply"));
            }
            let mut items = Vec::new();
            let mut pos = next;
            for _ in 0..count {
                match parse_at(buf, pos, depth + 1)? {
                    None => return Ok(None),
                    Some((item, after)) => {
                        items.push(item);
                        pos = after;
                    }
                }
            }
            (Reply::Array(Some(items)), pos)
        }
        other => {
            return Err(protocol(format!(
                "unexpected reply type byte 0x{other:02x}"
            )));
        }
    };
    Ok(Some(reply))
}

/// Opens a TCP connection to `addr` (`host:port`) before `deadline`.
pub(crate) async fn connect_tcp(
    addr: &str,
    deadline: Instant,
    budget: Duration,
) -> Result<TcpStream, RespError> {
    match timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => Err(RespError::Timeout(budget)),
        Ok(Err(e)) => Err(RespError::Io(e.to_string())),
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
    }
}

/// One connection to a Redis server over `S` (TCP, or TLS over TCP).
pub(crate) struct Connection<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// A connection over an established stream.
    pub fn new(stream: S) -> Self {
        Connection {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends one command and reads its reply before `deadline`.
    pub async fn call(
        &mut self,
        args: &[&[u8]],
        deadline: Instant,
        budget: Duration,
    ) -> Result<Reply, RespError> {
        match timeout_at(deadline, self.round_trip(args)).await {
            Err(_) => Err(RespError::Timeout(budget)),
            Ok(result) => result,
        }
    }

    /// Closes the stream politely (TLS `close_notify`, TCP FIN) unless the
    /// deadline comes first; errors are of no interest any more.
    pub async fn close(mut self, deadline: Instant) {
        let _ = timeout_at(deadline, self.stream.shutdown()).await;
    }

    async fn round_trip(&mut self, args: &[&[u8]]) -> Result<Reply, RespError> {
        let io = |e: std::io::Error| RespError::Io(e.to_string());
        self.stream.write_all(&encode(args)).await.map_err(io)?;
        self.stream.flush().await.map_err(io)?;
        loop {
            if let Some((reply, used)) = parse(&self.buf)? {
                self.buf.drain(..used);
                return Ok(reply);
            }
            if self.buf.len() >= MAX_REPLY_BYTES {
                return Err(RespError::TooLarge);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).await.map_err(io)?;
            if n == 0 {
                return Err(RespError::Closed);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands_as_bulk_arrays() {
        assert_eq!(encode(&[b"PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            encode(&[b"AUTH", b"p w\r\n"]),
            b"*2\r\n$4\r\nAUTH\r\n$5\r\np w\r\n\r\n"
        );
    }

    #[test]
    fn parse_cases() {
        type Want = Result<Option<(Reply, usize)>, RespError>;
        let big = format!("${}\r\n", MAX_REPLY_BYTES + 1);
        let cases: Vec<(&[u8], Want)> = vec![
            (b"+PONG\r\n", Ok(Some((Reply::Simple("PONG".into()), 7)))),
            (b"+PON", Ok(None)),
            (
                b"-LOADING Redis is loading\r\n",
                Ok(Some((Reply::Error("LOADING Redis is loading".into()), 27))),
            ),
            (b":-12\r\nextra", Ok(Some((Reply::Integer(-12), 6)))),
            (
                b"$3\r\nabc\r\n",
                Ok(Some((Reply::Bulk(Some(b"abc".to_vec())), 9))),
            ),
            (b"$3\r\nab", Ok(None)),
            (b"$-1\r\n", Ok(Some((Reply::Bulk(None), 5)))),
            (
                b"$3\r\nabcXY",
                Err(protocol("bulk string not terminated by CRLF")),
            ),
            (big.as_bytes(), Err(RespError::TooLarge)),
            (
                b"*2\r\n$6\r\nmaster\r\n:7\r\n",
                Ok(Some((
                    Reply::Array(Some(vec![
                        Reply::Bulk(Some(b"master".to_vec())),
                        Reply::Integer(7),
                    ])),
                    20,
                ))),
            ),
            (b"*2\r\n:1\r\n", Ok(None)),
            (b"*-1\r\n", Ok(Some((Reply::Array(None), 5)))),
            (
                b"*99999999\r\n",
                Err(protocol("array of 99999999 elements")),
            ),
            (
                b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
                Err(protocol("arrays nested too deeply")),
            ),
            (b"%1\r\n", Err(protocol("unexpected reply type byte 0x25"))),
            (b"$x\r\n", Err(protocol("bad length or integer \"x\""))),
            (b"\r\n", Err(protocol("empty line"))),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), want, "{:?}", lossy(input));
        }
        let endless = vec![b'+'; 70 * 1024];
        assert_eq!(parse(&endless), Err(protocol("line longer than 64 KiB")));
    }
}
