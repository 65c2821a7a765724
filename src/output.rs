//! Safe, atomic output: every command writes its whole output directory
//! (and the `--export-trials` file) into temporary siblings and renames them
//! into place only when everything has been written, so a directory always
//! holds the files of one complete run, and a failed run leaves the previous
//! output and the previous trials file as they were.
//!
//! salesplan replaces only what it wrote itself. Each output directory
//! carries a marker file ([`MARKER`]) that also lists any other file the
//! run put there (a trials file inside `--out`) and every plot it wrote; a
//! run refuses, before any work, to replace a regular file, a symbolic
//! link, a non-empty directory without a marker, a marked one holding
//! anything salesplan did not write there, or a directory holding any
//! input of the run. Checks and renames use the target with its folder's
//! symbolic links resolved.
//!
//! The commit holds an exclusive lock on the target's parent directory, so
//! two runs into the same directory at once do not mix: the last to finish
//! wins. Its order, and the rollback that keeps the invariant:
//! 1. the previous trials file (if any) is moved aside and the new one is
//!    renamed into place;
//! 2. the previous directory is moved aside and the new one renamed into
//!    place; on failure both are put back;
//! 3. the moved-aside copies are removed.
//!
//! A run that was killed leaves `.NAME.partial-PID-N` staging entries; the
//! next run into the same place removes those whose process is gone, and
//! restores a stale `.NAME.partial-PID-N.previous` when its target is missing
//! (it is then the only copy of the last output).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The file that marks a directory as salesplan's output.
pub const MARKER: &str = ".salesplan-output";

/// The marker's line prefix for each file a run staged inside the
/// directory besides its own outputs (the trials file).
const ALSO_WROTE: &str = "also wrote: ";

/// The marker's content: fixed, so outputs stay byte-identical.
const MARKER_TEXT: &str = "This directory was written by salesplan. Every run that writes here \
                           replaces the whole directory.\n";

/// The marker's line saying that it lists every plot file the run wrote
/// (one [`PLOT_LINE`] each); a marker without it is an earlier version's.
const PLOTS_LISTED: &str = "plots: listed";

/// The marker's line prefix for each file the run wrote in `plots/`.
const PLOT_LINE: &str = "plot: ";

/// File names that salesplan (this or an earlier version) writes at the top
/// of an output directory; a marked directory with only these (and what its
/// marker lists) may be replaced.
const OUTPUT_FILES: &[&str] = &[
    MARKER,
    "assignments.csv",
    "backtest.csv",
    "capacity.csv",
    "comp.csv",
    "comp_accrual.csv",
    "compare.csv",
    "compare.html",
    "compare_territories.csv",
    "fit.csv",
    "forecast.csv",
    "frontier.csv",
    "moves.csv",
    "payout_curve.csv",
    "plan.xlsx",
    "quota_backtest.csv",
    "quota_phasing.csv",
    "quotas.csv",
    "report.html",
    "scorecard.csv",
    "summary.json",
    "territories.csv",
];

/// The sub-directory of plots, which holds only `.svg` and `.png` files.
const PLOTS_DIR: &str = "plots";

/// A file staged outside the output directory (the trials file), committed
/// with it.
#[derive(Debug)]
struct StagedFile {
    staging: PathBuf,
    target: PathBuf,
}

/// An output directory being written.
#[derive(Debug)]
pub struct OutputDir {
    /// The target as resolved (symbolic links of its folder followed):
    /// what is checked and what is renamed.
    target: PathBuf,
    /// The target as the user gave it, returned by [`Self::commit`].
    shown: PathBuf,
    staging: PathBuf,
    inputs: Vec<PathBuf>,
    extra: Option<StagedFile>,
    /// Files staged inside the directory by [`Self::stage_file`], relative
    /// to it: listed in the marker, so the next run knows them as its own.
    inside: Vec<String>,
    /// Tests only: make the directory's rename fail, after the trials
    /// file's went in, to exercise the rollback.
    #[cfg(test)]
    fail_dir_swap: bool,
}

