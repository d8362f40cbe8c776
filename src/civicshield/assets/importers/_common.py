"""Shared by the file importers: caller defaults, strict JSON/XML parsing with positions, and
software items built from records (a bad item becomes a warning, never a lost row)."""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civicshield.assets.enums import AssetKind
from civicshield.assets.importers._plan import RowError
from civicshield.assets.schemas import SoftwareItem
from civicshield.core.enums import Sector
from civicshield.core.errors import Invalid

__all__ = ["ImportDefaults", "XmlDoc", "load_json", "load_xml", "local", "software_item"]


class ImportDefaults(BaseModel):
    """Values for assets an import creates (never applied to assets it updates)."""

    model_config = ConfigDict(extra="forbid")

    sector: Sector | None = None
    zone: str | None = Field(default=None, max_length=100)
    kind: AssetKind | None = None
    criticality: int | None = Field(default=None, ge=1, le=5)

    def create_values(self, *, kind: AssetKind = AssetKind.IT) -> dict[str, Any]:
        """Defaults as row values; `kind` is used when the caller gave none."""
        values: dict[str, Any] = {"kind": self.kind or kind}
        if self.sector is not None:
            values["sector"] = self.sector
        if self.zone:
            values["zone"] = self.zone
        if self.criticality is not None:
            values["criticality"] = self.criticality
        return values


def load_json(data: bytes, source: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{source}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


class XmlDoc:
    """A parsed XML document that remembers each element's line (for row errors)."""

    def __init__(self, root: Element, lines: dict[int, int]) -> None:
        self.root = root
        self._lines = lines

    def line(self, element: Element) -> int:
        return self._lines.get(id(element), 0)


class _LineBuilder(TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}

    def start(self, tag: Any, attrs: Any) -> Element:
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def load_xml(data: bytes, source: str) -> XmlDoc:
    """Parse with defusedxml (no entities, no external references); refuse with file:line:col."""
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=False)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        line, column = exc.position
        raise Invalid(f"{source}:{line}:{column + 1}: not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise Invalid(f"{source}: refused XML construct: {exc}") from None
    return XmlDoc(root, builder.lines)


def local(tag: str) -> str:
    """`{namespace}name` -> `name` (CycloneDX XML namespaces change with every spec version)."""
    return tag.rsplit("}", 1)[-1]


def software_item(
    values: dict[str, Any], *, line: int, where: str, warnings: list[RowError]
) -> SoftwareItem | None:
    """A SoftwareItem, or None with a warning naming the place and the field."""
    clean = {k: v for k, v in values.items() if v not in (None, "")}
    if "name" not in clean:
        warnings.append(
            RowError(line=line, column="name", message="component without a name", where=where)
        )
        return None
    try:
        return SoftwareItem(**clean)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else None
            warnings.append(
                RowError(
                    line=line,
                    column=field,
                    message=str(err["msg"]).removeprefix("Value error, ") + " (field skipped)",
                    where=where,
                )
            )
        # Keep the component without the bad identifier(s) rather than lose it.
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if bad & {"name", "kind"}:
            return None
        try:
            return SoftwareItem(**{k: v for k, v in clean.items() if k not in bad})
        except ValidationError:
            return None
