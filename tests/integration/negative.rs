//! Negative trees: things that look like keys and secrets but are not. Zero findings, exit 0.

use serde_json::json;

use crate::support::*;

/// Public keys, certificates, CSRs, SSH public keys, public JWKS (generated now).
fn add_public_material(t: &Tree) {
    let rsa = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let ec = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let ed = gen_key(Alg::Ed25519, Enc::Pkcs8);
    t.write("certs/rsa-public.pem", &rsa.public_pem);
    t.write("certs/ec-public.pem", &ec.public_pem);
    t.write("certs/ed25519.pub.pem", &ed.public_pem);

    // A self-signed certificate and a CSR; the private key stays outside the tree.
    let tmp = tempfile::TempDir::new().expect("tmp");
    let d = tmp.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=api.example.com/O=Example",
            "-days",
            "30",
        ],
        d,
    );
    openssl(
        &[
            "req",
            "-new",
            "-key",
            "k.pem",
            "-subj",
            "/CN=www.example.com",
            "-out",
            "csr.pem",
        ],
        d,
    );
    let cert = read_string(d.join("cert.pem"));
    let csr = read_string(d.join("csr.pem"));
    t.write("certs/server.crt", &cert);
    t.write("certs/fullchain.pem", format!("{cert}{cert}"));
    t.write("certs/www.csr", &csr);
    // A certificate base64-wrapped in a Kubernetes Secret (starts with LS0tLS1CRUdJTi too).
    t.write(
        "k8s/tls-cert.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls-public\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n",
            pem_base64(&cert)
        ),
    );
    // A certificate escaped inside JSON.
    t.write(
        "config/ca.json",
        format!("{{\"ca\": \"{}\"}}\n", pem_escaped(&cert)),
    );

    // SSH public keys.
    let ssh = gen_ssh("ed25519", None, "");
    let ssh_rsa = gen_ssh("rsa", Some(2048), "");
    t.write(".ssh/id_ed25519.pub", format!("{}\n", ssh.public_line));
    t.write(
        ".ssh/authorized_keys",
        format!("{}\n{}\n", ssh.public_line, ssh_rsa.public_line),
    );
    t.write(
        ".ssh/known_hosts",
        format!(
            "|1|{}=|{}= {}\ngithub.com {}\n",
            &b64(&random_bytes(20))[..27],
            &b64(&random_bytes(20))[..27],
            ssh.public_line.rsplit_once(' ').map(|x| x.0).unwrap_or(""),
            ssh_rsa
                .public_line
                .rsplit_once(' ')
                .map(|x| x.0)
                .unwrap_or("")
        ),
    );

    // Public JWKS and a single public JWK, also as a .ts literal.
    let a = with(
        &rsa.public.jwk_public(),
        json!({"kid": "rsa-2025", "use": "sig", "alg": "RS256"}),
    );
    let b = with(&ec.public.jwk_public(), json!({"kid": "ec-2025"}));
    let c = with(&ed.public.jwk_public(), json!({"kid": "ed-2025"}));
    t.write(
        "public/.well-known/jwks.json",
        serde_json::to_string_pretty(&json!({"keys":[a, b, c]})).expect("json"),
    );
    t.write(
        "public/ec.jwk",
        serde_json::to_string(&ec.public.jwk_public()).expect("json"),
    );
    t.write(
        "src/publicKey.ts",
        format!(
            "export const verifyKey = {{\n  kty: 'EC',\n  crv: 'P-256',\n  x: '{}',\n  y: '{}',\n}};\n",
            ec.jwk["x"].as_str().expect("x"),
            ec.jwk["y"].as_str().expect("y")
        ),
    );
}