impl OutputDir {
    /// Start writing the output that will replace `target`; `inputs` are the
    /// run's input files, which the output must never contain.
    ///
    /// # Errors
    /// `Error::Usage` when `target` is not something salesplan may replace
    /// (see the module docs); `Error::Io` if the staging directory cannot be
    /// created.
    pub fn create(target: &Path, inputs: &[&Path]) -> Result<Self> {
        let (parent, name) = split(target)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let inputs: Vec<PathBuf> = inputs.iter().map(|p| resolve(p)).collect();
        let resolved = parent.join(&name);
        {
            // Under the lock: another run may be committing into `target`.
            let _lock = lock_dir(&parent)?;
            clean_stale(&parent, &name, &resolved)?;
            // The path as given (a symbolic link is refused), then as
            // resolved (what will be renamed).
            check_replaceable(target, &inputs)?;
            check_replaceable(&resolved, &inputs)?;
        }
        let staging = parent.join(staging_name(&name));
        std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(Self {
            target: resolved,
            shown: target.to_path_buf(),
            staging,
            inputs,
            extra: None,
            inside: Vec::new(),
            #[cfg(test)]
            fail_dir_swap: false,
        })
    }

    /// Path of `name` inside the staging directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// Write `bytes` to `name` (sub-directories are created).
    ///
    /// # Errors
    /// `Error::Io` naming the file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(name);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    }

    /// Stage a file that is to appear at `target` when the output is
    /// committed (the `--export-trials` file): returns the path to write it
    /// to. A target inside the output directory is written into the staged
    /// directory; one elsewhere into a temporary sibling, renamed into place
    /// with the directory.
    ///
    /// # Errors
    /// `Error::Usage` when `target` is an input of the run or is not a
    /// regular file; `Error::Io` if its folder cannot be created.
    pub fn stage_file(&mut self, target: &Path) -> Result<PathBuf> {
        let resolved = resolve(target);
        if self.inputs.contains(&resolved) {
            return Err(Error::Usage(format!(
                "'{}' is an input of this run; salesplan will not write over it",
                target.display()
            )));
        }
        if let Ok(inside) = resolved.strip_prefix(&self.target) {
            let path = self.staging.join(inside);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
            }
            self.inside.push(inside.to_string_lossy().into_owned());
            return Ok(path);
        }
        if let Ok(meta) = std::fs::symlink_metadata(target) {
            if !meta.is_file() {
                return Err(Error::Usage(format!(
                    "'{}' exists and is not a regular file; salesplan replaces only a file",
                    target.display()
                )));
            }
        }
        let (parent, name) = split(target)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        {
            let _lock = lock_dir(&parent)?;
            clean_stale(&parent, &name, target)?;
        }
        let staging = parent.join(staging_name(&name));
        self.extra = Some(StagedFile {
            staging: staging.clone(),
            target: target.to_path_buf(),
        });
        Ok(staging)
    }

    /// Replace the target (and the staged file, if any) with what was
    /// written; on failure everything is put back as it was.
    ///
    /// # Errors
    /// `Error::Usage` if the target became something salesplan may not
    /// replace while the run was working; `Error::Io` if a rename fails.
    pub fn commit(mut self) -> Result<PathBuf> {
        let mut marker = MARKER_TEXT.to_string();
        for f in &self.inside {
            marker.push_str(&format!("{ALSO_WROTE}{f}\n"));
        }
        marker.push_str(&format!("{PLOTS_LISTED}\n"));
        let plots = self.staging.join(PLOTS_DIR);
        if plots.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(&plots)
                .map_err(|e| Error::io(&plots, e))?
                .map(|e| {
                    e.map(|e| e.file_name().to_string_lossy().into_owned())
                        .map_err(|e| Error::io(&plots, e))
                })
                .collect::<Result<_>>()?;
            names.sort();
            for name in names {
                marker.push_str(&format!("{PLOT_LINE}{name}\n"));
            }
        }
        self.write(MARKER, marker.as_bytes())?;
        // Both folders locked, in a fixed order (no deadlock between runs).
        let (parent, _) = split(&self.target)?;
        let mut folders = vec![parent];
        if let Some(f) = &self.extra {
            folders.push(split(&f.target)?.0);
        }
        folders.sort();
        folders.dedup();
        let _locks = folders
            .iter()
            .map(|d| lock_dir(d))
            .collect::<Result<Vec<_>>>()?;
        check_replaceable(&self.target, &self.inputs)?;
        if let Some(f) = &self.extra {
            if let Ok(meta) = std::fs::symlink_metadata(&f.target) {
                if !meta.is_file() {
                    return Err(Error::Usage(format!(
                        "'{}' became something other than a regular file during the run; \
                         salesplan replaces only a file",
                        f.target.display()
                    )));
                }
            }
        }
        let extra = self.extra.take();
        let file_backup = match &extra {
            Some(f) => Some(swap_in(&f.staging, &f.target)?),
            None => None,
        };
        #[cfg(test)]
        if self.fail_dir_swap {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        let dir_swap = match swap_in(&self.staging, &self.target) {
            Ok(b) => b,
            Err(e) => {
                if let (Some(f), Some(b)) = (&extra, &file_backup) {
                    swap_back(&f.target, b);
                }
                return Err(e);
            }
        };
        let backups = [Some(dir_swap), file_backup].into_iter().flatten();
        for backup in backups.filter_map(|s| s.backup) {
            let _ = remove_any(&backup);
        }
        Ok(self.shown.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        // Only left behind when commit was not reached or failed.
        if self.staging.exists() {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        if let Some(f) = &self.extra {
            let _ = std::fs::remove_file(&f.staging);
        }
    }
}

/// The folder and the file name of `target`.
fn split(target: &Path) -> Result<(PathBuf, String)> {
    let resolved = resolve(target);
    let name = resolved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::Usage(format!(
                "'{}' names no directory salesplan can write into; give a folder name",
                target.display()
            ))
        })?;
    let parent = resolved
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    Ok((parent, name))
}

