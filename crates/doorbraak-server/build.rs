#![allow(clippy::expect_used)] // a build script may stop the build with a message
//! Installs GraphiQL (and the React it runs on) from the npm registry at
//! build time, so the binary serves it itself and the page never reaches
//! for a CDN. Nothing of it is kept in the repository: `graphiql/` holds
//! only the package manifest and its lock file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files the binary embeds, from `node_modules`, and their names in
/// `OUT_DIR/graphiql-assets`.
const ASSETS: [(&str, &str); 4] = [
    ("graphiql/graphiql.min.js", "graphiql.min.js"),
    ("graphiql/graphiql.min.css", "graphiql.min.css"),
    (
        "react/umd/react.production.min.js",
        "react.production.min.js",
    ),
    (
        "react-dom/umd/react-dom.production.min.js",
        "react-dom.production.min.js",
    ),
];

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let manifest = here.join("graphiql/package.json");
    let lock = here.join("graphiql/package-lock.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    println!("cargo:rerun-if-changed={}", lock.display());

    let work = out.join("graphiql-npm");
    std::fs::create_dir_all(&work).expect("create the npm work directory");
    let lock_text = std::fs::read(&lock).expect("read graphiql/package-lock.json");
    let installed = work.join("installed.lock");
    let fresh = std::fs::read(&installed).is_ok_and(|t| t == lock_text)
        && ASSETS
            .iter()
            .all(|(from, _)| work.join("node_modules").join(from).exists());
    if !fresh {
        std::fs::copy(&manifest, work.join("package.json")).expect("copy package.json");
        std::fs::copy(&lock, work.join("package-lock.json")).expect("copy package-lock.json");
        npm_ci(&work);
        std::fs::write(&installed, &lock_text).expect("remember the installed lock");
    }

    let assets = out.join("graphiql-assets");
    std::fs::create_dir_all(&assets).expect("create the assets directory");
    for (from, to) in ASSETS {
        std::fs::copy(work.join("node_modules").join(from), assets.join(to))
            .unwrap_or_else(|e| panic!("GraphiQL asset {from} is missing after npm ci: {e}"));
    }
}

fn npm_ci(dir: &Path) {
    let status = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm ci` for GraphiQL failed ({s}); the build needs Node.js with npm and access to the npm registry"
        ),
        Err(e) => panic!(
            "cannot run npm ({e}); the build needs Node.js with npm, which installs GraphiQL from the npm registry"
        ),
    }
}
