//! The `cong` binary: parse the command line, run the library, exit with its code.

use clap::Parser;

fn main() {
    let cli = cong::cli::Cli::parse();
    cong::logging::init();
    let code = cong::cli::run(cli);
    std::process::exit(code as i32);
}
