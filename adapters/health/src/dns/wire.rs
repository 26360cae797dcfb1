//! Just enough of the DNS wire format (RFC 1035) for a health check: encode
//! one query, decode a response (name compression included), and — for
//! tests — encode responses. Every read is bounds-checked and compression
//! pointers are followed a bounded number of times, so any bytes a server
//! (or an attacker) sends decode to an error, never a panic.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Deserialize;

/// Why a message could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The message ended inside a field.
    #[error("DNS message truncated at byte {0}")]
    Truncated(usize),
    /// A name was too long, had a bad label, or looped through pointers.
    #[error("bad DNS name: {0}")]
    BadName(&'static str),
}

/// The record types a check can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name.
    Cname,
    /// Mail exchanger.
    Mx,
    /// Text.
    Txt,
    /// Name server.
    Ns,
    /// Start of authority.
    Soa,
}

impl RecordType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
        }
    }
}

/// The mnemonic of a type number (`TYPE99` for unknown ones).
pub fn type_name(code: u16) -> String {
    match code {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        n => format!("TYPE{n}"),
    }
}

/// The mnemonic of a response code (`RCODE12` for unknown ones).
pub fn rcode_name(rcode: u8) -> String {
    match rcode {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        n => format!("RCODE{n}"),
    }
}

/// Record data, decoded for the types a check asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// A.
    A(Ipv4Addr),
    /// AAAA.
    Aaaa(Ipv6Addr),
    /// CNAME or NS (the type is on the record).
    Name(String),
    /// MX: preference and exchange.
    Mx(u16, String),
    /// TXT: its character strings.
    Txt(Vec<String>),
    /// SOA: mname, rname, serial, refresh, retry, expire, minimum.
    Soa(String, String, [u32; 5]),
    /// Any other type, undecoded.
    Other(Vec<u8>),
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner name, absolute with a trailing dot.
    pub name: String,
    /// Type number.
    pub rtype: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The data.
    pub data: RData,
}

impl Record {
    /// Presentation form, `name TTL IN TYPE data`, tab-separated as dig and
    /// blackbox_exporter's `validate_answer_rrs` regexes see it.
    pub fn presentation(&self) -> String {
        let data = match &self.data {
            RData::A(ip) => ip.to_string(),
            RData::Aaaa(ip) => ip.to_string(),
            RData::Name(n) => n.clone(),
            RData::Mx(pref, n) => format!("{pref} {n}"),
            RData::Txt(parts) => parts
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(" "),
            RData::Soa(m, r, [serial, refresh, retry, expire, min]) => {
                format!("{m} {r} {serial} {refresh} {retry} {expire} {min}")
            }
            RData::Other(b) => {
                let mut hex = String::new();
                for byte in b {
                    let _ = write!(hex, "{byte:02x}");
                }
                format!("\\# {} {hex}", b.len())
            }
        };
        format!(
            "{}\t{}\tIN\t{}\t{data}",
            self.name,
            self.ttl,
            type_name(self.rtype)
        )
    }
}

/// A decoded response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Query id.
    pub id: u16,
    /// TC: the answer did not fit (retry over TCP).
    pub truncated: bool,
    /// Response code (low 4 bits of the header).
    pub rcode: u8,
    /// Answer section.
    pub answers: Vec<Record>,
    /// Authority section.
    pub authority: Vec<Record>,
    /// Additional section.
    pub additional: Vec<Record>,
}

/// Appends `name` as labels; `.` and `""` are the root.
fn put_name(out: &mut Vec<u8>, name: &str) -> Result<(), WireError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let mut len = 1;
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(WireError::BadName("empty label or label over 63 bytes"));
            }
            len += label.len() + 1;
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    if len > 255 {
        return Err(WireError::BadName("name over 255 bytes"));
    }
    out.push(0);
    Ok(())
}

fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend(id.to_be_bytes());
    out.extend(flags.to_be_bytes());
    for c in counts {
        out.extend(c.to_be_bytes());
    }
    out
}

/// A recursive query (RD set) for `name`/`qtype`, class IN.
pub fn encode_query(id: u16, name: &str, qtype: RecordType) -> Result<Vec<u8>, WireError> {
    let mut out = header(id, 0x0100, [1, 0, 0, 0]);
    put_name(&mut out, name)?;
    out.extend(qtype.code().to_be_bytes());
    out.extend(1u16.to_be_bytes());
    Ok(out)
}

