//! JWTs in the shapes code writes them that a single regex match misses: split across
//! concatenated string literals (JS/Java `+`, PHP `.`, Python adjacent literals, C# verbatim
//! strings), and tokens whose header says `"alg": null`.

use serde_json::json;

use crate::support::*;

/// A token split into three literals at its dots, written as each language concatenates.
fn split(token: &str) -> (String, String, String) {
    let mut parts = token.splitn(3, '.');
    let (h, p, s) = (
        parts.next().expect("header"),
        parts.next().expect("payload"),
        parts.next().expect("signature"),
    );
    (format!("{h}."), format!("{p}."), s.to_string())
}

#[test]
fn tokens_split_across_literals_are_joined() {
    let secret = random_secret(32);
    let token = |sub: &str| {
        hs_jwt(
            "HS256",
            secret.as_bytes(),
            &json!({"sub": sub, "iss": "https://auth.internal"}),
        )
    };
    let cases = [
        (
            "web/client.js",
            token("js"),
            "const t = \"{h}\" +\n  \"{p}\" +\n  \"{s}\";\n",
        ),
        (
            "web/Client.java",
            token("java"),
            "String t = \"{h}\"\n    + \"{p}\"\n    + \"{s}\";\n",
        ),
        (
            "app/client.php",
            token("php"),
            "$t = '{h}' . '{p}' . '{s}';\n",
        ),
        (
            "app/client.py",
            token("py"),
            "T = (\"{h}\"\n     \"{p}\"\n     \"{s}\")\n",
        ),
        (
            "app/Client.cs",
            token("cs"),
            "var t = @\"{h}{p}\" + @\"{s}\";\n",
        ),
    ];
    let t = Tree::new();
    for (path, token, shape) in &cases {
        let (h, p, s) = split(token);
        let text = shape
            .replace("{h}", &h)
            .replace("{p}", &p)
            .replace("{s}", &s);
        assert!(!text.contains(token.as_str()), "{text}");
        t.write(path, text);
    }
    let s = t.scan(&["--show-secrets"]);
    s.assert_exit(1);
    for (path, token, _) in &cases {
        let found = s.at_path(path);
        assert_eq!(found.len(), 1, "{path}\n{}", s.pretty());
        let f = found[0];
        assert_eq!(f["rule"], "jwt/token", "{path}");
        assert_eq!(
            f["secret"],
            token.as_str(),
            "{path}: the whole token, joined"
        );
        assert_eq!(f["jwt"]["alg"], "HS256");
        assert_eq!(f["locations"][0]["line"], 1, "{path}");
    }
}

#[test]
fn a_token_with_a_null_alg_is_found() {
    let token = make_jwt(
        &json!({"alg": null, "typ": "JWT"}),
        &json!({"sub": "admin", "role": "owner"}),
        |_| Vec::new(),
    );
    let t = Tree::new();
    t.write(
        "docs/attack.md",
        format!("curl -H 'Authorization: Bearer {token}' https://api.internal/\n"),
    );
    let s = t.scan(&[]);
    s.assert_exit(1);
    let f = s.one_with_rule("jwt/token");
    assert_eq!(f["jwt"]["alg"], "null");
    assert_eq!(f["jwt"]["sub"], "admin");
    assert_ne!(f["verification"]["status"], "live");
}
