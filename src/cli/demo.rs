//! `pycache demo [DIR]`: write the bundled demo project and show its scan.

use super::scan::{print_quietly, scan_with_progress, summary};
use color_eyre::eyre::Result;
use pycache::pyc::{Location, Status};
use pycache::scan::{ScanModel, ScanOptions, display_path};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the project (default: a new temporary directory). A non-empty
    /// directory is refused unless an earlier `pycache demo` wrote it.
    pub dir: Option<PathBuf>,
    /// Print the scan model as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs `demo`.
pub fn run(args: Args) -> Result<ExitCode> {
    let info = match &args.dir {
        Some(dir) => pycache::demo::write(dir)?,
        None => pycache::demo::write_temp()?,
    };
    let opts = ScanOptions::new(vec![info.root.clone()]).with_prefix(Some(info.prefix.clone()));
    let model = scan_with_progress(opts);
    if args.json {
        let mut s = serde_json::to_string_pretty(&model.to_json())?;
        s.push('\n');
        print_quietly(&s)?;
        return Ok(ExitCode::SUCCESS);
    }
    let root = display_path(&info.root);
    let prefix = display_path(&info.prefix);
    let mut text = format!(
        "wrote the demo project to {root} ({} files)\n\
         its PYTHONPYCACHEPREFIX tree is {prefix}\n\
         scan it again with: pycache scan {root} --pycache-prefix {prefix}\n\n",
        info.files
    );
    text.push_str(&summary(&model));
    text.push_str(&story(&model));
    print_quietly(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Which modules have caches of each verdict, with their tags: the demo's story in brief.
fn story(model: &ScanModel) -> String {
    let mut by_status: BTreeMap<Status, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for c in model.caches.iter().filter(|c| c.status != Status::Fresh) {
        let tag = c.tag.clone().unwrap_or_else(|| "?".into());
        let label = match c.location {
            Location::Prefix => format!("{tag} in the prefix"),
            Location::Legacy => format!("{tag} legacy"),
            Location::Pycache => tag,
        };
        by_status
            .entry(c.status)
            .or_default()
            .entry(c.module.as_str())
            .or_default()
            .insert(label);
    }
    if by_status.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nmodules with caches that are not fresh\n");
    for (status, modules) in by_status {
        let list: Vec<String> = modules
            .into_iter()
            .map(|(m, tags)| format!("{m} ({})", tags.into_iter().collect::<Vec<_>>().join(", ")))
            .collect();
        s.push_str(&format!("  {:<12}{}\n", status.as_str(), list.join(", ")));
    }
    s
}
