//! A problem a person must fix, carried whole from where it is found to where it is shown:
//! the file, the line and column when known, the key, what is wrong and how to fix it.
//! People read it as `cong.toml:4:1: unknown field `thme` (did you mean "theme"?)`;
//! `--json` gets the fields, so no caller parses the text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The file as people should read it (`cong.toml`, `tenants/ais/site.toml`).
    pub file: String,
    /// 1-based; `None` when the problem is not on one line.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The key concerned, as written in the file (`[http] listen`).
    pub key: Option<String>,
    pub message: String,
    /// What to do about it, when there is one obvious thing.
    pub fix: Option<String>,
}

impl Problem {
    /// A problem with `file` as a whole.
    pub fn in_file(file: &str, message: impl Into<String>) -> Problem {
        Problem { file: file.to_string(), line: None, column: None, key: None, message: message.into(), fix: None }
    }

    pub fn at(mut self, line: usize, column: usize) -> Problem {
        self.line = Some(u32::try_from(line).unwrap_or(u32::MAX));
        self.column = Some(u32::try_from(column).unwrap_or(u32::MAX));
        self
    }

    pub fn at_line(mut self, line: usize) -> Problem {
        self.line = Some(u32::try_from(line).unwrap_or(u32::MAX));
        self
    }

    pub fn key(mut self, key: &str) -> Problem {
        self.key = Some(key.to_string());
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Problem {
        self.fix = Some(fix.into());
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, ":{l}:{c}")?,
            (Some(l), None) => write!(f, ":{l}")?,
            _ => {}
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " ({fix})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_read_file_line_key_message_fix() {
        let p = Problem::in_file("cong.toml", "unknown field `thme`").at(4, 1).fix("did you mean \"theme\"?");
        assert_eq!(p.to_string(), "cong.toml:4:1: unknown field `thme` (did you mean \"theme\"?)");
        let p = Problem::in_file("cong.toml", "\"x\" is not an address:port").key("[http] listen");
        assert_eq!(p.to_string(), "cong.toml: [http] listen: \"x\" is not an address:port");
        assert_eq!(Problem::in_file("a.md", "cannot read").to_string(), "a.md: cannot read");
        let p = Problem::in_file("cong.toml", "bad").key("[http] listen").at(7, 1);
        assert_eq!(p.to_string(), "cong.toml:7:1: [http] listen: bad");
    }
}