/// A fresh staging name of this process for `name`:
/// `.NAME.partial-PID-N`, N counting the outputs this process staged.
fn staging_name(name: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(".{name}.partial-{}-{n}", std::process::id())
}

/// `path` made absolute with its existing part's symbolic links resolved
/// (the rest is appended as written, `..` and `.` removed).
fn resolve(path: &Path) -> PathBuf {
    let clean = crate::paths::lexically_absolute(path);
    let mut existing = clean.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(p), Some(n)) => {
                rest.push(n.to_os_string());
                existing = p;
            }
            _ => return clean,
        }
    }
}

/// Refuse a `target` that salesplan did not write (see the module docs).
fn check_replaceable(target: &Path, inputs: &[PathBuf]) -> Result<()> {
    let shown = target.display();
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return Ok(()); // nothing there yet
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Usage(format!(
            "output '{shown}' is a symbolic link; give the directory it points to, or a new folder"
        )));
    }
    if !meta.is_dir() {
        return Err(Error::Usage(format!(
            "output '{shown}' is an existing file, not an output directory; salesplan will not \
             replace it: choose another --out (or [output] dir)"
        )));
    }
    let real = resolve(target);
    if let Some(input) = inputs.iter().find(|i| i.starts_with(&real)) {
        return Err(Error::Usage(format!(
            "output '{shown}' holds '{}', an input of this run; salesplan replaces the whole \
             output directory, so choose a folder that holds no input",
            input.display()
        )));
    }
    let inputs: BTreeSet<&PathBuf> = inputs.iter().collect();
    if let Some(found) = find_input_link(&real, &inputs)? {
        return Err(Error::Usage(format!(
            "output '{shown}' holds '{}', which resolves to an input of this run; choose \
             a folder that holds no input",
            found.display()
        )));
    }
    let marker = Marker::read(target);
    if let Some(foreign) = foreign_entry(target, marker.as_ref())? {
        let why = if marker.is_some() {
            format!("holds '{foreign}', which salesplan did not write there")
        } else {
            format!(
                "has no {MARKER} marker and holds '{foreign}': salesplan replaces a folder \
                 it did not mark only when it is empty"
            )
        };
        return Err(Error::Usage(format!(
            "output '{shown}' {why}; salesplan replaces the whole output directory, so move \
             that file or choose a new or empty folder"
        )));
    }
    Ok(())
}

