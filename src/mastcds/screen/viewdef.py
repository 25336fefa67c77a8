"""Compile a SQL on FHIR v2 ViewDefinition into one SQL query for DuckDB or Spark.

Each resource becomes a list of row structs computed with list lambdas (forEach = flatten of a
transform, unionAll = list concatenation, sibling selects = cross product), then unnested. One
expression per resource keeps memory bounded by a row batch and lets both engines run the same
plan. Semantics follow https://sql-on-fhir.org/ig/2.0.0/StructureDefinition-ViewDefinition.html;
``repeat`` is from the 2.1.0 CI build and is unrolled to ``MAX_REPEAT_DEPTH`` levels (deeper trees
raise an error rather than losing rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from mastcds.screen import fhirpath as fp
from mastcds.screen.boundary import decimal_boundary, temporal_boundary
from mastcds.screen.dialects import DIALECTS, Dialect
from mastcds.screen.model import element_info


class ViewError(ValueError):
    """A ViewDefinition that is not valid or uses FHIRPath the runner does not support."""


MAX_REPEAT_DEPTH = 8
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INT_TYPES = {"integer", "positiveInt", "unsignedInt", "integer64"}
_CONSTANT_KINDS = {
    "valueBoolean": "bool", "valueInteger": "int", "valuePositiveInt": "int", "valueUnsignedInt": "int",
    "valueInteger64": "int", "valueDecimal": "num",
}
_REFERENCE = "^([A-Za-z]+)/([A-Za-z0-9.-]+)$"
_BOUNDARY_KINDS = {"decimal": "decimal", "integer": "decimal", "positiveInt": "decimal", "unsignedInt": "decimal",
                   "integer64": "decimal", "date": "date", "dateTime": "dateTime", "instant": "dateTime",
                   "time": "time"}
_KIND_NAMES = {"bool": "Boolean", "int": "Integer", "num": "Decimal", "str": "String"}


@dataclass(frozen=True)
class Val:
    kind: str  # "coll" (list of JSON values) or a scalar kind: bool, int, num, str
    sql: str
    # A member chain whose cardinalities the FHIR model gave: (base JSON SQL, ((name, is_array), ...)),
    # and the FHIR type of its items. Such chains become one JSON path instead of nested lambdas.
    chain: tuple | None = None
    fhir_type: str | None = None


@dataclass(frozen=True)
class _Ctx:
    focus: str | None  # SQL of the current JSON element; None = the resource itself
    index: str  # SQL of %rowIndex
    fhir_type: str | None = None  # FHIR type of the focus, when known


@dataclass
class Column:
    name: str
    kind: str
    collection: bool


@dataclass
class CompiledView:
    """The view's SQL for one dialect, what it reads and the columns it yields, in order."""

    resource: str
    columns: list[Column]
    dialect: str
    rows: str
    where: str
    root_members: list[str] = field(default_factory=list)
    uses_resource: bool = False  # the view needs the whole resource, not only named elements

    def query(self, source: str) -> str:
        """The SELECT over ``source`` (a relation with the resource as column ``r``)."""
        dialect = DIALECTS[self.dialect]
        if self.dialect == "duckdb" and self.root_members:
            paths = ", ".join(dialect.quote("$." + name) for name in self.root_members)
            members = "".join(f", _t[{k + 1}] AS {_member_column(name)}" for k, name in enumerate(self.root_members))
            source = f"(SELECT r{members} FROM (SELECT r, json_extract(r, [{paths}]) AS _t FROM {source}))"
        return dialect.rows_query(self.rows, source, f"{self._type_filter()} AND ({self.where})")

    def _type_filter(self, column: str | None = None) -> str:
        dialect = DIALECTS[self.dialect]
        found = column or dialect.member_string("r", "resourceType")
        return f"{found} = {dialect.quote(self.resource)}"

    def line_rows_query(self, lines: str) -> str:
        """The view's rows over ``lines``, a relation of (``_line``, ``_j``): a line number and its text
        (see :mod:`mastcds.screen.ndjson`).

        Lines with ``_j`` NULL are skipped. Every line that is not a FHIR resource (invalid JSON, or
        no resourceType) yields one row with ``_malformed`` true; resources yield the view's rows,
        numbered within their line by ``_k`` (1, 2, ...).
        """
        dialect = DIALECTS["duckdb"]
        paths = ", ".join(dialect.quote("$." + name) for name in ("resourceType", *self.root_members))
        members = "".join(f", _t[{k + 2}] AS {_member_column(name)}" for k, name in enumerate(self.root_members))
        source = (f"(SELECT _line, (_t[1] ->> '$') AS \"resourceType\"{members} FROM "
                  f"(SELECT _line, json_extract(_j, [{paths}]) AS _t FROM {lines} WHERE _j IS NOT NULL))")
        null_row = dialect.list_of(dialect.struct([(c.name, dialect.typed_null(c.kind, c.collection)) for c in self.columns]))
        rows = f'CASE WHEN "resourceType" IS NULL THEN {null_row} ELSE {self.rows} END'
        where = f'"resourceType" IS NULL OR ({self._type_filter(chr(34) + "resourceType" + chr(34))} AND ({self.where}))'
        return (f'SELECT _line, "resourceType" IS NULL AS _malformed, unnest(range(1, len(_rows) + 1)) AS _k, '
                f"unnest(_rows, recursive := true) "
                f"FROM (SELECT _line, \"resourceType\", {rows} AS _rows FROM {source} WHERE {where})")


