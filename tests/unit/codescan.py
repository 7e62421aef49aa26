"""Find every place in the code base that gives an error its code (for test_error_registry.py).

The source is read with ``ast``; nothing is imported or run. A code is found where it is given to a
``KassaError`` class (or a subclass), ``ApiError``/``Offline`` (the till), ``ProtocolError`` (HQ's
upload protocol), ``LineError``/``TransportError`` (the upload's kinds, as ``upload.<kind>``), a
function that passes one of its parameters on as such a code (``_refuse``), a record with a ``code``
field (``Decision``), in ``{"code": ...}`` answers, ``code=`` keywords, ``code = ...`` /
``*_CODE = ...`` assignments and status → code tables. A code may be a string or a registry member
(``Day.CLOSED``, ``error_codes.Day.CLOSED``); an f-string is a code built at run time.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from domain import errors
from domain.error_codes import AREAS, LOCAL, TEMPLATES, lookup

__all__ = ["Scanner", "Site", "scan", "problems", "sources"]

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("actors", "domain", "cloud", "kiosk", "hw", "analytics", "admin", "kassa_cli")
CODE_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
AREA_NAMES = {area.__name__: area for area in AREAS}


@dataclass(frozen=True)
class Rule:
    """How a callable takes a code: its position (or keyword), a fixed HTTP status or the position
    of the status argument, a default code, and a prefix put before the value (``upload.``)."""

    index: int | None = 0
    keyword: str | None = None
    status: int | None = None
    status_index: int | None = None
    default: str | None = None
    prefix: str = ""
    any_string: bool = True  # every string given is a code (not only dotted ones)


@dataclass(frozen=True)
class Site:
    code: str  # for a code built at run time: its literal beginning
    status: int | None  # the HTTP status it is answered with; None: the site does not say
    where: str
    dynamic: bool = False


# error classes outside the KassaError tree
OTHER_RULES = {
    "ApiError": Rule(status_index=2, keyword="code"),  # the till (no status: raised by the till)
    "ProtocolError": Rule(status=400),  # the cloud answers a ProtocolError with 400
    "LineError": Rule(prefix="upload."),
    "TransportError": Rule(index=1, keyword="kind", default="cut", prefix="upload.", status=LOCAL),
}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _int(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


class Scanner:
    def __init__(self, sources: dict[str, str]) -> None:
        self.trees = {path: ast.parse(text, path) for path, text in sources.items()}
        self.sites: list[Site] = []
        self.unknown_members: list[str] = []
        self.rules: dict[str, Rule] = {
            **self._error_classes(),
            **OTHER_RULES,
            **self._code_fields(),
        }
        self.local_rules: dict[str, dict[str, Rule]] = {path: {} for path in self.trees}
        for _ in range(3):  # wrappers of wrappers
            for path, tree in self.trees.items():
                self._find_wrappers(path, tree)
        for path, tree in self.trees.items():
            self._scan(path, tree)

    # ---------------------------------------------------------------- what takes a code
    def _error_classes(self) -> dict[str, Rule]:
        status = {
            name: cls.http_status
            for name, cls in vars(errors).items()
            if isinstance(cls, type) and issubclass(cls, errors.KassaError)
        }
        grew = True
        while grew:
            grew = False
            for tree in self.trees.values():
                for node in ast.walk(tree):
                    if isinstance(node, ast.ClassDef) and node.name not in status:
                        base = next((_name(b) for b in node.bases if _name(b) in status), None)
                        if base is not None:
                            status[node.name] = self._own_status(node) or status[base]
                            grew = True
        # the code is positional-only: a keyword "code" is one of the details
        return {name: Rule(status=s) for name, s in status.items()}

    @staticmethod
    def _own_status(node: ast.ClassDef) -> int | None:
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "http_status" for t in stmt.targets
            ):
                return _int(stmt.value)
        return None

    def _code_fields(self) -> dict[str, Rule]:
        """Record-like classes with a field named ``code`` (``Decision(ok, code, message)``)."""
        out: dict[str, Rule] = {}
        for tree in self.trees.values():
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef):
                    continue
                fields = [
                    s.target.id
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                ]
                if "code" in fields and node.name not in out:
                    out[node.name] = Rule(
                        index=fields.index("code"), keyword="code", any_string=False
                    )
        return out

    def _rule(self, path: str, call: ast.Call) -> Rule | None:
        name = _name(call.func)
        if name is None:
            return None
        return self.local_rules[path].get(name) or self.rules.get(name)

    def _find_wrappers(self, path: str, tree: ast.Module) -> None:
        """A function that hands one of its parameters on as a code takes codes itself."""
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            if params[:1] in (["self"], ["cls"]):
                params = params[1:]
            for node in ast.walk(fn):
                rule = self._rule(path, node) if isinstance(node, ast.Call) else None
                if rule is not None:
                    assert isinstance(node, ast.Call)
                    code_expr = self._arg(node, rule.index, rule.keyword)
                    status_expr = self._arg(node, rule.status_index, "status")
                elif isinstance(node, ast.Dict):  # builds the answer itself: strict about shape
                    rule = Rule(any_string=False)
                    code_expr = self._dict_code(node)
                    status_expr = ast.Name("status") if "status" in params else None
                else:
                    continue
                if not (isinstance(code_expr, ast.Name) and code_expr.id in params):
                    continue
                status_param = status_expr.id if isinstance(status_expr, ast.Name) else None
                self.local_rules[path][fn.name] = Rule(
                    index=params.index(code_expr.id),
                    keyword=code_expr.id,
                    status=rule.status,
                    status_index=params.index(status_param) if status_param in params else None,
                    prefix=rule.prefix,
                    any_string=rule.any_string,
                )

    # ---------------------------------------------------------------- where codes are given
    @staticmethod
    def _arg(call: ast.Call, index: int | None, keyword: str | None) -> ast.expr | None:
        if (
            index is not None
            and len(call.args) > index
            and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1])
        ):
            return call.args[index]
        return next((k.value for k in call.keywords if keyword and k.arg == keyword), None)

    @staticmethod
    def _dict_code(node: ast.Dict) -> ast.expr | None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "code":
                return value
        return None

    def _add(
        self,
        expr: ast.expr | None,
        status: int | None,
        where: str,
        prefix: str = "",
        any_string: bool = False,
    ) -> None:
        if expr is None:
            return
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            code = prefix + expr.value
            if expr.value and (any_string or prefix or CODE_SHAPE.match(code)):
                self.sites.append(Site(code, status, where))
        elif isinstance(expr, ast.Attribute) and _name(expr.value) in AREA_NAMES:
            area = str(_name(expr.value))  # Day.CLOSED, or error_codes.Day.CLOSED
            member = AREA_NAMES[area].__members__.get(expr.attr)
            if member is None:
                self.unknown_members.append(f"{area}.{expr.attr} at {where}")
            else:
                self.sites.append(Site(prefix + member.value, status, where))
        elif isinstance(expr, ast.JoinedStr):
            head = ""
            for part in expr.values:
                if not isinstance(part, ast.Constant):
                    break
                head += str(part.value)
            self.sites.append(Site(prefix + head, status, where, dynamic=True))
        elif isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Mod)):
            left = expr.left
            start = str(left.value) if isinstance(left, ast.Constant) else ""
            self.sites.append(Site(prefix + start, status, where, dynamic=True))
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values:
                self._add(value, status, where, prefix, any_string)
        elif isinstance(expr, ast.IfExp):
            self._add(expr.body, status, where, prefix, any_string)
            self._add(expr.orelse, status, where, prefix, any_string)

    def _scan(self, path: str, tree: ast.Module) -> None:
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        classes = {name for name, rule in self.rules.items() if rule.any_string}
        for node in ast.walk(tree):
            where = f"{path}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                self._call(path, node, parents, classes, where)
            elif isinstance(node, ast.Dict):
                keys = [_int(k) if k is not None else None for k in node.keys]
                if keys and all(k is not None and 400 <= k < 600 for k in keys):  # status → code
                    for status, value in zip(keys, node.values, strict=True):
                        self._add(value, status, where)
                else:
                    self._add(self._dict_code(node), self._enclosing_status(node, parents), where)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self._assigned(target, node.value, where)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.name == "code":  # a ``code`` property
                    for ret in ast.walk(node):
                        if isinstance(ret, ast.Return):
                            self._add(ret.value, None, where)
                self._defaults(path, node, where)

    def _call(
        self,
        path: str,
        node: ast.Call,
        parents: dict[ast.AST, ast.AST],
        classes: set[str],
        where: str,
    ) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "__init__"
            and isinstance(func.value, ast.Call)
            and _name(func.value.func) == "super"
        ):
            cls = parents.get(node)
            while cls is not None and not isinstance(cls, ast.ClassDef):
                cls = parents.get(cls)
            base = (
                next((_name(b) for b in cls.bases if _name(b) in classes), None)
                if cls is not None
                else None
            )
            rule = self.rules.get(base) if base else None
        else:
            rule = self._rule(path, node)
        if rule is not None:
            status = rule.status
            if rule.status_index is not None:
                status = _int(self._arg(node, rule.status_index, "status"))
            code = self._arg(node, rule.index, rule.keyword)
            if code is None and rule.default is not None:
                code = ast.Constant(rule.default)
            self._add(code, status, where, rule.prefix, rule.any_string)
        else:
            for kw in node.keywords:
                if kw.arg == "code":
                    self._add(kw.value, None, where)

    def _assigned(self, target: ast.expr, value: ast.expr | None, where: str) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for t, v in zip(target.elts, value.elts, strict=False):
                self._assigned(t, v, where)
            return
        name = _name(target)
        if name in ("code", "default_code") or (name and name.isupper() and name.endswith("CODE")):
            self._add(value, None, where, any_string=name == "default_code")

    def _defaults(self, path: str, fn: ast.FunctionDef | ast.AsyncFunctionDef, where: str) -> None:
        rule = self.local_rules[path].get(fn.name)
        if rule is None or rule.keyword is None:
            return
        args = fn.args.posonlyargs + fn.args.args
        names = [a.arg for a in args][len(args) - len(fn.args.defaults) :]
        defaults = dict(zip(names, fn.args.defaults, strict=True))
        self._add(defaults.get(rule.keyword), rule.status, where, rule.prefix)

    @staticmethod
    def _enclosing_status(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> int | None:
        """The status of an answer built around a ``{"code": ...}``: ``_json(body, 400)``,
        ``web.Response(status=401, body=...)``."""
        up = parents.get(node)
        while up is not None and not isinstance(up, ast.stmt):
            if isinstance(up, ast.Call):
                for arg in [*up.args, *(k.value for k in up.keywords if k.arg == "status")]:
                    status = _int(arg)
                    if status is not None and 100 <= status < 600:
                        return status
            up = parents.get(up)
        return None


def sources(root: Path = ROOT) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for pkg in PACKAGES
        for p in sorted((root / pkg).rglob("*.py"))
    }


@functools.cache
def scan() -> Scanner:
    return Scanner(sources())


def problems(scanner: Scanner) -> dict[str, list[str]]:
    """What the registry gets wrong about the code base, by kind."""
    out: dict[str, list[str]] = {
        "unregistered": list(scanner.unknown_members),
        "status": [],
        "dynamic": [],
    }
    templates = {t.split("{", 1)[0]: area for t, area in TEMPLATES.items()}
    for site in scanner.sites:
        if site.dynamic:
            if not any(
                site.code.startswith(head) or head.startswith(site.code) and site.code
                for head in templates
            ):
                out["dynamic"].append(f"{site.code}{{…}} at {site.where}")
            continue
        try:
            entry = lookup(site.code)
        except KeyError:
            out["unregistered"].append(f"{site.code} at {site.where}")
            continue
        if (
            site.status is not None
            and site.status not in entry.statuses
            and not (site.status == LOCAL and entry.status == LOCAL)
        ):
            out["status"].append(
                f"{site.code} answered {site.status} at {site.where}, "
                f"registered {entry.statuses or 'LOCAL'}"
            )
    return out
