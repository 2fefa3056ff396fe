//! HMAC / JWT secrets in real code shapes: a name passed as the key of a sign call is traced to
//! its literal assignment and reported there, with the call as a related location (JSON
//! `related`, SARIF `relatedLocations`, human "used at line N"); the same shape in every
//! language family; and the shapes that are not keys (declarations, prose, text after the call).

use serde_json::Value;

use super::scan_one_file;
use crate::support::*;

/// A file in which `secret` is assigned on one line and used as a key on another.
struct Shape {
    name: &'static str,
    path: &'static str,
    /// The file's text for a secret.
    build: fn(&str) -> String,
    /// Text at the start of the call that uses the secret (the related location).
    call: &'static str,
}

impl Case for Shape {
    fn name(&self) -> &str {
        self.name
    }
}

fn hex_secret() -> String {
    loop {
        let s = hex(&random_bytes(20));
        if !has_placeholder_marker(&s) && s.chars().any(|c| c.is_ascii_alphabetic()) {
            return s;
        }
    }
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "js jsonwebtoken: var secret + expression (the 7pay shape)",
        path: "src/routes/reset.js",
        build: |s| {
            format!(
                "const jwt = require('jsonwebtoken');\nvar secret = '{s}';  // our secret key\nfunction resetToken(user) {{\n  return jwt.sign({{ email: user.email, type: 'ResetPassword' }}, secret + user.hashedPassword, {{ expiresIn: '30m' }});\n}}\nmodule.exports = {{ resetToken }};\n"
            )
        },
        call: "jwt.sign(",
    },
    Shape {
        name: "python PyJWT: module constant with .encode()",
        path: "app/tokens.py",
        build: |s| {
            format!(
                "import jwt\n\nSECRET = \"{s}\"\n\n\ndef issue(claims):\n    \"\"\"Sign the claims.\"\"\"\n    return jwt.encode(claims, SECRET.encode(), algorithm=\"HS256\")\n"
            )
        },
        call: "jwt.encode(",
    },
    Shape {
        name: "java jjwt: private static final through hmacShaKeyFor",
        path: "src/main/java/com/example/TokenService.java",
        build: |s| {
            format!(
                "package com.example;\n\nimport io.jsonwebtoken.Jwts;\nimport io.jsonwebtoken.security.Keys;\nimport java.nio.charset.StandardCharsets;\n\npublic class TokenService {{\n    private static final String KEY = \"{s}\";\n\n    public String issue(String user) {{\n        return Jwts.builder().subject(user)\n            .signWith(Keys.hmacShaKeyFor(KEY.getBytes(StandardCharsets.UTF_8)))\n            .compact();\n    }}\n}}\n"
            )
        },
        call: "signWith(",
    },
    Shape {
        name: "java auth0 java-jwt: field into Algorithm.HMAC256",
        path: "src/main/java/com/example/Issuer.java",
        build: |s| {
            format!(
                "package com.example;\n\nimport com.auth0.jwt.JWT;\nimport com.auth0.jwt.algorithms.Algorithm;\n\npublic class Issuer {{\n    private final String issuerKey = \"{s}\";\n\n    public String token() {{\n        Algorithm algorithm = Algorithm.HMAC256(issuerKey);\n        return JWT.create().withIssuer(\"auth0\").sign(algorithm);\n    }}\n}}\n"
            )
        },
        call: "Algorithm.HMAC256(",
    },
    Shape {
        name: "go golang-jwt: const into SignedString([]byte(...))",
        path: "internal/auth/token.go",
        build: |s| {
            format!(
                "package auth\n\nimport \"github.com/golang-jwt/jwt/v5\"\n\nconst hmacKey = \"{s}\"\n\nfunc Issue(sub string) (string, error) {{\n\tt := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{{\"sub\": sub}})\n\treturn t.SignedString([]byte(hmacKey))\n}}\n"
            )
        },
        call: "SignedString(",
    },
    Shape {
        name: "ruby ruby-jwt: constant, call without parentheses",
        path: "lib/auth/token.rb",
        build: |s| {
            format!(
                "require 'jwt'\n\nmodule Auth\n  TOKEN_KEY = '{s}'\n\n  def self.issue(payload)\n    JWT.encode payload, TOKEN_KEY, 'HS256'\n  end\nend\n"
            )
        },
        call: "JWT.encode ",
    },
    Shape {
        name: "php firebase/php-jwt: $key into JWT::encode",
        path: "src/Auth/Tokens.php",
        build: |s| {
            format!(
                "<?php\nuse Firebase\\JWT\\JWT;\n\n$key = '{s}';\n$payload = ['iss' => 'http://example.org', 'aud' => 'http://example.com'];\n$jwt = JWT::encode($payload, $key, 'HS256');\n"
            )
        },
        call: "JWT::encode(",
    },
    Shape {
        name: "c# SymmetricSecurityKey: const through Encoding.UTF8.GetBytes",
        path: "Services/TokenService.cs",
        build: |s| {
            format!(
                "using System.Text;\nusing Microsoft.IdentityModel.Tokens;\n\npublic class TokenService\n{{\n    private const string Secret = \"{s}\";\n\n    public SigningCredentials Credentials()\n    {{\n        var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Secret));\n        return new SigningCredentials(key, SecurityAlgorithms.HmacSha256);\n    }}\n}}\n"
            )
        },
        call: "SymmetricSecurityKey(",
    },
];

