//! Whether a registry with no members is a first start or a lost one. The marker file
//! `registry.in-use`, beside `registry.db`, is written the first time a member is stored
//! (and by a start that finds members but no marker, for data folders older than it), and
//! cong never removes it. A data folder with the marker and no member has lost its
//! registry: that must be restored from a backup, never rebuilt from the site folders,
//! which would put suspended and archived members back online (docs/cli.md, `cong serve`).

use std::path::PathBuf;

use super::{rfc3339, Registry, RegistryError};

/// The marker's file name, in the folder of `registry.db`.
pub const MARKER: &str = "registry.in-use";

/// What a start finds in the registry and its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Members are registered: the registry decides what is served.
    Members,
    /// No member, and this data folder has never held one: a first start.
    Fresh,
    /// No member, but the marker says this data folder has held members: `registry.db` was
    /// lost, deleted or replaced by an empty one.
    Lost { marker: PathBuf },
}

impl Registry {
    /// The marker file of this registry's data folder.
    pub fn marker_path(&self) -> PathBuf {
        self.path.with_file_name(MARKER)
    }

    /// What a start finds: members, a fresh data folder, or a lost registry. Finding
    /// members writes the marker when it is missing (a data folder older than the marker).
    /// A marker that cannot be looked at counts as present: when in doubt, nothing is
    /// imported.
    pub fn found(&self) -> Result<Found, RegistryError> {
        if !self.is_empty()? {
            self.mark_in_use();
            return Ok(Found::Members);
        }
        let marker = self.marker_path();
        Ok(match marker.try_exists() {
            Ok(false) => Found::Fresh,
            _ => Found::Lost { marker },
        })
    }

    /// Write the marker unless it is there. A failure is logged, not returned: the member
    /// it follows is stored either way.
    pub(super) fn mark_in_use(&self) {
        let marker = self.marker_path();
        if !matches!(marker.try_exists(), Ok(false)) {
            return;
        }
        let text = format!(
            "This data folder has held cong's member registry (registry.db) since {}.\n\
             While this file exists, `cong serve` never fills a missing or empty registry.db from\n\
             the site folders (that would put suspended and archived members back online):\n\
             restore registry.db from a backup instead. Delete this file only to import every\n\
             site folder again as an active member.\n",
            rfc3339(std::time::SystemTime::now())
        );
        if let Err(e) = std::fs::write(&marker, text) {
            tracing::warn!(
                "{}: cannot write the registry marker ({e}); if registry.db were lost, the next start would import the site folders as a first start",
                marker.display()
            );
        }
    }
}
