"""Write evals/sets/sample.{fr,es,ar}.jsonl from the translations in tools/eval_translations/.

Each translated question keeps the English question's gold and key facts (the documents,
and so the quotes, stay in their own language); `notes` names the original.
Usage: python tools/translated_sets.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "evals" / "sets" / "sample.jsonl"
TRANSLATIONS = Path(__file__).resolve().parent / "eval_translations"


def main() -> None:
    originals = {}
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            question = json.loads(line)
            originals[question["id"]] = question
    for path in sorted(TRANSLATIONS.glob("*.json")):
        language = path.stem
        translated = json.loads(path.read_text(encoding="utf-8"))
        lines = []
        for source_id, text in translated.items():
            original = originals[source_id]
            lines.append(
                json.dumps(
                    {
                        "id": f"{language}-{source_id[2:]}",
                        "question": text,
                        "kind": original["kind"],
                        "gold": original["gold"],
                        "key_facts": original["key_facts"],
                        "notes": f"translated from {source_id}",
                    },
                    ensure_ascii=False,
                )
            )
        out = SOURCE.with_name(f"sample.{language}.jsonl")
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{out.relative_to(ROOT)}: {len(lines)} questions")


if __name__ == "__main__":
    main()