/// The one secret/hmac finding of a scan with `--show-secrets`.
fn the_secret(s: &Scan) -> &Value {
    s.one_with_rule("secret/hmac")
}

#[test]
fn traced_key_is_reported_at_its_assignment_with_the_call_related() {
    run_table(SHAPES, |shape| {
        let secret = hex_secret();
        let text = (shape.build)(&secret);
        let s = scan_one_file(shape.path, &text, &["--show-secrets"]);
        let f = the_secret(&s);
        assert_eq!(f["secret"], secret.as_str(), "{}", s.summary());
        let locations = f["locations"].as_array().expect("locations");
        assert_eq!(locations.len(), 1, "{f}");
        let l = &locations[0];
        let (line, column) = line_col(&text, &secret);
        assert_eq!(
            (l["line"].as_u64(), l["column"].as_u64()),
            (Some(line), Some(column)),
            "{l}"
        );
        let (call_line, call_column) = line_col(&text, shape.call);
        let related = &l["related"];
        assert_eq!(related["line"].as_u64(), Some(call_line), "{l}");
        assert_eq!(related["column"].as_u64(), Some(call_column), "{l}");
        assert!(
            related["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("used as the key of")),
            "{l}"
        );
    });
}

#[test]
fn related_location_reaches_sarif_and_human_output() {
    let secret = hex_secret();
    let text = (SHAPES[0].build)(&secret);
    let t = Tree::new();
    t.write("reset.js", &text);
    let (call_line, _) = line_col(&text, "jwt.sign(");
    let sarif = Ks::new("scan").arg(t.root()).format("sarif").run().json();
    assert_valid_sarif(&sarif);
    let result = &sarif["runs"][0]["results"][0];
    let related = &result["relatedLocations"][0];
    assert_eq!(
        related["physicalLocation"]["region"]["startLine"].as_u64(),
        Some(call_line),
        "{result}"
    );
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "reset.js"
    );
    let human = Ks::new("scan")
        .arg(t.root())
        .format("human")
        .run()
        .stdout_str();
    assert!(
        human.contains(&format!("used at line {call_line}:")),
        "{human}"
    );
    assert!(
        !human.contains(&secret),
        "human output must redact: {human}"
    );
}

#[test]
fn literal_keys_in_calls_and_docs_code_fences_are_found() {
    let secret = hex_secret();
    let text = format!(
        "# Tokens\n\nSign a token with the `jwt.sign` function and the \"secret\" from settings:\n\n```js\nconst token = jwt.sign({{ sub: 1 }}, '{secret}', {{ expiresIn: '1h' }});\n```\n"
    );
    let s = scan_one_file("docs/tokens.md", &text, &["--show-secrets"]);
    let f = the_secret(&s);
    assert_eq!(f["secret"], secret.as_str());
    let (line, _) = line_col(&text, &secret);
    assert_eq!(f["locations"][0]["line"].as_u64(), Some(line));
    assert!(f["locations"][0].get("related").is_none(), "{f}");
}

#[test]
fn declarations_prose_and_text_after_the_call_are_not_keys() {
    let s1 = hex_secret();
    let s2 = hex_secret();
    let files = [
        (
            "src/main/java/Builder.java",
            format!(
                "/**\n * Signs with signWith(SignatureAlgorithm.HS256, \"{s1}\").\n */\npublic JwtBuilder signWith(Key key) {{\n    this.key = key;\n    return this;\n}}\n"
            ),
        ),
        (
            "src/sign.js",
            format!(
                "// jwt.sign(payload, '{s1}')\nconst token = jwt.sign(payload, getKey()); log('{s2}');\nfunction sign(payload, secret) {{ return secret; }}\n"
            ),
        ),
        (
            "README.md",
            format!("Call jwt.sign with the '{s1}' key from your settings.\n"),
        ),
        (
            "app/views.py",
            format!(
                "SECRET_KEY = 'AWS_SECRET_ACCESS_KEY'\nname = 'aws_secret_access_key'\npayload = jwt.decode(token, options={{'verify_signature': False}}, algorithms=['exp'])\nkey = getSecret('{s2}')\ntoken = jwt.encode(payload, key)\n"
            ),
        ),
        (
            "schema.json",
            format!(
                "{{\n  \"AWS::Route53::KeySigningKey\": \"{}\"\n}}\n",
                &s2[..16]
            ),
        ),
    ];
    let t = Tree::new();
    for (path, text) in &files {
        t.write(path, text);
    }
    let s = t.scan(&[]);
    s.assert_exit(0);
    s.assert_count(0);
}

#[test]
fn env_fallback_and_jwt_io_default_are_reported() {
    let secret = hex_secret();
    let text = format!(
        "const secret = process.env.JWT_SECRET || '{secret}';\nconst demo = jwt.sign(payload, 'your-256-bit-secret');\n"
    );
    let t = Tree::new();
    t.write("src/config.js", &text);
    let s = t.scan(&["--show-secrets"]);
    s.assert_exit(1);
    let secrets: Vec<&str> = s
        .with_rule("secret/hmac")
        .iter()
        .filter_map(|f| f["secret"].as_str())
        .collect();
    assert!(secrets.contains(&secret.as_str()), "{}", s.summary());
    assert!(secrets.contains(&"your-256-bit-secret"), "{}", s.summary());
}
