//! `cong name`, `cong member` and `cong site`: the registry from the command line. Every
//! change goes through [`crate::control::membership`], as the admin API's do. Text that
//! members and site folders control is shown escaped ([`Escaped`]): a name never writes a
//! control character to the operator's terminal.

use super::{after_help, Exit};
use crate::control::membership::{self, AdmitError};
use crate::model::config::Config;
use crate::model::escape::Escaped;
use crate::model::member::{Member, Membership, Status};
use crate::model::naming::NameReport;
use crate::store::registry::{Registry, RegistryError};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum NameCommand {
    /// Check a proposed name against the naming rules (docs/naming.md) and the registry.
    #[command(after_help = after_help(
        "0 accepted (warnings allowed), 1 rejected, 2 usage, 3 the registry could not be read",
        "cong name check vu-pc --name-vi \"Vụ Pháp chế\"",
    ))]
    Check {
        /// A label (`ais`) or a full name (`ais.mic.gov.vn`).
        name: String,
        /// The unit's Vietnamese name, to check that the label abbreviates it.
        #[arg(long, value_name = "NAME")]
        name_vi: Option<String>,
        /// The unit's English name, also accepted as the source of the abbreviation.
        #[arg(long, value_name = "NAME")]
        name_en: Option<String>,
        /// A domain the unit already owns (`ais.gov.vn`); repeat for more.
        #[arg(long = "own-domain", value_name = "DOMAIN")]
        own_domains: Vec<String>,
        /// Print one JSON document (codes, messages, suggestion) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MemberCommand {
    /// Register a member (pending until activated).
    #[command(after_help = after_help(
        "0 registered, 1 the name is rejected or has warnings without --override-reason, \
         2 usage (a field is invalid), 3 the registry could not be written",
        "cong member register vu-pc --name-vi \"Vụ Pháp chế\" --membership shared",
    ))]
    Register {
        /// The fourth-level label (`vu-pc` for vu-pc.mic.gov.vn).
        label: String,
        /// The unit's name in Vietnamese, as in its founding decision.
        #[arg(long, value_name = "NAME")]
        name_vi: String,
        /// The unit's name in English.
        #[arg(long, value_name = "NAME", default_value = "")]
        name_en: String,
        /// shared: served by this platform from its site folder; independent: on the
        /// unit's own servers (--server), the platform's name redirects there.
        #[arg(long, value_parser = membership_parser())]
        membership: Membership,
        /// A domain the unit already owns (`ais.gov.vn`); repeat for more.
        #[arg(long = "own-domain", value_name = "DOMAIN")]
        own_domains: Vec<String>,
        /// An independent member's own servers (IP or hostname); repeat for more.
        #[arg(long = "server", value_name = "ADDRESS")]
        servers: Vec<String>,
        /// Another name that answers for the member (redirects to its canonical name).
        #[arg(long = "alias", value_name = "NAME")]
        aliases: Vec<String>,
        /// Why a name with naming warnings should be accepted (kept in the audit log).
        #[arg(long, value_name = "WHY")]
        override_reason: Option<String>,
        /// Print one JSON document (the member and the name check) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List members.
    #[command(after_help = after_help("0 listed, 3 the registry could not be read", "cong member list --json"))]
    List {
        /// Print one JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one member.
    #[command(after_help = after_help("0 shown, 1 no such member, 3 the registry could not be read", "cong member show ais"))]
    Show {
        /// The member's label.
        label: String,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Put a pending or suspended member live.
    #[command(after_help = after_help(STATUS_EXITS, "cong member activate vu-pc --reason \"Quyết định 12/QĐ\""))]
    Activate(StatusArgs),
    /// Take a member offline for now (503 with Retry-After).
    #[command(after_help = after_help(STATUS_EXITS, "cong member suspend ais --reason \"bảo trì\""))]
    Suspend(StatusArgs),
    /// Retire a member for good: its site stays online as it is now, read-only, with a
    /// banner, not indexed; later edits are not published.
    #[command(after_help = after_help(STATUS_EXITS, "cong member archive ttt --reason \"sáp nhập\""))]
    Archive(StatusArgs),
    /// Announce a maintenance window: the notice on every page from now, 503 with the time
    /// of return during the window, back by itself after. At least 7 working days ahead.
    #[command(after_help = after_help(
        "0 announced (or withdrawn), 1 announced too late without --emergency, no such member, \
         or not active, 2 usage or a bad time or reason, 3 the registry could not be written",
        "cong member maintenance ais --from 2026-12-20T22:00:00+07:00 --until 2026-12-21T02:00:00+07:00 --reason \"Nâng cấp máy chủ\"",
    ))]
    Maintenance(MaintenanceArgs),
    /// Show the audit log, newest first.
    #[command(after_help = after_help("0 shown, 3 the registry could not be read", "cong member audit --limit 20"))]
    Audit {
        /// How many entries to show.
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The exit codes of `activate`, `suspend` and `archive`.
const STATUS_EXITS: &str = "0 changed, 1 no such member or not allowed from its status, 2 usage, \
                            3 the registry could not be written";

#[derive(clap::Args, Debug)]
pub struct MaintenanceArgs {
    /// The member's label.
    label: String,
    /// When the site goes down: RFC 3339 with an offset (2026-12-20T22:00:00+07:00).
    #[arg(long, value_name = "TIME", required_unless_present = "cancel")]
    from: Option<String>,
    /// When it is back (the time of return shown to the public).
    #[arg(long, value_name = "TIME", required_unless_present = "cancel")]
    until: Option<String>,
    /// Why, as the public reads it in the notice.
    #[arg(long, value_name = "TEXT", required_unless_present = "cancel")]
    reason: Option<String>,
    /// An unplanned outage: skip the rule of 7 working days' notice.
    #[arg(long)]
    emergency: bool,
    /// Withdraw the member's announced window instead.
    #[arg(long, conflicts_with_all = ["from", "until", "emergency"])]
    cancel: bool,
    /// Print the window as one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// The member's label.
    label: String,
    /// Why (kept in the audit log).
    #[arg(long, value_name = "WHY")]
    reason: Option<String>,
    /// Print the member as one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub enum SiteCommand {
    /// Create tenants/LABEL with a home page, an introduction, news and contact pages.
    #[command(after_help = after_help(
        "0 created, 1 the label is not a valid name or the folder exists, 2 usage",
        "cong site new vu-pc --theme trangnhat",
    ))]
    New {
        /// The new site's label (its folder name and fourth-level label).
        label: String,
        /// The theme in site.toml (a folder of [paths] themes).
        #[arg(long, default_value = "default", value_name = "THEME")]
        theme: String,
    },
}

