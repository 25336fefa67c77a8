"""The SQL each engine needs for FHIRPath collections: DuckDB over JSON, Spark over VARIANT.

A FHIRPath collection is a SQL list of JSON values (DuckDB ``JSON[]``, Spark ``array<variant>``);
every view is compiled to one list-of-structs expression per resource built from the primitives
below, so both engines run the same plan shape and give the same rows.
"""

from __future__ import annotations

import itertools

SQL_TYPES = {"bool": ("BOOLEAN", "BOOLEAN"), "int": ("BIGINT", "BIGINT"), "num": ("DOUBLE", "DOUBLE"),
             "str": ("VARCHAR", "STRING")}


class Dialect:
    """Primitives shared by both engines; subclasses spell them."""

    name = ""
    json_sql_type = ""  # the SQL type of one JSON value
    _counter = itertools.count()

    def var(self) -> str:
        return f"_v{next(self._counter)}"

    def sql_type(self, kind: str, collection: bool = False) -> str:
        base = SQL_TYPES[kind][self._type_column]
        return self.list_type(base) if collection else base

    def typed_null(self, kind: str, collection: bool = False) -> str:
        return f"CAST(NULL AS {self.sql_type(kind, collection)})"

    def let(self, value: str, body) -> str:
        """Evaluate ``value`` once and use it (by name) several times in ``body``."""
        name = self.var()
        return f"{self.element(self.transform(self.list_of(value), name, body(name)), 0)}"

    def empty_rows(self, row: str) -> str:
        """An empty list with the element type of ``row`` (so concatenations type-check)."""
        name = self.var()
        return self.filter(self.list_of(row), name, "FALSE")