def _member_column(name: str) -> str:
    return f'"_m_{name}"'


def _kind_of(fhir_type: str | None) -> str | None:
    if fhir_type is None:
        return None
    if fhir_type == "boolean":
        return "bool"
    if fhir_type in _INT_TYPES:
        return "int"
    if fhir_type == "decimal":
        return "num"
    return "str"


class _Compiler:
    def __init__(self, view: dict, dialect: Dialect, use_model: bool):
        self.view = view
        self.d = dialect
        self.use_model = use_model
        self.root_members: list[str] = []
        self.uses_resource = False
        self.constants = self._constants(view.get("constant", []))

    # -- constants -------------------------------------------------------------------------
    def _constants(self, constants) -> dict[str, Val]:
        if not isinstance(constants, list):
            raise ViewError("'constant' must be a list")
        result = {}
        for constant in constants:
            name = constant.get("name") if isinstance(constant, dict) else None
            if not isinstance(name, str) or not _NAME.match(name):
                raise ViewError(f"constant name {name!r} is not a valid name")
            values = [(key, value) for key, value in constant.items() if key.startswith("value")]
            if len(values) != 1:
                raise ViewError(f"constant {name!r} needs exactly one value[x], found {len(values)}")
            key, value = values[0]
            kind = _CONSTANT_KINDS.get(key, "str")
            result[name] = replace(self._literal(value, kind), fhir_type=key[5:6].lower() + key[6:])
        return result

    def _literal(self, value, kind: str) -> Val:
        if kind == "bool":
            return Val("bool", "TRUE" if value else "FALSE")
        if kind == "int":
            return Val("int", str(int(value)))
        if kind == "num":
            return Val("num", f"CAST({float(value)!r} AS DOUBLE)")
        return Val("str", self.d.quote(str(value)))

    # -- expressions -----------------------------------------------------------------------
    def _root_member(self, name: str) -> str:
        if self.d.name != "duckdb":
            return self.d.member("r", name)
        if name not in self.root_members:
            self.root_members.append(name)
        return _member_column(name)

    def _child(self, focus: str | None, name: str) -> str:
        raw = self._root_member(name) if focus is None else self.d.member(focus, name)
        return self.d.as_collection(raw)

    def _resource(self) -> str:
        self.uses_resource = True
        return "r"

    def _focus_collection(self, ctx: _Ctx) -> str:
        return self.d.list_of(self._resource() if ctx.focus is None else ctx.focus)

    def coll(self, value: Val) -> str:
        """Any value as a collection of JSON values."""
        if value.kind == "coll":
            return value.sql
        return self.d.let(value.sql, lambda s: (
            f"CASE WHEN {s} IS NULL THEN {self.d.empty_json()} ELSE {self.d.list_of(self.d.to_json(s))} END"))

    def scalar(self, value: Val, kind: str, what: str) -> str:
        """A singleton as a SQL scalar of ``kind`` (NULL when empty; an error when several)."""
        if value.kind != "coll":
            if value.kind == kind or (kind == "num" and value.kind == "int"):
                return value.sql
            if kind == "str":
                return f"CAST({value.sql} AS {self.d.sql_type('str')})"
            return f"CAST({value.sql} AS {self.d.sql_type(kind)})"
        if value.chain is not None:
            direct = self._chain_scalar(value.chain, kind)
            if direct is not None:
                return direct
        return self.d.let(value.sql, lambda c: (
            f"CASE WHEN {self.d.length(c)} > 1 THEN {self.d.raise_error(what + ' returned more than one value', self.d.sql_type(kind))} "
            f"ELSE {self.d.json_as(self.d.element(c, 0), kind)} END"))

    def boolean(self, value: Val, strict: bool, what: str) -> str:
        """FHIRPath singleton evaluation to a Boolean (strict: non-Boolean values are an error)."""
        if value.kind == "bool":
            return value.sql
        if value.kind != "coll":
            if strict:
                raise ViewError(f"{what} must be Boolean")
            return f"({value.sql} IS NOT NULL OR NULL)"
        bad = self.d.raise_error(f"{what} is not Boolean", "BOOLEAN")
        return self.d.let(value.sql, lambda c: (
            f"CASE WHEN {self.d.length(c)} = 0 THEN NULL "
            f"WHEN {self.d.length(c)} = 1 AND {self.d.json_is_boolean(self.d.element(c, 0))} "
            f"THEN {self.d.json_as(self.d.element(c, 0), 'bool')} "
            f"ELSE {bad if strict else 'TRUE'} END"))

    def expr(self, node, ctx: _Ctx) -> Val:
        method = getattr(self, "_" + type(node).__name__.lower() + "_node")
        return method(node, ctx)

    def _literal_node(self, node, ctx):
        value = node.value
        kind = "bool" if isinstance(value, bool) else "int" if isinstance(value, int) else (
            "num" if isinstance(value, float) else "str")
        return self._literal(value, kind)

    def _empty_node(self, node, ctx):
        return Val("coll", self.d.empty_json())

    def _this_node(self, node, ctx):
        return Val("coll", self._focus_collection(ctx))

    def _constant_node(self, node, ctx):
        if node.name == "rowIndex":
            return Val("int", ctx.index)
        if node.name not in self.constants:
            raise ViewError(f"undefined constant %{node.name}")
        return self.constants[node.name]

    def _member_node(self, node, ctx):
        # The model gives every element's type (lowBoundary() needs to know a date from a dateTime);
        # with use_model it also gives cardinalities, so a member chain becomes one JSON path.
        focus = None if node.focus is None else self.expr(node.focus, ctx)
        info = element_info(ctx.fhir_type if focus is None else focus.fhir_type, node.name)
        child_type = None if info is None else info[1]
        if info is not None and self.use_model:
            if focus is None:
                chain = ((self._root_member(node.name), ((None, info[0]),)) if ctx.focus is None
                         else (ctx.focus, ((node.name, info[0]),)))
            else:
                chain = None if focus.chain is None else (focus.chain[0], focus.chain[1] + ((node.name, info[0]),))
            fast = None if chain is None else self._chain_collection(chain)
            if fast is not None:
                return Val("coll", fast, chain, child_type)
        if focus is None:
            return Val("coll", self._child(ctx.focus, node.name), fhir_type=child_type)
        items = self.coll(focus)
        x = self.d.var()
        return Val("coll", self.d.flatten(self.d.transform(items, x, self._child(x, node.name))), fhir_type=child_type)

    def _chain_path(self, chain) -> tuple[str, bool]:
        path, many = "$", False
        for name, is_array in chain[1]:
            if name is not None:
                path += "." + name
            if is_array:
                path += "[*]"
                many = True
        return path, many

    def _chain_collection(self, chain) -> str | None:
        path, many = self._chain_path(chain)
        if many:
            return self.d.path_list(chain[0], chain[1])
        return self.d.as_collection(self.d.path_value(chain[0], path))

    def _chain_scalar(self, chain, kind: str) -> str | None:
        path, many = self._chain_path(chain)
        return None if many else self.d.path_as(chain[0], path, kind)

    def _index_node(self, node, ctx):
        index = self.expr(node.index, ctx)
        if index.kind != "int":
            raise ViewError("an index must be an integer")
        focus = self.expr(node.focus, ctx)
        return Val("coll", self.d.slice(self.coll(focus), index.sql, 1), fhir_type=focus.fhir_type)

    def _negate_node(self, node, ctx):
        operand = self.expr(node.operand, ctx)
        kind = "int" if operand.kind == "int" else "num"  # -1 is an Integer (a precision, an index)
        return Val(kind, f"(-{self.scalar(operand, kind, 'negation')})")

    def _binary_node(self, node, ctx):
        op = node.op
        left, right = self.expr(node.left, ctx), self.expr(node.right, ctx)
        if op == "or":
            membership = self._membership(node, ctx)
            if membership is not None:
                return membership
        if op in ("and", "or"):
            a, b = self.boolean(left, False, op), self.boolean(right, False, op)
            return Val("bool", f"({a} {op.upper()} {b})")
        if op == "xor":
            a, b = self.boolean(left, False, op), self.boolean(right, False, op)
            return Val("bool", f"({a} <> {b})")
        if op in ("+", "-", "*", "/"):
            if op == "+" and "str" in (left.kind, right.kind):
                return Val("str", f"({self.scalar(left, 'str', op)} || {self.scalar(right, 'str', op)})")
            a, b = self.scalar(left, "num", op), self.scalar(right, "num", op)
            if op == "/":
                return Val("num", f"({a} / nullif({b}, 0))")
            return Val("num", f"({a} {op} {b})")
        if op == "&":
            a, b = self.scalar(left, "str", op), self.scalar(right, "str", op)
            return Val("str", f"(coalesce({a}, '') || coalesce({b}, ''))")
        return self._compare(op, left, right)

    def _membership(self, node, ctx) -> Val | None:
        """``x = 'a' or x = 'b' or ...`` on one single-valued element as one ``IN`` test (one read of x)."""
        terms, stack = [], [node]
        while stack:
            item = stack.pop()
            if isinstance(item, fp.Binary) and item.op == "or":
                stack += [item.right, item.left]
            elif isinstance(item, fp.Binary) and item.op == "=" and isinstance(item.right, fp.Literal) \
                    and isinstance(item.right.value, str):
                terms.append(item)
            else:
                return None
        if len({t.left for t in terms}) != 1:
            return None
        subject = self._singular(self.expr(terms[0].left, ctx), "str")
        if subject.kind != "str":
            return None
        values = ", ".join(self.d.quote(t.right.value) for t in terms)
        return Val("bool", f"({subject.sql} IN ({values}))")

    def _compare(self, op, left: Val, right: Val) -> Val:
        sql_op = {"=": "=", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}[op]
        known = [v.kind for v in (left, right) if v.kind != "coll"]
        if known:
            kind = "num" if "num" in known or "int" in known else known[0]
            left, right = self._singular(left, kind), self._singular(right, kind)
            if op in ("=", "!=") and "coll" in (left.kind, right.kind):
                coll, other = (left, right) if left.kind == "coll" else (right, left)
                other_sql = self.scalar(other, kind, op)
                return Val("bool", self.d.let(coll.sql, lambda c: (
                    f"CASE WHEN {self.d.length(c)} = 0 THEN NULL "
                    f"WHEN {self.d.length(c)} = 1 THEN {self.d.json_as(self.d.element(c, 0), kind)} {sql_op} {other_sql} "
                    f"ELSE {'FALSE' if op == '=' else 'TRUE'} END")))
            return Val("bool", f"({self.scalar(left, kind, op)} {sql_op} {self.scalar(right, kind, op)})")
        if op in ("=", "!="):
            def strings(c):
                x = self.d.var()
                return self.d.transform(c, x, self.d.json_as(x, "str"))
            return Val("bool", self.d.let(left.sql, lambda a: self.d.let(right.sql, lambda b: (
                f"CASE WHEN {self.d.length(a)} = 0 OR {self.d.length(b)} = 0 THEN NULL "
                f"ELSE {strings(a)} {sql_op} {strings(b)} END"))))
        a, b = self.scalar(left, "num", op), self.scalar(right, "num", op)
        sa, sb = self.scalar(left, "str", op), self.scalar(right, "str", op)
        return Val("bool", f"coalesce({a} {sql_op} {b}, {sa} {sql_op} {sb})")

    def _singular(self, value: Val, kind: str) -> Val:
        """A model-known single-valued chain as a scalar (one JSON path read, no list)."""
        if value.kind == "coll" and value.chain is not None:
            direct = self._chain_scalar(value.chain, kind)
            if direct is not None:
                return Val(kind, direct)
        return value

    def _call_node(self, node, ctx):
        name, args = node.name, node.args
        if name == "ofType":
            if not (len(args) == 1 and isinstance(args[0], fp.Member) and args[0].focus is None):
                raise ViewError("ofType() needs one type name")
            if not isinstance(node.focus, fp.Member):
                raise ViewError("ofType() is supported on choice elements such as value.ofType(Quantity)")
            type_name = args[0].name
            return self.expr(replace(node.focus, name=node.focus.name + type_name[0].upper() + type_name[1:]), ctx)
        if name == "getResourceKey":
            if node.focus is not None or args:
                raise ViewError("getResourceKey() takes no arguments and applies to the resource")
            return Val("str", self.d.json_as(self._root_member("id"), "str"))
        if name == "extension" and len(args) == 1:
            url = self._string_argument(args[0], ctx, "extension()")
            extensions = self.expr(fp.Member(node.focus, "extension"), ctx)
            e = self.d.var()
            matching = self.d.filter(self.coll(extensions), e, f"{self.d.member_string(e, 'url')} = {url}")
            return Val("coll", matching, fhir_type="Extension")
        if node.focus is None:
            focus = Val("coll", self._focus_collection(ctx), fhir_type=ctx.fhir_type)
        else:
            focus = self.expr(node.focus, ctx)
        items = self.coll(focus)
        x = self.d.var()
        if name == "exists" and not args:
            return Val("bool", f"({self.d.length(items)} > 0)")
        if name == "exists" and len(args) == 1:
            return Val("bool", f"({self.d.length(self._where(items, args[0], ctx, focus.fhir_type))} > 0)")
        if name == "empty" and not args:
            return Val("bool", f"({self.d.length(items)} = 0)")
        if name == "count" and not args:
            return Val("int", self.d.length(items))
        if name == "first" and not args:
            return Val("coll", self.d.slice(items, 0, 1), fhir_type=focus.fhir_type)
        if name == "not" and not args:
            return Val("bool", f"(NOT {self.boolean(focus, False, 'not()')})")
        if name == "where" and len(args) == 1:
            return Val("coll", self._where(items, args[0], ctx, focus.fhir_type), fhir_type=focus.fhir_type)
        if name == "join" and len(args) <= 1:
            separator = ""
            if args:
                if not (isinstance(args[0], fp.Literal) and isinstance(args[0].value, str)):
                    raise ViewError("join() takes a string literal separator")
                separator = args[0].value
            return Val("str", self.d.join(self.d.transform(items, x, self.d.json_as(x, "str")), separator))
        if name == "getReferenceKey" and len(args) <= 1:
            if args and not (isinstance(args[0], fp.Member) and args[0].focus is None):
                raise ViewError("getReferenceKey() takes a resource type name")
            reference = self.d.member_string(x, "reference")
            key = self.d.regexp_group(reference, _REFERENCE, 2)
            if args:
                type_name = self.d.quote(args[0].name)
                key = f"CASE WHEN {self.d.regexp_group(reference, _REFERENCE, 1)} = {type_name} THEN {key} END"
            y = self.d.var()
            keys = self.d.transform(items, x, self.d.to_json(key))
            return Val("coll", self.d.filter(keys, y, f"{y} IS NOT NULL"))
        if name == "startsWith" and len(args) == 1:
            prefix = self._string_argument(args[0], ctx, "startsWith()")
            return Val("bool", self.d.starts_with(self.scalar(focus, "str", "startsWith()"), prefix))
        if name in ("lowBoundary", "highBoundary") and len(args) <= 1:
            return self._boundary(name, focus, items, args, ctx)
        raise ViewError(f"unsupported FHIRPath function {name}() with {len(args)} argument(s)")

    def _boundary(self, name: str, focus: Val, items: str, args: tuple, ctx: _Ctx) -> Val:
        """lowBoundary() / highBoundary() of a singleton, by the FHIR type the model gives the focus
        (a literal or computed number is a decimal); an unknown type is read from the value itself."""
        what, high = f"{name}()", name == "highBoundary"
        precision = None
        if args:
            value = self.expr(args[0], ctx)
            if value.kind not in ("int", "coll"):
                raise ViewError(f"{what} takes an Integer precision")
            precision = self.scalar(value, "int", f"{what} precision")
        kind = _BOUNDARY_KINDS.get(focus.fhir_type) or ("decimal" if focus.kind in ("int", "num") else None)
        if kind is None and (focus.fhir_type is not None or focus.kind != "coll"):
            raise ViewError(f"{what} applies to decimal, integer, date, dateTime, instant and time values, "
                            f"not {focus.fhir_type or _KIND_NAMES[focus.kind]}")

        def boundary(x: str, kind: str) -> str:
            text = self.d.json_as(x, "str")
            if kind == "decimal":
                number = f"{self.d.json_kind(x)} IN ('integer', 'decimal')"
                integer = f"{self.d.json_kind(x)} = 'integer'"
                return f"CASE WHEN {number} THEN {decimal_boundary(self.d, text, integer, precision, high)} END"
            string = f"{self.d.json_kind(x)} = 'string'"
            return f"CASE WHEN {string} THEN {temporal_boundary(self.d, text, kind, precision, high)} END"

        if kind is not None:
            result_kind = "num" if kind == "decimal" else "str"
            sql = self._one(items, what, self.d.sql_type(result_kind), lambda x: boundary(x, kind))
            return Val(result_kind, sql)

        def guessed(x: str) -> str:
            # No type known: a number is a decimal; a string a time, date or dateTime by its shape.
            guesses = [self.d.to_json(boundary(x, k)) for k in ("decimal", "time", "date", "dateTime")]
            return f"coalesce({', '.join(guesses)})"

        value = self._one(items, what, self.d.json_sql_type, guessed)
        return Val("coll", self.d.let(value, lambda v: (
            f"CASE WHEN {v} IS NULL THEN {self.d.empty_json()} ELSE {self.d.list_of(v)} END")))

    def _one(self, items: str, what: str, sql_type: str, body) -> str:
        """``body`` of the only item of ``items`` (NULL when there is none; more than one is an error)."""
        several = self.d.raise_error(f"{what} applied to more than one value", sql_type)
        return self.d.let(items, lambda c: (
            f"CASE WHEN {self.d.length(c)} > 1 THEN {several} ELSE {body(self.d.element(c, 0))} END"))

    def _string_argument(self, node, ctx: _Ctx, what: str) -> str:
        value = self.expr(node, ctx)
        if value.kind != "str":
            raise ViewError(f"{what} takes a string literal or string constant")
        return value.sql

    def _where(self, items: str, criterion, ctx: _Ctx, fhir_type: str | None = None) -> str:
        x = self.d.var()
        condition = self.boolean(self.expr(criterion, _Ctx(x, ctx.index, fhir_type)), False, "where()")
        return self.d.filter(items, x, condition)

    def path(self, text, ctx: _Ctx, what: str) -> Val:
        if not isinstance(text, str):
            raise ViewError(f"{what} must be a FHIRPath string, got {text!r}")
        try:
            return self.expr(fp.parse(text), ctx)
        except fp.FhirPathError as error:
            raise ViewError(f"{what}: {error}") from None

    # -- selects ---------------------------------------------------------------------------
    def select_rows(self, select, ctx: _Ctx) -> tuple[str, list[Column]]:
        if not isinstance(select, dict):
            raise ViewError("each select must be an object")
        iterators = [key for key in ("forEach", "forEachOrNull", "repeat") if key in select]
        if len(iterators) > 1:
            raise ViewError(f"a select may have only one of forEach, forEachOrNull, repeat; found {iterators}")
        if not iterators:
            return self.plain_rows(select, ctx)
        key = iterators[0]
        if key == "repeat":
            paths = select["repeat"]
            if not isinstance(paths, list) or not paths:
                raise ViewError("repeat must be a non-empty list of FHIRPath strings")
            items = self._descendants(ctx.focus, paths, MAX_REPEAT_DEPTH)
            item_type = None
        else:
            iterated = self.path(select[key], ctx, key)
            items, item_type = self.coll(iterated), iterated.fhir_type
        x, i = self.d.var(), self.d.var()
        inner, columns = self.plain_rows(select, _Ctx(x, self.d.index0(i), item_type))
        rows = self.d.flatten(self.d.transform(items, x, inner, index=i))
        if key == "forEachOrNull":
            # An empty iteration still yields a row: evaluated on an empty focus (so %rowIndex is 0),
            # or all nulls when nested iterations leave nothing.
            absent, _ = self.plain_rows(select, _Ctx(self.d.null_json(), "0", item_type))
            fallback = self.d.let(absent, lambda r: (
                f"CASE WHEN {self.d.length(r)} > 0 THEN {r} ELSE {self.d.list_of(self._null_row(columns))} END"))
            rows = self.d.let(items, lambda c: (
                f"CASE WHEN {self.d.length(c)} = 0 THEN {fallback} "
                f"ELSE {self.d.flatten(self.d.transform(c, x, inner, index=i))} END"))
        return rows, columns

    def _descendants(self, focus: str | None, paths: list, depth: int) -> str:
        """Every node reached by repeatedly following ``paths``, depth-first, as the spec orders them."""
        if focus is None:
            parents = Val("coll", self.d.list_of(self._resource()))
        else:
            parents = Val("coll", self.d.list_of(focus))
        x = self.d.var()
        children = self.d.concat([self.coll(self.path(p, _Ctx(x, "0"), "repeat")) for p in paths])
        children = self.d.flatten(self.d.transform(parents.sql, x, children))
        if depth == 0:
            return self.d.let(children, lambda c: (
                f"CASE WHEN {self.d.length(c)} > 0 THEN "
                f"{self.d.raise_error(f'repeat deeper than {MAX_REPEAT_DEPTH} levels', self.d.list_type(self.d.json_sql_type))} "
                f"ELSE {self.d.empty_json()} END"))
        y = self.d.var()
        below = self._descendants(y, paths, depth - 1)
        return self.d.flatten(self.d.transform(children, y, self.d.concat([self.d.list_of(y), below])))

    def plain_rows(self, select: dict, ctx: _Ctx) -> tuple[str, list[Column]]:
        parts: list[tuple[str, list[Column]]] = []
        if "column" in select:
            parts.append(self.column_row(select["column"], ctx))
        for child in select.get("select", []):
            parts.append(self.select_rows(child, ctx))
        if "unionAll" in select:
            branches = [self.select_rows(branch, ctx) for branch in select["unionAll"]]
            if not branches:
                raise ViewError("unionAll must not be empty")
            names = [c.name for c in branches[0][1]]
            for _, columns in branches[1:]:
                if [c.name for c in columns] != names:
                    raise ViewError(f"unionAll branches must have the same columns in the same order: "
                                    f"{names} vs {[c.name for c in columns]}")
            parts.append((self.d.concat([rows for rows, _ in branches]), branches[0][1]))
        if not parts:
            raise ViewError("a select needs column, select or unionAll")
        rows, columns = parts[0]
        for other_rows, other_columns in parts[1:]:
            a, b = self.d.var(), self.d.var()
            merged = [(c.name, self.d.field(a, c.name)) for c in columns]
            merged += [(c.name, self.d.field(b, c.name)) for c in other_columns]
            rows = self.d.flatten(self.d.transform(rows, a, self.d.transform(other_rows, b, self.d.struct(merged))))
            columns = columns + other_columns
        return rows, columns

    def column_row(self, columns, ctx: _Ctx) -> tuple[str, list[Column]]:
        if not isinstance(columns, list) or not columns:
            raise ViewError("column must be a non-empty list")
        fields, result = [], []
        for column in columns:
            name = column.get("name") if isinstance(column, dict) else None
            if not isinstance(name, str) or not _NAME.match(name):
                raise ViewError(f"column name {name!r} must start with a letter and hold only letters, digits, _")
            value = self.path(column.get("path"), ctx, f"column {name}")
            kind = _kind_of(column.get("type")) or (value.kind if value.kind != "coll" else "str")
            if kind == "int" and value.kind == "num":
                kind = "num"
            collection = column.get("collection") is True
            if collection:
                x = self.d.var()
                sql = self.d.transform(self.coll(value), x, self.d.json_as(x, kind))
            else:
                sql = self.scalar(value, kind, f"column {name}")
            fields.append((name, sql))
            result.append(Column(name, kind, collection))
        return self.d.list_of(self.d.struct(fields)), result

    def _null_row(self, columns: list[Column]) -> str:
        return self.d.struct([(c.name, self.d.typed_null(c.kind, c.collection)) for c in columns])


