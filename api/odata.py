"""PACT v2 ``$filter``: the OData v4 subset the PACT 2.x specification lists, compiled to SQL.

    filter     := condition ("and" condition)*
    condition  := "(" filter ")" | property op literal | collection "/any(" var ":" body ")"
    body       := "(" body ")" | var "eq" literal
    property   := created | updated | productCategoryCpc | pcf/geographyCountry
                  | pcf/referencePeriodStart | pcf/referencePeriodEnd
    collection := productIds | companyIds ;  op := eq | lt | le | gt | ge ;  literal := '...' ('' = ')

Anything else raises ``Unsupported`` (answered as PACT ``NotImplemented``, HTTP 400); a filter
nesting parentheses deeper than ``MAX_DEPTH`` or joining more than ``MAX_CONDITIONS`` conditions
raises ``TooComplex`` (``BadRequest``, HTTP 400): the SQL it becomes must stay within what the
databases parse (SQLite's parser stack holds about 100 nested levels).
"""

from __future__ import annotations

import re

from .documents import parse_time, to_us

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[():/])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))")
OPERATORS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
# property -> (column, is a date-time)
PROPERTIES = {
    "created": ("d.created_us", True),
    "updated": ("d.updated_us", True),
    "productCategoryCpc": ("d.cpc", False),
    "pcf/geographyCountry": ("d.geography_country", False),
    "pcf/referencePeriodStart": ("d.ref_start_us", True),
    "pcf/referencePeriodEnd": ("d.ref_end_us", True),
}
COLLECTIONS = {"productIds": "productid", "companyIds": "companyid"}
MAX_DEPTH = 8  # nested parentheses (the PACT examples use 2)
MAX_CONDITIONS = 20


class Unsupported(ValueError):
    pass


class TooComplex(Unsupported):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise Unsupported(f"cannot read the filter at {text[pos:pos + 20]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.conditions = 0

    def open(self) -> None:
        self.take("(")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooComplex(f"parentheses nest deeper than {MAX_DEPTH} levels")

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        token = self.peek()
        if token is None or (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            got = token[1] if token else "the end"
            raise Unsupported(f"expected {value or kind} but found {got!r}")
        self.i += 1
        return token[1]

    def filter(self) -> tuple[str, list]:
        clauses, params = [], []
        clause, values = self.condition()
        clauses.append(clause)
        params += values
        while self.peek() and self.peek()[1] == "and":
            self.take("and")
            clause, values = self.condition()
            clauses.append(clause)
            params += values
        return "(" + " AND ".join(clauses) + ")", params

    def condition(self) -> tuple[str, list]:
        if self.peek() and self.peek()[1] == "(":
            self.open()
            clause, params = self.filter()
            self.take(")")
            self.depth -= 1
            return clause, params
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise TooComplex(f"more than {MAX_CONDITIONS} conditions")
        name = self.path()
        if name in COLLECTIONS:
            return self.any(COLLECTIONS[name])
        if name not in PROPERTIES:
            raise Unsupported(f"filtering on {name!r} is not supported (supported: {', '.join(PROPERTIES)}, "
                              f"{', '.join(c + '/any(...)' for c in COLLECTIONS)})")
        op = self.take(kind="word")
        if op not in OPERATORS:
            raise Unsupported(f"operator {op!r} is not supported (supported: {', '.join(OPERATORS)})")
        column, is_time = PROPERTIES[name]
        return f"{column} {OPERATORS[op]} ?", [self.literal(is_time)]

    def path(self) -> str:
        name = self.take(kind="word")
        while self.peek() and self.peek()[1] == "/" and self.peek(1) and self.peek(1)[1] != "any":
            self.take("/")
            name += "/" + self.take(kind="word")
        return name

    def any(self, term: str) -> tuple[str, list]:
        self.take("/")
        self.take("any")
        self.open()
        var = self.take(kind="word")
        self.take(":")
        depth = 0
        while self.peek() and self.peek()[1] == "(":
            self.open()
            depth += 1
        if self.take(kind="word") != var:
            raise Unsupported(f"the any() body must compare {var!r}")
        if self.take(kind="word") != "eq":
            raise Unsupported("only 'eq' is supported inside any()")
        value = self.literal(False)
        for _ in range(depth + 1):
            self.take(")")
        self.depth -= depth + 1
        return "EXISTS (SELECT 1 FROM terms t WHERE t.seq = d.seq AND t.name = ? AND t.value = ?)", [term, value.lower()]

    def literal(self, is_time: bool) -> object:
        raw = self.take(kind="str")[1:-1].replace("''", "'")
        if not is_time:
            return raw
        try:
            return to_us(parse_time(raw))
        except ValueError as exc:
            raise Unsupported(f"{raw!r} is not an ISO 8601 date-time") from exc


def compile_filter(text: str) -> tuple[str, list]:
    """(SQL clause over ``documents d``, parameters) for a ``$filter`` expression."""
    parser = _Parser(text)
    clause, params = parser.filter()
    if parser.peek() is not None:
        raise Unsupported(f"unexpected {parser.peek()[1]!r} (only 'and' joins conditions)")
    return clause, params
