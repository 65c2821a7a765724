//! Atomic output: every command writes its whole output directory into a
//! temporary sibling and renames it into place only when everything has
//! been written, so a directory always holds the files of one complete run
//! and a failed run leaves the previous output intact.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// An output directory being written.
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
}

impl OutputDir {
    /// Start writing the output that will replace `target`.
    ///
    /// # Errors
    /// `Error::Io` if the staging directory cannot be created.
    pub fn create(target: &Path) -> Result<Self> {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            staging,
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

    /// Replace the target with the staged directory.
    ///
    /// # Errors
    /// `Error::Io` if a rename fails (the previous output is then restored).
    pub fn commit(self) -> Result<PathBuf> {
        let backup = self.staging.with_file_name(format!(
            "{}.previous",
            self.staging
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let had_previous = self.target.exists();
        if had_previous {
            std::fs::rename(&self.target, &backup).map_err(|e| Error::io(&self.target, e))?;
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            if had_previous {
                let _ = std::fs::rename(&backup, &self.target);
            }
            return Err(Error::io(&self.target, e));
        }
        if had_previous {
            let _ = std::fs::remove_dir_all(&backup);
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        // Only left behind when commit was not reached.
        if self.staging.exists() {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}
