//! `wsprobe completions SHELL` and `wsprobe man`: shell completions and manual pages generated
//! from the same clap definitions as the parser, so they never drift from the flags.

use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use super::error::{self, CliError};
use super::{Cli, exit};

/// Arguments of `wsprobe completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe completions bash > ~/.local/share/bash-completion/completions/wsprobe
  wsprobe completions zsh > ~/.zfunc/_wsprobe        # with fpath+=~/.zfunc
  wsprobe completions fish > ~/.config/fish/completions/wsprobe.fish
  wsprobe completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Arguments of `wsprobe man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  wsprobe man | man -l -                 # read the page of wsprobe
  wsprobe man run | man -l -             # the page of `wsprobe run`
  wsprobe man --out /usr/local/share/man/man1   # every page: wsprobe.1, wsprobe-run.1, ...")]
pub struct ManArgs {
    /// The subcommand whose page to print (default: wsprobe's own page).
    #[arg(value_name = "SUBCOMMAND")]
    command: Option<String>,
    /// Write every page (wsprobe.1 and one wsprobe-SUBCOMMAND.1 each) into this directory
    /// instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    out: Option<PathBuf>,
}

/// `wsprobe completions SHELL`: the completion script on stdout.
pub fn completions(args: CompletionsArgs) -> Result<u8, CliError> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "wsprobe", &mut out);
    error::print(&String::from_utf8_lossy(&out))?;
    Ok(exit::OK)
}

/// `wsprobe man [SUBCOMMAND] [--out DIR]`.
pub fn man(args: ManArgs) -> Result<u8, CliError> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(cmd, dir))
            .map_err(|e| {
                CliError::environment(format!("cannot write man pages to {}: {e}", dir.display()))
            })?;
        return Ok(exit::OK);
    }
    let page = match &args.command {
        None => cmd,
        Some(name) => cmd
            .get_subcommands()
            .find(|c| c.get_name() == name)
            .cloned()
            .ok_or_else(|| {
                let all = Cli::command();
                let names: Vec<&str> = all.get_subcommands().map(|c| c.get_name()).collect();
                CliError::usage(format!(
                    "no subcommand '{name}': expected one of {}",
                    names.join(", ")
                ))
            })?,
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| CliError::environment(format!("cannot render the man page: {e}")))?;
    error::print(&String::from_utf8_lossy(&out))?;
    Ok(exit::OK)
}
