//! From the server's answer to verdicts and metrics, table-tested.
//!
//! *Live*: the server answered (any rcode). *Ready*: the rcode is valid,
//! there are at least `min_answers` answers, and one matches
//! `expect_answer`. *Degraded*: slower than `max_duration`.

use std::time::Duration;

use super::config::DnsConfig;
use super::wire::{Message, RData, rcode_name};
use crate::report::{MetricValue, flag, metric};
use crate::verdict::{Judgement, Reason, Verdict};

/// Everything one check saw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Observation {
    /// The response, or why there is none.
    pub answer: Result<Message, String>,
    /// `udp`, or `tcp` after a truncated UDP answer.
    pub transport: &'static str,
    pub total: Duration,
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}

/// The verdicts of one observation.
pub(crate) fn judge(obs: &Observation, cfg: &DnsConfig, regex: Option<&regex::Regex>) -> Verdict {
    let msg = match &obs.answer {
        Err(why) => return Verdict::unreachable(why.clone()),
        Ok(m) => m,
    };
    let rcode = rcode_name(msg.rcode);
    let live = Judgement::pass(format!(
        "{rcode} with {} answers in {} over {}",
        msg.answers.len(),
        ms(obs.total),
        obs.transport
    ));
    let mut failures = Vec::new();
    if !cfg.valid_rcodes.contains(&rcode) {
        failures.push(format!(
            "rcode {rcode} not in {}",
            cfg.valid_rcodes.join(", ")
        ));
    }
    if msg.answers.len() < cfg.min_answers {
        failures.push(format!(
            "{} answers, fewer than {}",
            msg.answers.len(),
            cfg.min_answers
        ));
    }
    let mut pass = format!("{rcode}, {} answers", msg.answers.len());
    if let Some(re) = regex {
        match msg.answers.iter().find(|a| re.is_match(&a.presentation())) {
            Some(a) => pass = format!("{pass}; {:?} matches /{re}/", a.presentation()),
            None => failures.push(format!("no answer matches /{re}/")),
        }
    }
    let mut degraded = Vec::new();
    if obs.total > cfg.max_duration {
        degraded.push(Reason::new(
            "slow",
            format!("took {}, over {}", ms(obs.total), ms(cfg.max_duration)),
        ));
    }
    Verdict {
        live,
        ready: Judgement::from_failures(failures, pass),
        degraded,
    }
}

metric!(
    DURATION,
    "dnscheck.duration",
    "s",
    Gauge,
    "Time from the query to the answer, TCP retry included (probe_dns_duration_seconds)."
);
metric!(
    RRS,
    "dnscheck.rrs",
    "{records}",
    Gauge,
    "Records in each section of the answer: answer, authority, additional (probe_dns_*_rrs)."
);
metric!(
    RCODE,
    "dnscheck.rcode",
    "1",
    Gauge,
    "1 for the answer's response code (rcode attribute), one point per answer."
);
metric!(
    SERIAL,
    "dnscheck.serial",
    "1",
    Gauge,
    "Serial of the SOA record answered (probe_dns_serial), when there is one."
);

/// Every metric the observation supports.
pub(crate) fn metrics(obs: &Observation) -> Vec<MetricValue> {
    let mut out = vec![MetricValue::with(
        &DURATION,
        "transport",
        obs.transport,
        obs.total.as_secs_f64(),
    )];
    if let Ok(m) = &obs.answer {
        for (section, n) in [
            ("answer", m.answers.len()),
            ("authority", m.authority.len()),
            ("additional", m.additional.len()),
        ] {
            out.push(MetricValue::with(&RRS, "section", section, n as f64));
        }
        out.push(MetricValue::with(
            &RCODE,
            "rcode",
            &rcode_name(m.rcode),
            flag(true),
        ));
        let serial = m.answers.iter().find_map(|a| match &a.data {
            RData::Soa(_, _, nums) => Some(nums[0]),
            _ => None,
        });
        if let Some(s) = serial {
            out.push(MetricValue::new(&SERIAL, f64::from(s)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::wire::{Record, decode, encode_response};
    use crate::verdict::Status;
    use std::net::Ipv4Addr;

    fn msg(rcode: u8, answers: usize) -> Message {
        let rrs: Vec<(u16, u32, RData)> = (0..answers)
            .map(|i| (1, 60, RData::A(Ipv4Addr::new(10, 0, 0, i as u8))))
            .collect();
        decode(&encode_response(1, "svc.test.", 1, rcode, false, &rrs).expect("encode"))
            .expect("decode")
    }

    #[test]
    fn verdict_cases() {
        let cfg = DnsConfig::default();
        let re = |s: &str| Some(regex::Regex::new(s).expect("regex"));
        let cases = [
            (
                Ok(msg(0, 2)),
                5,
                None,
                Status::Ok,
                "NOERROR with 2 answers",
                "NOERROR, 2 answers",
            ),
            (
                Ok(msg(0, 2)),
                5,
                re("10\\.0\\.0\\.1$"),
                Status::Ok,
                "NOERROR",
                "NOERROR, 2 answers; \"svc.test.\\t60\\tIN\\tA\\t10.0.0.1\" matches /10\\.0\\.0\\.1$/",
            ),
            (
                Ok(msg(0, 1)),
                5,
                re("10\\.9"),
                Status::Failed,
                "NOERROR",
                "no answer matches /10\\.9/",
            ),
            (
                Ok(msg(3, 0)),
                5,
                None,
                Status::Failed,
                "NXDOMAIN with 0 answers",
                "rcode NXDOMAIN not in NOERROR; 0 answers, fewer than 1",
            ),
            (
                Ok(msg(0, 1)),
                900,
                None,
                Status::Degraded,
                "NOERROR",
                "NOERROR, 1 answers",
            ),
            (
                Err("no answer".to_string()),
                5,
                None,
                Status::Failed,
                "no answer",
                "not live: no answer",
            ),
        ];
        for (answer, total_ms, regex, status, live, ready) in cases {
            let o = Observation {
                answer,
                transport: "udp",
                total: Duration::from_millis(total_ms),
            };
            let v = judge(&o, &cfg, regex.as_ref());
            assert_eq!(v.status(), status, "{v}");
            assert!(v.live.summary().starts_with(live), "{v}");
            assert_eq!(v.ready.summary(), ready, "{v}");
        }
        let soa = Message {
            answers: vec![Record {
                name: "test.".into(),
                rtype: 6,
                ttl: 1,
                data: RData::Soa("a.".into(), "b.".into(), [42, 0, 0, 0, 0]),
            }],
            ..msg(0, 0)
        };
        let m = metrics(&Observation {
            answer: Ok(soa),
            transport: "tcp",
            total: Duration::from_millis(1),
        });
        let serial = m
            .iter()
            .find(|v| v.def.name == "dnscheck.serial")
            .map(|v| v.value);
        assert_eq!(serial, Some(42.0));
    }
}
