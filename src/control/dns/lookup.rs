//! The DNS side of the checker: one hickory resolver, and what it saw turned into plain
//! data ([`Rr`], [`Answer`], [`Resolution`], [`CaaSearch`]) for the pure verdicts in
//! `checks` and `caa`. CNAME chains are walked one hop at a time (a CNAME query is never
//! chased by the resolver), so loops, long chains and dangling targets stay visible.

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{Name, Record};
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Longest CNAME chain accepted (docs/dns-checks.md: "chain not over 8").
pub const MAX_CHAIN: usize = 8;

/// How long one query may take before it counts as a timeout, and how often it is tried.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);
const QUERY_ATTEMPTS: usize = 2;

/// The resolver could not be set up (system configuration unreadable).
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the DNS resolver: {0}")]
pub struct ResolverError(String);

/// One resource record as seen, in the few types the checker reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Owner name, lower-case, without the trailing dot.
    pub name: String,
    pub ttl: u32,
    pub data: RrData,
}

/// The data of an [`Rr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RrData {
    Addr(IpAddr),
    /// Target, lower-case, without the trailing dot.
    Cname(String),
    Caa {
        flags: u8,
        tag: String,
        value: String,
    },
}

impl Rr {
    /// An address record (A or AAAA by the address family).
    pub fn addr(name: &str, ttl: u32, ip: IpAddr) -> Rr {
        Rr { name: name.to_string(), ttl, data: RrData::Addr(ip) }
    }

    pub fn cname(name: &str, ttl: u32, target: &str) -> Rr {
        Rr { name: name.to_string(), ttl, data: RrData::Cname(target.to_string()) }
    }

    pub fn caa(name: &str, flags: u8, tag: &str, value: &str) -> Rr {
        Rr { name: name.to_string(), ttl: 300, data: RrData::Caa { flags, tag: tag.into(), value: value.into() } }
    }

    /// The address, for A and AAAA records.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.data {
            RrData::Addr(ip) => Some(ip),
            _ => None,
        }
    }
}

/// Zone-file form: `ais.mic.gov.vn. 300 IN A 203.0.113.10`.
impl fmt::Display for Rr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}. {} IN ", self.name, self.ttl)?;
        match &self.data {
            RrData::Addr(IpAddr::V4(ip)) => write!(f, "A {ip}"),
            RrData::Addr(IpAddr::V6(ip)) => write!(f, "AAAA {ip}"),
            RrData::Cname(target) => write!(f, "CNAME {target}."),
            RrData::Caa { flags, tag, value } => write!(f, "CAA {flags} {tag} {value:?}"),
        }
    }
}

/// The outcome of one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Records of the asked type (possibly after CNAMEs the resolver followed).
    Records(Vec<Rr>),
    /// The name exists, but not with this type.
    NoData,
    /// The name does not exist.
    NxDomain,
    /// Timeout, SERVFAIL, REFUSED, no route: the question could not be answered.
    Failed(String),
}

/// Where following a name's CNAMEs ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The last name has these A/AAAA records (never empty).
    Addresses(Vec<Rr>),
    /// The last name exists without an address.
    NoData,
    /// The last name does not exist.
    NxDomain,
    /// The last CNAME points back into the chain.
    Loop,
    /// More than [`MAX_CHAIN`] CNAMEs.
    TooLong,
    /// A query failed; what it was about and why.
    Failed { name: String, reason: String },
}

/// A name, the CNAMEs followed from it, and where they ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The name asked about, lower-case, without the trailing dot.
    pub name: String,
    /// The CNAME records followed, in order.
    pub chain: Vec<Rr>,
    pub end: End,
}

impl Resolution {
    /// The name the chain ended at (the name itself without CNAME).
    pub fn last_name(&self) -> &str {
        match self.chain.last().map(|r| &r.data) {
            Some(RrData::Cname(target)) => target,
            _ => &self.name,
        }
    }

