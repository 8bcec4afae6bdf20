"""User text inside generated Markdown (runbooks, dashboard text panels), shown as written.

A description such as `*all* <b>requests</b> | 5xx` must not turn into emphasis, HTML or a new
table column, and a line break must not end a table row or a block quote.
"""

import re

# CommonMark's backslash escapes, for the characters that start inline markup, HTML, entities,
# links or (in GFM) table cells and strikethrough.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&~!])")
_BACKTICKS = re.compile(r"`+")
# A web address an autolink shows whole: nothing that ends it early, starts a template or a table cell.
_URL = re.compile(r"https?://[^\s<>|`{}\\]+")


def inline(text: str) -> str:
    """Text as literal inline Markdown, on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def code(text: str) -> str:
    """Text as an inline code span, on one line, safe inside a table cell."""
    text = " ".join(text.splitlines()).replace("|", "\\|")
    fence = "`" * (max(map(len, _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link_or_code(text: str) -> str:
    """An absolute web address as a link, anything else as an inline code span."""
    return f"<{text}>" if _URL.fullmatch(text) else code(text)
