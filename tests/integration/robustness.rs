//! Parser robustness: random bytes and mutated real key material never panic the scanner.
//! (A deterministic, always-on companion to the cargo-fuzz target in `fuzz/`.)

use keysweep::rules::RuleSet;
use keysweep::scan::Scanner;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVaF9S81n+yqnRGR7\n7Z1sPod16KlixGBNGdoDxleW8uOhRANCAATARDG2ta/I/rmRbKKPsREx+1LvkFUg\nSNSP9YjNgnTQyL6bvRPG5D5VFH7BDda2Tmff3RH3uuUPLMq8HXFvzvNo\n-----END PRIVATE KEY-----\n",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACD8vxb8fM2YDVM0KMz/GVi2ZJjAUYdaOb/e0+n9gfsedAAAAJhvafO1b2nz\n-----END OPENSSH PRIVATE KEY-----\n",
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\",\"d\":\"jpsQnnGQmL-YBIffH1136cLv6Lt9bE4kPmZ8aZ8yKpw\"}",
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIiwiZXhwIjoxfQ.c2lnbmF0dXJl",
    "JWT_SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a0\njwt:\n  secret: abcdef123456\njwt.sign(p, 'secret-value')",
    "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIPy/Fvx8zZgNUzQozP8ZWLZkmMBRh1o5v97T6f2B\n+x50\nPrivate-Lines: 1\nAAAA\nPrivate-MAC: 00ff\n",
    "tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1DNENBUUF3QlFZREsyVndCQ0lFSUJlS3lHQ0grd1ZvNFNYRExVWUUwdDFpMVB3dGRpWTF2YkNCYzNBMXVvMGQKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.below(bytes.len());
        match rng.below(5) {
            0 => bytes[at] = rng.next() as u8,
            1 => {
                bytes.remove(at);
            }
            2 => bytes.insert(at, b"{}\"'\\\n=:-,."[rng.below(11)]),
            3 => bytes.truncate(at),
            _ => {
                let end = (at + rng.below(64)).min(bytes.len());
                let chunk = bytes[at..end].to_vec();
                bytes.splice(at..at, chunk);
            }
        }
    }
    bytes
}

#[test]
fn mutated_key_material_never_panics() {
    let rules = RuleSet::builtin().expect("rules");
    let mut scanner = Scanner::new(&rules);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    for round in 0..20_000 {
        let seed = SEEDS[round % SEEDS.len()].as_bytes();
        let input = mutate(&mut rng, seed);
        out.clear();
        scanner.scan(&input, "fuzz.env", &mut out);
        for candidate in &out {
            assert!(candidate.start <= candidate.end && candidate.end <= input.len());
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let rules = RuleSet::builtin().expect("rules");
    let mut scanner = Scanner::new(&rules);
    let mut rng = Rng(42);
    let mut out = Vec::new();
    for _ in 0..2_000 {
        let len = rng.below(4096);
        let input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        out.clear();
        scanner.scan(&input, "random.bin", &mut out);
    }
}

#[test]
fn binary_containers_with_garbage_never_panic() {
    let mut rng = Rng(7);
    for _ in 0..5_000 {
        let len = rng.below(256);
        let mut input: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let prefix: &[u8] = match rng.below(3) {
            0 => &[0xfe, 0xed, 0xfe, 0xed],
            1 => &[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03],
            _ => &[0x30, 0x81],
        };
        input.splice(0..0, prefix.iter().copied());
        let _ = keysweep::detect::container::detect(&input, "fuzz");
    }
}
