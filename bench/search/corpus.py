"""The search benchmark's corpus: English-like markdown documents, marker words at known rates,
and the 1-4-word queries, all deterministic from a seed.

Sentences come from templates over word classes. Each document has a topic; about half of its
nouns come from the topic's words, the rest from a general vocabulary, both Zipf-weighted. A
few "marker" words are injected at known rates, and the populate worker counts where they
landed, so single-word queries on them have a known answer.
"""

from __future__ import annotations

import random

TEXT_MIN_BYTES, TEXT_MAX_BYTES = 1800, 2300  # "about 2 KB" of inline text per artifact
ARTIFACT_TYPES = ("note", "plan", "report", "code", "summary")


def _words(text: str) -> list[str]:
    return text.split()


def _phrases(text: str) -> list[str]:
    return [phrase.strip() for phrase in text.split("|")]


_DETERMINERS = _words("the the the a a this that each every our their some another")
_PREPOSITIONS = _words(
    "in on for with from to by about after before during under over across between without"
    " within through"
)
_CONJUNCTIONS = _words("and but or so because while although since if when")
_SUBJECTS = ["we", "they", "you", "I", "our team will", "the team should", "someone needs to"]
_SUBJECTS += ["everyone can", "we should", "they might"]
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


# Realistic 1-4 word queries by category, in this order. Marker words have known document counts.
QUERIES_BY_CATEGORY: dict[str, list[str]] = {
    "very_rare": ["quokka", "axolotl", "narwhal migration"],
    "rare": ["zeppelin", "obsidian", "glacier", "saffron invoice", "lighthouse deployment plan"],
    "uncommon": ["retrospective", "spreadsheet", "playbook for incident response"],
    "topic": _phrases(
        "database migration rollback | kubernetes cluster autoscaling | quarterly revenue forecast"
        " | invoice payment reminder | phishing password reset | customer refund complaint"
        " | model training accuracy | shipment tracking delay | contract termination clause"
        " | grafana alert latency | pull request review | candidate interview feedback"
        " | mobile app crash | gdpr consent | warehouse inventory"
    ),
    "common": _phrases(
        "update | system | team | report | review | weekly team meeting notes"
        " | update the project status | how to fix the error | review the current plan"
        " | risk and cost estimate | next steps | what changed in the last release"
        " | customer support"
    ),
    "stopwords": ["what is this"],
}
QUERIES: list[tuple[str, str]] = [(c, q) for c, qs in QUERIES_BY_CATEGORY.items() for q in qs]
QUERY_CATEGORIES = tuple(QUERIES_BY_CATEGORY)