    /// Every name on the way: the name, then each CNAME target.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.chain.iter().filter_map(|r| match &r.data {
            RrData::Cname(t) => Some(t.as_str()),
            _ => None,
        }))
    }

    /// The A/AAAA records at the end, if the chain ended in addresses.
    pub fn address_records(&self) -> &[Rr] {
        match &self.end {
            End::Addresses(rrs) => rrs,
            _ => &[],
        }
    }

    /// The addresses at the end of the chain.
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.address_records().iter().filter_map(Rr::ip).collect()
    }

    /// What was seen, in zone-file form; negative answers as `;` comment lines.
    pub fn evidence(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.chain.iter().map(Rr::to_string).collect();
        let last = self.last_name();
        match &self.end {
            End::Addresses(rrs) => lines.extend(rrs.iter().map(Rr::to_string)),
            End::NoData => lines.push(format!("; {last}. NODATA (no A, AAAA or CNAME)")),
            End::NxDomain => lines.push(format!("; {last}. NXDOMAIN")),
            End::Loop => lines.push(format!("; {last}. CNAME loop")),
            End::TooLong => lines.push(format!("; more than {MAX_CHAIN} CNAMEs")),
            End::Failed { name, reason } => lines.push(format!("; {name}. no answer: {reason}")),
        }
        lines
    }
}

/// Where the CAA search for a name (RFC 8659 section 3) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaaSearch {
    /// The relevant RRset: found at `owner` (a CNAME target's set counts for its alias).
    Found { owner: String, records: Vec<Rr> },
    /// No CAA from the name up to its top-level domain: any CA may issue.
    None { climbed: Vec<String> },
    /// A query on the way failed.
    Failed { name: String, reason: String },
}

