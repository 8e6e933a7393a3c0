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
mod dossier;
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
    #[command(after_help = after_help(
        "0 stopped by Ctrl-C or SIGTERM after in-flight requests finished, 2 usage or configuration, \
         3 could not start (a port in use, the data folder not writable)",
        "cong serve --listen 0.0.0.0:8080",
    ))]
    Serve {
        /// Override [http] listen, e.g. 0.0.0.0:8080.
        #[arg(long, value_name = "ADDRESS:PORT")]
        listen: Option<String>,
        /// Override [paths] data (where registry.db lives).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Validate the config, every theme and every site; exit 1 on errors.
    #[command(after_help = after_help(
        "0 everything is valid, 1 a problem was found (each printed as file:line: message), \
         2 the configuration does not load",
        "cong check --json",
    ))]
    Check {
        /// Print one JSON document (every problem with file, line, key, message, fix).
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
    /// Dossier progress from the units' case systems (docs/services.md).
    Dossier {
        #[command(subcommand)]
        command: dossier::DossierCommand,
    },
    /// Users, roles and API tokens (docs/accounts.md).
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Print the shell completion script for SHELL on standard output.
    #[command(after_help = after_help(
        "0 printed, 2 an unknown shell",
        "cong completions bash > /etc/bash_completion.d/cong",
    ))]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page cong(1) as roff, or write one page per command into a folder.
    #[command(after_help = after_help("0 written, 3 the folder could not be written", "cong man --out /usr/local/share/man/man1"))]
    Man {
        /// Write cong.1 and cong-<command>.1 for every command into this folder.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// The end of a command's help: its exit codes and an example.
pub(crate) fn after_help(exits: &str, example: &str) -> String {
    format!("Exit codes: {exits}.\n\nExample:\n  {example}")
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
    // Neither needs a configuration: they describe the command line itself.
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "cong", &mut out);
            out!("{}", String::from_utf8_lossy(&out));
            return Exit::Ok;
        }
        Command::Man { out } => return man(out.as_deref()),
        _ => {}
    }
    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // `cong check` reports every site problem itself: the build's own log lines about the
    // same problems would print each one twice.
    let default = if matches!(cli.command, Command::Check { .. }) { "info,cong::snapshot=off" } else { "info" };
    crate::app::init_logging(config.log, default);
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
        Command::Dossier { command } => dossier::dossier(&config, command),
        Command::Completions { .. } | Command::Man { .. } => unreachable!("answered before the config loads"),
    }
}

/// cong(1): clap's sections, then the exit status, the environment and an example.
fn man_page(cmd: clap::Command) -> String {
    let man = clap_mangen::Man::new(cmd);
    let mut page = Vec::new();
    let sections = [
        clap_mangen::Man::render_title,
        clap_mangen::Man::render_name_section,
        clap_mangen::Man::render_synopsis_section,
        clap_mangen::Man::render_description_section,
        clap_mangen::Man::render_options_section,
        clap_mangen::Man::render_subcommands_section,
    ];
    for render in sections {
        render(&man, &mut page).expect("writing to a Vec");
    }
    let mut page = String::from_utf8_lossy(&page).into_owned();
    page.push_str(concat!(
        ".SH \"EXIT STATUS\"\n",
        ".TP\n0\nSuccess.\n",
        ".TP\n1\nWhat was checked is wrong (a rejected name, a failing site or DNS check, a refused decision).\n",
        ".TP\n2\nUsage or configuration: a flag, a value or cong.toml (the message names the file, line and key).\n",
        ".TP\n3\nCould not finish: the registry, a folder or the network failed.\n",
        ".SH ENVIRONMENT\n",
        ".TP\nRUST_LOG\nLog directives, e.g. \\fBinfo\\fR or \\fBcong=debug,hyper=warn\\fR (default info).\n",
        ".TP\nCONG_ADMIN_TOKEN\nThe break\\-glass admin token (the variable is named by [admin] token_env).\n",
        ".TP\nNOTIFY_SOCKET\nSet by systemd: cong serve reports READY, RELOADING and STOPPING there.\n",
        ".SH EXAMPLES\n",
        ".nf\ncong check\ncong serve\ncong member register vu\\-pc \\-\\-name\\-vi \"V\\[u1EE5] Ph\\[u00E1]p ch\\[u1EBF]\" \\-\\-membership shared\n.fi\n",
        ".SH \"SEE ALSO\"\n",
        "Each command has its own page (\\fBcong man \\-\\-out DIR\\fR writes them), e.g. cong\\-member\\-register(1).\n",
    ));
    page
}

/// `cong man`: cong(1) on standard output, or with `out` one page per command
/// (`cong-member-register.1`) written there.
fn man(out: Option<&std::path::Path>) -> Exit {
    let cmd = <Cli as clap::CommandFactory>::command();
    let Some(dir) = out else {
        out!("{}", man_page(cmd));
        return Exit::Ok;
    };
    let written = std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir));
    match written {
        Ok(()) => {
            outln!("manual pages written to {}", dir.display());
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: writing manual pages to {}: {e}", dir.display());
            Exit::Incomplete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command and every argument says what it is for; every command that does
    /// something ends its help with its exit codes and an example.
    #[test]
    fn every_argument_has_help_and_every_command_its_exit_codes() {
        let mut missing = Vec::new();
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name()).trim().to_string();
            if cmd.get_about().is_none() {
                missing.push(format!("{path}: no about"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}: no help"));
                }
            }
            if !cmd.has_subcommands() && path != "cong" {
                let after = cmd.get_after_help().map(ToString::to_string).unwrap_or_default();
                if !after.contains("Exit codes") || !after.contains("Example") {
                    missing.push(format!("{path}: help does not end with exit codes and an example"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path, missing);
                }
            }
        }
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        walk(&cmd, "", &mut missing);
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
