#!/usr/bin/env bash
# whatlang (what `health` uses) against lingua on real multilingual prose: paragraphs of the
# Debian man pages translated into German, French, Spanish, Italian, Polish, Dutch and Russian,
# and the English originals, 300 per language (`extract.py`; needs the manpages-* packages:
# apt-get install manpages manpages-de manpages-fr manpages-es manpages-it manpages-pl
# manpages-nl manpages-ru). Builds each detector in its own crate under a temporary folder
# (build time and binary size are part of the comparison), runs both on each paragraph's first
# 600 and first 80 characters, and scores them. Not part of the test suite.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
python3 "$here/extract.py"
for det in whatlang lingua; do
  mkdir -p "$det/src"
  dep=$([ "$det" = whatlang ] && echo 'whatlang = "0.18"' || echo 'lingua = "1.8"')
  printf '[package]\nname = "%s-cmp"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\n%s\nserde_json = "1"\n[workspace]\n' "$det" "$dep" > "$det/Cargo.toml"
done
cat > whatlang/src/main.rs <<'RS'
fn main() {
    let data: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string("paras.json").unwrap()).unwrap();
    let cut: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let t = std::time::Instant::now();
    let out: Vec<_> = data.iter().map(|d| {
        let text: String = d["text"].as_str().unwrap().chars().take(cut).collect();
        let info = whatlang::detect(&text);
        let raw = info.as_ref().map(|i| i.lang().code().to_string());
        let got = info.filter(|i| i.is_reliable()).map(|i| i.lang().code().to_string());
        serde_json::json!({"lang": d["lang"], "got": got, "raw": raw})
    }).collect();
    eprintln!("whatlang, {cut} chars: {:.2} s", t.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string(&out).unwrap());
}
RS
cat > lingua/src/main.rs <<'RS'
fn main() {
    let data: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string("paras.json").unwrap()).unwrap();
    let cut: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let t = std::time::Instant::now();
    let det = lingua::LanguageDetectorBuilder::from_all_languages().with_preloaded_language_models().build();
    let out: Vec<_> = data.iter().map(|d| {
        let text: String = d["text"].as_str().unwrap().chars().take(cut).collect();
        let got = det.detect_language_of(&text).map(|l| l.iso_code_639_3().to_string());
        serde_json::json!({"lang": d["lang"], "got": got, "raw": got})
    }).collect();
    eprintln!("lingua, {cut} chars: {:.2} s", t.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string(&out).unwrap());
}
RS
for det in whatlang lingua; do
  start=$(date +%s.%N)
  (cd "$det" && cargo build --release -q)
  echo "$det: built in $(echo "$(date +%s.%N) - $start" | bc) s, binary $(stat -c %s "$det/target/release/$det-cmp") bytes"
  for cut in 600 80; do /usr/bin/time -f "  peak %M KB" "$det/target/release/$det-cmp" $cut > "$det-$cut.json"; done
done
python3 - <<'PY'
import json
code = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pl": "pol", "nl": "nld", "ru": "rus"}
for cut in (600, 80):
    wl = json.load(open(f"whatlang-{cut}.json")); li = json.load(open(f"lingua-{cut}.json"))
    # A translated man page keeps some paragraphs in English: where both detectors name the
    # same language other than the label, the label is taken to be wrong and the row left out.
    clean = [(w, l) for w, l in zip(wl, li) if not (w["raw"] == l["got"] and l["got"] != code[w["lang"]])]
    n = len(clean)
    ok = lambda rows, key: sum(r[key] == code[r["lang"]] for r in rows)
    ws = [w for w, _ in clean]; ls = [l for _, l in clean]
    answered = [w for w in ws if w["got"] is not None]
    print(f"first {cut} chars: {n} of {len(wl)} paragraphs scored ({len(wl) - n} left out as untranslated)")
    print(f"  whatlang raw: {ok(ws, 'raw') / n:.3f} correct")
    print(f"  whatlang reliable only (health's use): {len(answered)} answered, {len(answered) - ok(answered, 'got')} of them wrong ({(len(answered) - ok(answered, 'got')) / len(answered):.3f}), {n - len(answered)} undetermined")
    print(f"  lingua: {ok(ls, 'got') / n:.3f} correct (always answers)")
PY
