//! The one HTTP client keysweep has: blocking GETs of public JWKS and OIDC discovery documents
//! from URLs the user configured. HTTPS only (plain HTTP only to loopback addresses), connect and
//! total timeouts, a body size cap, redirects followed by hand and only to the same host, every
//! URL fetched at most once per run. Nothing but the URL itself is ever sent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ureq::http::Uri;

use super::Options;

/// How many redirects (all to the same host) one fetch may follow.
pub const MAX_REDIRECTS: usize = 3;

/// Why a document could not be fetched. Every message is a readable sentence that names no
/// secret (only the configured URL, hosts and limits).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("not fetched: network use is off (--offline)")]
    Offline,
    #[error("{0}")]
    CaCert(String),
    /// The URL breaks the policy (scheme, host, credentials, plain http to a remote host).
    #[error("{0}")]
    Refused(String),
    #[error("redirect to {url} refused: {reason}")]
    RedirectRefused { url: String, reason: String },
    #[error("redirect to another host refused ({from} -> {to})")]
    RedirectToAnotherHost { from: String, to: String },
    #[error("redirect from https to plain http refused ({0})")]
    RedirectToHttp(String),
    #[error("HTTP {0} redirect without a Location header")]
    RedirectWithoutLocation(u16),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("HTTP {0}")]
    Status(u16),
    /// Timeouts, DNS, connection, TLS and body errors, described with the limits in force.
    #[error("{0}")]
    Transport(String),
}

/// A fetched document, or why it could not be fetched.
pub type FetchResult = Result<Arc<Vec<u8>>, FetchError>;

/// The run's HTTP client with its per-URL cache.
pub struct Fetcher {
    limits: Limits,
    offline: bool,
    /// Extra trust anchors from `--ca-cert`, or why they could not be read.
    ca_certs: Option<Result<Vec<ureq::tls::Certificate<'static>>, FetchError>>,
    remote: Option<ureq::Agent>,
    loopback: Option<ureq::Agent>,
    cache: HashMap<String, FetchResult>,
    /// When the run's fetching must be over: all fetches share one total timeout, so many slow
    /// sources cannot add up to minutes.
    deadline: std::time::Instant,
}

#[derive(Clone, Copy, Debug)]
struct Limits {
    connect: std::time::Duration,
    total: std::time::Duration,
    max_body: u64,
}

impl Fetcher {
    pub fn new(config: &Options) -> Fetcher {
        Fetcher {
            limits: Limits {
                connect: config.connect_timeout,
                total: config.total_timeout,
                max_body: config.max_body_bytes,
            },
            offline: config.offline,
            ca_certs: config.ca_cert.as_deref().map(read_ca_certs),
            remote: None,
            loopback: None,
            cache: HashMap::new(),
            deadline: std::time::Instant::now() + config.total_timeout,
        }
    }

    /// Whether network use is forbidden.
    pub fn offline(&self) -> bool {
        self.offline
    }

    /// GET `url` (once per run; later calls return the first outcome).
    pub fn get(&mut self, url: &str) -> FetchResult {
        if let Some(cached) = self.cache.get(url) {
            return cached.clone();
        }
        let outcome = self.fetch(url).map(Arc::new);
        self.cache.insert(url.to_string(), outcome.clone());
        outcome
    }

    fn fetch(&mut self, url: &str) -> Result<Vec<u8>, FetchError> {
        if self.offline {
            return Err(FetchError::Offline);
        }
        if let Some(Err(error)) = &self.ca_certs {
            return Err(error.clone());
        }
        let mut target = Target::parse(url)?;
        let first_host = target.host.clone();
        for _ in 0..=MAX_REDIRECTS {
            let agent = self.agent(target.loopback);
            // The total timeout covers every fetch of the run, redirects included.
            let left = self
                .deadline
                .saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(describe(
                    &ureq::Error::Timeout(ureq::Timeout::Global),
                    &self.limits,
                ));
            }
            let mut response = agent
                .get(&target.url)
                .header("Accept", "application/json")
                .config()
                .timeout_global(Some(left))
                .build()
                .call()
                .map_err(|error| describe(&error, &self.limits))?;
            let status = response.status().as_u16();
            if (300..400).contains(&status) {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchError::RedirectWithoutLocation(status))?;
                let next_url = resolve(&target, location);
                let next =
                    Target::parse(&next_url).map_err(|error| FetchError::RedirectRefused {
                        url: next_url.clone(),
                        reason: error.to_string(),
                    })?;
                if !next.host.eq_ignore_ascii_case(&first_host) {
                    return Err(FetchError::RedirectToAnotherHost {
                        from: first_host,
                        to: next.host,
                    });
                }
                if target.https && !next.https {
                    return Err(FetchError::RedirectToHttp(next_url));
                }
                target = next;
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(FetchError::Status(status));
            }
            return response
                .body_mut()
                .with_config()
                .limit(self.limits.max_body)
                .read_to_vec()
                .map_err(|error| describe(&error, &self.limits));
        }
        Err(FetchError::TooManyRedirects)
    }

    /// The agent for remote hosts (honours proxy settings) or for loopback (never proxied).
    fn agent(&mut self, loopback: bool) -> ureq::Agent {
        let slot = if loopback {
            &mut self.loopback
        } else {
            &mut self.remote
        };
        if let Some(agent) = slot {
            return agent.clone();
        }
        let limits = self.limits;
        let mut builder = ureq::Agent::config_builder()
            .timeout_connect(Some(limits.connect))
            .timeout_global(Some(limits.total))
            .max_redirects(0)
            .http_status_as_error(false)
            .https_only(false)
            .user_agent(concat!("keysweep/", env!("CARGO_PKG_VERSION")));
        if loopback {
            builder = builder.proxy(None);
        }
        if let Some(Ok(certs)) = &self.ca_certs {
            builder = builder.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(certs))
                    .build(),
            );
        }
        let agent: ureq::Agent = builder.build().into();
        *slot = Some(agent.clone());
        agent
    }
}