/// The resolver the checker asks, with the options it needs.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    /// Ask `servers` (`ip:port`); none: the system's resolvers (`/etc/resolv.conf`).
    pub fn new(servers: &[SocketAddr]) -> Result<Dns, ResolverError> {
        let mut builder = if servers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| ResolverError(e.to_string()))?
        } else {
            let name_servers = servers
                .iter()
                .map(|addr| {
                    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                    for c in &mut ns.connections {
                        c.port = addr.port();
                    }
                    ns
                })
                .collect();
            let config = ResolverConfig::from_name_servers(name_servers);
            Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        };
        let opts = builder.options_mut();
        opts.timeout = QUERY_TIMEOUT;
        opts.attempts = QUERY_ATTEMPTS;
        // /etc/hosts would answer `localhost` and friends: the checker wants the DNS.
        opts.use_hosts_file = ResolveHosts::Never;
        opts.cache_size = 32_768;
        opts.max_active_requests = 512;
        opts.try_tcp_on_error = true;
        opts.preserve_intermediates = true;
        let resolver = builder.build().map_err(|e| ResolverError(e.to_string()))?;
        Ok(Dns { resolver })
    }

    /// One query for `name` (no trailing dot) and `rtype`.
    pub async fn query(&self, name: &str, rtype: RecordType) -> Answer {
        let fqdn = match Name::from_ascii(format!("{name}.")) {
            Ok(n) => n,
            Err(e) => return Answer::Failed(format!("\"{name}\" is not a domain name: {e}")),
        };
        match self.resolver.lookup(fqdn, rtype).await {
            Ok(lookup) => {
                let records: Vec<Rr> = lookup.answers().iter().filter_map(|r| convert(r, rtype)).collect();
                if records.is_empty() {
                    Answer::NoData
                } else {
                    Answer::Records(records)
                }
            }
            Err(e) => classify(&e),
        }
    }

    /// Follow `name`'s CNAMEs one by one, then read the addresses of the last name.
    pub async fn resolve(&self, name: &str) -> Resolution {
        self.walk(name, false).await.0
    }

    /// [`Dns::resolve`], asking for the CAA RRset at the end of the chain alongside the
    /// addresses (one round trip fewer for [`Dns::caa`]) when the chain has an end.
    pub async fn resolve_certified(&self, name: &str) -> (Resolution, Option<Answer>) {
        self.walk(name, true).await
    }

    async fn walk(&self, name: &str, with_caa: bool) -> (Resolution, Option<Answer>) {
        let done = |chain, end| (Resolution { name: name.into(), chain, end }, None);
        let mut chain: Vec<Rr> = Vec::new();
        let mut current = name.to_string();
        loop {
            let hop = match self.query(&current, RecordType::CNAME).await {
                Answer::Records(rrs) => rrs.into_iter().find(|r| r.name == current),
                Answer::NoData => None,
                Answer::NxDomain => return done(chain, End::NxDomain),
                Answer::Failed(reason) => return done(chain, End::Failed { name: current, reason }),
            };
            let Some(rr) = hop else { break };
            let RrData::Cname(target) = rr.data.clone() else { break };
            let seen = target == name || chain.iter().any(|r| r.name == target);
            chain.push(rr);
            if seen {
                return done(chain, End::Loop);
            }
            if chain.len() > MAX_CHAIN {
                return done(chain, End::TooLong);
            }
            current = target;
        }
        let caa = async {
            match with_caa {
                true => Some(self.query(&current, RecordType::CAA).await),
                false => None,
            }
        };
        let (a, aaaa, caa) =
            tokio::join!(self.query(&current, RecordType::A), self.query(&current, RecordType::AAAA), caa);
        let end = addresses_end(&current, a, aaaa);
        (Resolution { name: name.into(), chain, end }, caa)
    }

    /// The relevant CAA RRset for `name` (RFC 8659 section 3): the set at the name, where a
    /// CNAME is followed as any query would; if empty, the same at its parent, and so on up
    /// to the top-level domain (never the root). `resolution` is `name`'s own walk, reused
    /// so its chain is not asked for again, and `at_end` the CAA answer at its end if
    /// [`Dns::resolve_certified`] already has it.
    pub async fn caa(&self, name: &str, resolution: &Resolution, at_end: Option<Answer>) -> CaaSearch {
        let mut climbed = Vec::new();
        // The name itself: its CNAME chain is known, so ask at the end of it.
        let at_name = match (&resolution.end, at_end) {
            (End::NxDomain, _) => Answer::NxDomain,
            (End::Failed { name, reason }, _) => {
                return CaaSearch::Failed { name: name.clone(), reason: reason.clone() }
            }
            (_, Some(answer)) => answer,
            (_, None) => self.query(resolution.last_name(), RecordType::CAA).await,
        };
        let mut answer = at_name;
        let mut current = name.to_string();
        loop {
            match answer {
                Answer::Records(records) => {
                    let owner = records.first().map_or(current.clone(), |r| r.name.clone());
                    return CaaSearch::Found { owner, records };
                }
                Answer::Failed(reason) => return CaaSearch::Failed { name: current, reason },
                Answer::NoData | Answer::NxDomain => climbed.push(current.clone()),
            }
            match current.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => current = parent.to_string(),
                _ => return CaaSearch::None { climbed },
            }
            answer = self.query(&current, RecordType::CAA).await;
        }
    }
}

/// The end of a chain from the A and AAAA answers for its last name.
fn addresses_end(name: &str, a: Answer, aaaa: Answer) -> End {
    match (a, aaaa) {
        (Answer::Failed(reason), _) | (_, Answer::Failed(reason)) => End::Failed { name: name.to_string(), reason },
        (Answer::Records(mut v4), Answer::Records(v6)) => {
            v4.extend(v6);
            End::Addresses(v4)
        }
        (Answer::Records(rrs), _) | (_, Answer::Records(rrs)) => End::Addresses(rrs),
        (Answer::NxDomain, _) | (_, Answer::NxDomain) => End::NxDomain,
        (Answer::NoData, Answer::NoData) => End::NoData,
    }
}