/// Documentation placeholders, env-var references, empty example values.
fn add_placeholders_and_references(t: &Tree) {
    t.write(
        "docs/SETUP.md",
        r#"# Setup

Put your signing key in `config/signing.pem`. It looks like this:

```
-----BEGIN PRIVATE KEY-----
...
-----END PRIVATE KEY-----
```

Older deployments use PKCS#1:

```
-----BEGIN RSA PRIVATE KEY-----
MIIE...your key here...
-----END RSA PRIVATE KEY-----
```

or an OpenSSH key:

    -----BEGIN OPENSSH PRIVATE KEY-----
    <your key>
    -----END OPENSSH PRIVATE KEY-----

Then set the secret:

```sh
export JWT_SECRET=<your key>
export JWT_SECRET=xxxxxxxx
export JWT_SECRET=...
export JWT_SECRET="${JWT_SECRET}"
```

In a service account file the key is `"private_key": "-----BEGIN PRIVATE KEY-----\n<redacted>\n-----END PRIVATE KEY-----\n"`.
Send requests with `Authorization: Bearer <token>` or `Bearer eyJhbGciOi...`.
"#,
    );
    t.write(
        ".env.example",
        "# Copy to .env and fill in\nNODE_ENV=development\nPORT=3000\nJWT_SECRET=\nJWT_PRIVATE_KEY=\nSESSION_SECRET=\nDATABASE_URL=\n",
    );
    t.write(
        ".env.sample",
        "JWT_SECRET=<your key>\nSECRET_KEY=xxxxxxxx\nAPI_SECRET=...\nTOKEN_SECRET=${TOKEN_SECRET}\n",
    );
    t.write(
        "docker-compose.yml",
        "services:\n  api:\n    image: example/api:1.4\n    environment:\n      JWT_SECRET: ${JWT_SECRET}\n      SECRET_KEY: ${SECRET_KEY:?set it}\n      NODE_ENV: production\n",
    );
    t.write(
        "server/auth.js",
        "const jwt = require('jsonwebtoken');\n\nconst secret = process.env.JWT_SECRET;\n\nexports.issue = (p) => jwt.sign(p, process.env.JWT_SECRET, { expiresIn: '1h' });\nexports.issue2 = (p) => jwt.sign(p, secret);\nexports.verify = (t) => jwt.verify(t, config.jwtSecret);\n",
    );
    t.write(
        "server/config.ts",
        "export const config = {\n  jwtSecret: process.env.JWT_SECRET!,\n  privateKey: process.env.PRIVATE_KEY ?? '',\n  issuer: 'https://auth.example.com',\n};\n",
    );
    t.write(
        "mysite/settings.py",
        "import os\n\nSECRET_KEY = os.environ[\"SECRET_KEY\"]\nJWT_SECRET = os.environ[\"JWT_SECRET\"]\nJWT_SECRET_2 = os.getenv(\"JWT_SECRET\", \"\")\nDEBUG = False\n",
    );
    t.write(
        "api/tokens.py",
        "import jwt\nfrom django.conf import settings\n\n\ndef make(p):\n    return jwt.encode(p, settings.JWT_SECRET, algorithm=\"HS256\")\n",
    );
    t.write(
        "src/main/resources/application.properties",
        "server.port=8080\njwt.secret=${JWT_SECRET}\njwt.expiration=3600\n",
    );
    t.write(
        "src/main/resources/application.yml",
        "jwt:\n  secret: ${JWT_SECRET:}\n  expiration: 3600\n",
    );
    t.write(
        "src/main/java/com/example/TokenService.java",
        "package com.example;\n\nclass TokenService {\n    String issue(String s) {\n        return Jwts.builder().setSubject(s).signWith(key).compact();\n    }\n}\n",
    );
    t.write(
        "pkg/auth/issue.go",
        "package auth\n\nimport \"os\"\n\nfunc Issue(t *jwt.Token) (string, error) {\n\treturn t.SignedString([]byte(os.Getenv(\"JWT_SECRET\")))\n}\n",
    );
    t.write(
        "deploy/values.yaml",
        "signing:\n  privateKey: |\n    -----BEGIN PRIVATE KEY-----\n    <paste the key here>\n    -----END PRIVATE KEY-----\n  jwtSecret: \"\"\n",
    );
    t.write(
        "infra/main.tf",
        "resource \"tls_private_key\" \"example\" {\n  algorithm = \"RSA\"\n}\n\noutput \"pem\" {\n  value     = tls_private_key.example.private_key_pem\n  sensitive = true\n}\n\nvariable \"jwt_secret\" {}\n",
    );
}

