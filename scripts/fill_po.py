"""Fill empty msgstr entries of a .po file from a JSON dictionary of translations (msgid → msgstr).

Usage: python scripts/fill_po.py src/rempart/locale/fr/LC_MESSAGES/django.po translations/fr.json
Entries already translated are kept; the fuzzy flags Django's makemessages adds are removed
for the entries filled here. Hand-written because the project needs no gettext library for it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ENTRY = re.compile(r'((?:#.*\n)*)msgid ((?:"(?:[^"\\]|\\.)*"\n)+)msgstr ((?:"(?:[^"\\]|\\.)*"\n)+)')


def _join(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"\n'


def fill(po_text: str, translations: dict[str, str]) -> tuple[str, list[str]]:
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        comments, msgid_block, msgstr_block = match.groups()
        fuzzy = "#, fuzzy" in comments
        msgid = (
            _join(msgid_block).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        )
        if not msgid:
            return match.group(0)
        current = _join(msgstr_block)
        if current and not fuzzy:
            return match.group(0)
        if msgid not in translations:
            missing.append(msgid)
            return match.group(0)
        # A filled entry is no longer fuzzy: drop the flag and the previous-msgid hints.
        kept = "".join(
            line + "\n" for line in comments.splitlines() if not line.startswith(("#, fuzzy", "#|"))
        )
        return f"{kept}msgid {msgid_block.rstrip()}\nmsgstr {_quote(translations[msgid])}"

    return ENTRY.sub(replace, po_text), missing


def main() -> int:
    po_path, json_path = Path(sys.argv[1]), Path(sys.argv[2])
    text, missing = fill(po_path.read_text(), json.loads(json_path.read_text()))
    po_path.write_text(text)
    for msgid in missing:
        print(f"untranslated: {msgid}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
