//! The command line (docs/cli.md): parse with clap, run the library, and say which
//! exit code applies: 0 success, 1 the thing checked is wrong, 2 usage or configuration,
//! 3 could not finish.

/// `outln!` for command output: once the reader has gone (`cong member list | head`),
/// further output is dropped quietly and the command still ends with its own exit code.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `out!` for command output; see [`outln`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

mod cert;
pub mod check;
mod content;
mod dns;
mod member;
mod user;

use crate::model::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Set once writing to stdout failed: nothing more is written.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Set when it failed for another reason than a closed pipe (a full disk): the output is
/// incomplete, so the command cannot end with success.
static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Write command output to stdout. A closed pipe stops the output without a panic; any
/// other write error is reported once on stderr.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            STDOUT_FAILED.store(true, Ordering::Relaxed);
            eprintln!("error: writing to standard output: {e}");
        }
    }
}

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
    /// Check members' DNS against the rules (docs/dns-checks.md).
    Dns {
        #[command(subcommand)]
        command: dns::DnsCommand,
    },
    /// Publishing approval: changes, submissions, decisions (docs/publishing.md).
    Content {
        #[command(subcommand)]
        command: content::ContentCommand,
    },
    /// Users, roles and API tokens (docs/accounts.md).
    User {
        #[command(subcommand)]
        command: user::UserCommand,
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
    let code = run_command(cli);
    if code == Exit::Ok && STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) {
        return Exit::Incomplete;
    }
    code
}

fn run_command(cli: Cli) -> Exit {
    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cli.command {
        Command::Serve { .. } => {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("starting the async runtime");
            // The environment is read here, once: the library takes the token as a value.
            let mut config = config;
            config.admin_token = std::env::var(&config.admin_token_env).ok();
            let outcome = runtime.block_on(crate::app::serve(config));
            // The listeners have drained by now; a registry call still on the blocking
            // pool gets a moment, never an unbounded wait.
            runtime.shutdown_timeout(std::time::Duration::from_secs(2));
            match outcome {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    Exit::Incomplete
                }
            }
        }
        Command::Check { json } => {
            let report = crate::cli::check::run(&config);
            if json {
                outln!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
            } else {
                out!("{}", report.human());
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
        Command::User { command } => user::user(&config, command),
        Command::Content { command } => content::content(&config, command),
    }
}
