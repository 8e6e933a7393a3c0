//! `cong dns check [LABEL...] [--resolver IP:PORT] [--json]`: the DNS compliance checker
//! (docs/dns-checks.md) from the command line. Exit 0 all passed (warnings allowed),
//! 1 some member failed, 2 usage or configuration, 3 could not finish.

use super::Exit;
use crate::control::dns::{self, Outcome};
use crate::model::config::Config;
use crate::model::member::{Member, Status};
use crate::store::registry::Registry;
use clap::Subcommand;
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};

#[derive(Subcommand, Debug)]
pub enum DnsCommand {
    /// Check registered members' DNS (all but archived ones, or those named).
    #[command(after_help = super::after_help(
        "0 every member passes (warnings allowed), 1 a member fails a check, 2 usage, \
         3 the registry could not be read or no resolver answered",
        "cong dns check ais vnnic --resolver 127.0.0.1:5353",
    ))]
    Check {
        /// Labels to check (default: every member that is not archived).
        labels: Vec<String>,
        /// Ask this DNS server instead of [dns] resolvers (IP or IP:PORT; repeatable).
        #[arg(long = "resolver", value_name = "IP:PORT")]
        resolvers: Vec<String>,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `cong dns ...`.
pub fn dns(config: &Config, cmd: DnsCommand) -> Exit {
    let DnsCommand::Check { labels, resolvers, json } = cmd;
    let resolvers = match parse_resolvers(&resolvers) {
        Ok(r) => r,
        Err(bad) => {
            eprintln!("error: --resolver \"{bad}\" is not an IP address or IP:PORT (e.g. 127.0.0.1:53)");
            return Exit::Usage;
        }
    };
    // Read the registry when there is one; never create one just to check.
    let mut registry = None;
    if config.registry_path().exists() {
        match Registry::open(&config.registry_path()) {
            Ok(r) => registry = Some(r),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Incomplete;
            }
        }
    }
    let all = match registry.as_ref().map(Registry::members).transpose() {
        Ok(members) => members.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Incomplete;
        }
    };
    let selected = match select(&all, &labels) {
        Ok(s) => s,
        Err(label) => {
            eprintln!("error: no member \"{label}\" (cong member list shows the registered ones)");
            return Exit::Usage;
        }
    };
    let report = match check(config, &all, &selected, &resolvers) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Incomplete;
        }
    };
    if let Some(registry) = registry.as_mut() {
        if let Err(e) = registry.store_dns(&report.to_stored()) {
            eprintln!("warning: the results could not be kept in the registry: {e}");
        }
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&report).expect("reports serialise"));
    } else {
        out!("{}", dns::render::table(&report));
    }
    match report.outcome() {
        Outcome::Passed => Exit::Ok,
        Outcome::Failed => Exit::Failed,
        Outcome::Incomplete => Exit::Incomplete,
    }
}

/// Run the check on a runtime of its own, with a progress line on a terminal.
fn check(
    config: &Config,
    all: &[Member],
    selected: &[Member],
    resolvers: &[SocketAddr],
) -> Result<dns::Report, dns::ResolverError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("starting the async runtime");
    // On a terminal, whatever the count: a member that times out takes seconds.
    let show = std::io::stderr().is_terminal();
    let progress = move |done: usize, total: usize| {
        if show {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\rchecking DNS: {done}/{total} members");
            if done == total {
                let _ = write!(err, "\r\x1b[2K");
            }
            let _ = err.flush();
        }
    };
    progress(0, selected.len());
    runtime.block_on(dns::run(config, all, selected, resolvers, &progress))
}

/// The members named (each must exist), or every member that is not archived.
fn select(all: &[Member], labels: &[String]) -> Result<Vec<Member>, String> {
    if labels.is_empty() {
        return Ok(all.iter().filter(|m| m.status != Status::Archived).cloned().collect());
    }
    let mut selected: Vec<Member> = Vec::new();
    for label in labels {
        let wanted = label.trim().trim_end_matches('.').to_lowercase();
        let m = all.iter().find(|m| m.names.label == wanted).ok_or_else(|| label.clone())?;
        if !selected.iter().any(|s| s.names.label == m.names.label) {
            selected.push(m.clone());
        }
    }
    Ok(selected)
}

/// `IP:PORT`, `[IPv6]:PORT`, or a bare IP (port 53).
fn parse_resolvers(given: &[String]) -> Result<Vec<SocketAddr>, String> {
    given
        .iter()
        .map(|s| {
            s.parse::<SocketAddr>()
                .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                .map_err(|_| s.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers_parse() {
        let ok = parse_resolvers(&["127.0.0.1:5353".into(), "::1".into(), "[::1]:54".into(), "9.9.9.9".into()]);
        let ok: Vec<String> = ok.unwrap().iter().map(SocketAddr::to_string).collect();
        assert_eq!(ok, ["127.0.0.1:5353", "[::1]:53", "[::1]:54", "9.9.9.9:53"]);
        assert_eq!(parse_resolvers(&["dns.google".into()]), Err("dns.google".to_string()));
    }
}
