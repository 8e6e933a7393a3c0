//! cong's integration tests, as one test binary (Cargo.toml: `autotests = false` and one
//! `[[test]]`), so that the crate and its dependencies are linked once instead of once per
//! file. Every part below is a module of this crate; run one with
//! `cargo test --test tests <module>::` (for example `cargo test --test tests reload::`).
//!
//! All of them share one process: what they keep for the whole run lives in `common` and
//! is read-only (see its header). What each part tests:
//!
//! - `common`: the harness, not tests. The in-process server on `127.0.0.1:0` and the HTTP/1.1
//!   and HTTP/2 client; `common::registry` (a test's world: temp `cong.toml`, data folder, the
//!   `cong` binary as another process), `common::process` (a `cong serve` process and its
//!   log), `common::reload` (a server on a private copy of the demo), `common::tls` (rustls
//!   clients, Pebble, the ACME relay), `common::dns` (NSD), `common::browser` (headless
//!   Chromium and axe-core).
//! - `serving`: what a visitor gets for each kind of Host over HTTP/1.1 and HTTP/2, and what
//!   each site serves; the same route table run through the handler without sockets; a
//!   careless site (tests/fixtures/safety-net) served cleaned and at its slugs.
//! - `http`: content types, validators, compression, methods, HTTP/2, a path traversal corpus
//!   as exact bytes, graceful shutdown with a response in flight.
//! - `hygiene`: security headers on every kind of answer, and a CSP the pages really keep.
//! - `limits`: every `[limits]` key over a real socket, HTTP/2 stream and reset limits as raw
//!   frames.
//! - `isolation`: a site can never read another site's files or anything outside its folder;
//!   `isolation::names`: every name checked when stored (the import too), what tenants
//!   control escaped in logs and output, a deleted registry not rebuilt from the folders.
//! - `safe_open`: against the real binary, links to `/etc`, the certificates or `data/` as a
//!   site's `static`, `templates` or `content` root (or one file) serve nothing of theirs, and
//!   a file flipped between a file and a link for 10 s never serves the link's target.
//! - `budgets`: against the real binary, a runaway template becomes its site's error within
//!   the template fuel, another unit's edit is served meanwhile, memory stays bounded.
//! - `check`: `cong check` on broken fixtures (`file:line: message` and the fix), exit codes,
//!   and the editor safety net's findings (broken links, missing images and alt text,
//!   removed HTML, file names made into slugs) failing the check.
//! - `reload`: hot reload seen from a visitor (edits, renames, new folders, themes, broken
//!   edits, load, rescans, SIGHUP).
//! - `publisher`: against the real binary, a stuck build holds back neither health checks,
//!   nor suspends, nor SIGTERM; a restart answers at once (503 with `Retry-After: 1` for a
//!   site not built yet) and says "serving" only when every site is built.
//! - `services`: against the real binary, the catalogue of online public services through
//!   approval and on the apex, dossiers pushed with an integration token and imported from
//!   CSV, the lookup and the statistics with their SVG chart, a maintenance window from
//!   notice to 503 to back by itself, an archived unit served frozen with its banner.
//! - `open_files`: against the real binary under `ulimit -n 256`, silent connections to the
//!   admin port hold back no public answer and are closed by the first-request deadline.
//! - `registry`: the member registry end to end, the server and `cong member` processes on
//!   one database (follow, races, a kill mid-write).
//! - `admin`: the admin API over real sockets and its effect on the public listener.
//! - `browser_harness`: the real-browser harness (`common::browser`: headless Chromium through
//!   chromedriver, axe-core) against a tiny static server: a form filled, a file uploaded,
//!   cookies, and axe passing a good page and failing one with an image lacking `alt`.
//! - `publishing`: against the real binary with approval required, what a visitor sees of
//!   unapproved, approved, stale, rejected, deleted and scheduled changes, who may decide
//!   what, a restart, and approvals killed with SIGKILL (both files or neither).
//! - `web`: the admin web interface in a real browser (`common::browser`) against the real
//!   binary with approval required: signing in and out (never off the host), the lock-out, a
//!   page and an image made, submitted and approved by another user until served, a deletion
//!   and a stale submission, a member registered, who may see and do what, CSRF, form errors,
//!   axe-core on every page, screenshots in `target/screenshots/`.
//! - `tls`: HTTPS with `tls = "internal"`: certificates per name, SNI, 421, HSTS, redirects.
//! - `acme`: ACME end to end against Pebble: both challenge types, bad nonces, renewal, a
//!   late CA, no order for names that are not served.
//! - `dns`: the DNS compliance checker against NSD, the CLI and the periodic re-check.
//! - `operations`: against the real binary, the access log as JSON lines, `RUST_LOG`
//!   directives, systemd's READY/RELOADING/STOPPING through a real `NOTIFY_SOCKET`,
//!   `systemd-analyze verify` on `dist/cong.service`, completions and man pages.
//! - `layers`: the layer rule of docs/architecture.md over `src/`.

mod common;

mod acme;
mod admin;
mod browser_harness;
mod budgets;
mod check;
mod dns;
mod feedback;
mod http;
mod hygiene;
mod isolation;
mod layers;
mod limits;
mod open_files;
mod operations;
mod publisher;
mod publishing;
mod registry;
mod reload;
mod safe_open;
mod services;
mod serving;
mod tls;
mod web;