/// `--membership`: its values listed in help, completions and errors.
fn membership_parser() -> impl clap::builder::TypedValueParser<Value = Membership> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["shared", "independent"])
        .map(|s: String| Membership::parse(&s).expect("one of the possible values"))
}

fn open(config: &Config) -> Result<Registry, Exit> {
    Registry::open(&config.registry_path()).map_err(|e| {
        eprintln!("error: {e}");
        Exit::Incomplete
    })
}

/// `cong name check`.
pub fn name(config: &Config, cmd: NameCommand) -> Exit {
    let NameCommand::Check { name, name_vi, name_en, own_domains, json } = cmd;
    // Judge against the registry when there is one; never create one just to check a name.
    let members = if config.registry_path().exists() {
        match open(config).and_then(|r| r.members().map_err(|e| registry_exit(&e))) {
            Ok(m) => m,
            Err(code) => return code,
        }
    } else {
        Vec::new()
    };
    let index = membership::name_index(config, &members);
    let report = membership::check_name(&index, &name, name_vi.as_deref(), name_en.as_deref(), &own_domains);
    if json {
        outln!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        print_report(&report, if report.ok { "accepted" } else { "rejected" });
    }
    if report.ok {
        Exit::Ok
    } else {
        Exit::Failed
    }
}

/// A name check for people: the name and `verdict`, then each finding and the suggestion.
fn print_report(report: &NameReport, verdict: &str) {
    outln!("{} {verdict}", Escaped(if report.name.is_empty() { "(empty)" } else { &report.name }));
    // Messages are escaped where they are made (model::naming).
    for f in &report.errors {
        outln!("  error   {:<20} {}", f.code.as_str(), f.message);
    }
    for f in &report.warnings {
        outln!("  warning {:<20} {}", f.code.as_str(), f.message);
    }
    if let Some(s) = &report.suggestion {
        outln!("  suggestion: {s}");
    }
}

fn registry_exit(e: &RegistryError) -> Exit {
    eprintln!("error: {}", Escaped(e));
    match e {
        RegistryError::NotFound { .. } | RegistryError::InvalidTransition { .. } | RegistryError::Taken { .. } => {
            Exit::Failed
        }
        _ => Exit::Incomplete,
    }
}

