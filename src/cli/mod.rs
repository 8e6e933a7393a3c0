//! The command line (DESIGN.md section 9): parse with clap, run the library, and say which
//! exit code applies: 0 success, 1 the thing checked is wrong, 2 usage or configuration,
//! 3 could not finish.

mod cert;
mod dns;
mod member;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes shared by every subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failed = 1,
    Usage = 2,
    Incomplete = 3,
}

#[derive(Parser, Debug)]
#[command(name = "cong", version, about = "One server for the member portals of a ministry on fourth-level domains")]
pub struct Cli {
    /// Configuration file (default: ./cong.toml where it exists, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve every member portal.
    Serve {
        /// Override [http] listen, e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Override [paths] data (where registry.db lives).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Validate the config, every theme and every site; exit 1 on errors.
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Check a proposed fourth-level name against the naming rules.
    Name {
        #[command(subcommand)]
        command: member::NameCommand,
    },
    /// Register members and change their status.
    Member {
        #[command(subcommand)]
        command: member::MemberCommand,
    },
    /// Scaffold a site folder.
    Site {
        #[command(subcommand)]
        command: member::SiteCommand,
    },
    /// Certificates: list their state, request renewals, find the local CA.
    Cert {
        #[command(subcommand)]
        command: cert::CertCommand,
    },
    /// Check members' DNS against the rules (DESIGN.md section 11).
    Dns {
        #[command(subcommand)]
        command: dns::DnsCommand,
    },
}

/// Load the config named on the command line, with single-key overrides.
fn load_config(cli: &Cli) -> Result<Config, Exit> {
    let mut config = Config::load(cli.config.as_deref()).map_err(|e| {
        eprintln!("error: {e}");
        Exit::Usage
    })?;
    if let Command::Serve { listen, data } = &cli.command {
        if let Some(l) = listen {
            config.http_listen = l.parse().map_err(|_| {
                eprintln!("error: --listen \"{l}\" is not an address:port (e.g. 127.0.0.1:8080)");
                Exit::Usage
            })?;
        }
        if let Some(d) = data {
            config.data_dir = d.clone();
        }
    }
    Ok(config)
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Exit {
    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cli.command {
        Command::Serve { .. } => {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("starting the async runtime");
            match runtime.block_on(crate::server::serve(config)) {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    Exit::Incomplete
                }
            }
        }
        Command::Check { json } => {
            let report = crate::check::run(&config);
            if json {
                println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
            } else {
                print!("{}", report.human());
            }
            if report.ok {
                Exit::Ok
            } else {
                Exit::Failed
            }
        }
        Command::Name { command } => member::name(&config, command),
        Command::Member { command } => member::member(&config, command),
        Command::Site { command } => member::site(&config, command),
        Command::Dns { command } => dns::dns(&config, command),
        Command::Cert { command } => cert::cert(&config, command),
    }
}
