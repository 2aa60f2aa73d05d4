"""Text extraction, background indexing and the seed-002 query (product.md §2.3)."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from artifacts import semantic
from artifacts.models import Artifact, ArtifactChunk
from attachments import storage
from attachments.models import Attachment, blob_key
from tests.support import AsgiClient, Tenant, client_with

# transaction=True only on the tests that cross threads: the ASGI client serves from another
# thread, and the task worker needs committed rows (and closes its connection).
pytestmark = pytest.mark.django_db

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
QUERY = f"{NS}/artifacts/query"


@pytest.fixture(autouse=True)
def lexical_only(request, settings):  # type: ignore[no-untyped-def]
    """The relevance, count and shape tests are about the lexical ranking, which must hold on
    both profiles whether or not the semantic extra is installed."""
    if "semantic" not in request.node.name:
        settings.DEPOT_SEMANTIC_SEARCH = "off"


def run_tasks() -> None:
    """What the worker does in production, here and now."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)


def _create(client: APIClient, name: str, content: str, **fields) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(
        f"{NS}/artifacts", {"name": name, "content": content, **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _upload(asgi: AsgiClient, content: bytes, name: str) -> dict:
    response = asgi.upload(f"{NS}/artifacts/upload", content, name=name)
    assert response.status_code == 201, response.text
    return response.json()


def _search(client: APIClient, query: str, **body) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(QUERY, {"query": query, **body}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


# --- extraction ---------------------------------------------------------------------------------


def _pdf_bytes(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def _docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "revenue"
    table.rows[0].cells[1].text = "increased"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("name", "content", "expected", "absent"),
    [
        ("notes.md", b"# Heading\nmarkdown pelican", "pelican", None),
        ("data.json", b'{"bird": "cormorant"}', "cormorant", None),
        ("table.csv", b"species,count\nalbatross,3\n", "albatross", None),
        (
            "page.html",
            b"<html><head><title>t</title><script>var hidden='gannet'</script></head>"
            b"<body><p>visible puffin</p><style>.x{}</style></body></html>",
            "visible puffin",
            "gannet",
        ),
        ("paper.pdf", None, "flamingo", None),
        ("report.docx", None, "heron", None),
    ],
)
def test_extractors(
    asgi_owner: AsgiClient,
    owner: APIClient,
    name: str,
    content: bytes | None,
    expected: str,
    absent: str | None,
) -> None:
    if name.endswith(".pdf"):
        content = _pdf_bytes("The flamingo stands on one leg in the lagoon.")
    elif name.endswith(".docx"):
        content = _docx_bytes("A grey heron waited by the river.")
    made = _upload(asgi_owner, content, name)
    # Nothing is extracted inside the upload request.
    assert made["index_status"] == "pending"
    assert made["content_text"] == "" and made["is_indexed"] is False
    run_tasks()
    artifact = owner.get(f"{NS}/artifacts/{made['artifact_id']}").json()
    assert expected in artifact["content_text"], artifact["content_text"]
    assert artifact["index_status"] == "indexed"
    assert artifact["is_indexed"] is True and artifact["index_error"] == ""
    assert artifact["chunk_count"] >= 1 and artifact["indexed_at"]
    assert artifact["index_collection"] == "acme/alpha/default"
    if absent:
        assert absent not in artifact["content_text"]
    if name.endswith(".docx"):
        assert "revenue\tincreased" in artifact["content_text"]


@pytest.mark.django_db(transaction=True)
def test_a_corrupt_pdf_sets_index_error_and_nothing_else_breaks(
    asgi_owner: AsgiClient, owner: APIClient
) -> None:
    corrupt = b"%PDF-1.7\n" + b"\x00garbage that is not a pdf" * 50
    made = _upload(asgi_owner, corrupt, "broken.pdf")
    _create(owner, "Fine doc", "ordinary words about kestrels")
    run_tasks()
    broken = owner.get(f"{NS}/artifacts/{made['artifact_id']}").json()
    assert broken["index_error"] and "PDF" in broken["index_error"]
    assert (
        broken["is_indexed"] is False
        and broken["chunk_count"] == 0
        and broken["index_attempts"] == 1
    )
    assert Artifact.objects.get(artifact_id=made["artifact_id"]).index_status == "failed"
    # The file still downloads and search still works.
    link = owner.get(f"{NS}/artifacts/{made['artifact_id']}/download").json()
    assert link["file_size_bytes"] == len(corrupt)
    assert asgi_owner.get(f"/api/artifacts/{made['artifact_id']}/file").content == corrupt
    assert _search(owner, "kestrels")["total_results"] == 1


@pytest.mark.django_db(transaction=True)
def test_unsupported_types_record_an_index_error(asgi_owner: AsgiClient, owner: APIClient) -> None:
    made = _upload(asgi_owner, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "pixel.png")
    run_tasks()
    body = owner.get(f"{NS}/artifacts/{made['artifact_id']}").json()
    assert "no text extractor" in body["index_error"] and body["is_indexed"] is False


@pytest.mark.django_db(transaction=True)
def test_retries_increment_index_attempts(
    asgi_owner: AsgiClient, owner: APIClient, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_INDEX_RETRY_SECONDS = 0
    made = _upload(asgi_owner, b"text that will be unreachable", "gone.txt")
    # The bytes vanish from storage: a failure that retrying might cure.
    storage.delete(blob_key(made["content_hash"].removeprefix("sha256:")))
    run_tasks()
    body = owner.get(f"{NS}/artifacts/{made['artifact_id']}").json()
    assert body["index_attempts"] == settings.DEPOT_INDEX_MAX_ATTEMPTS == 3
    assert body["is_indexed"] is False and body["index_error"]
    assert Artifact.objects.get(artifact_id=made["artifact_id"]).index_status == "failed"


@pytest.mark.django_db(transaction=True)
def test_retry_waits_for_its_backoff(asgi_owner: AsgiClient, owner: APIClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_INDEX_RETRY_SECONDS = 60
    made = _upload(asgi_owner, b"bytes", "later.txt")
    key = blob_key(made["content_hash"].removeprefix("sha256:"))
    data = b"".join(storage.read_chunks(key))
    storage.delete(key)
    run_tasks()
    assert Artifact.objects.get(artifact_id=made["artifact_id"]).index_attempts == 1
    # The bytes come back; the retry runs only once its backoff has passed.
    storage.write_stream(iter([data]))
    staged = storage.write_stream(iter([data]))
    storage.promote(staged)
    run_tasks()
    assert Artifact.objects.get(artifact_id=made["artifact_id"]).index_attempts == 1
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        run_tasks()
    indexed = Artifact.objects.get(artifact_id=made["artifact_id"])
    assert (indexed.index_attempts, indexed.is_indexed, indexed.index_error) == (2, True, "")


@pytest.mark.django_db(transaction=True)
def test_attachments_get_their_text_in_the_background(asgi_owner: AsgiClient) -> None:
    made = asgi_owner.upload(
        "/api/uploads/extract", b"# minutes\nthe osprey returned", name="m.md"
    ).json()
    attachment = Attachment.objects.get()
    assert attachment.content_text == "" and attachment.index_status == "pending"
    run_tasks()
    attachment.refresh_from_db()
    assert "osprey" in attachment.content_text and attachment.index_status == "indexed"
    assert made["attachment_id"] == attachment.attachment_id


# --- query ----------------------------------------------------------------------------------------

CORPUS = {
    "Kubernetes rollout": "Deploying with kubectl rollout status, readiness probes, pod budgets.",
    "Postgres vacuum": "Autovacuum thresholds, table bloat and the visibility map in PostgreSQL.",
    "Asyncio loops": "The Python asyncio event loop schedules coroutines and futures.",
    "Sourdough": "Feed the starter, autolyse the flour, then bake the loaf in a dutch oven.",
    "Marathon plan": "Long runs on weekends, tempo intervals midweek, taper before race day.",
    "Tax filing": "Deductions, receipts and the quarterly estimated payments for freelancers.",
    "Garden beds": "Raised beds need compost, mulch and drip irrigation for tomatoes.",
    "Kafka topics": "Partitions, consumer groups and offsets in an Apache Kafka cluster.",
    "Rust ownership": "Borrowing, lifetimes and the borrow checker enforce memory safety in Rust.",
    "Coffee brewing": "Pour-over ratios, grind size and water temperature for espresso and filter.",
    "Bird migration": "Arctic terns migrate between the poles following seasonal daylight.",
    "Chess openings": "The Sicilian defence and the queen's gambit shape the middlegame.",
    "Solar panels": "Photovoltaic inverters, net metering and battery storage on rooftops.",
    "Knitting basics": "Cast on, purl and knit stitches with merino yarn and circular needles.",
    "Volcano types": "Shield volcanoes, stratovolcanoes and pyroclastic flows from eruptions.",
    "Jazz harmony": "Ii-V-I progressions, tritone substitution and modal improvisation.",
    "Tide pools": "Anemones, hermit crabs and starfish live in rocky intertidal pools.",
    "Bicycle repair": "Truing a wheel, adjusting derailleur cables and patching an inner tube.",
    "Chess endgames": "King and pawn endgames, opposition and the Lucena position.",
    "Docker images": "Multi-stage builds shrink container images and cache layers.",
    "Redis streams": "Consumer groups read entries from Redis streams with XREADGROUP.",
    "Origami cranes": "Valley folds and mountain folds turn a square sheet into a paper crane.",
    "Beekeeping": "Hive inspections, queen excluders and harvesting honey from supers.",
    "Astronomy": "Nebulae, galaxies and telescopes with equatorial mounts for astrophotography.",
    "Fermentation": "Kimchi and sauerkraut ferment with lactobacillus in brine.",
    "Mountaineering": "Crampons, ice axes and acclimatisation for high-altitude ascents.",
    "Typography": "Kerning, leading and serif typefaces improve readability.",
    "Sailing knots": "Bowline, cleat hitch and clove hitch secure lines on a sailboat.",
    "Watercolour": "Wet-on-wet washes and granulating pigments on cold-press paper.",
    "Wine tasting": "Tannins, acidity and terroir distinguish a Burgundy pinot noir.",
}
RELEVANCE = {
    "kubectl readiness probes": "Kubernetes rollout",
    "autovacuum bloat": "Postgres vacuum",
    "asyncio coroutines": "Asyncio loops",
    "sourdough starter loaf": "Sourdough",
    "tempo taper race": "Marathon plan",
    "kafka partitions offsets": "Kafka topics",
    "borrow checker lifetimes": "Rust ownership",
    "espresso grind": "Coffee brewing",
    "terns migrating": "Bird migration",
    "pyroclastic eruptions": "Volcano types",
    "tritone substitution": "Jazz harmony",
    "derailleur inner tube": "Bicycle repair",
    "lucena endgame": "Chess endgames",
    "honey hive queen": "Beekeeping",
}


@pytest.mark.django_db(transaction=True)
def test_relevance_on_a_fixed_corpus(owner: APIClient) -> None:
    for name, text in CORPUS.items():
        _create(owner, name, text)
    run_tasks()
    for query, expected in RELEVANCE.items():
        body = _search(owner, query, limit=5)
        assert body["results"], query
        assert body["results"][0]["artifact"]["name"] == expected, (
            query,
            [r["artifact"]["name"] for r in body["results"]],
        )
    body = _search(owner, "chess", limit=5)
    assert {r["artifact"]["name"] for r in body["results"]} == {"Chess openings", "Chess endgames"}
    assert body["total_results"] == 2


@pytest.mark.django_db(transaction=True)
def test_response_shape(owner: APIClient) -> None:
    for name, text in list(CORPUS.items())[:5]:
        _create(owner, name, text, artifact_type="note", thread_id="t1")
    run_tasks()
    body = _search(owner, "asyncio event loop coroutines")
    assert set(body) == {
        "results",
        "combined_context",
        "total_results",
        "total_results_exact",
        "query",
        "mode",
    }
    assert body["total_results_exact"] is True
    assert body["query"] == "asyncio event loop coroutines"
    assert body["mode"] == "lexical"
    top = body["results"][0]
    assert set(top) == {"artifact", "score", "matched_chunk", "highlight"}
    assert "coroutines" in top["matched_chunk"] and isinstance(top["score"], float)
    assert "artifact_id" in top["artifact"] and top["artifact"]["is_latest"] is True
    assert "coroutines" in body["combined_context"]
    filtered = _search(owner, "asyncio", artifact_types=["other"])
    assert filtered["results"] == [] and filtered["total_results"] == 0
    assert _search(owner, "asyncio", artifact_types="note,other")["total_results"] == 1
    assert _search(owner, "asyncio", thread_id="t1")["total_results"] == 1
    assert _search(owner, "asyncio", thread_id="t2")["total_results"] == 0


@pytest.mark.django_db(transaction=True)
def test_combined_context_is_bounded(owner: APIClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_SEARCH_CONTEXT_CHARS = 300
    for index in range(6):
        _create(owner, f"Doc {index}", f"albatross paragraph {index} " + "filler words " * 40)
    run_tasks()
    body = _search(owner, "albatross", limit=6)
    assert len(body["results"]) == 6
    assert 0 < len(body["combined_context"]) <= 300


@pytest.mark.django_db(transaction=True)
def test_results_are_tenant_scoped(owner: APIClient, outsider: APIClient, tenant: Tenant) -> None:
    _create(owner, "Ours", "the secret ingredient is cardamom")
    outsider.post(
        "/api/v1/orgs/globex/workspaces/alpha/namespaces/default/artifacts",
        {"name": "Theirs", "content": "their cardamom recipe"},
        format="json",
    )
    run_tasks()
    ours = _search(owner, "cardamom")
    assert [r["artifact"]["name"] for r in ours["results"]] == ["Ours"]
    assert outsider.post(QUERY, {"query": "cardamom"}, format="json").status_code == 404
    theirs = outsider.post(
        "/api/v1/orgs/globex/workspaces/alpha/namespaces/default/artifacts/query",
        {"query": "cardamom"},
        format="json",
    ).json()
    assert [r["artifact"]["name"] for r in theirs["results"]] == ["Theirs"]
    assert (
        client_with(tenant.limited_key)
        .post(QUERY, {"query": "cardamom"}, format="json")
        .status_code
        == 404
    )


@pytest.mark.django_db(transaction=True)
def test_old_versions_and_expired_artifacts_are_hidden(owner: APIClient) -> None:
    made = _create(owner, "Versioned", "first draft mentions zeppelin")
    owner.put(
        f"{NS}/artifacts/{made['artifact_id']}",
        {"content": "second draft mentions dirigible"},
        format="json",
    )
    _create(owner, "Short lived", "ephemeral zeppelin note", ttl_seconds=60)
    _create(owner, "Pinned", "pinned zeppelin note", ttl_seconds=60, is_pinned=True)
    run_tasks()
    assert [r["artifact"]["version"] for r in _search(owner, "dirigible")["results"]] == [2]
    with time_machine.travel(timezone.now() + timedelta(seconds=120)):
        names = {r["artifact"]["name"] for r in _search(owner, "zeppelin")["results"]}
    assert names == {"Pinned"}


@pytest.mark.django_db(transaction=True)
def test_a_replaced_version_keeps_no_chunks(owner: APIClient) -> None:
    made = _create(owner, "Drafts", "first draft about herons")
    run_tasks()  # version 1 indexed while it is the latest
    first = Artifact.objects.get(artifact_id=made["artifact_id"])
    assert ArtifactChunk.objects.filter(artifact=first).exists()
    owner.put(f"{NS}/artifacts/{made['artifact_id']}", {"content": "second draft"}, format="json")
    assert not ArtifactChunk.objects.filter(artifact=first).exists()
    # Replaced before its task ran: version 2's task finds it is no longer the latest.
    owner.put(f"{NS}/artifacts/{made['artifact_id']}", {"content": "third draft"}, format="json")
    run_tasks()
    chunked = set(ArtifactChunk.objects.values_list("artifact__version", flat=True))
    assert chunked == {3}


@pytest.mark.django_db(transaction=True)
def test_deleting_an_artifact_removes_its_chunks(owner: APIClient) -> None:
    made = _create(owner, "Doomed", "text about marmots")
    run_tasks()
    assert ArtifactChunk.objects.count() >= 1
    owner.delete(f"{NS}/artifacts/{made['artifact_id']}")
    assert ArtifactChunk.objects.count() == 0
    assert _search(owner, "marmots")["total_results"] == 0


@pytest.mark.django_db(transaction=True)
def test_an_in_place_rename_is_searchable(owner: APIClient) -> None:
    made = _create(owner, "Untitled", "body text")
    run_tasks()
    owner.put(f"{NS}/artifacts/{made['artifact_id']}", {"name": "Capybara handbook"}, format="json")
    run_tasks()
    assert _search(owner, "capybara")["results"][0]["artifact"]["name"] == "Capybara handbook"


@pytest.mark.django_db(transaction=True)
def test_reindex_is_idempotent(owner: APIClient) -> None:
    for name, text in list(CORPUS.items())[:8]:
        _create(owner, name, text)
    run_tasks()
    before = _search(owner, "kafka partitions")
    chunks = ArtifactChunk.objects.count()
    for _ in range(2):
        call_command("reindex", "--namespace", "acme/alpha/default", verbosity=0)
        assert ArtifactChunk.objects.count() == chunks
        after = _search(owner, "kafka partitions")
        assert [r["artifact"]["artifact_id"] for r in after["results"]] == [
            r["artifact"]["artifact_id"] for r in before["results"]
        ]
    call_command("reindex", "--all", verbosity=0)
    assert ArtifactChunk.objects.count() == chunks


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"query": ""}, ["body", "query"]),
        ({"query": "   "}, ["body", "query"]),
        ({"query": "x" * 4097}, ["body", "query"]),
        ({"query": 42}, ["body", "query"]),
        ({"query": ["a"]}, ["body", "query"]),
        ({"query": "?!…"}, ["body", "query"]),
        ({}, ["body", "query"]),
        ({"query": "a", "limit": 0}, ["body", "limit"]),
        ({"query": "a", "limit": 51}, ["body", "limit"]),
        ({"query": "a", "colour": 1}, ["body", "colour"]),
    ],
)
def test_bad_queries_are_422(owner: APIClient, body: dict, loc: list) -> None:
    response = owner.post(QUERY, body, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_a_4096_character_query_is_fine(owner: APIClient) -> None:
    assert owner.post(QUERY, {"query": "word " * 819 + "w"}, format="json").status_code == 200


def test_query_needs_a_key(tenant: Tenant) -> None:
    assert client_with(None).post(QUERY, {"query": "x"}, format="json").status_code == 401
    assert (
        client_with(tenant.read_only_key).post(QUERY, {"query": "x"}, format="json").status_code
        == 200
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not semantic.available(), reason="the semantic extra (pip install .[semantic]) is not installed"
)
def test_semantic_mode_ranks_a_paraphrase_above_an_unrelated_artifact(owner: APIClient) -> None:
    _create(
        owner, "Feline care", "How to look after a kitten: feeding, litter training and vet visits."
    )
    _create(
        owner,
        "Tax filing",
        "Deductions, receipts and quarterly estimated payments for freelancers.",
    )
    run_tasks()
    body = _search(owner, "raising a young cat")  # no word in common with either
    assert body["mode"] == "hybrid"
    assert [r["artifact"]["name"] for r in body["results"]] == ["Feline care", "Tax filing"]
    indexed = Artifact.objects.get(name="Feline care")
    assert indexed.embedding_model_id == semantic.MODEL_ID


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not semantic.available(), reason="the semantic extra (pip install .[semantic]) is not installed"
)
def test_semantic_ranking_reads_embeddings_in_batches(owner: APIClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from artifacts.search import eligible_artifacts, vector

    topics = ["kittens and cats", "tax receipts", "mountain hiking", "espresso coffee", "jazz"]
    for index, topic in enumerate(topics * 2):
        _create(owner, f"Note {index}", f"A short note about {topic}, number {index}.")
    run_tasks()
    namespace = Artifact.objects.first().namespace
    eligible = eligible_artifacts(namespace, [], None)
    query = "looking after a young cat"
    # What it must equal: every embedding at once, best first.
    rows = list(ArtifactChunk.objects.values_list("id", "artifact_id", "embedding"))
    matrix = np.frombuffer(b"".join(bytes(r[2]) for r in rows), dtype=np.float32).reshape(
        len(rows), -1
    )
    scores = matrix @ semantic.embed_query(query)
    expected = [rows[i][0] for i in np.argsort(-scores, kind="stable")[:4]]
    monkeypatch.setattr(vector, "VECTOR_BATCH", 3)  # 10 chunks: batches of 3, 3, 3 and 1
    read: list[int] = []
    frombuffer = np.frombuffer

    def counting(buffer, dtype):  # type: ignore[no-untyped-def]
        array = frombuffer(buffer, dtype=dtype)
        read.append(len(array) // matrix.shape[1])
        return array

    monkeypatch.setattr(np, "frombuffer", counting)
    found = vector.vector_ranking(query, eligible, 4)
    assert max(read) <= 3 and sum(read) >= len(rows)  # never all the embeddings at once
    assert [chunk_id for chunk_id, *_ in found] == expected
    assert [score for *_, score in found] == sorted((s for *_, s in found), reverse=True)


def test_artifacts_with_more_of_the_words_come_first() -> None:
    from artifacts.search.ranking import rank_artifacts

    scored = [
        # artifact 1: both words, each in a different chunk, low scores
        (11, 1, 0.1, 0b01),
        (12, 1, 0.2, 0b10),
        # artifact 2: one word, repeated (high score)
        (21, 2, 9.0, 0b01),
        # artifact 3: both words in one chunk
        (31, 3, 0.3, 0b11),
        (32, 3, 5.0, 0b01),
    ]
    # 3's best chunk is the one with both words, although another scores higher.
    assert rank_artifacts(scored) == [(31, 3, 0.3), (12, 1, 0.2), (21, 2, 9.0)]


@pytest.mark.django_db(transaction=True)
def test_every_word_counts_across_an_artifacts_chunks(owner: APIClient) -> None:
    filler = " ".join(["lorem ipsum dolor sit amet"] * 60)  # several chunks
    _create(owner, "Split", f"the osprey dives. {filler} and the marsh at dusk.")
    _create(owner, "Repeats", "osprey osprey osprey osprey, an osprey again")
    run_tasks()
    assert Artifact.objects.get(name="Split").chunk_count > 2
    body = _search(owner, "osprey marsh")
    assert [r["artifact"]["name"] for r in body["results"]] == ["Split", "Repeats"]
    assert "marsh" in body["results"][0]["matched_chunk"]
    assert body["total_results"] == 2 and body["total_results_exact"] is True


@pytest.mark.django_db(transaction=True)
def test_a_common_word_is_ranked_over_its_newest_matches(owner: APIClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_SEARCH_RANK_WINDOW = 4
    _create(owner, "Old pair", "a heron and a kingfisher by the river")
    _create(owner, "Old thread", "a heron on the jetty", thread_id="t-old")
    for index in range(6):
        _create(owner, f"Heron {index}", f"heron sighting number {index}")
    run_tasks()
    body = _search(owner, "heron", limit=10)
    # Only the 4 newest chunks with "heron" are ranked, and the answer says it saw no more.
    assert {r["artifact"]["name"] for r in body["results"]} == {f"Heron {i}" for i in range(2, 6)}
    assert body["total_results"] == 4 and body["total_results_exact"] is False
    # Two words: 2 newest chunks each. "kingfisher" is rare, so all of its matches are in,
    # and the old artifact with both words comes first.
    body = _search(owner, "kingfisher heron", limit=10)
    assert [r["artifact"]["name"] for r in body["results"]] == ["Old pair", "Heron 5", "Heron 4"]
    assert body["total_results_exact"] is False
    # Filters apply before the newest matches are taken, not after.
    body = _search(owner, "heron", thread_id="t-old")
    assert [r["artifact"]["name"] for r in body["results"]] == ["Old thread"]
    assert body["total_results"] == 1 and body["total_results_exact"] is True


@pytest.mark.django_db(transaction=True)
def test_stop_words_neither_match_nor_spoil_every_word(owner: APIClient) -> None:
    _create(owner, "Egret", "an egret in the shallows")
    _create(owner, "Other", "nothing about birds here")
    run_tasks()
    body = _search(owner, "the egret")
    assert [r["artifact"]["name"] for r in body["results"]] == ["Egret"]
    # PostgreSQL drops all three as stop words: nothing to match, and no error.
    for query in ("what is this", "zzyzx qwertyuiop"):
        body = _search(owner, query)
        assert body["results"] == [] and body["total_results"] == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_common_words_window_is_an_id_range_sized_by_the_statistics(
    owner: APIClient, settings
) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    from artifacts.search import postgres

    settings.DEPOT_SEARCH_RANK_WINDOW = 6
    _create(owner, "Old kingfisher", "a heron and a kingfisher")
    for index in range(40):
        _create(owner, f"Heron {index:02}", f"heron number {index}")
    run_tasks()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE artifacts_artifactchunk")
    postgres._stats["at"] = -postgres.STATS_SECONDS  # read the new statistics now
    namespace = Artifact.objects.get(name="Old kingfisher").namespace
    newest = ArtifactChunk.objects.order_by("-id").values_list("id", flat=True)[0]
    # "heron" is in every chunk: its 6 matches come from the 6 newest chunk ids on; the rare
    # "kingfisher" gets no range (all of its matches are read).
    assert postgres._floors(["'heron'", "'kingfish'"], namespace, 6) == {0: newest - 6}
    body = _search(owner, "heron", limit=10)
    assert [r["artifact"]["name"] for r in body["results"]] == [
        f"Heron {index:02}" for index in range(39, 33, -1)
    ]
    assert body["total_results"] == 6 and body["total_results_exact"] is False
    body = _search(owner, "kingfisher heron", limit=10)
    assert [r["artifact"]["name"] for r in body["results"]] == [
        "Old kingfisher",
        "Heron 39",
        "Heron 38",
        "Heron 37",
    ]
