//! What no deploy file may hold: an IAM statement that grants a wildcard action, full access or PassRole on
//! everything; an account id, a region or a secret written in.

use super::*;

#[test]
fn no_iam_statement_grants_a_wildcard_action_full_access_or_passrole_on_everything() {
    for name in ["stack.yaml", "base.yaml", "pipeline.yaml"] {
        let t = template(name);
        for (role, r) in of_type(&t, "AWS::IAM::Role") {
            for arn in strings(&r["Properties"]["ManagedPolicyArns"]) {
                assert!(
                    !arn.contains("FullAccess"),
                    "{name} {role}: managed policy {arn}"
                );
            }
            let policies = r["Properties"]["Policies"]
                .as_sequence()
                .cloned()
                .unwrap_or_default();
            assert!(
                !policies.is_empty() || r["Properties"]["ManagedPolicyArns"].is_sequence(),
                "{role} has no policy"
            );
            for p in policies {
                for st in &statements(&p["PolicyDocument"]) {
                    let actions = strings(&st["Action"]);
                    assert!(
                        !actions.is_empty(),
                        "{name} {role}: statement without Action"
                    );
                    for a in &actions {
                        assert!(
                            a != "*" && !a.ends_with(":*"),
                            "{name} {role}: wildcard action {a}"
                        );
                    }
                    let resources = strings(&st["Resource"]);
                    if actions.iter().any(|a| a == "iam:PassRole") {
                        assert!(
                            !resources.iter().any(|r| r == "*"),
                            "{name} {role}: PassRole on *"
                        );
                    }
                    assert!(
                        st["NotAction"].is_null() && st["NotResource"].is_null(),
                        "{name} {role}: Not* statement"
                    );
                }
            }
        }
    }
}

#[test]
fn no_account_id_region_or_secret_is_written_into_deploy_files() {
    let root = bpi_testkit::workspace_root();
    let files = [
        "deploy/stack.yaml",
        "deploy/base.yaml",
        "deploy/pipeline.yaml",
        "deploy/deploy.sh",
        "deploy/destroy.sh",
        "deploy/load.sh",
        "deploy/lib.sh",
        "deploy/build-image.sh",
        "deploy/pipeline.sh",
        "buildspec.yml",
        "Dockerfile",
    ];
    let account = regex_like_12_digits;
    for f in files {
        let text = std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!account(&text), "{f} holds a 12-digit account id");
        for region in ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"] {
            assert!(!text.contains(region), "{f} names region {region}");
        }
        for secret in ["AKIA", "aws_secret_access_key", "ghp_"] {
            assert!(
                !text.contains(secret),
                "{f} looks like it holds a credential ({secret})"
            );
        }
    }
}

#[test]
fn no_credential_or_account_id_anywhere_in_the_repository() {
    let root = bpi_testkit::workspace_root();
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files");
    let files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    assert!(files.len() > 50, "the repository's files: {}", files.len());
    let mut scanned = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(root.join(f)) else {
            continue; // binary or deleted in the working tree
        };
        scanned += 1;
        // Cargo.lock's checksums are hex: runs of 12 digits happen there by chance. 123456789012 is the placeholder
        // account of AWS's documentation and the emulator's fixed account.
        if f != "Cargo.lock" {
            assert!(
                !regex_like_12_digits(&text.replace("123456789012", "")),
                "{f} holds a 12-digit account id"
            );
        }
        assert!(!has_access_key_id(&text), "{f} holds an AWS access key id");
        // Built at run time, so this file does not match itself.
        for kind in ["RSA ", "", "OPENSSH ", "EC "] {
            let header = format!("{}{kind}PRIVATE KEY", "BEGIN ");
            assert!(!text.contains(&header), "{f} holds a private key");
        }
    }
    assert!(scanned > 50);
}

/// `AKIA` or `ASIA` followed by 16 upper-case letters or digits: an AWS access key id.
fn has_access_key_id(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(20).any(|w| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

fn regex_like_12_digits(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            run += 1;
        } else {
            if run == 12 {
                return true;
            }
            run = 0;
        }
        if i + 1 == bytes.len() && run == 12 {
            return true;
        }
    }
    false
}
