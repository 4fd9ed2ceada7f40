# Paragraphs of rendered man pages per language: a labelled multilingual test set, written to
# paras.json in the current folder (benches/langdetect/run.sh runs it in a temporary one).
import os, random, subprocess, json, glob, re
random.seed(42)
langs = {"en": "/usr/share/man/man1", "de": "/usr/share/man/de/man1", "fr": "/usr/share/man/fr/man1",
         "es": "/usr/share/man/es/man1", "it": "/usr/share/man/it/man1", "pl": "/usr/share/man/pl/man1",
         "nl": "/usr/share/man/nl/man1", "ru": "/usr/share/man/ru/man1"}
out = []
for lang, d in langs.items():
    files = sorted(glob.glob(d + "/*.gz"))
    random.shuffle(files)
    paras = []
    for f in files[:80]:
        try:
            txt = subprocess.run(["man", "-l", f], capture_output=True, text=True, timeout=20,
                                 env={**os.environ, "MANWIDTH": "2000", "LANG": "C.UTF-8", "MAN_KEEP_FORMATTING": ""}).stdout
        except Exception:
            continue
        for p in re.split(r"\n\s*\n", txt):
            p = " ".join(p.split())
            # Prose only: long enough, mostly letters, not an option list.
            if len(p) < 40 or p.startswith("-"):
                continue
            letters = sum(c.isalpha() for c in p)
            if letters / len(p) < 0.7:
                continue
            paras.append(p)
    random.shuffle(paras)
    for p in paras[:300]:
        out.append({"lang": lang, "text": p})
    print(lang, len(paras))
json.dump(out, open("paras.json", "w"), ensure_ascii=False)
print(len(out))
