"""Text from data shown inside Streamlit's markdown elements (st.error, st.success, …).

Those elements render markdown, so a file name or a value such as `[click](http://x)` would
become a link. Every markdown character is backslash-escaped, so data text shows as typed.
"""

from __future__ import annotations

import re

# `&` too: `&lt;img&gt;` would otherwise be decoded to `<img>` (shown, never run, but not as typed).
MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def escape_markdown(text: object) -> str:
    """`text` with every markdown control character escaped."""
    return MARKDOWN.sub(r"\\\1", str(text))
