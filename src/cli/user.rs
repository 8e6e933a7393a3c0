//! `cong user`: accounts from the command line (docs/accounts.md). The operator of the
//! machine acts here; the audit names them as `cong member` does.

use super::Exit;
use crate::control::membership::cli_actor;
use crate::model::account::{Role, User};
use crate::model::config::Config;
use crate::model::escape::Escaped;
use crate::store::registry::{Registry, RegistryError};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user; prints a generated password once unless --password-stdin.
    #[command(after_help = super::after_help(
        "0 added, 1 the username is taken, 2 usage (a field is invalid), 3 the registry could not be written",
        "cong user add lan --role contributor --site ais --name \"Nguyễn Thị Lan\"",
    ))]
    Add {
        /// 2 to 32 of a-z, 0-9, '.', '_' and '-'.
        username: String,
        /// admin, board, approver, contributor or integration.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A site label in the user's scope; repeat for more.
        #[arg(long = "site", value_name = "LABEL")]
        sites: Vec<String>,
        /// The display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Read the password (at least 12 characters) from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    #[command(after_help = super::after_help("0 listed, 3 the registry could not be read", "cong user list"))]
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one user with its tokens.
    #[command(after_help = super::after_help("0 shown, 1 no such user, 3 the registry could not be read", "cong user show lan"))]
    Show {
        /// The user's name.
        username: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: no sign-in, its tokens stop working.
    #[command(after_help = super::after_help(
        "0 disabled, 1 no such user, 3 the registry could not be written",
        "cong user disable lan",
    ))]
    Disable {
        /// The user's name.
        username: String,
    },
    /// Make an API token for a user; prints it once.
    #[command(after_help = super::after_help(
        "0 made (printed once), 1 no such user or disabled, 3 the registry could not be written",
        "cong user token ci-bot --label ci",
    ))]
    Token {
        /// The user the token acts as.
        username: String,
        /// What the token is for (`laptop`, `ci`).
        #[arg(long, default_value = "")]
        label: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("\"{s}\" is not one of admin, board, approver, contributor, integration"))
}

fn fail(e: &RegistryError) -> Exit {
    eprintln!("error: {}", Escaped(e));
    match e {
        RegistryError::Account(_) => Exit::Usage,
        RegistryError::UserExists { .. } | RegistryError::NoUser { .. } | RegistryError::NoToken { .. } => Exit::Failed,
        _ => Exit::Incomplete,
    }
}

/// `cong user ...`.
pub fn user(config: &Config, cmd: UserCommand) -> Exit {
    let mut registry = match Registry::open(&config.registry_path()) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let actor = cli_actor();
    match cmd {
        UserCommand::Add { username, role, sites, name, password_stdin } => {
            let password = if password_stdin {
                let mut line = String::new();
                if let Err(e) = std::io::stdin().read_line(&mut line) {
                    eprintln!("error: reading the password from standard input: {e}");
                    return Exit::Incomplete;
                }
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                crate::store::secrets::new_password()
            };
            let new = User { name: name.unwrap_or_else(|| username.clone()), username, role, sites, disabled: false };
            match registry.add_user(&new, &password, &actor) {
                Ok(u) => {
                    outln!("added {} ({}{})", u.username, u.role, scope(&u));
                    if !password_stdin {
                        outln!("password (shown once): {password}");
                    }
                    Exit::Ok
                }
                Err(e) => fail(&e),
            }
        }
        UserCommand::List { json } => match registry.users() {
            Ok(users) if json => {
                outln!("{}", serde_json::to_string_pretty(&users).expect("users serialise"));
                Exit::Ok
            }
            Ok(users) => {
                for u in &users {
                    let state = if u.disabled { " (disabled)" } else { "" };
                    outln!("{:<24} {:<12} {}{state}{}", u.username, u.role.as_str(), Escaped(&u.name), scope(u));
                }
                Exit::Ok
            }
            Err(e) => fail(&e),
        },
        UserCommand::Show { username, json } => {
            let found = registry.user(&username).and_then(|u| Ok((u, registry.tokens(&username)?)));
            match found {
                Ok((Some(u), tokens)) if json => {
                    let value = serde_json::json!({ "user": u, "tokens": tokens });
                    outln!("{}", serde_json::to_string_pretty(&value).expect("users serialise"));
                    Exit::Ok
                }
                Ok((Some(u), tokens)) => {
                    outln!("{} ({}{}){}", u.username, u.role, scope(&u), if u.disabled { ", disabled" } else { "" });
                    outln!("name: {}", Escaped(&u.name));
                    for t in tokens {
                        let state = t.revoked_at.map(|at| format!(" revoked {at}")).unwrap_or_default();
                        outln!("token {} {} created {}{state}", t.id, Escaped(&t.label), t.created_at);
                    }
                    Exit::Ok
                }
                Ok((None, _)) => fail(&RegistryError::NoUser { username }),
                Err(e) => fail(&e),
            }
        }
        UserCommand::Disable { username } => match registry.disable_user(&username, &actor) {
            Ok(u) => {
                outln!("disabled {}; its tokens no longer work", u.username);
                Exit::Ok
            }
            Err(e) => fail(&e),
        },
        UserCommand::Token { username, label } => match registry.create_token(&username, &label, &actor) {
            Ok((id, token)) => {
                outln!("token {id} for {username} (shown once):");
                outln!("{token}");
                Exit::Ok
            }
            Err(e) => fail(&e),
        },
    }
}

/// `, sites cbc ais` or `, every site`, as the role reads it.
fn scope(u: &User) -> String {
    match (u.role, u.sites.is_empty()) {
        (Role::Admin | Role::Board, _) | (Role::Approver, true) => ", every site".into(),
        (_, true) => ", no site".into(),
        (_, false) => format!(", sites {}", u.sites.join(" ")),
    }
}
