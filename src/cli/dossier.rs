//! `cong dossier`: dossier progress from a unit's case system in bulk (docs/services.md).
//! The rules are in `control::services`, which the admin API's push uses too.

use super::{after_help, Exit};
use crate::model::config::Config;
use crate::model::escape::Escaped;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum DossierCommand {
    /// Import dossiers from a CSV file: a header row naming code, service_code, received_at,
    /// due_at, status and completed_at, then one dossier a row. All or nothing: a bad row is
    /// named by file and line, and nothing of the file is imported.
    #[command(after_help = after_help(
        "0 imported, 1 a bad row or column (nothing imported) or no such member, 2 usage or the file cannot be read, \
         3 the registry could not be written",
        "cong dossier import ais ho-so-thang-12.csv",
    ))]
    Import {
        /// The member's label.
        label: String,
        /// The CSV file (UTF-8, comma-separated, RFC 4180 quoting).
        file: PathBuf,
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `cong dossier ...`.
pub fn dossier(config: &Config, cmd: DossierCommand) -> Exit {
    use crate::control::services::{self, ServiceError};
    let DossierCommand::Import { label, file, json } = cmd;
    let shown = file.display().to_string();
    let text = match std::fs::read(&file).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            eprintln!("error: {}: is not UTF-8 text; save it as UTF-8 CSV", Escaped(&shown));
            return Exit::Usage;
        }
        Err(e) => {
            eprintln!("error: {}: cannot read: {e}", Escaped(&shown));
            return Exit::Usage;
        }
    };
    let mut registry = match crate::store::registry::Registry::open(&config.registry_path()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Incomplete;
        }
    };
    let now = crate::model::time::now_secs() as i64;
    match services::import_csv(&mut registry, &label, &shown, &text, now) {
        Ok((count, added)) if json => {
            outln!("{}", serde_json::json!({ "site": label, "imported": count, "new": added }));
            Exit::Ok
        }
        Ok((count, added)) => {
            outln!(
                "imported {} for {} ({added} new); the server shows them within a second",
                crate::model::count(count, "dossier", "dossiers"),
                Escaped(&label)
            );
            Exit::Ok
        }
        Err(ServiceError::Registry(e @ crate::store::registry::RegistryError::NotFound { .. })) => {
            eprintln!("error: {}", Escaped(e));
            Exit::Failed
        }
        Err(ServiceError::Registry(e)) => {
            eprintln!("error: {}", Escaped(e));
            Exit::Incomplete
        }
        Err(e) => {
            eprintln!("error: {}", Escaped(e));
            Exit::Failed
        }
    }
}
