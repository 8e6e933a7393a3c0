//! A real authoritative DNS server for the DNS checker's tests and benchmark: NSD
//! (Debian package `nsd`) on a free loopback port, UDP and TCP, with a generated
//! `nsd.conf` and zone files in a temp folder. Stopped (SIGTERM to its own pid) on drop.
//!
//! Why NSD: a separate, widely deployed authoritative server answers as the Internet's
//! would (NXDOMAIN vs NODATA, CNAME in answers, CAA with unknown tags, REFUSED outside its
//! zones), starts in well under a second, and needs no root with `username: ""`.
//!
//! Part of the `common` harness (its free port); benches/dns.rs uses it too.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long NSD may take to answer its first query.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running NSD; its folder and process live as long as this value.
pub struct Nsd {
    pub addr: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

/// The NSD binary, or a panic that says how to get it. Never a skip: the DNS checker's
/// tests are worthless without a real server, under CI or not.
pub fn nsd_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join("nsd");
        if candidate.is_file() {
            return candidate;
        }
    }
    let ci = if std::env::var_os("CI").is_some() { " (CI is set: this test must not skip)" } else { "" };
    panic!(
        "the DNS tests need NSD, a real authoritative DNS server: \
         install nsd (scripts/test does: apt-get install nsd){ci}"
    );
}

impl Nsd {
    /// Serve `zones`: (origin like `mic.gov.vn.`, zone file text). Retries on another port
    /// if the one picked was taken in the meantime.
    pub fn start(zones: &[(&str, String)]) -> Nsd {
        let binary = nsd_binary();
        let mut last_error = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir for nsd");
            let port = super::free_udp_tcp_port();
            write_config(dir.path(), port, zones);
            let mut child = Command::new(&binary)
                .arg("-d")
                .arg("-c")
                .arg(dir.path().join("nsd.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            match wait_ready(&mut child, addr, zones[0].0) {
                Ok(()) => return Nsd { addr, child, dir },
                Err(e) => {
                    let log = std::fs::read_to_string(dir.path().join("nsd.log")).unwrap_or_default();
                    last_error = format!("{e}\n--- nsd.log ---\n{log}");
                    stop(&mut child);
                }
            }
        }
        panic!("NSD did not start: {last_error}");
    }

    /// `127.0.0.1:PORT`, as `[dns] resolvers` wants it.
    pub fn resolver(&self) -> String {
        self.addr.to_string()
    }

    /// The folder with `nsd.conf`, the zone files and `nsd.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// SIGTERM, so NSD stops its own server processes too; SIGKILL if it lingers.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `nsd.conf` and the zone files. Response rate limiting is off: Debian's NSD has it on,
/// and one client asking for many NODATA answers in one zone (the checker's CNAME and CAA
/// queries) would get truncated answers and TCP retries after the first 200 a second.
fn write_config(dir: &Path, port: u16, zones: &[(&str, String)]) {
    let d = dir.display();
    let mut conf = format!(
        "server:\n    ip-address: 127.0.0.1@{port}\n    port: {port}\n    do-ip6: no\n    username: \"\"\n    \
         chroot: \"\"\n    zonesdir: \"{d}\"\n    pidfile: \"{d}/nsd.pid\"\n    database: \"\"\n    \
         xfrdfile: \"{d}/xfrd.state\"\n    zonelistfile: \"{d}/zone.list\"\n    logfile: \"{d}/nsd.log\"\n    \
         server-count: 1\n    verbosity: 1\n    hide-version: yes\n    \
         rrl-ratelimit: 0\n    rrl-whitelist-ratelimit: 0\nremote-control:\n    control-enable: no\n"
    );
    for (origin, text) in zones {
        let file = format!("{}zone", origin);
        std::fs::write(dir.join(&file), text).expect("write zone file");
        conf.push_str(&format!("zone:\n    name: \"{origin}\"\n    zonefile: \"{file}\"\n"));
    }
    std::fs::write(dir.join("nsd.conf"), conf).expect("write nsd.conf");
}

/// Wait until NSD answers an SOA query for `origin` authoritatively over UDP.
fn wait_ready(child: &mut Child, addr: SocketAddr, origin: &str) -> Result<(), String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
    let query = soa_query(0x4e53, origin);
    let deadline = Instant::now() + START_TIMEOUT;
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("nsd exited: {status}"));
        }
        let _ = socket.send_to(&query, addr);
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            // Same id, a response, authoritative, NOERROR.
            if n >= 12 && buf[..2] == query[..2] && buf[2] & 0x84 == 0x84 && buf[3] & 0x0f == 0 {
                return Ok(());
            }
        }
    }
    Err(format!("no answer from nsd on {addr} within {START_TIMEOUT:?}"))
}

/// A DNS query message (RFC 1035 section 4.1) for the SOA of `origin`.
fn soa_query(id: u16, origin: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]); // flags; 1 question
    for label in origin.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 6, 0, 1]); // root; SOA; IN
    q
}

/// A zone file for `origin` with an SOA, an NS and `records` (lines in zone-file form,
/// names relative to the origin or absolute).
pub fn zone(origin: &str, records: &[&str]) -> String {
    let mut text = format!(
        "$ORIGIN {origin}\n$TTL 300\n@ IN SOA ns1.{origin} hostmaster.{origin} 1 3600 600 86400 300\n\
         @ IN NS ns1.{origin}\nns1 IN A 127.0.0.1\n"
    );
    for r in records {
        text.push_str(r);
        text.push('\n');
    }
    text
}