/// `cong member ...`.
pub fn member(config: &Config, cmd: MemberCommand) -> Exit {
    let mut registry = match open(config) {
        Ok(r) => r,
        Err(code) => return code,
    };
    match cmd {
        MemberCommand::Register {
            label,
            name_vi,
            name_en,
            membership,
            own_domains,
            servers,
            aliases,
            override_reason,
            json,
        } => {
            let req = membership::Request {
                label,
                name_vi,
                name_en,
                membership: Some(membership),
                own_domains,
                aliases,
                canonical: None,
                servers,
                override_reason,
            };
            register(&mut registry, config, &req, json)
        }
        MemberCommand::List { json } => match registry.members() {
            Ok(members) if json => print_json(&serde_json::json!({ "members": members })),
            Ok(members) => {
                outln!("{:<12} {:<11} {:<9} {:<28} NAME", "LABEL", "MEMBERSHIP", "STATUS", "HOST");
                for m in &members {
                    outln!(
                        "{:<12} {:<11} {:<9} {:<28} {}",
                        Escaped(&m.names.label).to_string(),
                        m.names.membership.as_str(),
                        m.status.as_str(),
                        Escaped(m.fourth_level(&config.platform.zone)).to_string(),
                        Escaped(&m.names.name_vi)
                    );
                }
                outln!("{}", crate::model::count(members.len(), "member", "members"));
                Exit::Ok
            }
            Err(e) => registry_exit(&e),
        },
        MemberCommand::Show { label, json } => match registry.member(&label) {
            Ok(Some(m)) if json => print_json(&m),
            Ok(Some(m)) => {
                print_member(&m, &config.platform.zone);
                Exit::Ok
            }
            Ok(None) => registry_exit(&RegistryError::NotFound { label }),
            Err(e) => registry_exit(&e),
        },
        MemberCommand::Activate(a) => set_status(&mut registry, config, a, Status::Active),
        MemberCommand::Suspend(a) => set_status(&mut registry, config, a, Status::Suspended),
        MemberCommand::Archive(a) => set_status(&mut registry, config, a, Status::Archived),
        MemberCommand::Maintenance(a) => maintenance(&mut registry, config, a),
        MemberCommand::Audit { limit, json } => match registry.audit(limit) {
            Ok(entries) if json => print_json(&serde_json::json!({ "audit": entries })),
            Ok(entries) => {
                for e in entries {
                    let reason = e.reason.map(|r| format!(" — {r}")).unwrap_or_default();
                    let (actor, label, reason) = (Escaped(&e.actor).to_string(), Escaped(&e.label), Escaped(reason));
                    outln!("{} {actor:<24} {:<9} {label}{reason}", e.at, e.action);
                }
                Exit::Ok
            }
            Err(e) => registry_exit(&e),
        },
    }
}

fn register(registry: &mut Registry, config: &Config, req: &membership::Request, json: bool) -> Exit {
    match membership::register(registry, config, req, &membership::cli_actor()) {
        Ok((m, report)) => {
            if json {
                return print_json(&serde_json::json!({ "member": m, "name_check": report }));
            }
            outln!(
                "registered {} ({}), status pending; put it live with: cong member activate {}",
                Escaped(m.fourth_level(&config.platform.zone)),
                Escaped(&m.names.name_vi),
                Escaped(&m.names.label)
            );
            for w in &report.warnings {
                outln!("  warning {} overridden: {}", w.code.as_str(), w.message);
            }
            Exit::Ok
        }
        Err(AdmitError::Rejected(report) | AdmitError::NeedsOverride(report)) if json => {
            print_json(&report);
            Exit::Failed
        }
        Err(e @ AdmitError::Rejected(_)) => {
            eprintln!("error: {e}");
            if let AdmitError::Rejected(r) = &e {
                print_report(r, "rejected");
            }
            Exit::Failed
        }
        Err(AdmitError::NeedsOverride(r)) => {
            print_report(&r, "not registered: the name has warnings");
            eprintln!(
                "error: {} has naming warnings; to register it anyway, run the command again with \
                 --override-reason \"why this name\" (kept in the audit log)",
                Escaped(&r.name)
            );
            Exit::Failed
        }
        Err(AdmitError::Invalid { field, message }) => {
            eprintln!("error: --{}: {message}", field.replace('_', "-"));
            Exit::Usage
        }
        Err(AdmitError::Registry(e)) => registry_exit(&e),
    }
}

