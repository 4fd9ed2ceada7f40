//! Bad input on every command: exit code 2, the file and value named, nothing written.

use crate::common::{run, stderr};
use crate::input;

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.html");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["audit".into(), "missing.jsonl".into()],
            "missing.jsonl: no such file",
        ),
        (
            vec!["audit".into(), input("nan.csv").display().to_string()],
            "line 3",
        ),
        (
            vec![
                "audit".into(),
                input("bad-line.jsonl").display().to_string(),
            ],
            "line 2: not a JSON object",
        ),
        (
            vec![
                "audit".into(),
                input("tiny.csv").display().to_string(),
                "--k-min".into(),
                "1".into(),
            ],
            "`k_min` = 1",
        ),
        (
            vec![
                "audit".into(),
                input("tiny.csv").display().to_string(),
                "--k-max".into(),
                "1".into(),
            ],
            "`k_max` = 1",
        ),
        (
            vec!["audit".into(), input("tiny.csv").display().to_string()],
            "needs at least k_min + 1 rows",
        ),
        (
            vec![
                "audit".into(),
                input("tiny.jsonl").display().to_string(),
                "--model-dir".into(),
                "/nonexistent".into(),
            ],
            "install-model.sh",
        ),
        (
            vec![
                "embed".into(),
                input("tiny.jsonl").display().to_string(),
                "--out".into(),
                "x.txt".into(),
            ],
            "must end in .npy or .parquet",
        ),
        (
            vec![
                "audit".into(),
                input("tiny.csv").display().to_string(),
                "--k".into(),
                "x".into(),
            ],
            "unexpected argument",
        ),
    ];
    for (mut args, want) in cases {
        if args[0] == "audit" {
            args.extend(["--out".into(), out.display().to_string()]);
        }
        let o = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(want),
            "{args:?}: stderr lacks {want:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert!(!out.exists(), "{args:?} left an output file");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary files left behind"
    );
}
