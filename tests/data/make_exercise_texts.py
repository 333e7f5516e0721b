"""Makes free-exercise-db-texts.json: the names and instructions of free-exercise-db.

free-exercise-db (https://github.com/yuhonas/free-exercise-db, Unlicense: public domain)
ships dist/exercises.json, 873 exercises with images, muscles, equipment and more. The tests
and the benchmark read only each exercise's ``name`` and ``instructions``, so only those are
kept, in the original order (tests pick entries by position).

Usage: python3 tests/data/make_exercise_texts.py path/to/exercises.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).with_name("free-exercise-db-texts.json")


def main(source: str) -> int:
    entries = json.loads(Path(source).read_text(encoding="utf-8"))
    texts = [{"name": e["name"], "instructions": e["instructions"]} for e in entries]
    OUT.write_text(json.dumps(texts, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}: {len(texts)} exercises")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
