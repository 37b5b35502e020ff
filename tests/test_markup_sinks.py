"""No value reaches the browser as markup or code (issue 9, item 3): a scan of the source of every page.

NiceGUI parses a props string (`.props('data-plate="…"')`): a value holding a quote ends there and the rest
becomes props of its own, and a prop named `:…` is evaluated as JavaScript, so is every `:…` key of a props dict
or of an ECharts option; `ui.html` and `add_*_html` take markup, `run_javascript` code, `ui.link` a URL that may
be `javascript:`. Each of these gets constant text only: literals, UPPER_CASE constants, f-strings and
conditionals made of those — and in code, a value through `json.dumps`; in markup, through `html.escape`; a
helper of the same module counts when everything it returns is constant text. Values go through
`kiosk.common.attributes.set_attrs` (no `on…` handler names there) or a component's JSON props, which its
script draws with Vue's escaping bindings, never v-html or innerHTML.
The Chromium side of the same rule: tests/test_hostile_text.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("kiosk", "board", "customer", "shopfloor")

PROPS_CALLS = {"props", "default_props"}
HTML_CALLS = {"html", "markdown", "mermaid", "add_body_html", "add_head_html"}
JS_CALLS = {"run_javascript"}
# what makes any value safe in each place
ESCAPERS = {"props": set(), "html": {("html", "escape")}, "js": {("json", "dumps")}, "url": set()}


def _constant_name(name: str) -> bool:
    return name.lstrip("_").isupper()


def _handler_name(name: str) -> bool:
    """A prop NiceGUI evaluates (`:x`) or an inline handler attribute (`onclick`)."""
    return name.startswith(":") or name.lower().startswith("on")


class SinkScan(ast.NodeVisitor):
    """Where one module passes something other than constant text to a place the browser parses."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        self._judging: set[tuple[str, str]] = set()
        self.problems: list[tuple[int, str]] = []
        self.visit(tree)

    # -- what counts as constant text -------------------------------------------------------------------------
    def constant(self, node: ast.expr | None, place: str) -> bool:
        if node is None or isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.Name):
            return _constant_name(node.id)
        if isinstance(node, ast.Attribute):
            return _constant_name(node.attr)
        if isinstance(node, ast.JoinedStr):
            return all(self.constant(part, place) for part in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.constant(node.value, place) and self.constant(node.format_spec, place)
        if isinstance(node, ast.IfExp):
            return self.constant(node.body, place) and self.constant(node.orelse, place)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            return self.constant(node.left, place) and self.constant(node.right, place)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                return (func.value.id, func.attr) in ESCAPERS[place]
            if isinstance(func, ast.Name) and func.id in self.functions:
                return self._returns_constant(self.functions[func.id], place)
        return False

    def _returns_constant(self, function: ast.FunctionDef, place: str) -> bool:
        key = (function.name, place)
        if key in self._judging:  # recursion: judged by its other returns
            return True
        self._judging.add(key)
        try:
            returns = [n for n in ast.walk(function) if isinstance(n, ast.Return)]
            return bool(returns) and all(self.constant(r.value, place) for r in returns)
        finally:
            self._judging.discard(key)

    def need(self, node: ast.expr | None, place: str, what: str) -> None:
        if node is not None and not self.constant(node, place):
            self.problems.append((node.lineno, f"{what} built from {ast.unparse(node)[:80]}"))

    # -- the places ---------------------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        first = node.args[0] if node.args else None
        keyword = {k.arg: k.value for k in node.keywords}
        if isinstance(func, ast.Attribute) and name in PROPS_CALLS:
            for value in (first, keyword.get("add"), keyword.get("remove")):
                self.need(value, "props", f".{name}()")
        elif isinstance(func, ast.Attribute) and name in HTML_CALLS:
            self.need(first or keyword.get("content"), "html", f".{name}()")
        elif isinstance(func, ast.Attribute) and name in JS_CALLS:
            self.need(first or keyword.get("code"), "js", f".{name}()")
        elif isinstance(func, ast.Attribute) and name == "link" and isinstance(func.value, ast.Name) \
                and func.value.id == "ui":
            target = node.args[1] if len(node.args) > 1 else keyword.get("target")
            # a fixed scheme or path first (tel:…, /kiosk…) cannot turn into javascript:
            fixed_start = isinstance(target, ast.JoinedStr) and bool(target.values) \
                and isinstance(target.values[0], ast.Constant) and str(target.values[0].value) != ""
            if not fixed_start:
                self.need(target, "url", "ui.link() target")
        elif name == "set_attrs":
            for k in node.keywords:
                if k.arg is None or _handler_name(k.arg):
                    self.problems.append((node.lineno, f"set_attrs() with {k.arg or '**'}: names must be fixed "
                                                       "and no handler"))
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) \
                    and target.value.attr in ("props", "_props"):
                key = target.slice
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    self.problems.append((node.lineno, f"a prop named by {ast.unparse(key)[:60]}"))
                elif _handler_name(key.value):
                    self.need(node.value, "js", f"prop {key.value!r}")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith(":"):
                self.need(value, "js", f"key {key.value!r}")
        self.generic_visit(node)


