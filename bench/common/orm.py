"""Django-side helpers of the benchmark workers: imported only in a bench.common.worker child,
after django.setup()."""

from __future__ import annotations

from typing import Any

from django.db import connection

from artifacts import new_content
from artifacts.models import Artifact


def new_ids(count: int) -> list[int]:
    """Artifact ids from the table's own sequence, so that `root_id = id` is written in the
    insert."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Artifact._meta.db_table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
        return [row[0] for row in cursor.fetchall()]


def version1_artifact(pk: int, *, text: str, **fields: Any) -> Artifact:
    """An unsaved version-1 row of inline `text` as artifacts.services.artifact_create leaves
    it: the service's own content columns (hash, size, text, preview); id = root_id, version 1
    and is_latest restate what artifact_create does (it saves, then sets root_id to the id)."""
    content = new_content.content_fields(new_content.NewContent(text=text))
    return Artifact(id=pk, root_id=pk, version=1, is_latest=True, **fields, **content)


def statements(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CaptureQueriesContext's queries as {"ms", "sql"} (full SQL; truncate when reporting)."""
    return [{"ms": round(1000 * float(q["time"]), 2), "sql": q["sql"]} for q in queries]


def db_ms(queries: list[dict[str, Any]]) -> float:
    return round(1000 * sum(float(q["time"]) for q in queries), 2)


def explain_slow(found: list[dict[str, Any]], min_ms: float, sql_chars: int) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT among `found` statements that took `min_ms`
    or more."""
    plans = []
    for statement in found:
        sql = statement["sql"]
        if statement["ms"] >= min_ms and sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
            plans.append({"ms": statement["ms"], "sql": sql[:sql_chars], "plan": plan})
    return plans