/// The first entry under `dir` (recursively, symbolic links resolved but not
/// followed into) that is one of `inputs`.
fn find_input_link(dir: &Path, inputs: &BTreeSet<&PathBuf>) -> Result<Option<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if let Ok(real) = path.canonicalize() {
            if inputs.contains(&real)
                || inputs
                    .iter()
                    .any(|i| i.starts_with(&real) && kind.is_symlink())
            {
                return Ok(Some(path));
            }
        }
        if kind.is_dir() {
            if let Some(found) = find_input_link(&path, inputs)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// What a directory's marker says the run that wrote it put there.
struct Marker {
    /// The top-level names written besides the outputs (a trials file).
    also: Vec<String>,
    /// The files written in `plots/`; `None` for an earlier version's
    /// marker, which did not list them.
    plots: Option<Vec<String>>,
}

impl Marker {
    /// The marker of `dir`; `None` without one.
    fn read(dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
        let also = text
            .lines()
            .filter_map(|l| l.strip_prefix(ALSO_WROTE))
            .filter_map(|f| Path::new(f).components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let plots = text.lines().any(|l| l == PLOTS_LISTED).then(|| {
            text.lines()
                .filter_map(|l| l.strip_prefix(PLOT_LINE))
                .map(str::to_string)
                .collect()
        });
        Some(Self { also, plots })
    }
}

/// The first entry of `dir` that salesplan did not write there, if any:
/// without a marker, any entry (a folder it did not mark is replaced only
/// when empty: a user's own `quotas.csv` or `plots/logo.png` in it had been
/// replaced, a helper's probe in session 30); with one, any but the
/// outputs' names, what the marker lists besides them, and in `plots/` the
/// files it lists (an earlier version's marker: any `.svg` or `.png`).
fn foreign_entry(dir: &Path, marker: Option<&Marker>) -> Result<Option<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(marker) = marker else {
            return Ok(Some(name));
        };
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        if marker.also.contains(&name) {
            continue;
        }
        if name == PLOTS_DIR && kind.is_dir() {
            if let Some(plot) = foreign_plot(&entry.path(), marker.plots.as_deref())? {
                return Ok(Some(format!("{PLOTS_DIR}/{plot}")));
            }
            continue;
        }
        if !(kind.is_file() && OUTPUT_FILES.contains(&name.as_str())) {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// The first entry of the plots folder `dir` that is not a file `listed`
/// (`None`: any `.svg` or `.png` file), if any.
fn foreign_plot(dir: &Path, listed: Option<&[String]>) -> Result<Option<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry
            .file_type()
            .map_err(|e| Error::io(&path, e))?
            .is_file();
        let ours = match listed {
            Some(listed) => listed.contains(&name),
            None => matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("svg" | "png")
            ),
        };
        if !(is_file && ours) {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Move `target` aside (if present) and `staged` into its place; returns
/// the moved-aside copy. On failure the target is put back.
fn swap_in(staged: &Path, target: &Path) -> Result<Swapped> {
    let ours = identity(staged).ok_or_else(|| {
        Error::io(
            staged,
            std::io::Error::other("the staged output disappeared"),
        )
    })?;
    let backup = match std::fs::symlink_metadata(target) {
        Ok(_) => {
            let (parent, name) = split(target)?;
            let backup = parent.join(format!("{}.previous", staging_name(&name)));
            std::fs::rename(target, &backup).map_err(|e| Error::io(target, e))?;
            Some(backup)
        }
        Err(_) => None,
    };
    if let Err(e) = std::fs::rename(staged, target) {
        if let Some(b) = &backup {
            let _ = std::fs::rename(b, target);
        }
        return Err(Error::io(target, e));
    }
    Ok(Swapped { backup, ours })
}

/// What [`swap_in`] did: where the previous entry went, and the identity
/// (device, inode) of the entry it put in its place.
struct Swapped {
    backup: Option<PathBuf>,
    ours: (u64, u64),
}

/// The (device, inode) of the entry at `path` itself (not what a symlink
/// points to).
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Undo a [`swap_in`]: the new `target` is removed, only if it is still the
/// entry the swap put there (another process may have replaced it since),
/// and the previous one, if there was one, put back.
fn swap_back(target: &Path, swapped: &Swapped) {
    if identity(target) == Some(swapped.ours) {
        let _ = remove_any(target);
    }
    if let Some(b) = &swapped.backup {
        if identity(target).is_none() {
            let _ = std::fs::rename(b, target);
        }
    }
}

/// Remove a file or a directory tree.
fn remove_any(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
    .map_err(|e| Error::io(path, e))
}

/// Tidy what killed runs left beside `target` (named `name` in `parent`):
/// staging entries of dead processes go; a moved-aside previous output is
/// restored when the target is missing, else left where it is.
fn clean_stale(parent: &Path, name: &str, target: &Path) -> Result<()> {
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    let mut stale: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let (pid, previous) = match rest.strip_suffix(".previous") {
            Some(pid) => (pid, true),
            None => (rest, false),
        };
        let pid = pid.split('-').next().unwrap_or_default();
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && process_is_gone(pid) {
            stale.push((entry.path(), previous));
        }
    }
    // Restore before removing, so a restored copy is never removed.
    stale.sort_by_key(|(_, previous)| !previous);
    for (path, previous) in stale {
        if !previous {
            remove_any(&path)?;
        } else if std::fs::symlink_metadata(target).is_err() {
            std::fs::rename(&path, target).map_err(|e| Error::io(&path, e))?;
        }
        // A previous copy beside a present target is left alone: a run
        // killed between its two renames leaves the new trials file with
        // the old directory, and that copy is the only previous trials file.
    }
    Ok(())
}

/// Whether process `pid` has ended (false when that cannot be told).
fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// An exclusive lock on `dir`, held until the returned handle drops (none
/// where directories cannot be opened).
fn lock_dir(dir: &Path) -> Result<Option<std::fs::File>> {
    let Ok(handle) = std::fs::File::open(dir) else {
        return Ok(None);
    };
    handle.lock().map_err(|e| Error::io(dir, e))?;
    Ok(Some(handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn commit_one(target: &Path, inputs: &[&Path], file: &str) -> Result<PathBuf> {
        let out = OutputDir::create(target, inputs)?;
        out.write("forecast.csv", file.as_bytes())?;
        out.commit()
    }

    #[test]
    fn a_folder_holding_an_input_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("data/sales.csv");
        write(&input, "date,territory,amount\n");
        let err = commit_one(&dir.path().join("data"), &[&input], "x").unwrap_err();
        assert!(err.to_string().contains("an input of this run"), "{err}");
        assert_eq!(err.exit_code(), 2);
        assert!(input.is_file());
        // The scenario's own folder (an ancestor of the input) too.
        let err = commit_one(dir.path(), &[&input], "x").unwrap_err();
        assert!(err.to_string().contains("an input of this run"), "{err}");
    }

    #[test]
    fn a_link_to_an_input_inside_the_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("data/sales.csv");
        write(&input, "x\n");
        let out = dir.path().join("out");
        write(&out.join(MARKER), MARKER_TEXT);
        std::fs::create_dir_all(out.join("sub")).unwrap();
        std::os::unix::fs::symlink(&input, out.join("sub/link.csv")).unwrap();
        let err = commit_one(&out, &[&input], "x").unwrap_err();
        assert!(err.to_string().contains("resolves to an input"), "{err}");
        assert!(out.join("sub/link.csv").exists());
    }

    #[test]
    fn a_regular_file_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.txt");
        write(&file, "mine");
        let err = commit_one(&file, &[], "x").unwrap_err();
        assert!(err.to_string().contains("is an existing file"), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_foreign_folder_is_refused_an_old_output_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("docs");
        write(&foreign.join("thesis.docx"), "mine");
        let err = commit_one(&foreign, &[], "x").unwrap_err();
        assert!(err.to_string().contains("'thesis.docx'"), "{err}");
        assert!(foreign.join("thesis.docx").is_file());

        // A folder without a marker is replaced only when empty, even if
        // its names are salesplan's (a user's own quotas.csv or plot).
        let old = dir.path().join("old");
        write(&old.join("forecast.csv"), "old");
        write(&old.join("plots/company.svg"), "<svg/>");
        let err = commit_one(&old, &[], "new").unwrap_err();
        assert!(
            err.to_string().contains("no .salesplan-output marker"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(old.join("forecast.csv")).unwrap(),
            "old"
        );
        std::fs::remove_dir_all(&old).unwrap();
        std::fs::create_dir_all(&old).unwrap();
        commit_one(&old, &[], "new").unwrap();
        assert!(old.join(MARKER).is_file());

        // A marked output whose plots/ holds a file the run did not write
        // (a user's logo) is refused, the file kept; its own plots are
        // listed in the marker and replaced.
        write(&old.join("plots/logo.png"), "mine");
        let err = commit_one(&old, &[], "newer").unwrap_err();
        assert!(err.to_string().contains("'plots/logo.png'"), "{err}");
        assert!(old.join("plots/logo.png").is_file());
        std::fs::remove_dir_all(old.join("plots")).unwrap();
        let out = OutputDir::create(&old, &[]).unwrap();
        out.write("plots/fit_1.svg", b"<svg/>").unwrap();
        out.commit().unwrap();
        let marker = std::fs::read_to_string(old.join(MARKER)).unwrap();
        assert!(marker.contains("plot: fit_1.svg"), "{marker}");
        commit_one(&old, &[], "again").unwrap();
        assert!(!old.join("plots").exists());

        // A marked output with a user's file in it is refused, the file kept.
        write(&old.join("scratch.txt"), "x");
        let err = commit_one(&old, &[], "newer").unwrap_err();
        assert!(err.to_string().contains("did not write there"), "{err}");
        assert!(old.join("scratch.txt").is_file());

        // An empty folder is fine.
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        commit_one(&empty, &[], "x").unwrap();
    }

    #[test]
    fn a_failed_run_keeps_the_previous_output_and_trials_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let trials = dir.path().join("t/trials.parquet");
        let mut first = OutputDir::create(&out, &[]).unwrap();
        std::fs::write(first.stage_file(&trials).unwrap(), "trials 1").unwrap();
        first.write("forecast.csv", b"run 1").unwrap();
        first.commit().unwrap();

        // The second run fails before its commit: nothing changes.
        {
            let mut second = OutputDir::create(&out, &[]).unwrap();
            std::fs::write(second.stage_file(&trials).unwrap(), "trials 2").unwrap();
            second.write("forecast.csv", b"run 2").unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(out.join("forecast.csv")).unwrap(),
            "run 1"
        );
        assert_eq!(std::fs::read_to_string(&trials).unwrap(), "trials 1");

        // The third fails inside the commit, after the trials file went in:
        // the directory's rename fails, and the trials file is rolled back.
        let mut third = OutputDir::create(&out, &[]).unwrap();
        std::fs::write(third.stage_file(&trials).unwrap(), "trials 3").unwrap();
        third.fail_dir_swap = true; // the directory's rename fails
        assert!(third.commit().is_err());
        assert_eq!(
            std::fs::read_to_string(out.join("forecast.csv")).unwrap(),
            "run 1"
        );
        assert_eq!(std::fs::read_to_string(&trials).unwrap(), "trials 1");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .chain(std::fs::read_dir(dir.path().join("t")).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(left.iter().all(|n| !n.contains("partial")), "{left:?}");
    }

    #[test]
    fn a_trials_file_inside_the_output_is_part_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut o = OutputDir::create(&out, &[]).unwrap();
        std::fs::write(o.stage_file(&out.join("trials.parquet")).unwrap(), "t").unwrap();
        o.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("trials.parquet")).unwrap(),
            "t"
        );
        let input = dir.path().join("sales.parquet");
        write(&input, "data");
        let mut o = OutputDir::create(&out, &[&input]).unwrap();
        let err = o.stage_file(&input).unwrap_err();
        assert!(err.to_string().contains("an input of this run"), "{err}");
    }

    #[test]
    fn stale_partials_are_removed_and_a_lost_previous_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // A pid far above any kernel's pid_max is never alive.
        let dead = 999_999_999u32;
        write(
            &dir.path()
                .join(format!(".out.partial-{dead}-0/forecast.csv")),
            "half",
        );
        write(
            &dir.path()
                .join(format!(".out.partial-{dead}-0.previous/forecast.csv")),
            "last good",
        );
        // A committed output carries its marker.
        write(
            &dir.path()
                .join(format!(".out.partial-{dead}-0.previous/{MARKER}")),
            MARKER_TEXT,
        );
        let o = OutputDir::create(&out, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("forecast.csv")).unwrap(),
            "last good"
        );
        assert!(!dir.path().join(format!(".out.partial-{dead}-0")).exists());
        drop(o);
        // With the target present, a stale previous copy is left alone.
        write(
            &dir.path()
                .join(format!(".out.partial-{dead}-0.previous/forecast.csv")),
            "older",
        );
        commit_one(&out, &[], "new").unwrap();
        assert!(dir
            .path()
            .join(format!(".out.partial-{dead}-0.previous"))
            .exists());
        // A live process's staging is left alone.
        let live = dir.path().join(format!(".out.partial-{}-0", 1));
        std::fs::create_dir_all(&live).unwrap();
        commit_one(&out, &[], "newer").unwrap();
        assert!(live.exists());
    }

    #[test]
    fn a_rollback_removes_only_what_it_put_there() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let staged = dir.path().join(".out.partial");
        write(&target.join("old.csv"), "previous");
        write(&staged.join("new.csv"), "ours");
        let swapped = swap_in(&staged, &target).unwrap();
        // Another process replaced the output meanwhile: the rollback
        // leaves its entry alone and keeps the previous one aside.
        let ours = dir.path().join("ours-moved");
        std::fs::rename(&target, &ours).unwrap();
        write(&target.join("theirs.csv"), "theirs");
        swap_back(&target, &swapped);
        assert_eq!(
            std::fs::read_to_string(target.join("theirs.csv")).unwrap(),
            "theirs"
        );
        let previous = swapped.backup.as_ref().unwrap();
        assert_eq!(
            std::fs::read_to_string(previous.join("old.csv")).unwrap(),
            "previous"
        );
        // Undisturbed, the rollback puts the previous output back.
        std::fs::remove_dir_all(&target).unwrap();
        std::fs::rename(&ours, &target).unwrap();
        swap_back(&target, &swapped);
        assert_eq!(
            std::fs::read_to_string(target.join("old.csv")).unwrap(),
            "previous"
        );
    }

    #[test]
    fn concurrent_commits_never_mix() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let out = out.clone();
                std::thread::spawn(move || {
                    let o = OutputDir::create(&out, &[]).unwrap();
                    for f in ["forecast.csv", "fit.csv", "quotas.csv"] {
                        o.write(f, format!("{i}").as_bytes()).unwrap();
                    }
                    o.commit().unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
        assert_eq!(read("forecast.csv"), read("fit.csv"));
        assert_eq!(read("forecast.csv"), read("quotas.csv"));
    }
}
