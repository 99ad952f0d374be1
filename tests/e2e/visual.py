"""What a presenter would notice first, measured in the browser: error boxes, "None" or "nan"
where a value is missing, and text cut at the edge of its box.

`problems(page)` returns one line per fault on the page as drawn now. Text is cut when an
element's content is wider than its box (`scrollWidth > clientWidth`: Streamlit clips
headings, captions, metric values and labels with an ellipsis) and, inside charts, when an
SVG title, subtitle or label runs past the chart's sides (plotly titles do not wrap).
"""

from __future__ import annotations

import re

# Missing values written as Python or pandas would: never what an analyst should read.
MISSING = re.compile(r"(?<![\w-])(None|nan|NaN|<NA>|NaT)(?![\w-])")
# Text cut by its box: an element that clips what overflows it (an ellipsis, or overflow
# hidden: Streamlit's metric values, labels, headings; a select box's value, an input) and
# holds more text than it shows. Not inside the data grid (its own scrolling canvas), code
# blocks (they scroll) or charts (checked below).
CUT_TEXT = """() => {
  const cut = [];
  for (const el of document.querySelectorAll(
      "[data-testid='stMain'] *, [data-testid='stSidebar'] *")) {
    if (!el.offsetParent || el.closest("[data-testid='stDataFrame'], .js-plotly-plot, "
        + "[data-testid='stVegaLiteChart'], [data-testid='stCode'], pre")) continue;
    const style = getComputedStyle(el);
    const input = el.tagName === "INPUT";  // a select box's value: an input always clips
    if (!input && style.textOverflow !== "ellipsis" && style.overflowX !== "hidden") continue;
    const text = (input ? el.value : el.innerText).trim();
    if (text && el.scrollWidth > el.clientWidth + 1) cut.push(text.slice(0, 80));
  }
  return [...new Set(cut)];
}"""
# Chart text (plotly's title, subtitle, annotations, legend; Vega's titles) inside its SVG.
CUT_CHART_TEXT = """() => {
  const cut = [];
  const charts = document.querySelectorAll(
    ".js-plotly-plot .main-svg, [data-testid='stVegaLiteChart'] svg");
  for (const svg of charts) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;
    for (const text of svg.querySelectorAll("text")) {
      const own = text.getBoundingClientRect();
      if (!own.width || !text.textContent.trim()) continue;
      if (own.right > box.right + 2 || own.left < box.left - 2)
        cut.push(text.textContent.slice(0, 80));
    }
  }
  return cut;
}"""


def problems(page: object) -> list[str]:
    """Every fault of the page as it is drawn now, one line each."""
    found = []
    errors = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    found += [f"error shown: {text[:120]}" for text in errors.all_inner_texts()]
    body = page.inner_text("[data-testid='stApp']")
    found += [f"missing value written as {m!r}" for m in sorted(set(MISSING.findall(body)))]
    found += [f"text cut: {text!r}" for text in page.evaluate(CUT_TEXT)]
    found += [f"chart text cut: {text!r}" for text in page.evaluate(CUT_CHART_TEXT)]
    return found
