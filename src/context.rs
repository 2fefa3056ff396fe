//! Where in a project a location is: code, configuration, tests, documentation, examples or
//! vendored third-party code, from its path alone (no file is read).
//!
//! Users see the real leaks first when a key in `config/production.yml` outranks the same kind
//! of key in `tests/fixtures/` or a README; [`Context::severity_steps`] says by how much a
//! context lowers a finding's severity (see `finding::rate`).

use serde::Serialize;

/// The kind of place a location is in, from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    /// Source code that ships (the default).
    Code,
    /// Configuration files (`*.yml`, `*.json`, `*.env`, `*.properties`, ...).
    Config,
    /// Tests, specs and their fixtures.
    Test,
    /// Documentation: READMEs, changelogs, `docs/`, Markdown and reStructuredText.
    Docs,
    /// Examples, samples and demos.
    Example,
    /// Third-party code kept in the tree (`vendor/`, `node_modules/`, `third_party/`).
    Vendor,
}

impl Context {
    /// The name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Code => "code",
            Context::Config => "config",
            Context::Test => "test",
            Context::Docs => "docs",
            Context::Example => "example",
            Context::Vendor => "vendor",
        }
    }

    /// How many severity levels a finding here is below the same finding in code or
    /// configuration: one for documentation and examples (often copied into real projects,
    /// sometimes real), two for tests and vendored code (usually throwaway or someone else's).
    pub fn severity_steps(self) -> u8 {
        match self {
            Context::Code | Context::Config => 0,
            Context::Docs | Context::Example => 1,
            Context::Test | Context::Vendor => 2,
        }
    }

    /// The context of a path relative to the scan root (`/`-separated; `\` is accepted too).
    /// When several apply, the first of vendor, test, example, docs, config wins: a fixture in
    /// `vendor/lib/tests/` is vendored, a `config.yml` under `tests/` is a test.
    pub fn of_path(path: &str) -> Context {
        let lower = path.to_ascii_lowercase().replace('\\', "/");
        let parts: Vec<&str> = lower.split('/').filter(|p| !p.is_empty()).collect();
        let Some((name, dirs)) = parts.split_last() else {
            return Context::Code;
        };
        if dirs.iter().any(|d| is_vendor_dir(d)) {
            Context::Vendor
        } else if dirs.iter().any(|d| is_test_dir(d)) || is_test_file(original_name(path)) {
            Context::Test
        } else if dirs.iter().any(|d| is_example_dir(d)) || is_example_file(name) {
            Context::Example
        } else if dirs.iter().any(|d| is_docs_dir(d)) || is_docs_file(name) {
            Context::Docs
        } else if is_config_file(name) || dirs.iter().any(|d| is_config_dir(d)) {
            Context::Config
        } else {
            Context::Code
        }
    }
}

/// The last component of a path, as written.
fn original_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_vendor_dir(dir: &str) -> bool {
    matches!(
        dir,
        "vendor"
            | "vendors"
            | "node_modules"
            | "bower_components"
            | "jspm_packages"
            | "third_party"
            | "third-party"
            | "thirdparty"
            | "site-packages"
            | "pods"
    )
}

fn is_test_dir(dir: &str) -> bool {
    matches!(
        dir,
        "test"
            | "tests"
            | "testing"
            | "__tests__"
            | "spec"
            | "specs"
            | "testdata"
            | "test-data"
            | "test_data"
            | "fixtures"
            | "__fixtures__"
            | "fixture"
            | "__mocks__"
            | "mocks"
            | "e2e"
    ) || dir.ends_with(".tests")
        || dir.ends_with(".test")
        || dir.contains(".tests.")
        || dir.ends_with("_test")
        || dir.ends_with("_tests")
        || dir.ends_with("-test")
        || dir.ends_with("-tests")
}

/// `*_test.go`, `test_*.py`, `*.test.js`, `*.spec.ts`, `FooTest.java`, `foo_spec.rb`, ...
/// (`name` as written: `HmacTest.java` is a test, `latest.py` and `contest.rs` are not).
fn is_test_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.contains(".test.") || lower.contains(".spec.") || lower.contains(".tests.") {
        return true;
    }
    let stem = name.split('.').next().unwrap_or(name);
    let lower_stem = stem.to_ascii_lowercase();
    lower_stem.starts_with("test_")
        || ["_test", "_tests", "_spec", "-test", "-tests", "-spec"]
            .iter()
            .any(|suffix| lower_stem.ends_with(suffix))
        || ["Test", "Tests", "Spec"]
            .iter()
            .any(|suffix| stem.len() > suffix.len() && stem.ends_with(suffix))
}

fn is_example_dir(dir: &str) -> bool {
    matches!(
        dir,
        "example"
            | "examples"
            | "sample"
            | "samples"
            | "demo"
            | "demos"
            | "tutorial"
            | "tutorials"
            | "cookbook"
            | "playground"
    ) || dir.starts_with("example-")
        || dir.starts_with("example_")
        || dir.ends_with("-example")
        || dir.ends_with("-examples")
        || dir.ends_with("_example")
        || dir.ends_with("_examples")
}

/// `config.yml.example`, `.env.sample`, `settings.example.json`, `example.env`.
fn is_example_file(name: &str) -> bool {
    name.split('.').any(|part| {
        matches!(
            part,
            "example" | "examples" | "sample" | "dist" | "template" | "tmpl"
        )
    })
}

