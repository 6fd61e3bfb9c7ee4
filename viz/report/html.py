"""The HTML of a run report: one self-contained, printable page (inline CSS and images, no
script, no network), A4 with a page break before each section."""

from __future__ import annotations

from html import escape

#: The page's style: screen and print (A4, a page break before each section but the first).
CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 10pt; color: #1a1a1a;
       max-width: 190mm; margin: 0 auto; padding: 8mm 0; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 13pt; border-bottom: 1px solid #999; padding-bottom: 1mm; margin-top: 0; }
h3 { font-size: 11pt; margin: 4mm 0 2mm 0; }
p.meta { color: #444; margin: 0 0 1mm 0; }
p.note { background: #f3f3f3; border-left: 3px solid #999; padding: 2mm 3mm; }
section { margin-top: 10mm; }
figure { margin: 3mm 0; break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 8.5pt; color: #444; margin-top: 1mm; }
table { border-collapse: collapse; margin: 2mm 0 4mm 0; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #ddd; padding: 1mm 2mm; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
td.number, th.number { text-align: right; }
tr { break-inside: avoid; }
pre { white-space: pre-wrap; font-size: 8pt; background: #f7f7f7; padding: 3mm; border: 1px solid #ddd; }
@media print {
  body { max-width: none; padding: 0; }
  section { break-before: page; margin-top: 0; }
  section:first-of-type { break-before: auto; }
}
"""


def text(value) -> str:
    """``value`` as HTML-escaped text."""
    return escape(str(value), quote=True)


def attributes(attrs: dict) -> str:
    """HTML attributes ``name="value"`` (values escaped), each after a space."""
    return "".join(f' {name}="{text(value)}"' for name, value in attrs.items())


def _cells(tag: str, values: list[str], numeric: tuple) -> str:
    return "".join(f"<{tag}{attributes({'class': 'number'}) if k in numeric else ''}>{text(v)}</{tag}>"
                   for k, v in enumerate(values))


def table(headers: list[str], rows: list[list[str]], *, numeric: tuple = (), row_attrs: list[dict] | None = None,
          css_class: str | None = None) -> str:
    """A table of text (cells are escaped).

    Parameters
    ----------
    headers : list of str
    rows : list of list of str
    numeric : tuple of int
        Columns aligned right.
    row_attrs : list of dict, optional
        Attributes of each ``<tr>`` (e.g. ``{"data-key": …}``).
    css_class : str, optional
        Class of the ``<table>``.
    """
    attrs = row_attrs or [{}] * len(rows)
    body = "".join(f"<tr{attributes(a)}>{_cells('td', r, numeric)}</tr>" for r, a in zip(rows, attrs))
    head = f"<thead><tr>{_cells('th', headers, numeric)}</tr></thead>"
    return f"<table{attributes({'class': css_class}) if css_class else ''}>{head}<tbody>{body}</tbody></table>"


def figure(uri: str, alt: str, caption: str) -> str:
    """An embedded image (a ``data:`` URI) with its caption."""
    return f'<figure><img src="{uri}" alt="{text(alt)}"><figcaption>{text(caption)}</figcaption></figure>'


def note(words: str) -> str:
    """A note in place of a section's content (why it is not there)."""
    return f'<p class="note">{text(words)}</p>'


def section(anchor: str, title: str, body: str) -> str:
    """A section of the page, starting a new printed page."""
    return f'<section id="{text(anchor)}"><h2>{text(title)}</h2>{body}</section>'


def page(title: str, header: str, sections: list[str]) -> str:
    """The whole page."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{text(title)}</title><style>{CSS}</style></head>"
            f"<body><header>{header}</header>{''.join(sections)}</body></html>\n")