def scan(source: str) -> list[tuple[int, str]]:
    return SinkScan(ast.parse(source)).problems


def _modules() -> list[Path]:
    return sorted(p for root in SOURCES for p in (REPO / root).rglob("*.py"))


def test_no_page_builds_markup_code_or_props_from_values() -> None:
    problems = [f"{path.relative_to(REPO)}:{line}: {what}"
                for path in _modules() for line, what in scan(path.read_text(encoding="utf-8"))]
    assert not problems, "values reach the browser as markup, code or props:\n" + "\n".join(problems)


# Vue components draw their data with {{ }} and attribute bindings, which escape; these parse it as markup
HTML_IN_SCRIPT = re.compile(r"v-html|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function")


def test_no_component_script_renders_data_as_markup() -> None:
    found = [f"{path.relative_to(REPO)}:{n}: {line.strip()[:100]}"
             for root in ("kiosk", "board") for path in sorted((REPO / root).rglob("*.js"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if HTML_IN_SCRIPT.search(line)]
    assert not found, "page scripts that parse markup or code:\n" + "\n".join(found)


@pytest.mark.parametrize("source", [
    'card.props(f\'data-plate="{row["plate"]}"\')',
    'card.props("flat " + plate)',
    "card.props(add=extra)",
    "ui.html(f'<b>{name}</b>')",
    "ui.add_body_html('<p>' + note + '</p>')",
    "ui.run_javascript(f'copy({text!r})')",
    "ui.run_javascript(_JS % html.escape(text))",
    "ui.link(name, url)",
    "picker.props[':options'] = f\"d => d >= '{day}'\"",
    "el.props['onclick'] = handler",
    "el.props[name] = value",
    "set_attrs(el, onmouseover=text)",
    "set_attrs(el, **values)",
    "chart = {'tooltip': {':formatter': 'v => v + ' + unit}}",
    "def _fmt(unit):\n    return f\"v => v + '{unit}'\"\nchart = {':formatter': _fmt(unit)}",
])
def test_the_scan_finds(source: str) -> None:
    assert scan(source)


@pytest.mark.parametrize("source", [
    'card.props("flat bordered data-testid=ro-moves")',
    "card.props('outlined' if dense else 'filled')",
    "button.props(f\"color={'orange-9' if chosen else 'primary'}\")",
    'text.props(f"outlined maxlength={REASON_MAX}")',
    "ui.add_body_html(f'<script src=\"{STATIC_URL}/wedge_scanner.js\"></script>')",
    "ui.add_head_html(f'<link href=\"{html.escape(href)}\">')",
    "ui.run_javascript(_COPY_JS % json.dumps(text))",
    "ui.link(phone, f'tel:{phone}')",
    "set_attrs(card, data_plate=plate, data_testid=f'hit-{vehicle_id}')",
    "el.props['data-plate'] = plate",
    "def _fmt(unit):\n    return 'v => v + ' + json.dumps(unit)\nchart = {':formatter': _fmt(unit)}",
])
def test_the_scan_lets_pass(source: str) -> None:
    assert not scan(source)