/// A hickory error as an [`Answer`]: only NXDOMAIN and NODATA are answers about the name.
fn classify(e: &NetError) -> Answer {
    if e.is_nx_domain() {
        Answer::NxDomain
    } else if e.is_no_records_found() {
        Answer::NoData
    } else {
        Answer::Failed(e.to_string())
    }
}

/// A hickory record as an [`Rr`], when it is of the asked type.
fn convert(r: &Record, rtype: RecordType) -> Option<Rr> {
    let name = r.name.to_ascii().trim_end_matches('.').to_ascii_lowercase();
    let data = match (&r.data, rtype) {
        (RData::A(a), RecordType::A) => RrData::Addr(IpAddr::V4(a.0)),
        (RData::AAAA(a), RecordType::AAAA) => RrData::Addr(IpAddr::V6(a.0)),
        (RData::CNAME(c), RecordType::CNAME) => {
            RrData::Cname(c.0.to_ascii().trim_end_matches('.').to_ascii_lowercase())
        }
        (RData::CAA(caa), RecordType::CAA) => RrData::Caa {
            flags: caa.flags(),
            tag: caa.tag.clone(),
            value: String::from_utf8_lossy(&caa.value).into_owned(),
        },
        _ => return None,
    };
    Some(Rr { name, ttl: r.ttl, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_print_in_zone_file_form() {
        let table = [
            (Rr::addr("ais.mic.gov.vn", 300, "203.0.113.10".parse().unwrap()), "ais.mic.gov.vn. 300 IN A 203.0.113.10"),
            (Rr::addr("a.vn", 60, "2001:db8::1".parse().unwrap()), "a.vn. 60 IN AAAA 2001:db8::1"),
            (Rr::cname("a.vn", 300, "b.vn"), "a.vn. 300 IN CNAME b.vn."),
            (Rr::caa("vn", 128, "issue", "letsencrypt.org"), "vn. 300 IN CAA 128 issue \"letsencrypt.org\""),
        ];
        for (rr, want) in table {
            assert_eq!(rr.to_string(), want);
        }
    }

    #[test]
    fn address_answers_combine() {
        let ip = |s: &str| Rr::addr("x", 1, s.parse().unwrap());
        let recs = |v: Vec<Rr>| Answer::Records(v);
        let fail = || Answer::Failed("timeout".into());
        let table = [
            (recs(vec![ip("1.2.3.4")]), Answer::NoData, End::Addresses(vec![ip("1.2.3.4")])),
            (Answer::NoData, recs(vec![ip("::1")]), End::Addresses(vec![ip("::1")])),
            (recs(vec![ip("1.2.3.4")]), recs(vec![ip("::1")]), End::Addresses(vec![ip("1.2.3.4"), ip("::1")])),
            (Answer::NoData, Answer::NoData, End::NoData),
            (Answer::NxDomain, Answer::NxDomain, End::NxDomain),
            (recs(vec![ip("1.2.3.4")]), fail(), End::Failed { name: "x".into(), reason: "timeout".into() }),
            (fail(), Answer::NoData, End::Failed { name: "x".into(), reason: "timeout".into() }),
        ];
        for (a, aaaa, want) in table {
            assert_eq!(addresses_end("x", a.clone(), aaaa.clone()), want, "{a:?} {aaaa:?}");
        }
    }

    #[test]
    fn evidence_shows_chain_and_end() {
        let r = Resolution {
            name: "a.mic.gov.vn".into(),
            chain: vec![Rr::cname("a.mic.gov.vn", 300, "ghost.vn")],
            end: End::NxDomain,
        };
        assert_eq!(r.last_name(), "ghost.vn");
        assert_eq!(r.names().collect::<Vec<_>>(), ["a.mic.gov.vn", "ghost.vn"]);
        assert_eq!(r.evidence(), ["a.mic.gov.vn. 300 IN CNAME ghost.vn.", "; ghost.vn. NXDOMAIN"]);
    }
}