/// Hashes, ids and blobs that look random.
fn add_random_looking_data(t: &Tree) {
    // npm lockfile integrity hashes.
    let mut pkgs = String::new();
    for (i, name) in ["express", "jsonwebtoken", "jose", "lodash", "debug"]
        .iter()
        .enumerate()
    {
        pkgs.push_str(&format!(
            "    \"node_modules/{name}\": {{\n      \"version\": \"4.{i}.1\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-4.{i}.1.tgz\",\n      \"integrity\": \"sha512-{}\"\n    }},\n",
            b64(&random_bytes(64))
        ));
    }
    t.write(
        "package-lock.json",
        format!(
            "{{\n  \"name\": \"api\",\n  \"lockfileVersion\": 3,\n  \"packages\": {{\n{pkgs}    \"\": {{ \"name\": \"api\" }}\n  }}\n}}\n"
        ),
    );
    t.write(
        "yarn.lock",
        format!(
            "jose@^5.0.0:\n  version \"5.2.0\"\n  resolved \"https://registry.yarnpkg.com/jose/-/jose-5.2.0.tgz#{}\"\n  integrity sha512-{}\n",
            random_string(40, "0123456789abcdef"),
            b64(&random_bytes(64))
        ),
    );
    t.write(
        "go.sum",
        format!(
            "github.com/golang-jwt/jwt/v5 v5.2.1 h1:{}\ngithub.com/golang-jwt/jwt/v5 v5.2.1/go.mod h1:{}\n",
            b64(&random_bytes(32)),
            b64(&random_bytes(32))
        ),
    );
    t.write(
        "checksums.sha256",
        format!(
            "{}  keysweep-x86_64.tar.gz\n{}  keysweep-aarch64.tar.gz\n",
            random_string(64, "0123456789abcdef"),
            random_string(64, "0123456789abcdef")
        ),
    );
    // Data-URI images.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png.extend(random_bytes(1500));
    t.write(
        "web/index.html",
        format!(
            "<!doctype html>\n<html><body>\n<img alt=\"logo\" src=\"data:image/png;base64,{}\">\n</body></html>\n",
            b64(&png)
        ),
    );
    t.write(
        "web/style.css",
        format!(
            ".icon {{ background: url(data:image/svg+xml;base64,{}); }}\n.bg {{ background-image: url(\"data:image/webp;base64,{}\"); }}\n",
            b64(b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><path d=\"M0 0h16v16H0z\"/></svg>"),
            b64(&random_bytes(900))
        ),
    );
    // CSV of git SHAs.
    let mut csv = String::from("sha,parent,author,date,message\n");
    for i in 0..200 {
        csv.push_str(&format!(
            "{},{},dev{}@example.com,2025-0{}-1{}T10:00:00Z,fix #{}\n",
            random_string(40, "0123456789abcdef"),
            random_string(40, "0123456789abcdef"),
            i % 7,
            1 + i % 9,
            i % 10,
            1000 + i
        ));
    }
    t.write("data/commits.csv", csv);
    // UUIDs.
    let uuid = || {
        let h = random_string(32, "0123456789abcdef");
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    };
    let mut users = String::from("id,tenant_id,name\n");
    for i in 0..100 {
        users.push_str(&format!("{},{},user{i}\n", uuid(), uuid()));
    }
    t.write("data/users.csv", users);
    t.write(
        "fixtures/ids.json",
        serde_json::to_string_pretty(&json!({
            "requestId": uuid(), "traceId": random_string(32, "0123456789abcdef"),
            "secretId": uuid(), "jwtId": uuid(), "clientSecretRef": uuid()
        }))
        .expect("json"),
    );
}

#[test]
fn public_keys_and_certificates_are_not_findings() {
    let t = Tree::new();
    add_public_material(&t);
    let s = t.scan(&[]);
    s.assert_count(0);
    s.assert_exit(0);
}

#[test]
fn placeholders_and_env_references_are_not_findings() {
    let t = Tree::new();
    add_placeholders_and_references(&t);
    let s = t.scan(&[]);
    s.assert_count(0);
    s.assert_exit(0);
}

#[test]
fn hashes_uuids_and_data_uris_are_not_findings() {
    let t = Tree::new();
    add_random_looking_data(&t);
    let s = t.scan(&[]);
    s.assert_count(0);
    s.assert_exit(0);
}

#[test]
fn negative_tree_has_zero_findings() {
    let t = Tree::new();
    add_public_material(&t);
    add_placeholders_and_references(&t);
    add_random_looking_data(&t);
    let s = t.scan(&[]);
    s.assert_count(0);
    s.assert_exit(0);
    assert!(
        s.skipped().is_empty(),
        "nothing in the negative tree is unreadable\n{}",
        s.summary()
    );
    // The same with --no-ignore and in every output format: still nothing.
    let s2 = t.scan(&["--no-ignore"]);
    s2.assert_count(0);
    s2.assert_exit(0);
    for fmt in ["human", "jsonl", "sarif"] {
        let r = Ks::new("scan").arg(t.root()).format(fmt).run();
        assert_eq!(r.code, 0, "--format {fmt}: exit code\n{}", r.stdout_str());
        if fmt == "jsonl" {
            let out = r.stdout_str();
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(
                lines.len(),
                1,
                "jsonl with no findings prints only the summary: {out}"
            );
            let summary: serde_json::Value = serde_json::from_str(lines[0]).expect("summary json");
            assert_eq!(summary["type"], "summary");
            assert_eq!(summary["findings"], 0);
        }
        if fmt == "sarif" {
            let v = r.json();
            assert_eq!(
                v["runs"][0]["results"].as_array().map(|a| a.len()),
                Some(0),
                "sarif results"
            );
        }
    }
}

#[test]
fn empty_tree_exit_zero() {
    let t = Tree::new();
    let s = t.scan(&[]);
    s.assert_count(0);
    s.assert_exit(0);
    assert_eq!(s.json["tool"]["name"], "keysweep");
    assert!(s.json["tool"]["version"].is_string());
    assert!(s.json["stats"].is_object());
}