fn set_status(registry: &mut Registry, config: &Config, a: StatusArgs, to: Status) -> Exit {
    match membership::set_status(registry, config, &a.label, to, &membership::cli_actor(), a.reason.as_deref()) {
        Ok(m) if a.json => print_json(&m),
        Ok(m) => {
            outln!("{} is now {}", Escaped(&m.names.label), m.status);
            Exit::Ok
        }
        Err(AdmitError::Invalid { field, message }) => {
            eprintln!("error: --{field}: {message}");
            Exit::Usage
        }
        Err(AdmitError::Registry(e)) => registry_exit(&e),
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failed
        }
    }
}

fn print_member(m: &Member, zone: &str) {
    let n = &m.names;
    outln!("label:        {}", Escaped(&n.label));
    outln!("name (vi):    {}", Escaped(&n.name_vi));
    outln!("name (en):    {}", Escaped(&n.name_en));
    outln!("membership:   {}", n.membership);
    outln!("status:       {}", m.status);
    outln!("fourth-level: {}", Escaped(m.fourth_level(zone)));
    outln!("canonical:    {}", Escaped(n.canonical.clone().unwrap_or_else(|| m.fourth_level(zone))));
    outln!("own domains:  {}", Escaped(n.own_domains.join(", ")));
    outln!("aliases:      {}", Escaped(n.aliases.join(", ")));
    outln!("servers:      {}", Escaped(n.servers.join(", ")));
}

/// `cong member maintenance`: the rules are in `control::services`.
fn maintenance(registry: &mut Registry, config: &Config, a: MaintenanceArgs) -> Exit {
    use crate::control::services::{self, Announce, ServiceError};
    let actor = membership::cli_actor();
    if a.cancel {
        let label = crate::model::host::normalize_name(&a.label);
        return match registry.cancel_maintenance(&label, &actor, a.reason.as_deref()) {
            Ok(true) => {
                outln!("the maintenance window of {} is withdrawn", Escaped(&label));
                Exit::Ok
            }
            Ok(false) => {
                eprintln!("error: {} has no announced maintenance window", Escaped(&label));
                Exit::Failed
            }
            Err(e) => registry_exit(&e),
        };
    }
    let calendar =
        match crate::store::feedback::Feedback::open(&config.data_dir.join("feedback.db")).and_then(|f| f.calendar()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: reading the working-day calendar: {e}");
                return Exit::Incomplete;
            }
        };
    let announce = Announce {
        label: &a.label,
        from: a.from.as_deref().unwrap_or_default(),
        until: a.until.as_deref().unwrap_or_default(),
        reason: a.reason.as_deref().unwrap_or_default(),
        emergency: a.emergency,
    };
    let now = crate::model::time::now_secs() as i64;
    match services::announce(registry, &calendar, &announce, &actor, now) {
        Ok(w) if a.json => print_json(&w),
        Ok(w) => {
            use crate::model::time::display_vn;
            outln!(
                "announced: {} is down from {} to {} (Viet Nam time); every page carries the notice from now",
                Escaped(&crate::model::host::normalize_name(&a.label)),
                display_vn(w.from),
                display_vn(w.until)
            );
            Exit::Ok
        }
        Err(ServiceError::Invalid { field, message }) if field == "label" => {
            eprintln!("error: {message}");
            Exit::Failed
        }
        Err(ServiceError::Invalid { field, message }) => {
            eprintln!("error: --{field}: {message}");
            Exit::Usage
        }
        Err(e @ ServiceError::TooLate(_)) => {
            eprintln!("error: {e}");
            Exit::Failed
        }
        Err(ServiceError::Registry(e)) => registry_exit(&e),
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failed
        }
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Exit {
    outln!("{}", serde_json::to_string_pretty(v).expect("serialises"));
    Exit::Ok
}

/// `cong site new`.
pub fn site(config: &Config, cmd: SiteCommand) -> Exit {
    let SiteCommand::New { label, theme } = cmd;
    let member = if config.registry_path().exists() {
        open(config).ok().and_then(|r| r.member(&label).ok().flatten())
    } else {
        None
    };
    match crate::content::site::scaffold::create(&config.tenants_dir, &label, &theme, member.as_ref(), &config.platform)
    {
        Ok(dir) => {
            outln!("created {}", crate::content::site::shown_path(&dir));
            if member.is_none() {
                outln!(
                    "{label} is not registered yet: cong member register {label} --name-vi \"...\" --membership shared"
                );
            }
            outln!("check it with: cong check");
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failed
        }
    }
}
