//! Paths as a user wrote them, made absolute without touching the file
//! system beyond the working directory.

use std::path::{Component, Path, PathBuf};

/// `path` made absolute against the working directory with `.` and `..`
/// resolved by name (the file need not exist): where a relative path in a
/// scenario or on the command line points.
pub fn lexically_absolute(path: &Path) -> PathBuf {
    let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in full.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_resolved_by_name() {
        let p = lexically_absolute(Path::new("/a/b/../c/./d.csv"));
        assert_eq!(p, PathBuf::from("/a/c/d.csv"));
        assert!(lexically_absolute(Path::new("x.csv")).is_absolute());
    }
}
