//! The `cong` binary: parse the command line, run the library, exit with its code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cong::cli::Cli::parse();
    ExitCode::from(cong::cli::run(cli) as u8)
}
