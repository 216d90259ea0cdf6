"""Versioned prompt templates for ReMixer: per-domain generation, judging and reasoning (q').

Written from the outline in METHOD.md §2.1–2.3 (the paper's Appendix A prompts, paraphrased by us).
Every record a stage writes carries `PROMPT_VERSION` in its provenance and in its id, so changing a
template here (bump the version!) makes the next run produce new records instead of silently mixing
old and new ones.

A domain is a `DomainSpec`: the BRIGHT retrieval instruction (the training `prompt` field), a
generation task, the relevance definition for the judge, query and document types, and the coarse
label the optional clean-stage domain filter asks about. BRIGHT's 12 short-document domains are
built in (`BRIGHT_DOMAINS`); users add theirs in the synth config (`custom_domains`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reasonembed.evaluation.benchmarks import BRIGHT_INSTRUCTIONS

PROMPT_VERSION = "remixer-v1"
# The judge's own version (in judgement provenance only, so query ids stay stable): v2 added the
# score follow-up turn (`score_followup_messages`); v3 also reads a follow-up reply that states one
# plain integer 1–5 without the tag (judge.parse_followup_score).
JUDGE_PROMPT_VERSION = "remixer-v1+judge-v3"
# BRIGHT's reason.py prompt (reason_messages): q' in ReMixer, `--rewrite` at search time.
REASON_PROMPT_VERSION = "bright-reason-v1"
SCORE_FOLLOWUP = "Based on your analysis, output only the relevance score as <score>N</score> with N from 1 to 5."


@dataclass
class DomainSpec:
    name: str = field(metadata={"help": "Domain key, e.g. 'biology' or 'my_legal_corpus'."})
    instruction: str = field(metadata={"help": "Retrieval task instruction (training 'prompt' field)."})
    generation_task: str = field(metadata={"help": "What query to write from a document of this domain."})
    relevance_definition: str = field(metadata={"help": "When a document counts as relevant to a query (judge)."})
    query_type: str = field(default="query", metadata={"help": "Name of a query in this domain, e.g. 'post'."})
    doc_type: str = field(default="document", metadata={"help": "Name of a document in this domain."})
    label: str = field(default="", metadata={"help": "Coarse domain label for the clean-stage LLM domain filter."})


def _stackexchange(name: str, pretty: str, article: str = "a", passage_kind: str | None = None) -> DomainSpec:
    kind = passage_kind or f"{pretty}-related"
    return DomainSpec(
        name=name,
        instruction=BRIGHT_INSTRUCTIONS[name],
        generation_task=(
            f"You are given a {kind} passage. Write a StackExchange post (a real question a person would ask) "
            "for which the critical concepts or theories in the passage could serve as references for domain "
            "experts drafting an answer. The post must not simply ask about the passage's content."
        ),
        relevance_definition=(
            "The document is relevant if the critical concepts or theories discussed in the document can "
            "provide references for domain experts to draft an answer to the post."
        ),
        query_type=f"{pretty} post", doc_type="passage", label="Coding" if name == "stackoverflow" else pretty,
    )


_MATH_RELEVANCE = "The document is relevant if the theorems used in the document can help solve the problem."

BRIGHT_DOMAINS: dict[str, DomainSpec] = {
    spec.name: spec
    for spec in [
        _stackexchange("biology", "Biology"),
        _stackexchange("earth_science", "Earth Science", "an"),
        _stackexchange("economics", "Economics", "an"),
        _stackexchange("psychology", "Psychology"),
        _stackexchange("robotics", "Robotics"),
        _stackexchange("stackoverflow", "Stack Overflow", passage_kind="Coding-related"),
        _stackexchange("sustainable_living", "Sustainable Living"),
        DomainSpec(
            name="leetcode",
            instruction=BRIGHT_INSTRUCTIONS["leetcode"],
            generation_task=(
                "You are given a solved LeetCode problem with its solution. Write a NEW LeetCode-style problem "
                "(statement, input/output format, an example) that the original's underlying algorithms or "
                "data structures help solve. Do not restate the original problem."
            ),
            relevance_definition=(
                "The document is relevant if the underlying algorithms or data structures used in the document "
                "can provide helpful insights for solving the problem."
            ),
            query_type="coding problem", doc_type="solved problem", label="Coding",
        ),
        DomainSpec(
            name="pony",
            instruction=BRIGHT_INSTRUCTIONS["pony"],
            generation_task=(
                "You are given a passage of the Pony programming language documentation. Write a Pony coding "
                "instruction (a concrete programming task) that the syntax described in the passage helps implement."
            ),
            relevance_definition=(
                "The document is relevant if the Pony syntax it describes is necessary for beginners with no "
                "prior knowledge of Pony to complete the coding instruction."
            ),
            query_type="coding instruction", doc_type="documentation passage", label="Coding",
        ),
        DomainSpec(
            name="aops",
            instruction=BRIGHT_INSTRUCTIONS["aops"],
            generation_task=(
                "You are given a math problem with its solution. Write a NEW math problem that the same "
                "problem-solving skills help solve. Do not restate the original problem."
            ),
            relevance_definition=_MATH_RELEVANCE, query_type="math problem", doc_type="solved problem", label="Math",
        ),
        DomainSpec(
            name="theoremqa_questions",
            instruction=BRIGHT_INSTRUCTIONS["theoremqa_questions"],
            generation_task=(
                "You are given a math problem (possibly with its solution). Write a NEW math problem, on a "
                "different topic or setting, that the theorems used in the given problem help solve. Do not "
                "restate or paraphrase the original problem and do not name the theorem."
            ),
            relevance_definition=_MATH_RELEVANCE, query_type="math problem", doc_type="problem", label="Math",
        ),
        DomainSpec(
            name="theoremqa_theorems",
            instruction=BRIGHT_INSTRUCTIONS["theoremqa_theorems"],
            generation_task="You are given a theorem. Write a math problem that the theorem helps solve, without naming it.",
            relevance_definition="The document is relevant if the theorem it describes can help solve the problem.",
            query_type="math problem", doc_type="theorem", label="Math",
        ),
    ]
}

# METHOD.md §2.1: length drawn uniformly from a 12-entry list, education from a 5-entry list.
LENGTH_BUCKETS: dict[str, int] = {
    "less than 100 words": 1, "100 to 200 words": 2, "200 to 300 words": 3,
    "300 to 400 words": 3, "400 to 500 words": 2, "at least 500 words": 1,
}
EDUCATION_LEVELS: dict[str, int] = {"high school": 1, "college": 2, "PhD": 2}


def generation_messages(spec: DomainSpec, document: str, length: str, education: str) -> list[dict[str, str]]:
    system = "You write realistic, self-contained search queries for training retrieval models."
    user = (
        f"{spec.generation_task}\n\n"
        f"Requirements:\n"
        f"- The {spec.query_type} should be {length} long.\n"
        f"- It should require {education} level education to understand.\n"
        f"- It must be self-contained: a reader who never saw the {spec.doc_type} must understand it. Never "
        f"refer to it with words like 'the passage', 'the given', 'the provided', 'this', 'it' or 'that'.\n"
        f"- Do not copy sentences from the {spec.doc_type}.\n"
        f"- Output only the {spec.query_type} itself: no title, no explanation, no answer.\n\n"
        f"[Begin of {spec.doc_type.title()}]\n{document}\n[End of {spec.doc_type.title()}]"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def judge_messages(spec: DomainSpec, query: str, document: str) -> list[dict[str, str]]:
    user = (
        f"Judge how relevant a {spec.doc_type} is to a {spec.query_type}.\n\n"
        f"Relevance definition: {spec.relevance_definition}\n\n"
        f"[Begin of Query]\n{query}\n[End of Query]\n\n"
        f"[Begin of Document]\n{document}\n[End of Document]\n\n"
        "Work in three steps:\n"
        "1. Query Analysis: say what information would best help answer the query.\n"
        "2. Document Analysis: say how the document meets or fails those needs.\n"
        "3. Relevance Annotation: justify, then give an integer score from 1 to 5:\n"
        "   5 = Highly Relevant (comprehensive, fully responsive)\n"
        "   4 = Relevant (minor omissions)\n"
        "   3 = Moderately Relevant (partial or vague)\n"
        "   2 = Slightly Relevant (minimal, tangential)\n"
        "   1 = Irrelevant\n"
        "Be concise (at most 512 words). End with the score inside tags, for example <score>3</score>."
    )
    return [{"role": "user", "content": user}]


def score_followup_messages(first: list[dict[str, str]], answer: str) -> list[dict[str, str]]:
    """The judge conversation, the judge's score-less answer, then one short turn asking for the score."""
    return [*first, {"role": "assistant", "content": answer}, {"role": "user", "content": SCORE_FOLLOWUP}]


def reason_messages(query: str) -> list[dict[str, str]]:
    """BRIGHT's reasoning prompt for one query (METHOD.md B.2), as a one-turn chat: the post on one
    line, then the three instructions. Used for ReMixer's q' and for query rewriting at search time."""
    post = query.replace("\n", " ")
    user = (
        f"{post}\n"
        "Instructions:\n"
        "1. Identify the essential problem.\n"
        "2. Think step by step to reason and describe what information could be relevant and helpful "
        "to address the questions in detail.\n"
        "3. Draft an answer with as many thoughts as you have.\n"
    )
    return [{"role": "user", "content": user}]


def domain_filter_messages(label: str, document: str) -> list[dict[str, str]]:
    user = (
        f"Does the following passage belong to the domain '{label}'? Answer with a single word: Yes or No.\n\n"
        f"[Begin of Passage]\n{document}\n[End of Passage]"
    )
    return [{"role": "user", "content": user}]
