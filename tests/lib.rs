//! Shared helpers of the integration tests: the golden routing corpus reader.
//!
//! The corpus lives in `tests/data/routing/*.jsonl`, one case a line (see its README); the
//! Python and Node test suites read the same files, so the three surfaces route identically.

use std::path::{Path, PathBuf};

use civic_router::Message;
use serde::Deserialize;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// What a golden case expects of the decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Intent id.
    pub intent: String,
    /// Category id.
    pub category: String,
    /// Department id.
    pub department: String,
    /// District id or null.
    #[serde(default)]
    pub district: Option<String>,
    /// Rule ids that must have fired (in any order).
    #[serde(default)]
    pub rules: Option<Vec<String>>,
    /// Whether a human agent must take it.
    #[serde(default)]
    pub handoff: Option<bool>,
    /// Routing entry (`category:…`, `override:…`).
    #[serde(default)]
    pub route: Option<String>,
}

/// One golden case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Name, for failures.
    pub name: String,
    /// Configuration path relative to the repository root.
    pub config: String,
    /// The message.
    pub message: Message,
    /// The expected decision.
    pub expect: Expect,
}

/// Reads every golden case, with its file and line.
pub fn golden_cases() -> Vec<(String, Case)> {
    let dir = repo_root().join("tests/data/routing");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable corpus file");
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{}:{}", f.display(), i + 1);
            let case: Case =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: bad case: {e}"));
            out.push((at, case));
        }
    }
    out
}
