"""Printer models by name, from python-escpos's capability profiles (the escpos-printer-db it ships): the print
line's width in dots, font A's columns, whether a cutter is fitted and the code pages the model knows.

Only the facts are taken from python-escpos. Tickets are still encoded by shopfloor.printer.escpos_text: the
Chinese models print GB18030/GBK in their Chinese mode (FS &), which python-escpos's code-page switching
(ESC t, single-byte tables) does not cover.
"""

from __future__ import annotations

import difflib
import functools
import logging
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from shopfloor.printer.ticket import DOTS_PER_COLUMN, PrinterProfile

if TYPE_CHECKING:
    from shopfloor.settings import PrinterSettings

# the range a ticket's layout supports (shopfloor.printer.ticket.PrinterProfile)
MIN_COLUMNS, MAX_COLUMNS = 24, 64


Cut = Literal["partial", "full", "none"]


class UnknownModel(ValueError):
    """A model name python-escpos has no profile for; the message lists the close ones and all known."""


@dataclass(frozen=True)
class ModelProfile:
    model: str                  # the profile's key, e.g. "TM-T88V"
    name: str                   # its long name, e.g. "TM-T88V"
    columns: int | None         # font A's characters per line; None when the profile does not say
    dots: int | None            # the print line in dots (pixels); None when unknown
    dpi: int | None
    cut: Cut                    # the cut GS V makes: partial where supported, else full; none: tear off
    code_pages: tuple[str, ...]  # single-byte code pages by python-escpos's names

    def ticket_columns(self, given: int | None = None) -> int:
        """The columns a ticket is laid out in: `given` (the site's config), else font A's; refused when they
        do not fit the model's print line (font A is 12 dots wide) or a ticket's layout."""
        columns = given if given is not None else self.columns
        if columns is None or not MIN_COLUMNS <= columns <= MAX_COLUMNS:
            raise ValueError(f"model {self.model!r} prints {columns or 'an unknown number of'} columns in font A; "
                             f"a ticket needs {MIN_COLUMNS}..{MAX_COLUMNS}: give `columns` for this printer")
        if self.dots is not None and columns * DOTS_PER_COLUMN > self.dots:
            raise ValueError(f"model {self.model!r} prints a line of {self.dots} dots: at most "
                             f"{self.dots // DOTS_PER_COLUMN} columns of font A ({DOTS_PER_COLUMN} dots each), "
                             f"not {columns}")
        return columns


@functools.cache
def _capabilities() -> dict[str, Any]:
    """python-escpos's profile database. Importing escpos.capabilities calls logging.basicConfig() (which would
    make our own logging setup a no-op) and pickles the database into a new temporary folder that nothing removes
    (mkdtemp() runs even when $ESCPOS_CAPABILITIES_PICKLE_DIR is set): both undone here, the folder being one
    of ours, removed once the import has read it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    real_mkdtemp = tempfile.mkdtemp
    with tempfile.TemporaryDirectory(prefix="shopfloor-escpos-") as pickles:
        tempfile.mkdtemp = lambda *args, **kwargs: pickles  # type: ignore[assignment]
        try:
            from escpos import capabilities
        finally:
            tempfile.mkdtemp = real_mkdtemp
            for handler in root.handlers[:]:
                if handler not in handlers:
                    root.removeHandler(handler)
            root.setLevel(level)
    data: dict[str, Any] = capabilities.CAPABILITIES
    return data


def known_models() -> list[str]:
    """Every model python-escpos has a profile for, sorted."""
    return sorted(_capabilities()["profiles"], key=str.casefold)


def _number(value: object) -> int | None:
    # the database writes "Unknown" where a width or resolution was not measured
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def model_profile(model: str) -> ModelProfile:
    """The profile of `model` (case-insensitive: "tm-t88v" is "TM-T88V"); UnknownModel names the known ones."""
    by_folded = {name.casefold(): name for name in known_models()}
    key = by_folded.get(model.strip().casefold())
    if key is None:
        close = difflib.get_close_matches(model.strip().casefold(), list(by_folded), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(by_folded[c] for c in close)}? " if close else ""
        raise UnknownModel(f"printer model {model!r} is not one python-escpos knows: {hint}"
                           f"known models: {', '.join(known_models())}")
    from escpos import capabilities  # loaded by known_models() above, without its side effects

    profile = capabilities.get_profile(key)
    data: dict[str, Any] = profile.profile_data
    media = data.get("media", {})
    features = data.get("features", {})
    fonts = data.get("fonts", {})
    return ModelProfile(
        model=key, name=str(data.get("name", key)),
        columns=_number(fonts.get("0", {}).get("columns")),
        dots=_number(media.get("width", {}).get("pixels")), dpi=_number(media.get("dpi")),
        cut="partial" if features.get("paperPartCut") else "full" if features.get("paperFullCut") else "none",
        code_pages=tuple(str(v) for v in data.get("codePages", {}).values()))


def ticket_profile(printer: PrinterSettings) -> PrinterProfile:
    """How documents are laid out for a printer of the site's config: its columns and encoding, and with a model
    named, the model's print line in dots and its cut (none: blank lines to tear off at)."""
    if not printer.model:
        return PrinterProfile(name=printer.name, encoding=printer.encoding, columns=printer.columns)
    model = model_profile(printer.model)
    return PrinterProfile(name=printer.name, encoding=printer.encoding, columns=printer.columns, cut=model.cut,
                          dots=model.dots)
