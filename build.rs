//! Embeds the suites shipped in `suites/` (top-level `*.yaml` and `*.yml`, not subdirectories
//! such as `suites/examples/`) by generating an `include_str!` list into `OUT_DIR`.

use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=suites");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let dir = Path::new(&manifest).join("suites");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    names.sort();
    let mut code = String::from(
        "/// Suites embedded from `suites/` at build time: (path, text), sorted by path.\n\
         const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for name in names {
        let full = dir.join(&name);
        code.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            format!("suites/{name}"),
            full.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(Path::new(&out_dir).join("embedded_suites.rs"), code)
        .expect("OUT_DIR is writable during a build");
}