fn read_ca_certs(path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, FetchError> {
    let pem = std::fs::read(path).map_err(|error| {
        FetchError::CaCert(format!("cannot read --ca-cert {}: {error}", path.display()))
    })?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(FetchError::CaCert(format!(
            "--ca-cert {}: no PEM certificate in the file",
            path.display()
        )));
    }
    Ok(certs)
}

/// A URL that passed the policy: http(s), a host, HTTPS unless the host is loopback.
#[derive(Clone, Debug)]
struct Target {
    url: String,
    https: bool,
    host: String,
    /// `scheme://authority`
    origin: String,
    /// The path up to and including its last `/`.
    directory: String,
    loopback: bool,
}

impl Target {
    fn parse(url: &str) -> Result<Target, FetchError> {
        let refuse = |reason: String| FetchError::Refused(reason);
        let uri: Uri = url
            .parse()
            .map_err(|error| refuse(format!("not a valid URL ({error})")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(refuse("only http(s) URLs can be fetched".to_string())),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| refuse("the URL has no host".to_string()))?;
        if authority.as_str().contains('@') {
            return Err(refuse("URLs with credentials are refused".to_string()));
        }
        let host = authority.host().to_string();
        let loopback = is_loopback(&host);
        if !https && !loopback {
            return Err(refuse(format!(
                "plain http is refused for {host}: use https (http is allowed only for loopback addresses)"
            )));
        }
        let path = uri.path();
        let directory = match path.rfind('/') {
            Some(i) => path[..=i].to_string(),
            None => "/".to_string(),
        };
        Ok(Target {
            url: url.to_string(),
            https,
            origin: format!("{}://{}", if https { "https" } else { "http" }, authority),
            host,
            directory,
            loopback,
        })
    }
}

/// Whether a URL host names this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Resolve a `Location` header against the URL that answered.
fn resolve(base: &Target, location: &str) -> String {
    let lower = location.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        location.to_string()
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{}://{rest}", if base.https { "https" } else { "http" })
    } else if location.starts_with('/') {
        format!("{}{location}", base.origin)
    } else {
        format!("{}{}{location}", base.origin, base.directory)
    }
}

/// A ureq error as a [`FetchError::Transport`] with a readable sentence.
fn describe(error: &ureq::Error, limits: &Limits) -> FetchError {
    FetchError::Transport(match error {
        ureq::Error::Timeout(which) => format!(
            "timed out ({which}; connect timeout {} s, total timeout {} s)",
            limits.connect.as_secs_f32(),
            limits.total.as_secs_f32()
        ),
        ureq::Error::BodyExceedsLimit(limit) => {
            format!("response body larger than the limit of {limit} bytes")
        }
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            format!("timed out (total timeout {} s)", limits.total.as_secs_f32())
        }
        ureq::Error::Rustls(tls) => format!("TLS error: {tls}"),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
            "a.localhost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "[::2]", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn policy() {
        assert!(Target::parse("http://example.com/jwks").is_err());
        assert!(Target::parse("ftp://example.com/jwks").is_err());
        assert!(Target::parse("https://user:pw@example.com/jwks").is_err());
        assert!(Target::parse("https://example.com/jwks").is_ok());
        assert!(Target::parse("http://127.0.0.1:8080/jwks").is_ok());
        assert!(Target::parse("http://[::1]:8080/jwks").is_ok());
    }

    #[test]
    fn redirects_resolve() {
        let base = Target::parse("https://a.example/x/y/jwks.json?q=1").unwrap();
        assert_eq!(resolve(&base, "/k"), "https://a.example/k");
        assert_eq!(resolve(&base, "k2"), "https://a.example/x/y/k2");
        assert_eq!(resolve(&base, "//b.example/k"), "https://b.example/k");
        assert_eq!(resolve(&base, "https://c.example/k"), "https://c.example/k");
    }

    #[test]
    fn offline_fetches_nothing() {
        let config = Options {
            offline: true,
            ..Options::default()
        };
        let mut fetcher = Fetcher::new(&config);
        let error = fetcher.get("https://example.com/jwks").unwrap_err();
        assert_eq!(error, FetchError::Offline);
        assert!(error.to_string().contains("--offline"), "{error}");
    }
}
