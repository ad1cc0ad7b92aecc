"""Hand-written SQL for the hottest reads, returning the model instances the ORM would.

Compiling a queryset with joins costs more CPU than PostgreSQL takes to answer it (profiled
in docs/BENCHMARKS.md, REST): the API token lookup runs on every API call and the
subscription list on every dashboard load. `Joined` writes the SELECT once per process from
the models' own field lists, so a field added to a model is read here too, and turns each row
into one instance per model (None for a LEFT JOIN that found nothing), as `select_related`
would.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def columns(model: type[models.Model], alias: str) -> list[str]:
    quote = connection.ops.quote_name
    return [f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields]


class Joined:
    """SELECT every column of several models (`(model, alias)` in order) FROM `tail`."""

    def __init__(self, models_and_aliases: Sequence[tuple[type[models.Model], str]], tail: str):
        self.models = [model for model, _ in models_and_aliases]
        self.attnames = [[f.attname for f in model._meta.concrete_fields] for model in self.models]
        self.pk_at = [
            names.index(model._meta.pk.attname)
            for model, names in zip(self.models, self.attnames, strict=True)
        ]
        # What the ORM applies to a column it read (JSON decoding, say): (position, column, fns).
        self.converters: list[tuple[int, object, list]] = []
        position = 0
        for model, alias in models_and_aliases:
            for field in model._meta.concrete_fields:
                column = field.get_col(alias)
                found = connection.ops.get_db_converters(column)
                found += field.get_db_converters(connection)
                if found:
                    self.converters.append((position, column, found))
                position += 1
        selected = [name for model, alias in models_and_aliases for name in columns(model, alias)]
        self.sql = f"SELECT {', '.join(selected)} {tail}"

    def rows(self, params: Sequence) -> list[tuple]:
        """One tuple of instances per row; an all-NULL model (outer join) is None."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            raw_rows = cursor.fetchall()
        db = connection.alias
        found = []
        for raw in raw_rows:
            values = list(raw)
            for position, column, functions in self.converters:
                value = values[position]
                for function in functions:
                    value = function(value, column, connection)
                values[position] = value
            instances, start = [], 0
            for model, attnames, pk_at in zip(self.models, self.attnames, self.pk_at, strict=True):
                part = values[start : start + len(attnames)]
                start += len(attnames)
                instances.append(None if part[pk_at] is None else model.from_db(db, attnames, part))
            found.append(tuple(instances))
        return found
