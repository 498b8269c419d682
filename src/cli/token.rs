//! `retentiond token add|list|remove`: the API's bearer tokens, in the credential
//! file `[http] tokens_file` names. A new token is printed once and stored hashed.

use std::path::Path;

use serde_json::json;

use super::{Failure, Format, Outcome, TokenCommand, TokenRole, print_json};
use crate::tokens::{self, Role, TokenFileError};

impl From<TokenFileError> for Failure {
    fn from(e: TokenFileError) -> Failure {
        match e {
            TokenFileError::Read { .. } | TokenFileError::Write { .. } => Failure {
                code: super::EXIT_FAILURE,
                error: e.into(),
            },
            usage => Failure::usage(usage),
        }
    }
}

fn role(r: TokenRole) -> Role {
    match r {
        TokenRole::App => Role::App,
        TokenRole::Dpo => Role::Dpo,
        TokenRole::Ops => Role::Ops,
    }
}

pub(super) fn token(command: TokenCommand) -> Outcome {
    match command {
        TokenCommand::Add {
            name,
            role: r,
            file,
            format,
        } => {
            let token = tokens::add(&file, &name, role(r))?;
            match format {
                Format::Json => print_json(
                    &json!({"name": name, "role": role(r).as_str(), "token": token, "file": file.display().to_string()}),
                ),
                Format::Text => {
                    println!("{token}");
                    eprintln!(
                        "token `{name}` (role {}) added to {}; it is shown this once, only its hash is kept. \
                         The daemon accepts it after a reload (systemctl reload retentiond).",
                        role(r),
                        file.display()
                    );
                }
            }
        }
        TokenCommand::List { file, format } => list(&file, format)?,
        TokenCommand::Remove { name, file, format } => {
            let removed = tokens::remove(&file, &name)?;
            match format {
                Format::Json => {
                    print_json(&json!({"removed": removed.name, "role": removed.role.as_str()}))
                }
                Format::Text => println!(
                    "token `{}` (role {}) removed from {}; it is refused after the daemon's next reload",
                    removed.name,
                    removed.role,
                    file.display()
                ),
            }
        }
    }
    Ok(0)
}

fn list(file: &Path, format: Format) -> Result<(), Failure> {
    let all = tokens::read(file)?;
    match format {
        Format::Json => print_json(&json!(
            all.iter()
                .map(|t| json!({"name": t.name, "role": t.role.as_str()}))
                .collect::<Vec<_>>()
        )),
        Format::Text if all.is_empty() => println!("no tokens in {}", file.display()),
        Format::Text => {
            for t in &all {
                println!("{:<24} {}", t.name, t.role);
            }
        }
    }
    Ok(())
}