fn is_docs_dir(dir: &str) -> bool {
    matches!(dir, "doc" | "docs" | "documentation" | "man" | "wiki")
}

fn is_docs_file(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    let named = matches!(
        stem,
        "readme"
            | "changelog"
            | "changes"
            | "history"
            | "news"
            | "contributing"
            | "upgrading"
            | "migrating"
            | "security"
            | "faq"
    );
    let ext = name.rsplit_once('.').map(|(_, ext)| ext);
    named
        || matches!(
            ext,
            Some("md" | "markdown" | "mdx" | "rst" | "adoc" | "asciidoc" | "rdoc" | "textile")
        )
}

/// `config/production.pem`, `etc/ssl/private/server.key`: kept with the deployment's settings.
fn is_config_dir(dir: &str) -> bool {
    matches!(
        dir,
        "config" | "configs" | "conf" | "etc" | ".config" | "settings" | "secrets"
    )
}

fn is_config_file(name: &str) -> bool {
    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
        return true;
    }
    let ext = name.rsplit_once('.').map(|(_, ext)| ext);
    matches!(
        ext,
        Some(
            "yml"
                | "yaml"
                | "json"
                | "json5"
                | "jsonc"
                | "toml"
                | "ini"
                | "cfg"
                | "conf"
                | "config"
                | "properties"
                | "xml"
                | "plist"
                | "tfvars"
                | "hcl"
                | "npmrc"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::Context::{self, *};

    fn check(cases: &[(&str, Context)]) {
        for (path, want) in cases {
            assert_eq!(Context::of_path(path), *want, "{path}");
        }
    }

    #[test]
    fn code_is_the_default() {
        check(&[
            ("src/auth/token.ts", Code),
            ("lib/jwt.rb", Code),
            ("main.go", Code),
            ("app/Http/Kernel.php", Code),
            ("Dockerfile", Code),
            ("", Code),
            ("src/contest.rs", Code),
            ("src/latest.py", Code),
            ("src/attestation/manifest.rs", Code),
        ]);
    }

    #[test]
    fn configuration_by_extension_and_env_files() {
        check(&[
            ("config/production.yml", Config),
            ("appsettings.json", Config),
            ("src/main/resources/application.properties", Config),
            (".env", Config),
            (".env.production", Config),
            ("deploy/prod.env", Config),
            ("web.config", Config),
            ("settings.toml", Config),
            ("conf/app.ini", Config),
            ("config/production.pem", Config),
            ("etc/ssl/private/server.key", Config),
        ]);
    }

    #[test]
    fn tests_by_directory_and_file_name() {
        check(&[
            ("tests/fixtures/key.pem", Test),
            ("test/jwt.hs.tests.js", Test),
            ("spec/jwt/jwt_spec.rb", Test),
            ("src/__tests__/auth.js", Test),
            ("parser_test.go", Test),
            ("tests/test_api_jwt.py", Test),
            ("test_api.py", Test),
            ("src/auth.test.ts", Test),
            ("src/auth.spec.ts", Test),
            ("lib/src/test/java/com/auth0/jwt/JWTTest.java", Test),
            ("src/HmacTest.java", Test),
            ("src/JwtSpec.groovy", Test),
            ("tests/JWT.Tests.Common/Models/TestData.cs", Test),
            ("src/JWT.Tests/Foo.cs", Test),
            ("pkg/testdata/token.txt", Test),
            ("tests/config.yml", Test),
            ("TESTS/Key.PEM", Test),
            (r"tests\fixtures\key.pem", Test),
        ]);
    }

    #[test]
    fn docs_by_name_extension_and_directory() {
        check(&[
            ("README.md", Docs),
            ("README", Docs),
            ("CHANGELOG.md", Docs),
            ("docs/usage.rst", Docs),
            ("docs/conf.py", Docs),
            ("guide.adoc", Docs),
            ("doc/api.html", Docs),
        ]);
    }

    #[test]
    fn examples_by_directory_and_file_name() {
        check(&[
            ("examples/server.js", Example),
            ("samples/app/appsettings.json", Example),
            ("demo/index.php", Example),
            ("cookbook/jws.mjs", Example),
            (".env.example", Example),
            ("config/settings.sample.yml", Example),
            ("examples/README.md", Example),
        ]);
    }

    #[test]
    fn vendor_wins_over_everything() {
        check(&[
            ("vendor/github.com/x/y/key.go", Vendor),
            ("node_modules/jsonwebtoken/test/keys.js", Vendor),
            ("third_party/lib/README.md", Vendor),
            ("web/node_modules/a/examples/b.js", Vendor),
        ]);
    }

    #[test]
    fn steps_order_the_contexts() {
        assert_eq!(Code.severity_steps(), 0);
        assert_eq!(Config.severity_steps(), 0);
        assert!(Docs.severity_steps() < Test.severity_steps());
        assert_eq!(Example.severity_steps(), Docs.severity_steps());
        assert_eq!(Vendor.severity_steps(), Test.severity_steps());
        let names: Vec<_> = [Code, Config, Test, Docs, Example, Vendor]
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            names,
            ["code", "config", "test", "docs", "example", "vendor"]
        );
    }
}
