"""Seed 002's query: search the latest, unexpired artifacts of a namespace."""

from rest_framework import serializers

from artifacts.api.serializers.fields import StringListField
from artifacts.api.serializers.namespaced import ArtifactResponse
from sessions_app.api.common import StrictCharField, StrictSerializer


class Query(StrictSerializer):
    query = StrictCharField(max_length=4096, help_text="Up to 4,096 characters.")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)
    artifact_types = StringListField(required=False)
    thread_id = serializers.CharField(required=False, max_length=255)


class QueryResultItem(serializers.Serializer):
    artifact = ArtifactResponse()
    score = serializers.FloatField(help_text="Higher is better; comparable within one answer.")
    matched_chunk = serializers.CharField(help_text="The best-matching piece of the content.")
    highlight = serializers.CharField(help_text="An excerpt around the matched words.")


class QueryResponse(serializers.Serializer):
    results = QueryResultItem(many=True)
    combined_context = serializers.CharField(
        help_text="The matched chunks, best first, within DEPOT_SEARCH_CONTEXT_CHARS."
    )
    total_results = serializers.IntegerField(
        help_text="How many artifacts contain at least one of the words (exact when "
        "total_results_exact, else a lower bound)."
    )
    total_results_exact = serializers.BooleanField(
        help_text="false when a word was common enough that only its newest matches were "
        "ranked (DEPOT_SEARCH_RANK_WINDOW): total_results then counts those."
    )
    query = serializers.CharField()
    mode = serializers.ChoiceField(
        choices=["lexical", "hybrid"],
        help_text="lexical: full-text only; hybrid: fused with the semantic model.",
    )
