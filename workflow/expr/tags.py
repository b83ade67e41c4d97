"""Finding `{{ }}` tags the way Argo's template engine (fasttemplate) does.

A tag starts at `{{` and ends at the first `}}` after it; nothing nests, so in `{{ {{x}}` the tag text is
` {{x` (substitution then resolves the inner name, as Argo does). A tag whose text starts with `=` is an
expression tag; any other is a simple tag, whose name is its text with surrounding spaces trimmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.expr.errors import TemplateSyntaxError

SIMPLE, EXPRESSION = "simple", "expression"
# Argo trims a simple tag's name with Go's TrimSpace on the JSON text, where tabs and newlines are already
# escaped (`\n`): only the spaces JSON keeps raw are trimmed, so `{{\n x }}` is not the tag `x` there either.
_JSON_RAW_SPACES = (
    " \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
)


@dataclass(frozen=True, slots=True)
class Tag:
    kind: str  # "simple" or "expression"
    body: str  # simple: the trimmed name; expression: the expression, trimmed
    raw: str  # the text between the braces, as written
    start: int  # offset of `{{` in the text
    end: int  # offset just after `}}`

    @property
    def span(self) -> tuple[int, int]:
        """(start, end) of the whole `{{...}}` in the text."""
        return self.start, self.end

    @property
    def body_start(self) -> int:
        """Offset of `body` in the text, to place errors inside the expression."""
        inner = self.raw[1:] if self.kind == EXPRESSION else self.raw
        lead = len(inner) - len(inner.lstrip() if self.kind == EXPRESSION else inner.lstrip(_JSON_RAW_SPACES))
        return self.start + 2 + (1 if self.kind == EXPRESSION else 0) + lead


def scan(text: str) -> tuple[list[Tag], int | None]:
    """All tags, and the offset of a `{{` left without its `}}` (None when every tag is closed)."""
    tags: list[Tag] = []
    pos = text.find("{{")
    while pos >= 0:
        close = text.find("}}", pos + 2)
        if close < 0:
            return tags, pos
        raw = text[pos + 2 : close]
        if raw.startswith("="):
            tags.append(Tag(EXPRESSION, raw[1:].strip(), raw, pos, close + 2))
        else:
            tags.append(Tag(SIMPLE, raw.strip(_JSON_RAW_SPACES), raw, pos, close + 2))
        pos = text.find("{{", close + 2)
    return tags, None


def tag_bodies(text: str) -> list[tuple[str, str]]:
    """(kind, body) of every closed tag in `text`: `scan` without positions or Tag objects (validation reads
    only these, for every tag of a workflow)."""
    out: list[tuple[str, str]] = []
    pos = text.find("{{")
    while pos >= 0:
        close = text.find("}}", pos + 2)
        if close < 0:
            break
        raw = text[pos + 2 : close]
        if raw.startswith("="):
            out.append((EXPRESSION, raw[1:].strip()))
        else:
            out.append((SIMPLE, raw.strip(_JSON_RAW_SPACES)))
        pos = text.find("{{", close + 2)
    return out


def find_tags(text: str, *, strict: bool = False) -> list[Tag]:
    """The tags in `text`. With `strict`, a `{{` without `}}` is a TemplateSyntaxError (Argo refuses the
    template then); without, it is literal text."""
    if "{{" not in text:
        return []
    tags, unclosed = scan(text)
    if strict and unclosed is not None:
        raise TemplateSyntaxError("'{{' without a closing '}}'", text, unclosed)
    return tags