/// A response to a query for `name`/`qtype`: `answers` owned by the
/// question's name (written as a compression pointer to it), `rcode`, and
/// the TC flag. For test servers.
pub fn encode_response(
    id: u16,
    name: &str,
    qtype: u16,
    rcode: u8,
    truncated: bool,
    answers: &[(u16, u32, RData)],
) -> Result<Vec<u8>, WireError> {
    let flags = 0x8180 | u16::from(truncated) << 9 | u16::from(rcode & 0x0f);
    let count = u16::try_from(answers.len()).map_err(|_| WireError::BadName("too many"))?;
    let mut out = header(id, flags, [1, count, 0, 0]);
    put_name(&mut out, name)?;
    out.extend(qtype.to_be_bytes());
    out.extend(1u16.to_be_bytes());
    for (rtype, ttl, data) in answers {
        out.extend([0xc0, 12]);
        out.extend(rtype.to_be_bytes());
        out.extend(1u16.to_be_bytes());
        out.extend(ttl.to_be_bytes());
        let mut rdata = Vec::new();
        match data {
            RData::A(ip) => rdata.extend(ip.octets()),
            RData::Aaaa(ip) => rdata.extend(ip.octets()),
            RData::Name(n) => put_name(&mut rdata, n)?,
            RData::Mx(pref, n) => {
                rdata.extend(pref.to_be_bytes());
                put_name(&mut rdata, n)?;
            }
            RData::Txt(parts) => {
                for p in parts {
                    let chunk = &p.as_bytes()[..p.len().min(255)];
                    rdata.push(chunk.len() as u8);
                    rdata.extend_from_slice(chunk);
                }
            }
            RData::Soa(m, r, nums) => {
                put_name(&mut rdata, m)?;
                put_name(&mut rdata, r)?;
                for n in nums {
                    rdata.extend(n.to_be_bytes());
                }
            }
            RData::Other(b) => rdata.extend_from_slice(b),
        }
        let len = u16::try_from(rdata.len()).map_err(|_| WireError::BadName("rdata too long"))?;
        out.extend(len.to_be_bytes());
        out.extend(rdata);
    }
    Ok(out)
}

/// A bounds-checked reader over the whole message (pointers need it all).
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Result<&[u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(WireError::Truncated(self.pos))?;
        let out = self
            .msg
            .get(self.pos..end)
            .ok_or(WireError::Truncated(self.pos))?;
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A possibly compressed name, as `a.b.` text.
    fn name(&mut self) -> Result<String, WireError> {
        let mut out = String::new();
        let mut pos = self.pos;
        let mut resume = None;
        let mut hops = 0;
        loop {
            let len = *self.msg.get(pos).ok_or(WireError::Truncated(pos))?;
            match len {
                0 => {
                    pos += 1;
                    break;
                }
                1..=63 => {
                    let label = self
                        .msg
                        .get(pos + 1..pos + 1 + usize::from(len))
                        .ok_or(WireError::Truncated(pos))?;
                    for &c in label {
                        if c.is_ascii_graphic() && c != b'.' && c != b'\\' {
                            out.push(char::from(c));
                        } else {
                            let _ = write!(out, "\\{c:03}");
                        }
                    }
                    out.push('.');
                    if out.len() > 1024 {
                        return Err(WireError::BadName("name too long"));
                    }
                    pos += 1 + usize::from(len);
                }
                0xc0..=0xff => {
                    let low = *self.msg.get(pos + 1).ok_or(WireError::Truncated(pos))?;
                    hops += 1;
                    if hops > 32 {
                        return Err(WireError::BadName("compression pointer loop"));
                    }
                    resume.get_or_insert(pos + 2);
                    pos = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                }
                _ => return Err(WireError::BadName("reserved label type")),
            }
        }
        self.pos = resume.unwrap_or(pos);
        if out.is_empty() {
            out.push('.');
        }
        Ok(out)
    }

    fn record(&mut self) -> Result<Record, WireError> {
        let name = self.name()?;
        let rtype = self.u16()?;
        let _class = self.u16()?;
        let ttl = self.u32()?;
        let len = usize::from(self.u16()?);
        let start = self.pos;
        let end = start + len;
        if end > self.msg.len() {
            return Err(WireError::Truncated(start));
        }
        let data = match (rtype, len) {
            (1, 4) => {
                let b = self.bytes(4)?;
                RData::A(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            }
            (28, 16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(self.bytes(16)?);
                RData::Aaaa(Ipv6Addr::from(o))
            }
            (2 | 5, _) => RData::Name(self.name()?),
            (15, _) => {
                let pref = self.u16()?;
                RData::Mx(pref, self.name()?)
            }
            (16, _) => {
                let mut parts = Vec::new();
                while self.pos < end {
                    let n = usize::from(self.u8()?);
                    parts.push(String::from_utf8_lossy(self.bytes(n)?).into_owned());
                }
                RData::Txt(parts)
            }
            (6, _) => {
                let m = self.name()?;
                let r = self.name()?;
                let mut nums = [0u32; 5];
                for n in &mut nums {
                    *n = self.u32()?;
                }
                RData::Soa(m, r, nums)
            }
            _ => RData::Other(self.bytes(len)?.to_vec()),
        };
        if self.pos != end {
            return Err(WireError::BadName(
                "record data length disagrees with its contents",
            ));
        }
        Ok(Record {
            name,
            rtype,
            ttl,
            data,
        })
    }
}

/// Decodes a response.
pub fn decode(msg: &[u8]) -> Result<Message, WireError> {
    let mut r = Reader { msg, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let qd = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?];
    for _ in 0..qd {
        r.name()?;
        r.bytes(4)?;
    }
    let mut sections: [Vec<Record>; 3] = Default::default();
    for (section, count) in sections.iter_mut().zip(counts) {
        for _ in 0..count {
            section.push(r.record()?);
        }
    }
    let [answers, authority, additional] = sections;
    Ok(Message {
        id,
        truncated: flags & 0x0200 != 0,
        rcode: (flags & 0x000f) as u8,
        answers,
        authority,
        additional,
    })
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
