//! The `smartpos esign render` contract of issue #18: strokes JSON in, JBIG or PNG out; a file
//! with no strokes, out-of-range points or bad JSON exits 2.

use std::path::{Path, PathBuf};

mod common;
use common::{json_with_exit, ok_json, smartpos};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/esign/fixtures")
}

fn render(args: &[&str]) -> std::process::Output {
    let mut all = vec!["esign", "render"];
    all.extend_from_slice(args);
    smartpos(&all)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

#[test]
fn a_signature_renders_to_the_jbig_jbigkit_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sig.jbg");
    let strokes = fixtures().join("signature.json");
    let doc = ok_json(&render(&[
        "--strokes",
        path(&strokes),
        "--out",
        path(&out),
        "--json",
    ]));
    assert_eq!(doc["format"], "jbig");
    assert_eq!(
        (doc["width"].as_u64(), doc["height"].as_u64()),
        (Some(384), Some(128))
    );
    let written = std::fs::read(&out).expect("output");
    // signature-384x128.jbg: jbigkit 2.1 `pbmtojbg -q -p 8 -m 0 -s 128` of the same raster.
    let reference = std::fs::read(fixtures().join("signature-384x128.jbg")).expect("fixture");
    assert_eq!(written, reference);
    assert_eq!(doc["bytes"].as_u64(), Some(written.len() as u64));
    assert!(written.len() < 1024);
}

#[test]
fn png_by_flag_or_by_extension_and_any_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let strokes = fixtures().join("signature.json");
    for (name, extra) in [("a.png", &[][..]), ("b.img", &["--format", "png"][..])] {
        let out = dir.path().join(name);
        let mut args = vec!["--strokes", path(&strokes), "--out", path(&out)];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--width", "200", "--height", "80"]);
        let o = render(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let png = std::fs::read(&out).expect("output");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        // IHDR width and height.
        assert_eq!(&png[16..24], &[0, 0, 0, 200, 0, 0, 0, 80], "{name}");
    }
}

#[test]
fn bad_strokes_files_exit_2_with_a_json_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.jbg");
    let cases = [
        (
            "empty",
            r#"{"width": 100, "height": 50, "strokes": []}"#,
            "no strokes",
        ),
        (
            "empty strokes",
            r#"{"width": 100, "height": 50, "strokes": [[]]}"#,
            "no strokes",
        ),
        (
            "off pad",
            r#"{"width": 100, "height": 50, "strokes": [[[10, 50, 0]]]}"#,
            "outside",
        ),
        (
            "negative",
            r#"{"width": 100, "height": 50, "strokes": [[[-1, 5, 0]]]}"#,
            "outside",
        ),
        (
            "bad json",
            r#"{"width": 100, "height": 50, "strokes": [[[1, 2, 0]]"#,
            "JSON",
        ),
        ("not strokes", r#"[1, 2, 3]"#, "JSON"),
    ];
    for (name, text, says) in cases {
        let file = dir.path().join(format!("{}.json", name.replace(' ', "_")));
        std::fs::write(&file, text).expect("write");
        let doc = json_with_exit(
            &render(&["--strokes", path(&file), "--out", path(&out), "--json"]),
            2,
        );
        assert_eq!(doc["error"]["code"], "bad_input", "{name}");
        let message = doc["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{name}: {message}");
    }
    assert!(!out.exists(), "nothing is written for bad input");
    let missing = dir.path().join("missing.json");
    let o = render(&["--strokes", path(&missing), "--out", path(&out)]);
    assert_eq!(o.status.code(), Some(2));
    let o = render(&[
        "--strokes",
        path(&fixtures().join("signature.json")),
        "--out",
        path(&out),
        "--width",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn show_reads_jbigkit_files_and_refuses_junk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sig.pbm");
    // jbigkit's defaults (3-line stripes, TPDON, DPON): the same raster as our own file.
    let jbg = fixtures().join("signature-384x128-default.jbg");
    let doc = ok_json(&smartpos(&[
        "esign",
        "show",
        path(&jbg),
        "--out",
        path(&out),
        "--json",
    ]));
    assert_eq!(
        (doc["width"].as_u64(), doc["height"].as_u64()),
        (Some(384), Some(128))
    );
    let pbm = std::fs::read(fixtures().join("signature-384x128.pbm")).expect("fixture");
    assert_eq!(std::fs::read(&out).expect("output"), pbm);
    let junk = dir.path().join("junk.jbg");
    std::fs::write(&junk, b"not jbig").expect("write");
    let o = smartpos(&["esign", "show", path(&junk), "--out", path(&out)]);
    assert_eq!(o.status.code(), Some(2));
}
