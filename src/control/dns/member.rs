//! One member's checks, in the order a person reads them: its label, its fourth-level
//! name (exists, points where it should), its own domains, then the hygiene of every name
//! resolved and the CAA of every name the platform certifies.

use super::checks::{self, Platform, Target};
use super::lookup::{Answer, Dns, End, Resolution};
use super::{caa, ids, Check, MemberReport, Status};
use crate::model::config::Config;
use crate::model::member::{Member, Membership};
use crate::model::naming::{NameIndex, Proposal};
use std::net::IpAddr;

/// What every member's check shares: the resolver and what the platform expects.
pub struct Context {
    dns: Dns,
    platform: Platform,
    index: NameIndex,
    issuers: Vec<String>,
    zone: String,
}

impl Context {
    /// `all`: every registered member, for the naming rules.
    pub fn new(config: &Config, all: &[Member], dns: Dns) -> Context {
        let platform = Platform {
            addresses: config.platform.addresses.iter().filter_map(|a| a.trim().parse().ok()).collect(),
            cname_target: config.platform.cname_target.as_deref().map(normalize),
            allow_private: config.dns_allow_private,
        };
        Context {
            dns,
            platform,
            index: crate::control::membership::name_index(config, all),
            issuers: config.caa_issuers.clone(),
            zone: config.platform.zone.clone(),
        }
    }

    /// Every check of `m`.
    pub async fn check(&self, m: &Member) -> MemberReport {
        let fourth = m.fourth_level(&self.zone);
        let shared = m.names.membership == Membership::Shared;
        let own: Vec<String> = m.names.own_domains.iter().map(|d| normalize(d)).collect();
        let mut checks = vec![self.naming(m, &fourth)];

        // The fourth-level name and the own domains side by side; the CAA answer at the end
        // of each chain comes with the addresses where the platform certifies the name.
        let (main, others) = tokio::join!(self.dns.resolve_certified(&fourth), self.resolve_all(&own, shared));
        let mut resolved: Vec<(Resolution, Option<Answer>)> = vec![main];
        resolved.extend(others);
        let main = &resolved[0].0;
        let good = self.record_for(m, &fourth, &own, true);
        checks.push(checks::exists(main, &good));
        checks.push(checks::ipv6(main, self.ipv6_record(shared, &fourth)));
        if shared {
            checks.push(checks::points_at(ids::TARGET_SHARED, main, &[self.platform.as_target()], &good));
        } else {
            let targets = self.independent_targets(m, &resolved[1..]).await;
            checks.push(checks::points_at(ids::TARGET_INDEPENDENT, main, &targets, &good));
        }
        for (r, _) in &resolved[1..] {
            checks.push(checks::own_domain(r, shared, &self.platform, &self.record_for(m, &r.name, &own, false)));
        }
        for (r, _) in &resolved {
            let good = self.record_for(m, &r.name, &own, r.name == fourth);
            checks.push(checks::address_public(r, &self.platform, &good));
            checks.push(checks::dangling(r, &good));
            checks.push(checks::hygiene(r, &good));
        }
        // The platform certifies a shared member's every name, an independent one's
        // fourth-level name only (it redirects from there).
        if shared {
            for alias in &m.names.aliases {
                resolved.push(self.dns.resolve_certified(&normalize(alias)).await);
            }
        } else {
            resolved.truncate(1);
        }
        for (r, at_end) in resolved {
            checks.push(self.caa(&r, at_end).await);
        }
        MemberReport {
            label: m.names.label.clone(),
            membership: m.names.membership,
            status: Status::worst(checks.iter().map(|c| c.status)),
            checked_at: None,
            checks,
        }
    }

    /// The AAAA record a shared member's name would need: the platform's IPv6 address.
    fn ipv6_record(&self, shared: bool, fourth: &str) -> Option<String> {
        let v6 = self.platform.addresses.iter().find(|ip| ip.is_ipv6()).filter(|_| shared)?;
        Some(format!("{fourth}. 300 IN AAAA {v6}"))
    }

    fn naming(&self, m: &Member, fourth: &str) -> Check {
        let n = &m.names;
        let name_en = Some(n.name_en.as_str()).filter(|s| !s.trim().is_empty());
        let proposal = Proposal {
            name: &n.label,
            name_vi: Some(&n.name_vi),
            name_en,
            own_domains: &n.own_domains,
            owner: Some(&n.label),
        };
        checks::naming(fourth, &crate::model::naming::check(&self.index, &proposal))
    }

    /// Resolve `names` one after the other (members have few own domains).
    async fn resolve_all(&self, names: &[String], certified: bool) -> Vec<(Resolution, Option<Answer>)> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            out.push(match certified {
                true => self.dns.resolve_certified(name).await,
                false => (self.dns.resolve(name).await, None),
            });
        }
        out
    }

    /// `caa.permits_ca` for one name; a chain that never ends is judged by `cname.hygiene`.
    async fn caa(&self, r: &Resolution, at_end: Option<Answer>) -> Check {
        if matches!(r.end, End::Loop | End::TooLong) {
            return Check {
                id: ids::CAA.to_string(),
                status: Status::NotTested,
                name: r.name.clone(),
                message: "the CNAME chain does not end (see cname.hygiene)".into(),
                evidence: Vec::new(),
                fix: None,
            };
        }
        caa::permits(&r.name, &self.dns.caa(&r.name, r, at_end).await, &self.issuers)
    }

    /// Where an independent member's fourth-level name may point: its servers (addresses,
    /// or hostnames resolved here), its own domains (already resolved), the platform.
    async fn independent_targets(&self, m: &Member, own: &[(Resolution, Option<Answer>)]) -> Vec<Target> {
        let mut targets = Vec::new();
        for server in &m.names.servers {
            let server = normalize(server);
            if let Ok(ip) = server.parse::<IpAddr>() {
                targets.push(Target { what: format!("server {ip}"), addrs: vec![ip], ..Target::default() });
                continue;
            }
            let r = self.dns.resolve(&server).await;
            targets.push(target_of(format!("server {server}"), &r));
        }
        for (r, _) in own {
            targets.push(target_of(format!("own domain {}", r.name), r));
        }
        targets.push(self.platform.as_target());
        targets
    }

    /// The record that would make `name` right: the platform's for a shared member; for
    /// an independent one, its first server (an address, else a CNAME to the host), else
    /// (for the fourth-level name) a CNAME to its first own domain, else the platform's.
    fn record_for(&self, m: &Member, name: &str, own: &[String], fourth_level: bool) -> String {
        if m.names.membership == Membership::Shared {
            return self.platform.record_for(name);
        }
        let servers: Vec<String> = m.names.servers.iter().map(|s| normalize(s)).collect();
        if let Some(ip) = servers.iter().find_map(|s| s.parse::<IpAddr>().ok()) {
            return super::lookup::Rr::addr(name, 300, ip).to_string();
        }
        if let Some(host) = servers.first() {
            return super::lookup::Rr::cname(name, 300, host).to_string();
        }
        match own.first() {
            Some(domain) if fourth_level => super::lookup::Rr::cname(name, 300, domain).to_string(),
            Some(_) => format!("{name}. 300 IN A <your server's address>"),
            None => self.platform.record_for(name),
        }
    }
}

/// A resolved name as a target: its names along the chain and the addresses it ends at.
fn target_of(what: String, r: &Resolution) -> Target {
    let failed = match &r.end {
        End::Failed { reason, .. } => Some(reason.clone()),
        _ => None,
    };
    Target { what, names: r.names().map(str::to_string).collect(), addrs: r.addresses(), failed }
}

use crate::model::host::normalize_name as normalize;
