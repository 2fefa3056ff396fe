//! Test servers for verification: plain HTTP and HTTPS on 127.0.0.1, started inside the test,
//! with certificates generated at test time (rcgen). Every request is recorded byte for byte so
//! tests can prove that no secret ever leaves the machine.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::tree::Tree;

/// What a route answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with a JSON body.
    Json(String),
    /// Any status with a body.
    Status(u16, String),
    /// 302 to a URL.
    Redirect(String),
    /// Accept the request and answer nothing for this long (then close).
    Hang(Duration),
    /// 200 whose body starts with `prefix` and continues with spaces up to `total` bytes.
    Huge { prefix: String, total: u64 },
}

/// One request the server received: the raw bytes (request line, headers, any body).
#[derive(Clone, Debug)]
pub struct Recorded {
    pub raw: Vec<u8>,
    pub path: String,
}

type Routes = Arc<Mutex<HashMap<String, Reply>>>;

/// A TLS identity: a throwaway CA and a leaf for 127.0.0.1 / localhost signed by it.
pub struct TestCa {
    ca_pem: String,
    cert_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "keysweep test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().expect("leaf key");
        let mut leaf_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("leaf params");
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .expect("leaf cert");
        TestCa {
            ca_pem: ca_cert.pem(),
            cert_chain: vec![leaf.der().clone(), ca_cert.der().clone()],
            key_der: leaf_key.serialize_der(),
        }
    }

    /// Writes the CA certificate into `tree` as `test-ca.pem`; returns its path for `--ca-cert`.
    pub fn write_pem(&self, tree: &Tree) -> String {
        tree.write("test-ca.pem", &self.ca_pem)
            .display()
            .to_string()
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(self.cert_chain.clone(), key)
            .expect("server cert");
        Arc::new(config)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

/// A server on 127.0.0.1 with a route table and a request log.
pub struct Server {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub base: String,
    routes: Routes,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// A plain HTTP server.
    pub fn http() -> Server {
        Server::start(None)
    }

    /// An HTTPS server whose certificate is signed by `ca`.
    pub fn https(ca: &TestCa) -> Server {
        Server::start(Some(ca.server_config()))
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("addr");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let routes: Routes = Arc::new(Mutex::new(HashMap::new()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (routes, log, stop) = (routes.clone(), log.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, log, tls) = (routes.clone(), log.clone(), tls.clone());
                    std::thread::spawn(move || serve(stream, tls, &routes, &log));
                }
            });
        }
        Server {
            addr,
            base: format!("{scheme}://127.0.0.1:{}", addr.port()),
            routes,
            log,
            stop,
        }
    }

    /// The same server under the name `localhost` (another host for redirect tests).
    pub fn base_localhost(&self) -> String {
        self.base.replace("127.0.0.1", "localhost")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn route(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), reply);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().expect("log").clone()
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    routes: &Routes,
    log: &Mutex<Vec<Recorded>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    match tls {
        Some(config) => {
            let Ok(connection) = rustls::ServerConnection::new(config) else {
                return;
            };
            let mut tls_stream = rustls::StreamOwned::new(connection, stream);
            handle(&mut tls_stream, routes, log);
            tls_stream.conn.send_close_notify();
            let _ = tls_stream.flush();
        }
        None => {
            let mut stream = stream;
            handle(&mut stream, routes, log);
        }
    }
}

fn handle<S: Read + Write>(stream: &mut S, routes: &Routes, log: &Mutex<Vec<Recorded>>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    // Read the head; then any body the client announced.
    let head_end = loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break None,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if let Some(i) = find(&raw, b"\r\n\r\n") {
                    break Some(i + 4);
                }
                if raw.len() > 1 << 20 {
                    break None;
                }
            }
        }
    };
    let Some(head_end) = head_end else {
        if !raw.is_empty() {
            log.lock().expect("log").push(Recorded {
                raw,
                path: String::new(),
            });
        }
        return;
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let content_length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while raw.len() < head_end + content_length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    let path = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_string();
    log.lock().expect("log").push(Recorded {
        raw: raw.clone(),
        path: path.clone(),
    });
    let route_path = path.split('?').next().unwrap_or("").to_string();
    let reply = routes.lock().expect("routes").get(&route_path).cloned();
    let _ = match reply {
        None => respond(
            stream,
            404,
            "application/json",
            b"{\"error\":\"not found\"}",
        ),
        Some(Reply::Json(body)) => respond(stream, 200, "application/json", body.as_bytes()),
        Some(Reply::Status(status, body)) => {
            respond(stream, status, "application/json", body.as_bytes())
        }
        Some(Reply::Redirect(location)) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes())
        }
        Some(Reply::Hang(duration)) => {
            std::thread::sleep(duration);
            Ok(())
        }
        Some(Reply::Huge { prefix, total }) => huge(stream, &prefix, total),
    };
    let _ = stream.flush();
}

fn respond<S: Write>(
    stream: &mut S,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)
}

fn huge<S: Write>(stream: &mut S, prefix: &str, total: u64) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(prefix.as_bytes())?;
    let chunk = vec![b' '; 64 * 1024];
    let mut left = total.saturating_sub(prefix.len() as u64 + 1);
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        stream.write_all(&chunk[..n])?; // the client hangs up after its limit: stop then
        left -= n as u64;
    }
    stream.write_all(b"}")
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
