//! `cong cert`: certificate state from the store, renewal requests, and where the local CA
//! is. A running server is reached through the store: `renew` leaves a request under
//! `<certs>/_renew/` that the server's certificate manager picks up within a second (or at
//! its next start), so no admin token or socket is needed.

use super::Exit;
use crate::control::certs::internal::LocalCa;
use crate::control::certs::status::{self, CertStatus};
use crate::model::config::{Config, TlsMode};
use crate::store::certs::Store;
use crate::store::registry::Registry;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum CertCommand {
    /// Every served name's certificate: issuer, expiry, status, last error.
    #[command(after_help = super::after_help("0 listed, 3 the certificate store could not be read", "cong cert list --json"))]
    List {
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ask the server to renew NAME (or every served name) now, whatever its expiry.
    #[command(after_help = super::after_help(
        "0 renewal requested, 1 the name is not served, 3 the running server could not be reached",
        "cong cert renew ais.mic.gov.vn",
    ))]
    Renew {
        /// A served name, e.g. ais.mic.gov.vn; all of them when left out.
        name: Option<String>,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print where the local CA certificate is (tls = "internal"), creating it if needed,
    /// so a browser or curl can be told to trust it.
    #[command(after_help = super::after_help(
        "0 printed, 3 the CA could not be read or made",
        "curl --cacert \"$(cong cert ca)\" https://ais.mic.gov.vn/",
    ))]
    Ca,
}

/// Run `cong cert ...`.
pub fn cert(config: &Config, cmd: CertCommand) -> Exit {
    match cmd {
        CertCommand::List { json } => list(config, json),
        CertCommand::Renew { name, json } => renew(config, name, json),
        CertCommand::Ca => ca(config),
    }
}

/// The names the platform serves, from the registry (none without one).
fn wanted(config: &Config) -> Result<Vec<String>, Exit> {
    if !config.registry_path().exists() {
        return Ok(Vec::new());
    }
    let members = Registry::open(&config.registry_path()).and_then(|r| r.members()).map_err(|e| {
        eprintln!("error: {e}");
        Exit::Incomplete
    })?;
    Ok(status::wanted_names(config, &members))
}

fn list(config: &Config, json: bool) -> Exit {
    let wanted = match wanted(config) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let rows = status::rows(&Store::at(&config.certs_dir), &wanted);
    if json {
        let doc =
            serde_json::json!({ "tls": tls_name(config.tls), "certs_dir": config.certs_dir, "certificates": rows });
        outln!("{}", serde_json::to_string_pretty(&doc).expect("rows serialise"));
        return Exit::Ok;
    }
    if config.tls == TlsMode::Off {
        outln!("[https] tls = \"off\": no certificates are issued (set it to \"internal\" or \"acme\")");
    }
    print_table(&rows);
    if config.tls == TlsMode::Internal {
        outln!(
            "\nlocal CA: {} (trust it to browse https://<name>.localhost/)",
            LocalCa::path_in(&Store::at(&config.certs_dir)).display()
        );
    }
    Exit::Ok
}

fn print_table(rows: &[CertStatus]) {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let issuer_width = rows.iter().filter_map(|r| r.issuer.as_ref().map(String::len)).max().unwrap_or(6).max(6);
    outln!("{:width$}  {:11}  {:20}  {:issuer_width$}  LAST ERROR", "NAME", "STATUS", "EXPIRES", "ISSUER");
    for r in rows {
        let error = r.last_error.as_deref().map_or(String::new(), |e| match &r.next_retry {
            Some(next) => format!("{e} (next attempt {next})"),
            None => e.to_string(),
        });
        let (expires, issuer) = (r.not_after.as_deref().unwrap_or("-"), r.issuer.as_deref().unwrap_or("-"));
        outln!("{:width$}  {:11}  {expires:20}  {issuer:issuer_width$}  {error}", r.name, r.status);
    }
}

fn renew(config: &Config, name: Option<String>, json: bool) -> Exit {
    let wanted = match wanted(config) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let names = match name {
        Some(n) => {
            let n = n.trim().trim_end_matches('.').to_ascii_lowercase();
            if !wanted.contains(&n) {
                eprintln!("error: \"{n}\" is not a name this platform serves with HTTPS (see cong cert list); no renewal requested");
                return Exit::Failed;
            }
            vec![n]
        }
        None => wanted,
    };
    let store = match Store::open(&config.certs_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Incomplete;
        }
    };
    for n in &names {
        if let Err(e) = store.request_renewal(n) {
            eprintln!("error: {e}");
            return Exit::Incomplete;
        }
    }
    if json {
        outln!("{}", serde_json::json!({ "requested": names }));
    } else {
        outln!(
            "renewal requested for {} name(s); a running server picks it up within a second, otherwise at its next start",
            names.len()
        );
    }
    Exit::Ok
}

fn ca(config: &Config) -> Exit {
    if config.tls != TlsMode::Internal {
        eprintln!(
            "note: [https] tls is \"{}\"; the local CA is only used with tls = \"internal\"",
            tls_name(config.tls)
        );
    }
    match Store::open(&config.certs_dir)
        .map_err(|e| e.to_string())
        .and_then(|s| LocalCa::open_or_create(&s).map_err(|e| e.to_string()))
    {
        Ok(ca) => {
            outln!("{}", ca.cert_path.display());
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Incomplete
        }
    }
}

fn tls_name(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::Off => "off",
        TlsMode::Internal => "internal",
        TlsMode::Acme => "acme",
    }
}