def compile_view(view: dict, dialect: str = "duckdb", *, use_model: bool = True) -> CompiledView:
    """Validate ``view`` and compile it for ``dialect`` ("duckdb" or "spark"); ViewError says what is wrong.

    ``use_model`` lets the FHIR R4B model say which elements are arrays, so member chains compile to
    single JSON paths (several times faster); without it every step is navigated generically. The
    model's element types (a date or a dateTime, for lowBoundary()) are used either way.
    """
    if not isinstance(view, dict):
        raise ViewError("a ViewDefinition must be a JSON object")
    resource = view.get("resource")
    if not isinstance(resource, str) or not re.match(r"^[A-Z][A-Za-z]+$", resource):
        raise ViewError(f"'resource' must name a FHIR resource type, got {resource!r}")
    selects = view.get("select")
    if not isinstance(selects, list) or not selects:
        raise ViewError("'select' must be a non-empty list")
    compiler = _Compiler(view, DIALECTS[dialect], use_model)
    root = _Ctx(None, "0", resource)
    rows, columns = compiler.plain_rows({"select": selects}, root)
    names = [c.name for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ViewError(f"column names must be unique in a view: {duplicates}")
    conditions = []
    for clause in view.get("where", []):
        value = compiler.path(clause.get("path") if isinstance(clause, dict) else None, root, "where")
        conditions.append(compiler.boolean(value, True, f"where path {clause.get('path')!r}"))
    where = " AND ".join(f"coalesce({c}, FALSE)" for c in conditions) or "TRUE"
    return CompiledView(resource, columns, dialect, rows, where, compiler.root_members, compiler.uses_resource)