class DuckDBDialect(Dialect):
    name = "duckdb"
    json_sql_type = "JSON"
    _type_column = 0

    def quote(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def list_type(self, base: str) -> str:
        return f"{base}[]"

    def transform(self, items: str, var: str, body: str, index: str | None = None) -> str:
        if index is None:
            return f"list_transform({items}, lambda {var}: {body})"
        return f"list_transform({items}, lambda {var}, {index}: {body})"

    def index0(self, index: str) -> str:
        return f"({index} - 1)"

    def filter(self, items: str, var: str, predicate: str) -> str:
        return f"list_filter({items}, lambda {var}: {predicate})"

    def flatten(self, items: str) -> str:
        return f"flatten({items})"

    def concat(self, parts: list[str]) -> str:
        result = parts[0]
        for part in parts[1:]:
            result = f"list_concat({result}, {part})"
        return result

    def length(self, items: str) -> str:
        return f"len({items})"

    def list_of(self, *values: str) -> str:
        return "[" + ", ".join(values) + "]"

    def element(self, items: str, index0: int | str) -> str:
        return f"{items}[({index0}) + 1]"

    def slice(self, items: str, start0: int | str, count: int) -> str:
        return f"list_slice({items}, ({start0}) + 1, ({start0}) + {count})"

    def empty_json(self) -> str:
        return "CAST([] AS JSON[])"

    def null_json(self) -> str:
        return "CAST(NULL AS JSON)"

    def as_collection(self, value: str) -> str:
        return self.let(value, lambda w: (
            f"CASE coalesce(json_type({w}), 'NULL') WHEN 'ARRAY' THEN CAST({w} AS JSON[]) "
            f"WHEN 'NULL' THEN {self.empty_json()} ELSE [{w}] END"))

    def member(self, value: str, name: str) -> str:
        return f"json_extract({value}, {self.quote('$.' + name)})"

    def member_string(self, value: str, name: str) -> str:
        return f"json_extract_string({value}, {self.quote('$.' + name)})"

    def path_list(self, value: str, segments) -> str | None:
        path = "$" + "".join((f".{name}" if name else "") + ("[*]" if many else "") for name, many in segments)
        return f"coalesce(CAST(json_extract({value}, {self.quote(path)}) AS JSON[]), {self.empty_json()})"

    def path_value(self, value: str, path: str) -> str:
        return value if path == "$" else f"json_extract({value}, {self.quote(path)})"

    def path_as(self, value: str, path: str, kind: str) -> str:
        if kind == "str":
            return f"json_extract_string({value}, {self.quote(path)})"
        return f"TRY_CAST({self.path_value(value, path)} AS {self.sql_type(kind)})"

    def json_as(self, value: str, kind: str) -> str:
        if kind == "str":
            return f"json_extract_string({value}, '$')"
        return f"TRY_CAST({value} AS {self.sql_type(kind)})"

    def json_is_boolean(self, value: str) -> str:
        return f"(json_type({value}) = 'BOOLEAN')"

    def json_kind(self, value: str) -> str:
        """'integer' or 'decimal' for a JSON number written without / with a point or exponent,
        'string' for a string, else NULL."""
        # The reader types a number written with a point or exponent DOUBLE, any other BIGINT or UBIGINT.
        return (f"CASE json_type({value}) WHEN 'BIGINT' THEN 'integer' WHEN 'UBIGINT' THEN 'integer' "
                f"WHEN 'DOUBLE' THEN 'decimal' WHEN 'VARCHAR' THEN 'string' END")

    def to_json(self, scalar: str) -> str:
        return f"to_json({scalar})"

    def raise_error(self, message: str, kind_sql: str) -> str:
        return f"CAST(error({self.quote(message)}) AS {kind_sql})"

    def regexp_group(self, text: str, pattern: str, group: int) -> str:
        return f"nullif(regexp_extract({text}, {self.quote(pattern)}, {group}), '')"

    def join(self, strings: str, separator: str) -> str:
        return f"array_to_string({strings}, {self.quote(separator)})"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"starts_with({text}, {prefix})"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "struct_pack(" + ", ".join(f'"{name}" := {value}' for name, value in fields) + ")"

    def field(self, struct: str, name: str) -> str:
        return f"struct_extract({struct}, {self.quote(name)})"

    def rows_query(self, rows: str, source: str, where: str) -> str:
        return f"SELECT unnest(_rows, recursive := true) FROM (SELECT {rows} AS _rows FROM {source} WHERE {where})"


class SparkDialect(Dialect):
    name = "spark"
    json_sql_type = "VARIANT"
    _type_column = 1

    def quote(self, text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def list_type(self, base: str) -> str:
        return f"ARRAY<{base}>"

    def transform(self, items: str, var: str, body: str, index: str | None = None) -> str:
        if index is None:
            return f"transform({items}, {var} -> {body})"
        return f"transform({items}, ({var}, {index}) -> {body})"

    def index0(self, index: str) -> str:
        return index

    def filter(self, items: str, var: str, predicate: str) -> str:
        return f"filter({items}, {var} -> {predicate})"

    def flatten(self, items: str) -> str:
        return f"flatten({items})"

    def concat(self, parts: list[str]) -> str:
        return parts[0] if len(parts) == 1 else "concat(" + ", ".join(parts) + ")"

    def length(self, items: str) -> str:
        return f"size({items})"

    def list_of(self, *values: str) -> str:
        return "array(" + ", ".join(values) + ")"

    def element(self, items: str, index0: int | str) -> str:
        return f"try_element_at({items}, ({index0}) + 1)"

    def slice(self, items: str, start0: int | str, count: int) -> str:
        return f"slice({items}, ({start0}) + 1, {count})"

    def empty_json(self) -> str:
        return "CAST(array() AS ARRAY<VARIANT>)"

    def null_json(self) -> str:
        return "CAST(NULL AS VARIANT)"

    def as_collection(self, value: str) -> str:
        return self.let(value, lambda w: (
            f"coalesce(try_variant_get({w}, '$', 'ARRAY<VARIANT>'), CASE WHEN {w} IS NULL OR is_variant_null({w}) "
            f"THEN {self.empty_json()} ELSE array({w}) END)"))

    def member(self, value: str, name: str) -> str:
        return f"try_variant_get({value}, {self.quote('$.' + name)})"

    def member_string(self, value: str, name: str) -> str:
        return f"try_variant_get({value}, {self.quote('$.' + name)}, 'STRING')"

    def path_list(self, value: str, segments) -> str | None:
        # Variant paths have no wildcard: only a chain whose last step is the array reads in one go.
        if any(many for _, many in segments[:-1]):
            return None
        path = "$" + "".join(f".{name}" for name, _ in segments if name)
        return f"coalesce(try_variant_get({value}, {self.quote(path)}, 'ARRAY<VARIANT>'), {self.empty_json()})"

    def path_value(self, value: str, path: str) -> str:
        return value if path == "$" else f"try_variant_get({value}, {self.quote(path)})"

    def path_as(self, value: str, path: str, kind: str) -> str:
        return f"try_variant_get({value}, {self.quote(path)}, '{self.sql_type(kind)}')"

    def json_as(self, value: str, kind: str) -> str:
        return f"try_variant_get({value}, '$', '{self.sql_type(kind)}')"

    def json_is_boolean(self, value: str) -> str:
        return f"(schema_of_variant({value}) = 'BOOLEAN')"

    def json_kind(self, value: str) -> str:
        # parse_json types a number with a point DECIMAL(p,s), with an exponent DOUBLE, any other BIGINT.
        return self.let(f"schema_of_variant({value})", lambda t: (
            f"CASE WHEN {t} IN ('TINYINT', 'SMALLINT', 'INT', 'BIGINT') THEN 'integer' "
            f"WHEN {t} IN ('FLOAT', 'DOUBLE') OR {t} LIKE 'DECIMAL%' THEN 'decimal' "
            f"WHEN {t} = 'STRING' THEN 'string' END"))

    def to_json(self, scalar: str) -> str:
        return f"CAST({scalar} AS VARIANT)"

    def raise_error(self, message: str, kind_sql: str) -> str:
        return f"CAST(raise_error({self.quote(message)}) AS {kind_sql})"

    def regexp_group(self, text: str, pattern: str, group: int) -> str:
        return f"nullif(regexp_extract({text}, {self.quote(pattern)}, {group}), '')"

    def join(self, strings: str, separator: str) -> str:
        return f"array_join({strings}, {self.quote(separator)})"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"startswith({text}, {prefix})"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "named_struct(" + ", ".join(f"{self.quote(name)}, {value}" for name, value in fields) + ")"

    def field(self, struct: str, name: str) -> str:
        return f"{struct}.`{name}`"

    def rows_query(self, rows: str, source: str, where: str) -> str:
        return f"SELECT inline(_rows) FROM (SELECT {rows} AS _rows FROM {source} WHERE {where})"


DIALECTS = {"duckdb": DuckDBDialect(), "spark": SparkDialect()}
